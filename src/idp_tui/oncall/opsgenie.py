"""Opsgenie as an on-call provider: a team's escalation, and who each rule reaches now and next.

The ladder is the team's escalation policy (``GET /v2/escalations``, the one whose ``ownerTeam`` is the team): rule
N is level N. A rule that notifies a schedule is answered for the moment asked, T, with the schedule API's ``date``:
who is on call at T comes from ``GET /v2/schedules/{id}/on-calls?date=T&flat=true`` (overrides and forwarding
included), and when their shift ends and who takes over next from the final timeline starting at T
(``GET /v2/schedules/{id}/timeline?date=T``). A period that runs across T is the shift at T; Opsgenie may split one
shift into pieces (a "historical" one up to its current time and the rest), which are joined again. A rule that
notifies a user is a permanent on-call. A team with no escalation gets one level per schedule it owns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import http_budget as budget
from ..redaction import redact_url
from ..tokens import TokenError
from .models import EscalationLevel, OnCallReport, OnCallShift, OnCallSource, Responder

ANNOTATION = "opsgenie.com/team"


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _z(moment: datetime) -> str:
    """The schedule API's ``date`` (yyyy-MM-dd'T'HH:mm:ssZ), in UTC: a ``Z`` needs no escaping, unlike ``+``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TIMELINE_WEEKS = 2  # how far past T the timeline is read for "next"


class OpsgenieError(Exception):
    """An Opsgenie answer that ends the report, said in words (never with the key)."""


class OpsgenieSource(OnCallSource):
    """Implements OnCallSource over Opsgenie's REST API (``Authorization: GenieKey <key>``)."""

    name = "Opsgenie"

    def __init__(
        self,
        key_provider: Callable[[], str],
        base_url: str = "https://api.opsgenie.com",
        *,
        timeout: float = 5.0,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        deadline: float | None = None,
        on_wait: budget.Notice | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Create a source.

        Args:
            key_provider: Returns the API key; called per report so a rotated key is picked up.
            base_url: The REST API root (a local fake in tests).
            timeout: Seconds to wait for each socket read.
            cache_seconds: How long a report for one team is reused.
            clock: A monotonic clock for the cache.
            deadline: Seconds for each request, headers and body together (default: the shared request deadline).
            on_wait: Told in words when a rate limit makes a request wait before it is sent again.
            wall_clock: The current time (aware): the moment asked about when none is given.
        """
        self._key_provider = key_provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[tuple[str, datetime | None], tuple[float, OnCallReport]] = {}
        self.deadline = deadline if deadline is not None else budget.request_deadline()
        self.on_wait = on_wait
        self.wall_clock = wall_clock

    def __repr__(self) -> str:
        return f"OpsgenieSource({redact_url(self.base_url)!r})"  # never the key, nor a password in the URL

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        """The ladder, incidents and changes of the entity's Opsgenie team (``opsgenie.com/team``).

        A report without an error is reused for ``cache_seconds``, per team and moment asked.

        Returns:
            None if the entity names no team, else a report (with ``error`` set when Opsgenie failed).
        """
        team = annotations.get(ANNOTATION)
        if not team:
            return None
        key = (team, now)  # "now" and another moment are different questions
        cached = self._cache.get(key)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        report = self._report(team, now or self.wall_clock())
        if report.error is None:
            self._cache[key] = (self.clock(), report)
        return report

    def _report(self, team: str, now: datetime) -> OnCallReport:
        import httpx

        try:
            key = self._key_provider()
        except Exception as exc:  # noqa: BLE001 - any failure of a key command means "no key"
            reason = str(exc) if isinstance(exc, TokenError) else type(exc).__name__
            return OnCallReport(self.name, team, error=f"Opsgenie API key missing ({reason})", fetched_at=now)
        headers = {"Authorization": f"GenieKey {key}", "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        try:
            with httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout) as client:
                budget.install_deadlines(client)
                levels, policy = self._levels(client, team, now)
        except OpsgenieError as error:
            return OnCallReport(self.name, team, error=str(error), fetched_at=now)
        except httpx.TimeoutException:
            return OnCallReport(
                self.name, team, error=f"Opsgenie did not answer within {self.timeout:g}s", fetched_at=now
            )
        except httpx.HTTPError as error:
            return OnCallReport(self.name, team, error=f"cannot reach Opsgenie: {type(error).__name__}", fetched_at=now)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            # An answer of another shape than the API reference's: said, never a traceback.
            error_text = "Opsgenie sent a response this client cannot read"
            return OnCallReport(self.name, team, error=error_text, fetched_at=now)
        return OnCallReport(self.name, team, policy=policy, levels=tuple(levels), fetched_at=now)

    def _get(self, client: Any, path: str, **params: Any) -> Any:
        waits = budget.RetryWaits()
        for attempt in range(3):
            response, body = self._send(client, path, params)
            if response.status_code != 429:
                break
            # Retry-After, else Opsgenie's documented X-RateLimit-Period-In-Sec (how long the throttle lasts).
            seconds = budget.retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is None:
                seconds = budget.retry_after_seconds(response.headers.get("X-RateLimit-Period-In-Sec"))
            if seconds is None or attempt == 2 or not waits.allows(seconds):
                later = f"retry in {budget.seconds_words(seconds)}" if seconds is not None else "try again shortly"
                raise OpsgenieError(f"Opsgenie: rate limited (429); {later}")
            waits.wait(seconds, self.on_wait, "Opsgenie rate limited (429)")
        if response.status_code == 401:
            raise OpsgenieError("Opsgenie: API key missing or rejected (401)")
        if response.status_code == 403:
            raise OpsgenieError(f"Opsgenie: this key may not read {path} (403)")
        if response.status_code == 404:
            raise OpsgenieError(f"Opsgenie: {path} not found (404)")
        if response.status_code >= 400:
            raise OpsgenieError(f"Opsgenie answered {response.status_code} for {path}")
        try:
            answer = budget.loads_bounded(body)
        except budget.BodyError as error:
            raise OpsgenieError(f"Opsgenie sent {error} for {path}") from None
        if not isinstance(answer, dict):
            raise OpsgenieError(f"Opsgenie sent an answer that is not an object for {path}")
        return answer.get("data")

    def _send(self, client: Any, path: str, params: dict[str, Any]) -> tuple[Any, bytes]:
        """One GET within the deadline and the size cap (timeouts and connection failures raise httpx's errors)."""
        import httpx

        deadline = budget.Deadline(self.deadline)
        try:
            request = client.build_request("GET", path, params=params)
            return budget.send_within(client, request, deadline, max_bytes=budget.MAX_ONCALL_BYTES)
        except httpx.TimeoutException:
            if not deadline.passed:
                raise
            within = budget.seconds_words(self.deadline)
            raise OpsgenieError(f"Opsgenie did not finish answering within {within}") from None
        except budget.BodyError as error:
            raise OpsgenieError(f"Opsgenie sent {error} for {path}") from None

    def _levels(self, client: Any, team: str, now: datetime) -> tuple[list[EscalationLevel], str | None]:
        escalations = self._get(client, "/v2/escalations") or []
        policy = next((e for e in escalations if (e.get("ownerTeam") or {}).get("name") == team), None)
        if policy is None:
            schedules = self._get(client, "/v2/schedules") or []
            owned = [s for s in schedules if (s.get("ownerTeam") or {}).get("name") == team]
            if not owned:
                raise OpsgenieError(f"Opsgenie: team {team} has no escalation and no schedule")
            rules = [{"recipient": {"type": "schedule", "id": s["id"], "name": s["name"]}} for s in owned]
        else:
            rules = policy.get("rules") or []
        levels = []
        for number, rule in enumerate(rules, start=1):
            recipient = rule.get("recipient") or {}
            delay = (rule.get("delay") or {}).get("timeAmount")
            if recipient.get("type") == "schedule":
                now_shifts, next_shifts = self._schedule_shifts(client, number, recipient, now)
            else:
                person = Responder(recipient.get("username") or recipient.get("name") or "?", recipient.get("username"))
                now_shifts, next_shifts = (OnCallShift(number, person, None, None, None),), ()
            levels.append(EscalationLevel(number, now_shifts, next_shifts, delay))
        return levels, policy.get("name") if policy else None

    def _schedule_shifts(
        self, client: Any, level: int, schedule: dict[str, Any], at: datetime
    ) -> tuple[tuple[OnCallShift, ...], tuple[OnCallShift, ...]]:
        """Who is on call through ``schedule`` at ``at`` (until when), and who takes over next (from when)."""
        on_call = self._get(client, f"/v2/schedules/{schedule['id']}/on-calls", date=_z(at), flat="true") or {}
        names = [str(name) for name in on_call.get("onCallRecipients") or []]
        timeline = self._get(
            client,
            f"/v2/schedules/{schedule['id']}/timeline",
            date=_z(at),
            interval=TIMELINE_WEEKS,
            intervalUnit="weeks",
        )
        periods = _periods(timeline, level, schedule.get("name"))
        current = []
        for name in names:
            shift = next((p for p in periods if p.responder.name == name and p.start <= at < p.end), None)
            if shift is None:
                # On call at T by the on-calls answer, though no period of the timeline says until when.
                shift = OnCallShift(level, _responder(name), schedule.get("name"), at, None)
            current.append(shift)
        later = [p for p in periods if p.start > at]  # type: ignore[operator]
        first = min((p.start for p in later), default=None)  # type: ignore[type-var]
        following = tuple(p for p in later if p.start == first)
        return tuple(current), following


def _responder(name: str) -> Responder:
    return Responder(name, name if "@" in name else None)


def _periods(timeline: Any, level: int, schedule: str | None) -> list[OnCallShift]:
    """The final timeline's user periods as shifts, a shift cut into pieces (same person, back to back) joined."""
    shifts: list[OnCallShift] = []
    for rotation in ((timeline or {}).get("finalTimeline") or {}).get("rotations") or []:
        pieces = []
        for period in rotation.get("periods") or []:
            recipient = period.get("recipient") or {}
            start, end = _time(period.get("startDate")), _time(period.get("endDate"))
            if start is None or end is None or recipient.get("type") != "user":
                continue
            pieces.append((start, end, str(recipient.get("name") or "?")))
        pieces.sort()
        joined: list[list[Any]] = []
        for start, end, name in pieces:
            if joined and joined[-1][2] == name and abs(joined[-1][1] - start) <= timedelta(seconds=1):
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end, name])
        shifts += [OnCallShift(level, _responder(name), schedule, start, end) for start, end, name in joined]
    shifts.sort(key=lambda shift: shift.start)  # type: ignore[arg-type,return-value]
    return shifts

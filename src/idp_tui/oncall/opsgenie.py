"""Opsgenie as an on-call provider: a team's escalation, and who each rule reaches now and next.

The ladder is the team's escalation policy (``GET /v2/escalations``, the one whose ``ownerTeam`` is the team): rule
N is level N. A rule that notifies a schedule is answered from that schedule's final timeline
(``GET /v2/schedules/{id}/timeline``), which gives every shift with its start and end, so "now" and "who takes over
next, when" come from one request per schedule. A rule that notifies a user is a permanent on-call. A team with no
escalation gets one level per schedule it owns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .. import http_budget as budget
from ..redaction import redact_url
from ..tokens import TokenError
from .models import EscalationLevel, OnCallReport, OnCallShift, Responder

ANNOTATION = "opsgenie.com/team"


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class OpsgenieError(Exception):
    """An Opsgenie answer that ends the report, said in words (never with the key)."""


class OpsgenieSource:
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
        """
        self._key_provider = key_provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, OnCallReport]] = {}
        self.deadline = deadline if deadline is not None else budget.request_deadline()
        self.on_wait = on_wait

    def __repr__(self) -> str:
        return f"OpsgenieSource({redact_url(self.base_url)!r})"  # never the key, nor a password in the URL

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        team = annotations.get(ANNOTATION)
        if not team:
            return None
        cached = self._cache.get(team)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        report = self._report(team, now or datetime.now(UTC))
        if report.error is None:
            self._cache[team] = (self.clock(), report)
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
            seconds = budget.retry_after_seconds(response.headers.get("Retry-After"))
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
        self, client: Any, level: int, schedule: dict[str, Any], now: datetime
    ) -> tuple[tuple[OnCallShift, ...], tuple[OnCallShift, ...]]:
        timeline = self._get(
            client,
            f"/v2/schedules/{schedule['id']}/timeline",
            intervalUnit="weeks",
            interval=2,
            date=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        periods = []
        for rotation in ((timeline or {}).get("finalTimeline") or {}).get("rotations") or []:
            for period in rotation.get("periods") or []:
                recipient = period.get("recipient") or {}
                start, end = _time(period.get("startDate")), _time(period.get("endDate"))
                if start is None or end is None or recipient.get("type") != "user":
                    continue
                name = recipient.get("name") or "?"
                periods.append(
                    OnCallShift(level, Responder(name, name if "@" in name else None), schedule.get("name"), start, end)
                )
        periods.sort(key=lambda shift: shift.start)
        current = tuple(p for p in periods if p.start <= now < p.end)
        handoff = max((p.end for p in current), default=now)
        upcoming = [p for p in periods if p.start >= handoff]
        following = tuple(p for p in upcoming if p.start == upcoming[0].start) if upcoming else ()
        return current, following

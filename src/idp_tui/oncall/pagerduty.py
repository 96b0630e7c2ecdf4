"""PagerDuty REST API v2: the full escalation ladder (now and next), open incidents and recent changes for a service.

Time semantics, from the API reference:
- ``GET /oncalls`` returns every on-call whose shift overlaps ``[since, until]`` (both default to the current time),
  so ``since=T&until=T`` is exactly "who is on call at T", and ``since=T&until=T+14d`` holds the shift running at T
  as well as every later one: the earliest starting after T is who takes over next.
- ``GET /incidents`` only looks one month back unless ``date_range=all``; open incidents are wanted whatever their age.
- ``GET /services/{id}/change_events`` refuses (400) ``since``/``until`` that are not UTC written with ``Z``.

The ladder, the incidents and the changes are fetched one after another, each on its own: one that fails (a 400, a
403, a listing that never ends) is said in ``section_errors`` while the others are still answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx

from idp_tui import http_budget as budget
from idp_tui.oncall.models import (
    CHANGES,
    INCIDENTS,
    LADDER,
    ChangeEvent,
    EscalationLevel,
    Incident,
    OnCallReport,
    OnCallShift,
    OnCallSource,
    Responder,
)
from idp_tui.redaction import redact_url
from idp_tui.tokens import TokenError

SERVICE_ID = "pagerduty.com/service-id"
INTEGRATION_KEY = "pagerduty.com/integration-key"
ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_LIMIT = 100  # the largest page PagerDuty's classic pagination allows
MAX_PAGES = 50  # a runaway `more: true` must not loop forever (5,000 on-calls or incidents is already absurd)
MAX_SAME_PAGES = 3  # the same page this many times in a row: the offset is ignored
CHANGES_SHOWN = 20
# An answer of another shape than the API reference's: said in words, never a traceback.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class PagerDutyError(Exception):
    """A failure already phrased for the user (never containing the token)."""


class PagingCapReached(PagerDutyError):
    """A listing still said ``more`` after MAX_PAGES pages: what was read so far may be kept, and the cap is said."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _z(moment: datetime) -> str:
    """A time as the API reference writes UTC: ``2026-11-24T12:00:00Z`` (change events refuse any other form)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PagerDutySource(OnCallSource):
    """On-call ladders from PagerDuty, for entities annotated with a service id or an integration key."""

    name = "PagerDuty"

    def __init__(
        self,
        token_provider: Callable[[], str],
        base_url: str = "https://api.pagerduty.com",
        *,
        timeout: float = 5.0,
        cache_seconds: float = 60,
        clock: Callable[[], datetime] = _utcnow,
        next_horizon_days: int = 14,
        deadline: float | None = None,
        on_wait: budget.Notice | None = None,
    ) -> None:
        """Create a source.

        Args:
            token_provider: Returns the REST API token; called per report so a rotated token is picked up.
            base_url: The REST API root (a local fake in tests).
            timeout: Seconds to wait for each request before reporting that PagerDuty did not answer.
            cache_seconds: How long a report for one service is reused.
            clock: The current time (aware, UTC); drives "now" and cache expiry.
            next_horizon_days: How far ahead to look for the next shift (PagerDuty allows up to 90 days).
            deadline: Seconds for each request, headers and body together (default: the shared request deadline).
            on_wait: Told in words when a rate limit makes a request wait before it is sent again.
        """
        self._token_provider = token_provider
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._horizon = timedelta(days=next_horizon_days)
        self._deadline = deadline if deadline is not None else budget.request_deadline()
        self._on_wait = on_wait
        self._cache: dict[tuple[str, str, datetime | None], tuple[datetime, OnCallReport]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # Deliberately omits the token provider: a repr must never lead to the secret.
        return f"PagerDutySource(base_url={redact_url(self._base_url)!r})"

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        """The ladder, incidents and changes for the entity's PagerDuty service.

        Args:
            annotations: The entity's annotations: ``pagerduty.com/service-id`` or ``pagerduty.com/integration-key``.
            now: The moment to report on; defaults to the clock.

        Returns:
            None if the entity names no PagerDuty service, else a report (with ``error`` set when PagerDuty failed).
        """
        if annotations.get(SERVICE_ID):
            kind, value = SERVICE_ID, annotations[SERVICE_ID].strip()
        elif annotations.get(INTEGRATION_KEY):
            kind, value = INTEGRATION_KEY, annotations[INTEGRATION_KEY].strip()
        else:
            return None
        wall = self._clock()
        key = (kind, value, now)
        with self._lock:
            cached = self._cache.get(key)
            if cached and (wall - cached[0]).total_seconds() < self._cache_seconds:
                return cached[1]
        at = now or wall
        try:
            report = self._fetch(kind, value, at, asked=now is not None)
        except PagerDutyError as exc:
            return self._failed(value, str(exc), at)
        except SHAPE_ERRORS:
            return self._failed(value, "PagerDuty sent a response this client cannot read", at)
        if not report.section_errors:  # a failed section is asked again next time, not remembered for a minute
            with self._lock:
                self._cache[key] = (wall, report)
        return report

    def _failed(self, service: str, why: str, at: datetime) -> OnCallReport:
        """Nothing could be read (no token, no such service, PagerDuty unreachable): every section says why."""
        sections = tuple((section, why) for section in (LADDER, INCIDENTS, CHANGES))
        return OnCallReport(provider=self.name, service=service, error=why, fetched_at=at, section_errors=sections)

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        try:
            token = self._token_provider()
        except Exception as exc:  # noqa: BLE001 - any failure of a token command means "no token"
            reason = str(exc) if isinstance(exc, TokenError) else f"could not read it: {type(exc).__name__}"
            raise PagerDutyError(f"PagerDuty token missing or rejected ({reason})") from None
        if not token or not token.strip():
            raise PagerDutyError("PagerDuty token missing or rejected")
        headers = {
            "Authorization": f"Token token={token.strip()}",
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        }
        client = httpx.Client(base_url=self._base_url, headers=headers, timeout=self._timeout)
        budget.install_deadlines(client)
        return client

    def _get(self, client: httpx.Client, path: str, params: list[tuple[str, str]], *, what: str = "") -> dict:
        waits = budget.RetryWaits()
        for attempt in range(3):
            response, body = self._send(client, path, params)
            if response.status_code != 429:
                break
            retry_after = _retry_after(response)
            if attempt == 2 or not waits.allows(retry_after):
                raise PagerDutyError(f"PagerDuty rate limited, retry in {retry_after:g}s")
            waits.wait(retry_after, self._on_wait, "PagerDuty rate limited (429)")
        if response.status_code == 401:
            raise PagerDutyError("PagerDuty token missing or rejected (401)")
        if response.status_code == 403:
            raise PagerDutyError(f"PagerDuty token is not allowed to read {what or path} (403)")
        if response.status_code == 404:
            raise PagerDutyError(f"no PagerDuty {what or path}" if what else f"PagerDuty has no {path} (404)")
        if response.status_code == 400:
            reason = _refusal(body)
            said = f"400: {reason}" if reason else "400"
            raise PagerDutyError(f"PagerDuty refused the query for {what or path} ({said})")
        if response.status_code >= 400:
            raise PagerDutyError(f"PagerDuty answered {response.status_code} for {what or path}")
        try:
            answer = budget.loads_bounded(body)
        except budget.BodyError as error:
            raise PagerDutyError(f"PagerDuty sent {error} for {path}") from None
        if not isinstance(answer, dict):
            raise PagerDutyError(f"PagerDuty sent an answer that is not an object for {path}")
        return answer

    def _send(self, client: httpx.Client, path: str, params: list[tuple[str, str]]) -> tuple[httpx.Response, bytes]:
        """One GET within the deadline and the size cap; every failure is a PagerDutyError in words."""
        deadline = budget.Deadline(self._deadline)
        try:
            request = client.build_request("GET", path, params=params)
            return budget.send_within(client, request, deadline, max_bytes=budget.MAX_ONCALL_BYTES)
        except httpx.TimeoutException:
            if deadline.passed:
                within = budget.seconds_words(self._deadline)
                raise PagerDutyError(f"PagerDuty did not finish answering within {within}") from None
            raise PagerDutyError(f"PagerDuty did not answer within {self._timeout:g}s") from None
        except budget.BodyError as error:
            raise PagerDutyError(f"PagerDuty sent {error} for {path}") from None
        except httpx.HTTPError as exc:
            where = redact_url(self._base_url)
            raise PagerDutyError(f"could not reach PagerDuty at {where} ({type(exc).__name__})") from None

    def _pages(
        self, client: httpx.Client, path: str, params: list[tuple[str, str]], field: str, *, what: str = ""
    ) -> Iterator[dict]:
        """Every item of a classic offset/limit listing, following ``more`` until it is false.

        Raises:
            PagingCapReached: ``more`` was still true after 50 pages (the items before it were yielded).
            PagerDutyError: the same page came three times in a row, or a page could not be read.
        """
        offset, last_page, same, limit = 0, b"", 0, PAGE_LIMIT
        for _page in range(MAX_PAGES):
            body = self._get(client, path, [*params, ("offset", str(offset)), ("limit", str(PAGE_LIMIT))], what=what)
            items = body.get(field) or []
            if not isinstance(items, list):
                raise PagerDutyError(f"PagerDuty sent {field} that are not a list for {path}")
            page = hashlib.sha1(json.dumps(items, sort_keys=True).encode()).digest()  # noqa: S324 - not security
            same = same + 1 if page == last_page else 1
            if same >= MAX_SAME_PAGES:
                raise PagerDutyError(f"PagerDuty sent the same page of {path} {same} times in a row; stopped")
            last_page = page
            yield from items
            if not body.get("more") or not items:
                return
            offset += len(items)
            # The server may cap `limit` below what was asked; the echoed value says what a page really holds.
            echoed = body.get("limit")
            limit = echoed if isinstance(echoed, int) and echoed > 0 else len(items)
        raise PagingCapReached(f"PagerDuty kept paging {path} past {MAX_PAGES} pages of {limit}; stopped")

    # -- the report -------------------------------------------------------------------------------------------------

    def _fetch(self, kind: str, value: str, at: datetime, *, asked: bool) -> OnCallReport:
        failures: list[tuple[str, str]] = []
        with self._client() as client:
            # Without the service there is nothing to report: its failure is the whole report's.
            if kind == SERVICE_ID:
                body = self._get(
                    client,
                    f"/services/{value}",
                    [("include[]", "escalation_policies")],
                    what=f"service {value}",
                )
                service = body["service"]
            else:
                service = self._service_by_integration_key(client, value)
            service_id = service["id"]
            policy: dict = {}
            levels: tuple[EscalationLevel, ...] = ()
            with _section(failures, LADDER, "on-calls"):
                policy = self._policy(client, service.get("escalation_policy") or {})
                levels = self._ladder(client, policy, at, asked=asked) if policy.get("id") else ()
            incidents: tuple[Incident, ...] = ()
            with _section(failures, INCIDENTS, "incidents"):
                incidents = self._incidents(client, service_id, failures)
            changes: tuple[ChangeEvent, ...] = ()
            with _section(failures, CHANGES, "change events"):
                changes = self._changes(client, service_id, at)
        has_policy = isinstance(policy, dict) and policy.get("id")
        notes = () if has_policy or dict(failures).get(LADDER) else ("the service has no escalation policy",)
        return OnCallReport(
            provider=self.name,
            service=service.get("name") or service.get("summary") or service_id,
            service_url=service.get("html_url"),
            policy=(policy.get("name") or policy.get("summary")) if has_policy else None,
            levels=levels,
            incidents=incidents,
            changes=changes,
            error=dict(failures).get(LADDER),
            fetched_at=at,
            notes=notes,
            section_errors=tuple(failures),
        )

    def _policy(self, client: httpx.Client, policy: dict) -> dict:
        if "escalation_rules" not in policy and policy.get("id"):
            # Only a reference came back (include ignored): fetch the policy itself for its rules.
            return self._get(client, f"/escalation_policies/{policy['id']}", [], what="escalation policy")[
                "escalation_policy"
            ]
        return policy

    def _service_by_integration_key(self, client: httpx.Client, key: str) -> dict:
        # PagerDuty documents no lookup by integration key; the integration objects included in the service
        # listing carry `integration_key`, so we page through the services and match it.
        for service in self._pages(client, "/services", [("include[]", "integrations")], "services"):
            for integration in service.get("integrations") or []:
                if integration.get("integration_key") == key:
                    if "escalation_rules" in (service.get("escalation_policy") or {}):
                        return service
                    return self._get(
                        client,
                        f"/services/{service['id']}",
                        [("include[]", "escalation_policies")],
                        what=f"service {service['id']}",
                    )["service"]
        raise PagerDutyError("no PagerDuty service has that integration key")

    def _ladder(self, client: httpx.Client, policy: dict, now: datetime, *, asked: bool) -> tuple[EscalationLevel, ...]:
        base = [("escalation_policy_ids[]", policy["id"]), ("include[]", "users"), ("time_zone", "UTC")]
        # Who is on call at `now`: every on-call overlapping [since, until] with since = until = now. When no time
        # was asked for, PagerDuty's own default (its current time) is the same question.
        moment = [("since", _z(now)), ("until", _z(now))] if asked else []
        current = [_shift(o) for o in self._pages(client, "/oncalls", [*base, *moment], "oncalls", what="on-calls")]
        # "Next": since/until return every on-call overlapping the window (up to 90 days ahead), the shift running
        # at `now` included. We take, per level and schedule, the earliest one starting after `now`: that is who
        # takes over and when. We do not use `earliest=true`, which is per *user* and so would hide a next shift
        # whenever the same person returns later on another schedule of the level.
        window = [("since", _z(now)), ("until", _z(now + self._horizon))]
        upcoming = [
            _shift(o) for o in self._pages(client, "/oncalls", [*base, *window], "oncalls", what="upcoming on-calls")
        ]
        rules = policy.get("escalation_rules") or []
        numbers = sorted({*range(1, len(rules) + 1), *(s.level for s in current), *(s.level for s in upcoming)})
        levels = []
        for number in numbers:
            rule = rules[number - 1] if number <= len(rules) else {}
            now_shifts = tuple(s for s in current if s.level == number and _covers(s, now))
            levels.append(
                EscalationLevel(
                    level=number,
                    now=now_shifts,
                    next=_next_shifts(upcoming, number, now),
                    escalation_delay_minutes=rule.get("escalation_delay_in_minutes"),
                )
            )
        return tuple(levels)

    def _incidents(
        self, client: httpx.Client, service_id: str, failures: list[tuple[str, str]]
    ) -> tuple[Incident, ...]:
        """The service's open incidents, however old (``date_range=all``: without it only the last month's)."""
        params = [
            ("service_ids[]", service_id),
            ("statuses[]", "triggered"),
            ("statuses[]", "acknowledged"),
            ("date_range", "all"),
        ]
        found = []
        try:
            for item in self._pages(client, "/incidents", params, "incidents", what="incidents"):
                found.append(_incident(item))
        except PagingCapReached as cap:
            # Thousands of open incidents: show what was read, and say that it is not all of them.
            failures.append((INCIDENTS, f"{cap}; showing the first {len(found)}"))
        return tuple(found)

    def _changes(self, client: httpx.Client, service_id: str, now: datetime) -> tuple[ChangeEvent, ...]:
        params = [("since", _z(now - timedelta(days=7))), ("until", _z(now))]
        path = f"/services/{service_id}/change_events"
        body = self._get(client, path, [*params, ("limit", str(CHANGES_SHOWN))], what="change events")
        events = []
        for item in body.get("change_events") or []:
            links = item.get("links") or []
            events.append(
                ChangeEvent(
                    summary=item.get("summary", ""),
                    timestamp=_parse_time(item.get("timestamp")),
                    source=item.get("source"),
                    url=links[0].get("href") if links else None,
                )
            )
        # Newest first: the change most likely to explain an incident is the latest one.
        events.sort(key=lambda e: e.timestamp or datetime.min.replace(tzinfo=UTC), reverse=True)
        return tuple(events)


@contextlib.contextmanager
def _section(failures: list[tuple[str, str]], section: str, what: str) -> Iterator[None]:
    """Run one section of the report; its failure is noted for it alone and the report carries on."""
    try:
        yield
    except PagerDutyError as error:
        failures.append((section, str(error)))
    except SHAPE_ERRORS:
        failures.append((section, f"PagerDuty sent a response this client cannot read for the {what}"))


def _refusal(body: bytes) -> str:
    """PagerDuty's own words for a 400 (``error.message`` and ``error.errors``), short; empty when unreadable."""
    try:
        error = (budget.loads_bounded(body) or {}).get("error") or {}
        words = [str(error.get("message") or "")] + [str(item) for item in error.get("errors") or []][:3]
    except (budget.BodyError, AttributeError, TypeError, ValueError):
        return ""
    return ": ".join(word for word in words if word)[:200]


def _incident(item: dict) -> Incident:
    assignees = tuple((a.get("assignee") or {}).get("summary") or "" for a in item.get("assignments") or [])
    return Incident(
        id=item["id"],
        title=item.get("title") or item.get("summary") or item["id"],
        status=item.get("status", ""),
        urgency=item.get("urgency"),
        created=_parse_time(item.get("created_at")),
        url=item.get("html_url"),
        assignees=tuple(a for a in assignees if a),
    )


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait: ``Retry-After``, else PagerDuty's own ``ratelimit-reset``, else one."""
    for header in ("Retry-After", "ratelimit-reset"):
        seconds = budget.retry_after_seconds(response.headers.get(header))
        if seconds is not None:
            return seconds
    return 1.0


def _shift(oncall: dict) -> OnCallShift:
    user = oncall.get("user") or {}
    schedule = oncall.get("schedule")
    return OnCallShift(
        level=int(oncall["escalation_level"]),
        responder=Responder(
            name=user.get("name") or user.get("summary") or user.get("id", "?"),
            email=user.get("email"),
            id=user.get("id"),
            url=user.get("html_url"),
        ),
        schedule=(schedule.get("summary") or schedule.get("name") or schedule.get("id")) if schedule else None,
        start=_parse_time(oncall.get("start")),
        end=_parse_time(oncall.get("end")),
    )


def _covers(shift: OnCallShift, now: datetime) -> bool:
    return (shift.start is None or shift.start <= now) and (shift.end is None or now < shift.end)


def _next_shifts(upcoming: list[OnCallShift], level: int, now: datetime) -> tuple[OnCallShift, ...]:
    earliest: dict[str | None, OnCallShift] = {}
    for shift in upcoming:
        # Permanent on-calls never hand off, so they have no "next".
        if shift.level != level or shift.start is None or shift.start <= now:
            continue
        known = earliest.get(shift.schedule)
        if known is None or shift.start < known.start:  # type: ignore[operator]
            earliest[shift.schedule] = shift
    return tuple(sorted(earliest.values(), key=lambda s: s.start))  # type: ignore[arg-type,return-value]

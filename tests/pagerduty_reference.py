"""A PagerDuty REST API v2 for tests, written from PagerDuty's published reference, not from idp-tui's client.

Sources: the OpenAPI document ``reference/REST/openapiv3.json`` of the public repository PagerDuty/api-schema (the
text behind developer.pagerduty.com's API reference), PagerDuty's pagination and rate-limit pages, and its help
pages on schedules. What it does, with the reference's words:

- ``GET /oncalls`` is *computed*: schedules are made of layers (``users`` in order, ``rotation_virtual_start``,
  ``rotation_turn_length_seconds``, ``start``/``end``, ``restrictions`` of ``daily_restriction`` or
  ``weekly_restriction`` kind, read in the schedule's time zone). "If a user on Layer 1 and Layer 2 overlap, the user
  on Layer 2 will be the one on-call"; overrides sit above every layer; restrictions leave gaps. "An on-call
  represents a contiguous unit of time for which a User will be on call for a given Escalation Policy and Escalation
  Rule": back-to-back spans of one user are one on-call. ``since``/``until``: "If an on-call period overlaps with the
  range, it will be included in the result. Defaults to current time." ``until`` before ``since`` is a 400. A user
  placed directly on a rule is a permanent on-call, ``start``/``end`` null ("If null, the on-call is a permanent user
  on-call"). ``earliest=true`` keeps "only the earliest on-call for each combination of escalation policy, escalation
  level, and user". Filters ``escalation_policy_ids[]``, ``schedule_ids[]`` ("If null is provided in the array, it
  includes permanent on-calls"), ``user_ids[]``; ``include[]`` of ``users``, ``escalation_policies``, ``schedules``;
  times rendered in ``time_zone`` (default: the account's). "On-call shifts are limited to 90 days in the future."
- ``GET /incidents``: ``statuses[]``, ``service_ids[]``; without ``date_range=all`` only incidents created in
  ``[since, until]``, whose "default is 1 month" (taken as 30 days back from now) and "Maximum range is 6 months".
- ``GET /services/{id}/change_events``: ``since``/``until`` "as a UTC ISO 8601 datetime string. Will return an HTTP
  400 for non-UTC datetimes", pattern ``YYYY-MM-DDThh:mm:ssZ``; newest first, as the reference's example.
- ``GET /services``, ``GET /services/{id}`` (``include[]=escalation_policies``, ``integrations``),
  ``GET /escalation_policies/{id}``.
- Classic pagination: ``offset``, ``limit`` (default 25; the server's own maximum, 100, caps it and is echoed),
  ``more``, ``total`` (null unless ``total=true``); ``offset + limit`` past 10,000 is a 400.
- Rate limiting: a 429 carrying ``ratelimit-limit``, ``ratelimit-remaining`` and ``ratelimit-reset`` ("how many
  seconds to wait before retrying"), and no ``Retry-After``.
- Errors in the reference's envelope ``{"error": {"message", "code", "errors"}}``; 401 without the right
  ``Authorization: Token token=...``; any path can be made to fail on purpose (``fail``).

Where the reference is silent this module chooses, and says so: an on-call's true start and end are looked for at
most 30 days beyond the window asked; the order of ``/oncalls`` entries is policy, level, start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from idp_tui.local_http import LocalRequestHandler, LocalServer

API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"
LOOK_BEYOND = timedelta(days=30)  # how far outside [since, until] an on-call's true start and end are looked for
FUTURE_LIMIT = timedelta(days=90)
MAX_OFFSET = 10_000
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class Restriction:
    """The reference's Restriction: when a layer may hold anyone, in the schedule's time zone."""

    type: str  # daily_restriction | weekly_restriction
    start_time_of_day: str  # HH:MM:SS
    duration_seconds: int
    start_day_of_week: int | None = None  # ISO day, 1 = Monday (weekly_restriction only)


@dataclass
class Layer:
    """The reference's ScheduleLayer."""

    users: list[str]
    rotation_virtual_start: datetime
    rotation_turn_length_seconds: int
    start: datetime
    end: datetime | None = None
    restrictions: list[Restriction] = field(default_factory=list)


@dataclass
class Schedule:
    id: str
    name: str
    layers: list[Layer]  # in layer order: Layer 2 (later) above Layer 1
    time_zone: str = "UTC"
    overrides: list[tuple[datetime, datetime, str]] = field(default_factory=list)  # (start, end, user id)


Span = tuple[datetime, datetime, str]


def _restriction_windows(restrictions: list[Restriction], zone: ZoneInfo, lo: datetime, hi: datetime) -> list[Span]:
    windows = []
    first = lo.astimezone(zone).date() - timedelta(days=8)
    for offset in range((hi.astimezone(zone).date() - first).days + 1):
        day = first + timedelta(days=offset)
        for restriction in restrictions:
            if restriction.type == "weekly_restriction" and day.isoweekday() != restriction.start_day_of_week:
                continue
            local = datetime.combine(day, time.fromisoformat(restriction.start_time_of_day), tzinfo=zone)
            start = local.astimezone(UTC)
            windows.append((start, start + timedelta(seconds=restriction.duration_seconds), ""))
    return windows


def layer_spans(layer: Layer, zone: ZoneInfo, lo: datetime, hi: datetime) -> list[Span]:
    """Who the layer puts on call within ``[lo, hi)``: the turn's user at each moment, inside its restrictions."""
    lo, hi = max(lo, layer.start), min(hi, layer.end or hi)
    if lo >= hi or not layer.users:
        return []
    turn = timedelta(seconds=layer.rotation_turn_length_seconds)
    number = (lo - layer.rotation_virtual_start) // turn
    spans = []
    while layer.rotation_virtual_start + number * turn < hi:
        begins = layer.rotation_virtual_start + number * turn
        user = layer.users[number % len(layer.users)]
        spans.append((max(begins, lo), min(begins + turn, hi), user))
        number += 1
    if not layer.restrictions:
        return spans
    windows = _restriction_windows(layer.restrictions, zone, lo, hi)
    restricted = []
    for start, end, user in spans:
        for window_start, window_end, _ in windows:
            if window_start < end and window_end > start:
                restricted.append((max(start, window_start), min(end, window_end), user))
    return sorted(restricted)


def final_schedule(schedule: Schedule, lo: datetime, hi: datetime) -> list[Span]:
    """The final schedule within ``[lo, hi)``: the highest layer with someone on call wins, overrides above all;
    back-to-back spans of one user are one on-call."""
    zone = ZoneInfo(schedule.time_zone)
    stacked = [layer_spans(layer, zone, lo, hi) for layer in schedule.layers]
    stacked.append([(max(s, lo), min(e, hi), u) for s, e, u in schedule.overrides if s < hi and e > lo])
    points = sorted({lo, hi, *(t for spans in stacked for s, e, _ in spans for t in (s, e) if lo < t < hi)})
    merged: list[list[Any]] = []
    for begin, finish in zip(points, points[1:], strict=False):
        user = None
        for spans in reversed(stacked):
            user = next((u for s, e, u in spans if s <= begin < e), None)
            if user is not None:
                break
        if user is None:
            continue
        if merged and merged[-1][2] == user and merged[-1][1] == begin:
            merged[-1][1] = finish
        else:
            merged.append([begin, finish, user])
    return [(s, e, u) for s, e, u in merged]


class Refused(Exception):
    def __init__(self, status: int, message: str, errors: Iterable[str] = (), code: int = 2001) -> None:
        super().__init__(message)
        self.status, self.message, self.errors, self.code = status, message, list(errors), code


@dataclass
class Recorded:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]


@dataclass
class ReferencePagerDuty:
    """The account's data, its clock, and switches to misbehave on purpose."""

    token: str
    now: datetime
    account_time_zone: str = "America/New_York"
    users: dict[str, dict] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    policies: dict[str, dict] = field(default_factory=dict)  # id -> {"name", "rules": [(delay, [target ids])]}
    services: dict[str, dict] = field(default_factory=dict)  # id -> {"name", "policy", "integration_key"}
    incidents: list[dict] = field(default_factory=list)
    change_events: dict[str, list[dict]] = field(default_factory=dict)
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (status, message)
    rate_limited: int = 0  # this many requests are answered 429 first
    ratelimit_reset: int = 1
    max_limit: int = 100
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    # -- data -------------------------------------------------------------------------------------------------------
    def add_user(self, uid: str, name: str) -> None:
        self.users[uid] = {
            "id": uid,
            "type": "user",
            "summary": name,
            "self": f"{API}/users/{uid}",
            "html_url": f"{WEB}/users/{uid}",
            "name": name,
            "email": name.lower().replace(" ", ".") + "@example.com",
            "time_zone": "Europe/London",
        }

    def add_incident(self, iid: str, title: str, status: str, service: str, created: datetime) -> None:
        self.incidents.append(
            {
                "id": iid,
                "type": "incident",
                "summary": f"[#{len(self.incidents) + 1}] {title}",
                "self": f"{API}/incidents/{iid}",
                "html_url": f"{WEB}/incidents/{iid}",
                "incident_number": len(self.incidents) + 1,
                "title": title,
                "status": status,
                "urgency": "high",
                "created_at": _utc(created),
                "service": {"id": service, "type": "service_reference", "summary": self.services[service]["name"]},
                "assignments": [],
            }
        )

    def add_change(self, service: str, cid: str, summary: str, at: datetime) -> None:
        self.change_events.setdefault(service, []).append(
            {
                "id": cid,
                "type": "change_event",
                "summary": summary,
                "timestamp": _utc(at),
                "source": "ci",
                "services": [{"id": service, "type": "service_reference"}],
                "links": [{"href": f"https://ci.example.com/{cid}", "text": "build"}],
            }
        )

    # -- references and objects --------------------------------------------------------------------------------------
    def _user_ref(self, uid: str) -> dict:
        user = self.users[uid]
        return {"id": uid, "type": "user_reference", "summary": user["name"], "self": user["self"]}

    def _schedule_ref(self, sid: str) -> dict:
        return {
            "id": sid,
            "type": "schedule_reference",
            "summary": self.schedules[sid].name,
            "self": f"{API}/schedules/{sid}",
            "html_url": f"{WEB}/schedules/{sid}",
        }

    def policy_object(self, pid: str) -> dict:
        policy = self.policies[pid]
        rules = []
        for number, (delay, targets) in enumerate(policy["rules"], start=1):
            refs = [self._schedule_ref(t) if t in self.schedules else self._user_ref(t) for t in targets]
            rules.append({"id": f"R{pid}{number}", "escalation_delay_in_minutes": delay, "targets": refs})
        return {
            "id": pid,
            "type": "escalation_policy",
            "summary": policy["name"],
            "name": policy["name"],
            "self": f"{API}/escalation_policies/{pid}",
            "html_url": f"{WEB}/escalation_policies/{pid}",
            "num_loops": 0,
            "escalation_rules": rules,
        }

    def _policy_ref(self, pid: str) -> dict:
        full = self.policy_object(pid)
        return {k: full[k] for k in ("id", "summary", "self", "html_url")} | {"type": "escalation_policy_reference"}

    def service_object(self, sid: str, include: list[str]) -> dict:
        data = self.services[sid]
        policy = self.policy_object(data["policy"]) if "escalation_policies" in include else None
        integration = {"id": f"I{sid}", "type": "events_api_v2_inbound_integration_reference", "summary": "Events"}
        if "integrations" in include:
            integration = {**integration, "type": "events_api_v2_inbound_integration", "name": "Events API v2"}
            integration["integration_key"] = data.get("integration_key")
        return {
            "id": sid,
            "type": "service",
            "summary": data["name"],
            "self": f"{API}/services/{sid}",
            "html_url": f"{WEB}/service-directory/{sid}",
            "name": data["name"],
            "status": "active",
            "escalation_policy": policy or self._policy_ref(data["policy"]),
            "integrations": [integration],
        }

    # -- endpoints --------------------------------------------------------------------------------------------------
    def oncalls(self, query: dict[str, list[str]]) -> list[dict]:
        since = _time(query, "since", self.now, self.account_time_zone)
        until = _time(query, "until", self.now, self.account_time_zone)
        if until < since:
            raise Refused(400, "Invalid Input Provided", ["until cannot be before since"])
        zone = ZoneInfo(_one(query, "time_zone") or self.account_time_zone)
        include = query.get("include[]", [])
        wanted_policies = query.get("escalation_policy_ids[]")
        wanted_schedules = query.get("schedule_ids[]")
        wanted_users = query.get("user_ids[]")
        horizon = self.now + FUTURE_LIMIT
        entries: list[tuple[str, int, str, str | None, datetime | None, datetime | None]] = []
        for pid, policy in self.policies.items():
            if wanted_policies and pid not in wanted_policies:
                continue
            for level, (_, targets) in enumerate(policy["rules"], start=1):
                for target in targets:
                    if target not in self.schedules:
                        entries.append((pid, level, target, None, None, None))
                        continue
                    lo, hi = since - LOOK_BEYOND, min(until + LOOK_BEYOND, horizon)
                    for start, end, user in final_schedule(self.schedules[target], lo, hi):
                        if start <= until and end > since:  # overlaps the range asked
                            entries.append((pid, level, user, target, start, end))
        if wanted_schedules:
            entries = [e for e in entries if (e[3] or "null") in wanted_schedules]
        if wanted_users:
            entries = [e for e in entries if e[2] in wanted_users]
        entries.sort(key=lambda e: (e[0], e[1], e[4] or datetime.min.replace(tzinfo=UTC)))
        if _one(query, "earliest") == "true":
            seen, earliest = set(), []
            for entry in entries:
                if (entry[0], entry[1], entry[2]) not in seen:
                    seen.add((entry[0], entry[1], entry[2]))
                    earliest.append(entry)
            entries = earliest
        return [
            {
                "escalation_policy": self.policy_object(pid)
                if "escalation_policies" in include
                else self._policy_ref(pid),
                "escalation_level": level,
                "schedule": self._schedule_ref(sid) if sid else None,
                "user": self.users[uid] if "users" in include else self._user_ref(uid),
                "start": start.astimezone(zone).isoformat() if start else None,
                "end": end.astimezone(zone).isoformat() if end else None,
            }
            for pid, level, uid, sid, start, end in entries
        ]

    def incidents_list(self, query: dict[str, list[str]]) -> list[dict]:
        found = list(self.incidents)
        if _one(query, "date_range") != "all":
            until = _time(query, "until", self.now, self.account_time_zone)
            since = _time(query, "since", until - timedelta(days=30), self.account_time_zone)
            if until - since > timedelta(days=183):
                raise Refused(400, "Invalid Input Provided", ["Date range too large, max 6 months"])
            found = [i for i in found if since <= _parse(i["created_at"]) <= until]
        if query.get("statuses[]"):
            found = [i for i in found if i["status"] in query["statuses[]"]]
        if query.get("service_ids[]"):
            found = [i for i in found if i["service"]["id"] in query["service_ids[]"]]
        return found

    def change_events_of(self, service: str, query: dict[str, list[str]]) -> list[dict]:
        bounds = []
        for name in ("since", "until"):
            value = _one(query, name)
            if value is not None and not UTC_Z.match(value):
                raise Refused(400, "Invalid Input Provided", [f"{name} must be a UTC datetime: YYYY-MM-DDThh:mm:ssZ"])
            bounds.append(_parse(value) if value else None)
        since, until = bounds
        events = [
            e
            for e in self.change_events.get(service, [])
            if (since is None or _parse(e["timestamp"]) >= since) and (until is None or _parse(e["timestamp"]) <= until)
        ]
        return sorted(events, key=lambda e: e["timestamp"], reverse=True)

    def page(self, items: list, query: dict[str, list[str]], name: str) -> dict:
        offset = int(_one(query, "offset") or 0)
        limit = min(int(_one(query, "limit") or 25), self.max_limit)
        if offset + limit > MAX_OFFSET:
            raise Refused(400, "Invalid Input Provided", [f"Offset must be less than {MAX_OFFSET}"])
        return {
            name: items[offset : offset + limit],
            "offset": offset,
            "limit": limit,
            "more": offset + limit < len(items),
            "total": len(items) if _one(query, "total") == "true" else None,
        }

    def route(self, path: str, query: dict[str, list[str]]) -> dict:
        if path in self.fail:
            status, message = self.fail[path]
            raise Refused(status, message, code=2010 if status == 403 else 2001)
        parts = path.strip("/").split("/")
        include = query.get("include[]", [])
        if parts == ["oncalls"]:
            return self.page(self.oncalls(query), query, "oncalls")
        if parts == ["incidents"]:
            return self.page(self.incidents_list(query), query, "incidents")
        if parts == ["services"]:
            return self.page([self.service_object(s, include) for s in self.services], query, "services")
        if len(parts) >= 2 and parts[0] == "services" and parts[1] in self.services:
            if len(parts) == 2:
                return {"service": self.service_object(parts[1], include)}
            if parts[2:] == ["change_events"]:
                return self.page(self.change_events_of(parts[1], query), query, "change_events")
        if len(parts) == 2 and parts[0] == "escalation_policies" and parts[1] in self.policies:
            return {"escalation_policy": self.policy_object(parts[1])}
        raise Refused(404, "Not Found", code=2100)


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _time(query: dict[str, list[str]], name: str, default: datetime, zone: str) -> datetime:
    value = _one(query, name)
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Refused(400, "Invalid Input Provided", [f"{name} is not an ISO 8601 date-time"]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _handler(pd: ReferencePagerDuty) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalRequestHandler):
        def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            pd.requests.append(Recorded(parts.path, query, parts.query, dict(self.headers.items())))
            if self.headers.get("Authorization") != f"Token token={pd.token}":
                return self._send(401, {"error": {"message": "Unauthorized", "code": 2006}})
            if pd.rate_limited > 0:
                pd.rate_limited -= 1
                limits = {
                    "ratelimit-limit": "960",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(pd.ratelimit_reset),
                }
                return self._send(429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}}, limits)
            try:
                return self._send(200, pd.route(parts.path, query))
            except Refused as refused:
                error = {"message": refused.message, "code": refused.code, "errors": refused.errors}
                return self._send(refused.status, {"error": error})

    return Handler


class ReferencePagerDutyServer:
    """Serves a ReferencePagerDuty on a free port of 127.0.0.1."""

    def __init__(self, pd: ReferencePagerDuty) -> None:
        self.pd = pd
        self._server = LocalServer(_handler(pd), name="reference-pagerduty")
        self.url = pd.url = self._server.url

    def __enter__(self) -> ReferencePagerDutyServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

"""A small fake PagerDuty REST API v2 on 127.0.0.1 serving the documented response shapes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from idp_tui.local_http import LocalServer

API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass
class FakePagerDuty:
    """Data and failure switches for the fake; tests fill it, the handler reads it."""

    token: str
    now: datetime
    users: dict[str, dict] = field(default_factory=dict)
    schedules: dict[str, str] = field(default_factory=dict)
    policies: dict[str, dict] = field(default_factory=dict)
    services: dict[str, dict] = field(default_factory=dict)
    oncalls: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    change_events: dict[str, list[dict]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    rate_limits_left: int = 0
    retry_after: int = 1
    delay: float = 0.0
    page_size: int = 100  # the server's own cap on `limit`, to force paging
    url: str = ""

    # -- data ------------------------------------------------------------------------------------------------------
    def add_user(self, uid: str, name: str) -> None:
        email = name.lower().replace(" ", ".") + "@example.com"
        self.users[uid] = {
            "id": uid,
            "type": "user",
            "summary": name,
            "self": f"{API}/users/{uid}",
            "html_url": f"{WEB}/users/{uid}",
            "name": name,
            "email": email,
        }

    def add_policy(self, pid: str, name: str, rules: list[tuple[int, list[str]]]) -> None:
        """``rules``: (escalation_delay_in_minutes, target ids) per level; ids in ``schedules`` are schedules."""
        self.policies[pid] = {
            "id": pid,
            "type": "escalation_policy",
            "summary": name,
            "name": name,
            "self": f"{API}/escalation_policies/{pid}",
            "html_url": f"{WEB}/escalation_policies/{pid}",
            "escalation_rules": [
                {
                    "id": f"R{pid}{i}",
                    "escalation_delay_in_minutes": delay,
                    "targets": [self._target(t) for t in targets],
                }
                for i, (delay, targets) in enumerate(rules)
            ],
        }

    def _target(self, tid: str) -> dict:
        if tid in self.schedules:
            return {
                "id": tid,
                "type": "schedule_reference",
                "summary": self.schedules[tid],
                "self": f"{API}/schedules/{tid}",
            }
        return {"id": tid, "type": "user_reference", "summary": self.users[tid]["name"], "self": f"{API}/users/{tid}"}

    def add_service(self, sid: str, name: str, policy: str, integration_key: str | None = None) -> None:
        self.services[sid] = {"id": sid, "name": name, "policy": policy, "integration_key": integration_key}

    def add_oncall(self, policy: str, level: int, user: str, schedule: str | None, start=None, end=None) -> None:
        self.oncalls.append(
            {"policy": policy, "level": level, "user": user, "schedule": schedule, "start": start, "end": end}
        )

    # -- documented shapes -----------------------------------------------------------------------------------------
    def service_object(self, sid: str, include: list[str]) -> dict:
        data = self.services[sid]
        policy = self.policies[data["policy"]]
        service = {
            "id": sid,
            "type": "service",
            "summary": data["name"],
            "self": f"{API}/services/{sid}",
            "html_url": f"{WEB}/service-directory/{sid}",
            "name": data["name"],
            "status": "active",
            "escalation_policy": (
                policy
                if "escalation_policies" in include
                else {
                    "id": policy["id"],
                    "type": "escalation_policy_reference",
                    "summary": policy["name"],
                    "self": policy["self"],
                    "html_url": policy["html_url"],
                }
            ),
        }
        integration = {"id": f"I{sid}", "type": "generic_events_api_inbound_integration_reference", "summary": "Events"}
        if "integrations" in include:
            integration = {**integration, "type": "events_api_v2_inbound_integration", "name": "Events API v2"}
            integration["integration_key"] = data["integration_key"]
        service["integrations"] = [integration]
        return service

    def oncall_object(self, oncall: dict, include_users: bool) -> dict:
        user = self.users[oncall["user"]]
        policy = self.policies[oncall["policy"]]
        sched = oncall["schedule"]
        return {
            "escalation_policy": {
                "id": policy["id"],
                "type": "escalation_policy_reference",
                "summary": policy["name"],
                "self": policy["self"],
            },
            "escalation_level": oncall["level"],
            "schedule": (
                {
                    "id": sched,
                    "type": "schedule_reference",
                    "summary": self.schedules[sched],
                    "self": f"{API}/schedules/{sched}",
                }
                if sched
                else None
            ),
            "user": user
            if include_users
            else {"id": user["id"], "type": "user_reference", "summary": user["name"], "self": user["self"]},
            "start": _iso(oncall["start"]),
            "end": _iso(oncall["end"]),
        }


def _page(items: list, query: dict[str, list[str]], field_name: str, cap: int = 100) -> dict:
    offset = int(query.get("offset", ["0"])[0])
    limit = min(int(query.get("limit", ["25"])[0]), cap)
    total = len(items) if query.get("total") == ["true"] else None
    return {
        field_name: items[offset : offset + limit],
        "offset": offset,
        "limit": limit,
        "more": offset + limit < len(items),
        "total": total,
    }


def _handler(fake: FakePagerDuty) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

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
            fake.requests.append(Recorded("GET", parts.path, query, dict(self.headers.items())))
            if fake.delay:
                time.sleep(fake.delay)
            if self.headers.get("Authorization") != f"Token token={fake.token}":
                return self._send(401, {"error": {"message": "Unauthorized", "code": 2006}})
            if fake.rate_limits_left > 0:
                fake.rate_limits_left -= 1
                return self._send(
                    429,
                    {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                    {"Retry-After": str(fake.retry_after)},
                )
            self._route(parts.path.strip("/").split("/"), query)

        def _route(self, segments: list[str], query: dict[str, list[str]]) -> None:
            include = query.get("include[]", [])
            if segments == ["services"]:
                items = [fake.service_object(sid, include) for sid in fake.services]
                return self._send(200, _page(items, query, "services", fake.page_size))
            if len(segments) == 2 and segments[0] == "services":
                if segments[1] not in fake.services:
                    return self._send(404, {"error": {"message": "Not Found", "code": 2100}})
                return self._send(200, {"service": fake.service_object(segments[1], include)})
            if len(segments) == 3 and segments[0] == "services" and segments[2] == "change_events":
                return self._send(200, _page(fake.change_events.get(segments[1], []), query, "change_events"))
            if segments == ["oncalls"]:
                return self._send(200, _page(self._oncalls(query), query, "oncalls", fake.page_size))
            if segments == ["incidents"]:
                services = query.get("service_ids[]", [])
                statuses = query.get("statuses[]", [])
                items = [
                    i
                    for i in fake.incidents
                    if (not services or i["service"]["id"] in services) and (not statuses or i["status"] in statuses)
                ]
                return self._send(200, _page(items, query, "incidents"))
            return self._send(404, {"error": {"message": "Not Found", "code": 2100}})

        def _oncalls(self, query: dict[str, list[str]]) -> list[dict]:
            policies = query.get("escalation_policy_ids[]", [])
            if "since" in query:
                since = datetime.fromisoformat(query["since"][0])
                until = datetime.fromisoformat(query["until"][0])
            else:  # documented default: the on-calls right now
                since = until = fake.now
            chosen = []
            for o in fake.oncalls:
                if policies and o["policy"] not in policies:
                    continue
                overlaps = (o["start"] is None or o["start"] <= until) and (o["end"] is None or o["end"] > since)
                if overlaps:
                    chosen.append(fake.oncall_object(o, "users" in query.get("include[]", [])))
            return chosen

    return Handler


class PagerDutyServer:
    """Runs a FakePagerDuty on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, fake: FakePagerDuty) -> None:
        self.fake = fake
        self._server = LocalServer(_handler(fake), name="fake-pagerduty")
        self.url = fake.url = self._server.url

    def __enter__(self) -> PagerDutyServer:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

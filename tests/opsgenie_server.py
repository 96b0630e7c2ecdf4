"""A local stand-in for Opsgenie's REST API v2 on 127.0.0.1, answering in the documented response shapes.

Written from Opsgenie's API reference (docs.opsgenie.com and the OpenAPI definitions in opsgenie/opsgenie-oas), not
from the client: ``/v2/escalations``, ``/v2/schedules``, the Who-is-on-call API's
``/v2/schedules/{id}/on-calls`` and the Schedule API's ``/v2/schedules/{id}/timeline``.

Time semantics as documented:
- ``on-calls``: the on-call participants at ``date`` ("Default date is the moment of the time that request is
  received"); ``flat=true`` gives their user names as ``onCallRecipients``.
- ``timeline``: the timeline starting at ``date``, ``interval`` ``intervalUnit`` long (defaults 1 and ``weeks``);
  its periods are those overlapping that window.
A period can be split in two where Opsgenie's "now" falls (``split_at``): a "historical" piece ending there and a
"default" piece starting there, as Opsgenie's own issue OPSGENIE-1925 describes.
Every request is recorded (path, query, headers) so tests can check what was sent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from idp_tui.local_http import LocalServer

UNITS = {"days": timedelta(days=1), "weeks": timedelta(weeks=1), "months": timedelta(days=30)}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeOpsgenie:
    def __init__(self) -> None:
        self.escalations: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []
        self.timelines: dict[str, list[dict[str, Any]]] = {}  # schedule id -> periods
        self.requests: list[dict[str, Any]] = []
        self.status: int | None = None
        self.delay = 0.0
        self.base_url = ""
        # Opsgenie's own clock: the default `date`, and where a running period is split (when split is set).
        self.now: datetime | None = None
        self.split = False
        self._server: LocalServer | None = None

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query))
                fake.requests.append({"path": url.path, "query": query, "headers": dict(self.headers)})
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.status:
                    self._send(fake.status, {"message": "Could not authenticate", "took": 0.0, "requestId": "r-1"})
                    return
                try:
                    self._send(200, fake.answer(url.path, query))
                except ValueError as problem:  # an unreadable date, as Opsgenie refuses it
                    self._send(422, {"message": str(problem), "took": 0.0, "requestId": "r-2"})

            def _send(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = LocalServer(Handler, name="fake-opsgenie")
        self.base_url = self._server.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    # -- answers ---------------------------------------------------------------------------------------------------
    def _date(self, query: dict[str, str]) -> datetime:
        if "date" in query:
            return _time(query["date"])
        return self.now or datetime.now(UTC)

    def _periods(self, schedule_id: str) -> list[dict[str, Any]]:
        periods = self.timelines.get(schedule_id, [])
        if not (self.split and self.now):
            return periods
        pieces = []
        for item in periods:
            start, end = _time(item["startDate"]), _time(item["endDate"])
            if start < self.now < end:
                pieces.append({**item, "endDate": _iso(self.now), "type": "historical"})
                pieces.append({**item, "startDate": _iso(self.now)})
            else:
                pieces.append(item)
        return pieces

    def answer(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        query = query or {}
        envelope = {"took": 0.01, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}
        if path == "/v2/escalations":
            return {**envelope, "data": self.escalations}
        if path == "/v2/schedules":
            return {**envelope, "data": self.schedules, "expandable": ["rotation"]}
        if path.startswith("/v2/schedules/"):
            schedule_id = path.split("/")[3]
            schedule = next(s for s in self.schedules if s["id"] == schedule_id)
            parent = {"id": schedule["id"], "name": schedule["name"], "enabled": True}
            date = self._date(query)
            if path.endswith("/on-calls"):
                on_call = [
                    p["recipient"]
                    for p in self._periods(schedule_id)
                    if _time(p["startDate"]) <= date < _time(p["endDate"])
                ]
                if query.get("flat") == "true":
                    return {**envelope, "data": {"_parent": parent, "onCallRecipients": [r["name"] for r in on_call]}}
                participants = [{"id": r["id"], "name": r["name"], "type": r["type"]} for r in on_call]
                return {**envelope, "data": {"_parent": parent, "onCallParticipants": participants}}
            if path.endswith("/timeline"):
                length = int(query.get("interval", "1")) * UNITS[query.get("intervalUnit", "weeks")]
                end = date + length
                periods = [
                    p for p in self._periods(schedule_id) if _time(p["startDate"]) < end and _time(p["endDate"]) > date
                ]
                rotation = {"id": "r1", "name": "Primary", "order": 0, "periods": periods}
                return {
                    **envelope,
                    "data": {
                        "_parent": parent,
                        "startDate": _iso(date),
                        "endDate": _iso(end),
                        "finalTimeline": {"rotations": [rotation]},
                        "baseTimeline": {"rotations": [rotation]},
                        "overrideTimeline": {"rotations": []},
                        "forwardingTimeline": {"rotations": []},
                    },
                }
        return {**envelope, "data": None}


def period(start: str, end: str, user: str) -> dict[str, Any]:
    """A timeline period as Opsgenie returns it."""
    return {
        "startDate": start,
        "endDate": end,
        "type": "default",
        "recipient": {"id": f"u-{user}", "type": "user", "name": user},
    }

"""A local stand-in for Opsgenie's REST API v2 on 127.0.0.1, answering in the documented response shapes.

Only the endpoints idp-tui reads: ``/v2/escalations``, ``/v2/schedules`` and ``/v2/schedules/{id}/timeline``.
Every request is recorded (path, query, headers) so tests can check what was sent.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from idp_tui.local_http import LocalServer


class FakeOpsgenie:
    def __init__(self) -> None:
        self.escalations: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []
        self.timelines: dict[str, list[dict[str, Any]]] = {}  # schedule id -> periods
        self.requests: list[dict[str, Any]] = []
        self.status: int | None = None
        self.delay = 0.0
        self.base_url = ""
        self._server: LocalServer | None = None

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                fake.requests.append(
                    {"path": url.path, "query": dict(parse_qsl(url.query)), "headers": dict(self.headers)}
                )
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.status:
                    self._send(fake.status, {"message": "Could not authenticate", "took": 0.0, "requestId": "r-1"})
                    return
                self._send(200, fake.answer(url.path))

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

    def answer(self, path: str) -> dict[str, Any]:
        envelope = {"took": 0.01, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}
        if path == "/v2/escalations":
            return {**envelope, "data": self.escalations}
        if path == "/v2/schedules":
            return {**envelope, "data": self.schedules, "expandable": ["rotation"]}
        if path.startswith("/v2/schedules/") and path.endswith("/timeline"):
            schedule_id = path.split("/")[3]
            schedule = next(s for s in self.schedules if s["id"] == schedule_id)
            rotation = {"id": "r1", "name": "Primary", "order": 0, "periods": self.timelines.get(schedule_id, [])}
            return {
                **envelope,
                "data": {
                    "_parent": {"id": schedule["id"], "name": schedule["name"], "enabled": True},
                    "startDate": "2026-11-23T00:00:00Z",
                    "endDate": "2026-12-07T00:00:00Z",
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

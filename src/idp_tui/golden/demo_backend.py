"""The demo platform's Backstage backend, for ``http:backstage:request`` steps in local mode.

It answers the article's ``POST /api/vault-provisioner/namespace`` by recording a secrets namespace in the demo
secret store (a folder in the state directory). The record is staged like every change outside the workspace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .actions.base import ActionError, BackstageResponse


def _error(status: int, name: str, message: str) -> BackstageResponse:
    return BackstageResponse(status, {"error": {"name": name, "message": message}, "response": {"statusCode": status}})


class DemoVaultNamespace:
    """A namespace ``secret/<team>/<service>`` in the demo secret store."""

    def __init__(self, store: Path, team: str, service: str) -> None:
        self.record = store / team / f"{service}.json"
        self.team, self.service = team, service

    def describe(self) -> str:
        return f"demo Vault namespace secret/{self.team}/{self.service}"

    def check(self) -> None:
        pass

    def apply(self) -> None:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        payload = {"path": f"secret/{self.team}/{self.service}", "policy": f"{self.team}-{self.service}"}
        self.record.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")

    def undo(self) -> None:
        if self.record.exists():
            os.unlink(self.record)


def demo_backstage_handler(store: Path):
    """A handler for :class:`RunSettings.backstage_request` backed by the demo secret store at ``store``."""

    def handle(method: str, path: str, headers: dict[str, str], body: Any) -> BackstageResponse:
        if path.rstrip("/") != "/api/vault-provisioner/namespace":
            return _error(404, "NotFoundError", f"No route for {method} {path} on the demo backend")
        if method != "POST":
            return _error(405, "MethodNotAllowedError", f"{method} is not supported on {path}; use POST")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return _error(400, "InputError", "request body is not JSON")
        service, team = (body or {}).get("service"), (body or {}).get("team")
        if not (isinstance(service, str) and service and isinstance(team, str) and team):
            return _error(400, "InputError", "body must have non-empty strings 'service' and 'team'")
        team = team.rpartition("/")[2].rpartition(":")[2]  # a full ref (group:default/x) names team x
        if "/" in service or ".." in service or ".." in team:
            raise ActionError("service and team must be plain names")
        namespace = DemoVaultNamespace(store, team, service)
        result = {"path": f"secret/{team}/{service}", "policy": f"{team}-{service}"}
        if namespace.record.exists():
            return BackstageResponse(
                200, {**result, "created": False, "message": "namespace already exists; nothing changed"}
            )
        return BackstageResponse(201, {**result, "created": True}, effect=namespace)

    return handle

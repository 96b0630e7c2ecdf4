"""The Backstage backend a local run talks to, for ``http:backstage:request`` steps.

It answers the article's ``POST /api/vault-provisioner/namespace`` with the same code as ``vault:provision``: the
session's secret store (the demo Vault in the demo) gets the service's path, team policy and role, staged like every
change outside the workspace. Other paths are a 404, as on a Backstage without that plugin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..secrets.models import ProvisionDefaults, SecretsError, SecretStore
from .actions.base import ActionError, BackstageResponse
from .actions.vault import VaultProvisioning, request_from

PROVISIONER = "/api/vault-provisioner/namespace"
STATUS_OF = {"forbidden": 403, "not-found": 404, "conflict": 409, "auth": 401, "config": 501}


def _error(status: int, name: str, message: str) -> BackstageResponse:
    return BackstageResponse(status, {"error": {"name": name, "message": message}, "response": {"statusCode": status}})


def local_backstage_handler(store_factory: Callable[[], SecretStore], vault_defaults: ProvisionDefaults | None = None):
    """A handler for :class:`RunSettings.backstage_request` backed by the session's secret store."""

    def handle(method: str, path: str, headers: dict[str, str], body: Any) -> BackstageResponse:
        if path.rstrip("/") != PROVISIONER:
            return _error(404, "NotFoundError", f"No route for {method} {path} on the local backend")
        if method != "POST":
            return _error(405, "MethodNotAllowedError", f"{method} is not supported on {path}; use POST")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return _error(400, "InputError", "request body is not JSON")
        try:
            request = request_from(body if isinstance(body, dict) else {}, vault_defaults)
        except ActionError as error:
            return _error(400, "InputError", str(error))
        try:
            store = store_factory()
            preview = store.provision(request, dry_run=True)
        except SecretsError as error:
            return _error(STATUS_OF.get(error.kind, 502), "VaultError", str(error))
        plan = preview.plan
        result = {"path": plan.secret_path.rstrip("/"), "policy": plan.policy_name}
        if not preview.created:
            return BackstageResponse(200, {**result, "created": False, "message": "namespace already exists"})
        return BackstageResponse(201, {**result, "created": True}, effect=VaultProvisioning(store, request))

    return handle

"""The demo Vault's mount tables, per namespace, as a dev-mode Vault (and OpenBao) has them.

Secrets engines live at paths like ``secret/`` (KV version 2, as ``vault server -dev`` mounts it) and ``kv1/``;
auth methods at ``auth/<path>`` by type (``token``, ``approle``, ``kubernetes``). What a request reaches depends
on the mount serving its path, never on its first segment alone: a path under no mount is answered
``no handler for route``, and a Kubernetes role written to an AppRole mount is not a Kubernetes role.

The endpoints here: ``sys/mounts``, ``sys/auth``, ``sys/internal/ui/mounts/<path>`` (which the ``vault`` CLI asks
to learn a path's mount and KV version) and ``sys/capabilities-self``.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from idp_tui.secrets.demo_vault.acl import PERMISSION_DENIED, VaultError, capabilities_for, has_mount_access
from idp_tui.secrets.demo_vault.protocol import NO_CONTENT, UNSUPPORTED_OPERATION, Request, Response, envelope

if TYPE_CHECKING:
    from idp_tui.secrets.demo_vault.server import DemoVault

RUNNING_VERSION = "v1.17.6+builtin"
BUILTIN = {"sys/": "system", "cubbyhole/": "cubbyhole", "identity/": "identity"}
DESCRIPTIONS = {
    "sys/": "system endpoints used for control, policy and debugging",
    "cubbyhole/": "per-token private secret storage",
    "identity/": "identity store",
    "secret/": "key/value secret storage",
    "token/": "token based credentials",
}
RESERVED = ("sys/", "auth/", "cubbyhole/", "identity/")
PREFLIGHT_DENIED = "preflight capability check returned 403, please ensure client's policies grant access to path"


def mount_entry(kind: str, options: dict[str, Any] | None = None, *, path: str = "", auth: bool = False) -> dict:
    """One row of a mount table, in the fields Vault answers with."""
    config: dict[str, Any] = {"default_lease_ttl": 0, "force_no_cache": False, "max_lease_ttl": 0}
    if auth:
        config["token_type"] = "default-service"
    return {
        "accessor": f"{'auth_' if auth else ''}{kind}_{secrets.token_hex(4)}",
        "config": config,
        "description": DESCRIPTIONS.get(path, ""),
        "external_entropy_access": False,
        "local": kind == "cubbyhole",
        "options": options,
        "plugin_version": "",
        "running_plugin_version": RUNNING_VERSION,
        "running_sha256": "",
        "seal_wrap": kind == "system",
        "type": kind,
        "uuid": str(uuid.uuid4()),
    }


def default_tables(root: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(secrets engines, auth methods) of a new namespace; the root one also has ``secret/``, KV v2, like -dev."""
    engines = {path: mount_entry(kind, path=path) for path, kind in BUILTIN.items()}
    if root:
        engines["secret/"] = mount_entry("kv", {"version": "2"}, path="secret/")
    return engines, {"token/": mount_entry("token", path="token/", auth=True)}


def migrate(state: dict[str, Any], root: bool) -> None:
    """Give a namespace stored before mount tables existed the mounts its data implies (KV v2, Kubernetes auth)."""
    if "mounts" in state and "auth" in state:
        return
    engines, methods = default_tables(root)
    for mount in state.get("kv") or {}:
        engines.setdefault(f"{mount}/", mount_entry("kv", {"version": "2"}, path=f"{mount}/"))
    for mount in state.get("kubernetes_roles") or {}:
        methods.setdefault(f"{mount}/", mount_entry("kubernetes", {}, path=f"{mount}/", auth=True))
    state.setdefault("mounts", engines)
    state.setdefault("auth", methods)


def normal(path: str) -> str:
    """A mount path as tables key it: no leading slash, one trailing slash."""
    return path.strip("/") + "/"


def find(table: dict[str, Any], path: str) -> tuple[str, dict[str, Any]] | None:
    """The mount serving ``path`` (the longest mount path it starts with), as (mount path, entry)."""
    candidate = path.strip("/") + "/"
    matches = [mount for mount in table if candidate.startswith(mount)]
    if not matches:
        return None
    best = max(matches, key=len)
    return best, table[best]


def kv_version(entry: dict[str, Any]) -> int | None:
    """1 or 2 for a KV engine; None for anything else."""
    if entry["type"] not in ("kv", "generic"):
        return None
    return 2 if str((entry.get("options") or {}).get("version") or "1") == "2" else 1


def enable(table: dict[str, Any], path: str, kind: str, options: dict[str, Any] | None, *, auth: bool) -> None:
    """Add a mount; 400 "path is already in use" as Vault says, for a taken or overlapping path."""
    path = normal(path)
    if not auth and (path in RESERVED or path.startswith(RESERVED)):
        raise VaultError(400, [f"cannot mount '{path}' (reserved path)" if path != "auth/" else "unsupported path"])
    for existing in table:
        if path.startswith(existing) or existing.startswith(path):
            raise VaultError(400, [f"path is already in use at {existing}"])
    if kind == "kv-v2":
        kind, options = "kv", {**(options or {}), "version": "2"}
    # "kv" without options is KV version 1, and Vault reads its options back as null.
    table[path] = mount_entry(kind, options if options is not None else ({} if auth else None), path=path, auth=auth)


# -- endpoints -------------------------------------------------------------------------------------------------------


def mounts_route(vault: DemoVault, request: Request, path: str, *, auth: bool) -> Response:
    """``sys/mounts[/<path>]`` and ``sys/auth[/<path>]``: read the table, enable or disable a mount."""
    state = vault.namespace_state(request.namespace)
    table = state["auth" if auth else "mounts"]
    base = "sys/auth" if auth else "sys/mounts"
    if not path:
        if request.method != "GET":
            raise VaultError(405, [UNSUPPORTED_OPERATION])
        vault.authorize(request, "read", base)
        data = {name: dict(entry) for name, entry in sorted(table.items())}
        status, body = envelope(data)
        return status, {**data, **body}
    vault.authorize(request, "sudo" if auth else "update", f"{base}/{path}")
    if request.method in ("POST", "PUT"):
        kind = str(request.body.get("type") or "")
        if not kind:
            raise VaultError(400, ["backend type must be specified as a string"])
        enable(table, path, kind, request.body.get("options"), auth=auth)
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":
        vault.disable(request.namespace, path, auth=auth)
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


def internal_ui_mount(vault: DemoVault, request: Request, path: str) -> Response:
    """``sys/internal/ui/mounts/<path>``: the mount serving ``path``, for a token with some access under it.

    Vault answers 403 alike for a path under no mount and for a mount the token may use nothing under, so the
    endpoint cannot be used to find mounts.
    """
    token = vault.token_for(request)
    asked = path.strip("/") + "/"
    forbidden = VaultError(403, [f"{PREFLIGHT_DENIED} {json.dumps(asked)}"])
    state = vault.namespace_state(request.namespace)
    if path.startswith("auth/"):
        found = find(state["auth"], path.removeprefix("auth/"))
        api_path = f"auth/{found[0]}" if found else ""
    else:
        found = find(state["mounts"], path)
        api_path = found[0] if found else ""
    if found is None:
        raise forbidden
    if not token.is_root and not has_mount_access(vault.policy_texts(token), api_path):
        raise forbidden
    mount, entry = found
    data = {**entry, "path": mount}
    if entry["type"] == "kv":
        data["deprecation_status"] = "supported"
    return envelope(data)


def capabilities_self(vault: DemoVault, request: Request) -> Response:
    """``sys/capabilities-self``: what the token may do on each path (``root`` for a root token)."""
    if request.method not in ("POST", "PUT"):
        raise VaultError(405, [UNSUPPORTED_OPERATION])
    token = vault.token_for(request)
    single = request.body.get("path")
    paths = request.body.get("paths") or ([single] if single else [])
    if isinstance(paths, str):
        paths = [part.strip() for part in paths.split(",") if part.strip()]
    if not paths:
        raise VaultError(400, ['"path" must be provided'])
    data: dict[str, Any] = {}
    for path in paths:
        if token.is_root:
            data[path] = ["root"]
        else:
            granted = sorted(capabilities_for(vault.policy_texts(token), str(path).lstrip("/")))
            data[path] = granted or ["deny"]
    if single and len(paths) == 1:
        data["capabilities"] = data[paths[0]]
    status, body = envelope(data)
    return status, {**data, **body}


def no_route(vault: DemoVault, request: Request) -> VaultError:
    """What Vault answers for a path no mount serves: 403 when the token may not even ask, else 404."""
    capability = (
        "list" if request.is_list else {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(request.method, "update")
    )
    token = vault.token_for(request)
    shown = request.path + "/" if request.is_list else request.path  # Vault lists a path with a trailing slash
    if not token.is_root and capability not in capabilities_for(vault.policy_texts(token), shown):
        return VaultError(403, [PERMISSION_DENIED])
    return VaultError(404, [f'no handler for route "{shown}". route entry not found.'])

"""Which secrets engine or auth method serves a path, learnt the way the ``vault`` CLI learns it.

``GET sys/internal/ui/mounts/<path>`` names the mount serving ``<path>``, its type and (for KV) its version, and
it answers any token with some access under that mount, without ``sys/mounts`` rights. Vault answers 403 both
when nothing is mounted there and when the token may use nothing under the mount (so it cannot be used to find
mounts). ``sys/capabilities-self``, which Vault's default policy lets every token call, tells the two apart: a
token holding any capability on a path under the mount would have been answered, so the mount is not there.

Requests go through ``call(capability, api_path, request, missing_ok=...)``: the store's own request path, which
turns every failure into a :class:`SecretsError` in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .models import SecretsError, VaultMount

PREFLIGHT = "sys/internal/ui/mounts"
KV_TYPES = ("kv", "generic")  # "generic" is KV version 1's pre-0.8 name
AUTH_NAMES = {"kubernetes": "Kubernetes", "approle": "AppRole", "token": "Token", "userpass": "Userpass"}

Call = Callable[..., Any]


def _preflight(call: Call, path: str) -> Mapping[str, Any] | None:
    """The ``data`` of ``sys/internal/ui/mounts/<path>``; None for a 404 (a Vault older than the endpoint).

    Raises:
        SecretsError: kind ``forbidden`` when Vault answers 403 (see the module doc), or any other failure.
    """
    url = f"/v1/{PREFLIGHT}/{path}"
    answer = call("read", f"{PREFLIGHT}/{path}", lambda c: c.adapter.get(url), missing_ok=True)
    if answer is None:
        return None
    data = answer["data"]
    if not isinstance(data, Mapping):
        raise TypeError("mount data")
    return data


def _granted_somewhere(call: Call, paths: list[str]) -> bool:
    """Whether the token holds any capability (other than deny) on one of ``paths``; False when it may not ask."""
    body = {"paths": paths}
    try:
        answer = call(
            "update",
            "sys/capabilities-self",
            lambda c: c.adapter.post("/v1/sys/capabilities-self", json=body),
        )
    except SecretsError as error:
        if error.kind != "forbidden":
            raise
        return False
    data = (answer or {}).get("data") or answer or {}
    for path in paths:
        capabilities = data.get(path)
        if isinstance(capabilities, list) and [c for c in capabilities if c != "deny"]:
            return True
    return False


def kv_mount(call: Call, mount: str, path: str, where: str) -> VaultMount:
    """The KV engine serving ``mount/path``: its real mount path (which may hold slashes) and KV version.

    Args:
        call: the store's request function.
        mount: the first segment(s) of the path as configured (``secret``).
        path: the rest (``team-a/billing``).
        where: the Vault address as messages show it.

    Raises:
        SecretsError: kind ``not-found`` when no secrets engine is mounted there, ``config`` when the engine is not
            a KV store, ``forbidden`` when the token may use nothing under the mount (Vault does not say whether it
            exists then), or any Vault failure.
    """
    full = f"{mount}/{path}".strip("/")
    try:
        data = _preflight(call, full)
    except SecretsError as error:
        if error.kind != "forbidden":
            raise
        probes = [full, f"{mount}/data/{path}".rstrip("/"), f"{mount}/metadata/{path}/".replace("//", "/")]
        if _granted_somewhere(call, probes):
            message = f"no secrets engine is mounted at {mount}/ in Vault at {where}"
            raise SecretsError(message, kind="not-found", path=f"{mount}/") from None
        message = (
            f"permission denied on {mount}/: the token's policies grant nothing under it "
            f"(or no secrets engine is mounted there)"
        )
        raise SecretsError(message, kind="forbidden", path=f"{mount}/") from None
    if data is None:
        # A Vault without the endpoint predates KV version 2 as a default: the vault CLI takes version 1 too.
        return VaultMount(mount, "kv", 1)
    engine = str(data.get("type") or "")
    served_by = str(data.get("path") or f"{mount}/").strip("/") or mount
    if engine not in KV_TYPES:
        message = f"{served_by}/ in Vault at {where} is a {engine or 'non-KV'} secrets engine, not a KV store"
        raise SecretsError(message, kind="config", path=f"{served_by}/")
    version = str(((data.get("options") or {}).get("version")) or "1")
    return VaultMount(served_by, engine, 2 if version == "2" else 1)


def require_auth_method(call: Call, mount: str, method: str, probe: str, where: str) -> VaultMount:
    """Check that the auth method ``method`` is enabled at ``auth/<mount>``, before anything is written there.

    Args:
        probe: a path under the mount the caller will use (``auth/kubernetes/role/billing``), to tell a missing
            method from one the token may not use.

    Raises:
        SecretsError: kind ``not-found`` ("Kubernetes auth is not enabled at auth/kubernetes"), ``forbidden`` when
            the token may use nothing there, or any Vault failure.
    """
    name = AUTH_NAMES.get(method, method)
    not_enabled = f"{name} auth is not enabled at auth/{mount} in Vault at {where}"
    try:
        data = _preflight(call, f"auth/{mount}")
    except SecretsError as error:
        if error.kind != "forbidden":
            raise
        if _granted_somewhere(call, [probe]):
            raise SecretsError(not_enabled, kind="not-found", path=f"auth/{mount}") from None
        message = (
            f"permission denied on {probe}: the token's policies grant nothing there "
            f"(or {name} auth is not enabled at auth/{mount})"
        )
        raise SecretsError(message, kind="forbidden", path=probe) from None
    if data is None:
        # No endpoint to ask (a very old Vault): the writes themselves will say what is wrong.
        return VaultMount(mount, method)
    found = str(data.get("type") or "")
    if found != method:
        raise SecretsError(f"{not_enabled} ({found or 'another'} auth is mounted there)", kind="not-found")
    return VaultMount(str(data.get("path") or mount).strip("/") or mount, found)

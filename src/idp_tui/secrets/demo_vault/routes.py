"""The demo Vault's request routing and its ``sys/`` and ``auth/`` endpoints (KV engines live in ``kv``, mount
tables in ``mounts``). A request reaches what is mounted at its path: a KV engine of its version, an auth method of
its type, or Vault's "no handler for route"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from idp_tui.secrets.demo_vault import mounts
from idp_tui.secrets.demo_vault.acl import (
    VaultError,
    denied,
    jwt_service_account,
    kubernetes_role,
    parse_policy,
    seconds,
)
from idp_tui.secrets.demo_vault.kv import kv1_route, kv_route
from idp_tui.secrets.demo_vault.protocol import (
    NO_CONTENT,
    UNSUPPORTED,
    UNSUPPORTED_OPERATION,
    Request,
    Response,
    envelope,
    required_capability,
)

if TYPE_CHECKING:
    from idp_tui.secrets.demo_vault.server import DemoVault


# -- routes: sys -------------------------------------------------------------------------------------------------------


def route(vault: DemoVault, request: Request) -> Response:
    """Send a request to its endpoint: ``sys/``, the auth method at ``auth/<mount>/``, or the secrets engine
    mounted at its path (KV version 1 or 2); a path under no mount is Vault's "no handler for route"."""
    parts = request.path.split("/")
    if request.path in ("sys/health", "sys/seal-status"):  # unauthenticated, and answered even when sealed
        return _status(vault, request)
    if vault.sealed:
        raise VaultError(503, ["Vault is sealed"])
    if parts[0] == "sys":
        return _sys(vault, request, parts[1:])
    state = vault.namespace_state(request.namespace)
    if parts[0] == "auth":
        found = mounts.find(state["auth"], "/".join(parts[1:]))
        if found is None:
            raise mounts.no_route(vault, request)
        mount, entry = found
        return _auth(vault, request, entry["type"], mount.rstrip("/"), request.path[len("auth/" + mount) :])
    found = mounts.find(state["mounts"], request.path)
    if found is None:
        raise mounts.no_route(vault, request)
    mount, entry = found
    rest = request.path[len(mount) :].strip("/")
    version = mounts.kv_version(entry)
    if version == 2:
        return kv_route(vault, request, mount.rstrip("/"), rest.split("/") if rest else [])
    if version == 1:
        return kv1_route(vault, request, mount.rstrip("/"), rest)
    vault.authorize(request, required_capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _status(vault: DemoVault, request: Request) -> Response:
    body = vault.health()
    if request.path == "sys/seal-status":
        keep = ("initialized", "sealed", "version", "cluster_name", "cluster_id")
        status = {"type": "shamir", "t": 1, "n": 1, "progress": 0, "nonce": "", "migration": False}
        return 200, {**status, **{key: body[key] for key in keep if key in body}, "storage_type": "inmem"}
    # The status-code overrides load balancers pass (hvac's read_health_status sends them too).
    override = request.query.get("sealedcode" if vault.sealed else "activecode", "")
    return (int(override) if override.isdigit() else 503 if vault.sealed else 200), body


def _sys(vault: DemoVault, request: Request, parts: list[str]) -> Response:
    if parts[:1] in (["mounts"], ["auth"]):
        return mounts.mounts_route(vault, request, "/".join(parts[1:]), auth=parts[0] == "auth")
    if parts[:3] == ["internal", "ui", "mounts"] and len(parts) > 3 and request.method == "GET":
        return mounts.internal_ui_mount(vault, request, "/".join(parts[3:]))
    if parts == ["capabilities-self"]:
        return mounts.capabilities_self(vault, request)
    if parts[:1] == ["namespaces"] and len(parts) == 2 and request.method in ("POST", "PUT"):
        vault.authorize(request, "update")
        vault.namespace_state(parts[1])
        return envelope({"path": parts[1] + "/", "custom_metadata": {}, "locked": False, "tainted": False})
    if parts[:2] == ["policies", "acl"]:
        return _acl_policy(vault, request, "/".join(parts[2:]), legacy=False)
    if parts[:1] == ["policy"]:  # the pre-0.10 path, which hvac's sys.read_policy & co. still use
        return _acl_policy(vault, request, "/".join(parts[1:]), legacy=True)
    vault.authorize(request, required_capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _acl_policy(vault: DemoVault, request: Request, name: str, *, legacy: bool) -> Response:
    base = "sys/policy" if legacy else "sys/policies/acl"
    policies = vault.namespace_state(request.namespace)["policies"]
    if not name:
        if not (request.is_list or (legacy and request.method == "GET")):
            raise VaultError(405, [UNSUPPORTED_OPERATION])
        vault.authorize(request, "read" if legacy else "list", base if legacy else base + "/")
        keys = sorted(policies) + (["root"] if not request.namespace else [])
        status, body = envelope({"keys": keys, **({"policies": keys} if legacy else {})}, mount_type="system")
        return status, {**body, **body["data"]} if legacy else body  # the old path also answers at the top level
    name = name.lower()  # Vault stores policy names in lower case
    path = f"{base}/{name}"
    if request.method == "GET":
        vault.authorize(request, "read", path)
        if name not in policies:
            raise VaultError(404)
        data = {"name": name, ("rules" if legacy else "policy"): policies[name]}
        status, body = envelope(data, mount_type="system")
        return status, {**body, **data} if legacy else body
    if request.method in ("POST", "PUT"):
        vault.authorize(request, required_capability(request, name in policies), path)
        if name == "root":
            raise VaultError(400, ["cannot update root policy"])
        text = request.body.get("policy") or request.body.get("rules")
        if not text:
            raise VaultError(400, ["'policy' parameter not supplied or empty"])
        text = text if isinstance(text, str) else json.dumps(text)
        parse_policy(text)  # a PolicyError answers 400, as Vault refuses to store what it cannot parse
        policies[name] = text
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":
        vault.authorize(request, "delete", path)
        if name in ("root", "default"):
            raise VaultError(400, [f"cannot delete {name} policy"])
        if policies.pop(name, None) is not None:
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


# -- routes: auth ------------------------------------------------------------------------------------------------------


def _auth(vault: DemoVault, request: Request, method: str, mount: str, rest: str) -> Response:
    """A request to the auth method of type ``method`` enabled at ``auth/<mount>``."""
    rest = rest.strip("/")
    if method == "token":
        return _token(vault, request, rest)
    if method == "approle" and rest == "login":
        return _approle_login(vault, request, mount)
    if method == "kubernetes":
        return _kubernetes(vault, request, mount, rest)
    vault.authorize(request, required_capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _token(vault: DemoVault, request: Request, rest: str) -> Response:
    # Vault's default policy lets a token look itself up and renew itself; a token without it may not.
    if rest == "lookup-self" and request.method in ("GET", "POST"):
        token = vault.authorize(request, "read" if request.method == "GET" else "update")
        return envelope(token.lookup(), mount_type="token")
    if rest == "renew-self" and request.method in ("POST", "PUT"):
        token = vault.authorize(request, "update")
        if not token.renewable:
            raise VaultError(400, ["lease is not renewable"])
        token.renew(seconds(request.body.get("increment"), "increment"))
        return envelope(None, mount_type="token", auth=token.auth())
    vault.authorize(request, required_capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _approle_login(vault: DemoVault, request: Request, mount: str) -> Response:
    role_id, secret_id = request.body.get("role_id"), request.body.get("secret_id")
    if not role_id:
        raise VaultError(500, ["missing role_id"])  # sic: Vault and OpenBao answer this one with a 500
    roles = ((name, role) for name, role in vault.approles.items() if role.mount == mount)
    found = next(((name, role) for name, role in roles if role.role_id == role_id), None)
    if found is None or found[1].secret_id != secret_id:
        raise VaultError(400, ["invalid role or secret ID"])
    name, role = found
    meta = {"role_name": name}
    path = f"auth/{mount}/login"
    token = vault.issue(role.policies, ttl=0, path=path, meta=meta, namespace=request.namespace)
    return envelope(None, mount_type="approle", auth=token.auth())


def _kubernetes(vault: DemoVault, request: Request, mount: str, rest: str) -> Response:
    roles = vault.namespace_state(request.namespace)["kubernetes_roles"].get(mount, {})
    if rest == "login" and request.method in ("POST", "PUT"):
        return _kubernetes_login(vault, request, mount, roles)
    if rest == "config":
        return _kubernetes_config(vault, request, mount)
    if rest.split("/")[0] != "role":
        vault.authorize(request, required_capability(request, True))
        raise VaultError(404, [UNSUPPORTED])
    name = rest.removeprefix("role").strip("/")
    if not name:
        if not request.is_list:
            raise VaultError(405, [UNSUPPORTED_OPERATION])
        vault.authorize(request, "list", f"auth/{mount}/role/")
        if not roles:
            raise VaultError(404)
        return envelope({"keys": sorted(roles)}, mount_type="kubernetes")
    vault.authorize(request, required_capability(request, name in roles), f"auth/{mount}/role/{name}")
    if request.method == "GET":
        if name not in roles:
            raise VaultError(404)
        return envelope(roles[name], mount_type="kubernetes")
    if request.method in ("POST", "PUT"):
        role = kubernetes_role(roles.get(name, {}), request.body)
        for key in ("bound_service_account_names", "bound_service_account_namespaces"):
            if not role[key] and not (key.endswith("namespaces") and role["bound_service_account_namespace_selector"]):
                raise VaultError(400, [f'"{key}" can not be empty'])
        vault.namespace_state(request.namespace)["kubernetes_roles"].setdefault(mount, {})[name] = role
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":
        if roles.pop(name, None) is not None:
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


def _kubernetes_config(vault: DemoVault, request: Request, mount: str) -> Response:
    """``auth/<mount>/config``: kept and read back; the demo asks no Kubernetes API, so nothing in it is used."""
    configs = vault.namespace_state(request.namespace).setdefault("kubernetes_config", {})
    vault.authorize(request, required_capability(request, mount in configs), f"auth/{mount}/config")
    if request.method == "GET":
        config = configs.get(mount, {})
        keep = ("kubernetes_host", "kubernetes_ca_cert", "disable_local_ca_jwt", "issuer", "pem_keys")
        return envelope({key: config.get(key) for key in keep if key in config}, mount_type="kubernetes")
    if request.method in ("POST", "PUT"):
        if not request.body.get("kubernetes_host"):
            raise VaultError(400, ["no host provided"])
        configs[mount] = {key: value for key, value in request.body.items() if key != "token_reviewer_jwt"}
        vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


def _kubernetes_login(vault: DemoVault, request: Request, mount: str, roles: dict[str, Any]) -> Response:
    role_name, jwt = request.body.get("role"), request.body.get("jwt")
    if not role_name:
        raise VaultError(400, ["missing role"])
    if not jwt:
        raise VaultError(400, ["missing jwt"])
    role = roles.get(role_name)
    if role is None:
        raise VaultError(400, [f'invalid role name "{role_name}"'])
    account = jwt_service_account(jwt)
    policies = vault.kubernetes_logins.get((mount, role_name, jwt))
    if policies is None:
        # Not a declared login: accept a service-account JWT the role binds, as Vault would after a TokenReview.
        if account is None:
            raise denied()
        if not _bound(role["bound_service_account_namespaces"], account[0]):
            raise VaultError(403, ["namespace not authorized"])
        if not _bound(role["bound_service_account_names"], account[1]):
            raise VaultError(403, ["service account name not authorized"])
        policies = role["token_policies"]
    namespace, name = account or ("", "")
    meta = {
        "role": role_name,
        "service_account_name": name,
        "service_account_namespace": namespace,
        "service_account_secret_name": "",
        "service_account_uid": "",
    }
    token = vault.issue(
        policies, ttl=role["token_ttl"], path=f"auth/{mount}/login", meta=meta, namespace=request.namespace
    )
    return envelope(None, mount_type="kubernetes", auth=token.auth())


def _bound(allowed: list[str], value: str) -> bool:
    return "*" in allowed or value in allowed

"""The demo Vault: Vault's HTTP API (v1) on 127.0.0.1, so hvac and every line of the real Vault code run in the demo.

It serves what idp-tui uses, in the shapes HashiCorp documents: ``sys/health``, ACL policies, KV v2 on any mount
(versions and metadata), token lookup/renewal, AppRole and Kubernetes login, and Kubernetes auth roles. Tokens are
checked against their policies with Vault's path-matching rules. Policies, secrets and Kubernetes roles can persist
in a JSON file so the demo keeps what golden paths created; tokens and AppRoles live in memory only.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from idp_tui.secrets.demo_vault.acl import (
    DEFAULT_POLICY,
    DEFAULT_TTL,
    PERMISSION_DENIED,
    PolicyError,
    Token,
    VaultError,
    capabilities_for,
    denied,
    jwt_service_account,
    kubernetes_role,
    new_token_id,
    parse_policy,
    relative_path,
    seconds,
    vault_time,
)

VERSION = "1.17.6"
CLUSTER_NAME = "vault-cluster-demo"
# Request fields that carry credentials: the request log keeps that they were sent, not what they were.
MASKED_FIELDS = ("secret_id", "jwt", "token")
MASK = "<masked>"


@dataclass
class Recorded:
    """One request as the demo Vault received it (tests assert on what the client sent)."""

    method: str
    path: str  # without the /v1/ prefix
    query: dict[str, str]
    body: Any  # the JSON body with secret values and credentials masked, or None
    # Every header, X-Vault-Token included: the demo's tokens are test fakes, never real credentials.
    headers: dict[str, str]
    status: int = 0


@dataclass
class Request:
    """A parsed API request, handed to the routes."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    token: str | None
    namespace: str = ""

    @property
    def is_list(self) -> bool:
        """Vault treats ``GET ...?list=true`` exactly like the LIST verb."""
        return self.method == "LIST" or (self.method == "GET" and self.query.get("list") in ("true", "1"))


@dataclass
class AppRole:
    role_id: str
    secret_id: str
    policies: list[str]


def empty_namespace() -> dict[str, Any]:
    """A namespace's persistent state; it starts with Vault's built-in ``default`` policy."""
    return {"policies": {"default": DEFAULT_POLICY}, "kv": {}, "kubernetes_roles": {}}


class DemoVault:
    """A local, in-memory Vault speaking the HTTP API, with control hooks for tests and the demo.

    Args:
        store_file: JSON file holding policies, secrets and Kubernetes roles; loaded now, rewritten (atomically)
            after every change. None keeps everything in memory.
        root_token: The token that may do anything (Vault's root policy).
        seed: Fill an empty store with the demo organisation's policies and secrets from ``demo_catalog/vault.yaml``.
    """

    def __init__(self, store_file: Path | None = None, *, root_token: str = "demo-root-token", seed: bool = False):
        self.store_file = Path(store_file) if store_file is not None else None
        self.root_token = root_token
        self.url = ""
        self.requests: list[Recorded] = []
        self.sealed = False
        self.lock = threading.RLock()
        self.tokens: dict[str, Token] = {}
        self.approles: dict[str, AppRole] = {}
        # (auth mount, role, jwt) -> policies: logins a test or the demo declared valid.
        self.kubernetes_logins: dict[tuple[str, str, str], list[str]] = {}
        self.cluster_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "idp-tui-demo-vault"))
        self._autosave = True
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.state = self._load()
        self.tokens[root_token] = Token(
            root_token, ["root"], ttl=0, renewable=False, path="auth/token/root", display_name="root"
        )
        if seed:
            from idp_tui.secrets.demo_vault.seed import seed_demo_vault

            seed_demo_vault(self)

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on 127.0.0.1 and a free port in a daemon thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.vault = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-vault", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        """Stop serving (the store file already holds every change)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoVault:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control API (tests and the demo) ----------------------------------------------------------------------

    def seal(self) -> None:
        """Every request but ``sys/health`` and ``sys/seal-status`` now gets 503 "Vault is sealed"."""
        self.sealed = True

    def unseal(self) -> None:
        self.sealed = False

    def add_token(self, token: str, policies: list[str], ttl: int = 3600, renewable: bool = True) -> None:
        """Accept ``token`` with exactly these policies for ``ttl`` seconds (0: no expiry)."""
        with self.lock:
            self.tokens[token] = Token(token, list(policies), ttl=ttl, renewable=renewable)

    def expire(self, token: str) -> None:
        """End a token's TTL now: later requests with it get 403 permission denied."""
        with self.lock:
            self.tokens[token].expires = 0.0

    def add_approle(self, role_name: str, role_id: str, secret_id: str, policies: list[str]) -> None:
        """Make ``auth/approle/login`` with this role_id and secret_id succeed."""
        with self.lock:
            self.approles[role_name] = AppRole(role_id, secret_id, list(policies))

    def add_kubernetes_login(self, role_name: str, jwt: str, policies: list[str], mount: str = "kubernetes") -> None:
        """Make ``auth/<mount>/login`` with this role and service-account JWT succeed; creates the role if missing."""
        with self.lock:
            self.kubernetes_logins[(mount, role_name, jwt)] = list(policies)
            roles = self.namespace_state("")["kubernetes_roles"].setdefault(mount, {})
            if role_name not in roles:
                bound = {"bound_service_account_names": ["*"], "bound_service_account_namespaces": ["*"]}
                roles[role_name] = kubernetes_role({}, {**bound, "policies": policies})
                self.save()

    def write_policy(self, name: str, hcl: str, *, namespace: str = "") -> None:
        """Store an ACL policy (validated like Vault; raises PolicyError on bad HCL)."""
        parse_policy(hcl)
        with self.lock:
            self.namespace_state(namespace)["policies"][name.lower()] = hcl
            self.save()

    def policy(self, name: str, *, namespace: str = "") -> str | None:
        """An ACL policy's text, or None."""
        with self.lock:
            return self.namespace_state(namespace)["policies"].get(name.lower())

    def write_secret(
        self, mount: str, path: str, data: dict, *, at: datetime | None = None, namespace: str = ""
    ) -> None:
        """Write a new KV v2 version of ``mount/path`` (``at`` backdates it, for seeded history)."""
        with self.lock:
            kv_write(self.kv_mount(namespace, mount), path.strip("/"), data, at=at)
            self.save()

    def is_empty(self) -> bool:
        """True when the root namespace holds no secrets and no policies beyond Vault's built-in ones."""
        root = self.namespace_state("")
        return not any(root["kv"].values()) and set(root["policies"]) <= {"default"}

    # -- state and persistence -----------------------------------------------------------------------------------

    def namespace_state(self, namespace: str) -> dict[str, Any]:
        """One namespace's policies, KV mounts and Kubernetes roles (namespaces spring into being on first use)."""
        namespaces = self.state["namespaces"]
        if namespace not in namespaces:
            namespaces[namespace] = empty_namespace()
        return namespaces[namespace]

    def kv_mount(self, namespace: str, mount: str) -> dict[str, Any]:
        return self.namespace_state(namespace)["kv"].setdefault(mount, {})

    def _load(self) -> dict[str, Any]:
        if self.store_file is not None and self.store_file.exists():
            try:
                state = json.loads(self.store_file.read_text(encoding="utf-8"))
                if isinstance(state, dict) and isinstance(state.get("namespaces"), dict):
                    return state
            except ValueError:
                pass
            # Keep an unreadable store for inspection rather than silently overwriting it.
            self.store_file.replace(self.store_file.with_suffix(self.store_file.suffix + ".corrupt"))
        return {"format": 1, "namespaces": {"": empty_namespace()}}

    def save(self) -> None:
        """Write the whole state to the store file atomically (a crash never leaves half a file)."""
        if self.store_file is None or not self._autosave:
            return
        self.store_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.store_file.with_name(f".{self.store_file.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.store_file)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make many changes and save once at the end (seeding writes dozens of versions)."""
        with self.lock:
            self._autosave = False
            try:
                yield
            finally:
                self._autosave = True
                self.save()

    # -- requests ------------------------------------------------------------------------------------------------

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.requests.append(entry)

    def handle(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """Answer one request: (status, JSON body or None for 204)."""
        with self.lock:
            try:
                return route(self, request)
            except VaultError as error:
                return error.status, error.payload
            except PolicyError as error:
                return 400, {"errors": [str(error)]}
            except (TypeError, ValueError) as error:  # a parameter of the wrong type ("cas": "x", "versions": [{}])
                return 400, {"errors": [f"invalid request: {error}"]}
            except Exception as error:  # noqa: BLE001 - a demo bug must answer 500 like Vault, not drop the connection
                return 500, {"errors": [f"internal error: {error!r}"]}

    def token_for(self, request: Request) -> Token:
        """The request's token; 403 for a missing, unknown or expired one."""
        token = self.tokens.get(request.token or "")
        if token is None or not token.valid():
            raise denied()
        return token

    def issue(self, policies: list[str], *, ttl: int, path: str, meta: dict[str, str], namespace: str) -> Token:
        """A login's new token; Vault adds the ``default`` policy to every token a login issues."""
        token = Token(
            new_token_id(),
            sorted({"default", *policies}),
            ttl=ttl or DEFAULT_TTL,
            renewable=True,
            path=path,
            display_name=path.split("/")[1],
            namespace=namespace,
            meta=meta,
        )
        self.tokens[token.id] = token
        return token

    def authorize(self, request: Request, capability: str, acl_path: str | None = None) -> Token:
        """The request's token, if its policies grant ``capability`` on the path.

        Raises:
            VaultError: 403 for a missing, unknown or expired token, or a policy that does not allow it.
        """
        token = self.token_for(request)
        if token.is_root:
            return token
        path = relative_path(token.namespace, request.namespace, acl_path or request.path)
        policies = self.namespace_state(token.namespace)["policies"]
        texts = [policies[name] for name in token.policies if name in policies]
        if path is None or capability not in capabilities_for(texts, path):
            raise VaultError(403, [PERMISSION_DENIED])
        return token

    def health(self) -> dict[str, Any]:
        """The body of ``sys/health``."""
        import time

        body: dict[str, Any] = {
            "initialized": True,
            "sealed": self.sealed,
            "standby": self.sealed,
            "performance_standby": False,
            "replication_performance_mode": "unknown" if self.sealed else "disabled",
            "replication_dr_mode": "unknown" if self.sealed else "disabled",
            "server_time_utc": int(time.time()),
            "version": VERSION,
            "enterprise": False,
            "echo_duration_ms": 0,
            "clock_skew_ms": 0,
        }
        if not self.sealed:  # a sealed Vault cannot read its cluster identity
            body.update(cluster_name=CLUSTER_NAME, cluster_id=self.cluster_id)
        return body


# -- routes: sys -------------------------------------------------------------------------------------------------------

Response = tuple[int, dict[str, Any] | None]
NO_CONTENT: Response = (204, None)
UNSUPPORTED = "1 error occurred:\n\t* unsupported path\n\n"
UNSUPPORTED_OPERATION = "1 error occurred:\n\t* unsupported operation\n\n"
KV_V1_WARNING = (
    "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. "
    "If using the Vault CLI, use 'vault kv get' for this operation."
)


def envelope(
    data: Any = None, *, mount_type: str = "", auth: dict | None = None, warnings: list[str] | None = None
) -> Response:
    """A 200 answer in Vault's response envelope."""
    body = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": warnings,
        "auth": auth,
        "mount_type": mount_type,
    }
    return 200, body


def route(vault: DemoVault, request: Request) -> Response:
    """Send a request to its endpoint: ``sys/``, ``auth/<mount>/`` or a KV v2 mount (any other first segment)."""
    parts = request.path.split("/")
    if request.path in ("sys/health", "sys/seal-status"):  # unauthenticated, and answered even when sealed
        return _status(vault, request)
    if vault.sealed:
        raise VaultError(503, ["Vault is sealed"])
    if parts[0] == "sys":
        return _sys(vault, request, parts[1:])
    if parts[0] == "auth":
        return _auth(vault, request, parts[1:])
    return _kv(vault, request, parts[0], parts[1:])


def _capability(request: Request, exists: bool) -> str:
    """The ACL capability a request needs; a write needs ``create`` or ``update`` depending on existence."""
    if request.is_list:
        return "list"
    return {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(request.method, "update" if exists else "create")


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
    if parts[:2] == ["policies", "acl"]:
        return _acl_policy(vault, request, "/".join(parts[2:]), legacy=False)
    if parts[:1] == ["policy"]:  # the pre-0.10 path, which hvac's sys.read_policy & co. still use
        return _acl_policy(vault, request, "/".join(parts[1:]), legacy=True)
    vault.authorize(request, _capability(request, True))
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
        vault.authorize(request, _capability(request, name in policies), path)
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


def _auth(vault: DemoVault, request: Request, parts: list[str]) -> Response:
    mount, rest = (parts[0] if parts else ""), "/".join(parts[1:])
    if mount == "token":
        return _token(vault, request, rest)
    if mount == "approle" and rest == "login":
        return _approle_login(vault, request)
    if mount and mount != "approle":  # every other auth mount is a Kubernetes auth method (the mount is configurable)
        return _kubernetes(vault, request, mount, rest)
    vault.authorize(request, _capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _token(vault: DemoVault, request: Request, rest: str) -> Response:
    # Vault's default policy lets every token look itself up and renew itself; these need no other grant.
    token = vault.token_for(request)
    if rest == "lookup-self" and request.method in ("GET", "POST"):
        return envelope(token.lookup(), mount_type="token")
    if rest == "renew-self" and request.method in ("POST", "PUT"):
        if not token.renewable:
            raise VaultError(400, ["lease is not renewable"])
        token.renew(seconds(request.body.get("increment"), "increment"))
        return envelope(None, mount_type="token", auth=token.auth())
    vault.authorize(request, _capability(request, True))
    raise VaultError(404, [UNSUPPORTED])


def _approle_login(vault: DemoVault, request: Request) -> Response:
    role_id, secret_id = request.body.get("role_id"), request.body.get("secret_id")
    if not role_id:
        raise VaultError(400, ["missing role_id"])
    found = next(((name, role) for name, role in vault.approles.items() if role.role_id == role_id), None)
    if found is None or found[1].secret_id != secret_id:
        raise VaultError(400, ["invalid role or secret ID"])
    name, role = found
    meta = {"role_name": name}
    token = vault.issue(role.policies, ttl=0, path="auth/approle/login", meta=meta, namespace=request.namespace)
    return envelope(None, mount_type="approle", auth=token.auth())


def _kubernetes(vault: DemoVault, request: Request, mount: str, rest: str) -> Response:
    roles = vault.namespace_state(request.namespace)["kubernetes_roles"].get(mount, {})
    if rest == "login" and request.method in ("POST", "PUT"):
        return _kubernetes_login(vault, request, mount, roles)
    if rest.split("/")[0] != "role":
        vault.authorize(request, _capability(request, True))
        raise VaultError(404, [UNSUPPORTED])
    name = rest.removeprefix("role").strip("/")
    if not name:
        if not request.is_list:
            raise VaultError(405, [UNSUPPORTED_OPERATION])
        vault.authorize(request, "list", f"auth/{mount}/role/")
        if not roles:
            raise VaultError(404)
        return envelope({"keys": sorted(roles)}, mount_type="kubernetes")
    vault.authorize(request, _capability(request, name in roles), f"auth/{mount}/role/{name}")
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


# -- routes: KV v2 -----------------------------------------------------------------------------------------------------


def _kv(vault: DemoVault, request: Request, mount: str, parts: list[str]) -> Response:
    operation, path = (parts[0] if parts else ""), "/".join(parts[1:])
    store = vault.namespace_state(request.namespace)["kv"].get(mount, {})
    if operation == "metadata" and request.is_list:
        vault.authorize(request, "list", request.path + "/")  # Vault checks LIST on the path with a trailing "/"
        keys = kv_list(store, path)
        if not keys:
            raise VaultError(404)
        return envelope({"keys": keys}, mount_type="kv")
    vault.authorize(request, _capability(request, path in store))
    if operation == "data" and path:
        return _kv_data(vault, request, mount, path)
    if operation == "metadata" and path:
        return _kv_metadata(vault, request, mount, path)
    if operation in ("delete", "undelete", "destroy") and path and request.method in ("POST", "PUT"):
        versions = request.body.get("versions")
        if not versions:
            raise VaultError(400, ["no version number provided"])
        if path in store:
            kv_change_versions(store[path], operation, [int(version) for version in versions])
            vault.save()
        return NO_CONTENT
    if operation == "config" and request.method == "GET":
        return envelope({"cas_required": False, "delete_version_after": "0s", "max_versions": 0}, mount_type="kv")
    # What a KV v2 mount answers to a KV v1-style path (no data/ or metadata/ segment).
    _, body = envelope(None, mount_type="kv", warnings=[KV_V1_WARNING])
    raise VaultError(404, payload=body)


def _kv_data(vault: DemoVault, request: Request, mount: str, path: str) -> Response:
    store = vault.kv_mount(request.namespace, mount)
    if request.method == "GET":
        version = request.query.get("version", "0")
        return envelope(kv_read(store.get(path), int(version) if version.isdigit() else 0), mount_type="kv")
    if request.method in ("POST", "PUT"):
        data = request.body.get("data")
        if not isinstance(data, dict):
            raise VaultError(400, ["no data provided"])
        cas = (request.body.get("options") or {}).get("cas")
        written = kv_write(store, path, data, cas=None if cas is None else int(cas))
        vault.save()
        return envelope(written, mount_type="kv")
    if request.method == "DELETE":  # soft-deletes the current version
        if path in store:
            kv_change_versions(store[path], "delete", [store[path]["current_version"]])
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


def _kv_metadata(vault: DemoVault, request: Request, mount: str, path: str) -> Response:
    store = vault.kv_mount(request.namespace, mount)
    if request.method == "GET":
        if path not in store:
            raise VaultError(404)
        return envelope(kv_metadata(store[path]), mount_type="kv")
    if request.method in ("POST", "PUT"):
        record = store.setdefault(path, new_record(vault_time()))
        for key in ("max_versions", "cas_required", "custom_metadata"):
            if key in request.body:
                record[key] = request.body[key]
        if "delete_version_after" in request.body:
            record["delete_version_after"] = f"{seconds(request.body['delete_version_after'], 'delete_version_after')}s"
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":  # every version and the metadata
        if store.pop(path, None) is not None:
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


# -- the KV v2 engine: records are plain JSON, so the store file holds them as they are ---------------------------

DEFAULT_MAX_VERSIONS = 10


def new_record(now: str) -> dict[str, Any]:
    return {
        "cas_required": False,
        "created_time": now,
        "current_version": 0,
        "custom_metadata": None,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 0,
        "updated_time": now,
        "versions": {},
    }


def kv_write(
    store: dict[str, Any], path: str, data: dict, *, cas: int | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """Add a version to ``path``; returns the new version's metadata (the write response's ``data``)."""
    record = store.get(path)
    current = record["current_version"] if record else 0
    if cas is None and record and record["cas_required"]:
        raise VaultError(400, ["check-and-set parameter required for this call"])
    if cas is not None and cas != current:
        raise VaultError(400, ["check-and-set parameter did not match the current version"])
    now = vault_time(at)
    record = store.setdefault(path, new_record(now))
    version = current + 1
    entry = {"created_time": now, "deletion_time": "", "destroyed": False, "data": dict(data)}
    record["versions"][str(version)] = entry
    record.update(current_version=version, updated_time=now)
    keep = record["max_versions"] or DEFAULT_MAX_VERSIONS
    while len(record["versions"]) > keep:  # the oldest versions go, as Vault prunes past max_versions
        del record["versions"][str(min(int(number) for number in record["versions"]))]
        record["oldest_version"] = min(int(number) for number in record["versions"])
    return version_metadata(record, version)


def version_metadata(record: dict[str, Any], version: int) -> dict[str, Any]:
    entry = record["versions"][str(version)]
    return {
        "created_time": entry["created_time"],
        "custom_metadata": record["custom_metadata"],
        "deletion_time": entry["deletion_time"],
        "destroyed": entry["destroyed"],
        "version": version,
    }


def kv_read(record: dict[str, Any] | None, version: int) -> dict[str, Any]:
    """The ``data`` of a read; a deleted or destroyed version is a 404 that still carries its metadata."""
    version = version or (record["current_version"] if record else 0)
    if record is None or str(version) not in record["versions"]:
        raise VaultError(404)
    entry = record["versions"][str(version)]
    metadata = version_metadata(record, version)
    if entry["deletion_time"] or entry["destroyed"]:
        _, body = envelope({"data": None, "metadata": metadata}, mount_type="kv")
        raise VaultError(404, payload=body)
    return {"data": dict(entry["data"]), "metadata": metadata}


def kv_metadata(record: dict[str, Any]) -> dict[str, Any]:
    versions = {
        number: {key: entry[key] for key in ("created_time", "deletion_time", "destroyed")}
        for number, entry in record["versions"].items()
    }
    return {**{key: value for key, value in record.items() if key != "versions"}, "versions": versions}


def kv_list(store: dict[str, Any], path: str) -> list[str]:
    """The keys directly under ``path``; a deeper secret shows as its folder with a trailing ``/``."""
    prefix = path.strip("/") + "/" if path.strip("/") else ""
    keys = set()
    for stored in store:
        if stored.startswith(prefix):
            head, slash, _ = stored[len(prefix) :].partition("/")
            keys.add(head + slash)
    return sorted(keys)


def kv_change_versions(record: dict[str, Any], operation: str, versions: list[int]) -> None:
    """Soft-delete, undelete or destroy (drop the data of) the given versions."""
    for number in versions:
        entry = record["versions"].get(str(number))
        if entry is None or entry["destroyed"]:
            continue
        if operation == "delete":
            entry["deletion_time"] = entry["deletion_time"] or vault_time()
        elif operation == "undelete":
            entry["deletion_time"] = ""
        else:
            entry.update(destroyed=True, data={})


def _masked(path: str, body: Any) -> Any:
    """The body as the request log keeps it: KV values and login credentials replaced, keys and shape kept."""
    if not isinstance(body, dict):
        return body
    masked = {key: MASK if key in MASKED_FIELDS else value for key, value in body.items()}
    parts = path.split("/")
    if len(parts) > 1 and parts[0] not in ("sys", "auth") and parts[1] == "data" and isinstance(body.get("data"), dict):
        masked["data"] = dict.fromkeys(body["data"], MASK)
    return masked


class _Handler(BaseHTTPRequestHandler):
    """One connection; ``server.vault`` is the owning DemoVault."""

    protocol_version = "HTTP/1.1"
    server_version = "idp-tui-demo-vault"

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and the client's delayed ACK hold every small response for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        """Silence the default stderr access log (it would scribble over the TUI)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_LIST(self) -> None:  # noqa: N802 - Vault's own verb, which hvac sends
        self._handle("LIST")

    def do_PATCH(self) -> None:  # noqa: N802 - not served (hvac patches by read + write), but answered Vault-style
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        vault: DemoVault = self.server.vault  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = url.path.removeprefix("/v1/").strip("/") if url.path.startswith("/v1/") else ""
        body, error = _parse_body(raw)
        entry = Recorded(method, path, query, _masked(path, body), dict(self.headers.items()))
        vault.record(entry)
        if not path:
            status, payload = 404, {"errors": []}
        elif error:
            status, payload = 400, {"errors": [error]}
        else:
            namespace = (self.headers.get("X-Vault-Namespace") or "").strip("/")
            request = Request(method, path, query, body or {}, self.headers.get("X-Vault-Token"), namespace)
            status, payload = vault.handle(request)
        entry.status = status
        self._send(status, payload, with_body=method != "HEAD")

    def _send(self, status: int, payload: dict[str, Any] | None, *, with_body: bool) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Cache-Control", "no-store")
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data) if with_body else 0))
        self.end_headers()
        if with_body and data:
            self.wfile.write(data)


def _parse_body(raw: bytes) -> tuple[Any, str | None]:
    if not raw.strip():
        return None, None
    try:
        body = json.loads(raw)
    except ValueError as error:
        return None, f"failed to parse JSON input: {error}"
    return body, None if isinstance(body, dict) else "failed to parse JSON input: expected an object"


__all__ = ["DemoVault", "Recorded", "Request"]

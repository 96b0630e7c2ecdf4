"""The demo Vault: Vault's HTTP API (v1) on 127.0.0.1, so hvac and every line of the real Vault code run in the demo.

It serves what idp-tui uses, in the shapes Vault answers (checked against a real OpenBao by the test suite's Vault
contract): ``sys/health``, ACL policies, mount tables (``sys/mounts``, ``sys/auth``, ``sys/internal/ui/mounts``),
``sys/capabilities-self``, KV version 1 and 2 engines where they are mounted, token lookup/renewal, and AppRole and
Kubernetes auth where those methods are enabled. Tokens are checked against their policies with Vault's
path-matching rules. Policies, mounts, secrets and Kubernetes roles can persist in a JSON file so the demo keeps what
golden paths created; tokens and AppRoles live in memory only.

This module holds the DemoVault itself, its persistence and the HTTP plumbing; the endpoints live in ``routes``
(``sys/`` and ``auth/``), ``mounts`` (the mount tables) and ``kv`` (the KV engines), their shared shapes in
``protocol``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from idp_tui.local_http import LocalRequestHandler, LocalServer
from idp_tui.secrets.demo_vault import mounts
from idp_tui.secrets.demo_vault.acl import (
    DEFAULT_POLICY,
    DEFAULT_TTL,
    PERMISSION_DENIED,
    PolicyError,
    Token,
    VaultError,
    capabilities_for,
    denied,
    kubernetes_role,
    new_token_id,
    parse_policy,
    relative_path,
)
from idp_tui.secrets.demo_vault.kv import kv_write
from idp_tui.secrets.demo_vault.protocol import Request
from idp_tui.secrets.demo_vault.routes import route

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
class AppRole:
    """An AppRole login the demo accepts: the ``role_id`` and ``secret_id`` pair grants ``policies``."""

    role_id: str
    secret_id: str
    policies: list[str]
    mount: str = "approle"


def empty_namespace(root: bool = True) -> dict[str, Any]:
    """A namespace's persistent state: Vault's built-in ``default`` policy and a new namespace's mounts (the root
    namespace also has ``secret/``, KV version 2, as a dev-mode Vault does)."""
    engines, methods = mounts.default_tables(root)
    policies = {"default": DEFAULT_POLICY}
    return {"policies": policies, "kv": {}, "kubernetes_roles": {}, "mounts": engines, "auth": methods}


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
        self._server: LocalServer | None = None
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
        self._server = LocalServer(_Handler, name="demo-vault", vault=self)
        self.url = self._server.start()
        return self.url

    def stop(self) -> None:
        """Stop serving (the store file already holds every change)."""
        if self._server is not None:
            self._server.stop()
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
        """Answer requests again after :meth:`seal`."""
        self.sealed = False

    def add_token(self, token: str, policies: list[str], ttl: int = 3600, renewable: bool = True) -> None:
        """Accept ``token`` with exactly these policies for ``ttl`` seconds (0: no expiry)."""
        with self.lock:
            self.tokens[token] = Token(token, list(policies), ttl=ttl, renewable=renewable)

    def expire(self, token: str) -> None:
        """End a token's TTL now: later requests with it get 403 permission denied."""
        with self.lock:
            self.tokens[token].expires = 0.0

    def add_approle(
        self, role_name: str, role_id: str, secret_id: str, policies: list[str], mount: str = "approle"
    ) -> None:
        """Make ``auth/<mount>/login`` with this role_id and secret_id succeed (enabling AppRole there if nothing
        is mounted at ``auth/<mount>``, as an operator would have)."""
        with self.lock:
            self.ensure_auth(mount, "approle")
            self.approles[role_name] = AppRole(role_id, secret_id, list(policies), mount)

    def add_kubernetes_login(self, role_name: str, jwt: str, policies: list[str], mount: str = "kubernetes") -> None:
        """Make ``auth/<mount>/login`` with this role and service-account JWT succeed; creates the role if missing
        (and enables Kubernetes auth there if nothing is mounted at ``auth/<mount>``)."""
        with self.lock:
            self.ensure_auth(mount, "kubernetes")
            self.kubernetes_logins[(mount, role_name, jwt)] = list(policies)
            roles = self.namespace_state("")["kubernetes_roles"].setdefault(mount, {})
            if role_name not in roles:
                bound = {"bound_service_account_names": ["*"], "bound_service_account_namespaces": ["*"]}
                roles[role_name] = kubernetes_role({}, {**bound, "token_policies": policies})
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
        """Write ``mount/path`` on the KV engine mounted there: a new version on KV v2 (``at`` backdates it, for
        seeded history), the value itself on KV v1.

        Raises:
            ValueError: no KV engine is mounted at ``mount``.
        """
        with self.lock:
            entry = self.namespace_state(namespace)["mounts"].get(mounts.normal(mount))
            version = mounts.kv_version(entry) if entry else None
            if version is None:
                raise ValueError(f"no KV engine is mounted at {mount}/")
            store = self.kv_mount(namespace, mount)
            if version == 1:
                store[path.strip("/")] = {"data": dict(data)}
            else:
                kv_write(store, path.strip("/"), data, at=at)
            self.save()

    def enable_mount(self, path: str, kind: str, options: dict | None = None, *, namespace: str = "") -> None:
        """Mount a secrets engine (``kind`` ``kv`` with ``{"version": "1"}`` or ``"2"``), as ``sys/mounts`` does."""
        with self.lock:
            mounts.enable(self.namespace_state(namespace)["mounts"], path, kind, options, auth=False)
            self.save()

    def enable_auth(self, path: str, method: str, *, namespace: str = "") -> None:
        """Enable an auth method (``approle``, ``kubernetes``) at ``auth/<path>``, as ``sys/auth`` does."""
        with self.lock:
            mounts.enable(self.namespace_state(namespace)["auth"], path, method, None, auth=True)
            self.save()

    def disable_mount(self, path: str, *, namespace: str = "") -> None:
        """Unmount a secrets engine and drop everything stored in it (as Vault does)."""
        self.disable(namespace, path, auth=False)

    def disable_auth(self, path: str, *, namespace: str = "") -> None:
        """Disable an auth method: its roles go, and so do the tokens its logins issued."""
        self.disable(namespace, path, auth=True)

    def disable(self, namespace: str, path: str, *, auth: bool) -> None:
        """Disable the secrets engine (or, with ``auth``, the auth method) at ``path`` in ``namespace``.

        What it held goes with it: an engine's secrets; an auth method's roles, AppRoles and the tokens its
        logins issued. Nothing happens when nothing is mounted there.
        """
        path = mounts.normal(path)
        with self.lock:
            state = self.namespace_state(namespace)
            if state["auth" if auth else "mounts"].pop(path, None) is None:
                return
            name = path.rstrip("/")
            if auth:
                state["kubernetes_roles"].pop(name, None)
                self.approles = {key: role for key, role in self.approles.items() if role.mount != name}
                logins = f"auth/{path}"
                self.tokens = {key: token for key, token in self.tokens.items() if not token.path.startswith(logins)}
            else:
                state["kv"].pop(name, None)
            self.save()

    def ensure_auth(self, mount: str, method: str) -> None:
        """Enable ``method`` at ``auth/<mount>`` unless something is mounted there already."""
        methods = self.namespace_state("")["auth"]
        if mounts.normal(mount) not in methods:
            mounts.enable(methods, mount, method, None, auth=True)

    def policy_texts(self, token: Token) -> list[str]:
        """The texts of the token's policies, as its namespace holds them."""
        policies = self.namespace_state(token.namespace)["policies"]
        return [policies[name] for name in token.policies if name in policies]

    def is_empty(self) -> bool:
        """True when the root namespace holds no secrets and no policies beyond Vault's built-in ones."""
        root = self.namespace_state("")
        return not any(root["kv"].values()) and set(root["policies"]) <= {"default"}

    # -- state and persistence -----------------------------------------------------------------------------------

    def namespace_state(self, namespace: str) -> dict[str, Any]:
        """One namespace's policies, mounts, KV data and Kubernetes roles (namespaces spring into being on first
        use, with a new namespace's mounts)."""
        namespaces = self.state["namespaces"]
        if namespace not in namespaces:
            namespaces[namespace] = empty_namespace(root=not namespace)
        state = namespaces[namespace]
        mounts.migrate(state, root=not namespace)
        return state

    def kv_mount(self, namespace: str, mount: str) -> dict[str, Any]:
        """The stored data of the KV engine at ``mount`` (keyed by path within it)."""
        return self.namespace_state(namespace)["kv"].setdefault(mount.strip("/"), {})

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

    def kv_version_at(self, namespace: str, path: str) -> int | None:
        """The KV version of the engine serving ``path`` (None: no KV engine there)."""
        with self.lock:
            found = mounts.find(self.namespace_state(namespace)["mounts"], path)
            return mounts.kv_version(found[1]) if found else None

    def record(self, entry: Recorded) -> None:
        """Keep one request (credentials masked) in :attr:`requests`, for tests to see what was sent."""
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
        if path is None or capability not in capabilities_for(self.policy_texts(token), path):
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


def _masked(path: str, body: Any, kv_version: int | None) -> Any:
    """The body as the request log keeps it: KV values and login credentials replaced, keys and shape kept."""
    if not isinstance(body, dict):
        return body
    if kv_version == 1:  # the body is the secret itself
        return dict.fromkeys(body, MASK)
    masked = {key: MASK if key in MASKED_FIELDS else value for key, value in body.items()}
    secret_path = path.split("/")[0] not in ("sys", "auth") and "/data/" in f"/{path}/"
    if secret_path and isinstance(body.get("data"), dict):  # KV v2 (or a path under no mount, to be safe)
        masked["data"] = dict.fromkeys(body["data"], MASK)
    return masked


class _Handler(LocalRequestHandler):
    """One connection; ``server.vault`` is the owning DemoVault."""

    server_version = "idp-tui-demo-vault"

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
        namespace = (self.headers.get("X-Vault-Namespace") or "").strip("/")
        masked = _masked(path, body, vault.kv_version_at(namespace, path))
        entry = Recorded(method, path, query, masked, dict(self.headers.items()))
        vault.record(entry)
        if not path:
            status, payload = 404, {"errors": []}
        elif error:
            status, payload = 400, {"errors": [error]}
        else:
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

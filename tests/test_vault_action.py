"""``vault:provision`` in a golden path, through the local runner and hvac against the demo Vault: it creates the
path, policy and role only when every step succeeded, a dry run writes nothing and shows the policy, a conflict
fails the step before anything is written, and the article's ``/api/vault-provisioner`` route does the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_golden_runner import make_template

from idp_tui.golden.local import local_runner
from idp_tui.secrets.demo_vault.server import DemoVault
from idp_tui.secrets.vault import VaultSecretStore

WRITES = ("POST", "PUT", "DELETE")
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


@pytest.fixture
def vault():
    demo = DemoVault()
    demo.start()
    yield demo
    demo.stop()


def run(tmp_path: Path, vault: DemoVault, steps: list[dict], *, dry_run: bool = False, defaults=None):
    from idp_tui.catalog.model import Catalog

    store = VaultSecretStore(vault.url, token_provider=lambda: vault.root_token)
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


def writes(vault: DemoVault) -> list[str]:
    return [f"{r.method} {r.path}" for r in vault.requests if r.method in WRITES]


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

    defaults = VaultSettings(vault.url, None, {"method": "token"}, kubernetes_role=True, kubernetes_mount="k8s")
    step = {**PROVISION, "input": {"service": "billing", "team": "team-a"}}
    result, log = run(tmp_path, vault, [step], defaults=defaults)
    assert result.status == "completed", result.error
    assert result.steps[0].output["role"] == "billing"
    assert "POST auth/k8s/role/billing" in writes(vault) or "PUT auth/k8s/role/billing" in writes(vault)

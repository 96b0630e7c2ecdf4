"""Read-only mode sends no mutating request to any backend, says so in words, and cannot be left from inside.

Each backend is checked on the wire: the demo cluster's request log, the Vault's (a real OpenBao's audit log and
the demo Vault's request log: the ``vault`` contract fixture), and the local runner's publish root, registry and
state directory on disk.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from idp_tui.screens.golden_preview import PreviewScreen
from idp_tui.screens.task_run import TaskRunScreen
from test_deployments_tui import open_deployments
from test_golden_demo import DEMO_VALUES, assignments
from test_golden_tui import fill_to_review, open_article_form, wait_for
from test_tui import SIZE, _loaded, _text

from idp_tui.app import IdpApp
from idp_tui.cli import main
from idp_tui.golden.errors import RunRefused
from idp_tui.golden.read_only import ReadOnlyRunner
from idp_tui.session import Session
from idp_tui.widgets.deployment_list import DeploymentList

WRITES = ("PATCH", "PUT", "DELETE", "POST")
SERVICE = "template:default/microservice-golden-path"


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"])


# -- the TUI ---------------------------------------------------------------------------------------------------------


async def test_the_home_bar_says_read_only_in_words_and_nothing_turns_it_off():
    app = IdpApp(Session.for_catalog(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert "READ-ONLY" in _text(app.screen.query_one("#top-bar"))
        # No command in the palette (every enabled binding plus Textual's own) mentions the mode...
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles and not [t for t in titles if "read" in t.lower() or "writ" in t.lower()]
        # ...no binding on any screen or the app acts on it...
        nodes = (app, *app.screen_stack, *app.screen.walk_children())
        actions = [b.action for node in nodes for bs in node._bindings.key_to_bindings.values() for b in bs]
        assert "quit" in actions
        assert not [a for a in actions if "read" in a.lower()]
        # ...and the session it is kept on cannot be changed.
        with pytest.raises(dataclasses.FrozenInstanceError):
            app.session.read_only = False  # type: ignore[misc]
        assert app.session.read_only


async def test_without_read_only_there_is_no_badge():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert "READ-ONLY" not in _text(app.screen.query_one("#top-bar"))


async def test_a_golden_path_previews_but_does_not_run(tmp_path):
    app = IdpApp(Session.for_catalog(read_only=True, publish_root=tmp_path / "repos"))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_article_form(app, pilot)
        assert "READ-ONLY" in _text(form.query_one("#form-header"))
        await fill_to_review(pilot)
        assert form.in_review
        assert "cannot run golden paths" in _text(form.query_one("#form-description"))
        assert form.active_bindings["enter"].enabled is False  # shown dimmed in the footer, with the reason above

        await pilot.press("enter", "r")
        await pilot.pause(0.3)
        assert app.screen is form and not any(isinstance(s, TaskRunScreen) for s in app.screen_stack)
        assert any("Read-only mode" in str(n.message) for n in app._notifications)

        await pilot.press("p")  # the dry run still works
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen) and app.screen.result is not None)
        assert app.screen.result.status == "completed", app.screen.result.error
        assert "READ-ONLY" in _text(app.screen.query_one("#preview-title"))
    assert not (tmp_path / "repos").exists()
    registered = state_dir() / "idp-tui" / "registered"
    assert files_under(registered) == []


async def test_the_run_screen_itself_refuses_in_read_only(tmp_path):
    session = Session.for_catalog(read_only=True, publish_root=tmp_path / "repos")
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.catalog is not None)
        from idp_tui.golden.template import Template

        template = Template.from_entity(app.catalog.get(SERVICE))
        app.push_screen(TaskRunScreen(session, app.catalog, template, dict(DEMO_VALUES[SERVICE])))
        await wait_for(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None)
        assert app.screen.result.status == "failed" and "read-only" in app.screen.result.error
        assert "READ-ONLY" in _text(app.screen.query_one("#run-title"))
    assert not (tmp_path / "repos").exists()


async def test_deployments_keys_are_disabled_explain_themselves_and_send_nothing():
    app = IdpApp(Session.for_catalog(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        assert "READ-ONLY" in _text(screen.query_one("#deployments-title"))
        for key in ("R", "plus", "minus", "X"):
            assert screen.active_bindings[key].enabled is False
        await pilot.press("R", "plus", "minus")
        pod_row = next(i for i, row in enumerate(screen.rows) if row.kind == "pod")
        screen.query_one(DeploymentList).highlighted = pod_row
        await pilot.press("X")
        await pilot.pause(0.3)
        messages = [str(n.message) for n in app._notifications]
        assert any("not sent" in m and "rollout restart" in m for m in messages)
        assert any("not sent" in m and "delete pod" in m for m in messages)
        assert not [r for r in app.session.demo_cluster.requests if r["method"] in WRITES]
        commands = [c.title for c in app.get_system_commands(screen)]
        assert "Restart" not in commands and "Delete pod" not in commands
        app.session.close()


@pytest.mark.parametrize("kind", ["restart", "scale", "delete"])
def test_kube_actions_refuse_before_any_request(tmp_path, kind):
    from kubernetes import config

    from idp_tui.kube.actions import DeletePod, MutationRefused, RestartWorkload, ScaleWorkload
    from idp_tui.kube.demo_cluster.server import DemoCluster

    demo = DemoCluster()
    demo.start()
    try:
        kubeconfig = str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
        client = config.new_client_from_config(config_file=kubeconfig, context="demo-eu")
        action = {
            "restart": RestartWorkload("demo-eu", "Deployment", "checkout-platform", "checkout-web"),
            "scale": ScaleWorkload("demo-eu", "Deployment", "checkout-platform", "checkout-web", 5),
            "delete": DeletePod("demo-eu", "checkout-platform", "checkout-web-0"),
        }[kind]
        with pytest.raises(MutationRefused):
            action.apply(client, read_only=True)
        assert demo.requests == []
        client.close()
    finally:
        demo.stop()


# -- headless: the local runner --------------------------------------------------------------------------------------


def test_scaffold_is_refused_in_one_line_with_status_2(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    root = tmp_path / "repos"
    argv = ["--read-only", "scaffold", SERVICE, *assignments(DEMO_VALUES[SERVICE]), "--publish-root", str(root)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "read-only" in err and "--dry-run" in err
    assert not root.exists() and files_under(state_dir()) == []


def test_with_json_the_refusal_is_json_too(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    argv = ["--read-only", "scaffold", SERVICE, *assignments(DEMO_VALUES[SERVICE]), "--json"]
    assert main([*argv, "--publish-root", str(tmp_path / "repos")]) == 2
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert answer["status"] == "refused" and "read-only" in answer["error"] and "read-only" in err
    assert not (tmp_path / "repos").exists()


def test_the_environment_variable_and_the_profile_turn_it_on_too(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    argv = ["scaffold", SERVICE, *assignments(DEMO_VALUES[SERVICE]), "--publish-root", str(tmp_path / "repos")]
    monkeypatch.setenv("IDP_TUI_READ_ONLY", "1")
    assert main(argv) == 2
    monkeypatch.delenv("IDP_TUI_READ_ONLY")
    (tmp_path / "config.yaml").write_text("profiles:\n  locked:\n    read_only: true\n")
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "config.yaml"))
    assert main(["--profile", "locked", *argv]) == 2
    assert "read-only" in capsys.readouterr().err
    assert not (tmp_path / "repos").exists()


def test_scaffold_dry_run_still_works(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    root = tmp_path / "repos"
    argv = ["--read-only", "scaffold", SERVICE, *assignments(DEMO_VALUES[SERVICE]), "--publish-root", str(root)]
    assert main([*argv, "--dry-run"]) == 0
    assert "catalog-info.yaml" in capsys.readouterr().out
    assert not root.exists()
    assert files_under(state_dir() / "idp-tui" / "registered") == []


def test_the_runner_of_a_read_only_session_refuses_real_runs(tmp_path):
    session = Session.for_catalog(read_only=True, publish_root=tmp_path / "repos")
    catalog = session.catalog_source.load()
    runner = session.template_runner(catalog)
    assert isinstance(runner, ReadOnlyRunner)
    from idp_tui.golden.template import Template

    template = Template.from_entity(catalog.get(SERVICE))
    with pytest.raises(RunRefused):
        runner.run(template, dict(DEMO_VALUES[SERVICE]))
    assert not (tmp_path / "repos").exists()


# -- the Vault test server -------------------------------------------------------------------------------------------

PROVISION = {
    "id": "vault",
    "name": "Vault",
    "action": "vault:provision",
    "input": {"service": "billing", "team": "team-a", "kubernetesRole": True, "namespace": "billing"},
}
PROVISIONER_ROUTE = {
    "id": "vault",
    "name": "Create Vault namespace",
    "action": "http:backstage:request",
    "input": {
        "method": "POST",
        "path": "/api/vault-provisioner/namespace",
        "body": {"service": "billing", "team": "a"},
    },
}


@pytest.fixture(autouse=True)
def vault_from_environment(request, tmp_path, monkeypatch):
    """For the tests with a Vault: it is named by VAULT_ADDR and VAULT_TOKEN, beside a one-service catalog."""
    if "vault" not in request.fixturenames:
        return
    vault = request.getfixturevalue("vault")
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("VAULT_ADDR", vault.url)
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    (tmp_path / "c.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: billing}\n"
        "spec: {type: service, lifecycle: production, owner: team-a}\n"
    )


def vault_writes(vault) -> list[str]:
    return [e.line for e in vault.requests if e.operation in ("write", "delete") and not e.path.endswith("-self")]


@pytest.mark.parametrize("step", [PROVISION, PROVISIONER_ROUTE], ids=["vault:provision", "provisioner-route"])
def test_a_read_only_sessions_store_refuses_every_vault_write(tmp_path, vault, step):
    from test_golden_runner import make_template

    from idp_tui.golden.local import local_runner

    template = make_template(tmp_path, {"parameters": [], "steps": [step]})
    with Session.for_catalog(str(tmp_path / "c.yaml"), read_only=True, publish_root=tmp_path / "repos") as session:
        catalog = session.catalog_source.load()
        with pytest.raises(RunRefused):
            session.template_runner(catalog).run(template, {})
        preview = session.template_runner(catalog).run(template, {}, dry_run=True)
        assert preview.status == "completed", preview.error
        # Even a runner built around the guard (as a future caller might) cannot write through the store.
        unguarded = local_runner(
            catalog, publish_root=tmp_path / "repos", registry_dir=tmp_path / "reg", secret_store=session.secret_store
        )
        result = unguarded.run(template, {})
        assert result.status == "failed" and "read-only" in (result.error or "")
    assert vault_writes(vault) == [] and vault.policy("a-billing") is None and vault.policy("team-a-billing") is None


def test_the_store_says_read_only_and_listing_still_works(tmp_path, vault, capsys):
    import json

    from idp_tui.secrets.models import ProvisionRequest, SecretsError

    with Session.for_catalog(str(tmp_path / "c.yaml"), read_only=True) as session:
        with pytest.raises(SecretsError) as refused:
            session.secret_store().provision(ProvisionRequest(team="team-a", service="billing"))
        assert refused.value.kind == "read-only" and "read-only mode" in str(refused.value)
        assert (
            session.secret_store().provision(ProvisionRequest(team="team-a", service="billing"), dry_run=True).created
        )
    vault.write_secret("secret", "team-a/billing/db-password", {"password": "x"})
    status = main(["--read-only", "--catalog", str(tmp_path / "c.yaml"), "secrets", "billing", "--json"])
    assert status == 0
    assert [key["name"] for key in json.loads(capsys.readouterr().out)["keys"]] == ["db-password"]
    assert vault_writes(vault) == []

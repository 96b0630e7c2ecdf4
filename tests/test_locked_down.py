"""Locked-down hosts: a read-only home, XDG variables set or unset, no kubeconfig, a backend out of reach, no
terminal on stdout, SSH. The program still works and says what it did about it once.

CI runs as root, which chmod does not stop: an unwritable home is made by pointing it below a regular file (no one
can create a directory there), and in-process tests replace ``paths.writable``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_tui import SIZE, _loaded

from idp_tui import paths
from idp_tui.app import IdpApp
from idp_tui.cli import main
from idp_tui.session import Session

CATALOG = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
    "metadata: {name: billing, annotations: {backstage.io/kubernetes-id: billing}}\n"
    "spec: {type: service, lifecycle: production, owner: team-a}\n"
)


@pytest.fixture
def host(tmp_path: Path) -> dict[str, str]:
    """An environment with a home nobody can write (below a regular file), no XDG variables, a private TMPDIR."""
    (tmp_path / "a-file").write_text("")
    (tmp_path / "tmp").mkdir()
    (tmp_path / "c.yaml").write_text(CATALOG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "IDP_TUI_", "KUBECONFIG", "VAULT_"))}
    env.update(HOME=str(tmp_path / "a-file" / "home"), TMPDIR=str(tmp_path / "tmp"))
    env["IDP_TUI_CONFIG"] = str(tmp_path / "none.yaml")
    return env


def idp_tui(env: dict[str, str], *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "idp_tui", *argv], env=env, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "not writable" in line]


def test_a_read_only_home_without_xdg_variables_falls_back_to_tmp_with_one_line(host, tmp_path):
    done = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "catalog", "list", "--json")
    assert done.returncode == 0, done.stderr
    assert [e["metadata"]["name"] for e in json.loads(done.stdout)] == ["billing"]
    assert len(notices(done.stderr)) == 1 and done.stderr.count("\n") == 1
    fallback = tmp_path / "tmp" / f"idp-tui-{os.getuid()}"
    assert str(fallback) in done.stderr
    assert (fallback / "cache").is_dir() and (fallback / "state").is_dir()
    assert any((fallback / "cache").iterdir())  # the parsed-catalog cache is kept there instead


def test_xdg_variables_pointing_somewhere_unwritable(host, tmp_path):
    host.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "a-file" / "c"))
    host["XDG_STATE_HOME"] = str(tmp_path / "a-file" / "s")
    done = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "catalog", "list", "--json")
    assert done.returncode == 0, done.stderr
    [notice] = notices(done.stderr)
    assert "a-file/c/idp-tui" in notice and "a-file/s/idp-tui" in notice


def test_writable_xdg_variables_are_used_and_nothing_is_said(host, tmp_path):
    host.update(XDG_CACHE_HOME=str(tmp_path / "xc"), XDG_STATE_HOME=str(tmp_path / "xs"))
    done = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "catalog", "list", "--json")
    assert done.returncode == 0 and done.stderr == ""
    assert any((tmp_path / "xc" / "idp-tui").iterdir())


def test_the_notice_is_given_once_per_process(tmp_path, monkeypatch, capsys):
    refused = tmp_path / "refused"
    monkeypatch.setattr(paths, "writable", lambda path: refused not in path.parents and path != refused)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(refused / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(refused / "state"))
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    (tmp_path / "c.yaml").write_text(CATALOG)
    for _ in range(3):
        assert main(["--catalog", str(tmp_path / "c.yaml"), "catalog", "list", "--json"]) == 0
    assert len(notices(capsys.readouterr().err)) == 1
    assert paths.cache_home().parent.name.startswith("idp-tui-")


async def test_the_tui_works_on_a_read_only_home_and_notifies_once(tmp_path, monkeypatch):
    refused = tmp_path / "refused"
    monkeypatch.setattr(paths, "writable", lambda path: refused not in path.parents and path != refused)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(refused / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(refused / "state"))
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        app.load_catalog()  # a reload writes the cache again: still said only once
        await pilot.press("n")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause(0.3)
        said = [n for n in app._notifications if "not writable" in str(n.message)]
        assert len(said) == 1
    assert not refused.exists()


def test_no_kubeconfig_is_said_in_words(host, tmp_path):
    done = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "deployments", "billing")
    assert done.returncode == 2
    assert "no usable kubeconfig" in done.stderr and "Traceback" not in done.stderr


def test_a_vault_out_of_reach_fails_alone(host, tmp_path):
    host.update(VAULT_ADDR="http://127.0.0.1:9", VAULT_TOKEN="t")  # port 9 (discard): nothing listens
    secrets = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "secrets", "billing")
    assert secrets.returncode == 2 and "Traceback" not in secrets.stderr
    assert [line for line in secrets.stderr.splitlines() if "not writable" not in line]  # said why, in a line
    listing = idp_tui(host, "--catalog", str(tmp_path / "c.yaml"), "catalog", "list", "--json")
    assert listing.returncode == 0


# -- no terminal, SSH ------------------------------------------------------------------------------------------------


def test_without_a_terminal_the_tui_is_not_drawn_and_usage_is_printed(host, tmp_path):
    done = idp_tui(host, cwd=tmp_path)
    assert done.returncode == 0
    for command in ("catalog list", "who", "deployments", "logs", "scaffold", "secrets", "--help"):
        assert command in done.stdout
    assert "\x1b[" not in done.stdout  # no escape sequences: nothing was drawn


def _started_app(monkeypatch, argv: list[str]) -> IdpApp:
    """Run ``main`` as on a terminal, but stop the app before it draws; return the app it made."""
    started = []
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(IdpApp, "run", lambda self, *a, **k: started.append(self))
    assert main(argv) == 0
    return started[0]


def test_no_animations_flag_and_ssh_turn_animations_off(monkeypatch, tmp_path):
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    assert _started_app(monkeypatch, []).animation_level != "none"
    assert _started_app(monkeypatch, ["--no-animations"]).animation_level == "none"
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
    assert _started_app(monkeypatch, []).animation_level == "none"


async def test_over_ssh_the_running_app_does_not_animate(monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert app.animation_level == "none"

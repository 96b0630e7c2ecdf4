"""keymap.yaml: binding ids to keys, checked (unknown ids, unbindable keys, conflicts) and applied at start."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from idp_tui.screens.bindings import check_keymap
from idp_tui.screens.keys import KeysScreen
from test_tui import SIZE, _loaded, _text, _until

from idp_tui.app import IdpApp, binding_scopes
from idp_tui.keymap import binding_ids, keymap_path
from idp_tui.session import Session

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def scopes():
    return binding_scopes()


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("IDP_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "idp-tui"
    folder.mkdir()
    return folder


def _check(scopes, text: str) -> tuple[dict[str, str], list[str]]:
    result = check_keymap(text, "keymap.yaml", scopes)
    return result.keymap, result.problems


def test_the_keymap_lives_beside_the_config_file(tmp_path):
    assert keymap_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "idp-tui" / "keymap.yaml"
    assert keymap_path({"IDP_TUI_CONFIG": str(tmp_path / "x" / "c.yaml")}) == tmp_path / "x" / "keymap.yaml"


def test_the_registry_knows_every_binding_id_declared_in_screens_and_widgets(scopes):
    declared = set()
    for folder in (ROOT / "screens", ROOT / "src" / "idp_tui" / "widgets", ROOT / "src" / "idp_tui"):
        for path in folder.glob("*.py"):
            declared |= set(re.findall(r"Binding\([^)]*\bid=\"([^\"]+)\"", path.read_text()))
    assert {"home.search", "deployments.restart", "app.quit", "list.down", "form.next"} <= declared
    assert declared <= set(binding_ids(scopes))


def test_valid_entries_are_normalised_to_textuals_key_names(scopes):
    keymap, problems = _check(scopes, "home.search: ctrl+f\napp.keys: f1\nentity.oncall: '!'\n")
    assert problems == []
    assert keymap == {"home.search": "ctrl+f", "app.keys": "f1", "entity.oncall": "exclamation_mark"}


def test_each_problem_names_file_line_and_id(scopes):
    text = (
        "home.serch: ctrl+f\n"  # 1: a typo in the id
        "entity.oncall: ctrl+fx\n"  # 2: no such key
        "home.filter: Enter\n"  # 3: key names are lower case
        "logs.next: [a, b]\n"  # 4: not a key string
        "app.who: ''\n"  # 5: empty
        "app.mine: ctrl+m\n"  # 6: fine
        "app.mine: ctrl+t\n"  # 7: the same id again
    )
    keymap, problems = _check(scopes, text)
    assert problems == [
        'keymap.yaml:1: home.serch: unknown binding id (did you mean "home.search"?)',
        'keymap.yaml:2: entity.oncall: "ctrl+fx" is not a key Textual can bind (did you mean "ctrl+x"?)',
        'keymap.yaml:3: home.filter: "Enter" is not a key Textual can bind (did you mean "enter"?)',
        'keymap.yaml:4: logs.next: must be a key or comma-separated keys, e.g. "ctrl+f" or "shift+r,ctrl+r"',
        'keymap.yaml:5: app.who: must be a key or comma-separated keys, e.g. "ctrl+f" or "shift+r,ctrl+r"',
        "keymap.yaml:7: app.mine: duplicate binding id (first at line 6)",
    ]
    assert keymap == {"app.mine": "ctrl+m"}


def test_a_key_taken_by_a_default_that_stays_is_a_conflict(scopes):
    keymap, problems = _check(scopes, 'deployments.restart: "shift+r,ctrl+r"\nhome.search: ctrl+f\n')
    assert problems == [
        'keymap.yaml:1: deployments.restart: "ctrl+r" is already bound to deployments.reload on DeploymentsScreen'
    ]
    assert keymap == {"home.search": "ctrl+f"}


def test_a_screen_key_shadowing_an_app_key_is_a_conflict(scopes):
    _, problems = _check(scopes, "home.problems: n\n")
    assert problems == ['keymap.yaml:1: home.problems: "n" is already bound to app.golden_paths on HomeScreen']


def test_two_entries_on_one_key_keep_the_first(scopes):
    keymap, problems = _check(scopes, "deployments.logs: ctrl+l\ndeployments.cluster: ctrl+l\n")
    assert problems == [
        'keymap.yaml:2: deployments.cluster: "ctrl+l" is already bound to deployments.logs on DeploymentsScreen'
    ]
    assert keymap == {"deployments.logs": "ctrl+l"}


def test_a_key_freed_by_another_entry_is_no_conflict(scopes):
    keymap, problems = _check(scopes, 'deployments.restart: "shift+r,ctrl+r"\ndeployments.reload: f5\n')
    assert problems == []
    assert keymap == {"deployments.restart": "shift+r,ctrl+r", "deployments.reload": "f5"}


def test_a_file_that_is_not_a_mapping_or_not_yaml_is_one_problem(scopes):
    assert _check(scopes, "- home.search\n")[1] == [
        "keymap.yaml:1: must be a mapping of binding ids to keys, e.g. home.search: ctrl+f"
    ]
    assert _check(scopes, "home.search: [ctrl+f\n")[1][0].startswith("keymap.yaml:2: invalid YAML: ")
    assert _check(scopes, "") == ({}, [])


async def test_a_remapped_key_works_and_the_replaced_one_does_not(config_dir):
    (config_dir / "keymap.yaml").write_text("home.search: ctrl+f\n")
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        search = app.screen.query_one("#search")
        await pilot.press("slash")
        await pilot.pause()
        assert not search.has_focus  # "/" is no longer bound
        await pilot.press("ctrl+f", *"pay")
        await _until(pilot, lambda: search.has_focus and search.value == "pay")
        assert not app._notifications  # a valid keymap says nothing


async def test_the_keys_screen_lists_the_remapped_keys(config_dir):
    (config_dir / "keymap.yaml").write_text('home.search: ctrl+f\nhome.problems: "shift+p,ctrl+e"\n')
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await _until(pilot, lambda: isinstance(app.screen, KeysScreen))
        text = " ".join(_text(static) for static in app.screen.query("Static"))
        assert re.search(r"Ctrl\+F\s+Search", text), text
        assert re.search(r"Shift\+P / Ctrl\+E\s+Problems", text), text
        assert not re.search(r"/\s+Search", text)


async def test_problems_are_shown_once_as_a_notification_and_valid_entries_still_apply(config_dir):
    (config_dir / "keymap.yaml").write_text("home.serch: ctrl+f\napp.keys: f1\n")
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        notes = [note.message for note in app._notifications]
        path = config_dir / "keymap.yaml"
        assert notes == [f'{path}:1: home.serch: unknown binding id (did you mean "home.search"?)']
        await pilot.press("f1")
        await _until(pilot, lambda: isinstance(app.screen, KeysScreen))
        assert len(app._notifications) == 1


def test_the_keys_command_lists_ids_with_keys_and_checks_the_keymap(config_dir, capsys):
    from idp_tui.cli import main

    assert main(["keys", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by_id = {row["id"]: row for row in listed["bindings"]}
    assert by_id["home.search"] == {
        "id": "home.search",
        "keys": ["slash"],
        "default_keys": ["slash"],
        "description": "Search",
        "where": ["HomeScreen"],
    }
    assert by_id["app.quit"]["where"] == ["everywhere"] and listed["problems"] == []

    (config_dir / "keymap.yaml").write_text("home.search: ctrl+f\nhome.filtr: g\n")
    assert main(["keys", "--json"]) == 1
    captured = capsys.readouterr()
    listed = json.loads(captured.out)
    assert {row["id"]: row for row in listed["bindings"]}["home.search"]["keys"] == ["ctrl+f"]
    assert listed["problems"] == [
        f'{config_dir / "keymap.yaml"}:2: home.filtr: unknown binding id (did you mean "home.filter"?)'
    ]
    assert "home.filtr: unknown binding id" in captured.err

"""Themes: every main screen readable in every theme and under NO_COLOR, at 80x24; choosing and remembering.

The text of each screen is kept under ``tests/snapshots/<theme>/<screen>.txt`` (reviewable in a diff); run with
``IDP_TUI_UPDATE_SNAPSHOTS=1`` to rewrite them after an intended change. Readability is measured on every
rendered character: foreground against background at 3:1 or better (4.5:1 in the high-contrast theme), and
not one colour at all under NO_COLOR.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.entity import EntityScreen
from idp_tui.screens.golden_paths import GoldenPathsScreen
from idp_tui.screens.home import HomeScreen
from idp_tui.screens.oncall import OnCallScreen
from idp_tui.screens.template_form import TemplateFormScreen
from idp_tui.themes.palettes import BUILTIN_THEMES, DEFAULT_THEME
from screen_cells import coloured_segments, low_contrast, screen_rows, screen_text
from test_deployments_tui import open_deployments
from test_tui import SIZE, _loaded, _search, _until

from idp_tui.app import IdpApp
from idp_tui.config import ConfigFile, resolve_profile
from idp_tui.oncall import demo, who
from idp_tui.session import Session
from idp_tui.theming import load_remembered_theme, remember_theme, remembered_theme_path

SNAPSHOTS = Path(__file__).parent / "snapshots"
VARIANTS = [*BUILTIN_THEMES, "no-color"]
MINIMUM_CONTRAST = {"idp-high-contrast": 4.5}
FROZEN_NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)  # a Wednesday morning: the demo ladder is fully staffed

# The demo cluster's pods are aged from when it started: their ages differ from run to run (also when a row cut
# at 80 columns shows only the age's first digits).
_AGE = re.compile(r"(?<=↻)(\d+)( +)(\d+[smhd]\b|\d+…)")


def _stable(text: str) -> str:
    return _AGE.sub(lambda match: f"{match[1]}{' ' * (len(match[2]) + len(match[3]) - 3)}age", text)


class _FrozenDateTime(datetime):
    @classmethod
    def now(cls, tz=None):
        return FROZEN_NOW.astimezone(tz) if tz else FROZEN_NOW.replace(tzinfo=None)


@pytest.fixture
def frozen_oncall(monkeypatch):
    """On-call asked at a fixed moment in UTC, so the same people, times and ages show in every run."""
    monkeypatch.setattr(demo, "datetime", _FrozenDateTime)
    monkeypatch.setattr(who, "datetime", _FrozenDateTime)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _app(variant: str, monkeypatch) -> IdpApp:
    if variant == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
        return IdpApp(Session.for_catalog())
    monkeypatch.delenv("NO_COLOR", raising=False)
    profile = resolve_profile(ConfigFile(Path("absent.yaml"), exists=False, profiles={}), theme=variant, environ={})
    return IdpApp(Session.from_profile(profile))


def _check(app, variant: str, name: str, problems: list[str]) -> None:
    """Compare the screen's text with its snapshot and measure its readability; problems are collected."""
    text = _stable(screen_text(app))
    snapshot = SNAPSHOTS / variant / f"{name}.txt"
    if os.environ.get("IDP_TUI_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    elif not snapshot.exists():
        problems.append(f"{name}: no snapshot {snapshot} (run with IDP_TUI_UPDATE_SNAPSHOTS=1)")
    elif snapshot.read_text(encoding="utf-8") != text:
        problems.append(f"{name}: screen differs from {snapshot}:\n{text}")
    if variant == "no-color":
        problems.extend(f"{name}: coloured under NO_COLOR: {found}" for found in coloured_segments(app)[:5])
    else:
        minimum = MINIMUM_CONTRAST.get(variant, 3.0)
        problems.extend(f"{name}: low contrast {found}" for found in low_contrast(app, minimum)[:5])


async def _settle(pilot) -> None:
    # Two refreshes: the screen's last message handled, then painted.
    await pilot.pause(0.1)
    await pilot.pause()


@pytest.mark.parametrize("variant", VARIANTS)
async def test_main_screens_are_readable_in_every_theme_and_match_their_snapshots(variant, monkeypatch, frozen_oncall):
    app = _app(variant, monkeypatch)
    problems: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert app.no_color == (variant == "no-color")
        assert app.theme == (DEFAULT_THEME if variant == "no-color" else variant)
        await _settle(pilot)
        _check(app, variant, "home", problems)

        await _search(pilot, "payment-processor")
        await pilot.press("enter", "enter")
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen))
        await _settle(pilot)
        _check(app, variant, "entity", problems)

        await pilot.press("o")
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen) and app.screen.answered)
        await _settle(pilot)
        _check(app, variant, "oncall", problems)

        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen))
        await pilot.press("d")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen) and app.screen.complete)
        await _settle(pilot)
        _check(app, variant, "deployments", problems)
        app.session.close()

        await pilot.press("escape", "escape")
        await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("escape")  # leave the search field, so n is a key and not a letter typed
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, GoldenPathsScreen))
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TemplateFormScreen))
        await _settle(pilot)
        _check(app, variant, "form", problems)
    assert not problems, "\n".join(problems)


# -- choosing, remembering, user palettes ----------------------------------------------------------------------------

PALETTE = """\
name: solarized-night
primary: "#268BD2"
background: "#002B36"
foreground: "#EEE8D5"
dark: true
"""


def _user_app(tmp_path: Path, monkeypatch, theme: str | None = None) -> IdpApp:
    """An app on the demo whose config directory (and so its themes/ folder) is under ``tmp_path``."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "config" / "config.yaml"))
    profile = resolve_profile(ConfigFile(Path("absent.yaml"), exists=False, profiles={}), theme=theme, environ={})
    return IdpApp(Session.from_profile(profile))


async def test_a_palette_choice_is_remembered_and_a_requested_theme_still_wins(tmp_path, monkeypatch):
    app = _user_app(tmp_path, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert [t for t in titles if t.startswith("Theme: ")] == [f"Theme: {name}" for name in BUILTIN_THEMES]
        assert "Theme" not in titles  # Textual's own picker would not remember the choice
        chosen = next(c for c in app.get_system_commands(app.screen) if c.title == "Theme: idp-light")
        chosen.callback()
        assert app.theme == "idp-light"
    assert load_remembered_theme() == "idp-light" and remembered_theme_path().is_file()

    again = _user_app(tmp_path, monkeypatch)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "idp-light"

    flagged = _user_app(tmp_path, monkeypatch, theme="idp-high-contrast")
    async with flagged.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert flagged.theme == "idp-high-contrast"


async def test_an_unknown_theme_falls_back_to_the_default_and_says_which_exist(tmp_path, monkeypatch):
    app = _user_app(tmp_path, monkeypatch, theme="idp-purple")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        messages = [n.message for n in app._notifications]
        assert any("Unknown theme 'idp-purple'" in m and "idp-ansi16" in m for m in messages), messages


async def test_a_user_palette_is_offered_and_used(tmp_path, monkeypatch):
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "night.yaml").write_text(PALETTE)
    app = _user_app(tmp_path, monkeypatch, theme="solarized-night")
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert app.theme == "solarized-night"
        assert app.current_theme.primary == "#268BD2"
        assert "Theme: solarized-night" in [c.title for c in app.get_system_commands(app.screen)]
        assert not app._notifications


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nprimary: #1F5FAD\n", "night.yaml:2: primary: is empty (quote colours that start with #"),
        ('name: x\nprimary: "#1F5FAD"\nsurfce: "#000000"\n', "night.yaml:3: surfce: unknown key"),
        ('name: x\nprimary: "not-a-colour"\n', "night.yaml:2: primary: 'not-a-colour' is not a colour"),
        ('name: idp-dark\nprimary: "#1F5FAD"\n', "night.yaml:1: name: 'idp-dark' is a built-in theme"),
        ('primary: "#1F5FAD"\n', "night.yaml:1: name: required"),
        ('name: x\nprimary: "#1F5FAD"\ndark: maybe\n', "night.yaml:3: dark: must be true or false"),
        ("name: x\n  primary: [\n", "night.yaml:2: not valid YAML"),
        ("- a list\n", "night.yaml:1: a palette is a mapping"),
    ],
)
async def test_a_broken_palette_is_left_out_with_file_line_and_key(tmp_path, monkeypatch, text, expected):
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "night.yaml").write_text(text)
    app = _user_app(tmp_path, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME  # the program starts as usual
        assert not [c for c in app.get_system_commands(app.screen) if c.title == "Theme: x"]
        messages = [n.message for n in app._notifications]
        assert any(expected in m for m in messages), messages


async def test_a_remembered_palette_that_was_deleted_is_passed_over_quietly(tmp_path, monkeypatch):
    app = _user_app(tmp_path, monkeypatch)
    assert remember_theme("solarized-night")  # chosen last time, its file since removed
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert not app._notifications


def _colour_of(app, text: str) -> str:
    """The foreground colour (``#rrggbb``, or ``ansi N`` for the terminal's own) of the first segment with ``text``."""
    for row in screen_rows(app):
        for segment in row:
            if text in segment.text and segment.style is not None and segment.style.color is not None:
                color = segment.style.color
                return f"ansi {color.number}" if color.triplet is None else color.triplet.hex
    raise AssertionError(f"{text!r} is not on screen:\n{screen_text(app)}")


@pytest.mark.parametrize(
    ("theme", "expected"), [("idp-light", "#b3261e"), ("idp-dark", "#f0707a"), ("idp-ansi16", "ansi 1")]
)
async def test_problems_take_the_themes_error_colour(theme, expected, monkeypatch):
    app = _app(theme, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "settlement-worker")
        await _settle(pilot)
        assert _colour_of(app, "CrashLoopBackOff") == expected
        app.theme = "idp-high-contrast"  # switched while open: the rows are drawn again in the new colours
        screen._show()
        await _settle(pilot)
        assert _colour_of(app, "CrashLoopBackOff") == "#ff7b7b"
        app.session.close()


def test_the_commands_use_the_terminals_own_red_for_problems(capsys, monkeypatch):
    from idp_tui.cli import main
    from idp_tui.commands import output

    monkeypatch.setattr(output.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["deployments", "settlement-worker"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[1;31mCrashLoopBackOff" in out, out

"""The Ownership and On-call view at 80x24: `o` from a search, the ladder on screen, `y`, Enter, the team view."""

from __future__ import annotations

from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.entity import EntityScreen
from idp_tui.screens.oncall import OnCallScreen, TeamScreen
from idp_tui.screens.who_prompt import WhoPromptScreen
from test_pagerduty import TOKEN
from test_tui import SIZE, _loaded, _search, _until
from test_who import (
    PD_CATALOG,  # noqa: F401 - the catalog and fake PagerDuty fixture are shared
    pagerduty,  # noqa: F401
)
from textual.widgets import OptionList

from idp_tui.app import IdpApp
from idp_tui.session import Session


def visible_rows(screen) -> list[str]:
    """The option rows inside the list's viewport, as text."""
    options = screen.query_one(OptionList)
    top = options.scroll_offset.y
    return [options.get_option_at_index(i).prompt.plain for i in range(top, min(options.option_count, top + 20))]


async def open_oncall(pilot, search: str) -> OnCallScreen:
    await _loaded(pilot)
    await _search(pilot, search)
    await pilot.press("enter", "o")
    await _until(pilot, lambda: isinstance(pilot.app.screen, OnCallScreen) and pilot.app.screen.answered)
    return pilot.app.screen


async def test_search_payment_o_shows_the_whole_ladder_at_80x24():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_oncall(pilot, "payment")
        assert screen.entity.name.startswith("payment")
        rows = visible_rows(screen)
        heading = next(row for row in rows if row.startswith("ON CALL"))
        assert "PAYMENTS ESCALATION" in heading and "Demo on-call" in heading
        ladder = [row.strip() for row in rows if row.strip().startswith(("L1", "L2", "L3"))]
        assert [row[:2] for row in ladder] == ["L1", "L2", "L3"]
        assert ladder[-1].startswith("L3  Maria Okafor  permanent")
        assert any(row.strip().startswith("next ") for row in rows)
        assert any("demo on-call: a demo rotation" in line.text.plain for line in screen.lines)  # never silent
        # Level 1 either has someone until a handoff, or says who covers the gap.
        assert "until" in ladder[0] or "nobody on call now" in ladder[0]

        # The first responder is highlighted; y puts their email on the clipboard (OSC 52).
        line = screen.selected_line()
        assert line is not None and line.first and line.copy.endswith("@myorg.example")
        await pilot.press("y")
        assert app.clipboard == line.copy


async def test_blast_radius_rows_open_entities_and_teams():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_oncall(pilot, "payment-processor")
        assert screen.entity.name == "payment-processor"
        options = screen.query_one(OptionList)
        targets = [screen.lines[screen._line_of_option[i]].target for i in range(options.option_count)]
        options.highlighted = targets.index("component:default/order-service")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen))
        assert app.screen.entity.name == "order-service"
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is screen)
        options.highlighted = targets.index("group:default/team-checkout")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.answered)
        team = app.screen
        owned = [line.target for line in team.lines if line.target and line.target.startswith("component:")]
        assert "component:default/order-service" in owned
        assert any("ON CALL" in line.text.plain for line in team.lines)
        assert any("demo rotation" in line.text.plain for line in team.lines)


async def test_o_on_the_deployments_screen_and_mine():
    app = IdpApp(Session.for_catalog(user="user:tomas.berg"))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "settlement-worker")
        await pilot.press("enter", "d")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen) and app.screen.complete)
        await pilot.press("o")
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen) and app.screen.answered)
        assert app.screen.entity.name == "settlement-worker"
        app.session.close()
        await pilot.press("escape", "escape")
        await _until(pilot, lambda: not isinstance(app.screen, (OnCallScreen, DeploymentsScreen)))
        await pilot.press("escape", "m")
        await _until(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.answered)
        assert app.screen.owner.name == "tomas.berg"
        assert any(line.target == "component:default/payment-processor" for line in app.screen.lines)


async def test_a_failing_provider_is_stated_and_ownership_still_shown(monkeypatch, pagerduty):  # noqa: F811
    monkeypatch.setenv("PAGERDUTY_TOKEN", "wrong-" + TOKEN)
    app = IdpApp(Session.for_catalog(pagerduty.catalog))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_oncall(pilot, "payment-processor")
        text = "\n".join(line.text.plain for line in screen.lines)
        assert "! PagerDuty: PagerDuty token missing or rejected" in text
        assert "pay@example.com" in text
        assert TOKEN not in text


async def test_w_finds_the_owner_of_a_pasted_workload():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await pilot.press("escape", "w")
        await _until(pilot, lambda: isinstance(app.screen, WhoPromptScreen))
        await pilot.press(*"nowhere/nothing-like-this", "enter")
        status = app.screen.query_one("#who-status")
        await _until(pilot, lambda: "no entity, PagerDuty service, pod or workload" in str(status.content))
        app.screen.query_one("#who-input").value = ""
        await pilot.press(*"checkout-platform/order-api", "enter")
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen) and app.screen.answered)
        assert app.screen.entity.name == "order-service"
        app.session.close()

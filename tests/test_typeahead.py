"""Keys typed ahead: over SSH a fast typist's keys often arrive in one read ("/set⏎↓d"), all queued before the
first is handled. Each must still act where the person meant: the letters in the search box, the keys after
Enter on the results.
"""

from __future__ import annotations

import pytest
from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.home import HomeScreen
from idp_tui.screens.oncall import OnCallScreen
from test_tui import SIZE, _loaded, _until
from textual import events

from idp_tui.app import IdpApp
from idp_tui.session import Session

KEY_CHARACTERS = {"slash": "/", "enter": "\r", "down": None, "tab": "\t"}


def burst(app: IdpApp, keys: str | list[str]) -> None:
    """Queue every key at once, as the terminal driver does with a multi-key read."""
    for key in keys:
        app.post_message(events.Key(key, KEY_CHARACTERS.get(key, key)))


async def test_a_burst_of_search_enter_down_and_d_opens_the_second_results_deployments():
    app = IdpApp(Session.for_catalog())
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _loaded(pilot)
            burst(app, ["slash", "s", "e", "t", "enter", "down", "d"])
            await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
            assert app.screen.entity.name == "settlement-worker"
            home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
            assert home.query_one("#search").value == "set"  # the d was a key, not a letter
    finally:
        app.session.close()


async def test_a_burst_ending_in_o_opens_the_on_call_of_the_row_below_the_best_match():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        burst(app, ["slash", "p", "a", "y", "enter", "down", "o"])
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen))
        assert app.screen.entity.name == "payment-processor"


@pytest.mark.parametrize("leave", ["tab", "down"])
async def test_tab_or_down_from_the_box_go_to_the_best_match_too(leave):
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        burst(app, ["slash", "p", "a", "y", leave, "o"])
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen))
        assert app.screen.entity.name == "payment-events"


async def test_keys_typed_before_the_catalog_is_read_wait_for_its_results():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        # At once, before the catalog is read: Enter waits for the results of "pay", and the keys after it too.
        burst(app, ["slash", "p", "a", "y", "enter", "down", "o"])
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen))
        assert app.screen.entity.name == "payment-processor"

"""The key footer at 80x24: the screen's keys whole, the command palette at the right edge, clicks press keys,
disabled keys in italics, and a redraw only when the keys change."""

from __future__ import annotations

from idp_tui.screens.deployments import DeploymentsScreen
from test_deployments_tui import open_deployments
from test_tui import SIZE, _loaded, _until

from idp_tui.app import IdpApp
from idp_tui.session import Session
from idp_tui.widgets.key_footer import KeyFooter


def footer_segments(app) -> list:
    """The bottom row as the compositor sends it."""
    return list(app.screen._compositor.render_strips()[-1])


def footer_text(app) -> str:
    return "".join(segment.text for segment in footer_segments(app))


async def _settled(pilot) -> None:
    """The catalog loaded and its search index built (the last thing that changes the home screen's keys)."""
    await _loaded(pilot)
    await _until(pilot, lambda: pilot.app.index is not None)
    await pilot.pause(0.2)


def descriptions(screen) -> set[str]:
    return {binding.description for _node, binding, _enabled, _tip in screen.active_bindings.values() if binding.show}


async def test_the_home_footer_shows_whole_keys_and_the_command_palette_at_the_right_edge():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot)
        text = footer_text(app)
        assert len(text) == SIZE[0]
        assert text.startswith(" ⏎ Open  o On call  r Relations ")
        assert text.endswith("▏^p Commands ")
        keys_part = text.split("▏")[0]
        shown = {piece.strip() for piece in keys_part.split("  ") if piece.strip()}
        # Each piece is "<key> <description>" with a description the screen has: none is cut at the edge.
        assert shown and all(piece.split(" ", 1)[1] in descriptions(app.screen) for piece in shown)
        assert "Secrets" not in keys_part  # does not fit whole at 80 columns: left out, not cut
        # An entity is highlighted, so the keys acting on it are usable, not greyed out (italic).
        assert not [segment.text for segment in footer_segments(app) if segment.style and segment.style.italic]


async def test_a_click_on_a_key_presses_it():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot)
        column = footer_text(app).index("d Deployments")
        await pilot.click(KeyFooter, offset=(column + 3, 0))
        await pilot.pause(0.3)
        assert isinstance(app.screen, DeploymentsScreen)
        app.session.close()


async def test_a_disabled_key_is_in_italics_and_a_click_on_it_only_rings_the_bell():
    app = IdpApp(Session.for_catalog(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        await pilot.pause(0.1)
        segments = footer_segments(app)
        restart = next(segment for segment in segments if segment.text.strip() == "R")
        assert restart.style.italic
        assert not next(segment for segment in segments if segment.text.strip() == "l").style.italic
        bells: list[bool] = []
        app.bell = lambda: bells.append(True)
        column = footer_text(app).index(" R Restart")
        await pilot.click(KeyFooter, offset=(column + 1, 0))
        await pilot.pause(0.2)
        assert bells and app.screen is screen
        app.session.close()


async def test_the_footer_draws_again_only_when_its_keys_change():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot)
        footer = app.screen.query_one(KeyFooter)
        before = footer.shown
        redraws: list[bool] = []
        refresh = footer.refresh
        footer.refresh = lambda *args, **kwargs: redraws.append(True) or refresh(*args, **kwargs)
        for _ in range(5):
            app.screen.refresh_bindings()
            await pilot.pause()
        await pilot.pause(0.1)
        assert redraws == [] and footer.shown is before
        await pilot.press("slash")  # the search box takes the focus: its keys are not the list's
        await pilot.pause(0.2)
        assert redraws and footer.shown != before
        assert "Open" not in footer_text(app)

"""What the home screen sends to the terminal per keystroke at 80x24: only the rows whose content changed.

Over SSH every repainted row is bytes on the link. The updates are read where Textual makes them (the
compositor's output for each frame, the same Textual writes to the terminal), and compared with the screen
before and after the key.
"""

from __future__ import annotations

from idp_tui.screens.home import HomeScreen
from test_tui import SIZE, _loaded, _until
from textual._compositor import LayoutUpdate

from idp_tui.app import IdpApp
from idp_tui.catalog.search import PAGE_SIZE
from idp_tui.session import Session
from idp_tui.widgets.entity_list import EntityList

TOP_BAR, SEARCH_BOX, FILTER_ROW, LIST_HEADER, FOOTER = 0, 1, 2, 3, SIZE[1] - 1


class Painted:
    """The rows of every update the screen's compositor renders from now on (``None``: a whole-screen update)."""

    def __init__(self, app: IdpApp) -> None:
        self.rows: set[int] | None = set()
        compositor = app.screen._compositor
        render_update = compositor.render_update

        def recording(*args, **kwargs):
            update = render_update(*args, **kwargs)
            if isinstance(update, LayoutUpdate):
                self.rows = None
            elif update is not None and self.rows is not None:
                self.rows.update(y for y, _, _ in update.spans)
            return update

        compositor.render_update = recording


def _screen(app: IdpApp) -> list[list[tuple[str, object]]]:
    """Each row as (text, style) runs, as the compositor would send it in a full repaint."""
    return [[(s.text, s.style) for s in strip.simplify()] for strip in app.screen._compositor.render_strips()]


async def _searched(pilot, text: str) -> None:
    home = pilot.app.screen
    await _until(pilot, lambda: home.query_one("#search").value == text and home._shown_page is None)
    await _until(pilot, lambda: home.query_one(EntityList).entities == _results(home, text))
    await pilot.pause(0.2)


def _results(home: HomeScreen, text: str) -> list:
    return [home.index.entities[p] for p in home.index.search(text).positions]


async def test_a_search_keystroke_repaints_only_the_rows_whose_content_changed():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: app.index is not None)
        await pilot.press("slash", "p", "a", "y")
        await _searched(pilot, "pay")
        before = _screen(app)
        painted = Painted(app)
        await pilot.press("m")  # fewer matches: some rows show another entity, the first ones stay
        await _searched(pilot, "paym")
        after = _screen(app)
        changed = {y for y, (old, new) in enumerate(zip(before, after, strict=True)) if old != new}
        assert painted.rows is not None, "the whole screen was sent again"
        assert painted.rows <= changed, f"rows sent again unchanged: {sorted(painted.rows - changed)}"
        listed = {y for y in changed if LIST_HEADER < y < FOOTER}
        assert SEARCH_BOX in painted.rows and listed and listed <= painted.rows
        assert len(listed) < FOOTER - LIST_HEADER - 1, "the test needs rows that stay as they were"
        assert not painted.rows & {TOP_BAR, LIST_HEADER, FOOTER}


async def test_opening_the_search_box_repaints_the_box_the_cursor_row_and_the_footer_only():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: app.index is not None)
        await pilot.pause(0.3)
        painted = Painted(app)
        await pilot.press("slash")
        await _until(pilot, lambda: app.screen.focused is app.screen.query_one("#search"))
        await pilot.pause(0.3)
        cursor_row = LIST_HEADER + 1 + app.screen.query_one(EntityList).cursor
        assert painted.rows is not None, "the whole screen was sent again"
        assert painted.rows <= {SEARCH_BOX, cursor_row, FOOTER}


async def test_the_first_page_of_results_comes_at_once_and_the_complete_list_after(write_catalog):
    count = PAGE_SIZE * 3
    documents = "\n---\n".join(
        f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i:04d}\n"
        f"spec:\n  type: service\n  lifecycle: production\n  owner: team-a"
        for i in range(count)
    )
    app = IdpApp(Session.for_catalog(str(write_catalog({"catalog-info.yaml": documents}))))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: app.index is not None)
        home = app.screen
        entity_list = home.query_one(EntityList)
        shown: list[tuple[str, str, int]] = []
        set_entities, extend_entities = entity_list.set_entities, entity_list.extend_entities

        def recording_set(entities, **kwargs):
            set_entities(entities, **kwargs)
            shown.append((home.query_text, "page", len(entities)))

        def recording_extend(entities):
            extend_entities(entities)
            shown.append((home.query_text, "complete", len(entities)))

        entity_list.set_entities, entity_list.extend_entities = recording_set, recording_extend
        await pilot.press("slash", *"svc")
        await _until(pilot, lambda: home.query_text == "svc" and len(entity_list.entities) == count)
        await pilot.pause(0.1)
        for_query = [entry for entry in shown if entry[0] == "svc"]
        assert for_query[0][1:3] == ("page", PAGE_SIZE)  # the first screenfuls at once...
        assert for_query[-1][1:3] == ("complete", count)  # ...then the rest, rows on screen kept
        assert f"{count:,} shown" in str(home.query_one("#result-count").content)

"""The saved first page: the next start shows real rows in its first frame, before the catalog is read."""

import time
from dataclasses import replace

from idp_tui.screens.entity import EntityScreen
from idp_tui.screens.home import HomeScreen

from idp_tui.app import IdpApp
from idp_tui.catalog.first_page import first_page_path, load_first_page, save_first_page
from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.search import SearchIndex
from idp_tui.session import Session
from idp_tui.widgets.entity_list import EntityList


def test_round_trip_keeps_what_a_row_shows(tmp_path):
    catalog = LocalCatalogSource([Session.for_catalog().catalog_source.roots[0]], use_cache=False).load()
    entities = SearchIndex(catalog.entities).entities
    path = first_page_path("label", tmp_path)
    assert save_first_page(path, entities, len(catalog), 3)
    page = load_first_page(path)
    assert page.total == len(catalog) and page.problems == 3 and page.age() < 60
    assert [e.key for e in page.entities] == [e.key for e in entities[: len(page.entities)]]
    first = page.entities[1]
    original = catalog.get(first.key)
    assert (first.name, first.kind, first.owner_key, first.lifecycle, first.tags) == (
        original.name,
        original.kind,
        original.owner_key,
        original.lifecycle,
        original.tags,
    )
    assert load_first_page(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert load_first_page(tmp_path / "bad.json") is None


class SlowSource(LocalCatalogSource):
    def load(self):
        time.sleep(1.0)
        return super().load()


async def test_the_first_frame_shows_last_runs_rows_while_reading(tmp_path):
    session = Session.for_catalog(cache_dir=tmp_path)
    async with IdpApp(session).run_test(size=(80, 24)) as pilot:  # a first run saves the page
        while not (isinstance(pilot.app.screen, HomeScreen) and pilot.app.catalog):
            await pilot.pause(0.05)
        await pilot.pause(0.5)
    slow = replace(session, catalog_source=SlowSource(session.catalog_source.roots, cache_dir=tmp_path))
    app = IdpApp(slow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert app.catalog is None  # still reading…
        rows = app.screen.query_one(EntityList).entities
        assert len(rows) > 20 and rows[0].name == "alice.nguyen"
        await pilot.press("enter")  # nothing to open yet: said so, no crash
        await pilot.pause(0.1)
        assert isinstance(app.screen, HomeScreen)
        assert any("Still reading" in n.message for n in app._notifications)
        while app.catalog is None:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        await pilot.press("enter")
        while not isinstance(app.screen, EntityScreen):
            await pilot.pause(0.05)
        assert app.screen.entity.name == "alice.nguyen"

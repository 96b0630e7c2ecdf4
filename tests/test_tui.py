"""The TUI, driven by keyboard through Textual's Pilot at 80x24 (and once at 200x50)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from idp_tui.screens.entity import EntityScreen
from idp_tui.screens.facet_picker import FacetPickerScreen
from idp_tui.screens.home import HomeScreen
from idp_tui.screens.keys import KeysScreen
from idp_tui.screens.problems import ProblemsScreen
from textual.widgets import Markdown, OptionList, TabbedContent

from idp_tui.app import IdpApp
from idp_tui.session import Session
from idp_tui.widgets.entity_list import EntityList
from idp_tui.widgets.facet_panel import FacetPanel

SIZE = (80, 24)


def _text(static) -> str:
    """The plain text a Static widget shows."""
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


async def _until(pilot, condition, timeout: float = 10.0) -> None:
    steps = int(timeout / 0.02)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


def _listed(app) -> list[str]:
    return [e.name for e in app.screen.query_one(EntityList).entities]


async def _loaded(pilot) -> None:
    await _until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen) and _listed(pilot.app))


async def _search(pilot, text: str) -> None:
    await pilot.press("slash", *text)
    await _until(
        pilot,
        lambda: (
            pilot.app.screen.query_one(EntityList).highlighted is not None
            and pilot.app.screen.query_one("#search").value == text
            and pilot.app.screen.query_one(EntityList).entities is not None
        ),
    )
    await pilot.pause(0.1)


@pytest.fixture
def demo_app():
    return IdpApp(Session.for_catalog())


async def test_search_ranks_the_best_match_first_and_enter_opens_it(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        total = len(_listed(demo_app))
        await _search(pilot, "payment-p")
        await _until(pilot, lambda: _listed(demo_app)[0] == "payment-processor")
        assert len(_listed(demo_app)) < total
        assert demo_app.screen.query_one("#search").has_focus
        await pilot.press("enter")  # to the results, best match highlighted
        entity_list = demo_app.screen.query_one(EntityList)
        assert entity_list.has_focus and entity_list.highlighted.name == "payment-processor"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(demo_app.screen, EntityScreen))
        assert demo_app.screen.entity.name == "payment-processor"


async def test_typo_still_finds_the_service(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "paymnet-procesor")
        await _until(pilot, lambda: _listed(demo_app)[:1] == ["payment-processor"])


async def test_filter_by_facet_then_clear(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        total = len(_listed(demo_app))
        await pilot.press("f")
        await _until(
            pilot,
            lambda: (
                isinstance(demo_app.screen, FacetPickerScreen)
                and demo_app.screen.query_one(OptionList).option_count == 6
            ),
        )
        await pilot.press("enter")  # the first facet: Kind
        await _until(pilot, lambda: demo_app.screen.facet == "kind")
        options = demo_app.screen.query_one(OptionList)
        component = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == "Component")
        options.highlighted = component
        await pilot.press("enter")
        await _until(
            pilot,
            lambda: (
                isinstance(demo_app.screen, HomeScreen)
                and {e.kind for e in demo_app.screen.query_one(EntityList).entities} == {"Component"}
            ),
        )
        assert "Kind: Component" in _text(demo_app.screen.query_one("#filter-bar"))
        await pilot.press("F")
        await _until(pilot, lambda: len(_listed(demo_app)) == total)


async def test_open_follow_a_relation_and_come_back(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "payment-processor")
        await pilot.press("enter", "enter")
        await _until(
            pilot, lambda: isinstance(demo_app.screen, EntityScreen) and demo_app.screen.query("#relation-list")
        )
        first = demo_app.screen
        await pilot.press("2")
        relations = first.query_one("#relation-list", OptionList)
        assert relations.has_focus
        target = next(
            i
            for i in range(relations.option_count)
            if relations.get_option_at_index(i).id == "component:default/order-service"
        )
        while relations.highlighted != target:
            await pilot.press("down")
        await pilot.press("enter")
        await _until(pilot, lambda: demo_app.screen is not first)
        assert demo_app.screen.entity.name == "order-service"
        await pilot.press("escape")
        await _until(pilot, lambda: demo_app.screen is first)
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(demo_app.screen, HomeScreen))
        assert demo_app.screen.query_one(EntityList).highlighted.name == "payment-processor"


async def test_a_missing_relation_target_is_explained_not_opened(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        home = demo_app.screen
        owner = next(
            e
            for e in home.query_one(EntityList).entities
            if any(r.missing for r in demo_app.catalog.relations_of(e.key))
        )
        home.open_entity(owner, "relations")
        await _until(
            pilot, lambda: isinstance(demo_app.screen, EntityScreen) and demo_app.screen.query("#relation-list")
        )
        relations = demo_app.screen.query_one("#relation-list", OptionList)
        missing = next(
            i
            for i in range(relations.option_count)
            if (relations.get_option_at_index(i).id or "") == "component:default/legacy-ledger"
        )
        relations.highlighted = missing
        screen = demo_app.screen
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert demo_app.screen is screen
        assert any("not in the catalog" in n.message for n in demo_app._notifications)


async def test_entity_keys_work_on_the_highlighted_row(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "payment-processor")
        await pilot.press("enter", "r")
        await _until(pilot, lambda: isinstance(demo_app.screen, EntityScreen) and demo_app.screen.query("#owner-body"))
        assert demo_app.screen.query_one(TabbedContent).active == "relations"
        await pilot.press("3")
        assert demo_app.screen.query_one(TabbedContent).active == "owner"
        owner_text = _text(demo_app.screen.query_one("#owner-body"))
        assert "team-payments@myorg.example" in owner_text and "alice.nguyen@myorg.example" in owner_text
        await pilot.press("t")
        assert demo_app.screen.query_one(TabbedContent).active == "docs"
        page = demo_app.screen.query_one("#docs-page", Markdown)
        await _until(pilot, lambda: page.display and page.source)
        assert "payment" in page.source.lower()
        assert demo_app.screen.query_one("#docs-scroll").region.height >= 10  # visible, not squeezed out


async def test_docs_survive_the_entity_page_recomposing_while_they_load(demo_app):
    # The entity page recomposes when the whole entity arrives from Backstage: the DocsView it replaced may still
    # get its pages from the thread that read them, and must not fail looking for its children (it did, in CI).
    from idp_tui.catalog.techdocs import find_techdocs
    from idp_tui.widgets.docs_view import DocsView

    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "payment-processor")
        await pilot.press("enter", "t")
        await _until(pilot, lambda: isinstance(demo_app.screen, EntityScreen) and demo_app.screen.query(DocsView))
        replaced = demo_app.screen.query_one(DocsView)
        await demo_app.screen.recompose()
        replaced._show_site(find_techdocs(replaced.entity))
        replaced._show_page("late page")
        page = demo_app.screen.query_one("#docs-page", Markdown)
        await _until(pilot, lambda: page.display and page.source)
        assert "payment" in page.source.lower() and "late page" not in page.source


async def test_problems_list_opens_from_the_home_screen(write_catalog):
    root = write_catalog(
        {
            "good.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\nspec: {type: team, children: []}\n",
            "bad.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc}\nspec: {type: service}\n"
            "---\napiVersion: backstage.io/v1alpha1\nkind: Gizmo\nmetadata: {name: g}\n",
        }
    )
    app = IdpApp(Session.for_catalog(str(root)))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert "3 problems" in _text(app.screen.query_one("#top-bar"))
        await pilot.press("p")
        await _until(pilot, lambda: isinstance(app.screen, ProblemsScreen))
        problems = app.screen.query_one(OptionList)
        assert problems.option_count == 3
        first = str(problems.get_option_at_index(0).prompt)
        assert f"{Path(root, 'bad.yaml')}:4" in first and "lifecycle" in first
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, HomeScreen))


async def test_keys_screen_and_command_palette_list_the_actions(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        titles = {command.title for command in demo_app.get_system_commands(demo_app.screen)}
        assert {
            "Search",
            "Filter",
            "Problems",
            "On call",
            "Relations",
            "TechDocs",
            "Deployments",
            "Open",
            "Quit",
            "Keys",
        } <= titles
        await pilot.press("question_mark")
        await _until(pilot, lambda: isinstance(demo_app.screen, KeysScreen))
        text = " ".join(_text(s) for s in demo_app.screen.query("Static"))
        for description in ("Search", "Filter", "On call", "Relations", "Docs", "Quit"):
            assert description in text
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(demo_app.screen, HomeScreen))
        await pilot.press("q")
        await pilot.pause(0.2)
    assert demo_app.return_code in (0, None)


async def test_the_home_screen_is_styled_once_at_start_and_wears_a_theme_chosen_elsewhere(demo_app, monkeypatch):
    restyled = []
    real = HomeScreen.update_node_styles

    def counted(screen, animate: bool = True) -> None:
        restyled.append(screen)
        real(screen, animate)

    monkeypatch.setattr(HomeScreen, "update_node_styles", counted)
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        assert restyled == []  # styled as it mounted; its activation a moment later does not style it again
        top_bar = demo_app.screen.query_one("#top-bar")
        before = top_bar.styles.background
        await pilot.press("question_mark")
        await _until(pilot, lambda: isinstance(demo_app.screen, KeysScreen))
        demo_app.theme = next(name for name in demo_app.theme_names if name != demo_app.theme and "light" in name)
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(demo_app.screen, HomeScreen))
        await pilot.pause(0.1)
        assert top_bar.styles.background != before  # back on top, it wears the theme chosen meanwhile


async def test_wide_terminals_show_facet_counts_that_filter(demo_app):
    async with demo_app.run_test(size=(200, 50)) as pilot:
        await _loaded(pilot)
        panel = demo_app.screen.query_one(FacetPanel)
        await _until(pilot, lambda: panel.display and panel.option_count > 10)
        kind_component = next(
            i for i in range(panel.option_count) if panel.get_option_at_index(i).id == "kind\0Component"
        )
        panel.focus()
        panel.highlighted = kind_component
        await pilot.press("enter")
        await _until(pilot, lambda: {e.kind for e in demo_app.screen.query_one(EntityList).entities} == {"Component"})


async def test_cursor_moves_only_repaint_two_rows(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        entity_list = demo_app.screen.query_one(EntityList)
        refreshed = []
        original = entity_list.refresh_line
        entity_list.refresh_line = lambda y: (refreshed.append(y), original(y))
        await pilot.press("down")
        assert entity_list.cursor == 1 and sorted(refreshed) == [1, 2]

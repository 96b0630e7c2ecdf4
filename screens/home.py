"""The home screen: every entity, incremental search, facet filters, and the catalog's problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.facets import FACET_TITLES, EntityFilter, facet_counts
from idp_tui.catalog.first_page import FIRST_PAGE_SIZE, FirstPage
from idp_tui.redaction import redact_url
from idp_tui.render.words import age_words, count
from idp_tui.safe_text import clean
from idp_tui.widgets.entity_list import EntityList
from idp_tui.widgets.facet_panel import FacetPanel
from idp_tui.widgets.key_footer import KeyFooter

from .entity_actions import EntityActions
from .host import host

if TYPE_CHECKING:
    from idp_tui.catalog.model import Catalog
    from idp_tui.catalog.search import SearchIndex, SearchResult
    from idp_tui.session import Session

WIDE_LAYOUT_MIN_WIDTH = 120


class HomeScreen(EntityActions):
    """Lists the catalog; ``/`` searches, ``f`` filters, Enter opens the highlighted entity."""

    # Textual repaints the whole screen when the focus moves (~6 KB at 80x24, sent over SSH on every "/" and Enter);
    # the widgets that gain or lose the focus repaint themselves, and the footer its keys.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    # The list has the focus from the start. By default Textual would give it to the search box first, then the
    # box would be styled again when it lost it.
    AUTO_FOCUS = "#entities"

    BINDINGS = [
        # Priority: handled before the keys typed after it are delivered, so "/pay" typed fast searches "pay".
        Binding("slash", "focus_search", "Search", priority=True, id="home.search"),
        Binding("f", "pick_filter", "Filter", id="home.filter"),
        Binding("F", "clear_filters", "Clear filters", id="home.clear_filters"),
        Binding("p", "problems", "Problems", id="home.problems"),
        Binding("escape", "clear_search", "Clear search", show=False, id="home.clear_search"),
        # Priority, like "/": taken when the key arrives, so keys typed after it go to the results, not the box.
        Binding("enter,down,tab", "to_results", "Results, best match first", show=False, priority=True),
    ]

    class SearchSettled(Message):
        """Posted through the search box: by the time it arrives, every letter typed before it is in the box."""

    def __init__(self, session: Session, first_page: FirstPage | None = None) -> None:
        """``first_page``: rows saved by the previous run, shown until the catalog is read."""
        super().__init__()
        self.session = session
        self.first_page = first_page
        self.catalog_note: str | None = None
        self.catalog: Catalog | None = None
        self.index: SearchIndex | None = None
        self.entity_filter = EntityFilter()
        self.query_text = ""
        self._filtered_positions: list[int] | None = None
        # (query, filter) of a first page on screen whose complete list is still being made.
        self._shown_page: tuple[str, EntityFilter] | None = None
        self._had_entity = False  # whether the list had an entity to act on when the keys were last checked
        self._to_results_when_read = False  # Enter pressed in the search before the catalog was read
        self._bar_texts: dict[str, Text] = {}
        self._resumed = False  # whether Textual has activated this screen yet

    def post_message(self, message: Message) -> bool:
        # Textual activates the first screen with a restyle of every widget on it (ScreenResume.refresh_styles);
        # it follows their mount by a moment, so it would only repeat the styling just done: 40% of the start-up's
        # CSS work, before the first frame. Later activations keep Textual's choice.
        if isinstance(message, events.ScreenResume) and not self._resumed:
            self._resumed = True
            message.refresh_styles = False
        return super().post_message(message)

    def compose(self) -> ComposeResult:
        yield Static(self._top_bar_text(), id="top-bar")
        search = Input(placeholder="/ search names, titles, tags, owners…", id="search")
        # A blinking cursor repaints the box twice a second while it has the focus: bytes all the time over SSH.
        search.cursor_blink = self.app.animation_level != "none"
        yield search
        with Horizontal(id="filter-row"):
            yield Static("", id="filter-bar")
            # Its own widget: a keystroke that changes the count repaints these few cells, not the filters.
            yield Static("", id="result-count")
        with Horizontal(id="body"):
            yield EntityList(id="entities")
        yield KeyFooter()

    def on_mount(self) -> None:
        entity_list = self.query_one(EntityList)
        entity_list.focus()
        self._update_filter_bar()
        catalog, index = host(self).catalog, host(self).index
        if catalog is not None and index is not None:
            self.show_catalog(catalog, index)
        elif self.first_page is not None:
            entity_list.set_entities(self.first_page.entities)

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= WIDE_LAYOUT_MIN_WIDTH
        if wide != self.has_class("wide"):
            self.set_class(wide, "wide")
            if wide:
                # Mounted the first time there is room for it: narrow terminals never pay for it.
                if not self.query(FacetPanel):
                    self.query_one("#body").mount(FacetPanel(id="facet-panel"), before=0)
                self._count_facets(list(self.query_one(EntityList).entities), self.entity_filter)

    # -- data -------------------------------------------------------------------------------------

    def show_catalog(self, catalog: Catalog, index: SearchIndex, note: str | None = None) -> None:
        """Display a (re)loaded catalog, keeping the current search, filters and highlighted entity.

        ``note`` says where it came from when that matters ("cached 3 min ago, refreshing…").
        """
        self.catalog, self.index = catalog, index
        self.catalog_note = note
        self.first_page = None
        self._filtered_positions = None
        self.query_one("#top-bar", Static).update(self._top_bar_text())
        if self._to_results_when_read:
            self._to_results_when_read = False
            self._go_to_results()
        self.refresh_results()

    def problems_changed(self) -> None:
        """The catalog's problems grew (the policies' catalog rules answered): the count on the top bar follows."""
        self.query_one("#top-bar", Static).update(self._top_bar_text())

    def set_catalog_note(self, note: str | None) -> None:
        self.catalog_note = note
        self.query_one("#top-bar", Static).update(self._top_bar_text())

    def current_entity(self) -> Entity | None:
        return self.query_one(EntityList).highlighted

    def on_entity_list_highlighted(self, message: EntityList.Highlighted) -> None:
        # The keys that act on an entity are greyed out while there is none (check_action): ask again when the
        # list gets its first entity or loses its last, or the footer would keep them greyed out.
        has_entity = message.entity is not None
        if has_entity != self._had_entity:
            self._had_entity = has_entity
            self.refresh_bindings()

    def _top_bar_text(self) -> Text:
        text = Text()
        text.append("idp-tui", style="bold")
        if self.session.is_demo:
            text.append("  DEMO", style="bold reverse")
        # The catalog's URL as configured may carry user:password@: never on screen (screenshots, screen sharing).
        name = clean(redact_url(self.session.name), one_line=True)
        text.append(f"  {name}" if not self.session.is_demo else "  bundled demo catalog")
        if self.session.read_only:
            # A word, not a colour: it must read on a 16-colour terminal and with NO_COLOR.
            text.append("  READ-ONLY", style="bold reverse")
        if self.catalog is None:
            if self.first_page is not None:
                text.append(f"  ·  {count(self.first_page.total, 'entity')}", style="dim")
                text.append(f"  ·  list from {age_words(self.first_page.age())} ago, reading…", style="dim italic")
            else:
                text.append("  ·  loading…", style="dim")
            return text
        text.append(f"  ·  {count(len(self.catalog), 'entity')}")
        if self.catalog_note:
            text.append(f"  ·  {self.catalog_note}", style="dim italic")
        problems = len(self.catalog.problems)
        if problems:
            text.append(f"  ·  ⚠ {count(problems, 'problem')} (p)", style="bold")
        return text

    def _positions_for_filter(self) -> list[int] | None:
        """Positions passing the facet filters (``None``: no filter, everything passes)."""
        if not self.entity_filter or self.index is None:
            return None
        if self._filtered_positions is None:
            matches = self.entity_filter.matches
            self._filtered_positions = [p for p, e in enumerate(self.index.entities) if matches(e)]
        return self._filtered_positions

    def refresh_results(self) -> None:
        if self.index is not None:
            self._run_search(self.query_text, self.entity_filter)

    @work(thread=True, exclusive=True, group="search")
    def _run_search(self, query: str, entity_filter: EntityFilter) -> None:
        """Search off the UI thread: typing never waits on a large catalog."""
        index = self.index
        if index is None:
            return
        within = self._positions_for_filter()
        # The first screenful answers the keystroke; the complete list (count, scrolling) follows.
        result = index.search_page(query, within=within)
        self._post_results(index, result, entity_filter)
        if not result.complete and get_current_worker().is_cancelled is False:
            self._post_results(index, index.search(query, within=within), entity_filter)

    def _post_results(self, index: SearchIndex, result: SearchResult, entity_filter: EntityFilter) -> None:
        entities = [index.entities[p] for p in result.positions]
        self.app.call_from_thread(self._show_results, result, entity_filter, entities)

    def _show_results(self, result: SearchResult, entity_filter: EntityFilter, entities: list[Entity]) -> None:
        if result.query != self.query_text or entity_filter != self.entity_filter:
            return  # a newer search is on its way
        empty = "No entities match." if self.catalog is not None else "Loading catalog…"
        entity_list = self.query_one(EntityList)
        if self._shown_page == (result.query, entity_filter):
            entity_list.extend_entities(entities)  # the rest of the page shown a moment ago
        else:
            # Stay on the entity highlighted before (in the saved first page, say), when it is near.
            highlighted = entity_list.highlighted
            keys = [e.key for e in entities[:FIRST_PAGE_SIZE]]
            cursor = keys.index(highlighted.key) if highlighted is not None and highlighted.key in keys else 0
            entity_list.set_entities(entities, cursor=cursor, empty_text=empty)
        self._shown_page = None if result.complete else (result.query, entity_filter)
        self._update_filter_bar(len(entities) if result.complete else None, result.exact_count)
        if result.complete and self.has_class("wide"):
            self._count_facets(entities, entity_filter)

    @work(thread=True, exclusive=True, group="facets")
    def _count_facets(self, entities: list[Entity], entity_filter: EntityFilter) -> None:
        counts = facet_counts(entities)
        self.app.call_from_thread(self._show_facet_counts, counts, entity_filter)

    def _show_facet_counts(self, counts: dict, entity_filter: EntityFilter) -> None:
        for panel in self.query(FacetPanel):
            panel.show_counts(counts, entity_filter)

    def _update_filter_bar(self, shown: int | None = None, exact: int | None = None) -> None:
        """Active filters and the result count (``shown`` None: the count is still being made)."""
        text = Text()
        active = self.entity_filter.active()
        if active:
            for facet, value in active:
                text.append(f"{FACET_TITLES[facet]}: ", style="dim")
                text.append(f"{clean(value, one_line=True)}  ", style="bold")
            text.append("(F clears)", style="dim")
        else:
            text.append("No filters · f to filter · / to search", style="dim")
        summary = Text()
        if self.catalog is not None:
            if shown is None:
                summary.append("counting…", style="dim")
            else:
                summary.append(f"{shown:,} shown", style="dim")
                if exact is not None and exact < shown:
                    summary.append(f" ({shown - exact:,} by close spelling)", style="dim")
        self._set_bar("#filter-bar", text)
        self._set_bar("#result-count", summary)

    def _set_bar(self, selector: str, text: Text) -> None:
        """Show ``text`` in a one-line bar, repainting it only when it changed (each repaint is bytes over SSH)."""
        before = self._bar_texts.get(selector)
        if before is not None and before == text:
            return
        self._bar_texts[selector] = text
        # A new width lays the row out again; the same width needs no layout pass (which costs repaints).
        same_width = before is not None and before.cell_len == text.cell_len
        self.query_one(selector, Static).update(text, layout=not same_width)

    # -- search -----------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.refresh_results()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "to_results":
            # screen.focused changes at once; has_focus follows only when the Focus event is handled.
            return self.focused is self.query_one("#search", Input)  # False: the key goes on as usual
        return super().check_action(action, parameters)

    def action_to_results(self) -> None:
        """Leave the search box for the results, for keys typed ahead too (a burst over SSH: "/set⏎↓d").

        The letters before this key may still be queued for the box, and the keys after it would follow them
        there: hold the keys, let the box take its letters, then show that query's results, move the focus
        and deliver the held keys to the list.
        """
        host(self).hold_keys()
        self.query_one("#search", Input).post_message(self.SearchSettled())

    @on(SearchSettled)
    def _search_settled(self) -> None:
        # The box has taken every letter; its Changed messages may still be on their way here.
        self.query_text = self.query_one("#search", Input).value
        if self.index is None:
            # Typed before the catalog was read (the rows are last run's): the keys wait for its results.
            self._to_results_when_read = True
            return
        self._go_to_results()

    def _go_to_results(self) -> None:
        try:
            # The query as typed, searched now: the held keys act on its rows, not on the previous query's.
            index, within = self.index, self._positions_for_filter()
            if index is not None:
                result = index.search_page(self.query_text, within=within)
                self._show_results(result, self.entity_filter, [index.entities[p] for p in result.positions])
            entity_list = self.query_one(EntityList)
            self.set_focus(entity_list)
            entity_list.move_to(0)
        finally:
            host(self).release_keys()

    def action_focus_search(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            search.insert_text_at_cursor("/")  # a "/" typed in the box is text (namespace/name)
        else:
            self.set_focus(search)

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
        self.query_one(EntityList).focus()

    # -- filters ----------------------------------------------------------------------------------

    def set_filter(self, facet: str, value: str | None) -> None:
        self.entity_filter = self.entity_filter.with_value(facet, value)
        self._filtered_positions = None
        self.refresh_results()

    def action_pick_filter(self) -> None:
        from .facet_picker import FacetPickerScreen

        if self.index is None:
            return

        def chosen(choice: tuple[str, str | None] | None) -> None:
            if choice is not None:
                self.set_filter(*choice)

        self.app.push_screen(FacetPickerScreen(list(self.query_one(EntityList).entities), self.entity_filter), chosen)

    def action_clear_filters(self) -> None:
        self.entity_filter = EntityFilter()
        self._filtered_positions = None
        self.refresh_results()

    @on(FacetPanel.Toggled)
    def _facet_toggled(self, event: FacetPanel.Toggled) -> None:
        current = getattr(self.entity_filter, event.facet)
        self.set_filter(event.facet, None if current == event.value else event.value)

    def action_problems(self) -> None:
        from .problems import ProblemsScreen

        if self.catalog is None:
            return
        if not self.catalog.problems:
            self.notify("No problems: every file and entity in the catalog is valid.")
            return
        self.app.push_screen(ProblemsScreen(self.catalog.problems))

    @on(EntityList.Selected)
    def _entity_selected(self, event: EntityList.Selected) -> None:
        self.open_entity(event.entity)

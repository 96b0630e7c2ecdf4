"""One entity: overview, relations (navigable), owner and TechDocs, in tabs."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.errors import CatalogSourceError
from idp_tui.catalog.facets import owner_label
from idp_tui.catalog.model import Catalog
from idp_tui.render.entity_detail import overview, owner_renderable, ref_label, relation_rows
from idp_tui.safe_text import clean
from idp_tui.widgets.docs_view import DocsView
from idp_tui.widgets.key_footer import KeyFooter

from .entity_actions import EntityActions
from .host import host

TABS = ("overview", "relations", "owner", "docs")


def full_relations(entity: Entity) -> list[tuple[str, str]]:
    """``(type, target key)`` of the relations Backstage sent with an entity."""
    relations = entity.raw.get("relations") or []
    return [(r["type"], r["targetRef"]) for r in relations if isinstance(r, dict) and "targetRef" in r]


class EntityScreen(EntityActions):
    """Everything about one entity. Esc goes back to where it was opened from."""

    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="entity.back"),
        Binding("1", "show_tab('overview')", "Overview", show=False, id="entity.tab1"),
        Binding("2", "show_tab('relations')", "Relations", show=False, id="entity.tab2"),
        Binding("3", "show_tab('owner')", "Owner", show=False, id="entity.tab3"),
        Binding("4", "show_tab('docs')", "Docs", show=False, id="entity.tab4"),
    ]

    def __init__(self, entity: Entity, tab: str = "overview") -> None:
        super().__init__()
        self.entity = entity
        self.initial_tab = tab if tab in TABS else "overview"

    @property
    def catalog(self) -> Catalog:
        catalog = host(self).catalog
        assert catalog is not None, "the entity screen opens once the catalog is read"
        return catalog

    def current_entity(self) -> Entity | None:
        return self.entity

    def compose(self) -> ComposeResult:
        entity = self.entity
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(f"{entity.kind} ", style="dim")
        header.append(clean(entity.display_name, one_line=True), style="bold")
        facts = [entity.name if entity.display_name != entity.name else "", entity.spec_type, entity.lifecycle]
        if entity.spec.get("owner"):
            facts.append(owner_label(entity.owner_key))
        header.append(clean("  " + " · ".join(f for f in facts if f), one_line=True), style="dim")
        yield Static(header, id="entity-header")
        with TabbedContent(initial=self.initial_tab):
            with TabPane("Overview", id="overview"), VerticalScroll():
                yield Static(overview(entity, self.catalog), id="overview-body")
            with TabPane("Relations", id="relations"):
                yield OptionList(*self._relation_options(), id="relation-list")
            with TabPane("Owner", id="owner"), VerticalScroll():
                yield Static(owner_renderable(self.catalog, entity), id="owner-body")
            with TabPane("Docs", id="docs"):
                yield DocsView(entity)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.action_show_tab(self.initial_tab)
        if host(self).session.catalog_source.supports_entity_lookup:
            self._fetch_full_entity()

    @work(thread=True, exclusive=True, group="entity")
    def _fetch_full_entity(self) -> None:
        """The list holds a projection: the whole entity is looked up, and so are the relation targets the
        (possibly cached) list does not know, so the page shows what the catalog has now."""
        source = host(self).session.catalog_source
        try:
            full = source.entity(self.entity.key)
            missing = [key for _, key in full_relations(full) if self.catalog.get(key) is None]
            found = source.entities_by_refs(missing) if missing else []
        except CatalogSourceError as error:
            self.app.call_from_thread(self.notify, f"Showing the cached entity: {error}", severity="warning")
            return
        self.app.call_from_thread(self._show_full, full, found)

    async def _show_full(self, full: Entity, targets: list[Entity]) -> None:
        self.catalog.remember(targets)
        tab = self.query_one(TabbedContent).active or self.initial_tab
        self.entity = full
        self.initial_tab = tab
        await self.recompose()
        self.action_show_tab(tab)

    def _relation_options(self) -> list[Option | None]:
        options: list[Option | None] = []
        heading = None
        for group, relation in relation_rows(self.catalog, self.entity.key):
            if group != heading:
                if heading is not None:
                    options.append(None)
                options.append(Option(Text(group, style="bold"), disabled=True))
                heading = group
            label = Text(
                "  " + ref_label(relation.target, self.catalog), style="dim italic" if relation.missing else ""
            )
            options.append(Option(label, id=relation.target))
        if not options:
            options.append(Option(Text("No relations.", style="dim"), disabled=True))
        return options

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "relations":
            self.query_one("#relation-list", OptionList).focus()
        elif tab == "docs":
            self.query_one(DocsView).focus_content()
        else:
            self.query_one(f"#{tab} VerticalScroll", VerticalScroll).focus()

    def action_entity_tab(self, tab: str) -> None:
        # On the entity's own screen these keys switch tabs instead of opening another screen.
        self.action_show_tab(tab)

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(OptionList.OptionSelected, "#relation-list")
    def _open_relation(self, event: OptionList.OptionSelected) -> None:
        target = event.option.id
        entity = self.catalog.get(target) if target else None
        if entity is None:
            self.notify(
                clean(f"{target} is not in the catalog (the relation points at a missing entity).", one_line=True),
                severity="warning",
                markup=False,
            )
            return
        self.open_entity(entity)

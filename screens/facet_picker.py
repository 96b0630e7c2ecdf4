"""Choose a facet, then a value, to filter the entity list (the narrow-terminal way to filter)."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.facets import FACET_TITLES, FACETS, EntityFilter, facet_counts
from idp_tui.render.words import count
from idp_tui.safe_text import clean

ANY = "\0any"


class FacetPickerScreen(ModalScreen[tuple[str, str | None] | None]):
    """Returns ``(facet, value)``; value ``None`` removes that facet's filter. Esc cancels."""

    BINDINGS = [Binding("escape", "back", "Back", id="picker.back")]

    def __init__(self, entities: list[Entity], active: EntityFilter) -> None:
        super().__init__()
        self.entities = entities
        self.active = active
        self.counts: dict[str, Counter] = {}
        self.facet: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Filter by…", classes="picker-title")
            yield OptionList(Option("Counting…", disabled=True))

    def on_mount(self) -> None:
        self._count()

    @work(thread=True, exclusive=True, group="picker")
    def _count(self) -> None:
        counts = facet_counts(self.entities)
        self.app.call_from_thread(self._show_facets, counts)

    def _show_facets(self, counts: dict[str, Counter]) -> None:
        self.counts = counts
        self.facet = None
        self.query_one(".picker-title", Static).update("Filter by…")
        options = []
        for facet in FACETS:
            label = Text(FACET_TITLES[facet])
            chosen = getattr(self.active, facet)
            label.append(f"  {count(len(counts[facet]), 'value')}", style="dim")
            if chosen is not None:
                label.append(clean(f"  (now: {chosen})", one_line=True), style="bold")
            options.append(Option(label, id=facet))
        self._replace(options)

    def _show_values(self, facet: str) -> None:
        self.facet = facet
        self.query_one(".picker-title", Static).update(f"{FACET_TITLES[facet]}: choose a value")
        options = [Option(Text("any (remove this filter)", style="italic"), id=ANY)]
        for value, entities in sorted(self.counts[facet].items(), key=lambda item: (-item[1], item[0])):
            label = Text(clean(value, one_line=True))
            label.append(f"  {entities:,}", style="dim")
            options.append(Option(label, id=value))
        self._replace(options)

    def _replace(self, options: list[Option]) -> None:
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        option_list.add_options(options)
        option_list.highlighted = 0
        option_list.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        if choice is None:
            return
        if self.facet is None:
            self._show_values(choice)
        else:
            self.dismiss((self.facet, None if choice == ANY else choice))

    def action_back(self) -> None:
        if self.facet is not None and self.counts:
            self._show_facets(self.counts)
        else:
            self.dismiss(None)

"""The facet sidebar of wide terminals: top values of each facet with counts; Enter toggles a filter."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..catalog.facets import FACET_TITLES, FACETS, EntityFilter
from ..safe_text import clean

TOP_VALUES = 6


class FacetPanel(OptionList):
    """Facets and their most common values among the listed entities."""

    class Toggled(Message):
        def __init__(self, panel: FacetPanel, facet: str, value: str) -> None:
            super().__init__()
            self.panel = panel
            self.facet = facet
            self.value = value

        @property
        def control(self) -> FacetPanel:
            return self.panel

    def show_counts(self, counts: dict[str, Counter] | None, active: EntityFilter) -> None:
        highlighted = self.highlighted
        self.clear_options()
        if not counts:
            return
        options: list[Option | None] = []
        for facet in FACETS:
            counter = counts.get(facet)
            if not counter:
                continue
            if options:
                options.append(None)
            options.append(Option(Text(FACET_TITLES[facet], style="bold"), disabled=True))
            chosen = getattr(active, facet)
            for value, count in counter.most_common(TOP_VALUES):
                marker = "● " if chosen is not None and chosen.lower() == value.lower() else "  "
                label = Text(marker + clean(value, one_line=True))
                label.append(f" {count:,}", style="dim")
                options.append(Option(label, id=f"{facet}\0{value}"))
        self.add_options(options)
        if highlighted is not None and highlighted < self.option_count:
            self.highlighted = highlighted

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            facet, value = event.option.id.split("\0", 1)
            self.post_message(self.Toggled(self, facet, value))

"""A virtualised entity list: only the visible rows are rendered, so 50,000 entities open instantly.

Moving the cursor repaints just the two rows that change, each as a single styled segment, which keeps
the bytes sent per keystroke low on slow SSH links. Segments are built here directly, past Rich's and Textual's
control-code stripping: every cell comes cleaned from ``entity_cells`` (no escape sequence from a catalog).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..catalog.entity import Entity
from ..render.entity_rows import COLUMNS, entity_cells
from ..safe_text import clean


class ColumnLayout(NamedTuple):
    widths: list[int]
    gap: int


@lru_cache(maxsize=8)
def column_layout(width: int) -> ColumnLayout:
    """Column widths for ``width`` cells; columns on the right are dropped first when it is narrow.

    Two spaces separate columns where there is room, one on an 80-column terminal.
    """
    gap = 2 if width >= 100 else 1
    columns = list(COLUMNS)
    while columns:
        needed = sum(c.min_width for c in columns) + gap * (len(columns) - 1)
        if needed <= width or len(columns) == 1:
            break
        columns.pop()
    widths = [c.min_width for c in columns]
    spare = max(0, width - sum(widths) - gap * (len(columns) - 1))
    total_ratio = sum(c.ratio for c in columns) or 1
    for index, column in enumerate(columns):
        widths[index] += spare * column.ratio // total_ratio
    # Whatever rounding left over goes to the name column.
    widths[min(1, len(widths) - 1)] += width - sum(widths) - gap * (len(columns) - 1)
    return ColumnLayout(widths, gap)


def _row_text(cells: Sequence[str], layout: ColumnLayout) -> str:
    parts = []
    for cell, width in zip(cells, layout.widths, strict=False):  # narrow: fewer columns
        if cell_len(cell) > width:
            cell = set_cell_size(cell, width - 1) + "…"
        parts.append(set_cell_size(cell, width))
    return (" " * layout.gap).join(parts)


class EntityList(ScrollView, can_focus=True):
    """Entities as rows (kind, name, owner, lifecycle, system, tags) with a keyboard cursor."""

    DEFAULT_CSS = """
    EntityList {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
    }
    EntityList > .entity-list--header {
        text-style: bold;
        color: $text-muted;
    }
    EntityList > .entity-list--cursor {
        background: $block-cursor-blurred-background;
    }
    EntityList:focus > .entity-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    EntityList > .entity-list--empty {
        color: $text-muted;
        text-style: italic;
    }
    """

    COMPONENT_CLASSES = {"entity-list--header", "entity-list--cursor", "entity-list--empty"}

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("enter", "select", "Open", id="list.open"),
    ]

    class _EntityMessage(Message):
        def __init__(self, entity_list: EntityList, entity: Entity | None) -> None:
            super().__init__()
            self.entity_list = entity_list
            self.entity = entity

        @property
        def control(self) -> EntityList:
            return self.entity_list

    class Highlighted(_EntityMessage):
        """The cursor moved to another entity (``entity`` is None when the list is empty)."""

    class Selected(_EntityMessage):
        """Enter (or a double click) on an entity."""

    def __init__(
        self,
        *,
        empty_text: str = "Loading catalog…",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entities: Sequence[Entity] = ()
        self._cursor = 0
        self.empty_text = empty_text

    # -- data -------------------------------------------------------------------------------------

    @property
    def entities(self) -> Sequence[Entity]:
        return self._entities

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def highlighted(self) -> Entity | None:
        return self._entities[self._cursor] if self._entities else None

    def set_entities(self, entities: Sequence[Entity], *, cursor: int = 0, empty_text: str | None = None) -> None:
        """Show a new list (a search result, a filter), with the cursor on ``cursor``."""
        previous, previous_cursor, was_at_top = self._entities, self._cursor, round(self.scroll_offset.y) == 0
        self._entities = entities
        if empty_text is not None:
            self.empty_text = empty_text
        self._cursor = max(0, min(cursor, len(entities) - 1))
        self._set_virtual_height(len(entities) + 1)
        if not was_at_top:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._keep_cursor_visible()
        if was_at_top and previous and entities and round(self.scroll_offset.y) == 0:
            self._refresh_changed_rows(previous, previous_cursor)
        else:
            self.refresh()
        self.post_message(self.Highlighted(self, self.highlighted))

    def _refresh_changed_rows(self, previous: Sequence[Entity], previous_cursor: int) -> None:
        """Repaint only the visible rows that differ (and the cursor's): over SSH each repainted row is bytes
        sent, and typing another letter of a name often leaves most of the list as it was."""
        for index in range(min(self._page, max(len(previous), len(self._entities)))):
            same = index < len(previous) and index < len(self._entities) and previous[index] is self._entities[index]
            if not same or index in (previous_cursor, self._cursor):
                self._refresh_row(index)

    def extend_entities(self, entities: Sequence[Entity]) -> None:
        """Replace the list by a longer one that starts the same way, keeping the cursor and scroll."""
        self._entities = entities
        self._set_virtual_height(len(entities) + 1)
        self.refresh()

    def _set_virtual_height(self, height: int) -> None:
        # Assigned only when it changes: each assignment repaints the scrollbar, bytes on every keystroke over SSH.
        size = Size(self.size.width, height)
        if self.virtual_size != size:
            self.virtual_size = size

    def move_to(self, index: int) -> None:
        if not self._entities:
            return
        index = max(0, min(index, len(self._entities) - 1))
        if index == self._cursor:
            return
        previous, self._cursor = self._cursor, index
        if not self._keep_cursor_visible():
            self._refresh_row(previous)
            self._refresh_row(index)
        self.post_message(self.Highlighted(self, self.highlighted))

    # -- rendering --------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_cursor_visible(self) -> bool:
        """Scroll so the cursor row is on screen. Returns whether it scrolled."""
        top = round(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
            return True
        if self._cursor >= top + self._page:
            self.scroll_to(y=self._cursor - self._page + 1, animate=False, immediate=True)
            return True
        return False

    def _refresh_row(self, index: int) -> None:
        screen_y = index - round(self.scroll_offset.y) + 1
        if 1 <= screen_y < self.size.height:
            self.refresh_line(index + 1)  # virtual line: the header occupies line 0

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = column_layout(width)
        if y == 0:
            header = _row_text([c.title for c in COLUMNS[: len(layout.widths)]], layout)
            return Strip([Segment(header, self.get_component_rich_style("entity-list--header"))], width)
        index = round(self.scroll_offset.y) + y - 1
        if not self._entities:
            if y == 1:
                text = set_cell_size(" " + clean(self.empty_text, one_line=True), width)
                return Strip([Segment(text, self.get_component_rich_style("entity-list--empty"))], width)
            return Strip.blank(width, self.rich_style)
        if index >= len(self._entities):
            return Strip.blank(width, self.rich_style)
        text = _row_text(entity_cells(self._entities[index]), layout)
        style: Style = self.rich_style
        if index == self._cursor:
            style = style + self.get_component_rich_style("entity-list--cursor")
        return Strip([Segment(text, style)], width)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._entities) + 1)
        self._keep_cursor_visible()

    def on_focus(self) -> None:
        self._refresh_row(self._cursor)

    def on_blur(self) -> None:
        self._refresh_row(self._cursor)

    async def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._entities):
            self.move_to(index)
            if event.chain >= 2:
                self.action_select()

    # -- actions ----------------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_to(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_to(self._cursor + self._page)

    def action_page_up(self) -> None:
        self.move_to(self._cursor - self._page)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self._entities) - 1)

    def action_select(self) -> None:
        entity = self.highlighted
        if entity is not None:
            self.post_message(self.Selected(self, entity))

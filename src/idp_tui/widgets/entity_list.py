"""A virtualised entity list: only the visible rows are rendered, so 50,000 entities open instantly.

Over SSH every repainted cell is bytes on a slow link, so the list repaints only the screen lines whose content
changed, compared with what each line last showed: moving the cursor repaints two rows; a search keystroke
repaints the rows that now show something else (and of those, only up to the last cell that differs); the header
never. Each row is one styled segment. The list scrolls by itself rather than through Textual's scrollbar (a change
of the result count would otherwise lay the screen out again and repaint every row and the whole scrollbar):
a one-cell thumb at the right edge says where the screen is in the list.

Segments are built here directly, past Rich's and Textual's control-code stripping: every cell comes cleaned
from ``entity_cells`` (no escape sequence from a catalog).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple, Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..catalog.entity import Entity
from ..render.entity_rows import COLUMNS, entity_cells
from ..safe_text import clean
from .list_cursor import ListCursorActions

THUMB = "▐"
_EDGE = 2  # cells right of the columns: a gap and the scroll thumb
WHEEL_ROWS = 3
_ROW_CACHE_SIZE = 2048


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


def thumb_rows(top: int, page: int, total: int) -> range:
    """The rows (0-based, within the page) of the scroll thumb; empty when every row fits on the page."""
    if total <= page or page <= 0:
        return range(0)
    size = max(1, page * page // total)
    start = round(top * (page - size) / max(1, total - page))
    return range(start, start + size)


class EntityList(ListCursorActions, Widget, can_focus=True):
    """Entities as rows (kind, name, owner, lifecycle, system, tags) with a keyboard cursor."""

    DEFAULT_CSS = """
    EntityList {
        height: 1fr;
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
        self._top = 0  # the entity shown on the first row under the header
        self.empty_text = empty_text
        # What each screen line last showed (text, style), as rendered: a line is repainted only when it differs.
        self._shown: dict[int, tuple[str, Style]] = {}
        # What Textual's styles add around our lines (background, opacity, tint...) when they were last compared.
        self._frame: tuple | None = None
        self._rows: dict[int, tuple[Entity, int, str]] = {}  # id(entity) -> (entity, width, row text)

    # -- data -------------------------------------------------------------------------------------

    @property
    def entities(self) -> Sequence[Entity]:
        return self._entities

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def top(self) -> int:
        """The position of the entity on the first row (the list scrolls so the cursor stays on screen)."""
        return self._top

    @property
    def highlighted(self) -> Entity | None:
        return self._entities[self._cursor] if self._entities else None

    def set_entities(self, entities: Sequence[Entity], *, cursor: int = 0, empty_text: str | None = None) -> None:
        """Show a new list (a search result, a filter), scrolled to the top, with the cursor on ``cursor``."""
        self._entities = entities
        if empty_text is not None:
            self.empty_text = empty_text
        self._cursor = max(0, min(cursor, len(entities) - 1))
        self._top = 0
        self._keep_cursor_visible()
        self._repaint_changed()
        self.post_message(self.Highlighted(self, self.highlighted))

    def extend_entities(self, entities: Sequence[Entity]) -> None:
        """Replace the list by a longer one that starts the same way, keeping the cursor and scroll."""
        self._entities = entities
        self._repaint_changed()  # the rows on screen stay; the thumb may move

    def move_to(self, index: int) -> None:
        if not self._entities:
            return
        index = max(0, min(index, len(self._entities) - 1))
        if index == self._cursor:
            return
        self._cursor = index
        self._keep_cursor_visible()
        self._repaint_changed()
        self.post_message(self.Highlighted(self, self.highlighted))

    def scroll_rows(self, rows: int) -> None:
        """Scroll the view by ``rows`` (negative: up) without moving the cursor (the mouse wheel)."""
        top = max(0, min(self._top + rows, len(self._entities) - self._page))
        if top != self._top:
            self._top = top
            self._repaint_changed()

    # -- rendering --------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.size.height - 1)

    def _keep_cursor_visible(self) -> None:
        if self._cursor < self._top:
            self._top = self._cursor
        elif self._cursor >= self._top + self._page:
            self._top = self._cursor - self._page + 1
        self._top = max(0, min(self._top, len(self._entities) - self._page))

    def _row(self, entity: Entity, width: int) -> str:
        cached = self._rows.get(id(entity))
        if cached is not None and cached[0] is entity and cached[1] == width:
            return cached[2]
        if len(self._rows) >= _ROW_CACHE_SIZE:
            self._rows.clear()
        text = _row_text(entity_cells(entity), column_layout(width))
        self._rows[id(entity)] = (entity, width, text)
        return text

    def _line(self, y: int) -> tuple[str, Style]:
        """What screen line ``y`` shows: its text (exactly the widget's width) and style."""
        width = self.size.width
        if y == 0:
            layout = column_layout(max(1, width - _EDGE))
            header = _row_text([c.title for c in COLUMNS[: len(layout.widths)]], layout)
            return set_cell_size(header, width), self.get_component_rich_style("entity-list--header")
        if not self._entities:
            if y == 1:
                text = set_cell_size(" " + clean(self.empty_text, one_line=True), width)
                return text, self.get_component_rich_style("entity-list--empty")
            return " " * width, self.rich_style
        if width <= _EDGE:
            return " " * width, self.rich_style
        index = self._top + y - 1
        thumb = THUMB if y - 1 in thumb_rows(self._top, self._page, len(self._entities)) else " "
        edge = " " * (_EDGE - 1) + thumb  # a gap, then the thumb in the last cell
        if index >= len(self._entities):
            return " " * (width - _EDGE) + edge, self.rich_style
        style = self.rich_style
        if index == self._cursor:
            style = style + self.get_component_rich_style("entity-list--cursor")
        return self._row(self._entities[index], max(1, width - _EDGE)) + edge, style

    def render_line(self, y: int) -> Strip:
        if self._frame is None:
            self._frame = self._styles_frame()
        text, style = self._line(y)
        self._shown[y] = (text, style)
        return Strip([Segment(text, style)], cell_len(text))

    def refresh_line(self, y: int) -> None:
        """Repaint screen line ``y`` in full."""
        self.refresh(Region(0, y, self.size.width, 1))

    def _refresh_start(self, y: int, cells: int) -> None:
        """Repaint the first ``cells`` of screen line ``y`` (the rest shows the same as before)."""
        self.refresh(Region(0, y, cells, 1))

    def _styles_frame(self) -> tuple:
        """What Textual's styles do to every line beyond our text and style: when it changes, all lines repaint."""
        styles = self.styles
        return (
            self.size,
            self.background_colors,
            self.opacity,
            styles.tint,
            styles.text_opacity,
            tuple(self.get_line_filters()),
            self.app.ansi_theme,
        )

    def _repaint_changed(self) -> None:
        """Repaint the screen lines that show something else than they last did (and only up to where they differ)."""
        if not self.is_mounted or not self.size:
            return
        for y in range(self.size.height):
            shown = self._shown.get(y)
            text, style = self._line(y)
            if shown is None or shown[1] != style or len(shown[0]) != len(text):
                self.refresh_line(y)
            elif shown[0] != text:
                # Same style and length: cells after the last difference are unchanged. (Terminals are told where to
                # start each update, never where to skip to, so the start of the line goes again.)
                common = len(_common_suffix(shown[0], text))
                self._refresh_start(y, self.size.width - cell_len(text[len(text) - common :]))

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Textual asks for a whole repaint on focus, blur and style changes: only the lines that changed repaint.

        The cursor row is all that focus changes, for instance; a new theme or size still repaints every line.
        """
        if regions or not repaint or recompose or not self.is_mounted or not self._shown:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        self.notify_style_update()  # style caches: the component styles may have just changed
        frame = self._styles_frame()
        if frame != self._frame:
            self._frame = frame
            self._shown.clear()
            return super().refresh(repaint=True, layout=layout)
        if layout:
            super().refresh(repaint=False, layout=True)
        self._repaint_changed()
        return self

    def on_resize(self, event: events.Resize) -> None:
        self._shown.clear()
        self._frame = None
        self._keep_cursor_visible()
        self.refresh()

    async def on_click(self, event: events.Click) -> None:
        index = self._top + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._entities):
            self.move_to(index)
            if event.chain >= 2:
                self.action_select()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(WHEEL_ROWS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-WHEEL_ROWS)

    # -- actions ----------------------------------------------------------------------------------

    def _row_total(self) -> int:
        return len(self._entities)

    def action_select(self) -> None:
        entity = self.highlighted
        if entity is not None:
            self.post_message(self.Selected(self, entity))


def _common_suffix(a: str, b: str) -> str:
    """The longest string both ``a`` and ``b`` end with."""
    length = min(len(a), len(b))
    count = 0
    while count < length and a[-1 - count] == b[-1 - count]:
        count += 1
    return a[len(a) - count :] if count else ""

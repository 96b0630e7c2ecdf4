"""The Deployments view's rows, virtualised: only the rows on screen are rendered, so a service with thousands of
pods opens, scrolls and follows its watches as fast as one with three.

A row is turned into a line of cells only when it is on screen (and kept in a small cache while it stays
there); replacing the rows repaints only the visible lines whose text changed, and moving the cursor repaints
the two lines it leaves and reaches. Each row is one line: what does not fit ends in "…" (the screen shows the
highlighted row whole below the list). It looks like the ``OptionList`` it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..render.rows import DeploymentRow
from .list_cursor import ListCursorActions


class DeploymentList(ListCursorActions, ScrollView, can_focus=True):
    """The rows of the Deployments view (clusters, applications, workloads, pods, problems, events) with a cursor."""

    DEFAULT_CSS = """
    DeploymentList {
        height: 1fr;
        color: $foreground;
        overflow-x: hidden;
        border: tall $border-blurred;
        padding: 0 1;
        background: $surface;
        & > .deployment-list--cursor {
            color: $foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            border: tall $border;
            background-tint: $foreground 5%;
            & > .deployment-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    COMPONENT_CLASSES = {"deployment-list--cursor"}

    # The entity list's ids: a keymap that moves one list moves every list.
    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("enter", "select", "Open", show=False, id="list.open"),
    ]

    class _RowMessage(Message):
        def __init__(self, deployment_list: DeploymentList, index: int, row: DeploymentRow | None) -> None:
            super().__init__()
            self.deployment_list = deployment_list
            self.index = index
            self.row = row

        @property
        def control(self) -> DeploymentList:
            return self.deployment_list

    class Highlighted(_RowMessage):
        """The cursor is on another row, or its row was replaced (``row`` is None when there are no rows)."""

    class Selected(_RowMessage):
        """Enter (or a click) on a row."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: Sequence[DeploymentRow] = ()
        self._cursor = 0
        self._strips: LRUCache[tuple, tuple[Text, Strip]] = LRUCache(maxsize=512)
        self.rows_rendered = 0
        """How many times a row was turned into a line of cells (what rendering costs; the rest is cached)."""
        self.lines_drawn = 0
        """How many lines Textual asked for (a repaint of the lines that changed asks only for those)."""

    # -- data -------------------------------------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[DeploymentRow]:
        """The rows, in order."""
        return self._rows

    @property
    def row_count(self) -> int:
        """How many rows there are (on screen or not)."""
        return len(self._rows)

    @property
    def highlighted(self) -> int | None:
        """The cursor's row index, None when there are no rows; setting it moves the cursor there (scrolling)."""
        return self._cursor if self._rows else None

    @highlighted.setter
    def highlighted(self, index: int | None) -> None:
        if index is not None:
            self.move_to(index)

    @property
    def highlighted_row(self) -> DeploymentRow | None:
        """The row under the cursor."""
        return self._rows[self._cursor] if self._rows else None

    def shown_text(self, index: int) -> str:
        """Row ``index`` as its line shows it now: cut to the list's width, ending in "…" when cut."""
        return self._fitted(self._rows[index], self._text_width()).plain

    def set_rows(self, rows: Sequence[DeploymentRow], cursor: int | None = None) -> None:
        """Show ``rows`` with the cursor on ``cursor`` (where it was when None), repainting only the visible lines
        that changed (and the cursor's)."""
        previous, previous_cursor, previous_row = self._rows, self._cursor, self.highlighted_row
        self._rows = rows
        wanted = self._cursor if cursor is None else cursor
        self._cursor = max(0, min(wanted, len(rows) - 1))
        self._set_virtual_height(len(rows))
        if not self._keep_cursor_visible():
            self._refresh_changed(previous, previous_cursor)
        row = self.highlighted_row
        if row is not previous_row or self._cursor != previous_cursor:
            self.post_message(self.Highlighted(self, self._cursor, row))

    def _refresh_changed(self, previous: Sequence[DeploymentRow], previous_cursor: int) -> None:
        """Repaint the visible lines whose row reads differently now, and those the cursor left and reached: over
        SSH every repainted line is bytes."""
        top = round(self.scroll_offset.y)
        for index in range(top, top + self._page):
            old = previous[index] if index < len(previous) else None
            new = self._rows[index] if index < len(self._rows) else None
            same = old is new or (
                old is not None and new is not None and (old.text is new.text or old.text == new.text)
            )
            moved = previous_cursor != self._cursor and index in (previous_cursor, self._cursor)
            if not same or moved:
                self.refresh_line(index)

    def _set_virtual_height(self, height: int) -> None:
        # The width is the widget's, which the vertical scrollbar coming or going does not change.
        size = Size(self.size.width, height)
        if self.virtual_size == size:
            return
        scrolls = height > self.scrollable_content_region.height
        if self.size and scrolls and self.show_vertical_scrollbar:
            # More or fewer rows under a scrollbar already shown (pods coming and going under a watch): only the
            # scrollbar is redrawn. Assigning the reactive would repaint every line of the list, every update.
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def move_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped), scrolling it into view."""
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        if index == self._cursor:
            return
        previous, self._cursor = self._cursor, index
        if not self._keep_cursor_visible():
            self.refresh_line(previous)
            self.refresh_line(index)
        self.post_message(self.Highlighted(self, index, self._rows[index]))

    # -- rendering --------------------------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _keep_cursor_visible(self) -> bool:
        """Scroll so the cursor's row is on screen. Returns whether it scrolled (which repaints every line)."""
        top = round(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
            return True
        if self._cursor >= top + self._page:
            self.scroll_to(y=self._cursor - self._page + 1, animate=False, immediate=True)
            return True
        return False

    def _text_width(self) -> int:
        # One cell is left blank before the edge, as the list always did.
        return max(1, self.scrollable_content_region.width - 1)

    @staticmethod
    def _fitted(row: DeploymentRow, width: int) -> Text:
        line = row.text.copy()
        line.truncate(width, overflow="ellipsis")
        return line

    def render_line(self, y: int) -> Strip:
        self.lines_drawn += 1
        index = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        cursor = index == self._cursor
        # By the text: a rebuilt row that reads the same (most of them, under a watch storm) is not drawn again.
        key = (id(row.text), width, cursor, self.has_focus, self.app.theme)
        cached = self._strips.get(key)
        if cached is not None and cached[0] is row.text:
            return cached[1]
        style: Style = self.rich_style
        if cursor:
            style = style + self.get_component_rich_style("deployment-list--cursor")
        segments = self._fitted(row, self._text_width()).render(self.app.console)
        strip = Strip(Segment.apply_style(segments, style), None).extend_cell_length(width, style).crop(0, width)
        self.rows_rendered += 1
        self._strips[key] = (row.text, strip)
        return strip

    def notify_style_update(self) -> None:
        # A theme or CSS change: every line is drawn again in the new colours.
        super().notify_style_update()
        self._strips.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._set_virtual_height(len(self._rows))
        self._keep_cursor_visible()

    def on_focus(self) -> None:
        self.refresh_line(self._cursor)

    def on_blur(self) -> None:
        self.refresh_line(self._cursor)

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # None on the border or padding
        index = round(self.scroll_offset.y) + offset.y if offset is not None else -1
        if 0 <= index < len(self._rows):
            self.move_to(index)
            self.action_select()

    # -- actions ----------------------------------------------------------------------------------------------------

    def _row_total(self) -> int:
        return len(self._rows)

    def action_select(self) -> None:
        row = self.highlighted_row
        if row is not None:
            self.post_message(self.Selected(self, self._cursor, row))

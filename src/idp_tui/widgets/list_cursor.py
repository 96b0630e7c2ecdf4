"""The cursor keys of idp-tui's line-API lists (the entity list, the Deployments list), written once."""

from __future__ import annotations

from collections.abc import Callable


class ListCursorActions:
    """Down, up, page down, page up, first and last for a list widget.

    The widget provides ``move_to(index)`` (which clamps), ``_cursor`` (the highlighted row), ``_page`` (rows
    that fit on screen) and ``_row_total()`` (how many rows there are).
    """

    _cursor: int
    _page: int
    move_to: Callable[[int], None]
    _row_total: Callable[[], int]

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
        self.move_to(self._row_total() - 1)

"""Entity and problem tables for terminal output."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from ..catalog.entity import Entity
from .entity_rows import COLUMNS, entity_cells


def entity_table(entities: Iterable[Entity]) -> Table:
    """The entity list as a Rich table for the terminal: the list's columns, cells as plain text (never markup)."""
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for column in COLUMNS:
        table.add_column(column.title, no_wrap=True, overflow="ellipsis", min_width=min(column.min_width, 10))
    for entity in entities:
        # Text, not str: a str cell is Rich markup, and a catalog's "[/x]" would raise.
        table.add_row(*(Text(cell) for cell in entity_cells(entity)))
    return table

"""The columns of an entity list, as plain text: one definition for the CLI table and the TUI list."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog.entity import Entity
from ..catalog.facets import owner_label
from ..catalog.refs import split_key
from ..safe_text import clean


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the entity list: its title, the width it never goes under, and its share of spare width."""

    title: str
    min_width: int
    ratio: int  # share of the spare width


COLUMNS = (
    Column("KIND", 9, 0),
    Column("NAME", 18, 3),
    Column("OWNER", 13, 2),
    Column("LIFECYCLE", 12, 0),
    Column("SYSTEM", 10, 2),
    Column("TAGS", 8, 4),
)


def entity_cells(entity: Entity) -> tuple[str, str, str, str, str, str]:
    """``(kind, name, owner, lifecycle, system, tags)`` for one entity, each one line of printable text.

    The name, not the title, identifies a row: it is what refs, kubectl and searches use. Every cell is cleaned
    here, once for the CLI table and the TUI list: a catalog's ``spec.lifecycle`` may hold ``ESC ] 52``.
    """
    spec = entity.spec
    owner = owner_label(entity.owner_key) if spec.get("owner") else ""
    system = split_key(entity.system_key)[2] if spec.get("system") else ""
    cells = (entity.kind, entity.name, owner, entity.lifecycle, system, ", ".join(entity.tags))
    return tuple(clean(cell, one_line=True) for cell in cells)  # type: ignore[return-value]

"""The capability every catalog backend offers (local files today; a Backstage API source implements it too)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .model import Catalog


@runtime_checkable
class CatalogSource(Protocol):
    """Somewhere entities come from."""

    @property
    def label(self) -> str:
        """A short human description of the source (a path or a URL), shown in the UI."""
        ...

    def load(self) -> Catalog:
        """Read the whole catalog. Problems with individual entities are reported in the catalog, not raised."""
        ...

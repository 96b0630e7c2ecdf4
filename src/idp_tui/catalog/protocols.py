"""The catalog capability: what every catalog backend offers, and what only some declare they can do.

A caller checks a declared flag before using an optional part (never ``getattr`` probing). Backends subclass
:class:`CatalogSource` to say they implement it; the optional parts they do not offer keep the defaults here.
Every failure is a :class:`~idp_tui.catalog.errors.CatalogSourceError` (or a subclass), worded for the user.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from .errors import CatalogSourceError

if TYPE_CHECKING:  # annotations only: the TUI's first frame needs the protocol, not the model
    from .entity import Entity
    from .model import Catalog


@runtime_checkable
class CatalogSource(Protocol):
    """Somewhere entities come from: local files, or a Backstage backend."""

    #: ``entity(key)`` and ``entities_by_refs(keys)`` ask the backend. Such a source's ``load()`` may list entities
    #: projected to what lists need: a view or a run that needs one whole asks ``entity(key)``.
    supports_entity_lookup: ClassVar[bool] = False
    #: ``load_cached()`` returns the last catalog read and when, to show at once while ``load()`` refreshes.
    supports_cached_copy: ClassVar[bool] = False

    @property
    @abstractmethod
    def label(self) -> str:
        """A short human description of the source (a path or a URL), shown in the UI."""

    @abstractmethod
    def load(self) -> Catalog:
        """Read the whole catalog. Problems with individual entities are reported in the catalog, not raised.

        Raises:
            CatalogSourceError: the catalog as a whole could not be read.
        """

    def entity(self, key: str) -> Entity:
        """One entity, whole (every field, relations included), for a key or ref such as ``component:default/a``.

        Raises:
            CatalogSourceError: no such entity, or the backend could not be asked.
        """
        raise CatalogSourceError(f"{self.label} cannot look up single entities")

    def entities_by_refs(self, keys: list[str]) -> list[Entity]:
        """The entities these refs name, with what a list shows of them; refs the backend does not know are left out.

        Raises:
            CatalogSourceError: the backend could not be asked.
        """
        raise CatalogSourceError(f"{self.label} cannot look up entities by ref")

    def load_cached(self) -> tuple[Catalog, float] | None:
        """The last catalog read and the epoch seconds it was saved at; None when there is none. Never raises."""
        return None

"""The catalog capability's errors: what a catalog backend raises, worded for the person reading it."""

from __future__ import annotations


class CatalogSourceError(Exception):
    """A catalog could not be read (a path that does not exist, a backend that refused or could not be reached).

    ``str()`` is one line for the user. Backends raise this family (Backstage's ``BackstageError`` is one), so a
    screen or command catches it without knowing which backend serves the catalog.
    """

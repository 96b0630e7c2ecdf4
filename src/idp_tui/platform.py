"""Wires the active backends: which catalog source (and later scaffolder, clusters, on-call, secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog.local_source import LocalCatalogSource
from .catalog.protocols import CatalogSource
from .resources import demo_catalog_path


@dataclass(frozen=True)
class Platform:
    """The backends one session talks to."""

    catalog_source: CatalogSource
    is_demo: bool
    name: str
    # Where files derived from the catalog are kept (None: the user's cache directory);
    # use_cache False means nothing is read from there or written there.
    cache_dir: Path | None = None
    use_cache: bool = True


class PlatformError(ValueError):
    """Options that cannot make a working platform (said in one line to the user)."""


def build_platform(catalog: str | None = None, *, use_cache: bool = True, cache_dir: Path | None = None) -> Platform:
    """The platform for the given options: ``catalog`` is a local path; none means the bundled demo.

    Raises:
        PlatformError: the catalog path does not exist.
    """
    if catalog is not None and not Path(catalog).exists():
        raise PlatformError(f"catalog {catalog}: no such file or directory")
    paths = [demo_catalog_path()] if catalog is None else [catalog]
    source = LocalCatalogSource(paths, use_cache=use_cache, cache_dir=cache_dir)
    return Platform(
        source,
        is_demo=catalog is None,
        name="demo" if catalog is None else catalog,
        cache_dir=cache_dir,
        use_cache=use_cache,
    )

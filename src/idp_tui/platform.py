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


def build_platform(catalog: str | None = None, *, use_cache: bool = True, cache_dir: Path | None = None) -> Platform:
    """The platform for the given options: ``catalog`` is a local path; none means the bundled demo."""
    if catalog is None:
        source = LocalCatalogSource([demo_catalog_path()], use_cache=use_cache, cache_dir=cache_dir)
        return Platform(source, is_demo=True, name="demo")
    source = LocalCatalogSource([catalog], use_cache=use_cache, cache_dir=cache_dir)
    return Platform(source, is_demo=False, name=catalog)

"""Wiring the local runner for a platform: where it publishes, registers and which backend it calls."""

from __future__ import annotations

from pathlib import Path

from ..catalog.model import Catalog
from .actions import builtin_actions
from .actions.base import RunSettings
from .demo_backend import demo_backstage_handler
from .runner import LocalTaskRunner


def local_runner(
    catalog: Catalog, *, publish_root: Path, registry_dir: Path, demo_store: Path | None
) -> LocalTaskRunner:
    """A runner that refuses to register what ``catalog`` already holds."""
    settings = RunSettings(
        publish_root=publish_root,
        registry_dir=registry_dir,
        existing_entity_keys=frozenset(catalog.by_key),
        backstage_request=demo_backstage_handler(demo_store) if demo_store is not None else None,
    )
    return LocalTaskRunner(builtin_actions(), settings)

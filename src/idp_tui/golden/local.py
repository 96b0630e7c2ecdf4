"""Wiring the local runner for a platform: where it publishes, registers and which backend it calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..catalog.model import Catalog
from ..secrets.models import SecretStore
from .actions import builtin_actions
from .actions.base import RunSettings
from .local_backend import local_backstage_handler
from .runner import LocalTaskRunner


def local_runner(
    catalog: Catalog,
    *,
    publish_root: Path,
    registry_dir: Path,
    secret_store: Callable[[], SecretStore] | None = None,
    vault_defaults: Any = None,
) -> LocalTaskRunner:
    """A runner that refuses to register what ``catalog`` already holds."""
    settings = RunSettings(
        publish_root=publish_root,
        registry_dir=registry_dir,
        existing_entity_keys=frozenset(catalog.by_key),
        backstage_request=local_backstage_handler(secret_store, vault_defaults) if secret_store is not None else None,
        secret_store=secret_store,
        vault_defaults=vault_defaults,
    )
    return LocalTaskRunner(builtin_actions(), settings)

"""Making a local runner from plain settings: where it publishes and registers, and which backend it calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..catalog.model import Catalog
from ..secrets.models import ProvisionDefaults, SecretStore
from .actions import builtin_actions
from .actions.base import RunSettings
from .guardrails import Guardrails
from .local_backend import local_backstage_handler
from .runner import LocalTaskRunner
from .template import Template


def local_runner(
    catalog: Catalog,
    *,
    publish_root: Path,
    registry_dir: Path,
    secret_store: Callable[[], SecretStore] | None = None,
    vault_defaults: ProvisionDefaults | None = None,
    whole_template: Callable[[str], Template] | None = None,
    guardrails: Guardrails | None = None,
) -> LocalTaskRunner:
    """A runner that refuses to register what ``catalog`` already holds.

    ``secret_store`` makes the session's secret store on first use (for ``vault:provision`` and the
    ``/api/vault-provisioner`` route); ``vault_defaults`` are the profile's provisioning defaults;
    ``whole_template`` reads a template whole where the catalog lists projections; ``guardrails`` judge what a run
    would produce before anything is published (the session's policies).
    """
    settings = RunSettings(
        publish_root=publish_root,
        registry_dir=registry_dir,
        existing_entity_keys=frozenset(catalog.by_key),
        backstage_request=local_backstage_handler(secret_store, vault_defaults) if secret_store is not None else None,
        secret_store=secret_store,
        vault_defaults=vault_defaults,
    )
    return LocalTaskRunner(builtin_actions(), settings, whole_template=whole_template, guardrails=guardrails)

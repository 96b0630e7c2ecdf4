"""Which secret store a session uses: the profile's Vault, else $VAULT_ADDR, else (on the demo catalog only) the
demo Vault, started on first use.

A Vault the person named always wins, on the demo catalog too: the demo Vault never answers in its place. When
the demo Vault does answer, the store says so (``is_demo``) and every view and command shows it. The demo Vault
speaks Vault's HTTP API on 127.0.0.1, so the demo goes through hvac exactly as a real Vault does.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from .models import ProvisionPlan, ProvisionRequest, ProvisionResult, SecretListing, SecretsError, SecretStore

if TYPE_CHECKING:
    from ..platform import Platform

NOT_CONFIGURED = "No Vault configured: set VAULT_ADDR (and VAULT_TOKEN), or add a vault section to the profile"
DEMO_NAME = "the demo Vault"
READ_ONLY = "read-only mode is on: nothing is written to {name} (a dry run still shows what would be created)"


class ReadOnlySecretStore:
    """A store that reads and plans but refuses every write, whoever asks (an action, the provisioner route).

    Refusing here, not only in the screens, keeps a read-only session read-only whatever path a run takes.
    """

    def __init__(self, store: SecretStore) -> None:
        self._store = store
        self.name = store.name
        self.is_demo = store.is_demo

    def list_secrets(self, path: str, *, mount: str = "secret") -> SecretListing:
        return self._store.list_secrets(path, mount=mount)

    def plan(self, request: ProvisionRequest) -> ProvisionPlan:
        return self._store.plan(request)

    def provision(self, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
        """A dry run is passed on (it only reads); anything else raises SecretsError kind ``read-only``."""
        if not dry_run:
            raise SecretsError(READ_ONLY.format(name=self.name), kind="read-only")
        return self._store.provision(request, dry_run=True)

    def unprovision(self, result: ProvisionResult) -> None:
        raise SecretsError(READ_ONLY.format(name=self.name), kind="read-only")


class SecretAccess:
    """Hands out this session's :class:`SecretStore`, made once; ``close()`` stops the demo Vault if it started."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self._store: SecretStore | None = None
        self._demo = None

    @property
    def source(self) -> str:
        """Where this session's Vault comes from: ``profile``, ``environment`` ($VAULT_ADDR), ``demo`` or ``none``.

        Decided from settings alone (nothing is started or asked), so a view can say "demo Vault" at once.
        """
        profile = self.platform.profile
        if profile is not None and profile.vault is not None:
            return "profile"
        if os.environ.get("VAULT_ADDR", "").strip():
            return "environment"
        return "demo" if self.platform.is_demo else "none"

    @property
    def is_demo(self) -> bool:
        """The demo Vault answers this session (no Vault named, on the demo catalog)."""
        return self.source == "demo"

    def store(self) -> SecretStore:
        """The store, started or logged in on first use.

        In a read-only session the store refuses writes (:class:`ReadOnlySecretStore`).

        Raises:
            SecretsError: kind ``config`` when no Vault is configured.
        """
        with self._lock:
            if self._store is None:
                store = self._make()
                self._store = ReadOnlySecretStore(store) if self.platform.read_only else store
            return self._store

    def _make(self) -> SecretStore:
        from .vault import VaultSecretStore, vault_store_from_settings

        source = self.source
        if source == "demo":
            from .demo_vault.server import DemoVault

            self._demo = DemoVault(self.platform.user_state / "demo-vault.json", seed=True)
            url = self._demo.start()
            root = self._demo.root_token
            return VaultSecretStore(url, token_provider=lambda: root, name=DEMO_NAME, is_demo=True)
        profile = self.platform.profile
        store = vault_store_from_settings(profile.vault if profile is not None else None, os.environ)
        if store is None:
            raise SecretsError(NOT_CONFIGURED, kind="config")
        return store

    def __enter__(self) -> SecretAccess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._demo is not None:
                self._demo.stop()
                self._demo = None
            self._store = None

"""A read-only session's secret store: it reads and plans, and refuses every write, whoever asks."""

from __future__ import annotations

from .models import ProvisionPlan, ProvisionRequest, ProvisionResult, SecretListing, SecretsError, SecretStore

READ_ONLY = "read-only mode is on: nothing is written to {name} (a dry run still shows what would be created)"


class ReadOnlySecretStore(SecretStore):
    """A store that reads and plans but refuses every write, whoever asks (an action, the provisioner route).

    Refusing here, not only in the screens, keeps a read-only session read-only whatever path a run takes.
    """

    def __init__(self, store: SecretStore) -> None:
        self._store = store
        self.name = store.name
        self.is_demo = store.is_demo

    def list_secrets(self, path: str, *, mount: str = "secret") -> SecretListing:
        """The wrapped store's listing: reading is allowed."""
        return self._store.list_secrets(path, mount=mount)

    def plan(self, request: ProvisionRequest) -> ProvisionPlan:
        """The wrapped store's plan: planning only reads."""
        return self._store.plan(request)

    def provision(self, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
        """A dry run is passed on (it only reads); anything else raises SecretsError kind ``read-only``."""
        if not dry_run:
            raise SecretsError(READ_ONLY.format(name=self.name), kind="read-only")
        return self._store.provision(request, dry_run=True)

    def unprovision(self, result: ProvisionResult) -> None:
        """Refused, always.

        Raises:
            SecretsError: kind ``read-only``.
        """
        raise SecretsError(READ_ONLY.format(name=self.name), kind="read-only")

"""What idp-tui knows about secrets: keys and their metadata (never values), and a service's provisioning plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class SecretsError(Exception):
    """Vault could not answer; the message says why in words (sealed, 403 on a path, unreachable, token expired)
    and never contains a token or a secret value.

    ``kind``: ``sealed``, ``forbidden``, ``not-found``, ``auth`` (token missing, expired or rejected), ``unreachable``,
    ``timeout``, ``conflict``, ``server``, ``config``.
    """

    def __init__(self, message: str, *, kind: str, path: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


@dataclass(frozen=True)
class SecretKey:
    """One secret under a service's path: its name and KV v2 metadata."""

    name: str  # relative to the listed path; a trailing "/" marks a folder
    current_version: int | None = None
    versions: int | None = None
    created: datetime | None = None  # when the secret was first written
    updated: datetime | None = None  # when the current version was written
    deleted: bool = False  # the current version is soft-deleted or destroyed


@dataclass(frozen=True)
class SecretListing:
    """The keys under ``mount/path`` and which ACL policies grant read on them."""

    mount: str
    path: str
    keys: tuple[SecretKey, ...]
    readers: tuple[str, ...] = ()  # policy names with read on mount/data/path/*
    notes: tuple[str, ...] = ()

    def kv_get_command(self, key: str) -> str:
        """The ``vault kv get`` command a person runs to read one value themselves."""
        return f"vault kv get -mount={self.mount} {self.path.rstrip('/')}/{key}"


@dataclass(frozen=True)
class ProvisionRequest:
    """A service's secrets home: ``<mount>/<team>/<service>/``, a policy for the team, optionally a Kubernetes role."""

    team: str
    service: str
    mount: str = "secret"
    # Bind the service's service account (in ``namespace``) to the policy through Kubernetes auth.
    kubernetes_role: bool = False
    namespace: str | None = None
    service_account: str | None = None
    kubernetes_mount: str = "kubernetes"


@dataclass(frozen=True)
class ProvisionPlan:
    """Everything provisioning would create, shown by a dry run."""

    secret_path: str  # mount/team/service/
    placeholder: str  # the placeholder secret's full path (mount/team/service/placeholder)
    policy_name: str
    policy_hcl: str
    role_name: str | None = None
    role: dict | None = None  # auth/<kubernetes_mount>/role/<role_name> body


@dataclass(frozen=True)
class ProvisionResult:
    plan: ProvisionPlan
    created: tuple[str, ...] = ()  # one line per thing made ("policy team-a-billing")
    unchanged: tuple[str, ...] = ()  # already there exactly as planned
    dry_run: bool = False
    messages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.created)


class SecretStore(Protocol):
    """A place secrets live (Vault, or the demo Vault). Implementations raise :class:`SecretsError`."""

    name: str

    def list_secrets(self, path: str, *, mount: str = "secret") -> SecretListing:
        """The keys under ``mount/path`` with their metadata and readers; values are never requested."""
        ...

    def plan(self, request: ProvisionRequest) -> ProvisionPlan:
        """What provisioning ``request`` would create (no request is sent)."""
        ...

    def provision(self, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
        """Create what is missing; a second run changes nothing and says so.

        Raises:
            SecretsError: kind ``conflict`` when a policy or role of that name exists with other contents (it is
                reported, never overwritten), or any Vault failure.
        """
        ...

    def unprovision(self, result: ProvisionResult) -> None:
        """Remove exactly what ``result`` created (a later golden-path step failed)."""
        ...

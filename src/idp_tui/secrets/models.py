"""What idp-tui knows about secrets: keys and their metadata (never values), and a service's provisioning plan."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class SecretsError(Exception):
    """Vault could not answer; the message says why in words (sealed, 403 on a path, unreachable, token expired)
    and never contains a token or a secret value.

    ``kind``: ``sealed``, ``forbidden``, ``not-found`` (a path, or a mount or auth method that is not there), ``auth``
    (token missing, expired or rejected), ``unreachable``, ``timeout``, ``conflict``, ``server``, ``config``,
    ``read-only``.
    """

    def __init__(self, message: str, *, kind: str, path: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


@dataclass(frozen=True)
class VaultMount:
    """The secrets engine (or auth method) serving a path, as Vault's ``sys/internal/ui/mounts/<path>`` says.

    ``path`` has no trailing slash (``secret``, ``apps/team``; an auth method's without ``auth/``); ``kv_version``
    is 1 or 2 for a KV engine and None for anything else.
    """

    path: str
    type: str
    kv_version: int | None = None

    def relative(self, full: str) -> str:
        """``full`` (``mount/path``) as a path inside this mount."""
        full = full.strip("/")
        return full[len(self.path) :].strip("/") if full == self.path or full.startswith(self.path + "/") else full


@dataclass(frozen=True)
class SecretKey:
    """One entry under a service's path: a secret (with its KV v2 metadata) or a folder."""

    name: str  # relative to the listed path; a trailing "/" marks a folder
    current_version: int | None = None
    versions: int | None = None
    created: datetime | None = None  # when the secret was first written
    updated: datetime | None = None  # when the current version was written
    deleted: bool = False  # the current version is soft-deleted or destroyed

    @property
    def is_folder(self) -> bool:
        """A folder holds further keys; it is not a secret and has no value or metadata of its own."""
        return self.name.endswith("/")


@dataclass(frozen=True)
class SecretListing:
    """The keys under ``mount/path`` and which ACL policies grant read on them."""

    mount: str
    path: str
    keys: tuple[SecretKey, ...]
    readers: tuple[str, ...] = ()  # policy names with read on every secret here (mount/data/path/* on KV v2)
    notes: tuple[str, ...] = ()
    kv_version: int = 2  # KV version 1 keeps no versions, times or metadata
    readers_known: bool = True  # False: the token may not read the policies, so nobody can tell who reads

    @property
    def secrets(self) -> tuple[SecretKey, ...]:
        """The keys that are secrets, not folders."""
        return tuple(key for key in self.keys if not key.is_folder)

    @property
    def folders(self) -> tuple[SecretKey, ...]:
        """The keys that are folders (their names end in ``/``)."""
        return tuple(key for key in self.keys if key.is_folder)

    def kv_get_command(self, key: str) -> str:
        """The ``vault kv get`` command a person runs to read one value themselves."""
        return f"vault kv get -mount={self.mount} {self._under(key)}"

    def kv_list_command(self, folder: str) -> str:
        """The ``vault kv list`` command showing what a folder holds."""
        return f"vault kv list -mount={self.mount} {self._under(folder)}"

    def command_for(self, key: SecretKey) -> str:
        """What ``y`` copies for a key: ``vault kv get`` for a secret, ``vault kv list`` for a folder."""
        return self.kv_list_command(key.name) if key.is_folder else self.kv_get_command(key.name)

    def _under(self, key: str) -> str:
        return f"{self.path.strip('/')}/{key}" if self.path.strip("/") else key


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
    kv_version: int = 2  # of the mount: the policy's paths and how the placeholder is written depend on it
    kubernetes_mount: str = "kubernetes"


@dataclass(frozen=True)
class ProvisionResult:
    """What provisioning created (or, in a dry run, would create) and what was there already, for its plan.

    ``created`` and ``unchanged`` hold one line per thing (``policy team-a-billing``); :func:`unprovision`
    removes exactly the ``created`` ones.
    """

    plan: ProvisionPlan
    created: tuple[str, ...] = ()  # one line per thing made ("policy team-a-billing")
    unchanged: tuple[str, ...] = ()  # already there exactly as planned
    dry_run: bool = False
    messages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        """Whether anything was (or, in a dry run, would be) created."""
        return bool(self.created)


@dataclass(frozen=True)
class ProvisionDefaults:
    """What a profile sets for golden paths' provisioning when a step does not say: the KV mount, and whether a
    Kubernetes auth role (on which auth mount) binds the service's service account."""

    kv_mount: str = "secret"
    kubernetes_role: bool = False
    kubernetes_mount: str = "kubernetes"


class SecretStore(Protocol):
    """A place secrets live: a Vault, or the demo Vault (which speaks Vault's API), possibly behind a read-only guard.

    Every failure is a :class:`SecretsError`, worded for the user. Stores subclass this class to say they implement
    it. It has no optional parts: a read-only session's store refuses writes with ``SecretsError`` kind
    ``read-only`` and still answers plans and dry runs.
    """

    #: Where the secrets live, in words ("Vault at https://…", "the demo Vault").
    name: str
    #: The demo Vault answers (set by the session): every view and command says so.
    is_demo: bool

    @abstractmethod
    def list_secrets(self, path: str, *, mount: str = "secret") -> SecretListing:
        """The keys under ``mount/path`` with their metadata and readers; values are never requested."""

    @abstractmethod
    def plan(self, request: ProvisionRequest) -> ProvisionPlan:
        """What provisioning ``request`` would create; only reads (which engine serves the mount, and its KV
        version), so a missing mount or auth method is said here, before anything is written."""

    @abstractmethod
    def provision(self, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
        """Create what is missing; a second run changes nothing and says so.

        Raises:
            SecretsError: kind ``conflict`` when a policy or role of that name exists with other contents (it is
                reported, never overwritten), kind ``read-only`` in a read-only session, or any Vault failure.
        """

    @abstractmethod
    def unprovision(self, result: ProvisionResult) -> None:
        """Remove exactly what ``result`` created (a later golden-path step failed)."""

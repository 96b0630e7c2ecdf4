"""What every scaffolder action sees and returns: the contract between the task runner and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ActionError as ActionError  # part of the contract every action sees
from ..workspace import inside

if TYPE_CHECKING:
    from ...secrets.models import ProvisionDefaults


class Effect(Protocol):
    """A change outside the task workspace (a repository, a catalog entry), applied only when every step succeeded.

    Actions never touch anything outside the workspace while the task runs; they stage an Effect instead, so a
    failing step leaves nothing half-written.
    """

    def describe(self) -> str:
        """One line for the user: what this will create."""
        ...

    def check(self) -> None:
        """Raise ActionError if applying would overwrite something that exists (checked again before applying)."""
        ...

    def apply(self) -> None:
        """Make the change. Raise ActionError on failure."""
        ...

    def undo(self) -> None:
        """Remove what apply() made (called when a later effect fails to apply)."""
        ...


@runtime_checkable
class ShipsFiles(Protocol):
    """An :class:`Effect` that ships a tree of files built while the steps ran (a repository). The guardrails judge
    that tree as it will leave: a later step may change or remove the workspace files it was built from."""

    def shipped_files(self) -> tuple[str, Path, str]:
        """``(label, tree, source)``: what the tree is called in verdicts (where it will be, an absolute path: no
        workspace file can be named so), where it is now, and the workspace folder it was built from (``""``: the
        whole workspace)."""
        ...


@runtime_checkable
class RegistersFile(Protocol):
    """An :class:`Effect` that registers a catalog file in the catalog: the guardrails judge the file as it was read,
    and the files its Location entities lead to, whatever their names (Backstage reads ``entities.txt`` as YAML)."""

    def registered_files(self) -> tuple[tuple[str, bytes], ...]:
        """``(name, content)`` of each: the file as verdicts name it (where it will be, an absolute path) and what
        was read from it."""
        ...


@dataclass(frozen=True)
class RunSettings:
    """Where a local run may publish and register, and what it knows about the existing catalog."""

    publish_root: Path
    # The directory registered entities are written to (part of the catalog from then on).
    registry_dir: Path
    # Entity keys ("kind:namespace/name", lowercase) already in the catalog: registering one of them fails.
    existing_entity_keys: frozenset[str] = frozenset()
    # Answers http:backstage:request: (method, path, headers, body) -> BackstageResponse. None: no backend.
    backstage_request: Callable[[str, str, dict[str, str], Any], BackstageResponse] | None = None
    # The session's secret store, made (the demo Vault started) only when a step needs it. None: no Vault.
    secret_store: Callable[[], Any] | None = None
    # The profile's provisioning defaults (mount, Kubernetes role), if any.
    vault_defaults: ProvisionDefaults | None = None


@dataclass(frozen=True)
class BackstageResponse:
    """A Backstage backend's answer to ``http:backstage:request``; a local handler may stage a change with it."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    effect: Effect | None = None


@dataclass
class ActionContext:
    """Everything an action may use. Paths the action writes must go through ``workspace_path``."""

    input: dict[str, Any]
    workspace: Path
    # Directory of the template's own file: relative ``url`` inputs (./skeleton) resolve against it.
    template_dir: Path | None
    settings: RunSettings
    step_id: str
    dry_run: bool = False
    user: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print
    effects: list[Effect] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # A directory private to this task, outside the workspace and removed after the task (for staging repositories).
    scratch: Path | None = None
    # Shared by all steps of a task: a URL that a staged effect will make real (a published repository's
    # ``file://`` URL) -> where its content is staged now, so later steps (catalog:register) can read it.
    staged_locations: dict[str, Path] = field(default_factory=dict)

    def output(self, name: str, value: Any) -> None:
        """Set one of the step's outputs (``steps.<id>.output.<name>`` in later expressions)."""
        self.outputs[name] = value

    def stage(self, effect: Effect) -> None:
        """Queue a change outside the workspace; it is checked now and applied only if the whole task succeeds."""
        effect.check()
        self.effects.append(effect)

    def workspace_path(self, relative: str | None, *, what: str = "path") -> Path:
        """``relative`` resolved inside the workspace.

        Raises:
            ActionError: absolute paths, ``..`` or symlinks leading out of the workspace.
        """
        return inside(self.workspace, relative or ".", what=what)


class Action(Protocol):
    """A built-in scaffolder action such as ``fetch:template``."""

    id: str
    description: str
    supports_dry_run: bool

    def run(self, ctx: ActionContext) -> None:
        """Do the work; raise ActionError with a clear message on failure."""
        ...

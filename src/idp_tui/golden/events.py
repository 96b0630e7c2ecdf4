"""What a running golden-path task reports, step by step, and what it ends with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .guardrails import GuardrailReport

StepStatus = Literal["open", "processing", "completed", "failed", "skipped"]


@dataclass(frozen=True)
class TaskEvent:
    """One event of a task, in the spirit of Backstage's task event stream (``log`` and ``completion``)."""

    type: Literal["log", "completion"]
    message: str
    step_id: str | None = None
    # Set when the event changes a step's status (started, finished, failed, skipped).
    status: StepStatus | None = None
    output: dict[str, Any] | None = None


# Where a run reports its events as they happen (the run screen, the scaffold command's printer).
EventSink = Callable[[TaskEvent], None]


@dataclass
class StepResult:
    """One step of a task as it went.

    ``input`` is the rendered input (secrets masked) once the step ran, ``output`` its outputs, ``error``
    why it failed.
    """

    id: str
    name: str
    action: str
    status: StepStatus = "open"
    error: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskResult:
    """The end of a task: its status, each step, the rendered output and (for dry runs) the files it produced."""

    status: Literal["completed", "failed"]
    steps: list[StepResult]
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # Dry runs: workspace path -> content, and which of them are executable.
    files: dict[str, bytes] = field(default_factory=dict)
    executables: set[str] = field(default_factory=set)
    # Dry runs: workspace path of each symlink -> its target (never followed, so never read).
    symlinks: dict[str, str] = field(default_factory=dict)
    # What was created outside the workspace (repositories, catalog entries), one line each.
    created: list[str] = field(default_factory=list)
    # What the policies said about the files the run produced (None: no policies were checked).
    guardrails: GuardrailReport | None = None

    @property
    def links(self) -> list[dict[str, Any]]:
        """The ``links`` of the template's output that are objects (``title``, ``url``, ``entityRef``...)."""
        links = self.output.get("links")
        return [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []

    @property
    def text(self) -> list[dict[str, Any]]:
        """The ``text`` entries of the template's output that are objects (``title``, ``content``)."""
        text = self.output.get("text")
        return [item for item in text if isinstance(item, dict)] if isinstance(text, list) else []

    def to_json(self) -> dict[str, Any]:
        """``{status, steps: [{id, name, status}], output: {links: [{title, url}], text}}``, and ``policies``
        (:meth:`~idp_tui.golden.guardrails.GuardrailReport.to_json`) when the run's files were checked."""
        return {
            "status": self.status,
            "error": self.error,
            "steps": [{"id": s.id, "name": s.name, "status": s.status, "error": s.error} for s in self.steps],
            "output": {
                "links": [{"title": link.get("title"), "url": link.get("url"), **_entity(link)} for link in self.links],
                "text": self.text,
            },
            "created": self.created,
            **({"policies": self.guardrails.to_json()} if self.guardrails is not None else {}),
        }


def _entity(link: dict[str, Any]) -> dict[str, Any]:
    return {"entityRef": link["entityRef"]} if "entityRef" in link else {}

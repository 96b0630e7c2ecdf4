"""An entity's deployments as rows of text: clusters, workloads, their pods and problems, warning events.

Shared by ``idp-tui deployments`` and the Deployments screen. Marks carry the state, so it reads without colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text

from ..safe_text import clean
from .styles import PROBLEM, WARNING

if TYPE_CHECKING:
    from ..kube.problems import Problem
    from ..kube.report import ClusterReport, PodReport, WorkloadReport

ROLLOUT_MARKS = {"complete": "✓", "progressing": "▸", "failed": "✗"}


@dataclass(frozen=True)
class DeploymentRow:
    """One line of the view and what it is about (for keys like ``l`` and Enter)."""

    kind: Literal["cluster", "workload", "pod", "problem", "event", "note"]
    text: Text
    cluster: str
    workload: WorkloadReport | None = None
    pod: PodReport | None = None


def _p(text: object) -> str:
    """Text from a cluster (names, messages, events) as one printable line: an event message is free text."""
    return clean(str(text), one_line=True)


def age(seconds: int | None) -> str:
    """kubectl's AGE column: 45s, 12m, 5h, 3d."""
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _problem_text(problem: Problem, indent: int) -> Text:
    text = Text(" " * indent + "! ", style=PROBLEM)
    text.append(f"{_p(problem.reason)}: ", style="bold")
    text.append(_p(problem.hint or problem.message))
    return text


def cluster_rows(cluster: ClusterReport, status: str = "") -> list[DeploymentRow]:
    """The rows of one cluster's report (see ``kube.report.cluster_report``)."""
    name = cluster.name
    title = Text(f"▌ cluster {_p(name)}", style="bold")
    if cluster.demo:
        title.append("  (demo cluster)", style="italic")
    if status:
        title.append(f"  {status}")
    rows = [DeploymentRow("cluster", title, name)]
    if cluster.error:
        rows.append(DeploymentRow("note", Text(f"  ✗ {_p(cluster.error)}", style=PROBLEM), name))
        return rows
    if not cluster.workloads:
        rows.append(DeploymentRow("note", Text("  no workloads for this entity here", style="dim"), name))
    for workload in cluster.workloads:
        rows += _workload_rows(name, workload)
    warnings = [event for event in cluster.events if event.is_warning][:8]
    for event in warnings:
        text = Text("  warning ", style=WARNING)
        text.append(_p(f"{event.object} {event.reason}: "), style="bold")
        text.append(_p(event.message))
        rows.append(DeploymentRow("event", text, name))
    return rows


def _workload_rows(cluster: str, workload: WorkloadReport) -> list[DeploymentRow]:
    rollout = workload.rollout
    text = Text(f"  {ROLLOUT_MARKS[workload.rollout_state]} ", style="bold")
    text.append(_p(f"{workload.kind} {workload.namespace}/{workload.name}"), style="bold")
    text.append(f"  {workload.replicas.summary}")
    if rollout.revision:
        text.append(f"  rev {rollout.revision}", style="dim")
    rows = [DeploymentRow("workload", text, cluster, workload)]
    if workload.rollout_state != "complete":
        rows.append(DeploymentRow("note", Text(f"      {_p(rollout.message)}", style="italic"), cluster, workload))
    rows += [DeploymentRow("problem", _problem_text(p, 4), cluster, workload) for p in workload.problems]
    history = workload.revisions
    if len(history) > 1:
        text = Text("      history: ", style="dim")
        revisions = "  ".join(f"rev {r.number} {', '.join(r.images)} ({r.replicas})" for r in history[:4])
        text.append(_p(revisions))
        rows.append(DeploymentRow("note", text, cluster, workload))
    for pod in workload.pods:
        summary = pod.summary
        line = Text("    ")
        line.append(f"{_p(summary.name):<35} ")
        line.append(f"{_p(summary.status):<16}", style=PROBLEM if pod.problems else "")
        line.append(f" {summary.ready:>4}  ↻{summary.restarts:<3} {age(summary.age):>4}  {_p(summary.node or '')}")
        rows.append(DeploymentRow("pod", line, cluster, workload, pod))
        rows += [DeploymentRow("problem", _problem_text(p, 6), cluster, workload, pod) for p in pod.problems]
    return rows

"""An entity's deployments as rows of text: clusters, workloads, their pods and problems, warning events.

Shared by ``idp-tui deployments`` and the Deployments screen. Marks carry the state, so it reads without colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from .gitops import application_rows, rollout_rows
from .rows import DeploymentRow, RowTexts, age, pod_rows, printable, problem_text
from .styles import PROBLEM, WARNING

if TYPE_CHECKING:
    from ..kube.gitops.report import ClusterGitOps
    from ..kube.report import ClusterReport, WorkloadReport

__all__ = ["DeploymentRow", "RowTexts", "age", "cluster_rows"]

ROLLOUT_MARKS = {"complete": "✓", "progressing": "▸", "failed": "✗"}
_p = printable


def cluster_rows(
    cluster: ClusterReport, status: str = "", gitops: ClusterGitOps | None = None, *, texts: RowTexts | None = None
) -> list[DeploymentRow]:
    """The rows of one cluster's report (see ``kube.report.cluster_report``): its Argo CD applications first (when
    ``gitops`` has some), then its workloads and Argo Rollouts, those with problems first, then warning events.

    ``texts``: the pods' lines kept from the cluster's last rows (a watched view rebuilds only what changed).
    """
    name = cluster.name
    title = Text(f"▌ cluster {_p(name)}", style="bold")
    if cluster.demo:
        title.append("  (demo cluster)", style="italic")
    if status:
        title.append(f"  {status}")
    rows = [DeploymentRow("cluster", title, name)]
    for app in gitops.applications if gitops is not None else ():
        rows += application_rows(name, app)
    if gitops is not None and gitops.error:
        rows.append(DeploymentRow("note", Text(f"  ✗ {_p(gitops.error)}", style=PROBLEM), name))
    if cluster.error:
        rows.append(DeploymentRow("note", Text(f"  ✗ {_p(cluster.error)}", style=PROBLEM), name))
        return rows
    rollouts = gitops.rollouts if gitops is not None else ()
    if not cluster.workloads and not rollouts:
        rows.append(DeploymentRow("note", Text("  no workloads for this entity here", style="dim"), name))
    # Rollouts are workloads: merged into the same order (problems first, then namespace and name).
    ordered = sorted([*cluster.workloads, *rollouts], key=lambda w: (not w.has_problems, w.namespace, w.name, w.kind))
    for workload in ordered:
        rows += rollout_rows(name, workload) if workload.kind == "Rollout" else _workload_rows(name, workload, texts)
    warnings = [event for event in cluster.events if event.is_warning][:8]
    for event in warnings:
        text = Text("  warning ", style=WARNING)
        text.append(_p(f"{event.object} {event.reason}: "), style="bold")
        text.append(_p(event.message))
        rows.append(DeploymentRow("event", text, name))
    return rows


def _workload_rows(cluster: str, workload: WorkloadReport, texts: RowTexts | None) -> list[DeploymentRow]:
    rollout = workload.rollout
    text = Text(f"  {ROLLOUT_MARKS[workload.rollout_state]} ", style="bold")
    text.append(_p(f"{workload.kind} {workload.namespace}/{workload.name}"), style="bold")
    text.append(f"  {workload.replicas.summary}")
    if rollout.revision:
        text.append(f"  rev {rollout.revision}", style="dim")
    rows = [DeploymentRow("workload", text, cluster, workload)]
    if workload.rollout_state != "complete":
        rows.append(DeploymentRow("note", Text(f"      {_p(rollout.message)}", style="italic"), cluster, workload))
    rows += [DeploymentRow("problem", problem_text(p, 4), cluster, workload) for p in workload.problems]
    history = workload.revisions
    if len(history) > 1:
        text = Text("      history: ", style="dim")
        revisions = "  ".join(f"rev {r.number} {', '.join(r.images)} ({r.replicas})" for r in history[:4])
        text.append(_p(revisions))
        rows.append(DeploymentRow("note", text, cluster, workload))
    rows += pod_rows(cluster, workload.pods, workload, texts=texts)
    return rows

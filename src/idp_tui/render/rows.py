"""The pieces every Deployments row is made of: the row itself, printable cluster text, ages, problems, pods.

Shared by :mod:`.deployments` (clusters and workloads) and :mod:`.gitops` (Argo CD applications, Argo Rollouts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text

from ..safe_text import clean
from .styles import PROBLEM

if TYPE_CHECKING:
    from ..kube.gitops.argocd import ArgoApplication
    from ..kube.gitops.report import RolloutReport
    from ..kube.problems import Problem
    from ..kube.report import PodReport, WorkloadReport

RowKind = Literal[
    "cluster",
    "workload",
    "pod",
    "problem",
    "event",
    "note",
    "application",
    "resource",
    "operation",
    "history",
    "rollout",
    "replicaset",
]


@dataclass(frozen=True)
class DeploymentRow:
    """One line of the view and what it is about (for keys like ``l``, ``s`` and Enter).

    ``workload`` is set on a Deployment, StatefulSet or DaemonSet's rows, ``rollout`` on an Argo Rollout's,
    ``application`` on an Argo CD application's; ``pod`` on a pod's row and its problems.
    """

    kind: RowKind
    text: Text
    cluster: str
    workload: WorkloadReport | None = None
    pod: PodReport | None = None
    application: ArgoApplication | None = None
    rollout: RolloutReport | None = None


def printable(text: object) -> str:
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


def problem_text(problem: Problem, indent: int) -> Text:
    """``! Reason: hint`` (the message when there is no hint), indented."""
    text = Text(" " * indent + "! ", style=PROBLEM)
    text.append(f"{printable(problem.reason)}: ", style="bold")
    text.append(printable(problem.hint or problem.message))
    return text


def pod_rows(
    cluster: str,
    pods: tuple[PodReport, ...],
    workload: WorkloadReport | None = None,
    rollout: RolloutReport | None = None,
) -> list[DeploymentRow]:
    """A workload's pods as ``kubectl get pods`` columns, each followed by its problems."""
    rows = []
    for pod in pods:
        summary = pod.summary
        line = Text("    ")
        line.append(f"{printable(summary.name):<35} ")
        line.append(f"{printable(summary.status):<16}", style=PROBLEM if pod.problems else "")
        line.append(
            f" {summary.ready:>4}  ↻{summary.restarts:<3} {age(summary.age):>4}  {printable(summary.node or '')}"
        )
        rows.append(DeploymentRow("pod", line, cluster, workload, pod, rollout=rollout))
        rows += [
            DeploymentRow("problem", problem_text(p, 6), cluster, workload, pod, rollout=rollout) for p in pod.problems
        ]
    return rows

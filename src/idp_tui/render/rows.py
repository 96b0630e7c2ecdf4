"""The pieces every Deployments row is made of: the row itself, printable cluster text, ages, problems, pods.

Shared by :mod:`.deployments` (clusters and workloads) and :mod:`.gitops` (Argo CD applications, Argo Rollouts).
"""

from __future__ import annotations

from collections.abc import Callable
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


class RowTexts:
    """Row texts kept from one build of a view to the next: a pod that reads the same is not laid out again.

    Keyed by what the line shows, so an unchanged pod of a watched workload (thousands of them) costs a lookup.
    ``sweep()`` after each build forgets the lines it did not use. The texts are shared: never edit one in place.
    """

    def __init__(self) -> None:
        self._texts: dict[tuple, Text] = {}
        self._used: set[tuple] = set()

    def get(self, key: tuple, make: Callable[[], Text]) -> Text:
        """The text kept under ``key``, or ``make()``'s."""
        self._used.add(key)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = make()
        return text

    def sweep(self) -> None:
        """Forget the texts the last build did not use."""
        for key in self._texts.keys() - self._used:
            del self._texts[key]
        self._used.clear()

    def __len__(self) -> int:
        return len(self._texts)


def pod_line(pod: PodReport) -> Text:
    """A pod as ``kubectl get pods`` columns: name, status (marked when it has problems), ready, restarts, age, node."""
    summary = pod.summary
    line = Text("    ")
    line.append(f"{printable(summary.name):<35} ")
    line.append(f"{printable(summary.status):<16}", style=PROBLEM if pod.problems else "")
    line.append(f" {summary.ready:>4}  ↻{summary.restarts:<3} {age(summary.age):>4}  {printable(summary.node or '')}")
    return line


def pod_rows(
    cluster: str,
    pods: tuple[PodReport, ...],
    workload: WorkloadReport | None = None,
    rollout: RolloutReport | None = None,
    *,
    texts: RowTexts | None = None,
) -> list[DeploymentRow]:
    """A workload's pods as ``kubectl get pods`` columns, each followed by its problems (``texts``: lines kept from
    the last build)."""
    rows = []
    for pod in pods:
        summary = pod.summary
        if texts is None:
            line = pod_line(pod)
        else:
            shown = (summary.name, summary.status, summary.ready, summary.restarts, age(summary.age), summary.node)
            line = texts.get(("pod", *shown, bool(pod.problems)), lambda pod=pod: pod_line(pod))
        rows.append(DeploymentRow("pod", line, cluster, workload, pod, rollout=rollout))
        for p in pod.problems:
            text = problem_text(p, 6) if texts is None else texts.get(("problem", p), lambda p=p: problem_text(p, 6))
            rows.append(DeploymentRow("problem", text, cluster, workload, pod, rollout=rollout))
    return rows

"""An entity's deployments per cluster: workloads with rollout status and replicas, their pods and problems, events.

Pure: it takes the Kubernetes JSON read by :mod:`access` (or kept up to date by :mod:`watch`) and returns frozen
dataclasses, so the command line and the TUI show the same thing. JSON is made only at the edge, by
``idp_tui.commands.deployments_json`` (the ``deployments --json`` shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .events import EventRow, relevant_events
from .problems import PodSummary, Problem, hpa_problems, pod_problems, pod_summary, workload_problems
from .rollout import Replicas, Revision, RolloutStatus, replica_counts, revision_history, rollout_status
from .selection import WorkloadSelector, matches, selector_from_label_selector
from .snapshot import ClusterSnapshot

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

RolloutState = Literal["complete", "progressing", "failed"]


@dataclass(frozen=True, slots=True)
class ContainerReport:
    """One container of a pod: its image, readiness, restarts, state now and how it last ended.

    ``state`` and ``last_state`` read like ``running``, ``waiting CrashLoopBackOff`` or
    ``terminated Error (exit 1)``; empty when the kubelet reports none. ``name`` and ``image`` are as the pod spec
    gives them (None when missing).
    """

    name: str | None
    image: str | None
    ready: bool
    restarts: int
    state: str
    last_state: str


@dataclass(frozen=True, slots=True)
class PodReport:
    """A pod as ``kubectl get pods`` shows it, what is wrong with it, and its containers."""

    summary: PodSummary
    problems: tuple[Problem, ...]
    containers: tuple[ContainerReport, ...]

    @property
    def name(self) -> str:
        """The pod's name."""
        return self.summary.name


@dataclass(frozen=True, slots=True)
class WorkloadReport:
    """A Deployment, StatefulSet or DaemonSet: rollout, replicas, its pods (problems first) and its own problems.

    ``problems`` are the workload's conditions and those of the HorizontalPodAutoscalers that scale it;
    ``revisions`` is a Deployment's history, newest first (empty for the other kinds).
    """

    kind: str
    namespace: str
    name: str
    rollout: RolloutStatus
    replicas: Replicas
    problems: tuple[Problem, ...]
    pods: tuple[PodReport, ...]
    revisions: tuple[Revision, ...]

    @property
    def rollout_state(self) -> RolloutState:
        """``failed`` (kubectl would exit non-zero), ``complete`` or ``progressing``."""
        if self.rollout.failed:
            return "failed"
        return "complete" if self.rollout.done else "progressing"

    @property
    def has_problems(self) -> bool:
        """Whether the workload or any of its pods has a problem."""
        return bool(self.problems) or any(pod.problems for pod in self.pods)


@dataclass(frozen=True, slots=True)
class ClusterReport:
    """One cluster: why it could not be read, or its workloads (those with problems first) and their events.

    ``events`` are about the workloads, their ReplicaSets and pods: warnings first, then newest first.
    """

    name: str
    demo: bool
    error: str | None
    workloads: tuple[WorkloadReport, ...]
    events: tuple[EventRow, ...]


@dataclass(frozen=True, slots=True)
class DeploymentsReport:
    """An entity's deployments on every cluster asked, and how its workloads were found.

    ``demo`` is set when the demo cluster answered: a reader must be able to tell its answers from a real cluster's.
    """

    entity: str
    selector: WorkloadSelector
    demo: bool
    clusters: tuple[ClusterReport, ...]


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata", {})
    return metadata.get("namespace", ""), metadata.get("name", "")


def _pods_of(workload: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    selector = selector_from_label_selector(workload.get("spec", {}).get("selector"))
    namespace = _key(workload)[0]
    return [
        pod
        for pod in pods
        if _key(pod)[0] == namespace and selector and matches(pod.get("metadata", {}).get("labels") or {}, selector)
    ]


def _hpas_of(kind: str, workload: dict[str, Any], hpas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    namespace, name = _key(workload)
    return [
        hpa
        for hpa in hpas
        if _key(hpa)[0] == namespace
        and hpa.get("spec", {}).get("scaleTargetRef", {}).get("kind") == kind
        and hpa.get("spec", {}).get("scaleTargetRef", {}).get("name") == name
    ]


def _state(state: dict[str, Any] | None) -> str:
    if not state:
        return ""
    (name, detail), *_ = state.items()
    reason = detail.get("reason") or ""
    if name == "terminated":
        return f"terminated {reason} (exit {detail.get('exitCode')})".replace("  ", " ")
    return f"{name} {reason}".strip()


def container_reports(pod: dict[str, Any]) -> tuple[ContainerReport, ...]:
    """Each container of a pod, in the spec's order: image, readiness, restarts, state and how it last ended."""
    statuses = {s.get("name"): s for s in pod.get("status", {}).get("containerStatuses") or []}
    rows = []
    for container in pod.get("spec", {}).get("containers") or []:
        status = statuses.get(container.get("name"), {})
        rows.append(
            ContainerReport(
                name=container.get("name"),
                image=container.get("image"),
                ready=bool(status.get("ready")),
                restarts=status.get("restartCount", 0),
                state=_state(status.get("state")),
                last_state=_state(status.get("lastState")),
            )
        )
    return tuple(rows)


def pod_report(pod: dict[str, Any], events: list[dict[str, Any]], now: datetime | None) -> PodReport:
    """One pod: kubectl's columns, its problems (with hints) and its containers.

    Args:
        pod: The pod as the API returns it.
        events: Events of its namespace (a failing readiness probe shows there first).
        now: The time ages and probe grace periods are measured to (defaults to the current time).
    """
    return PodReport(pod_summary(pod, now), tuple(pod_problems(pod, events, now)), container_reports(pod))


def workload_report(
    kind: str, workload: dict[str, Any], snapshot: ClusterSnapshot, now: datetime | None
) -> WorkloadReport:
    """One workload: rollout, replicas, its pods (problems first) and its own problems.

    Args:
        kind: ``Deployment``, ``StatefulSet`` or ``DaemonSet`` (items of a list response carry no kind).
        workload: The object as the API returns it.
        snapshot: The cluster's objects: its pods, ReplicaSets, autoscalers and events are looked up there.
        now: The time ages and probe grace periods are measured to (defaults to the current time).
    """
    pods = _pods_of(workload, snapshot.objects.get("Pod", []))
    pod_rows = sorted(
        (pod_report(pod, snapshot.events, now) for pod in pods), key=lambda row: (not row.problems, row.name)
    )
    own = workload_problems(workload)
    for hpa in _hpas_of(kind, workload, snapshot.objects.get("HorizontalPodAutoscaler", [])):
        own += hpa_problems(hpa)
    namespace, name = _key(workload)
    history = revision_history(workload, snapshot.objects.get("ReplicaSet", [])) if kind == "Deployment" else []
    return WorkloadReport(
        kind=kind,
        namespace=namespace,
        name=name,
        rollout=rollout_status(workload, kind, pods),
        replicas=replica_counts(workload, kind),
        problems=tuple(own),
        pods=tuple(pod_rows),
        revisions=tuple(history),
    )


def cluster_report(snapshot: ClusterSnapshot, now: datetime | None = None) -> ClusterReport:
    """One cluster: its error, or its workloads (those with problems first) and the events about them.

    Args:
        snapshot: What the cluster holds for the entity (read once, or watched).
        now: The time ages and probe grace periods are measured to (defaults to the current time).
    """
    workloads = [
        workload_report(kind, workload, snapshot, now)
        for kind in WORKLOAD_KINDS
        for workload in snapshot.objects.get(kind, [])
    ]
    workloads.sort(key=lambda w: (not w.has_problems, w.namespace, w.name))
    involved = [obj for kind in (*WORKLOAD_KINDS, "ReplicaSet", "Pod") for obj in snapshot.objects.get(kind, [])]
    return ClusterReport(
        name=snapshot.name,
        demo=snapshot.demo,
        error=snapshot.error,
        workloads=tuple(workloads),
        events=tuple(relevant_events(snapshot.events, involved)),
    )


def deployments_report(
    entity: str,
    selector: WorkloadSelector,
    snapshots: list[ClusterSnapshot],
    *,
    demo: bool,
    now: datetime | None = None,
) -> DeploymentsReport:
    """An entity's deployments on every cluster in ``snapshots``, in their order.

    Args:
        entity: The entity's key, e.g. ``component:default/payment-processor``.
        selector: How its workloads were found.
        snapshots: One per cluster asked.
        demo: The demo cluster answered.
        now: The time ages and probe grace periods are measured to (defaults to the current time).
    """
    clusters = tuple(cluster_report(snapshot, now) for snapshot in snapshots)
    return DeploymentsReport(entity=entity, selector=selector, demo=demo, clusters=clusters)

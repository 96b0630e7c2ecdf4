"""An entity's deployments per cluster: workloads with rollout status and replicas, their pods and problems, events.

Pure: it takes the Kubernetes JSON read by :mod:`access` (or kept up to date by :mod:`watch`) and returns frozen
dataclasses, so the command line and the TUI show the same thing. JSON is made only at the edge, by
``idp_tui.commands.deployments_json`` (the ``deployments --json`` shape).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .events import EventRow, event_row, involved_object, parse_time, relevant_events
from .problems import PodSummary, Problem, hpa_problems, pod_problems, pod_summary, workload_problems
from .rollout import Replicas, Revision, RolloutStatus, replica_counts, revision_history, rollout_status
from .selection import WorkloadSelector, parse_selector, selector_from_label_selector
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
    if not selector:
        return []
    requirements = parse_selector(selector)  # once per workload, not once per pod: thousands of pods
    namespace = _key(workload)[0]
    return [
        pod
        for pod in pods
        if _key(pod)[0] == namespace
        and all(requirement.matches(pod.get("metadata", {}).get("labels") or {}) for requirement in requirements)
    ]


class ProbeEvents:
    """The namespace's failed-readiness-probe events, by the uid and the name of the object each is about.

    ``pod_problems`` reads only these; handing each pod just the few about it keeps a report linear in pods and
    events instead of their product (2,000 pods and as many events were millions of comparisons).
    """

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.by_uid: dict[str, list[dict[str, Any]]] = {}
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            if event.get("reason") != "Unhealthy":
                continue
            involved = involved_object(event)
            if involved.get("uid"):
                self.by_uid.setdefault(involved["uid"], []).append(event)
            self.by_name.setdefault(involved.get("name"), []).append(event)

    def about(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The events that may be about ``pod`` (``pod_problems`` still checks each)."""
        metadata = pod.get("metadata") or {}
        found = self.by_name.get(metadata.get("name"), [])
        by_uid = self.by_uid.get(metadata.get("uid") or "", [])
        return found + [event for event in by_uid if all(event is not other for other in found)] if by_uid else found


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


class ReportCache:
    """One cluster's pod reports and event rows, kept from one report to the next so a watched pod or event that
    did not change is not read again (a watch replaces a changed object, never edits it: the same dict is the same
    object, at the same version).

    Only what depends on the time is redone: the age, and any pod with a running container that is not ready
    (whether its readiness probe is overdue depends on the time) is read again. Pods and events gone from the
    cluster are dropped after each report, so the cache holds at most those of the last one.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[dict[str, Any], list[dict[str, Any]], PodReport]] = {}
        self._used: set[tuple[str, str]] = set()
        self._events: dict[int, tuple[Mapping[str, Any], EventRow]] = {}
        self._events_used: set[int] = set()

    def event_row(self, event: Mapping[str, Any]) -> EventRow:
        """``event_row(event)``, made once per event object."""
        key = id(event)  # the entry keeps the event alive, so its id is not reused while it is kept
        self._events_used.add(key)
        kept = self._events.get(key)
        if kept is None or kept[0] is not event:
            kept = self._events[key] = (event, event_row(event))
        return kept[1]

    def report(self, pod: dict[str, Any], events: list[dict[str, Any]], now: datetime | None) -> PodReport:
        """``pod_report(pod, events, now)``, reusing the last one when the pod and its events are the same."""
        key = _key(pod)
        self._used.add(key)
        entry = self._entries.get(key)
        if (
            now is not None
            and entry is not None
            and entry[0] is pod
            and len(entry[1]) == len(events)
            and all(old is new for old, new in zip(entry[1], events, strict=True))
        ):
            report = entry[2]
            created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
            age = int((now - created).total_seconds()) if created else None
            if age != report.summary.age:
                report = _aged(report, age)
                self._entries[key] = (pod, events, report)
            return report
        report = pod_report(pod, events, now)
        if now is not None and not _changes_with_time(pod):
            self._entries[key] = (pod, events, report)
        else:
            self._entries.pop(key, None)
        return report

    def sweep(self) -> None:
        """Forget the pods and events the last report did not show (deleted, or no longer the entity's)."""
        for key in self._entries.keys() - self._used:
            del self._entries[key]
        for key in self._events.keys() - self._events_used:
            del self._events[key]
        self._used.clear()
        self._events_used.clear()

    def __len__(self) -> int:
        return len(self._entries) + len(self._events)


def _aged(report: PodReport, age: int | None) -> PodReport:
    """The report with another age (``dataclasses.replace``, at a tenth of its cost: thousands per second)."""
    s = report.summary
    summary = PodSummary(
        name=s.name,
        phase=s.phase,
        status=s.status,
        ready=s.ready,
        restarts=s.restarts,
        age=age,
        node=s.node,
        last_termination_reason=s.last_termination_reason,
    )
    return PodReport(summary, report.problems, report.containers)


def _changes_with_time(pod: dict[str, Any]) -> bool:
    """Whether the pod's problems may change with the time alone: a running container not ready yet."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any(not status.get("ready") and (status.get("state") or {}).get("running") for status in statuses)


def workload_report(
    kind: str,
    workload: dict[str, Any],
    snapshot: ClusterSnapshot,
    now: datetime | None,
    *,
    probes: ProbeEvents | None = None,
    cache: ReportCache | None = None,
) -> WorkloadReport:
    """One workload: rollout, replicas, its pods (problems first) and its own problems.

    Args:
        kind: ``Deployment``, ``StatefulSet`` or ``DaemonSet`` (items of a list response carry no kind).
        workload: The object as the API returns it.
        snapshot: The cluster's objects: its pods, ReplicaSets, autoscalers and events are looked up there.
        now: The time ages and probe grace periods are measured to (defaults to the current time).
        probes: The snapshot's events indexed once for all its workloads (made here when not given).
        cache: Pod reports kept from the cluster's last report (see :class:`ReportCache`).
    """
    selected = _pods_of(workload, snapshot.objects.get("Pod", []))
    probes = probes if probes is not None else ProbeEvents(snapshot.events)
    report = cache.report if cache is not None else pod_report
    pod_rows = sorted(
        (report(pod, probes.about(pod), now) for pod in selected), key=lambda row: (not row.problems, row.name)
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
        rollout=rollout_status(workload, kind, selected),
        replicas=replica_counts(workload, kind),
        problems=tuple(own),
        pods=tuple(pod_rows),
        revisions=tuple(history),
    )


def cluster_report(
    snapshot: ClusterSnapshot, now: datetime | None = None, *, cache: ReportCache | None = None
) -> ClusterReport:
    """One cluster: its error, or its workloads (those with problems first) and the events about them.

    Args:
        snapshot: What the cluster holds for the entity (read once, or watched).
        now: The time ages and probe grace periods are measured to (defaults to the current time).
        cache: Pod reports and event rows kept from this cluster's last report (a watched cluster's next report
            reads only the pods and events that changed); the same report is made without it.
    """
    probes = ProbeEvents(snapshot.events)
    workloads = [
        workload_report(kind, workload, snapshot, now, probes=probes, cache=cache)
        for kind in WORKLOAD_KINDS
        for workload in snapshot.objects.get(kind, [])
    ]
    workloads.sort(key=lambda w: (not w.has_problems, w.namespace, w.name))
    involved = [obj for kind in (*WORKLOAD_KINDS, "ReplicaSet", "Pod") for obj in snapshot.objects.get(kind, [])]
    row = cache.event_row if cache is not None else event_row
    report = ClusterReport(
        name=snapshot.name,
        demo=snapshot.demo,
        error=snapshot.error,
        workloads=tuple(workloads),
        events=tuple(relevant_events(_maybe_about(snapshot.events, involved), involved, row=row)),
    )
    if cache is not None:
        cache.sweep()
    return report


def _maybe_about(events: list[dict[str, Any]], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events naming one of ``objects`` by uid or by name: every event ``relevant_events`` could keep, found
    without comparing each event with each object."""
    uids, names = set(), set()
    for obj in objects:
        metadata = obj.get("metadata") or {}
        uids.add(metadata.get("uid"))
        names.add(metadata.get("name"))
    uids.discard(None)
    return [
        event
        for event in events
        if (involved := involved_object(event)).get("name") in names or (involved.get("uid") or None) in uids
    ]


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

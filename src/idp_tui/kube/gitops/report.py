"""An entity's GitOps state on one cluster, typed for the Deployments view and ``deployments --json``: its Argo CD
applications (problems first) and its Argo Rollouts as workloads, each with its pods as :class:`PodReport` rows.

Pure: Kubernetes JSON in (the Rollouts, and the ReplicaSets, pods and events the workloads' read already holds),
frozen dataclasses out. The JSON is made at the edge, in ``idp_tui.commands.gitops_json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..report import PodReport, RolloutState, pod_report
from .argocd import ArgoApplication
from .rollouts import DEGRADED, HEALTHY, RolloutInfo, rollout_info


@dataclass(frozen=True, slots=True)
class RolloutReport:
    """An Argo Rollout among the workloads: its state, and its ReplicaSets' pods (problems first)."""

    info: RolloutInfo
    pods: tuple[PodReport, ...]

    kind = "Rollout"

    @property
    def namespace(self) -> str:
        """The Rollout's namespace."""
        return self.info.namespace

    @property
    def name(self) -> str:
        """The Rollout's name."""
        return self.info.name

    @property
    def rollout_state(self) -> RolloutState:
        """As a Deployment's: ``complete`` (Healthy), ``failed`` (Degraded), else ``progressing`` (Progressing,
        Paused: a paused canary is an update under way)."""
        phase = self.info.phase
        return "complete" if phase == HEALTHY else "failed" if phase == DEGRADED else "progressing"

    @property
    def replicas_summary(self) -> str:
        """``4 of 4 available, 1 updated``: the rollout's row and ``replicas.summary`` in JSON."""
        info = self.info
        return f"{info.available} of {info.desired} available, {info.updated} updated"

    @property
    def has_problems(self) -> bool:
        """Whether the rollout (degraded, aborted, inconclusive) or one of its pods has a problem."""
        return bool(self.info.problems) or self.info.phase == DEGRADED or any(pod.problems for pod in self.pods)


@dataclass(frozen=True, slots=True)
class ClusterGitOps:
    """One cluster's GitOps view of an entity: the applications its Argo CD holds for the entity and the
    entity's Rollouts running there. ``error``: what could not be read (one line; the rest is shown as read)."""

    cluster: str
    applications: tuple[ArgoApplication, ...] = ()
    rollouts: tuple[RolloutReport, ...] = ()
    error: str | None = None

    @property
    def problem_count(self) -> int:
        """Applications and Rollouts with problems (a paused application or Rollout waits, it has not failed)."""
        return sum(1 for app in self.applications if app.failing) + sum(1 for r in self.rollouts if r.has_problems)


def rollout_report(
    info: RolloutInfo,
    pods: Iterable[Mapping[str, Any]] = (),
    events: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> RolloutReport:
    """A rollout with the pods of its ReplicaSets (those named in ``info.replica_sets``), problems first.

    Args:
        info: The rollout.
        pods: Pods of its namespace (others are left out).
        events: Events of its namespace (readiness problems show there first).
        now: The time ages and probe grace periods are measured to.
    """
    owned = {name for rs in info.replica_sets for name in rs.pods}
    event_list = [dict(event) for event in events]
    rows = [
        pod_report(dict(pod), event_list, now)
        for pod in pods
        if isinstance(pod, Mapping) and (pod.get("metadata") or {}).get("name") in owned
    ]
    rows.sort(key=lambda row: (not row.problems, row.name))
    return RolloutReport(info, tuple(rows))


def rollout_reports(
    rollouts: Iterable[Mapping[str, Any]],
    replicasets: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> tuple[RolloutReport, ...]:
    """Every Rollout of a cluster with its ReplicaSets and pods (as the workloads' read or watch holds them),
    those with problems first, then by namespace and name."""
    replicaset_list = [rs for rs in replicasets if isinstance(rs, Mapping)]
    pod_list = [pod for pod in pods if isinstance(pod, Mapping)]
    event_list = list(events)
    reports = [
        rollout_report(rollout_info(obj, replicaset_list, pod_list), pod_list, event_list, now)
        for obj in rollouts
        if isinstance(obj, Mapping)
    ]
    reports.sort(key=lambda r: (not r.has_problems, r.namespace, r.name))
    return tuple(reports)

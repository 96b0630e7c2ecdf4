"""The ``deployments --json`` shape: one serialiser per result type of :mod:`idp_tui.kube.report`.

The keys and values are a contract with scripts and runbooks: they stay as they are (snake_case, times in ISO 8601
with their offset, ``null`` for what is unknown), whatever the dataclasses' fields are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .pods_json import container_json, pod_json, problem_json

__all__ = ["container_json", "deployments_json", "pod_json", "problem_json"]

if TYPE_CHECKING:
    from ..kube.events import EventRow
    from ..kube.gitops.report import ClusterGitOps
    from ..kube.report import ClusterReport, DeploymentsReport, WorkloadReport
    from ..kube.rollout import Replicas, Revision


def replicas_json(replicas: Replicas) -> dict[str, Any]:
    """Replica counts, and the same in words."""
    return {
        "desired": replicas.desired,
        "updated": replicas.updated,
        "ready": replicas.ready,
        "available": replicas.available,
        "summary": replicas.summary,
    }


def revision_json(revision: Revision) -> dict[str, Any]:
    """One entry of a Deployment's history."""
    return {
        "revision": revision.number,
        "replicaset": revision.replicaset,
        "images": list(revision.images),
        "created": revision.created.isoformat() if revision.created else None,
        "replicas": revision.replicas,
    }


def workload_json(workload: WorkloadReport) -> dict[str, Any]:
    """A workload: ``rollout.status`` is ``complete``, ``progressing`` or ``failed``; ``message`` is kubectl's."""
    rollout = workload.rollout
    return {
        "kind": workload.kind,
        "namespace": workload.namespace,
        "name": workload.name,
        "rollout": {
            "status": workload.rollout_state,
            "message": rollout.message,
            "revision": rollout.revision,
            "paused": rollout.paused,
        },
        "replicas": replicas_json(workload.replicas),
        "problems": [problem_json(problem) for problem in workload.problems],
        "pods": [pod_json(pod) for pod in workload.pods],
        "revisions": [revision_json(revision) for revision in workload.revisions],
    }


def event_json(event: EventRow) -> dict[str, Any]:
    """An event about a workload, ReplicaSet or pod; ``object`` is ``Kind/name``."""
    return {
        "type": event.type,
        "reason": event.reason,
        "message": event.message,
        "object": event.object,
        "count": event.count,
        "last_seen": event.last_seen.isoformat() if event.last_seen else None,
    }


def cluster_json(cluster: ClusterReport, gitops: ClusterGitOps | None = None) -> dict[str, Any]:
    """One cluster: its error (then no workloads), or its workloads (its Argo Rollouts among them, with
    ``kind: "Rollout"``) and events."""
    workloads = [workload_json(workload) for workload in cluster.workloads]
    if gitops is not None and gitops.rollouts and not cluster.error:
        from .gitops_json import rollout_report_json

        workloads += [rollout_report_json(rollout) for rollout in gitops.rollouts]
    return {
        "name": cluster.name,
        "demo": cluster.demo,
        "error": cluster.error,
        "workloads": workloads,
        "events": [event_json(event) for event in cluster.events],
    }


def deployments_json(report: DeploymentsReport, gitops: list[ClusterGitOps] | None = None) -> dict[str, Any]:
    """The whole answer of ``idp-tui deployments REF --json``.

    Args:
        report: The workloads per cluster.
        gitops: Each cluster's Argo CD applications and Argo Rollouts; given (even empty), the answer gains
            ``gitops`` (the applications, ``[]`` for an entity without ``argocd/*`` annotations) and each
            cluster's Rollouts among its workloads. None: the answer as it was before GitOps.
    """
    by_cluster = {item.cluster: item for item in gitops or ()}
    answer = {
        "entity": report.entity,
        "selector": report.selector.label_selector,
        "namespace": report.selector.namespace,
        "demo": report.demo,
        "clusters": [cluster_json(cluster, by_cluster.get(cluster.name)) for cluster in report.clusters],
    }
    if gitops is not None:
        from .gitops_json import cluster_gitops_json

        answer["gitops"] = [entry for item in gitops for entry in cluster_gitops_json(item)]
    return answer

"""The ``deployments --json`` shape: one serialiser per result type of :mod:`idp_tui.kube.report`.

The keys and values are a contract with scripts and runbooks: they stay as they are (snake_case, times in ISO 8601
with their offset, ``null`` for what is unknown), whatever the dataclasses' fields are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..kube.events import EventRow
    from ..kube.problems import Problem
    from ..kube.report import ClusterReport, ContainerReport, DeploymentsReport, PodReport, WorkloadReport
    from ..kube.rollout import Replicas, Revision


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem with its hint, and the container it is about (None for the whole object)."""
    return {"reason": problem.reason, "message": problem.message, "hint": problem.hint, "container": problem.container}


def container_json(container: ContainerReport) -> dict[str, Any]:
    """One container of a pod."""
    return {
        "name": container.name,
        "image": container.image,
        "ready": container.ready,
        "restarts": container.restarts,
        "state": container.state,
        "last_state": container.last_state,
    }


def pod_json(pod: PodReport) -> dict[str, Any]:
    """A pod: kubectl's columns (``age_seconds`` since creation), its problems and its containers."""
    summary = pod.summary
    return {
        "name": summary.name,
        "phase": summary.phase,
        "status": summary.status,
        "ready": summary.ready,
        "restarts": summary.restarts,
        "age_seconds": summary.age,
        "node": summary.node,
        "last_termination_reason": summary.last_termination_reason,
        "problems": [problem_json(problem) for problem in pod.problems],
        "containers": [container_json(container) for container in pod.containers],
    }


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


def cluster_json(cluster: ClusterReport) -> dict[str, Any]:
    """One cluster: its error (then no workloads), or its workloads and events."""
    return {
        "name": cluster.name,
        "demo": cluster.demo,
        "error": cluster.error,
        "workloads": [workload_json(workload) for workload in cluster.workloads],
        "events": [event_json(event) for event in cluster.events],
    }


def deployments_json(report: DeploymentsReport) -> dict[str, Any]:
    """The whole answer of ``idp-tui deployments REF --json``."""
    return {
        "entity": report.entity,
        "selector": report.selector.label_selector,
        "namespace": report.selector.namespace,
        "demo": report.demo,
        "clusters": [cluster_json(cluster) for cluster in report.clusters],
    }

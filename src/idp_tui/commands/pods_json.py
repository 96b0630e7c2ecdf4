"""Pods, their containers and problems as ``deployments --json`` writes them, for every kind of workload
(Deployments, StatefulSets, DaemonSets and Argo Rollouts alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..kube.problems import Problem
    from ..kube.report import ContainerReport, PodReport


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

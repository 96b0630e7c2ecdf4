"""The ``deployments --json`` shapes for GitOps: a ``gitops`` entry per Argo CD application, and Rollouts among the
workloads with ``kind: "Rollout"`` (the same keys as the other workloads, plus ``canary`` and ``blueGreen``).

Kept apart from the models so that it can move to ``commands/`` with the rest of the JSON edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..problems import Problem, pod_problems, pod_summary
from ..report import containers
from .argocd import AppSource, ArgoApplication, Initiator
from .rollouts import RolloutInfo


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _problem(problem: Problem) -> dict[str, Any]:
    return {"reason": problem.reason, "message": problem.message, "hint": problem.hint, "container": problem.container}


def _source(source: AppSource | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {
        "repoURL": source.repo_url,
        "path": source.path,
        "chart": source.chart,
        "targetRevision": source.target_revision,
        "ref": source.ref,
    }


def _initiator(initiator: Initiator | None) -> dict[str, Any] | None:
    if initiator is None:
        return None
    return {"username": initiator.username, "automated": initiator.automated}


def gitops_json(app: ArgoApplication) -> dict[str, Any]:
    """One application as ``deployments --json`` lists it under ``gitops``.

    ``source`` is the first source; ``sources`` lists every one (several for a multi-source application, whose
    ``sync.revisions`` pairs with them). ``history`` is newest first. ``resources`` holds only the resources that
    are out of sync or unhealthy; ``resourceHealthKnown`` is false when Argo CD keeps resource health out of the
    Application (``resourceHealthSource: appTree``).
    """
    operation = app.operation
    return {
        "tool": "argocd",
        "cluster": app.cluster,
        "namespace": app.namespace,
        "name": app.name,
        "project": app.project,
        "applicationSet": app.application_set,
        "source": _source(app.source),
        "sources": [_source(source) for source in app.sources],
        "destination": {"server": app.destination_server, "namespace": app.destination_namespace},
        "autoSync": app.auto_sync,
        "sync": {"status": app.sync_status, "revision": app.sync_revision, "revisions": list(app.sync_revisions)},
        "health": {"status": app.health_status, "message": app.health_message},
        "operation": None
        if operation is None
        else {
            "phase": operation.phase,
            "message": operation.message,
            "startedAt": _time(operation.started_at),
            "finishedAt": _time(operation.finished_at),
            "initiatedBy": _initiator(operation.initiated_by),
            "revision": operation.revision,
            "pending": operation.pending,
        },
        "history": [
            {
                "id": entry.id,
                "revision": entry.revision,
                "revisions": list(entry.revisions),
                "deployedAt": _time(entry.deployed_at),
                "initiatedBy": _initiator(entry.initiated_by),
            }
            for entry in app.history
        ],
        "resources": [
            {
                "group": resource.group,
                "kind": resource.kind,
                "namespace": resource.namespace,
                "name": resource.name,
                "status": resource.status,
                "health": None
                if resource.health is None
                else {"status": resource.health, "message": resource.health_message},
                "requiresPruning": resource.requires_pruning,
            }
            for resource in app.resources
        ],
        "resourceCount": app.resource_count,
        "resourceHealthKnown": app.resource_health_known,
        "conditions": [
            {
                "type": condition.type,
                "message": condition.message,
                "lastTransitionTime": _time(condition.last_transition),
            }
            for condition in app.conditions
        ],
        "problems": [_problem(problem) for problem in app.problems],
    }


def _pod_row(pod: Mapping[str, Any], events: Iterable[Mapping[str, Any]], now: datetime | None) -> dict[str, Any]:
    summary = pod_summary(pod, now)
    return {
        "name": summary.name,
        "phase": summary.phase,
        "status": summary.status,
        "ready": summary.ready,
        "restarts": summary.restarts,
        "age_seconds": summary.age,
        "node": summary.node,
        "last_termination_reason": summary.last_termination_reason,
        "problems": [_problem(p) for p in pod_problems(pod, events, now)],
        "containers": containers(dict(pod)),
    }


def rollout_json(
    info: RolloutInfo,
    pods: Iterable[Mapping[str, Any]] = (),
    events: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Rollout as a workload of ``deployments --json``: ``kind: "Rollout"``, the workloads' keys and its own.

    ``rollout.status`` is ``complete`` (Healthy), ``failed`` (Degraded) or ``progressing`` (Progressing, Paused).
    ``canary.step`` is ``status.currentStepIndex`` as ``kubectl argo rollouts`` prints ``Step: 2/4``;
    ``canary.weight`` is the weight the steps set now, ``canary.actualWeight`` the traffic the canary gets
    (null when unknown).

    Args:
        info: The rollout.
        pods: The pods of its ReplicaSets (as listed in ``info.replica_sets``).
        events: Events of its namespace (pods' readiness problems).
        now: The time ages and probe grace periods are measured to.
    """
    owned = {name for rs in info.replica_sets for name in rs.pods}
    events = list(events)
    rows = [_pod_row(pod, events, now) for pod in pods if (pod.get("metadata") or {}).get("name") in owned]
    rows.sort(key=lambda row: (not row["problems"], row["name"]))
    canary = info.canary
    blue_green = info.blue_green
    return {
        "kind": "Rollout",
        "namespace": info.namespace,
        "name": info.name,
        "strategy": info.strategy,
        "phase": info.phase,
        "message": info.message,
        "rollout": {
            "status": "complete"
            if info.phase == "Healthy"
            else "failed"
            if info.phase == "Degraded"
            else "progressing",
            "message": info.summary,
            "revision": info.revision,
            "paused": info.paused,
        },
        "replicas": {
            "desired": info.desired,
            "updated": info.updated,
            "ready": info.ready,
            "available": info.available,
            "summary": f"{info.available} of {info.desired} replicas available, {info.updated} updated",
        },
        "canary": None
        if canary is None
        else {
            "step": canary.step,
            "steps": canary.steps,
            "weight": canary.set_weight,
            "actualWeight": canary.actual_weight,
            "paused": canary.paused,
            "pauseReasons": list(canary.pause_reasons),
            "currentStep": canary.current_step,
        },
        "blueGreen": None
        if blue_green is None
        else {
            "activeService": blue_green.active_service,
            "previewService": blue_green.preview_service,
            "activeSelector": blue_green.active_selector,
            "previewSelector": blue_green.preview_selector,
            "autoPromotion": blue_green.auto_promotion,
            "paused": blue_green.paused,
            "pauseReasons": list(blue_green.pause_reasons),
        },
        "aborted": info.aborted,
        "stableHash": info.stable_hash,
        "currentHash": info.current_hash,
        "replicaSets": [
            {
                "name": rs.name,
                "hash": rs.hash,
                "revision": rs.revision,
                "roles": list(rs.roles),
                "status": rs.status,
                "replicas": rs.replicas,
                "available": rs.available,
                "images": list(rs.images),
                "pods": list(rs.pods),
            }
            for rs in info.replica_sets
        ],
        "problems": [_problem(problem) for problem in info.problems],
        "pods": rows,
        "revisions": [
            {"revision": rs.revision, "replicaset": rs.name, "images": list(rs.images), "replicas": rs.replicas}
            for rs in info.replica_sets
        ],
    }

"""The GitOps part of ``deployments --json`` (and of ``gitops ... --json``): one serialiser per result type of
:mod:`idp_tui.kube.gitops`.

``deployments --json`` lists each Argo CD application under ``gitops`` with the keys the issue fixes (``tool``,
``cluster``, ``namespace``, ``name``, ``project``, ``source``, ``sync``, ``health``, ``operation``, ``history``,
``resources``, ``conditions``) and a few more after them; Rollouts appear among the workloads with
``kind: "Rollout"``, the workloads' keys, and ``canary`` / ``blueGreen``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .pods_json import pod_json, problem_json

if TYPE_CHECKING:
    from ..kube.gitops.argocd import AppSource, ArgoApplication, Initiator
    from ..kube.gitops.report import ClusterGitOps, RolloutReport
    from ..kube.gitops.rollouts import RolloutInfo


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def source_json(source: AppSource | None) -> dict[str, Any] | None:
    """Where the manifests come from: ``repoURL``, ``path`` (or ``chart``), ``targetRevision``, ``ref``."""
    if source is None:
        return None
    return {
        "repoURL": source.repo_url,
        "path": source.path,
        "targetRevision": source.target_revision,
        "chart": source.chart,
        "ref": source.ref,
    }


def initiator_json(initiator: Initiator | None) -> dict[str, Any] | None:
    """Who started an operation: ``{"username": ..., "automated": ...}``."""
    if initiator is None:
        return None
    return {"username": initiator.username, "automated": initiator.automated}


def application_json(app: ArgoApplication) -> dict[str, Any]:
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
        "source": source_json(app.source),
        "sync": {"status": app.sync_status, "revision": app.sync_revision, "revisions": list(app.sync_revisions)},
        "health": {"status": app.health_status, "message": app.health_message},
        "operation": None
        if operation is None
        else {
            "phase": operation.phase,
            "message": operation.message,
            "startedAt": _time(operation.started_at),
            "finishedAt": _time(operation.finished_at),
            "initiatedBy": initiator_json(operation.initiated_by),
            "revision": operation.revision,
            "pending": operation.pending,
        },
        "history": [
            {
                "id": entry.id,
                "revision": entry.revision,
                "deployedAt": _time(entry.deployed_at),
                "initiatedBy": initiator_json(entry.initiated_by),
                "revisions": list(entry.revisions),
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
        "conditions": [
            {
                "type": condition.type,
                "message": condition.message,
                "lastTransitionTime": _time(condition.last_transition),
            }
            for condition in app.conditions
        ],
        "applicationSet": app.application_set,
        "sources": [source_json(source) for source in app.sources],
        "destination": {"server": app.destination_server, "namespace": app.destination_namespace},
        "autoSync": app.auto_sync,
        "resourceCount": app.resource_count,
        "resourceHealthKnown": app.resource_health_known,
        "problems": [problem_json(problem) for problem in app.problems],
    }


def rollout_report_json(report: RolloutReport) -> dict[str, Any]:
    """A Rollout as a workload of ``deployments --json``: ``kind: "Rollout"``, the workloads' keys and its own.

    ``rollout.status`` is ``complete`` (Healthy), ``failed`` (Degraded) or ``progressing`` (Progressing, Paused).
    ``canary.step`` is ``status.currentStepIndex`` as ``kubectl argo rollouts`` prints ``Step: 2/4``;
    ``canary.weight`` is the weight the steps set now, ``canary.actualWeight`` the traffic the canary gets
    (null when unknown).
    """
    info = report.info
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
            "status": report.rollout_state,
            "message": info.summary,
            "revision": info.revision,
            "paused": info.paused,
        },
        "replicas": {
            "desired": info.desired,
            "updated": info.updated,
            "ready": info.ready,
            "available": info.available,
            "summary": report.replicas_summary,
        },
        "canary": None
        if canary is None
        else {
            "step": canary.step,
            "steps": canary.steps,
            "weight": canary.set_weight,
            "paused": canary.paused,
            "pauseReasons": list(canary.pause_reasons),
            "actualWeight": canary.actual_weight,
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
        "problems": [problem_json(problem) for problem in info.problems],
        "pods": [pod_json(pod) for pod in report.pods],
        "revisions": [
            {"revision": rs.revision, "replicaset": rs.name, "images": list(rs.images), "replicas": rs.replicas}
            for rs in info.replica_sets
        ],
    }


def rollout_json(
    info: RolloutInfo,
    pods: Iterable[Mapping[str, Any]] = (),
    events: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """:func:`rollout_report_json` of a rollout and the pods of its ReplicaSets (``pods``: of its namespace)."""
    from ..kube.gitops.report import rollout_report

    return rollout_report_json(rollout_report(info, pods, events, now))


def cluster_gitops_json(gitops: ClusterGitOps) -> list[dict[str, Any]]:
    """A cluster's applications, as entries of ``gitops``."""
    return [application_json(app) for app in gitops.applications]

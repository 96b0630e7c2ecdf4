"""An entity's deployments per cluster: workloads with rollout status and replicas, their pods and problems, events.

Pure: it takes the Kubernetes JSON read by :mod:`access` and returns plain data (the ``deployments --json`` shape),
so the command line and the TUI show the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .events import relevant_events
from .problems import hpa_problems, pod_problems, pod_summary, workload_problems
from .rollout import replica_counts, revision_history, rollout_status
from .selection import matches, selector_from_label_selector
from .snapshot import ClusterSnapshot

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


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


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Each container of a pod: image, readiness, restarts, state and how it last ended."""
    statuses = {s.get("name"): s for s in pod.get("status", {}).get("containerStatuses") or []}
    rows = []
    for container in pod.get("spec", {}).get("containers") or []:
        status = statuses.get(container.get("name"), {})
        rows.append(
            {
                "name": container.get("name"),
                "image": container.get("image"),
                "ready": bool(status.get("ready")),
                "restarts": status.get("restartCount", 0),
                "state": _state(status.get("state")),
                "last_state": _state(status.get("lastState")),
            }
        )
    return rows


def _problem_json(problem) -> dict[str, Any]:
    return {"reason": problem.reason, "message": problem.message, "hint": problem.hint, "container": problem.container}


def workload_report(
    kind: str, workload: dict[str, Any], snapshot: ClusterSnapshot, now: datetime | None
) -> dict[str, Any]:
    """One workload: rollout, replicas, its pods (problems first) and its own problems."""
    pods = _pods_of(workload, snapshot.objects.get("Pod", []))
    status = rollout_status(workload, kind, pods)
    replicas = replica_counts(workload, kind)
    pod_rows = []
    for pod in pods:
        summary = pod_summary(pod, now)
        problems = pod_problems(pod, snapshot.events, now)
        pod_rows.append(
            {
                "name": summary.name,
                "phase": summary.phase,
                "status": summary.status,
                "ready": summary.ready,
                "restarts": summary.restarts,
                "age_seconds": summary.age,
                "node": summary.node,
                "last_termination_reason": summary.last_termination_reason,
                "problems": [_problem_json(p) for p in problems],
                "containers": containers(pod),
            }
        )
    pod_rows.sort(key=lambda row: (not row["problems"], row["name"]))
    own = workload_problems(workload)
    for hpa in _hpas_of(kind, workload, snapshot.objects.get("HorizontalPodAutoscaler", [])):
        own += hpa_problems(hpa)
    namespace, name = _key(workload)
    return {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "rollout": {
            "status": "failed" if status.failed else "complete" if status.done else "progressing",
            "message": status.message,
            "revision": status.revision,
            "paused": status.paused,
        },
        "replicas": {
            "desired": replicas.desired,
            "updated": replicas.updated,
            "ready": replicas.ready,
            "available": replicas.available,
            "summary": replicas.summary,
        },
        "problems": [_problem_json(p) for p in own],
        "pods": pod_rows,
        "revisions": [
            {
                "revision": revision.number,
                "replicaset": revision.replicaset,
                "images": list(revision.images),
                "created": revision.created.isoformat() if revision.created else None,
                "replicas": revision.replicas,
            }
            for revision in (
                revision_history(workload, snapshot.objects.get("ReplicaSet", [])) if kind == "Deployment" else []
            )
        ],
    }


def cluster_report(snapshot: ClusterSnapshot, now: datetime | None = None) -> dict[str, Any]:
    """One cluster: its error, or its workloads (those with problems first) and the events about them."""
    report: dict[str, Any] = {"name": snapshot.name, "demo": snapshot.demo, "error": snapshot.error}
    workloads = [
        workload_report(kind, workload, snapshot, now)
        for kind in WORKLOAD_KINDS
        for workload in snapshot.objects.get(kind, [])
    ]
    workloads.sort(
        key=lambda w: (not (w["problems"] or any(p["problems"] for p in w["pods"])), w["namespace"], w["name"])
    )
    report["workloads"] = workloads
    involved = [obj for kind in (*WORKLOAD_KINDS, "ReplicaSet", "Pod") for obj in snapshot.objects.get(kind, [])]
    report["events"] = [
        {
            "type": row.type,
            "reason": row.reason,
            "message": row.message,
            "object": row.object,
            "count": row.count,
            "last_seen": row.last_seen.isoformat() if row.last_seen else None,
        }
        for row in relevant_events(snapshot.events, involved)
    ]
    return report

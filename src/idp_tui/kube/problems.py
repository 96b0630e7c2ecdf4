"""Problems in pods, workloads and autoscalers, found the way Backstage's Kubernetes plugin finds them; pod rows.

Detection follows ``plugins/kubernetes-common/src/error-detection/`` in Backstage: ``pods.ts`` (readiness probe
taking too long, containers waiting with a message, containers restarting with the last termination's cause),
``deployments.ts`` (conditions with status False and a message) and ``hpas.ts`` (current replicas equal to
``maxReplicas``). ``severity`` uses Backstage's scale (pods 4, workload conditions 6, autoscaler at max 8).
``pod_summary`` computes kubectl's STATUS, READY and RESTARTS columns as ``printPod`` does in
``pkg/printers/internalversion/printers.go``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .events import is_about, parse_time

_LOGS = "check its previous logs (l, then p)"
# One actionable line per cause; the keys are the container-state or condition reasons Kubernetes reports.
HINTS = {
    "CrashLoopBackOff": f"the container keeps exiting; {_LOGS}",
    "ImagePullBackOff": "the image cannot be pulled; check the image name and tag, and the registry pull secret",
    "ErrImagePull": "the image cannot be pulled; check the image name and tag, and the registry pull secret",
    "InvalidImageName": "the image reference is malformed; fix the image name in the workload spec",
    "CreateContainerConfigError": "a ConfigMap or Secret the container references is missing; check names and keys",
    "CreateContainerError": "the runtime could not create the container; read the message and the pod's events",
    "OOMKilled": "the container ran out of memory; raise its memory limit or lower its usage",
    "Error": f"the container exited with an error; {_LOGS}",
    "Unknown": f"the container exited for an unknown reason (often a node problem); {_LOGS}",
    "ReadinessProbeFailed": "the container runs but fails its readiness probe; check its logs (l) and the probe",
    "ProgressDeadlineExceeded": "the rollout is stuck; look at the new pods' problems and events, or roll back",
    "MinimumReplicasUnavailable": "fewer pods than required are available; look at the pods' problems below",
    "FailedCreate": "pods cannot be created; check resource quotas, limits and the events",
    "AtMaxReplicas": "the autoscaler cannot add pods; raise maxReplicas or find out why the load is high",
}
_GENERIC_HINT = "read the message and the events for details"

# Waiting reasons that are problems even without a message (Backstage only looks at waiting states with a message).
_PROBLEM_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName")
_PROBLEM_WAITING += ("CreateContainerConfigError", "CreateContainerError")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an object, with a one-line hint on what to do; ``container`` when it is one container's."""

    reason: str
    message: str
    hint: str
    severity: int
    container: str | None = None


@dataclass(frozen=True, slots=True)
class PodSummary:
    """A pod as ``kubectl get pods`` shows it; ``status`` is kubectl's STATUS column, ``age`` seconds since creation."""

    name: str
    phase: str
    status: str
    ready: str
    restarts: int
    age: int | None
    node: str | None
    last_termination_reason: str | None


def _problem(reason: str, message: str, severity: int, container: str | None = None) -> Problem:
    return Problem(reason, message, HINTS.get(reason, _GENERIC_HINT), severity, container)


def _readiness_overdue(container: Mapping[str, Any], status: Mapping[str, Any], now: datetime) -> bool:
    """Backstage's ``isPodReadinessProbeUnready``: running, not ready, and past the probe's grace period."""
    probe = container.get("readinessProbe")
    started = parse_time(((status.get("state") or {}).get("running") or {}).get("startedAt"))
    if status.get("ready") or started is None or not probe:
        return False
    # Backstage reads missing fields as 0; the API server always fills them in (10 s period, threshold 3).
    period, threshold = probe.get("periodSeconds", 10), probe.get("failureThreshold", 3)
    return started + timedelta(seconds=probe.get("initialDelaySeconds", 0) + period * threshold) < now


def pod_problems(
    pod: Mapping[str, Any], events: Iterable[Mapping[str, Any]] = (), now: datetime | None = None
) -> list[Problem]:
    """What is wrong with a pod, per container, each with a hint.

    Args:
        pod: The pod as the API returns it.
        events: Events of its namespace; an ``Unhealthy`` "Readiness probe failed" event about this pod flags the
            probe before Backstage's grace period has passed.
        now: The time to judge probe grace periods against (defaults to the current time).

    Returns:
        The problems, in Backstage's order: readiness, waiting containers, restarted containers.
    """
    now = now or datetime.now(UTC)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    specs = {container.get("name"): container for container in spec.get("containers") or []}
    statuses = status.get("containerStatuses") or []
    problems: list[Problem] = []

    unready = [
        cs["name"] for cs in statuses if cs.get("name") in specs and _readiness_overdue(specs[cs["name"]], cs, now)
    ]
    probe_events = [
        event
        for event in events
        if event.get("reason") == "Unhealthy"
        and "Readiness probe failed" in (event.get("message") or event.get("note") or "")
        and is_about(event, pod, "Pod")
    ]
    if probe_events:
        # An event names no container; blame the running, unready ones.
        running_unready = [
            cs["name"] for cs in statuses if not cs.get("ready") and (cs.get("state") or {}).get("running")
        ]
        unready += [name for name in running_unready if name not in unready]
    for name in unready:
        message = f"The container {name} failed to start properly, but is not crashing"
        problems.append(_problem("ReadinessProbeFailed", message, 4, name))

    for cs in statuses:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason") or ""
        if waiting.get("message") is not None or reason in _PROBLEM_WAITING:
            problems.append(_problem(reason or "Waiting", waiting.get("message") or reason, 4, cs.get("name")))

    for cs in statuses:
        restarts = int(cs.get("restartCount") or 0)
        if restarts <= 0:
            continue
        last = (cs.get("lastState") or {}).get("terminated") or {}
        reason = last.get("reason") or "Restarted"
        message = f"container={cs.get('name')} restarted {restarts} times"
        if last:
            message += f" (last exit code {last.get('exitCode', '?')}, {reason})"
        problems.append(_problem(reason, message, 4, cs.get("name")))
    return problems


def workload_problems(workload: Mapping[str, Any]) -> list[Problem]:
    """Problems a Deployment, StatefulSet or DaemonSet reports in its conditions.

    As Backstage: every condition with status ``False`` and a message (e.g. ``Progressing`` with
    ``ProgressDeadlineExceeded``, ``Available`` with ``MinimumReplicasUnavailable``). Also ``ReplicaFailure``, whose
    failing status is ``True`` (the controller could not create pods), which Backstage misses.
    """
    problems = []
    for condition in (workload.get("status") or {}).get("conditions") or []:
        failing = condition.get("status") == "False" or (
            condition.get("type") == "ReplicaFailure" and condition.get("status") == "True"
        )
        if failing and condition.get("message") is not None:
            reason = condition.get("reason") or condition.get("type") or "Condition"
            problems.append(_problem(reason, condition["message"], 6))
    return problems


def hpa_problems(hpa: Mapping[str, Any]) -> list[Problem]:
    """A HorizontalPodAutoscaler (``autoscaling/v1`` or ``v2``) that has scaled to its maximum and can add no more."""
    maximum = (hpa.get("spec") or {}).get("maxReplicas", -1)
    current = (hpa.get("status") or {}).get("currentReplicas")
    if maximum != current:
        return []
    message = f"Current number of replicas ({current}) is equal to the configured max number of replicas ({maximum})"
    return [_problem("AtMaxReplicas", message, 8)]


def _terminated_reason(terminated: Mapping[str, Any], prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _is_sidecar(container: Mapping[str, Any] | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _has_condition(status: Mapping[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or [])


def pod_summary(pod: Mapping[str, Any], now: datetime | None = None) -> PodSummary:
    """A pod's ``kubectl get pods`` row (NAME, READY, STATUS, RESTARTS, AGE) plus node and last termination.

    Args:
        pod: The pod as the API returns it.
        now: The time ``age`` is measured to (defaults to the current time).
    """
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in status.get("conditions") or []
    ):
        reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _is_sidecar(c))
    ready = restarts = sidecar_restarts = 0

    init_statuses = status.get("initContainerStatuses") or []
    initializing = False
    for index, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        restarts += int(cs.get("restartCount") or 0)
        sidecar = _is_sidecar(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if terminated and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _has_condition(status, "Initialized"):
        restarts = sidecar_restarts
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            restarts += int(cs.get("restartCount") or 0)
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A pod whose finished containers say "Completed" while another still runs is running.
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(status, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif metadata.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    created = parse_time(metadata.get("creationTimestamp"))
    age = int(((now or datetime.now(UTC)) - created).total_seconds()) if created else None
    return PodSummary(
        name=metadata.get("name", ""),
        phase=phase,
        status=reason,
        ready=f"{ready}/{total}",
        restarts=restarts,
        age=age,
        node=spec.get("nodeName") or None,
        last_termination_reason=_last_termination_reason(status),
    )


def _last_termination_reason(status: Mapping[str, Any]) -> str | None:
    """The reason of the most recent earlier termination among the pod's containers (``lastState.terminated``)."""
    latest: tuple[datetime, str] | None = None
    for cs in status.get("containerStatuses") or []:
        terminated = (cs.get("lastState") or {}).get("terminated")
        if not terminated:
            continue
        finished = parse_time(terminated.get("finishedAt")) or datetime.min.replace(tzinfo=UTC)
        if latest is None or finished > latest[0]:
            latest = (finished, _terminated_reason(terminated))
    return latest[1] if latest else None

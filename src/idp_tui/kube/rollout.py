"""Rollout status, replica counts and revision history of workloads, with kubectl's semantics and wording.

The status messages are those of ``kubectl rollout status``: ``DeploymentStatusViewer``,
``StatefulSetStatusViewer`` and ``DaemonSetStatusViewer`` in
``staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`` (kubectl's trailing newline dropped).
Objects are plain dicts in the API's JSON shape (camelCase), e.g. from ``ApiClient.sanitize_for_serialization``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .events import parse_time
from .selection import Requirement, parse_selector, selector_from_label_selector

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"

# Reasons set on RolloutStatus.reason, for the cases a person must act on.
REASON_DEADLINE = "ProgressDeadlineExceeded"  # kubectl: deploymentutil.TimedOutReason
REASON_PAUSED = "DeploymentPaused"  # the deployment controller's reason while spec.paused
REASON_UNSUPPORTED = "UpdateStrategyNotSupported"

# kubectl's appendWarning: pod states worth appending to a deployment's "Waiting ..." line.
_WARNING_WAITING_REASONS = (
    "ImagePullBackOff",
    "ErrImagePull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
)


@dataclass(frozen=True, slots=True)
class RolloutStatus:
    """Where a workload's rollout stands.

    ``message`` is kubectl's line; ``reason`` is set when waiting will not help (deadline exceeded, paused,
    unsupported strategy); ``revision`` is the Deployment's ``deployment.kubernetes.io/revision``.
    """

    done: bool
    message: str
    reason: str | None = None
    revision: int | None = None
    paused: bool = False

    @property
    def failed(self) -> bool:
        """Whether kubectl reports this as an error rather than progress (it exits non-zero)."""
        return self.reason in (REASON_DEADLINE, REASON_UNSUPPORTED)


@dataclass(frozen=True, slots=True)
class Replicas:
    """A workload's replica counts (pods for DaemonSets): desired, updated to the latest spec, ready, available."""

    desired: int
    updated: int
    ready: int
    available: int

    @property
    def summary(self) -> str:
        """In words, e.g. ``"2 of 3 updated replicas available"``."""
        if self.updated < self.desired:
            return f"{self.updated} of {self.desired} replicas updated, {self.available} available"
        return f"{self.available} of {self.updated} updated replicas available"


@dataclass(frozen=True, slots=True)
class Revision:
    """One entry of a Deployment's history: a ReplicaSet it owns and what that revision ran."""

    number: int
    replicaset: str
    images: tuple[str, ...]
    created: datetime | None
    replicas: int
    change_cause: str | None = None


def _kind_of(workload: Mapping[str, Any], kind: str | None) -> str:
    # Items of a list response carry no kind, so callers that listed them say which kind they asked for.
    found = kind or workload.get("kind")
    if found not in ("Deployment", "StatefulSet", "DaemonSet"):
        raise ValueError(f"no rollout status for kind {found!r}; pass kind= for items of a list response")
    return found


def _revision(obj: Mapping[str, Any]) -> int | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _int(mapping: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = mapping.get(key)
    return default if value is None else int(value)


def rollout_status(
    workload: Mapping[str, Any], kind: str | None = None, pods: Iterable[Mapping[str, Any]] = ()
) -> RolloutStatus:
    """kubectl's ``rollout status`` verdict for a Deployment, StatefulSet or DaemonSet.

    Args:
        workload: The object as the API returns it.
        kind: Its kind, needed when ``workload`` came from a list response (which omits ``kind``).
        pods: Pods of the workload's namespace. For a Deployment still rolling out, kubectl appends the first
            selected pod that is unschedulable or stuck pulling/crashing, e.g. ``(Warning: CrashLoopBackOff - ...)``.

    Returns:
        The status; ``paused`` reflects a Deployment's ``spec.paused``.
    """
    kind = _kind_of(workload, kind)
    if kind == "Deployment":
        return _deployment_status(workload, pods)
    if kind == "StatefulSet":
        return _statefulset_status(workload)
    return _daemonset_status(workload)


def _deployment_status(deployment: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> RolloutStatus:
    metadata, spec, status = (
        deployment.get("metadata") or {},
        deployment.get("spec") or {},
        deployment.get("status") or {},
    )
    name = metadata.get("name", "")
    revision = _revision(deployment)
    paused = bool(spec.get("paused"))

    def waiting(message: str) -> RolloutStatus:
        message = _append_warning(deployment, message, pods)
        return RolloutStatus(False, message, REASON_PAUSED if paused else None, revision, paused)

    if _int(metadata, "generation") > _int(status, "observedGeneration"):
        return waiting("Waiting for deployment spec update to be observed...")
    progressing = next((c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), None)
    if progressing is not None and progressing.get("reason") == REASON_DEADLINE:
        return RolloutStatus(
            False, f'deployment "{name}" exceeded its progress deadline', REASON_DEADLINE, revision, paused
        )
    updated, replicas = _int(status, "updatedReplicas"), _int(status, "replicas")
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    # kubectl skips this test when spec.replicas is nil; the API server always defaults it to 1.
    if spec.get("replicas") is not None and updated < int(spec["replicas"]):
        return waiting(f"{prefix}{updated} out of {spec['replicas']} new replicas have been updated...")
    if replicas > updated:
        return waiting(f"{prefix}{replicas - updated} old replicas are pending termination...")
    available = _int(status, "availableReplicas")
    if available < updated:
        return waiting(f"{prefix}{available} of {updated} updated replicas are available...")
    return RolloutStatus(True, f'deployment "{name}" successfully rolled out', None, revision, paused)


def _append_warning(deployment: Mapping[str, Any], message: str, pods: Iterable[Mapping[str, Any]]) -> str:
    """kubectl's ``DeploymentStatusViewer.appendWarning``: name the first reason a selected pod is stuck."""
    selector = selector_from_label_selector((deployment.get("spec") or {}).get("selector"))
    namespace = (deployment.get("metadata") or {}).get("namespace")
    requirements: tuple[Requirement, ...] | None = None  # parsed once, at the first pod of the namespace
    for pod in pods:
        pod_meta = pod.get("metadata") or {}
        if namespace and pod_meta.get("namespace") not in (None, namespace):
            continue
        requirements = parse_selector(selector) if requirements is None else requirements
        labels = pod_meta.get("labels") or {}
        if not all(requirement.matches(labels) for requirement in requirements):
            continue
        status = pod.get("status") or {}
        for condition in status.get("conditions") or []:
            if (condition.get("type"), condition.get("status"), condition.get("reason")) == (
                "PodScheduled",
                "False",
                "Unschedulable",
            ):
                return f"{message} (Warning: {condition.get('message', '')})"
        for container in status.get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting")
            if waiting and waiting.get("reason") in _WARNING_WAITING_REASONS:
                return f"{message} (Warning: {waiting['reason']} - {waiting.get('message', '')})"
    return message


def _statefulset_status(sts: Mapping[str, Any]) -> RolloutStatus:
    metadata, spec, status = sts.get("metadata") or {}, sts.get("spec") or {}, sts.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    # The API server defaults the strategy to RollingUpdate; only an explicit OnDelete is unsupported.
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        message = "rollout status is only available for RollingUpdate strategy type"
        return RolloutStatus(True, message, REASON_UNSUPPORTED)
    observed = _int(status, "observedGeneration")
    if observed == 0 or _int(metadata, "generation") > observed:
        return RolloutStatus(False, "Waiting for statefulset spec update to be observed...")
    replicas = spec.get("replicas")
    ready, updated = _int(status, "readyReplicas"), _int(status, "updatedReplicas")
    if replicas is not None and ready < int(replicas):
        return RolloutStatus(False, f"Waiting for {int(replicas) - ready} pods to be ready...")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < int(replicas) - int(partition):
            target = int(replicas) - int(partition)
            return RolloutStatus(
                False,
                f"Waiting for partitioned roll out to finish: {updated} out of {target} new pods have been updated...",
            )
        return RolloutStatus(True, f"partitioned roll out complete: {updated} new pods have been updated...")
    update_revision, current_revision = status.get("updateRevision", ""), status.get("currentRevision", "")
    if update_revision != current_revision:
        return RolloutStatus(
            False, f"waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        )
    current = _int(status, "currentReplicas")
    return RolloutStatus(True, f"statefulset rolling update complete {current} pods at revision {current_revision}...")


def _daemonset_status(daemon: Mapping[str, Any]) -> RolloutStatus:
    metadata, spec, status = daemon.get("metadata") or {}, daemon.get("spec") or {}, daemon.get("status") or {}
    name = metadata.get("name", "")
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        # kubectl's own wording, which names the StatefulSet constant's value (the same string).
        message = "rollout status is only available for RollingUpdate strategy type"
        return RolloutStatus(True, message, REASON_UNSUPPORTED)
    if _int(metadata, "generation") > _int(status, "observedGeneration"):
        return RolloutStatus(False, "Waiting for daemon set spec update to be observed...")
    desired, updated = _int(status, "desiredNumberScheduled"), _int(status, "updatedNumberScheduled")
    prefix = f'Waiting for daemon set "{name}" rollout to finish: '
    if updated < desired:
        return RolloutStatus(False, f"{prefix}{updated} out of {desired} new pods have been updated...")
    available = _int(status, "numberAvailable")
    if available < desired:
        return RolloutStatus(False, f"{prefix}{available} of {desired} updated pods are available...")
    return RolloutStatus(True, f'daemon set "{name}" successfully rolled out')


def replica_counts(workload: Mapping[str, Any], kind: str | None = None) -> Replicas:
    """Desired, updated, ready and available replicas (scheduled pods for a DaemonSet).

    Args:
        workload: The Deployment, StatefulSet or DaemonSet as the API returns it.
        kind: Its kind, when ``workload`` came from a list response.
    """
    kind = _kind_of(workload, kind)
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if kind == "DaemonSet":
        return Replicas(
            desired=_int(status, "desiredNumberScheduled"),
            updated=_int(status, "updatedNumberScheduled"),
            ready=_int(status, "numberReady"),
            available=_int(status, "numberAvailable"),
        )
    return Replicas(
        desired=_int(spec, "replicas", 1),  # the API server's default for an unset spec.replicas
        updated=_int(status, "updatedReplicas"),
        ready=_int(status, "readyReplicas"),
        available=_int(status, "availableReplicas"),
    )


def revision_history(deployment: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]]) -> list[Revision]:
    """The Deployment's revisions, newest first, from the ReplicaSets it owns (as ``kubectl rollout history``).

    A ReplicaSet belongs to the Deployment when one of its ``ownerReferences`` carries the Deployment's uid;
    its revision is its ``deployment.kubernetes.io/revision`` annotation (ReplicaSets without one are skipped).
    """
    uid = (deployment.get("metadata") or {}).get("uid")
    revisions = []
    for replicaset in replicasets:
        metadata = replicaset.get("metadata") or {}
        if not uid or not any(ref.get("uid") == uid for ref in metadata.get("ownerReferences") or []):
            continue
        number = _revision(replicaset)
        if number is None:
            continue
        containers = (((replicaset.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        revisions.append(
            Revision(
                number=number,
                replicaset=metadata.get("name", ""),
                images=tuple(c.get("image", "") for c in containers),
                created=parse_time(metadata.get("creationTimestamp")),
                replicas=_int(replicaset.get("status") or {}, "replicas"),
                change_cause=(metadata.get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION),
            )
        )
    revisions.sort(key=lambda revision: revision.number, reverse=True)
    return revisions

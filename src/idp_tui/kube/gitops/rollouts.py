"""An Argo Rollout as ``kubectl argo rollouts get rollout`` shows it: phase, canary step and weight, pauses,
the stable and canary (or active and preview) ReplicaSets and their pods.

Semantics as read in argoproj/argo-rollouts:

- phase and message: ``utils/rollout/rolloututil.go`` ``GetRolloutPhase`` (spec not yet observed, unpausing, then
  the controller's ``status.phase``/``status.message``, else ``CalculateRolloutPhase`` for pre-1.0 controllers).
- step, weights, strategy: ``pkg/kubectl-argo-rollouts/info/rollout_info.go`` ``NewRolloutInfo``: ``Step`` is
  ``currentStepIndex/len(steps)`` (the index of the step being run, so "2/4" is the third step running or two
  done); ``SetWeight`` from ``utils/replicaset/canary.go`` ``GetCurrentSetWeight`` (the last ``setWeight`` at or
  before the current step; 0 when aborted; the maximum weight when the steps are done); ``ActualWeight`` from
  ``status.canary.weights`` with traffic routing, else the canary ReplicaSet's share of the available pods.
- ReplicaSet roles and health: ``info/replicaset_info.go`` ``GetReplicaSetInfo``/``getReplicaSetHealth``, matched
  on the ``rollouts-pod-template-hash`` label: stable (``status.stableRS``), canary (``status.currentPodHash``),
  active and preview (``status.blueGreen.activeSelector``/``previewSelector``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..problems import Problem
from ._json import EMPTY, decimal, integer, obj, objs, text

HEALTHY, PROGRESSING, PAUSED, DEGRADED = "Healthy", "Progressing", "Paused", "Degraded"
HASH_LABEL = "rollouts-pod-template-hash"
REVISION_ANNOTATION = "rollout.argoproj.io/revision"
ABORTED_REASON = "RolloutAborted"  # utils/conditions/conditions.go
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
INVALID_SPEC = "InvalidSpec"

HINTS = {
    ABORTED_REASON: "the update was aborted (by hand or by a failed analysis) and the stable version serves; fix "
    "it and retry (kubectl argo rollouts retry rollout), or revert the template in git",
    TIMED_OUT_REASON: "the new pods did not become available in time; look at their problems and events, then "
    "fix or abort",
    INVALID_SPEC: "the Rollout spec is invalid; read the message and fix the manifest",
    "InconclusiveAnalysisRun": "the analysis could not decide; read the AnalysisRun, then promote or abort",
    "InconclusiveExperiment": "the experiment could not decide; read it, then promote or abort",
    "ReplicaFailure": "pods cannot be created for a ReplicaSet; check quotas, limits and the events",
    DEGRADED: "the rollout is degraded; read the message and its pods' problems",
}


@dataclass(frozen=True, slots=True)
class CanaryProgress:
    """Where a canary stands: step ``step`` of ``steps`` (kubectl-argo-rollouts' index), its weights and pauses."""

    step: int | None
    steps: int
    set_weight: int
    actual_weight: int | None
    paused: bool
    pause_reasons: tuple[str, ...]
    current_step: str | None = None

    @property
    def step_text(self) -> str | None:
        """``2/4`` as ``kubectl argo rollouts get`` prints it, or None for a canary without steps."""
        return f"{self.step}/{self.steps}" if self.step is not None and self.steps else None


@dataclass(frozen=True, slots=True)
class BlueGreenState:
    """A blue-green rollout's services and the pod-template hashes each one selects."""

    active_service: str | None
    preview_service: str | None
    active_selector: str | None
    preview_selector: str | None
    auto_promotion: bool
    paused: bool
    pause_reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RolloutReplicaSet:
    """A ReplicaSet the rollout owns, with its role (stable, canary, active, preview; several for blue-green)."""

    name: str
    hash: str
    revision: int | None
    roles: tuple[str, ...]
    status: str
    replicas: int
    available: int
    images: tuple[str, ...]
    pods: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RolloutInfo:
    """A Rollout's state, as the Deployments view shows it among the workloads."""

    namespace: str
    name: str
    strategy: str  # Canary, BlueGreen, or "" when the spec has neither
    phase: str
    message: str
    aborted: bool
    paused: bool
    pause_reasons: tuple[str, ...]
    canary: CanaryProgress | None
    blue_green: BlueGreenState | None
    stable_hash: str | None
    current_hash: str | None
    revision: int | None
    desired: int
    current: int
    updated: int
    ready: int
    available: int
    replica_sets: tuple[RolloutReplicaSet, ...]
    problems: tuple[Problem, ...]

    @property
    def fully_promoted(self) -> bool:
        """``IsFullyPromoted``: the stable ReplicaSet is the desired one."""
        return self.stable_hash == self.current_hash

    @property
    def summary(self) -> str:
        """One line: ``Paused (CanaryPauseStep) · step 2/4 · weight 25%``, ``Healthy``, ``Degraded: ...``."""
        head = self.phase + (f": {self.message}" if self.message and self.phase != PAUSED else "")
        if self.phase == PAUSED and self.pause_reasons:
            head = f"{self.phase} ({', '.join(self.pause_reasons)})"
        elif self.phase == PAUSED and self.message:
            head = f"{self.phase} ({self.message})"
        parts = [head]
        if self.canary is not None:
            if self.canary.step_text:
                parts.append(f"step {self.canary.step_text}")
            parts.append(f"weight {self.canary.set_weight}%")
        return " · ".join(parts)


def _strategy(rollout: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """(canary, blueGreen) of ``spec.strategy``; None when absent (``canary: {}`` is a canary)."""
    strategy = obj(rollout, "spec", "strategy")
    canary, blue_green = strategy.get("canary"), strategy.get("blueGreen")
    return (
        canary if isinstance(canary, Mapping) else None,
        blue_green if isinstance(blue_green, Mapping) else None,
    )


def _steps(rollout: Mapping[str, Any]) -> list[Any]:
    canary, _ = _strategy(rollout)
    steps = canary.get("steps") if canary is not None else None
    return steps if isinstance(steps, list) else []


def current_canary_step(rollout: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, int | None]:
    """``GetCurrentCanaryStep``: the step being run and its index (None, None without canary steps; the step is
    None once every step is done)."""
    steps = _steps(rollout)
    if not steps:
        return None, None
    index = integer(obj(rollout, "status").get("currentStepIndex"))
    if index >= len(steps) or index < 0:
        return None, index
    return obj(steps[index]) if isinstance(steps[index], Mapping) else EMPTY, index


def max_traffic_weight(rollout: Mapping[str, Any]) -> int:
    """``weightutil.MaxTrafficWeight``: ``trafficRouting.maxTrafficWeight``, default 100."""
    canary, _ = _strategy(rollout)
    return integer(obj(canary, "trafficRouting").get("maxTrafficWeight"), 100)


def current_set_weight(rollout: Mapping[str, Any]) -> int:
    """``GetCurrentSetWeight``: the weight the steps ask for now."""
    if obj(rollout, "status").get("abort") is True:
        return 0
    step, index = current_canary_step(rollout)
    if step is None:
        return max_traffic_weight(rollout)
    for earlier in reversed(_steps(rollout)[: (index or 0) + 1]):
        if isinstance(earlier, Mapping) and "setWeight" in earlier:
            return integer(earlier.get("setWeight"))
    return 0


def _step_text(step: Mapping[str, Any] | None) -> str | None:
    if step is None:
        return None
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    if "pause" in step:
        duration = obj(step, "pause").get("duration")
        return f"pause {duration}" if duration is not None else "pause (until promoted)"
    return next((key for key in step if isinstance(key, str)), None)  # analysis, experiment, setCanaryScale...


def rollout_phase(rollout: Mapping[str, Any]) -> tuple[str, str]:
    """``GetRolloutPhase``: the phase (Healthy, Progressing, Paused, Degraded) and its message."""
    metadata, status = obj(rollout, "metadata"), obj(rollout, "status")
    observed = decimal(status.get("observedGeneration"))
    # observedGeneration is a string; a non-numeric one is a pre-0.10 hash and counts as observed.
    if observed is not None and observed < integer(metadata.get("generation")):
        return PROGRESSING, "waiting for rollout spec update to be observed"
    if status.get("controllerPause") is True and not objs(status.get("pauseConditions")):
        return PROGRESSING, "waiting for rollout to unpause"
    if text(status.get("phase")):
        return status["phase"], text(status.get("message")) or ""
    return _calculate_phase(rollout)


def _calculate_phase(rollout: Mapping[str, Any]) -> tuple[str, str]:
    """``CalculateRolloutPhase``, for controllers older than 1.0 that do not write ``status.phase``."""
    spec, status = obj(rollout, "spec"), obj(rollout, "status")
    for condition in objs(status.get("conditions")):
        if condition.get("type") == INVALID_SPEC:
            return DEGRADED, f"{INVALID_SPEC}: {condition.get('message', '')}"
        if condition.get("reason") in (ABORTED_REASON, TIMED_OUT_REASON):
            return DEGRADED, f"{condition['reason']}: {condition.get('message', '')}"
    if spec.get("paused") is True:
        return PAUSED, "manually paused"
    for pause in objs(status.get("pauseConditions")):
        return PAUSED, str(pause.get("reason", ""))
    if spec.get("restartAt") and spec.get("restartAt") != status.get("restartedAt"):
        return PROGRESSING, "rollout is restarting"
    updated = integer(status.get("updatedReplicas"))
    if updated < integer(spec.get("replicas"), 1):
        return PROGRESSING, "more replicas need to be updated"
    if integer(status.get("availableReplicas")) < updated:
        return PROGRESSING, "updated replicas are still becoming available"
    canary, blue_green = _strategy(rollout)
    stable, current = status.get("stableRS") or "", status.get("currentPodHash")
    if blue_green is not None:
        active = obj(status, "blueGreen").get("activeSelector") or ""
        if not active or active != current:
            return PROGRESSING, "active service cutover pending"
        if not stable or stable != current:
            return PROGRESSING, "waiting for post-promotion verification to complete"
    elif canary is not None:
        if not canary.get("trafficRouting") and integer(status.get("replicas")) > updated:
            return PROGRESSING, "old replicas are pending termination"
        if not stable or stable != current:
            return PROGRESSING, "waiting for all steps to complete"
    return HEALTHY, ""


def _replicaset_health(rs: Mapping[str, Any]) -> str:
    """``getReplicaSetHealth``."""
    replicas = obj(rs, "spec").get("replicas")
    status = obj(rs, "status")
    if integer(obj(rs, "metadata").get("generation")) > integer(status.get("observedGeneration")):
        return "Progressing"
    failure = next((c for c in objs(status.get("conditions")) if c.get("type") == "ReplicaFailure"), EMPTY)
    if failure.get("status") == "True":
        return "ReplicaFailure"
    if isinstance(replicas, int) and integer(status.get("availableReplicas")) < replicas:
        return "Progressing"
    return "ScaledDown" if replicas == 0 else "Healthy"


def _owned_by(child: Mapping[str, Any], kind: str, owner: Mapping[str, Any]) -> bool:
    owner_meta = obj(owner, "metadata")
    for ref in objs(obj(child, "metadata").get("ownerReferences")):
        if owner_meta.get("uid") and ref.get("uid"):
            if ref["uid"] == owner_meta["uid"]:
                return True
        elif ref.get("kind") == kind and ref.get("name") == owner_meta.get("name"):
            return True
    return False


def _revision(thing: Mapping[str, Any]) -> int | None:
    return decimal(obj(thing, "metadata", "annotations").get(REVISION_ANNOTATION))


def _replica_sets(
    rollout: Mapping[str, Any], replicasets: Iterable[Any], pods: list[Mapping[str, Any]]
) -> tuple[RolloutReplicaSet, ...]:
    canary, blue_green = _strategy(rollout)
    status = obj(rollout, "status")
    selectors = obj(status, "blueGreen")
    namespace = obj(rollout, "metadata").get("namespace")
    rows = []
    for rs in (item for item in replicasets if isinstance(item, Mapping)):
        metadata = obj(rs, "metadata")
        if metadata.get("namespace") not in (None, namespace) or not _owned_by(rs, "Rollout", rollout):
            continue
        rs_hash = text(obj(metadata, "labels").get(HASH_LABEL)) or ""
        roles: list[str] = []
        if rs_hash and rs_hash == status.get("stableRS"):
            roles.append("stable")
        elif canary is not None and rs_hash and rs_hash == status.get("currentPodHash"):
            roles.append("canary")
        if blue_green is not None and rs_hash:
            if rs_hash == selectors.get("activeSelector"):
                roles.append("active")
            elif rs_hash == selectors.get("previewSelector"):
                roles.append("preview")
        containers = objs(obj(rs, "spec", "template", "spec").get("containers"))
        rows.append(
            RolloutReplicaSet(
                name=text(metadata.get("name")) or "",
                hash=rs_hash,
                revision=_revision(rs),
                roles=tuple(roles),
                status=_replicaset_health(rs),
                replicas=integer(obj(rs, "status").get("replicas")),
                available=integer(obj(rs, "status").get("availableReplicas")),
                images=tuple(text(c.get("image")) or "" for c in containers),
                pods=tuple(
                    sorted(
                        text(obj(pod, "metadata").get("name")) or ""
                        for pod in pods
                        if obj(pod, "metadata").get("namespace") in (None, namespace)
                        and _owned_by(pod, "ReplicaSet", rs)
                    )
                ),
            )
        )
    rows.sort(key=lambda row: (-(row.revision or 0), row.name))
    return tuple(rows)


def _actual_weight(
    rollout: Mapping[str, Any], set_weight: int, sets: tuple[RolloutReplicaSet, ...] | None
) -> int | None:
    step, _ = current_canary_step(rollout)
    if step is None:
        return max_traffic_weight(rollout)
    status = obj(rollout, "status")
    available = integer(status.get("availableReplicas"))
    if available <= 0:
        return 0
    canary, _ = _strategy(rollout)
    if not obj(canary, "trafficRouting"):
        if sets is None:
            return None  # the canary's share of available pods needs its ReplicaSets
        canary_set = next((rs for rs in sets if "canary" in rs.roles), None)
        return (canary_set.available * max_traffic_weight(rollout)) // available if canary_set else 0
    weights = obj(status, "canary").get("weights")
    if isinstance(weights, Mapping):
        return integer(obj(weights, "canary").get("weight"))
    return set_weight


def _problems(
    rollout: Mapping[str, Any],
    phase: str,
    message: str,
    pause_reasons: tuple[str, ...],
    sets: tuple[RolloutReplicaSet, ...],
) -> tuple[Problem, ...]:
    status = obj(rollout, "status")
    problems = []
    if phase == DEGRADED:
        reason = DEGRADED
        for condition in objs(status.get("conditions")):
            if condition.get("type") == INVALID_SPEC:
                reason = INVALID_SPEC
            elif condition.get("reason") in (ABORTED_REASON, TIMED_OUT_REASON) and reason == DEGRADED:
                reason = condition["reason"]
        if status.get("abort") is True and reason == DEGRADED:
            reason = ABORTED_REASON
        problems.append(Problem(reason, message or "rollout is degraded", HINTS[reason], 7))
    for reason in pause_reasons:
        if reason in ("InconclusiveAnalysisRun", "InconclusiveExperiment"):
            problems.append(Problem(reason, f"paused: {reason}", HINTS[reason], 6))
    for rs in sets:
        if rs.status == "ReplicaFailure":
            message = f"ReplicaSet {rs.name} cannot create pods"
            problems.append(Problem("ReplicaFailure", message, HINTS["ReplicaFailure"], 6))
    return tuple(problems)


def rollout_info(
    rollout: Mapping[str, Any],
    replicasets: Iterable[Mapping[str, Any]] | None = None,
    pods: Iterable[Mapping[str, Any]] = (),
) -> RolloutInfo:
    """A Rollout (the API's JSON) with its ReplicaSets and pods, as ``kubectl argo rollouts get rollout`` reads it.

    Args:
        rollout: The Rollout object.
        replicasets: ReplicaSets of its namespace (those it owns are kept). None when not read: the canary's actual
            weight without traffic routing is then unknown (None).
        pods: Pods of its namespace, listed under the ReplicaSet that owns them.

    Never raises on a malformed object: fields of the wrong type read as absent.
    """
    rollout = rollout if isinstance(rollout, Mapping) else EMPTY
    metadata, spec, status = obj(rollout, "metadata"), obj(rollout, "spec"), obj(rollout, "status")
    canary_spec, blue_green_spec = _strategy(rollout)
    phase, message = rollout_phase(rollout)
    pause_reasons = tuple(str(pause["reason"]) for pause in objs(status.get("pauseConditions")) if pause.get("reason"))
    paused = spec.get("paused") is True or bool(pause_reasons)
    pod_list = [pod for pod in pods if isinstance(pod, Mapping)]
    sets = _replica_sets(rollout, replicasets, pod_list) if replicasets is not None else None
    canary = blue_green = None
    kind = ""
    if canary_spec is not None:
        kind = "Canary"
        steps = _steps(rollout)
        step, _ = current_canary_step(rollout)
        set_weight = current_set_weight(rollout)
        index = status.get("currentStepIndex")
        canary = CanaryProgress(
            step=integer(index) if steps and isinstance(index, int) else None,
            steps=len(steps),
            set_weight=set_weight,
            actual_weight=_actual_weight(rollout, set_weight, sets),
            paused=paused,
            pause_reasons=pause_reasons,
            current_step=_step_text(step),
        )
    elif blue_green_spec is not None:
        kind = "BlueGreen"
        selectors = obj(status, "blueGreen")
        blue_green = BlueGreenState(
            active_service=text(blue_green_spec.get("activeService")),
            preview_service=text(blue_green_spec.get("previewService")),
            active_selector=text(selectors.get("activeSelector")),
            preview_selector=text(selectors.get("previewSelector")),
            auto_promotion=blue_green_spec.get("autoPromotionEnabled", True) is not False,
            paused=paused,
            pause_reasons=pause_reasons,
        )
    return RolloutInfo(
        namespace=text(metadata.get("namespace")) or "",
        name=text(metadata.get("name")) or "",
        strategy=kind,
        phase=phase,
        message=message,
        aborted=status.get("abort") is True,
        paused=paused,
        pause_reasons=pause_reasons,
        canary=canary,
        blue_green=blue_green,
        stable_hash=text(status.get("stableRS")),
        current_hash=text(status.get("currentPodHash")),
        revision=_revision(rollout),
        desired=integer(spec.get("replicas"), 1),
        current=integer(status.get("replicas")),
        updated=integer(status.get("updatedReplicas")),
        ready=integer(status.get("readyReplicas")),
        available=integer(status.get("availableReplicas")),
        replica_sets=sets or (),
        problems=_problems(rollout, phase, message, pause_reasons, sets or ()),
    )

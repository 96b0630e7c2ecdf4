"""A stand-in Argo Rollouts controller: basic canary Rollouts (no traffic router) stepping, pausing, promoted and
aborted the way argoproj/argo-rollouts' controller moves them, so ``kubectl argo rollouts promote`` and ``abort``
(and idp-tui's own requests, which are theirs) change the demo as they would change a cluster.

What is followed, as read in argoproj/argo-rollouts (master at 9f8d111d8f8e, 2026-08-17):

- ``rollout/canary.go`` ``syncRolloutStatusCanary`` and ``completedCurrentCanaryStep``: a ``setWeight`` step is done
  when the canary and stable ReplicaSets hold their share of the replicas, a ``pause`` step when its duration has
  passed or when a person cleared its pause condition (``controllerPause`` set but no ``CanaryPauseStep``
  condition: ``rollout/pause.go`` ``CompletedCanaryPauseStep``); each completed step moves ``currentStepIndex`` on
  and posts ``RolloutStepCompleted`` ("Rollout step 3/4 completed (pause)"). An aborted canary goes back to step 0
  with the stable ReplicaSet at full size; once every step is done the canary becomes the stable ReplicaSet.
- ``rollout/canary.go`` ``reconcileCanaryPause`` and ``rollout/pause.go`` ``CalculatePauseConditions`` /
  ``CalculateAbortStatus``: entering a pause step adds the ``CanaryPauseStep`` condition and ``controllerPause``;
  an abort keeps ``abortedAt`` and drops the pause conditions.
- ``utils/replicaset/canary.go`` ``CalculateReplicaCountsForBasicCanary``: the canary gets ``ceil(replicas *
  weight / 100)`` pods, the stable ReplicaSet the rest (scaled down only as the canary's pods become available:
  the demo's stand-in for maxSurge and maxUnavailable).
- ``utils/rollout/rolloututil.go`` ``CalculateRolloutPhase`` for ``status.phase``/``message``, and
  ``rollout/sync.go`` ``calculateRolloutConditions`` for the conditions, with the reasons and messages of
  ``utils/conditions/conditions.go``.

Blue-green Rollouts are reconciled by ``argo_bluegreen``. Not modelled: traffic routers, analysis runs and
experiments (those steps complete at once), HPA scaling, ``spec.paused`` (it only holds the steps), the ``scale``
subresource.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.controllers import Controllers

HASH_LABEL = "rollouts-pod-template-hash"
REVISION = "rollout.argoproj.io/revision"
DESIRED = "rollout.argoproj.io/desired-replicas"
COMPONENT = "rollouts-controller"
PAUSE_STEP = "CanaryPauseStep"
_DURATION = re.compile(r"(\d+)(h|m|s)")


def duration_seconds(value: Any) -> float | None:
    """A pause duration (``30``, ``"30s"``, ``"5m"``, ``"1h30m"``) in seconds, or None (until promoted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    if value.isdigit():
        return float(value)
    parts = _DURATION.findall(value)
    return float(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in parts)) if parts else None


def step_string(step: dict[str, Any]) -> str:
    """``rolloututil.CanaryStepString``: ``setWeight: 25``, ``pause``, ``pause: 5m0s``..."""
    if "setWeight" in step:
        return f"setWeight: {step['setWeight']}"
    if "pause" in step:
        seconds = duration_seconds((step.get("pause") or {}).get("duration"))
        if seconds is None:
            return "pause"
        hours, rest = divmod(int(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{secs}s"
        return f"pause: {text}"
    return next(iter(step), "step")


def set_weight(steps: list[dict[str, Any]], index: int) -> int:
    """``GetCurrentSetWeight``: the last ``setWeight`` at or before step ``index``; 100 once the steps are done."""
    if index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        if "setWeight" in step:
            return int(step["setWeight"])
    return 0


def _condition(kind: str, status: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
        "lastUpdateTime": now,
    }


def _set_condition(conditions: list[dict[str, Any]], new: dict[str, Any]) -> None:
    """``conditions.SetRolloutCondition``: same status and reason keeps the old one; same status keeps its
    transition time."""
    for index, old in enumerate(conditions):
        if old["type"] != new["type"]:
            continue
        if old["status"] == new["status"] and old["reason"] == new["reason"] and old["message"] == new["message"]:
            return
        if old["status"] == new["status"]:
            new["lastTransitionTime"] = old["lastTransitionTime"]
        conditions[index] = new
        return
    conditions.append(new)


class RolloutsController:
    """The Rollouts of one demo cluster; every method runs with the cluster's lock held."""

    def __init__(self, controllers: Controllers) -> None:
        self.controllers = controllers
        self.state = controllers.state
        self.wake: dict[tuple[str, str], float] = {}  # rollouts in a timed pause: when to look again

    def replicaset(
        self, rollout: dict[str, Any], template: dict[str, Any], hash_: str, revision: int, created: float, count: int
    ) -> dict[str, Any]:
        template = copy.deepcopy(template)
        template["metadata"].setdefault("labels", {})[HASH_LABEL] = hash_
        name = f"{rollout['metadata']['name']}-{hash_}"
        annotations = {REVISION: str(revision), DESIRED: str(rollout["spec"].get("replicas", 1))}
        meta = o.metadata(
            name,
            rollout["metadata"]["namespace"],
            created,
            labels=dict(template["metadata"]["labels"]),
            annotations=annotations,
            generation=1,
        )
        meta["ownerReferences"] = [o.owner_ref(rollout)]
        selector = {"matchLabels": {**rollout["spec"]["selector"]["matchLabels"], HASH_LABEL: hash_}}
        return {
            "kind": "ReplicaSet",
            "apiVersion": "apps/v1",
            "metadata": meta,
            "spec": {"replicas": count, "selector": selector, "template": template},
            "status": {"replicas": 0},
        }

    # -- reconciling ---------------------------------------------------------------------------------------------

    def new_replicaset(self, rollout: dict[str, Any], sets: dict[str, dict[str, Any]], now: float) -> str:
        """The hash of the ReplicaSet for the Rollout's template, made (empty) when the template changed; sets
        ``status.currentPodHash`` (``getAllReplicaSetsAndSyncRevision``)."""
        status = rollout["status"]
        template = copy.deepcopy(rollout["spec"]["template"])
        template["metadata"].get("labels", {}).pop(HASH_LABEL, None)
        new_hash = o.template_hash(template)
        if new_hash not in sets:
            # A changed template (kubectl edit, a sync of a new version): a new ReplicaSet, and the steps or the
            # blue-green pause start again (resetRolloutStatus).
            revisions = [int(rs["metadata"]["annotations"].get(REVISION, 0)) for rs in sets.values()]
            revision = max(revisions, default=0) + 1
            sets[new_hash] = self.state.put(self.replicaset(rollout, template, new_hash, revision, now, 0))
            rollout["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
            for key in ("currentStepIndex", "pauseConditions", "controllerPause", "abort", "abortedAt"):
                status.pop(key, None)
            if status.get("stableRS") not in sets:
                status["stableRS"] = new_hash
        status["currentPodHash"] = new_hash
        return new_hash

    def tick(self, now: float) -> None:
        """Look again at rollouts whose timed pause has ended."""
        for key in [key for key, at in self.wake.items() if at <= now]:
            del self.wake[key]
            rollout = self.state.get("rollouts", *key)
            if rollout is not None:
                self.reconcile(rollout)

    def owner_of(self, rs: dict[str, Any]) -> dict[str, Any] | None:
        """The Rollout controlling a ReplicaSet, if any."""
        for ref in rs["metadata"].get("ownerReferences", []):
            if ref.get("kind") == "Rollout":
                return self.state.get("rollouts", rs["metadata"].get("namespace", ""), ref["name"])
        return None

    def replicasets(self, rollout: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The ReplicaSets a Rollout owns, by pod-template hash."""
        uid = rollout["metadata"]["uid"]
        return {
            rs["metadata"]["labels"].get(HASH_LABEL, ""): rs
            for rs in self.state.items("replicasets", rollout["metadata"]["namespace"])
            if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences", []))
        }

    def reconcile(self, rollout: dict[str, Any]) -> None:
        """One pass of the controller over a Rollout: steps, pauses, abort, ReplicaSet sizes, then its status."""
        if "blueGreen" in (rollout["spec"].get("strategy") or {}):
            from idp_tui.kube.demo_cluster.argo_bluegreen import reconcile_blue_green

            reconcile_blue_green(self, rollout)
            return
        now = self.state.clock()
        stamp = o.iso(now)
        rollout = copy.deepcopy(rollout)
        spec, status = rollout["spec"], rollout.setdefault("status", {})
        canary_spec = (spec.get("strategy") or {}).get("canary") or {}
        steps = [step for step in canary_spec.get("steps") or [] if isinstance(step, dict)]
        sets = self.replicasets(rollout)
        new_hash = self.new_replicaset(rollout, sets, now)
        stable_hash = status.get("stableRS") or new_hash
        index = int(status.get("currentStepIndex") or 0)
        if status.pop("promoteFull", None):  # kubectl argo rollouts promote --full: skip what is left
            index = len(steps)
            for key in ("pauseConditions", "abort", "abortedAt"):
                status.pop(key, None)
        aborted = status.get("abort") is True
        if aborted:
            status.pop("pauseConditions", None)
            status["controllerPause"] = False
            if "abortedAt" not in status:  # CalculateAbortStatus keeps the first time; the condition's event
                status["abortedAt"] = stamp
                revision = rollout["metadata"].get("annotations", {}).get(REVISION)
                message = f"Rollout aborted update to revision {revision}"
                self.state.put(o.event(rollout, "Warning", "RolloutAborted", message, now, component=COMPONENT))
            index = 0 if stable_hash != new_hash else len(steps)
        for _ in range(len(steps) + 2):
            self._size(rollout, sets, new_hash, steps, index, aborted, now)
            if aborted or index >= len(steps) or status.get("stableRS") == new_hash:
                break
            if not self._step_done(rollout, steps, index, sets[new_hash], sets.get(stable_hash), now):
                break
            index += 1
            message = f"Rollout step {index}/{len(steps)} completed ({step_string(steps[index - 1])})"
            self.state.put(o.event(rollout, "Normal", "RolloutStepCompleted", message, now, component=COMPONENT))
        if steps:
            status["currentStepIndex"] = index
        self.write_status(rollout, stamp)

    def _size(
        self,
        rollout: dict[str, Any],
        sets: dict[str, dict[str, Any]],
        new_hash: str,
        steps: list[dict[str, Any]],
        index: int,
        aborted: bool,
        now: float,
    ) -> None:
        """Scale the canary and stable ReplicaSets to where the steps stand; promote the canary to stable once
        every step is done and its pods are available (``promoteStable``)."""
        status = rollout["status"]
        replicas = rollout["spec"].get("replicas", 1)
        stable_hash = status.get("stableRS") or new_hash
        if aborted:
            canary = 0
        elif stable_hash == new_hash or index >= len(steps):
            canary = replicas
        else:
            canary = math.ceil(replicas * set_weight(steps, index) / 100)
        new_rs = self.scale(rollout, sets[new_hash], canary, now)
        available = sum(1 for pod in self.controllers.pods_of(new_rs) if _ready(pod))
        if stable_hash != new_hash and stable_hash in sets:
            if not aborted and canary == replicas and available >= replicas:
                status["stableRS"] = new_hash
                revision = rollout["metadata"].get("annotations", {}).get(REVISION)
                message = f"Rollout completed update to revision {revision} ({new_hash}): Completed all steps"
                self.state.put(o.event(rollout, "Normal", "RolloutCompleted", message, now, component=COMPONENT))
            else:
                self.scale(rollout, sets[stable_hash], max(replicas - canary, replicas - available, 0), now)
        for other, rs in sets.items():
            if other not in (new_hash, status.get("stableRS")):
                self.scale(rollout, rs, 0, now)

    def _step_done(
        self,
        rollout: dict[str, Any],
        steps: list[dict[str, Any]],
        index: int,
        new_rs: dict[str, Any],
        stable_rs: dict[str, Any] | None,
        now: float,
    ) -> bool:
        """``completedCurrentCanaryStep`` (entering a pause step pauses the rollout: ``reconcileCanaryPause``)."""
        status = rollout["status"]
        step = steps[index]
        replicas = rollout["spec"].get("replicas", 1)
        key = (rollout["metadata"]["namespace"], rollout["metadata"]["name"])
        if "setWeight" in step:  # AtDesiredReplicaCountsForCanary
            canary = math.ceil(replicas * set_weight(steps, index) / 100)
            ready = sum(1 for pod in self.controllers.pods_of(new_rs) if _ready(pod))
            stable = (
                len(self.controllers.pods_of(stable_rs)) if stable_rs is not None and stable_rs is not new_rs else 0
            )
            return ready >= canary and stable <= replicas - canary
        if "pause" not in step:
            return True  # analysis, experiment and the rest are not run here
        seconds = duration_seconds((step.get("pause") or {}).get("duration"))
        pauses = [c for c in status.get("pauseConditions") or [] if c.get("reason") == PAUSE_STEP]
        if not pauses:
            if status.get("controllerPause"):
                status["controllerPause"] = False  # paused here, and a person cleared the pause: promoted
                return True
            status["pauseConditions"] = [
                *(status.get("pauseConditions") or []),
                {"reason": PAUSE_STEP, "startTime": o.iso(now)},
            ]
            status["controllerPause"] = True
            message = f"Rollout is paused ({PAUSE_STEP})"
            self.state.put(o.event(rollout, "Normal", "RolloutPaused", message, now, component=COMPONENT))
            if seconds is not None:
                self.wake[key] = now + seconds
            return False
        started = _seconds(pauses[0].get("startTime"))
        if seconds is None or started is None or now < started + seconds:
            if seconds is not None and started is not None:
                self.wake[key] = started + seconds
            return False
        status["pauseConditions"] = [c for c in status.get("pauseConditions") or [] if c.get("reason") != PAUSE_STEP]
        status["controllerPause"] = False
        return True

    def scale(self, rollout: dict[str, Any], rs: dict[str, Any], count: int, now: float) -> dict[str, Any]:
        """Make a ReplicaSet hold ``count`` pods (new ones start after the demo's pod start time); returns it."""
        current = self.state.get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
        pods = self.controllers.pods_of(current)
        before = current["spec"].get("replicas", 0)
        namespace = current["metadata"]["namespace"]
        # Unready pods go first, then the newest (the ReplicaSet controller's getPodsToDelete ranking, roughly).
        doomed = sorted(pods, key=lambda pod: (_ready(pod), pod["metadata"]["creationTimestamp"]))
        for pod in doomed[: max(0, len(pods) - count)]:
            self.state.remove("pods", namespace, pod["metadata"]["name"])
            self.controllers.ready_at.pop((namespace, pod["metadata"]["name"]), None)
        start = self.controllers.pod_start_seconds(rollout)
        for index in range(len(pods), count):
            node = self.state.nodes[(index + self.controllers.counter) % len(self.state.nodes)]
            self.controllers.create_pod(current, self.controllers.new_pod_name(current), node, now, start)
        if before != count:
            updated = copy.deepcopy(current)
            updated["spec"]["replicas"] = count
            updated["metadata"]["annotations"][DESIRED] = str(rollout["spec"].get("replicas", 1))
            self.state.put(updated)
            revision = int(current["metadata"]["annotations"].get(REVISION, 0))
            verb = "up" if count > before else "down"
            name = current["metadata"]["name"]
            message = f"Scaled {verb} ReplicaSet {name} (revision {revision}) from {before} to {count}"
            self.state.put(o.event(rollout, "Normal", "ScalingReplicaSet", message, now, component=COMPONENT))
        self.controllers.refresh_status(current)
        return self.state.get("replicasets", namespace, current["metadata"]["name"]) or current

    # -- status --------------------------------------------------------------------------------------------------

    def write_status(self, rollout: dict[str, Any], stamp: str) -> None:
        """Counts, phase, message and conditions from the ReplicaSets as they are now (``persistRolloutStatus``)."""
        spec, status = rollout["spec"], rollout["status"]
        replicas = spec.get("replicas", 1)
        sets = self.replicasets(rollout)
        new_rs = sets.get(status.get("currentPodHash", ""))
        pods = [pod for rs in sets.values() for pod in self.controllers.pods_of(rs)]
        updated = self.controllers.pods_of(new_rs) if new_rs else []
        available = sum(1 for pod in pods if _ready(pod))
        selector = spec["selector"]["matchLabels"]
        served = len(pods)
        blue_green = "blueGreen" in (spec.get("strategy") or {})
        active = sets.get((status.get("blueGreen") or {}).get("activeSelector", "")) if blue_green else None
        if active is not None:
            # syncRolloutStatusBlueGreen: availability, HPA replicas and selector are the active ReplicaSet's.
            active_pods = self.controllers.pods_of(active)
            available, served = sum(1 for pod in active_pods if _ready(pod)), len(active_pods)
            selector = active["spec"]["selector"]["matchLabels"]
        counts = {
            "replicas": len(pods),
            "updatedReplicas": len(updated),
            "readyReplicas": available,
            "availableReplicas": available,
            "HPAReplicas": served,
        }
        for key, value in counts.items():  # int32 fields with omitempty: a zero is left out
            if value:
                status[key] = value
            else:
                status.pop(key, None)
        status.update(
            selector=",".join(f"{k}={v}" for k, v in sorted(selector.items())),
            observedGeneration=str(rollout["metadata"].get("generation", 1)),
            canary=status.get("canary") or {},
        )
        if not blue_green:  # ComputeStepHash is empty (and left out) without a canary
            steps = ((spec.get("strategy") or {}).get("canary") or {}).get("steps") or []
            status["currentStepHash"] = o.suffix(10, repr(steps))
        if not status.get("pauseConditions"):
            status.pop("pauseConditions", None)
        if not status.get("abort"):
            status.pop("abort", None)
            status.pop("abortedAt", None)
        paused = bool(status.get("pauseConditions")) or spec.get("paused") is True
        aborted = status.get("abort") is True
        completed = status.get("stableRS") == status.get("currentPodHash")
        revision = rollout["metadata"].get("annotations", {}).get(REVISION, "0")
        name = new_rs["metadata"]["name"] if new_rs else rollout["metadata"]["name"]
        conditions = [dict(c) for c in status.get("conditions") or []]
        # A blue-green Rollout keeps its old active set for scaleDownDelaySeconds: healthy is about the active set.
        healthy = completed and not paused and available >= replicas and (blue_green or len(pods) == replicas)
        if healthy:
            _set_condition(conditions, _condition("Healthy", "True", "RolloutHealthy", "Rollout is healthy", stamp))
        elif any(c["type"] == "Healthy" for c in conditions) or not conditions:
            _set_condition(
                conditions, _condition("Healthy", "False", "RolloutHealthy", "Rollout is not healthy", stamp)
            )
        if aborted:
            message = f"Rollout aborted update to revision {revision}"
            progressing = ("False", "RolloutAborted", message)
        elif paused:
            progressing = ("Unknown", "RolloutPaused", "Rollout is paused")
        elif healthy:
            progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
        else:
            progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        _set_condition(conditions, _condition("Progressing", *progressing, stamp))
        if available >= replicas:
            _set_condition(
                conditions,
                _condition("Available", "True", "AvailableReason", "Rollout has minimum availability", stamp),
            )
        else:
            _set_condition(
                conditions,
                _condition(
                    "Available", "False", "AvailableReason", "Rollout does not have minimum availability", stamp
                ),
            )
        flag = "True" if completed else "False"
        _set_condition(conditions, _condition("Completed", flag, "RolloutCompleted", "RolloutCompleted", stamp))
        if paused or any(c["type"] == "Paused" for c in conditions):
            _set_condition(
                conditions,
                _condition("Paused", "True" if paused else "False", "RolloutPaused", "Rollout is paused", stamp),
            )
        status["conditions"] = sorted(conditions, key=lambda c: c["type"])
        status["phase"], status["message"] = calculate_phase(rollout)
        self.state.put(rollout)


def calculate_phase(rollout: dict[str, Any]) -> tuple[str, str]:
    """``CalculateRolloutPhase`` for a basic canary or a blue-green Rollout."""
    spec, status = rollout["spec"], rollout["status"]
    for condition in status.get("conditions") or []:
        if condition["type"] == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {condition['message']}"
        if condition["reason"] in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", f"{condition['reason']}: {condition['message']}"
    if spec.get("paused") is True:
        return "Paused", "manually paused"
    for pause in status.get("pauseConditions") or []:
        return "Paused", pause["reason"]
    if status.get("updatedReplicas", 0) < spec.get("replicas", 1):
        return "Progressing", "more replicas need to be updated"
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return "Progressing", "updated replicas are still becoming available"
    if "blueGreen" in (spec.get("strategy") or {}):
        active = (status.get("blueGreen") or {}).get("activeSelector")
        if not active or active != status.get("currentPodHash"):
            return "Progressing", "active service cutover pending"
        if not status.get("stableRS") or status.get("stableRS") != status.get("currentPodHash"):
            return "Progressing", "waiting for post-promotion verification to complete"
        return "Healthy", ""
    if status.get("replicas", 0) > status.get("updatedReplicas", 0):
        return "Progressing", "old replicas are pending termination"
    if not status.get("stableRS") or status.get("stableRS") != status.get("currentPodHash"):
        return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


def _seconds(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))

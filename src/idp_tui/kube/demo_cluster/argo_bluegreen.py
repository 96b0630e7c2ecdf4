"""The stand-in Argo Rollouts controller for blue-green Rollouts: the active and preview Services' selectors, the
pause before promotion, promotion (the active Service switched to the new ReplicaSet, which becomes stable) and
abort (the active Service kept on, or put back to, the stable ReplicaSet).

What is followed, as read in argoproj/argo-rollouts (master at 9f8d111d8f8e, 2026-08-17):

- ``rollout/bluegreen.go`` ``rolloutBlueGreen``: preview Service first, then the ReplicaSets (the stable one and
  the new one at full size: ``utils/replicaset/replicaset.go`` ``NewRSNewReplicas`` without
  ``previewReplicaCount``), the pause, the active Service, then the status (``syncRolloutStatusBlueGreen``: the
  selectors read back from the Services; availability, HPA replicas and selector of the active ReplicaSet).
- ``reconcileBlueGreenPause`` / ``isBlueGreenFastTracked`` / ``needsBlueGreenControllerPause``: once the new
  ReplicaSet is available, a Rollout with ``autoPromotionEnabled: false`` (or ``autoPromotionSeconds``) gets the
  ``BlueGreenPause`` condition and ``controllerPause``; no pause when the active Service already selects the new
  ReplicaSet or selects none. ``rollout/pause.go`` ``CompletedBlueGreenPause``: with auto-promotion off, the pause is
  over when a person cleared the condition (``kubectl argo rollouts promote``) while ``controllerPause`` is set;
  ``CalculatePauseConditions`` leaves ``controllerPause`` out once no condition is left.
- ``rollout/service.go`` ``reconcileActiveService``: the active Service moves to the new ReplicaSet when the pause is
  complete (or the update is fast-tracked), and to ``status.stableRS`` when the Rollout is aborted;
  ``reconcilePreviewService`` points the preview Service at the new ReplicaSet; ``switchServiceSelector`` adds
  ``argo-rollouts.argoproj.io/managed-by-rollouts`` and posts ``SwitchService`` ("Switched selector for service
  'x' from 'a' to 'b'").
- ``rollout/sync.go`` ``shouldFullPromote``/``promoteStable``: once the active selector is the new ReplicaSet's
  hash (and the Rollout is not aborted), the new ReplicaSet is stable ("Completed blue-green update").
- ``scaleDownOldReplicaSetsForBlueGreen`` and ``addScaleDownDelay``: the previous active ReplicaSet is annotated
  ``scale-down-deadline`` (``scaleDownDelaySeconds``, default 30) and scaled to zero after it;
  ``reconcileNewReplicaSet``/``shouldDelayScaleDownOnAbort``: an aborted update's ReplicaSet is scaled to zero
  after ``abortScaleDownDelaySeconds`` (default 30; 0 leaves it up).

Not modelled: ``previewReplicaCount``, pre/post-promotion analysis, anti-affinity, AWS target group verification.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.argo_rollouts import COMPONENT, HASH_LABEL, REVISION

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.argo_rollouts import RolloutsController

BLUE_GREEN_PAUSE = "BlueGreenPause"
MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"
SCALE_DOWN_DEADLINE = "scale-down-deadline"
DEFAULT_DELAY_SECONDS = 30  # DefaultScaleDownDelaySeconds, DefaultAbortScaleDownDelaySeconds


def blue_green_spec(rollout: dict[str, Any]) -> dict[str, Any]:
    """``spec.strategy.blueGreen``."""
    return (rollout["spec"].get("strategy") or {}).get("blueGreen") or {}


def service_object(
    rollout: dict[str, Any], name: str, hash_: str, created: float, ports: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A ClusterIP Service selecting the Rollout's pods of one ReplicaSet, as after ``switchServiceSelector``."""
    meta = rollout["metadata"]
    selector = {**rollout["spec"]["selector"]["matchLabels"], HASH_LABEL: hash_}
    address = o.digest("cluster-ip", meta["namespace"], name)
    ip = f"10.96.{int(address[:2], 16)}.{int(address[2:4], 16) or 1}"
    labels = {key: value for key, value in (meta.get("labels") or {}).items()}
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": o.metadata(name, meta["namespace"], created, labels=labels, annotations={MANAGED_BY: meta["name"]}),
        "spec": {
            "ports": ports or [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
            "selector": selector,
            "clusterIP": ip,
            "clusterIPs": [ip],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def _selected(service: dict[str, Any] | None) -> str:
    """``serviceutil.GetRolloutSelectorLabel``: the pod-template hash a Service selects ("" for none)."""
    return ((service or {}).get("spec") or {}).get("selector", {}).get(HASH_LABEL, "") if service else ""


def _switch(
    rollouts: RolloutsController, rollout: dict[str, Any], service: dict[str, Any], hash_: str, now: float
) -> dict[str, Any]:
    """``switchServiceSelector``; returns the Service as stored."""
    old = _selected(service)
    if old == hash_ and MANAGED_BY in (service["metadata"].get("annotations") or {}):
        return service
    updated = copy.deepcopy(service)
    updated["metadata"].setdefault("annotations", {})[MANAGED_BY] = rollout["metadata"]["name"]
    updated["spec"].setdefault("selector", {})[HASH_LABEL] = hash_
    stored = rollouts.state.put(updated)
    message = f"Switched selector for service '{service['metadata']['name']}' from '{old}' to '{hash_}'"
    rollouts.state.put(o.event(rollout, "Normal", "SwitchService", message, now, component=COMPONENT))
    return stored


def _delay(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_DELAY_SECONDS


def _seconds(stamp: Any) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if isinstance(stamp, str) else None
    except ValueError:
        return None


def _available(rollouts: RolloutsController, rs: dict[str, Any] | None) -> int:
    """Ready pods of a ReplicaSet (the demo's pods have no minReadySeconds: ready is available)."""
    pods = rollouts.controllers.pods_of(rs) if rs else []
    return sum(
        1
        for pod in pods
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in pod["status"].get("conditions", []))
    )


def reconcile_blue_green(rollouts: RolloutsController, rollout: dict[str, Any]) -> None:
    """One pass of the controller over a blue-green Rollout (``rolloutBlueGreen``; see the module docstring)."""
    state = rollouts.state
    now = state.clock()
    rollout = copy.deepcopy(rollout)
    spec, status = rollout["spec"], rollout.setdefault("status", {})
    strategy = blue_green_spec(rollout)
    namespace, key = rollout["metadata"]["namespace"], (rollout["metadata"]["namespace"], rollout["metadata"]["name"])
    replicas = spec.get("replicas", 1)
    sets = rollouts.replicasets(rollout)
    new_hash = rollouts.new_replicaset(rollout, sets, now)
    active_svc = state.get("services", namespace, strategy.get("activeService") or "")
    preview_svc = state.get("services", namespace, strategy.get("previewService") or "")
    promote_full = bool(status.pop("promoteFull", None))
    if promote_full:  # syncRolloutStatusBlueGreen: ClearPauseConditions, RemoveAbort
        for name in ("pauseConditions", "abort", "abortedAt"):
            status.pop(name, None)
    aborted = status.get("abort") is True
    if aborted:
        status.pop("pauseConditions", None)
        if "abortedAt" not in status:  # CalculateAbortStatus keeps the first time
            status["abortedAt"] = o.iso(now)
            revision = rollout["metadata"].get("annotations", {}).get(REVISION)
            message = f"Rollout aborted update to revision {revision}"
            state.put(o.event(rollout, "Warning", "RolloutAborted", message, now, component=COMPONENT))
    halted = spec.get("paused") is True  # haltProgress
    stable_hash = status.get("stableRS") or new_hash
    if preview_svc is not None and not halted:
        preview_svc = _switch(rollouts, rollout, preview_svc, new_hash, now)
    if not halted:
        if stable_hash in sets:
            sets[stable_hash] = rollouts.scale(rollout, sets[stable_hash], replicas, now)
        count = replicas
        if aborted and stable_hash != new_hash:
            delay = strategy.get("abortScaleDownDelaySeconds")
            if delay != 0:
                deadline = (_seconds(status["abortedAt"]) or now) + _delay(delay)
                if now >= deadline:
                    count = 0
                else:
                    rollouts.wake[key] = deadline
        sets[new_hash] = rollouts.scale(rollout, sets[new_hash], count, now)
    new_ready = _available(rollouts, sets[new_hash]) >= replicas  # ReadyForPause
    active_hash = _selected(active_svc)
    fast_tracked = promote_full or active_hash in ("", new_hash)
    auto = strategy.get("autoPromotionEnabled") is not False
    auto_seconds = strategy.get("autoPromotionSeconds") or 0
    pauses = [c for c in status.get("pauseConditions") or [] if c.get("reason") == BLUE_GREEN_PAUSE]
    controller_pause = status.get("controllerPause") is True
    just_paused = False
    if not aborted and new_ready and not halted:
        if fast_tracked or (auto and not auto_seconds):
            pauses = []
        elif pauses and auto:
            deadline = (_seconds(pauses[0].get("startTime")) or now) + auto_seconds
            if now >= deadline:
                pauses = []
            else:
                rollouts.wake[key] = deadline
        elif not pauses and not controller_pause:
            pauses = [{"reason": BLUE_GREEN_PAUSE, "startTime": o.iso(now)}]
            just_paused = True
            message = f"Rollout is paused ({BLUE_GREEN_PAUSE})"
            state.put(o.event(rollout, "Normal", "RolloutPaused", message, now, component=COMPONENT))
        others = [c for c in status.get("pauseConditions") or [] if c.get("reason") != BLUE_GREEN_PAUSE]
        status["pauseConditions"] = others + pauses
    # CompletedBlueGreenPause: with auto-promotion off, a person cleared the condition the controller set.
    if just_paused:
        completed = False
    elif auto:
        completed = not pauses
    else:
        completed = controller_pause and not pauses
    if active_svc is not None and not halted and new_ready:
        target = new_hash if fast_tracked or completed else active_hash
        if aborted:
            target = stable_hash
        active_svc = _switch(rollouts, rollout, active_svc, target, now)
    if status.get("pauseConditions"):
        status["controllerPause"] = True
    else:
        status.pop("pauseConditions", None)
        status.pop("controllerPause", None)
    selectors = {"activeSelector": _selected(active_svc), "previewSelector": _selected(preview_svc)}
    status["blueGreen"] = {name: value for name, value in selectors.items() if value}
    active_hash = selectors["activeSelector"]
    if not aborted and (not status.get("stableRS") or not active_hash or active_hash == new_hash):
        _promote_stable(rollouts, rollout, sets, new_hash, now)
    _scale_down_others(rollouts, rollout, sets, {new_hash, status.get("stableRS"), active_hash}, now)
    rollouts.write_status(rollout, o.iso(now))


def _promote_stable(
    rollouts: RolloutsController, rollout: dict[str, Any], sets: dict[str, dict[str, Any]], new_hash: str, now: float
) -> None:
    """``promoteStable``: the new ReplicaSet is stable; the previous active one is left for its scale-down delay."""
    status = rollout["status"]
    for name in ("pauseConditions", "controllerPause", "abort", "abortedAt"):
        status.pop(name, None)
    previous = status.get("stableRS")
    if previous == new_hash:
        return
    status["stableRS"] = new_hash
    if previous:
        revision = rollout["metadata"].get("annotations", {}).get(REVISION)
        message = f"Rollout completed update to revision {revision} ({new_hash}): Completed blue-green update"
        rollouts.state.put(o.event(rollout, "Normal", "RolloutCompleted", message, now, component=COMPONENT))


def _scale_down_others(
    rollouts: RolloutsController,
    rollout: dict[str, Any],
    sets: dict[str, dict[str, Any]],
    referenced: set[Any],
    now: float,
) -> None:
    """``scaleDownOldReplicaSetsForBlueGreen``: ReplicaSets no Service or status names go to zero once their
    ``scale-down-deadline`` passes (set ``scaleDownDelaySeconds`` from now the first time)."""
    key = (rollout["metadata"]["namespace"], rollout["metadata"]["name"])
    delay = _delay(blue_green_spec(rollout).get("scaleDownDelaySeconds"))
    for hash_, rs in sets.items():
        current = rollouts.state.get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
        if hash_ in referenced or not current["spec"].get("replicas"):
            continue
        deadline = _seconds(current["metadata"].get("annotations", {}).get(SCALE_DOWN_DEADLINE))
        if deadline is None and delay:
            updated = copy.deepcopy(current)
            updated["metadata"].setdefault("annotations", {})[SCALE_DOWN_DEADLINE] = o.iso(now + delay)
            rollouts.state.put(updated)
            deadline = now + delay
        if deadline is not None and now < deadline:
            rollouts.wake[key] = min(rollouts.wake.get(key, deadline), deadline)
            continue
        rollouts.scale(rollout, current, 0, now)

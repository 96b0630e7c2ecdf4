"""The demo's GitOps story, derived from the ``argocd`` and ``rollouts`` entries of ``demo_catalog/clusters.yaml``.

- Argo CD runs on a cluster with an ``argocd`` entry: the ``argocd`` namespace and one Application per entry,
  with its history of syncs, its last operation, the ConfigMaps it deploys (some changed by hand: drift) and the
  health the story gives the workloads it deploys.
- A ``rollouts`` entry is an Argo Rollout (basic canary) stopped at a step, with its older, stable and canary
  ReplicaSets and their pods, and the events the Rollouts controller posted on the way; or, with a ``blueGreen``
  entry, a blue-green Rollout with its active and preview Services (none in the bundled demo: tests describe one).

Names, commits and times are derived deterministically, so the demo looks the same on every run.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.argo_bluegreen import BLUE_GREEN_PAUSE, service_object
from idp_tui.kube.demo_cluster.argo_cd import FINISHED, KINDS, AppGit, ArgoCDController, Managed, configmap
from idp_tui.kube.demo_cluster.argo_rollouts import (
    COMPONENT,
    PAUSE_STEP,
    REVISION,
    RolloutsController,
    set_weight,
    step_string,
)

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.state import ClusterState

HOUR = 3600.0
DAY = 24 * HOUR
# Who synced, in turn (demo catalog users: no demo application syncs automatically, so drift stays until synced).
SYNCED_BY = (
    "maria.okafor@myorg.example",
    "daniel.reyes@myorg.example",
    "tomas.berg@myorg.example",
    "alice.nguyen@myorg.example",
)


def commit(*parts: object) -> str:
    """A deterministic 40-character git commit SHA."""
    return o.digest("commit", *parts)[:40]


def build_argocd(argo: ArgoCDController, description: dict[str, Any], now: float) -> None:
    """Argo CD's namespace, the ConfigMaps its applications deploy and the Applications themselves."""
    state = argo.state
    repo = description.get("repo", "https://github.com/myorg/platform-deploy.git")
    state.put(o.namespace(argo.namespace, now - 380 * DAY))
    for index, spec in enumerate(description.get("applications") or []):
        _application(argo, spec, repo, index, now)


def _application(argo: ArgoCDController, spec: dict[str, Any], repo: str, index: int, now: float) -> None:
    state = argo.state
    name = spec["name"]
    syncs = int(spec.get("syncs", 1))
    revisions = [commit(repo, spec["path"], number) for number in range(syncs)]
    destination = spec.get("destination")
    managed = []
    for ref in spec.get("manages") or []:
        kind, _, resource = ref.partition("/")
        health = (spec.get("health") or {}).get(ref)
        data = (spec.get("config") or {}).get(resource) if kind == "ConfigMap" else None
        managed.append(Managed(kind, spec["namespace"], resource, data, tuple(health) if health else None))
    git = argo.git[name] = AppGit(name, revisions[-1], destination if destination != state.name else None, managed)
    for resource in managed:
        if resource.data is not None and git.cluster is None:
            live = configmap(resource, name, now - 200 * DAY)
            live["data"].update((spec.get("drift") or {}).get(resource.name) or {})
            state.put(live)
    source = {"repoURL": repo, "path": spec["path"], "targetRevision": spec.get("revision", "HEAD")}
    created = now - (300 - 20 * index) * DAY
    labels = {o.ID_LABEL: name, "app.kubernetes.io/part-of": spec.get("part_of", "checkout-platform")}
    meta = o.metadata(name, argo.namespace, created, labels=labels, generation=40 + 7 * syncs)
    meta["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    server = {"name": destination} if git.cluster else {"server": "https://kubernetes.default.svc"}
    history = []
    for number, revision in enumerate(revisions):
        deployed = now - (syncs - number) * 2 * DAY - 3 * HOUR * index
        who = SYNCED_BY[(number + index) % len(SYNCED_BY)]
        history.append(
            {
                "revision": revision,
                "deployedAt": o.iso(deployed),
                "id": number,
                "source": copy.deepcopy(source),
                "deployStartedAt": o.iso(deployed - 9),
                "initiatedBy": {"username": who},
            }
        )
    last = history[-1]
    results = [resource.result_entry(f"{KINDS[resource.kind][3]}/{resource.name} configured") for resource in managed]
    operation = {
        "sync": {"revision": last["revision"], "syncStrategy": {"hook": {}}},
        "initiatedBy": copy.deepcopy(last["initiatedBy"]),
        "retry": {},
    }
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": spec.get("project", "default"),
            "source": source,
            "destination": {**server, "namespace": spec["namespace"]},
            "revisionHistoryLimit": 10,
        },
        "status": {
            "history": history,
            "reconciledAt": o.iso(now - 95),
            "operationState": {
                "operation": operation,
                "phase": FINISHED[0],
                "message": "successfully synced (all tasks run)",
                "syncResult": {"resources": results, "revision": last["revision"], "source": copy.deepcopy(source)},
                "startedAt": last["deployStartedAt"],
                "finishedAt": last["deployedAt"],
            },
            "sourceType": "Directory",
            "controllerNamespace": argo.namespace,
        },
    }
    compared = argo.compare(app, remote=False)
    compared["status"]["health"]["lastTransitionTime"] = last["deployedAt"]
    state.put(_ordered(compared))


def _ordered(app: dict[str, Any]) -> dict[str, Any]:
    """The status fields in Go's ApplicationStatus order (as ``kubectl get -o yaml`` would list them)."""
    order = ("resources", "sync", "health", "history", "reconciledAt", "operationState", "sourceType", "summary")
    status = app["status"]
    app["status"] = {key: status[key] for key in order if key in status} | {
        key: value for key, value in status.items() if key not in order
    }
    return app


def _put_rollout(
    state, spec: dict[str, Any], created: float, generation: int, stable_template: dict, template: dict, strategy: dict
) -> dict[str, Any]:
    """Store a Rollout of ``spec`` with ``template`` and ``strategy``, labelled and selecting as its stable pods."""
    revision = int(spec.get("revision", 2))
    template_labels = stable_template["metadata"]["labels"]
    labels = {key: template_labels[key] for key in ("app.kubernetes.io/name", o.ID_LABEL)}
    selector = {key: template_labels[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
    meta = o.metadata(spec["id"], spec["namespace"], created, labels=labels, annotations={REVISION: str(revision)})
    meta["generation"] = generation
    return state.put(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": meta,
            "spec": {
                "replicas": spec.get("replicas", 1),
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": selector},
                "template": template,
                "strategy": strategy,
            },
            "status": {},
        }
    )


def build_rollouts(rollouts: RolloutsController, specs: list[dict[str, Any]], now: float) -> None:
    """Create each described Rollout with its ReplicaSets, pods and events, as the controller left them."""
    from idp_tui.kube.demo_cluster.seed import _template

    controllers, state = rollouts.controllers, rollouts.state
    live, controllers.live = controllers.live, False
    try:
        for spec in specs:
            if isinstance(spec.get("blueGreen"), dict):
                _blue_green(rollouts, spec, now)
                continue
            canary = spec.get("canary") or {}
            steps = copy.deepcopy(canary.get("steps") or [])
            revision = int(spec.get("revision", 2))
            created = now - 200 * DAY
            stable_template = _template(controllers, spec, spec["image"])
            canary_template = _template(controllers, spec, canary.get("image") or spec["image"])
            rollout = _put_rollout(
                state, spec, created, revision + 3, stable_template, canary_template, {"canary": {"steps": steps}}
            )
            replicas = rollout["spec"]["replicas"]
            index = int(canary.get("step", len(steps)))
            weight = set_weight(steps, index) if canary.get("image") else 0
            canary_count = math.ceil(replicas * weight / 100)
            older = _template(controllers, spec, spec.get("previous") or spec["image"] + "-prev")
            deployed, started = now - 9 * DAY, now - 25 * 60
            _seed_set(rollouts, rollout, older, revision - 2, created + DAY, 0, deployed)
            stable_count = replicas - canary_count
            stable = _seed_set(rollouts, rollout, stable_template, revision - 1, deployed, stable_count, deployed)
            new = stable
            if canary_count:
                new = _seed_set(rollouts, rollout, canary_template, revision, started, canary_count, started)
            rollout = copy.deepcopy(rollout)  # stored objects are replaced, never edited
            status = rollout["status"] = {"stableRS": stable, "currentPodHash": new, "currentStepIndex": index}
            for number, step in enumerate(steps[:index], start=1):
                message = f"Rollout step {number}/{len(steps)} completed ({step_string(step)})"
                at = started + 60 * number
                state.put(o.event(rollout, "Normal", "RolloutStepCompleted", message, at, component=COMPONENT))
            if index < len(steps) and "pause" in steps[index]:
                paused_at = started + 60 * (index + 1)
                status["pauseConditions"] = [{"reason": PAUSE_STEP, "startTime": o.iso(paused_at)}]
                status["controllerPause"] = True
                message = f"Rollout is paused ({PAUSE_STEP})"
                state.put(o.event(rollout, "Normal", "RolloutPaused", message, paused_at, component=COMPONENT))
            rollouts.write_status(rollout, o.iso(started))
    finally:
        controllers.live = live


def _blue_green(rollouts: RolloutsController, spec: dict[str, Any], now: float) -> None:
    """A blue-green Rollout: the active Service on the stable ReplicaSet, the preview Service on the new one (all
    its pods available), and, with ``autoPromotionEnabled: false``, paused (``BlueGreenPause``) until promoted.

    ``blueGreen`` holds ``spec.strategy.blueGreen`` as written in a manifest plus ``image``, the new version.
    """
    from idp_tui.kube.demo_cluster.seed import _template

    controllers, state = rollouts.controllers, rollouts.state
    strategy = {key: value for key, value in spec["blueGreen"].items() if key != "image"}
    revision = int(spec.get("revision", 2))
    created = now - 200 * DAY
    stable_template = _template(controllers, spec, spec["image"])
    new_template = _template(controllers, spec, spec["blueGreen"].get("image") or spec["image"])
    rollout = _put_rollout(state, spec, created, revision + 2, stable_template, new_template, {"blueGreen": strategy})
    replicas = rollout["spec"]["replicas"]
    older = _template(controllers, spec, spec.get("previous") or spec["image"] + "-prev")
    deployed, started = now - 9 * DAY, now - 25 * 60
    _seed_set(rollouts, rollout, older, revision - 2, created + DAY, 0, deployed)
    stable = _seed_set(rollouts, rollout, stable_template, revision - 1, deployed, replicas, deployed)
    new = stable
    if new_template != stable_template:
        new = _seed_set(rollouts, rollout, new_template, revision, started, replicas, started)
    rollout = copy.deepcopy(rollout)  # stored objects are replaced, never edited
    status = rollout["status"] = {"stableRS": stable, "currentPodHash": new}
    active = strategy.get("activeService")
    preview = strategy.get("previewService")
    if active:
        state.put(service_object(rollout, active, stable, created))
    if preview:
        state.put(service_object(rollout, preview, new, created))
        if new != stable:
            message = f"Switched selector for service '{preview}' from '{stable}' to '{new}'"
            state.put(o.event(rollout, "Normal", "SwitchService", message, started + 1, component=COMPONENT))
    status["blueGreen"] = {"activeSelector": stable, **({"previewSelector": new} if preview else {})}
    if new != stable and strategy.get("autoPromotionEnabled") is False:
        paused_at = started + 60
        status["pauseConditions"] = [{"reason": BLUE_GREEN_PAUSE, "startTime": o.iso(paused_at)}]
        status["controllerPause"] = True
        message = f"Rollout is paused ({BLUE_GREEN_PAUSE})"
        state.put(o.event(rollout, "Normal", "RolloutPaused", message, paused_at, component=COMPONENT))
    rollouts.write_status(rollout, o.iso(started))


def _seed_set(
    rollouts: RolloutsController,
    rollout: dict[str, Any],
    template: dict[str, Any],
    revision: int,
    created: float,
    count: int,
    ready: float,
) -> str:
    """One ReplicaSet of the rollout with ``count`` running pods; returns its pod-template hash."""
    hash_ = o.template_hash(template)
    rs = rollouts.state.put(rollouts.replicaset(rollout, template, hash_, revision, created, count))
    nodes = rollouts.state.nodes
    for index in range(count):
        pod_name = rollouts.controllers.new_pod_name(rs)
        rollouts.controllers.create_pod(rs, pod_name, nodes[(index + revision) % len(nodes)], ready + 20 * index, None)
    rollouts.controllers.refresh_status(rs)
    return hash_


def build_gitops(state: ClusterState, description: dict[str, Any], now: float) -> None:
    """The GitOps part of one cluster's description (called once, after its workloads are built)."""
    build_rollouts(state.rollouts, description.get("rollouts") or [], now)
    if description.get("argocd"):
        build_argocd(state.argocd, description["argocd"], now)

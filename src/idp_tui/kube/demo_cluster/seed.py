"""The initial demo state, derived from the compact workload description with deterministic names and ages."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.controllers import Controllers

SIDECARS = {"envoy": ("envoyproxy/envoy:v1.31.2", 9901)}
HOUR = 3600.0
DAY = 24 * HOUR


def build_workloads(controllers: Controllers, workloads: list[dict[str, Any]], now: float) -> None:
    """Create namespaces, workloads, ReplicaSets, pods, HPAs and events for one cluster."""
    state = controllers.state
    for namespace in sorted({w["namespace"] for w in workloads}):
        state.put(o.namespace(namespace, now - 400 * DAY))
    for spec in workloads:
        kind = spec.get("kind", "Deployment")
        if kind == "Deployment":
            _deployment(controllers, spec, now)
        else:
            _pod_set(controllers, spec, kind, now)


def _age(*parts: object, low: float, high: float) -> float:
    return low + int(o.digest(*parts)[:8], 16) % int(high - low)


def _template(controllers: Controllers, spec: dict[str, Any], image: str) -> dict[str, Any]:
    name = spec.get("name", spec["id"])
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name, o.ID_LABEL: spec["id"]}
    labels.update(spec.get("labels") or {})
    containers = [o.container(name, f"{controllers.state.registry}/{image}", 8080)]
    if spec.get("sidecar"):
        sidecar_image, port = SIDECARS.get(spec["sidecar"], (spec["sidecar"], 9000))
        containers.append(o.container(spec["sidecar"], sidecar_image, port, sidecar=True))
    return o.pod_template(labels, containers)


def _workload(kind: str, spec: dict[str, Any], template: dict[str, Any], created: float, generation: int) -> dict:
    name = spec.get("name", spec["id"])
    labels = {key: template["metadata"]["labels"][key] for key in ("app.kubernetes.io/name", o.ID_LABEL)}
    labels.update(spec.get("labels") or {})
    selector = {
        "matchLabels": {
            key: template["metadata"]["labels"][key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")
        }
    }
    annotations = {o.REVISION: str(generation - 2)} if kind == "Deployment" else None
    meta = o.metadata(name, spec["namespace"], created, labels=labels, annotations=annotations, generation=generation)
    body: dict[str, Any] = {"selector": selector, "template": template}
    if kind == "Deployment":
        body = {"replicas": spec.get("replicas", 1), **body, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
        body["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    elif kind == "StatefulSet":
        body = {"replicas": spec.get("replicas", 1), **body, "serviceName": name, "podManagementPolicy": "OrderedReady"}
        body["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    else:
        body["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    return {"kind": kind, "apiVersion": "apps/v1", "metadata": meta, "spec": body, "status": {}}


def _previous_tag(image: str) -> str:
    """``app:1.42.0`` -> ``app:1.41.0``: the image of the revision before (for a plausible revision history)."""
    match = re.search(r"(\d+)(\D*)$", image.rsplit(":", 1)[-1])
    if not match or int(match.group(1)) == 0:
        return image + "-prev"
    head = image[: len(image) - len(match.group(0))]
    return f"{head}{int(match.group(1)) - 1}{match.group(2)}"


def _deployment(controllers: Controllers, spec: dict[str, Any], now: float) -> None:
    state = controllers.state
    problem = spec.get("problem")
    revision = int(spec.get("revision", 1))
    created = now - _age(state.name, spec["namespace"], spec["id"], low=30 * DAY, high=300 * DAY)
    template = _template(controllers, spec, spec["image"])
    deployment = state.put(_workload("Deployment", spec, template, created, revision + 2))
    if revision > 1:
        old = _template(controllers, spec, _previous_tag(spec["image"]))
        state.put(o.replicaset(deployment, old, o.template_hash(old), revision - 1, created + (revision - 1) * DAY))
    deployed = now - _age(state.name, spec["id"], "deployed", low=2 * HOUR, high=9 * DAY)
    replicas = spec.get("replicas", 1)
    rs = o.replicaset(deployment, template, o.template_hash(template), revision, deployed)
    rs["spec"]["replicas"] = replicas
    rs = state.put(rs)
    pods = []
    for index in range(replicas):
        node = state.nodes[(index + len(spec["id"])) % len(state.nodes)]
        started = deployed + 20 * index
        pods.append(controllers.create_pod(rs, controllers.new_pod_name(rs), node, started, None))
    _pod_problem(controllers, problem, pods, now)
    if problem in ("rollout", "stuck-rollout"):
        new_template = _template(controllers, spec, spec["rollout"]["image"])
        updated = copy.deepcopy(deployment)
        updated["spec"]["template"] = new_template
        updated["metadata"]["generation"] += 1
        deployment = state.put(updated)
        begun = now if problem == "rollout" else now - 14 * 60
        new_rs = controllers.current_replicaset(deployment, begun)
        if problem == "stuck-rollout":
            controllers.broken[new_rs["metadata"]["uid"]] = "imagepull"
            controllers.stuck.add(deployment["metadata"]["uid"])
        controllers.reconcile_deployment(deployment)
        if problem == "stuck-rollout":
            _image_pull_events(controllers, new_rs, now)
    else:
        controllers.reconcile_deployment(deployment)
    if spec.get("hpa"):
        _hpa(controllers, deployment, spec["hpa"], now)


def _pod_set(controllers: Controllers, spec: dict[str, Any], kind: str, now: float) -> None:
    state = controllers.state
    created = now - _age(state.name, spec["namespace"], spec["id"], kind, low=30 * DAY, high=300 * DAY)
    owner = state.put(_workload(kind, spec, _template(controllers, spec, spec["image"]), created, 1))
    deployed = now - _age(state.name, spec["id"], kind, "deployed", low=2 * HOUR, high=9 * DAY)
    if kind == "StatefulSet":
        slots = [
            (f"{owner['metadata']['name']}-{i}", state.nodes[i % len(state.nodes)])
            for i in range(spec.get("replicas", 1))
        ]
    else:
        slots = [(controllers.new_pod_name(owner), node) for node in state.nodes]
    for index, (name, node) in enumerate(slots):
        controllers.create_pod(owner, name, node, deployed + 30 * index, None)
        if kind == "StatefulSet":
            message = f"create Pod {name} in StatefulSet {owner['metadata']['name']} successful"
        else:
            message = f"Created pod: {name}"
        state.put(
            o.event(
                owner,
                "Normal",
                "SuccessfulCreate",
                message,
                now - 40 * 60 + index,
                component=f"{kind.lower()}-controller",
            )
        )
    controllers.refresh_status(owner)


def _set_container(controllers: Controllers, pod: dict[str, Any], now: float, **changes: Any) -> dict[str, Any]:
    updated = copy.deepcopy(pod)
    status = updated["status"]["containerStatuses"][0]
    status.update(changes)
    o.set_pod_conditions(updated, now)
    return controllers.state.put(updated)


def _pod_problem(controllers: Controllers, problem: str | None, pods: list[dict[str, Any]], now: float) -> None:
    """Turn one pod into the described failure, with the events the kubelet would have posted."""
    state = controllers.state
    if problem not in ("crashloop", "oomkilled", "unready", "config-error") or not pods:
        return
    pod = pods[0] if problem == "oomkilled" else pods[-1]
    meta = pod["metadata"]
    container = pod["spec"]["containers"][0]
    name, image = container["name"], container["image"]
    field = f"spec.containers{{{name}}}"
    cid = f"containerd://{o.digest(meta['name'], 'previous')}"
    if problem == "crashloop":
        terminated = {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": o.iso(now - 70),
            "finishedAt": o.iso(now - 62),
            "containerID": cid,
        }
        message = (
            f"back-off 5m0s restarting failed container={name} pod={meta['name']}_{meta['namespace']}({meta['uid']})"
        )
        pod = _set_container(
            controllers,
            pod,
            now,
            ready=False,
            started=False,
            restartCount=47,
            state={"waiting": {"reason": "CrashLoopBackOff", "message": message}},
            lastState={"terminated": terminated},
        )
        backoff = (
            f"Back-off restarting failed container {name} in pod {meta['name']}_{meta['namespace']}({meta['uid']})"
        )
        state.put(o.event(pod, "Warning", "BackOff", backoff, now - 20, 212, first=now - 4 * HOUR, field_path=field))
        pulled = f'Container image "{image}" already present on machine'
        state.put(o.event(pod, "Normal", "Pulled", pulled, now - 72, 47, first=now - 4 * HOUR, field_path=field))
    elif problem == "oomkilled":
        terminated = {
            "exitCode": 137,
            "reason": "OOMKilled",
            "startedAt": o.iso(now - 2 * HOUR),
            "finishedAt": o.iso(now - 1800),
            "containerID": cid,
        }
        pod = _set_container(
            controllers,
            pod,
            now,
            restartCount=3,
            lastState={"terminated": terminated},
            state={"running": {"startedAt": o.iso(now - 1795)}},
        )
        pulled = f'Container image "{image}" already present on machine'
        state.put(o.event(pod, "Normal", "Pulled", pulled, now - 1796, 3, first=now - 5 * HOUR, field_path=field))
        backoff = (
            f"Back-off restarting failed container {name} in pod {meta['name']}_{meta['namespace']}({meta['uid']})"
        )
        state.put(o.event(pod, "Warning", "BackOff", backoff, now - 1798, 2, first=now - 5 * HOUR, field_path=field))
    elif problem == "unready":
        pod = _set_container(controllers, pod, now, ready=False)
        probe = "Readiness probe failed: HTTP probe failed with statuscode: 503"
        state.put(o.event(pod, "Warning", "Unhealthy", probe, now - 5, 38, first=now - 380, field_path=field))
    else:
        secret = f"{name}-smtp"
        waiting = {"reason": "CreateContainerConfigError", "message": f'secret "{secret}" not found'}
        updated = copy.deepcopy(pod)
        updated["status"]["containerStatuses"][0] = {
            "name": name,
            "image": image,
            "imageID": "",
            "lastState": {},
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": {"waiting": waiting},
        }
        o.set_pod_conditions(updated, now)
        pod = state.put(updated)
        state.put(
            o.event(
                pod,
                "Warning",
                "Failed",
                f'Error: secret "{secret}" not found',
                now - 8,
                93,
                first=now - 2 * HOUR,
                field_path=field,
            )
        )


def _image_pull_events(controllers: Controllers, rs: dict[str, Any], now: float) -> None:
    state = controllers.state
    for pod in controllers.pods_of(rs):
        container = pod["spec"]["containers"][0]
        image, field = container["image"], f"spec.containers{{{container['name']}}}"
        first = now - 14 * 60
        failure = (
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack image '
            f'"{image}": failed to resolve reference "{image}": {image}: not found'
        )
        for kind, reason, message, count in (
            ("Normal", "Pulling", f'Pulling image "{image}"', 7),
            ("Warning", "Failed", failure, 7),
            ("Warning", "Failed", "Error: ErrImagePull", 7),
            ("Normal", "BackOff", f'Back-off pulling image "{image}"', 58),
            ("Warning", "Failed", "Error: ImagePullBackOff", 58),
        ):
            state.put(o.event(pod, kind, reason, message, now - 9, count, first=first, field_path=field))


def _hpa(controllers: Controllers, deployment: dict[str, Any], spec: dict[str, Any], now: float) -> None:
    """An autoscaling/v2 HPA; at maxReplicas when the deployment already runs that many replicas."""
    replicas = deployment["spec"].get("replicas", 1)
    at_max = replicas >= spec["max"]
    name = deployment["metadata"]["name"]
    meta = o.metadata(
        name, deployment["metadata"]["namespace"], now - 60 * DAY, labels=dict(deployment["metadata"]["labels"])
    )
    limited = (
        ("True", "TooManyReplicas", "the desired replica count is more than the maximum replica count")
        if at_max
        else ("False", "DesiredWithinRange", "the desired count is within the acceptable range")
    )
    conditions = [
        ("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"),
        (
            "ScalingActive",
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from cpu resource utilization "
            "(percentage of request)",
        ),
        ("ScalingLimited", *limited),
    ]
    hpa = {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v2",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": name, "apiVersion": "apps/v1"},
            "minReplicas": spec["min"],
            "maxReplicas": spec["max"],
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        "status": {
            "lastScaleTime": o.iso(now - 25 * 60),
            "currentReplicas": replicas,
            "desiredReplicas": min(replicas, spec["max"]),
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageValue": f"{spec['cpu'] * 5 // 2}m", "averageUtilization": spec["cpu"]},
                    },
                }
            ],
            "conditions": [
                {"type": t, "status": s, "lastTransitionTime": o.iso(now - 25 * 60), "reason": r, "message": m}
                for t, s, r, m in conditions
            ],
        },
    }
    hpa = controllers.state.put(hpa)
    if at_max:
        message = f"New size: {replicas}; reason: cpu resource utilization (percentage of request) above target"
        controllers.state.put(
            o.event(hpa, "Normal", "SuccessfulRescale", message, now - 25 * 60, component="horizontal-pod-autoscaler")
        )

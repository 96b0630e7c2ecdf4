"""Builders for Kubernetes objects in their real JSON shapes (what the API server returns), as plain dicts."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# The alphabet Kubernetes uses for generated name suffixes and pod-template-hash (no vowels, no confusable digits).
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
ID_LABEL = "backstage.io/kubernetes-id"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"


def iso(seconds: float) -> str:
    """Format a Unix time as the API server's second-precision RFC 3339 timestamp."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(*parts: object) -> str:
    """A stable hex digest of ``parts`` (deterministic names, uids and container ids)."""
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


def suffix(length: int, *parts: object) -> str:
    """A deterministic suffix drawn from Kubernetes' name alphabet."""
    raw = hashlib.sha256("\x00".join(str(part) for part in parts).encode()).digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in raw[:length])


def uid(*parts: object) -> str:
    """A deterministic UUID-shaped uid."""
    h = digest("uid", *parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def template_hash(template: dict[str, Any]) -> str:
    """The pod-template-hash of a pod template (deterministic, like the controller's FNV hash).

    Null and empty fields do not count, as they do not for the controller (which hashes decoded objects): the
    template ``kubectl rollout undo`` sends back (with ``creationTimestamp: null``) is the old revision's template.
    """
    return suffix(9, json.dumps(_without_empty(template), sort_keys=True))


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {key: _without_empty(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value


def metadata(name: str, namespace: str | None, created: float, **extra: Any) -> dict[str, Any]:
    """Object metadata with a deterministic uid; resourceVersion is set when the object is stored."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta.update({"uid": uid(namespace, name, created), "resourceVersion": "0", "creationTimestamp": iso(created)})
    meta.update({key: value for key, value in extra.items() if value is not None})
    return meta


def owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    """A controller ownerReference pointing at ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def namespace(name: str, created: float) -> dict[str, Any]:
    """A v1 Namespace."""
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": metadata(name, None, created, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def container(name: str, image: str, port: int, sidecar: bool = False) -> dict[str, Any]:
    """A container spec with requests, limits and (for the app container) probes."""
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "ports": [{"name": "http" if not sidecar else "admin", "containerPort": port, "protocol": "TCP"}],
        "resources": {
            "limits": {"memory": "256Mi" if sidecar else "512Mi"},
            "requests": {"cpu": "50m" if sidecar else "250m", "memory": "128Mi" if sidecar else "384Mi"},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    if not sidecar:
        probe = {"httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"}, "periodSeconds": 10}
        spec["readinessProbe"] = {**probe, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
    return spec


def pod_template(labels: dict[str, str], containers: list[dict[str, Any]]) -> dict[str, Any]:
    """A PodTemplateSpec."""
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {
            "containers": containers,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
        },
    }


def replicaset(deployment: dict[str, Any], template: dict[str, Any], hash_: str, revision: int, created: float) -> dict:
    """An apps/v1 ReplicaSet for one revision of ``deployment`` (no pods yet, status filled in by the caller)."""
    template = copy.deepcopy(template)
    template["metadata"].setdefault("labels", {})["pod-template-hash"] = hash_
    labels = dict(template["metadata"]["labels"])
    name = f"{deployment['metadata']['name']}-{hash_}"
    annotations = {
        REVISION: str(revision),
        "deployment.kubernetes.io/desired-replicas": str(deployment["spec"].get("replicas", 1)),
        "deployment.kubernetes.io/max-replicas": str(deployment["spec"].get("replicas", 1) + 1),
    }
    meta = metadata(
        name, deployment["metadata"]["namespace"], created, labels=labels, annotations=annotations, generation=1
    )
    meta["ownerReferences"] = [owner_ref(deployment)]
    selector = {"matchLabels": {**deployment["spec"]["selector"]["matchLabels"], "pod-template-hash": hash_}}
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": meta,
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0},
    }


def condition(kind: str, status: bool, at: float, reason: str | None = None, message: str | None = None) -> dict:
    """A pod condition (lastProbeTime is null, as the kubelet reports it)."""
    cond: dict[str, Any] = {"type": kind, "status": "True" if status else "False", "lastProbeTime": None}
    cond["lastTransitionTime"] = iso(at)
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def container_status(spec: dict[str, Any], pod_name: str, started: float | None, restarts: int = 0) -> dict:
    """A running (``started`` set) or waiting-to-start container status."""
    status: dict[str, Any] = {"name": spec["name"], "image": spec["image"], "imageID": "", "lastState": {}}
    status.update({"ready": started is not None, "restartCount": restarts, "started": started is not None})
    if started is None:
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
        return status
    repository = spec["image"].rsplit(":", 1)[0]
    status["imageID"] = f"{repository}@sha256:{digest('image', spec['image'])}"
    status["containerID"] = f"containerd://{digest(pod_name, spec['name'], started, restarts)}"
    status["state"] = {"running": {"startedAt": iso(started)}}
    return status


def set_pod_conditions(pod: dict[str, Any], at: float) -> None:
    """Recompute phase and the Ready/ContainersReady conditions from the container statuses."""
    statuses = pod["status"]["containerStatuses"]
    unready = [status["name"] for status in statuses if not status["ready"]]
    running = all("running" in status["state"] or "terminated" in status.get("lastState", {}) for status in statuses)
    pod["status"]["phase"] = "Running" if running else "Pending"
    message = f"containers with unready status: [{' '.join(unready)}]" if unready else None
    reason = "ContainersNotReady" if unready else None
    start = pod["status"]["startTime"]
    pod["status"]["conditions"] = [
        {**condition("PodReadyToStartContainers", running, at), "lastTransitionTime": start},
        {**condition("Initialized", True, at), "lastTransitionTime": start},
        condition("Ready", not unready, at, reason, message),
        condition("ContainersReady", not unready, at, reason, message),
        {**condition("PodScheduled", True, at), "lastTransitionTime": start},
    ]


def pod(
    name: str, template: dict[str, Any], owner: dict[str, Any], node: str, created: float, ready: bool
) -> dict[str, Any]:
    """A v1 Pod created by ``owner`` from ``template``, either running and ready or still creating."""
    labels = dict(template["metadata"]["labels"])
    spec = {**json.loads(json.dumps(template["spec"])), "nodeName": node}
    ip_seed = int(digest("ip", name)[:4], 16)
    statuses = [container_status(c, name, created + 4 if ready else None) for c in spec["containers"]]
    host_ip, pod_ip = f"10.20.0.{ip_seed % 250 + 2}", f"10.244.{ip_seed % 200}.{ip_seed // 200 % 250 + 2}"
    obj = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata(name, owner["metadata"]["namespace"], created, labels=labels),
        "spec": spec,
        "status": {
            "phase": "Pending",
            # The plural fields are what clients read since dual-stack (kubectl's IP column is podIPs[0]).
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": iso(created),
            "containerStatuses": statuses,
            "qosClass": "Burstable",
        },
    }
    if owner["kind"] != "StatefulSet":
        obj["metadata"]["generateName"] = name[: name.rfind("-") + 1]
    obj["metadata"]["ownerReferences"] = [owner_ref(owner)]
    set_pod_conditions(obj, created + 6)
    return obj


def event(
    involved: dict[str, Any],
    kind: str,
    reason: str,
    message: str,
    at: float,
    count: int = 1,
    component: str = "kubelet",
    first: float | None = None,
    field_path: str | None = None,
) -> dict[str, Any]:
    """A core v1 Event about ``involved`` (name ``<object>.<16 hex>`` as the API server generates it)."""
    meta = involved["metadata"]
    name = f"{meta['name']}.{digest('event', meta['uid'], reason, message, first or at)[:16]}"
    ref = {
        "kind": involved["kind"],
        "namespace": meta.get("namespace"),
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": involved["apiVersion"],
        "resourceVersion": meta.get("resourceVersion"),
    }
    if field_path:
        ref["fieldPath"] = field_path
    host = involved.get("spec", {}).get("nodeName") if component == "kubelet" else None
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": metadata(name, meta.get("namespace"), first or at),
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": iso(first or at),
        "lastTimestamp": iso(at),
        "count": count,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A metav1.Status failure body, as the API server sends with every error response."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
    body.update({"message": message, "reason": reason})
    if details:
        body["details"] = details
    body["code"] = code
    return body

"""Server-side printing: the ``Table`` an API server answers ``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``.

A port of Kubernetes' own printers (``pkg/printers/internalversion/printers.go``) for every kind the demo serves:
the same column names, types, priorities (1 = shown only with ``-o wide``) and cell formats, so ``kubectl get`` and
k9s show on the demo what they show on a real cluster. Like the API server (``printers/storage``, which generates
with ``Wide: true``), every row holds every column, and the client hides the priority-1 ones.

This is written apart from :mod:`idp_tui.kube.problems` (idp-tui's own STATUS column) on purpose: the demo stands
in for the API server, and the kubectl conformance test compares what kubectl prints from these tables with what
idp-tui works out itself.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from idp_tui.kube.demo_cluster.columns import COLUMNS, CRD_COLUMNS


def table_version(accept: str | None) -> str | None:
    """``v1`` (or ``v1beta1``) when the client's first acceptable answer is a meta.k8s.io Table, else None (JSON).

    kubectl asks ``application/json;as=Table;v=v1;g=meta.k8s.io, …;v=v1beta1…, application/json``; the Python
    client asks for plain ``application/json``.
    """
    for media in (accept or "").split(","):
        kind, *parameters = (part.strip() for part in media.split(";"))
        options = dict(parameter.partition("=")[::2] for parameter in parameters)
        if kind not in ("application/json", "application/*", "*/*"):
            continue  # protobuf, YAML: not served here
        wanted = options.get("as")
        if wanted is None:
            return None
        if wanted == "Table" and options.get("g") == "meta.k8s.io" and options.get("v") in ("v1", "v1beta1"):
            return options["v"]
    return None


def table(
    plural: str,
    objects: list[dict[str, Any]],
    list_meta: dict[str, Any],
    *,
    version: str = "v1",
    include_object: str | None = None,
    headers: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """The Table for ``objects`` of one kind, as the API server sends it.

    Args:
        plural: The resource (``pods``, ``deployments`` …).
        objects: The stored objects (with their kind and apiVersion).
        list_meta: ``resourceVersion`` (and ``continue``, ``remainingItemCount``) of the list or object.
        version: The Table's meta.k8s.io version.
        include_object: The request's ``includeObject``: ``None``, ``Metadata`` (the default: a
            PartialObjectMetadata, which kubectl reads namespaces and labels from) or ``Object``.
        headers: Whether to send the column definitions (a watch sends them in its first event only).
        now: The clock for the AGE columns.
    """
    now = time.time() if now is None else now
    printer = _PRINTERS[plural]
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        phase = obj.get("status", {}).get("phase") if plural == "pods" else None
        if phase in ("Succeeded", "Failed"):
            message = "The pod has completed successfully." if phase == "Succeeded" else "The pod failed."
            row["conditions"] = [{"type": "Completed", "status": "True", "reason": phase, "message": message}]
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            metadata = obj["metadata"]
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": f"meta.k8s.io/{version}",
                "metadata": metadata,
            }
        rows.append(row)
    columns = [
        {"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": doc, "priority": rank}
        for name, kind, rank, doc in COLUMNS[plural]
    ]
    body: dict[str, Any] = {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": list_meta}
    body["columnDefinitions"] = columns if headers else None
    body["rows"] = rows
    return body


# -- formats (k8s.io/apimachinery duration, labels and selectors) -------------------------------------------------


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: 2-3 significant figures (``45s``, ``4m10s``, ``12m``, ``5h3m``, ``3d4h``)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m" if whole % 60 == 0 else f"{minutes}m{whole % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, hours // 24 % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(timestamp: str | None, now: float) -> str:
    """``translateTimestampSince``."""
    moment = _time(timestamp)
    return "<unknown>" if moment is None else human_duration(now - moment)


def _time(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def format_labels(labels: dict[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v,…`` sorted by key, or ``<none>``."""
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels)) if labels else "<none>"


def selector_string(selector: dict[str, Any] | None) -> str:
    """``LabelSelectorAsSelector(…).String()``: requirements sorted by key, ``""`` for none."""
    if not selector:
        return ""
    requirements = [(key, f"{key}={value}") for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator")
        values = ",".join(sorted(expression.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
            operator, f"!{key}"
        )
        requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements, key=lambda requirement: requirement[0]))


def _format_selector(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: as :func:`selector_string`, but ``<none>`` for an empty one."""
    return selector_string(selector) or "<none>"


def _containers(template: dict[str, Any] | None) -> list[str]:
    """``layoutContainerCells``: container names and images, comma-separated."""
    containers = ((template or {}).get("spec") or {}).get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


# -- one printer per kind -----------------------------------------------------------------------------------------


def _pod(pod: dict[str, Any], now: float) -> list[Any]:
    """``printPod``: READY, STATUS (the reason kubectl shows), RESTARTS with when the last was, then the wide cells."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in status.get("conditions") or []
    ):
        reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    restarts = restartable_restarts = ready = 0
    last_restart = last_restartable_restart = 0.0
    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        count = container.get("restartCount") or 0
        finished = _finished(container)
        restarts += count
        last_restart = max(last_restart, finished)
        restartable = _restartable(init_specs.get(container.get("name")))
        if restartable:
            restartable_restarts += count
            last_restartable_restart = max(last_restartable_restart, finished)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if restartable and container.get("started"):
            ready += bool(container.get("ready"))
            continue
        initializing = True
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        break
    conditions = status.get("conditions") or []
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in conditions)
    if not initializing or initialized:
        restarts, last_restart = restartable_restarts, last_restartable_restart
        running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += container.get("restartCount") or 0
            last_restart = max(last_restart, _finished(container))
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                code = terminated.get("exitCode", 0)
                reason = f"Signal:{terminated['signal']}" if terminated.get("signal") else f"ExitCode:{code}"
            elif container.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            ready_condition = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if ready_condition else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    restart_cell = str(restarts)
    if restarts and last_restart:
        restart_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    gate_cell = "<none>"
    if gates:
        states = {c.get("type"): c.get("status") for c in conditions}
        gate_cell = f"{sum(1 for gate in gates if states.get(gate.get('conditionType')) == 'True')}/{len(gates)}"
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restart_cell,
        _since(pod["metadata"].get("creationTimestamp"), now),
        (ips[0].get("ip") if ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gate_cell,
    ]


def _restartable(container: dict[str, Any] | None) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always``."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _finished(container_status: dict[str, Any]) -> float:
    terminated = (container_status.get("lastState") or {}).get("terminated") or {}
    return _time(terminated.get("finishedAt")) or 0.0


def _deployment(deployment: dict[str, Any], now: float) -> list[Any]:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    return [
        deployment["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _since(deployment["metadata"].get("creationTimestamp"), now),
        *_containers(spec.get("template")),
        selector_string(spec.get("selector")),
    ]


def _replicaset(rs: dict[str, Any], now: float) -> list[Any]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    return [
        rs["metadata"]["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _since(rs["metadata"].get("creationTimestamp"), now),
        *_containers(spec.get("template")),
        _format_selector(spec.get("selector")),
    ]


def _statefulset(sts: dict[str, Any], now: float) -> list[Any]:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    return [
        sts["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        _since(sts["metadata"].get("creationTimestamp"), now),
        *_containers(spec.get("template")),
    ]


def _daemonset(ds: dict[str, Any], now: float) -> list[Any]:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    template = spec.get("template") or {}
    return [
        ds["metadata"]["name"],
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        format_labels((template.get("spec") or {}).get("nodeSelector")),
        _since(ds["metadata"].get("creationTimestamp"), now),
        *_containers(template),
        _format_selector(spec.get("selector")),
    ]


def _event(event: dict[str, Any], now: float) -> list[Any]:
    """``printEvent`` (wide): LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME."""
    first = (
        _since(event.get("firstTimestamp"), now) if event.get("firstTimestamp") else _since(event.get("eventTime"), now)
    )
    last = _since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = event.get("count") or 0
    series = event.get("series")
    if series:
        last, count = _since(series.get("lastObservedTime"), now), series.get("count") or 0
    elif count == 0:
        count = 1  # singleton events of the events.k8s.io API carry no count
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {instance}" if instance else component,
        (event.get("message") or "").strip(),
        first,
        count,
        event["metadata"]["name"],
    ]


def _hpa(hpa: dict[str, Any], now: float) -> list[Any]:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [
        hpa["metadata"]["name"],
        f"{target.get('kind', '')}/{target.get('name', '')}",
        hpa_targets(spec.get("metrics") or [], status.get("currentMetrics") or []),
        "<unset>" if minimum is None else str(minimum),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        _since(hpa["metadata"].get("creationTimestamp"), now),
    ]


def hpa_targets(specs: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> str:
    """``formatHPAMetrics``: ``cpu: 94%/70%`` per metric (current/target), at most two then ``+ N more...``."""
    if not specs:
        return "<none>"
    shown = []
    for index, metric in enumerate(specs):
        kind = metric.get("type")
        key = {"ContainerResource": "containerResource"}.get(kind, (kind or "")[:1].lower() + (kind or "")[1:])
        source = metric.get(key) or {}
        wanted = source.get("target") or {}
        current_source = (statuses[index].get(key) if index < len(statuses) else None) or {}
        current = current_source.get("current") or {}
        if kind in ("External", "Object"):
            if wanted.get("averageValue") is not None:
                value = current.get("averageValue") if current_source else None
                shown.append(f"{value or '<unknown>'}/{wanted['averageValue']} (avg)")
            else:
                shown.append(f"{current.get('value') or '<unknown>'}/{wanted.get('value')}")
        elif kind == "Pods":
            shown.append(f"{current.get('averageValue') or '<unknown>'}/{wanted.get('averageValue')}")
        elif kind in ("Resource", "ContainerResource"):
            if wanted.get("averageValue") is not None:
                shown.append(
                    f"{source.get('name')}: {current.get('averageValue') or '<unknown>'}/{wanted['averageValue']}"
                )
            else:
                used = current.get("averageUtilization")
                goal = wanted.get("averageUtilization")
                used_text = "<unknown>" if used is None else f"{used}%"
                shown.append(f"{source.get('name')}: {used_text}/{'<auto>' if goal is None else f'{goal}%'}")
        else:
            shown.append("<unknown type>")
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


def _namespace(namespace: dict[str, Any], now: float) -> list[Any]:
    return [
        namespace["metadata"]["name"],
        (namespace.get("status") or {}).get("phase", ""),
        _since(namespace["metadata"].get("creationTimestamp"), now),
    ]


def _service(service: dict[str, Any], now: float) -> list[Any]:
    """``printService`` (wide, as the API server prints): a ClusterIP Service has no external IP."""
    spec = service.get("spec") or {}
    ports = ",".join(
        f"{port.get('port')}{':' + str(port['nodePort']) if port.get('nodePort') else ''}/{port.get('protocol', 'TCP')}"
        for port in spec.get("ports") or []
    )
    return [
        service["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        (spec.get("clusterIPs") or ["<none>"])[0],
        "<none>",
        ports or "<none>",
        _since(service["metadata"].get("creationTimestamp"), now),
        format_labels(spec.get("selector")),
    ]


def _configmap(configmap: dict[str, Any], now: float) -> list[Any]:
    """``printConfigMap``: the number of keys (data and binaryData)."""
    count = len(configmap.get("data") or {}) + len(configmap.get("binaryData") or {})
    return [configmap["metadata"]["name"], count, _since(configmap["metadata"].get("creationTimestamp"), now)]


def _json_path(obj: Any, path: str) -> Any:
    for key in path.strip(".").split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def crd_cell(kind: str, value: Any, now: float) -> Any:
    """One cell of a custom resource's column, as the tableconvertor makes it: a string column prints the value,
    the others keep their JSON type (``cellForJSONValue``); a missing value is null."""
    if value is None:
        return None
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if kind == "integer":
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        moment = _time(value) if isinstance(value, str) else None
        return "<invalid>" if moment is None else human_duration(now - moment)
    return None


def _custom(plural: str):
    def printer(obj: dict[str, Any], now: float) -> list[Any]:
        cells = [obj["metadata"]["name"]]
        return cells + [crd_cell(kind, _json_path(obj, path), now) for _, kind, _, _, path in CRD_COLUMNS[plural]]

    return printer


_PRINTERS = {
    "configmaps": _configmap,
    "services": _service,
    "applications": _custom("applications"),
    "rollouts": _custom("rollouts"),
    "pods": _pod,
    "deployments": _deployment,
    "replicasets": _replicaset,
    "statefulsets": _statefulset,
    "daemonsets": _daemonset,
    "events": _event,
    "horizontalpodautoscalers": _hpa,
    "namespaces": _namespace,
}

__all__ = ["COLUMNS", "format_labels", "human_duration", "hpa_targets", "selector_string", "table", "table_version"]

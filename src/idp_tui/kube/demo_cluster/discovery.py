"""Discovery documents (``/version``, ``/api``, ``/apis``, APIResourceLists) in the API server's shapes."""

from __future__ import annotations

from typing import Any

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
# What the API server lists for a CRD's resource and its status subresource
# (apiextensions-apiserver customresource_discovery_controller.go).
CRD_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]
SERVICE_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
# group/version -> [(name, singularName, kind, namespaced, verbs, shortNames)]
RESOURCE_LISTS: dict[str, list[tuple[str, str, str, bool, list[str], list[str]]]] = {
    "v1": [
        ("configmaps", "configmap", "ConfigMap", True, READ + WRITE, ["cm"]),
        ("events", "event", "Event", True, READ + WRITE, ["ev"]),
        (
            "namespaces",
            "namespace",
            "Namespace",
            False,
            ["create", "delete", "get", "list", "patch", "update", "watch"],
            ["ns"],
        ),
        ("pods", "pod", "Pod", True, READ + WRITE, ["po"]),
        ("pods/log", "", "Pod", True, ["get"], []),
        ("services", "service", "Service", True, SERVICE_VERBS, ["svc"]),
    ],
    "apps/v1": [
        ("daemonsets", "daemonset", "DaemonSet", True, READ + WRITE, ["ds"]),
        ("deployments", "deployment", "Deployment", True, READ + WRITE, ["deploy"]),
        ("deployments/scale", "", "Scale", True, ["get", "patch", "update"], []),
        ("replicasets", "replicaset", "ReplicaSet", True, READ + WRITE, ["rs"]),
        ("statefulsets", "statefulset", "StatefulSet", True, READ + WRITE, ["sts"]),
    ],
    "autoscaling/v2": [
        ("horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", True, READ + WRITE, ["hpa"]),
    ],
    # The names, scope and short names of Argo CD's manifests/crds/application-crd.yaml and Argo Rollouts'
    # manifests/crds/rollout-crd.yaml (which has the status subresource; its scale subresource is not served here).
    "argoproj.io/v1alpha1": [
        ("applications", "application", "Application", True, CRD_VERBS, ["app", "apps"]),
        ("rollouts", "rollout", "Rollout", True, CRD_VERBS, ["ro"]),
        ("rollouts/status", "", "Rollout", True, SUBRESOURCE_VERBS, []),
    ],
}
GROUPS = {"apps": ["v1"], "autoscaling": ["v2"], "argoproj.io": ["v1alpha1"]}


def version(server: str) -> dict[str, str]:
    """``/version``: a VersionInfo for ``server`` (e.g. ``v1.31.4``), marked as the demo build."""
    major, minor = server.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{server}+idp-tui-demo",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(address: str) -> dict[str, Any]:
    """``/api``: the core group's APIVersions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def api_group(name: str) -> dict[str, Any]:
    """``/apis/<group>``: one APIGroup."""
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in GROUPS[name]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict[str, Any]:
    """``/apis``: the APIGroupList."""
    groups = []
    for name in GROUPS:
        group = api_group(name)
        del group["kind"], group["apiVersion"]
        groups.append(group)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group_version: str, served: set[str] | None = None) -> dict[str, Any] | None:
    """``/api/v1`` or ``/apis/<group>/<version>``: the APIResourceList, or None for an unknown group/version.

    ``served`` limits it to the resources one cluster has (Argo CD's CRD only where Argo CD runs).
    """
    entries = RESOURCE_LISTS.get(group_version)
    if entries is None:
        return None
    resources = []
    for name, singular, kind, namespaced, verbs, short in entries:
        if served is not None and name.split("/")[0] not in served:
            continue
        resource: dict[str, Any] = {"name": name, "singularName": singular, "namespaced": namespaced, "kind": kind}
        resource["verbs"] = verbs
        if short:
            resource["shortNames"] = short
        if "/" not in name and kind in ("Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
            resource["categories"] = ["all"]
        if name == "deployments/scale":
            resource.update(group="autoscaling", version="v1")
        resources.append(resource)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}

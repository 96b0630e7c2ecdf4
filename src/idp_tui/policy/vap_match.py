"""Which rendered manifests a ValidatingAdmissionPolicy and its binding apply to, as the API server decides.

A rendered manifest is evaluated as the request that creating it would be: operation ``CREATE``, its group,
version and kind from ``apiVersion``/``kind``, and the resource name the API server would route it to. Without a
cluster's discovery, a built-in kind's resource and scope come from the table below, and any other kind's resource
is guessed the way ``kubectl`` guesses it without discovery (apimachinery's ``UnsafeGuessKindToResource``:
lowercase, then ``-s``, ``-es`` or ``-ies``); a kind not in the table is namespaced, as most custom resources are.

Label selectors follow ``metav1.LabelSelector``. A namespace selector needs the namespace's labels: they come from a
``Namespace`` among the evaluated documents or from the caller; every namespace also carries
``kubernetes.io/metadata.name`` (the API server sets it), so a selector on that label alone is always decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# kind -> (resource, namespaced) for the built-in kinds manifests usually hold.
BUILTIN_KINDS: dict[str, tuple[str, bool]] = {
    "Pod": ("pods", True),
    "Service": ("services", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "ServiceAccount": ("serviceaccounts", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "Endpoints": ("endpoints", True),
    "Event": ("events", True),
    "LimitRange": ("limitranges", True),
    "ResourceQuota": ("resourcequotas", True),
    "ReplicationController": ("replicationcontrollers", True),
    "PodTemplate": ("podtemplates", True),
    "Deployment": ("deployments", True),
    "StatefulSet": ("statefulsets", True),
    "DaemonSet": ("daemonsets", True),
    "ReplicaSet": ("replicasets", True),
    "ControllerRevision": ("controllerrevisions", True),
    "Job": ("jobs", True),
    "CronJob": ("cronjobs", True),
    "HorizontalPodAutoscaler": ("horizontalpodautoscalers", True),
    "PodDisruptionBudget": ("poddisruptionbudgets", True),
    "Ingress": ("ingresses", True),
    "NetworkPolicy": ("networkpolicies", True),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "Lease": ("leases", True),
    "EndpointSlice": ("endpointslices", True),
    "CSIStorageCapacity": ("csistoragecapacities", True),
    "Namespace": ("namespaces", False),
    "Node": ("nodes", False),
    "PersistentVolume": ("persistentvolumes", False),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "StorageClass": ("storageclasses", False),
    "VolumeAttachment": ("volumeattachments", False),
    "CSIDriver": ("csidrivers", False),
    "CSINode": ("csinodes", False),
    "CustomResourceDefinition": ("customresourcedefinitions", False),
    "APIService": ("apiservices", False),
    "PriorityClass": ("priorityclasses", False),
    "RuntimeClass": ("runtimeclasses", False),
    "IngressClass": ("ingressclasses", False),
    "ValidatingAdmissionPolicy": ("validatingadmissionpolicies", False),
    "ValidatingAdmissionPolicyBinding": ("validatingadmissionpolicybindings", False),
    "ValidatingWebhookConfiguration": ("validatingwebhookconfigurations", False),
    "MutatingWebhookConfiguration": ("mutatingwebhookconfigurations", False),
    "CertificateSigningRequest": ("certificatesigningrequests", False),
    "FlowSchema": ("flowschemas", False),
    "PriorityLevelConfiguration": ("prioritylevelconfigurations", False),
}

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def guess_resource(kind: str) -> str:
    """apimachinery's ``UnsafeGuessKindToResource``: the plural kubectl assumes without discovery."""
    if not kind:
        return ""
    lowered = kind.lower()
    if lowered.endswith("s"):
        return lowered + "es"
    if lowered.endswith("y"):
        return lowered[:-1] + "ies"
    return lowered + "s"


@dataclass(frozen=True, slots=True)
class RequestTarget:
    """What the API server would know about creating a manifest, before any policy runs."""

    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    namespace: str  # "" for a cluster-scoped object
    name: str
    labels: dict[str, str]

    def request(self) -> dict[str, Any]:
        """The ``request`` variable of a ValidatingAdmissionPolicy expression (an AdmissionRequest, CREATE).

        ``userInfo`` is left out on purpose: who will apply the manifest is not known; an expression reading it
        is reported as not evaluable instead of given a made-up user.
        """
        gvk = {"group": self.group, "version": self.version, "kind": self.kind}
        gvr = {"group": self.group, "version": self.version, "resource": self.resource}
        return {
            "uid": "",
            "kind": gvk,
            "resource": gvr,
            "subResource": "",
            "requestKind": gvk,
            "requestResource": gvr,
            "requestSubResource": "",
            "name": self.name,
            "namespace": self.namespace,
            "operation": "CREATE",
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }


def request_target(document: dict[str, Any]) -> RequestTarget | None:
    """The request target of a manifest, or None when it is not a Kubernetes object (no apiVersion or kind)."""
    api_version = document.get("apiVersion")
    kind = document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return None
    group, _, version = api_version.rpartition("/")
    resource, namespaced = BUILTIN_KINDS.get(kind, (guess_resource(kind), True))
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
    namespace = ""
    if namespaced:
        namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else ""
        namespace = namespace or "default"
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else ""
    return RequestTarget(
        group, version, kind, resource, namespaced, namespace, name, {str(k): str(v) for k, v in labels.items()}
    )


def _matches_list(values: list | None, wanted: str) -> bool:
    return bool(values) and ("*" in values or wanted in values)


def rule_matches(rule: dict[str, Any], target: RequestTarget, *, any_version: bool = False) -> bool:
    """Whether a ``NamedRuleWithOperations`` covers creating ``target`` (matchPolicy ``Exact``); with
    ``any_version``, in whichever version of its group the rule names."""
    if not _matches_list(rule.get("apiGroups"), target.group):
        return False
    if not any_version and not _matches_list(rule.get("apiVersions"), target.version):
        return False
    operations = rule.get("operations") or []
    if not ("*" in operations or "CREATE" in operations):
        return False
    resources = rule.get("resources") or []
    if not ("*" in resources or "*/*" in resources or target.resource in resources):
        return False  # "pods/*" and the like name subresources, which a manifest is never created on
    names = rule.get("resourceNames") or []
    if names and target.name not in names:
        return False
    scope = rule.get("scope") or "*"
    return scope == "*" or (scope == "Namespaced") == target.namespaced


class UnknownLabels(Exception):
    """A selector needs labels that are not known (a namespace whose Namespace object was not given)."""


class OnlyEquivalent(Exception):
    """A rule covers the object's group and resource in other versions only: under ``matchPolicy: Equivalent`` the
    API server would convert the object to such a version and evaluate that, which cannot be done here.
    ``str()`` names the versions."""


def selector_matches(
    selector: dict[str, Any] | None, labels: dict[str, str] | None, *, known: set[str] = frozenset()
) -> bool:
    """Whether ``labels`` satisfy a ``metav1.LabelSelector`` (None or ``{}`` matches everything).

    Args:
        selector: the selector.
        labels: the labels, or None when only the keys in ``known`` are known (with their values in a dict).
        known: with ``labels`` None: the keys whose values are certain anyway.

    Raises:
        UnknownLabels: the answer depends on labels that are not known.
    """
    if not selector:
        return True
    if labels is None:
        raise UnknownLabels()
    requirements = [(key, "In", [value]) for key, value in (selector.get("matchLabels") or {}).items()]
    requirements += [
        (item.get("key"), item.get("operator"), item.get("values") or [])
        for item in selector.get("matchExpressions") or []
    ]
    unknown = False
    for key, operator, values in requirements:
        if known and key not in known:
            unknown = True  # decided below, unless a known requirement already fails
            continue
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    if unknown:
        raise UnknownLabels()
    return True


def namespace_labels(target: RequestTarget, namespaces: dict[str, dict[str, str]]) -> tuple[dict[str, str], bool]:
    """The labels a namespace selector is matched against, and whether they are all known.

    A Namespace object is matched on its own labels; any other cluster-scoped object is never filtered by a
    namespace selector (the caller skips the check); a namespaced object on its namespace's labels.
    """
    if target.kind == "Namespace" and not target.group:
        return {**target.labels, NAMESPACE_NAME_LABEL: target.name}, True
    labels = namespaces.get(target.namespace)
    if labels is not None:
        return {**labels, NAMESPACE_NAME_LABEL: target.namespace}, True
    return {NAMESPACE_NAME_LABEL: target.namespace}, False


def match_resources(match: dict[str, Any] | None, target: RequestTarget, namespaces: dict[str, dict[str, str]]) -> bool:
    """Whether a policy's ``matchConstraints`` (or a binding's ``matchResources``) cover ``target``.

    Raises:
        UnknownLabels: the namespace selector depends on labels of a namespace that is not known.
    """
    if not match:
        return True
    rules = match.get("resourceRules") or []
    equivalent_only = ""
    if rules and not any(rule_matches(rule, target) for rule in rules):
        if match.get("matchPolicy") == "Exact":  # Equivalent is the default
            return False
        versions = [str(version) for rule in rules if rule_matches(rule, target, any_version=True)
                    for version in rule.get("apiVersions") or []]  # fmt: skip
        if not versions:
            return False
        equivalent_only = ", ".join(f"{target.group}/{v}" if target.group else v for v in versions)
    if any(rule_matches(rule, target) for rule in match.get("excludeResourceRules") or []):
        return False
    if not selector_matches(match.get("objectSelector"), target.labels):
        return False
    namespace_selector = match.get("namespaceSelector")
    if namespace_selector and (target.namespaced or target.kind == "Namespace"):
        labels, complete = namespace_labels(target, namespaces)
        if not selector_matches(namespace_selector, labels, known=set() if complete else {NAMESPACE_NAME_LABEL}):
            return False
    if equivalent_only:  # everything else matches: only the version conversion is unknown
        raise OnlyEquivalent(equivalent_only)
    return True

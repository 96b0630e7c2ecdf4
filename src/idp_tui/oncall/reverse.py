"""From something on fire to its catalog entity: a pod, a workload, a ``namespace/pod`` string, a PagerDuty service.

The rules are Backstage's, run backwards: an entity owns a pod when its Kubernetes annotations would select it
(label selector or kubernetes-id, namespace, cluster). Pure except :func:`pod_labels`, which asks a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..catalog.entity import Entity
from ..catalog.model import Catalog


@dataclass(frozen=True)
class PodRef:
    """What a person pasted: ``pod``, ``namespace/pod`` or ``cluster:namespace/pod``."""

    name: str
    namespace: str | None = None
    cluster: str | None = None


def parse_pod_ref(text: str) -> PodRef:
    """``[cluster:][namespace/]name`` as typed or pasted (surrounding spaces and a ``pod/`` prefix ignored)."""
    text = text.strip().removeprefix("pod/").removeprefix("pods/")
    cluster, _, rest = text.rpartition(":") if ":" in text else ("", "", text)
    namespace, _, name = rest.rpartition("/")
    return PodRef(name, namespace or None, cluster or None)


def entities_selecting(
    labels: dict[str, str], namespace: str | None, cluster: str | None, entities: Iterable[Entity]
) -> list[Entity]:
    """The entities whose Backstage Kubernetes annotations select an object with these labels, there."""
    from ..kube.selection import SelectorError, selector_for

    found = []
    for entity in entities:
        try:
            selector = selector_for(entity)
        except SelectorError:
            continue
        if selector is None:
            continue
        if selector.namespace and namespace and selector.namespace != namespace:
            continue
        if cluster and not selector.allows_cluster(cluster):
            continue
        if selector.matches(labels):
            found.append(entity)
    return found


def entity_for_pagerduty_service(service_id: str, catalog: Catalog) -> Entity | None:
    """The entity annotated with ``pagerduty.com/service-id: <service_id>``."""
    wanted = service_id.strip().upper()
    for entity in catalog.entities:
        if str(entity.annotations.get("pagerduty.com/service-id", "")).upper() == wanted:
            return entity
    return None


def pod_labels(clusters: Any, ref: PodRef) -> list[tuple[str, str, dict[str, str]]]:
    """``(cluster, namespace, labels)`` of every pod named ``ref`` on the clusters (one per cluster it runs on)."""
    import json

    from kubernetes import client

    found = []
    for cluster in clusters.cluster_names():
        if ref.cluster and cluster != ref.cluster:
            continue
        api = client.CoreV1Api(api_client=clusters.api_client(cluster))
        selector = f"metadata.name={ref.name}"
        if ref.namespace:
            response = api.list_namespaced_pod(ref.namespace, field_selector=selector, _preload_content=False)
        else:
            response = api.list_pod_for_all_namespaces(field_selector=selector, _preload_content=False)
        for pod in json.loads(response.data).get("items", []):
            metadata = pod.get("metadata", {})
            found.append((cluster, metadata.get("namespace", ""), metadata.get("labels") or {}))
    return found

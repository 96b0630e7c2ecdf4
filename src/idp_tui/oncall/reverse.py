"""From something on fire to its catalog entity: a pod, a workload, a ``namespace/pod`` string, a PagerDuty service.

The rules are Backstage's, run backwards: an entity owns a pod when its Kubernetes annotations would select it
(label selector or kubernetes-id, namespace, cluster). Pure except :func:`pod_labels`, which asks a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..catalog.entity import Entity
from ..catalog.model import Catalog

ENTITY_KINDS = ("component", "api", "resource", "system", "domain", "group", "user", "template", "location")


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
    """``(cluster, namespace, labels)`` of every pod named ``ref`` on the clusters (one per cluster it runs on).

    When no pod has that name, workloads (Deployments, StatefulSets, DaemonSets) with that name are looked up
    instead, so a pasted workload name leads to its entity just as one of its pods does.
    """
    from kubernetes import client

    found = []
    for cluster in clusters.cluster_names():
        if ref.cluster and cluster != ref.cluster:
            continue
        api_client = clusters.api_client(cluster)
        core, apps = client.CoreV1Api(api_client=api_client), client.AppsV1Api(api_client=api_client)
        listers = [(core.list_namespaced_pod, core.list_pod_for_all_namespaces)]
        listers += [
            (apps.list_namespaced_deployment, apps.list_deployment_for_all_namespaces),
            (apps.list_namespaced_stateful_set, apps.list_stateful_set_for_all_namespaces),
            (apps.list_namespaced_daemon_set, apps.list_daemon_set_for_all_namespaces),
        ]
        for namespaced, everywhere in listers:
            items = _named(namespaced, everywhere, ref)
            found += [(cluster, item.get("namespace", ""), item.get("labels") or {}) for item in items]
            if items:
                break
    return found


def _named(namespaced: Any, everywhere: Any, ref: PodRef) -> list[dict[str, Any]]:
    """The metadata of the objects called ``ref.name``, from one list endpoint."""
    import json

    selector = f"metadata.name={ref.name}"
    if ref.namespace:
        response = namespaced(ref.namespace, field_selector=selector, _preload_content=False)
    else:
        response = everywhere(field_selector=selector, _preload_content=False)
    return [item.get("metadata", {}) for item in json.loads(response.data).get("items", [])]


@dataclass(frozen=True)
class Lookup:
    """What a typed or pasted name led to: the entity and how it was found, or why nothing was."""

    entity: Entity | None
    found_from: str | None = None
    problem: str | None = None


def lookup(text: str, catalog: Catalog, clusters: Callable[[], Any]) -> Lookup:
    """An entity ref, else a PagerDuty service id, else a pod or workload name looked up on the clusters.

    ``clusters`` is called (and kubernetes imported) only when the text is neither a ref nor a service id.
    """
    entity = catalog.find(text)
    if entity is not None:
        return Lookup(entity)
    entity = entity_for_pagerduty_service(text, catalog)
    if entity is not None:
        return Lookup(entity, f"PagerDuty service {text.strip().upper()}")
    ref = parse_pod_ref(text)
    if not ref.name or (ref.cluster or "").lower() in ENTITY_KINDS:
        # "component:foo" is an entity ref that names nothing, not a pod on a cluster called "component".
        return Lookup(None, problem=f"no entity {text!r} in the catalog")
    hits = pod_labels(clusters(), ref)
    if not hits:
        return Lookup(None, problem=f"no entity, PagerDuty service, pod or workload named {text!r}")
    for cluster, namespace, labels in hits:
        selecting = entities_selecting(labels, namespace, cluster, catalog.entities)
        if selecting:
            return Lookup(selecting[0], f"{namespace}/{ref.name} on {cluster}")
    cluster, namespace, labels = hits[0]
    shown = ",".join(f"{key}={value}" for key, value in sorted(labels.items())) or "no labels"
    return Lookup(
        None,
        problem=(
            f"{namespace}/{ref.name} runs on {cluster} ({shown}), but no catalog entity's Kubernetes annotations "
            "select it"
        ),
    )

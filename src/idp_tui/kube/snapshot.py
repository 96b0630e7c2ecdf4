"""What one cluster holds for an entity, as read (listed or watched) through the Kubernetes API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The kinds read for an entity (besides Events), and what each is called in messages (its REST plural).
KINDS: dict[str, str] = {
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Pod": "pods",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
}
# Kinds listed without the entity's label selector: HPAs and Events carry no workload labels.
UNLABELLED = ("HorizontalPodAutoscaler", "Event")


@dataclass
class ClusterSnapshot:
    """What one cluster holds for an entity: objects by kind (Kubernetes JSON), events, or why it could not tell."""

    name: str
    demo: bool = False
    error: str | None = None
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource_versions: dict[str, str] = field(default_factory=dict)

"""What one cluster holds for an entity, as read (listed or watched) through the Kubernetes API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# (client API class, the snake_case name in its list methods) for each kind read for an entity.
KINDS: dict[str, tuple[str, str]] = {
    "Deployment": ("AppsV1Api", "deployment"),
    "ReplicaSet": ("AppsV1Api", "replica_set"),
    "StatefulSet": ("AppsV1Api", "stateful_set"),
    "DaemonSet": ("AppsV1Api", "daemon_set"),
    "Pod": ("CoreV1Api", "pod"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "horizontal_pod_autoscaler"),
}


@dataclass
class ClusterSnapshot:
    """What one cluster holds for an entity: objects by kind (Kubernetes JSON), events, or why it could not tell."""

    name: str
    demo: bool = False
    error: str | None = None
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource_versions: dict[str, str] = field(default_factory=dict)

"""One demo cluster's state: objects in real Kubernetes JSON shapes, a resourceVersion counter and a change history.

Every change goes through :meth:`ClusterState.put` or :meth:`ClusterState.remove`, which stamp the next
resourceVersion and append a watch event, so lists, watches and the simulated controllers always agree. Stored dicts
are never mutated in place (changes replace them), which lets the history keep references instead of copies.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from idp_tui.kube.demo_cluster import objects
from idp_tui.kube.demo_cluster.argo_cd import ArgoCDController
from idp_tui.kube.demo_cluster.argo_rollouts import RolloutsController
from idp_tui.kube.demo_cluster.argo_seed import build_gitops
from idp_tui.kube.demo_cluster.controllers import Controllers
from idp_tui.kube.demo_cluster.fleet import build_fleet
from idp_tui.resources import demo_catalog_path

# plural -> (API group/version, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("v1", "Namespace", False),
    "pods": ("v1", "Pod", True),
    "events": ("v1", "Event", True),
    "deployments": ("apps/v1", "Deployment", True),
    "replicasets": ("apps/v1", "ReplicaSet", True),
    "statefulsets": ("apps/v1", "StatefulSet", True),
    "daemonsets": ("apps/v1", "DaemonSet", True),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler", True),
    "configmaps": ("v1", "ConfigMap", True),
    "services": ("v1", "Service", True),  # only the Services a blue-green Rollout switches
    # Custom resources (argoproj.io): Argo CD's Applications where it runs, Argo Rollouts everywhere.
    "applications": ("argoproj.io/v1alpha1", "Application", True),
    "rollouts": ("argoproj.io/v1alpha1", "Rollout", True),
}
CUSTOM = ("applications", "rollouts")
PLURAL_OF_KIND = {kind: plural for plural, (_, kind, _) in RESOURCES.items()}
HISTORY_LIMIT = 8_000  # watch events kept per cluster; older watches and paged lists get 410 Gone


def load_description(path: Path | None = None) -> dict[str, Any]:
    """Read the compact cluster description (``demo_catalog/clusters.yaml`` unless ``path`` is given)."""
    return yaml.safe_load((path or demo_catalog_path() / "clusters.yaml").read_text(encoding="utf-8"))


class ClusterState:
    """The objects of one cluster, its resourceVersion counter and the watch history since the last compaction.

    Args:
        name: The cluster (kubeconfig context) name.
        description: This cluster's entry under ``clusters`` in the description file.
        defaults: The file's top-level settings (``seed``, ``registry``).
        rollout_seconds: Wall-clock time a pod takes to become ready while a rollout progresses; the demo's
            initial rollout completes in about this many seconds per replica-step (one minute in total by default).
        now: The clock, injectable for tests.
    """

    def __init__(
        self,
        name: str,
        description: dict[str, Any],
        defaults: dict[str, Any],
        rollout_seconds: float = 60.0,
        now: Any = time.time,
        sync_seconds: float = 3.0,
    ) -> None:
        self.name = name
        self.description = description
        self.seed = int(defaults.get("seed", 0))
        self.registry = defaults.get("registry", "ghcr.io/acme")
        self.clock = now
        self.lock = threading.Condition()
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {plural: {} for plural in RESOURCES}
        # Pods and ReplicaSets by the uid of each owner they name, so controllers never scan every pod.
        self.owned: dict[str, dict[str, set[tuple[str, str]]]] = {"pods": {}, "replicasets": {}}
        self._sorted: dict[str, list[tuple[str, str]] | None] = {plural: None for plural in RESOURCES}
        self.history: list[tuple[int, str, str, dict[str, Any], dict[str, Any] | None]] = []
        self.revision = 0
        self.expired_before = 0
        self.nodes: list[str] = list(description.get("nodes") or ["node-1"])
        self.server_version: str = description.get("server", "v1.31.4")
        self.controllers = Controllers(self, rollout_seconds)
        self.rollouts = RolloutsController(self.controllers)
        self.argocd = ArgoCDController(self, sync_seconds)
        # What this cluster serves: Argo CD's Application CRD only where Argo CD runs.
        self.served = {plural for plural in RESOURCES if plural != "applications" or description.get("argocd")}
        with self.lock:
            if description.get("fleet"):
                build_fleet(self.controllers, description["fleet"], self.clock())
            else:
                self.controllers.build(description.get("workloads") or [])
            build_gitops(self, description, self.clock())
            # History before the initial state is compacted away: older versions answer 410 like a real server.
            self.expired_before = self.revision
            self.history.clear()

    # -- storage -------------------------------------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` (added or replaced) with the next resourceVersion and record the watch event."""
        plural = PLURAL_OF_KIND[obj["kind"]]
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        previous = self.objects[plural].get(key)
        if previous is not None and _same(previous, obj):
            return previous
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        self.objects[plural][key] = obj
        if previous is None:
            self._sorted[plural] = None
        self._index(plural, key, previous, obj)
        self._record("MODIFIED" if previous is not None else "ADDED", plural, obj, previous)
        return obj

    def remove(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete an object, recording a DELETED event carrying its final state."""
        previous = self.objects[plural].pop((namespace, name), None)
        if previous is None:
            return None
        self._sorted[plural] = None
        self._index(plural, (namespace, name), previous, None)
        self.revision += 1
        final = copy.deepcopy(previous)
        final["metadata"]["resourceVersion"] = str(self.revision)
        self._record("DELETED", plural, final, previous)
        return final

    def _index(
        self, plural: str, key: tuple[str, str], previous: dict[str, Any] | None, current: dict[str, Any] | None
    ) -> None:
        owners = self.owned.get(plural)
        if owners is None:
            return
        before = {ref.get("uid") for ref in (previous or {}).get("metadata", {}).get("ownerReferences") or []}
        after = {ref.get("uid") for ref in (current or {}).get("metadata", {}).get("ownerReferences") or []}
        for uid in before - after:
            keys = owners.get(uid)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del owners[uid]
        for uid in after - before:
            owners.setdefault(uid, set()).add(key)

    def children(self, plural: str, owner_uid: str) -> list[dict[str, Any]]:
        """The pods or ReplicaSets naming ``owner_uid`` among their ownerReferences (unordered)."""
        store = self.objects[plural]
        return [store[key] for key in self.owned[plural].get(owner_uid, ())]

    def _record(self, kind: str, plural: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
        self.history.append((self.revision, kind, plural, obj, previous))
        if len(self.history) > HISTORY_LIMIT:
            # Compaction: watches older than what is kept must re-list (410 Gone).
            dropped = self.history[: len(self.history) // 2]
            del self.history[: len(self.history) // 2]
            self.expired_before = max(self.expired_before, dropped[-1][0] + 1)
        self.lock.notify_all()

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object, or None."""
        return self.objects[plural].get((namespace, name))

    def keys(self, plural: str) -> list[tuple[str, str]]:
        """Every key (namespace, name) of one kind, sorted like the API server lists them (kept until one is added
        or removed, so a list under a stream of changes does not sort every time)."""
        keys = self._sorted[plural]
        if keys is None:
            keys = self._sorted[plural] = sorted(self.objects[plural])
        return keys

    def items(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of one kind, in one namespace or all, sorted by namespace and name like the API server."""
        store = self.objects[plural]
        return [store[key] for key in self.keys(plural) if namespace is None or key[0] == namespace]

    def items_at(self, plural: str, namespace: str | None, revision: int) -> list[dict[str, Any]]:
        """Objects of one kind as they were at ``revision`` (the caller checks it is not compacted away): what a
        paged list's later pages are read from, so every page of one list shows the same moment, as etcd does."""
        changes = [entry for entry in self.events_since(revision) if entry[2] == plural]
        if not changes:
            return self.items(plural, namespace)
        store = dict(self.objects[plural])
        for _revision, kind, _plural, obj, previous in reversed(changes):
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            if kind == "ADDED" or previous is None:
                store.pop(key, None)
            else:
                store[key] = previous
        return [store[key] for key in sorted(store) if namespace is None or key[0] == namespace]

    def events_since(self, revision: int) -> list[tuple[int, str, str, dict[str, Any], dict[str, Any] | None]]:
        """History entries newer than ``revision`` (the caller checks expiry first)."""
        if not self.history or self.history[-1][0] <= revision:
            return []
        low, high = 0, len(self.history)
        while low < high:
            middle = (low + high) // 2
            if self.history[middle][0] <= revision:
                low = middle + 1
            else:
                high = middle
        return self.history[low:]

    def expire_before(self, revision: int) -> None:
        """Forget history older than ``revision``: watches and lists from older versions get 410 Gone."""
        with self.lock:
            self.expired_before = max(self.expired_before, revision)
            self.history = [entry for entry in self.history if entry[0] >= revision]
            self.lock.notify_all()

    def is_expired(self, revision: int) -> bool:
        """Whether ``revision`` is older than the compacted history."""
        return 0 < revision < self.expired_before

    # -- time and changes ----------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance the simulated controllers to the current wall-clock time (call with the lock held)."""
        now = self.clock()
        self.controllers.tick(now)
        self.rollouts.tick(now)
        self.argocd.tick(now)

    def set_pod(self, namespace: str, name: str, change: Any) -> dict[str, Any]:
        """Apply ``change`` (a callable editing a copy of the pod, or a merge-patch dict) and store the result."""
        with self.lock:
            current = self.get("pods", namespace, name)
            if current is None:
                raise KeyError(f"pod {namespace}/{name} not found")
            updated = copy.deepcopy(current)
            if callable(change):
                change(updated)
            else:
                merge_patch(updated, change)
            stored = self.put(updated)
            self.controllers.reconcile_owner(stored)
            return stored

    def add_pod(self, namespace: str, owner: str, *, ready: bool = True, name: str | None = None) -> dict[str, Any]:
        """Add a pod for the workload ``owner`` (a Deployment, StatefulSet or DaemonSet name) outside its controller."""
        with self.lock:
            return self.controllers.add_pod(namespace, owner, ready=ready, name=name)

    def delete_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete a pod; its controller replaces it with a new one. Returns the pod as deleted, or None."""
        with self.lock:
            return self.controllers.delete_pod(namespace, name)


def _same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Equal apart from resourceVersion (an unchanged object keeps its version and sends no event)."""
    a = {**left, "metadata": {**left["metadata"], "resourceVersion": None}}
    b = {**right, "metadata": {**right["metadata"], "resourceVersion": None}}
    return a == b


def merge_patch(target: dict[str, Any], patch: dict[str, Any], strategic: bool = False) -> dict[str, Any]:
    """Apply a JSON merge patch (RFC 7386) in place; with ``strategic``, lists of named items merge by name."""
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # strategic-merge directives ($patch, $retainKeys...) are not needed by the demo's callers
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value, strategic)
        elif strategic and isinstance(value, list) and isinstance(target.get(key), list) and _named(value):
            by_name = {item.get("name"): item for item in target[key] if isinstance(item, dict)}
            for item in value:
                if item.get("name") in by_name:
                    merge_patch(by_name[item["name"]], item, strategic)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)
    return target


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def build_clusters(
    path: Path | None = None, rollout_seconds: float = 60.0, now: Any = time.time, sync_seconds: float = 3.0
) -> dict[str, ClusterState]:
    """Every cluster of the description file, by context name (each reads the others as Argo CD destinations)."""
    description = load_description(path)
    defaults = {key: value for key, value in description.items() if key != "clusters"}
    clusters = {
        name: ClusterState(name, spec, defaults, rollout_seconds, now, sync_seconds)
        for name, spec in (description.get("clusters") or {}).items()
    }
    for state in clusters.values():
        state.argocd.peers = clusters.get
    return clusters


__all__ = ["CUSTOM", "ClusterState", "RESOURCES", "build_clusters", "load_description", "merge_patch", "objects"]

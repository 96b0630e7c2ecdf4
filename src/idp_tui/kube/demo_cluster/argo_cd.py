"""A stand-in Argo CD application controller: compares the demo's Applications with "git" (their description),
runs the syncs people request and honours refresh requests, writing what argoproj/argo-cd's controller writes.

What is followed, as read in argoproj/argo-cd (master at 37ee0097cf85, 2026-08-22):

- A sync: ``controller/appcontroller.go`` ``processRequestedAppOperation`` starts a requested ``operation`` with
  ``NewOperationState`` (``controller/sync.go``: phase ``Running``, ``startedAt``) and, once done,
  ``setOperationState`` writes the final state and clears ``operation`` with one JSON patch
  (``{"op":"add","path":"/operation","value":null}``). ``controller/sync.go`` ``SyncAppState`` resolves an
  ambiguous revision (``HEAD``, ``main``) to the commit and, on success, ``controller/state.go``
  ``persistRevisionHistory`` appends ``{revision, deployedAt, id: last id + 1, source, deployStartedAt,
  initiatedBy}`` to ``status.history`` (cut to ``revisionHistoryLimit``, 10 by default). Then the app is refreshed.
- A refresh: ``needRefreshAppStatus`` sees ``argocd.argoproj.io/refresh`` (``normal`` or ``hard``), compares, and
  ``handleRefreshAnnotation``/``removeRefreshAnnotationCombo`` removes it (with the refresh-timestamp annotation,
  guarded by a JSON patch ``test`` of its value).
- Comparing: a managed resource is ``OutOfSync`` when the live object differs from git (here: a ConfigMap's data) or
  is missing (health ``Missing``); the app is ``OutOfSync`` when any resource is. App health is the worst resource
  health in gitops-engine's order (``pkg/health/health.go``: Healthy < Suspended < Progressing < Missing <
  Degraded < Unknown). A Rollout's health is ``resource_customizations/argoproj.io/Rollout/health.lua``, read from
  the live Rollout; ConfigMaps have no health. Resource health is kept in the Application (as with
  ``controller.resource.health.persist: "true"``; Argo CD 3.x keeps it in the app tree by default).

Simplified: the health of Deployments is the story's (the description's), not gitops-engine's
``health_deployment.go`` applied to the live object; hooks, waves, pruning and auto-sync are not modelled.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.state import ClusterState

REFRESH = "argocd.argoproj.io/refresh"
REFRESH_TIMESTAMP = "argocd.argoproj.io/refresh-timestamp"
TRACKING = "argocd.argoproj.io/tracking-id"
HEALTH_ORDER = ("Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown")
FINISHED = ("Succeeded", "Failed", "Error")
HISTORY_LIMIT = 10
# kind -> (group, version, plural, kubectl's resource name)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "ConfigMap": ("", "v1", "configmaps", "configmap"),
    "Deployment": ("apps", "v1", "deployments", "deployment.apps"),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler.autoscaling"),
    "Rollout": ("argoproj.io", "v1alpha1", "rollouts", "rollout.argoproj.io"),
}


@dataclass
class Managed:
    """One resource an application deploys, as git describes it."""

    kind: str
    namespace: str
    name: str
    data: dict[str, str] | None = None  # a ConfigMap's data in git
    health: tuple[str, str] | None = None  # the story's health, for kinds the stand-in does not judge

    @property
    def group(self) -> str:
        return KINDS[self.kind][0]

    def status_entry(self) -> dict[str, Any]:
        """The first fields of a ``status.resources`` entry (Go's ResourceStatus order, group omitted if empty)."""
        group, version, _, _ = KINDS[self.kind]
        entry: dict[str, Any] = {"group": group} if group else {}
        entry.update(version=version, kind=self.kind, namespace=self.namespace, name=self.name)
        return entry

    def result_entry(self, message: str) -> dict[str, Any]:
        """A ``syncResult.resources`` entry (ResourceResult: its group is always written, even empty)."""
        group, version, _, _ = KINDS[self.kind]
        return {
            "group": group,
            "version": version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "status": "Synced",
            "message": message,
            "hookPhase": "Running",
            "syncPhase": "Sync",
        }


@dataclass
class AppGit:
    """What git holds for one application: the commit its target revision points at and what it deploys."""

    name: str
    revision: str
    cluster: str | None  # the context it deploys to; None: this cluster
    resources: list[Managed] = field(default_factory=list)


def worse(left: str, right: str) -> bool:
    """gitops-engine's ``health.IsWorse``."""
    order = {name: index for index, name in enumerate(HEALTH_ORDER)}
    return order.get(right, len(HEALTH_ORDER)) > order.get(left, len(HEALTH_ORDER))


def rollout_health(rollout: dict[str, Any]) -> tuple[str, str]:
    """Argo CD's Rollout health check (``resource_customizations/argoproj.io/Rollout/health.lua``), for
    controllers of v1.0 on, which write ``status.phase``."""
    status = rollout.get("status") or {}
    observed = status.get("observedGeneration")
    generation = (rollout.get("metadata") or {}).get("generation")
    if isinstance(observed, str) and observed.isdigit() and int(observed) < (generation or 0):
        return "Progressing", "Waiting for rollout spec update to be observed"
    phase = status.get("phase")
    if phase:
        return ("Suspended" if phase == "Paused" else phase), status.get("message") or ""
    return "Progressing", "Waiting for rollout to finish: status has not been reconciled."


class ArgoCDController:
    """The Applications of one demo cluster's Argo CD; every method runs with the cluster's lock held.

    Args:
        state: The cluster Argo CD runs on.
        sync_seconds: How long a sync runs before it succeeds.
    """

    def __init__(self, state: ClusterState, sync_seconds: float) -> None:
        self.state = state
        self.sync_seconds = sync_seconds
        self.namespace = "argocd"
        self.git: dict[str, AppGit] = {}
        self.due: dict[str, float] = {}  # apps with a running sync: when it finishes
        self._compared: dict[str, tuple[int, int]] = {}  # app -> (this cluster's, its destination's revision)
        # Another cluster's state by context name (a destination cluster), given by the DemoCluster; read with that
        # cluster's lock taken after this one's, never the other way round.
        self.peers: Callable[[str], ClusterState | None] | None = None

    # -- comparing -----------------------------------------------------------------------------------------------

    def _live(self, git: AppGit, resource: Managed, remote: bool) -> tuple[bool, dict[str, Any] | None]:
        """(known, the live object): a destination cluster that cannot be read now is not known."""
        plural = KINDS[resource.kind][2]
        if git.cluster is None or git.cluster == self.state.name:
            return True, self.state.get(plural, resource.namespace, resource.name)
        peer = self.peers(git.cluster) if remote and self.peers is not None else None
        if peer is None:
            return False, None
        with peer.lock:
            peer.tick()
            return True, peer.get(plural, resource.namespace, resource.name)

    def compare(self, app: dict[str, Any], remote: bool = True) -> dict[str, Any]:
        """The app's ``status.resources``, ``sync`` and ``health`` for the live state now (a copy of ``app``)."""
        app = copy.deepcopy(app)
        git = self.git[app["metadata"]["name"]]
        status = app.setdefault("status", {})
        old = {(r.get("kind"), r.get("namespace"), r.get("name")): r for r in status.get("resources") or []}
        entries, health, images = [], "Healthy", []
        for resource in sorted(git.resources, key=lambda r: (r.group, r.kind, r.namespace, r.name)):
            entry = resource.status_entry()
            known, live = self._live(git, resource, remote)
            previous = old.get((resource.kind, resource.namespace, resource.name)) or {}
            if not known:  # keep what was last seen (or the story's), as Argo CD keeps its cache
                entry["status"] = previous.get("status", "Synced")
                if previous.get("health") or resource.health:
                    entry["health"] = previous.get("health") or _health(*resource.health)  # type: ignore[misc]
            elif live is None:
                entry.update(status="OutOfSync", health={"status": "Missing"})
            else:
                drifted = resource.data is not None and live.get("data") != resource.data
                entry["status"] = "OutOfSync" if drifted else "Synced"
                if resource.kind == "Rollout":
                    entry["health"] = _health(*rollout_health(live))
                elif resource.health is not None:
                    entry["health"] = _health(*resource.health)
                elif resource.kind != "ConfigMap":
                    entry["health"] = {"status": "Healthy"}
                template = (live.get("spec") or {}).get("template") or {}
                images += [c.get("image") for c in (template.get("spec") or {}).get("containers") or []]
            if entry.get("health") and worse(health, entry["health"]["status"]):
                health = entry["health"]["status"]
            entries.append(entry)
        synced = all(entry["status"] == "Synced" for entry in entries)
        spec = app["spec"]
        previous_health = status.get("health") or {}
        since = previous_health.get("lastTransitionTime") if previous_health.get("status") == health else None
        status["resources"] = entries
        status["sync"] = {
            "status": "Synced" if synced else "OutOfSync",
            "comparedTo": {"source": spec["source"], "destination": spec["destination"]},
            "revision": git.revision,
        }
        status["health"] = {"status": health, "lastTransitionTime": since or o.iso(self.state.clock())}
        status["summary"] = {"images": sorted({image for image in images if image})}
        return app

    def refresh(self, app: dict[str, Any], *, requested: bool) -> dict[str, Any]:
        """Compare and store; a requested refresh records ``reconciledAt`` even when nothing changed and drops the
        refresh annotations (``removeRefreshAnnotationCombo``). Returns the stored app."""
        compared = self.compare(app)
        if requested:
            compared["status"]["reconciledAt"] = o.iso(self.state.clock())
            annotations = compared["metadata"].get("annotations") or {}
            for key in (REFRESH, REFRESH_TIMESTAMP):
                annotations.pop(key, None)
            if not annotations:
                compared["metadata"].pop("annotations", None)
        elif _comparison(compared) != _comparison(app):
            compared["status"]["reconciledAt"] = o.iso(self.state.clock())
        else:
            return app
        return self.store(app, compared)

    def store(self, current: dict[str, Any], updated: dict[str, Any]) -> dict[str, Any]:
        """Write an Application as the controller's patches do (no status subresource: any change but metadata's
        counts as a new generation)."""
        if any(updated.get(key) != current.get(key) for key in {*updated, *current} - {"metadata"}):
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        return self.state.put(updated)

    # -- reacting ------------------------------------------------------------------------------------------------

    def changed(self, app: dict[str, Any]) -> None:
        """A person changed an Application (a PATCH): refresh it if asked, start a requested sync."""
        name = app["metadata"]["name"]
        if name not in self.git:
            return
        if (app["metadata"].get("annotations") or {}).get(REFRESH):
            app = self.refresh(app, requested=True)
        operation = app.get("operation")
        state = (app.get("status") or {}).get("operationState") or {}
        if isinstance(operation, dict) and name not in self.due and (not state or state.get("phase") in FINISHED):
            now = self.state.clock()
            updated = copy.deepcopy(app)
            # NewOperationState; gitops-engine's sync context then says its tasks are running.
            updated.setdefault("status", {})["operationState"] = {
                "operation": copy.deepcopy(operation),
                "phase": "Running",
                "message": "one or more tasks are running",
                "startedAt": o.iso(now),
            }
            self.store(app, updated)
            self.due[name] = now + self.sync_seconds

    def tick(self, now: float) -> None:
        """Finish the syncs whose time has come; follow live changes (a Rollout promoted on its cluster)."""
        for name in [name for name, at in self.due.items() if at <= now]:
            del self.due[name]
            app = self.state.get("applications", self.namespace, name)
            if app is not None and app.get("operation"):
                self._finish(app, now)
        for name, git in self.git.items():
            app = self.state.get("applications", self.namespace, name)
            if app is None or name in self.due:
                continue
            # Compare again only when something changed here or on the destination since the last comparison.
            marker = (self.state.revision, self._destination_revision(git))
            if self._compared.get(name) != marker:
                self.refresh(app, requested=False)
                self._compared[name] = (self.state.revision, marker[1])

    def _destination_revision(self, git: AppGit) -> int:
        """Where a remote destination cluster's history stands (its controllers advanced to now)."""
        if git.cluster is None or self.peers is None:
            return 0
        peer = self.peers(git.cluster)
        if peer is None:
            return 0
        with peer.lock:
            peer.tick()
            return peer.revision

    def _finish(self, app: dict[str, Any], now: float) -> None:
        """The sync succeeds: git is applied (drift undone), the operation recorded in history and cleared."""
        git = self.git[app["metadata"]["name"]]
        operation = app["operation"]
        sync = operation.get("sync") or {}
        requested = sync.get("revision")
        revision = requested if isinstance(requested, str) and len(requested) == 40 else git.revision
        results = []
        for resource in git.resources:
            changed = self._apply(git, resource)
            noun = KINDS[resource.kind][3]
            results.append(resource.result_entry(f"{noun}/{resource.name} {'configured' if changed else 'unchanged'}"))
        updated = copy.deepcopy(app)
        status = updated["status"]
        started = (status.get("operationState") or {}).get("startedAt") or o.iso(now)
        source = copy.deepcopy(app["spec"]["source"])
        status["operationState"] = {
            "operation": copy.deepcopy(operation),
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "syncResult": {"resources": results, "revision": revision, "source": source},
            "startedAt": started,
            "finishedAt": o.iso(now),
        }
        updated.pop("operation", None)
        history = status.get("history") or []
        entry = {
            "revision": revision,
            "deployedAt": o.iso(now),
            "id": (history[-1]["id"] + 1) if history else 0,
            "source": source,
            "deployStartedAt": started,
            "initiatedBy": copy.deepcopy(operation.get("initiatedBy") or {}),
        }
        limit = app["spec"].get("revisionHistoryLimit", HISTORY_LIMIT)
        status["history"] = [*history, entry][-max(1, limit) :]
        git.revision = revision
        stored = self.store(app, updated)
        self.refresh(stored, requested=True)

    def _apply(self, git: AppGit, resource: Managed) -> bool:
        """Apply a resource's git state to its cluster; whether anything changed (only ConfigMap data drifts)."""
        if resource.data is None or git.cluster not in (None, self.state.name):
            return False
        live = self.state.get("configmaps", resource.namespace, resource.name)
        if live is not None and live.get("data") == resource.data:
            return False
        updated = copy.deepcopy(live) if live is not None else configmap(resource, git.name, self.state.clock())
        updated["data"] = dict(resource.data)
        self.state.put(updated)
        return True


def configmap(resource: Managed, app: str, created: float) -> dict[str, Any]:
    """A ConfigMap as Argo CD applies it (its tracking annotation says which app owns it)."""
    meta = o.metadata(resource.name, resource.namespace, created)
    meta["annotations"] = {TRACKING: f"{app}:/ConfigMap:{resource.namespace}/{resource.name}"}
    return {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta, "data": dict(resource.data or {})}


def _health(status: str, message: str = "") -> dict[str, str]:
    return {"status": status, "message": message} if message else {"status": status}


def _comparison(app: dict[str, Any]) -> Any:
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    return status.get("resources"), sync.get("status"), sync.get("revision"), health.get("status")

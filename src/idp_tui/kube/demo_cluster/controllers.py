"""Simulated controllers: the Deployment/ReplicaSet, StatefulSet and DaemonSet logic that keeps pods and statuses
moving the way kubectl sees them on a real cluster (surge and unavailability limits, revisions, replacement pods).
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.seed import build_workloads

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.state import ClusterState

WORKLOAD_PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


class Controllers:
    """The controllers of one cluster; every method runs with the cluster's lock held."""

    def __init__(self, state: ClusterState, rollout_seconds: float) -> None:
        self.state = state
        self.rollout_seconds = rollout_seconds
        self.ready_at: dict[tuple[str, str], float] = {}  # pods still starting: (namespace, name) -> ready time
        self.broken: dict[str, str] = {}  # ReplicaSet uid -> why its new pods cannot start ("imagepull")
        self.stuck: set[str] = set()  # Deployment uids past their progress deadline
        self.counter = 0
        self.live = False  # after the initial build, controller actions also post the events a cluster would

    def build(self, workloads: list[dict[str, Any]]) -> None:
        """Create the initial objects from the description's workloads."""
        build_workloads(self, workloads, self.state.clock())
        self.live = True

    def pod_start_seconds(self, deployment: dict[str, Any]) -> float:
        """How long a new pod takes to become ready: a rollout of N replicas lasts about ``rollout_seconds``."""
        return self.rollout_seconds / max(1, deployment["spec"].get("replicas") or 1)

    # -- pods ----------------------------------------------------------------------------------------------------

    def new_pod_name(self, owner: dict[str, Any]) -> str:
        """A fresh generated name ``<owner>-<5 chars>`` (deterministic for a given cluster and sequence)."""
        self.counter += 1
        name = owner["metadata"]["name"]
        return f"{name}-{o.suffix(5, self.state.name, self.state.seed, name, self.counter)}"

    def create_pod(
        self, owner: dict[str, Any], name: str, node: str, now: float, start_seconds: float | None
    ) -> dict[str, Any]:
        """Create a pod from ``owner``'s template: ready at once (``start_seconds`` None) or after a delay."""
        template = owner["spec"]["template"]
        pod = o.pod(name, template, owner, node, now, ready=start_seconds is None)
        pod["metadata"]["uid"] = o.uid(self.state.name, name, now, self.counter)
        reason = self.broken.get(owner["metadata"]["uid"])
        if reason == "imagepull":
            image = template["spec"]["containers"][0]["image"]
            pod["status"]["containerStatuses"][0]["state"] = {
                "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
            }
        elif start_seconds is not None:
            self.ready_at[(owner["metadata"]["namespace"], name)] = now + start_seconds
        stored = self.state.put(pod)
        if self.live:
            message = f"Successfully assigned {owner['metadata']['namespace']}/{name} to {node}"
            self.state.put(o.event(stored, "Normal", "Scheduled", message, now, component="default-scheduler"))
        return stored

    def make_ready(self, pod: dict[str, Any], now: float) -> None:
        """Start a pod's containers (the kubelet's work), then let its owner react."""
        updated = copy.deepcopy(pod)
        containers = updated["spec"]["containers"]
        updated["status"]["containerStatuses"] = [
            o.container_status(c, updated["metadata"]["name"], now) for c in containers
        ]
        o.set_pod_conditions(updated, now)
        stored = self.state.put(updated)
        for container in containers:
            field = f"spec.containers{{{container['name']}}}"
            message = f"Started container {container['name']}"
            self.state.put(o.event(stored, "Normal", "Started", message, now, field_path=field))

    def owner_of(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The controlling owner object (ReplicaSet, StatefulSet, DaemonSet or Deployment), if stored."""
        for ref in obj["metadata"].get("ownerReferences", []):
            plural = {"ReplicaSet": "replicasets", **WORKLOAD_PLURALS}.get(ref["kind"])
            if plural:
                return self.state.get(plural, obj["metadata"].get("namespace", ""), ref["name"])
        return None

    def pods_of(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        """Pods controlled by ``owner``, oldest first."""
        namespace = owner["metadata"]["namespace"]
        pods = [
            pod
            for pod in self.state.children("pods", owner["metadata"]["uid"])
            if pod["metadata"]["namespace"] == namespace
        ]
        return sorted(pods, key=lambda pod: (pod["metadata"]["creationTimestamp"], pod["metadata"]["name"]))

    def delete_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete a pod and let its controller replace it."""
        pod = self.state.get("pods", namespace, name)
        if pod is None:
            return None
        # Graceful deletion as watchers see it: MODIFIED with deletionTimestamp, then DELETED.
        terminating = copy.deepcopy(pod)
        now = self.state.clock()
        terminating["metadata"].update(deletionTimestamp=o.iso(now + 30), deletionGracePeriodSeconds=30)
        self.state.put(terminating)
        for container in pod["spec"]["containers"]:
            message = f"Stopping container {container['name']}"
            field = f"spec.containers{{{container['name']}}}"
            self.state.put(o.event(terminating, "Normal", "Killing", message, now, field_path=field))
        final = self.state.remove("pods", namespace, name)
        self.ready_at.pop((namespace, name), None)
        self.reconcile_owner(pod)
        return final

    def add_pod(self, namespace: str, owner_name: str, ready: bool, name: str | None) -> dict[str, Any]:
        """Add one more pod to a workload (a scale-up by one, so its controller keeps the pod)."""
        workload = self._workload(namespace, owner_name)
        now = self.state.clock()
        if "replicas" in workload["spec"]:
            scaled = copy.deepcopy(workload)
            scaled["spec"]["replicas"] += 1
            scaled["metadata"]["generation"] = scaled["metadata"].get("generation", 1) + 1
            workload = self.state.put(scaled)
        owner = self.current_replicaset(workload, now) if workload["kind"] == "Deployment" else workload
        node = self.state.nodes[self.counter % len(self.state.nodes)]
        if name is None and workload["kind"] == "StatefulSet":
            name = f"{owner_name}-{workload['spec']['replicas'] - 1}"
        pod = self.create_pod(owner, name or self.new_pod_name(owner), node, now, None if ready else 1.0)
        if owner["kind"] == "ReplicaSet":
            self._scaled(workload, owner, +1, now)
        self.refresh_status(owner)
        self.refresh_status(workload)
        return pod

    def _workload(self, namespace: str, name: str) -> dict[str, Any]:
        for plural in WORKLOAD_PLURALS.values():
            found = self.state.get(plural, namespace, name)
            if found is not None:
                return found
        raise KeyError(f"workload {namespace}/{name} not found")

    # -- reconciling ---------------------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Start pods whose time has come and let their owners react."""
        due = [key for key, at in self.ready_at.items() if at <= now]
        for key in sorted(due, key=self.ready_at.__getitem__):
            at = self.ready_at.pop(key)
            pod = self.state.get("pods", *key)
            if pod is not None:
                self.make_ready(pod, at)
                self.reconcile_owner(pod)

    def reconcile_owner(self, obj: dict[str, Any]) -> None:
        """Reconcile the workload that owns ``obj`` (a pod or ReplicaSet)."""
        owner = self.owner_of(obj)
        if owner is not None and owner["kind"] == "ReplicaSet":
            rollout = self.state.rollouts.owner_of(owner)
            if rollout is not None:  # an Argo Rollout's ReplicaSet: its controller takes over
                self.state.rollouts.reconcile(rollout)
                return
            owner = self.owner_of(owner) or owner
        if owner is None:
            return
        if owner["kind"] == "Deployment":
            self.reconcile_deployment(owner)
        elif owner["kind"] in ("StatefulSet", "DaemonSet"):
            self.reconcile_set(owner)

    def reconcile_set(self, owner: dict[str, Any]) -> None:
        """StatefulSets keep ordinal pods ``name-0..N-1``; DaemonSets one pod per node."""
        now = self.state.clock()
        pods = self.pods_of(owner)
        delay = self.rollout_seconds / 6
        if owner["kind"] == "StatefulSet":
            names = {pod["metadata"]["name"] for pod in pods}
            for index in range(owner["spec"].get("replicas", 1)):
                name = f"{owner['metadata']['name']}-{index}"
                if name not in names:
                    self.create_pod(owner, name, self.state.nodes[index % len(self.state.nodes)], now, delay)
        else:
            used = {pod["spec"].get("nodeName") for pod in pods}
            for node in self.state.nodes:
                if node not in used:
                    self.create_pod(owner, self.new_pod_name(owner), node, now, delay)
        self.refresh_status(owner)

    def current_replicaset(self, deployment: dict[str, Any], now: float) -> dict[str, Any]:
        """The ReplicaSet for the deployment's current template, created (next revision) when the template changed."""
        template = copy.deepcopy(deployment["spec"]["template"])
        template["metadata"].get("labels", {}).pop("pod-template-hash", None)
        hash_ = o.template_hash(template)
        name = f"{deployment['metadata']['name']}-{hash_}"
        existing = self.state.get("replicasets", deployment["metadata"]["namespace"], name)
        revisions = [int(rs["metadata"]["annotations"][o.REVISION]) for rs in self.replicasets(deployment)]
        revision = max(revisions, default=0) + 1
        if existing is not None:
            if int(existing["metadata"]["annotations"][o.REVISION]) < revision - 1:
                return self._readopt(deployment, existing, revision)
            return existing
        rs = o.replicaset(deployment, template, hash_, revision, now)
        updated = copy.deepcopy(deployment)
        updated["metadata"].setdefault("annotations", {})[o.REVISION] = str(revision)
        self.state.put(updated)
        return self.state.put(rs)

    def _readopt(self, deployment: dict[str, Any], rs: dict[str, Any], revision: int) -> dict[str, Any]:
        """An old revision's template is current again (``rollout undo``): its ReplicaSet becomes the newest
        revision, and the revision it had is remembered in ``revision-history``, as the controller does."""
        updated = copy.deepcopy(rs)
        annotations = updated["metadata"]["annotations"]
        history = [part for part in annotations.get(o.REVISION_HISTORY, "").split(",") if part]
        annotations[o.REVISION_HISTORY] = ",".join([*history, annotations[o.REVISION]])
        annotations[o.REVISION] = str(revision)
        meta = deployment["metadata"]
        owner = copy.deepcopy(self.state.get("deployments", meta["namespace"], meta["name"]) or deployment)
        owner["metadata"].setdefault("annotations", {})[o.REVISION] = str(revision)
        self.state.put(owner)
        return self.state.put(updated)

    def replicasets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        """ReplicaSets owned by the deployment."""
        namespace = deployment["metadata"]["namespace"]
        owned = self.state.children("replicasets", deployment["metadata"]["uid"])
        return sorted((rs for rs in owned if rs["metadata"]["namespace"] == namespace), key=_name_key)

    def reconcile_deployment(self, deployment: dict[str, Any]) -> None:
        """A RollingUpdate step loop: scale the new ReplicaSet up and old ones down within maxSurge/maxUnavailable."""
        now = self.state.clock()
        namespace = deployment["metadata"]["namespace"]
        desired = deployment["spec"].get("replicas", 1)
        surge = math.ceil(desired * 0.25)
        unavailable = math.floor(desired * 0.25)
        if surge == 0 and unavailable == 0:
            surge = 1
        new_rs = self.current_replicaset(deployment, now)
        deployment = self.state.get("deployments", namespace, deployment["metadata"]["name"]) or deployment
        for _ in range(2 * desired + 4):
            olds = [rs for rs in self.replicasets(deployment) if rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
            new_pods = self.pods_of(new_rs)
            old_pods = [pod for rs in olds for pod in self.pods_of(rs)]
            ready = sum(1 for pod in new_pods + old_pods if _ready(pod))
            victim = None
            if len(new_pods) > desired:
                victim = sorted(new_pods, key=_ready)[0]
            elif old_pods:
                unready_old = [pod for pod in old_pods if not _ready(pod)]
                if unready_old:
                    victim = unready_old[0]
                elif ready > desired - unavailable:
                    victim = old_pods[0]
            if victim is not None:
                self.state.remove("pods", namespace, victim["metadata"]["name"])
                self.ready_at.pop((namespace, victim["metadata"]["name"]), None)
                self._scaled(deployment, self.owner_of(victim) or new_rs, -1, now)
                continue
            room = desired + surge - len(new_pods) - len(old_pods) if old_pods else desired - len(new_pods)
            if len(new_pods) < desired and room > 0:
                node = self.state.nodes[(len(new_pods) + self.counter) % len(self.state.nodes)]
                self.create_pod(new_rs, self.new_pod_name(new_rs), node, now, self.pod_start_seconds(deployment))
                self._scaled(deployment, new_rs, +1, now)
                continue
            break
        for rs in self.replicasets(deployment):
            self.refresh_status(rs)
        self.refresh_status(deployment)

    def _scaled(self, deployment: dict[str, Any], rs: dict[str, Any], step: int, now: float) -> None:
        """Set the ReplicaSet's spec.replicas to its pod count and post the controller's ScalingReplicaSet event."""
        count = len(self.pods_of(rs))
        updated = copy.deepcopy(self.state.get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]))
        if updated is None:
            return
        before = updated["spec"].get("replicas", 0)
        updated["spec"]["replicas"] = count
        self.state.put(updated)
        if before != count:
            verb = "up" if count > before else "down"
            message = f"Scaled {verb} replica set {rs['metadata']['name']} from {before} to {count}"
            self.state.put(
                o.event(deployment, "Normal", "ScalingReplicaSet", message, now, component="deployment-controller")
            )

    def refresh_status(self, owner: dict[str, Any]) -> None:
        """Recompute a workload's status from its pods (what its controller would write)."""
        current = self.state.get(
            WORKLOAD_PLURALS.get(owner["kind"], "replicasets"),
            owner["metadata"]["namespace"],
            owner["metadata"]["name"],
        )
        if current is None:
            return
        updated = copy.deepcopy(current)
        generation = updated["metadata"].get("generation", 1)
        if current["kind"] == "Deployment":
            self._deployment_status(updated)
        else:
            pods = self.pods_of(current)
            ready = sum(1 for pod in pods if _ready(pod))
            status: dict[str, Any] = {"observedGeneration": generation}
            if current["kind"] == "ReplicaSet":
                status.update(
                    replicas=len(pods), fullyLabeledReplicas=len(pods), readyReplicas=ready, availableReplicas=ready
                )
            elif current["kind"] == "StatefulSet":
                revision = f"{current['metadata']['name']}-{o.template_hash(current['spec']['template'])[:10]}"
                status.update(
                    replicas=len(pods), readyReplicas=ready, currentReplicas=len(pods), updatedReplicas=len(pods)
                )
                status.update(
                    currentRevision=revision, updateRevision=revision, collisionCount=0, availableReplicas=ready
                )
            else:
                nodes = len(self.state.nodes)
                status.update(currentNumberScheduled=len(pods), numberMisscheduled=0, desiredNumberScheduled=nodes)
                status.update(numberReady=ready, updatedNumberScheduled=len(pods), numberAvailable=ready)
                if nodes - ready:
                    status["numberUnavailable"] = nodes - ready
            # Zero counts are omitted (omitempty) except the fields the API marks required.
            required = (
                "replicas",
                "observedGeneration",
                "currentNumberScheduled",
                "desiredNumberScheduled",
                "numberMisscheduled",
                "numberReady",
            )
            updated["status"] = {key: value for key, value in status.items() if value or key in required}
        self.state.put(updated)

    def _deployment_status(self, deployment: dict[str, Any]) -> None:
        desired = deployment["spec"].get("replicas", 1)
        template = copy.deepcopy(deployment["spec"]["template"])
        name = f"{deployment['metadata']['name']}-{o.template_hash(template)}"
        pods, updated_pods = [], []
        for rs in self.replicasets(deployment):
            owned = self.pods_of(rs)
            pods += owned
            if rs["metadata"]["name"] == name:
                updated_pods = owned
        ready = sum(1 for pod in pods if _ready(pod))
        status: dict[str, Any] = {"observedGeneration": deployment["metadata"].get("generation", 1)}
        status.update(
            replicas=len(pods), updatedReplicas=len(updated_pods), readyReplicas=ready, availableReplicas=ready
        )
        if desired - ready > 0:
            status["unavailableReplicas"] = desired - ready
        previous = {c["type"]: c for c in deployment.get("status", {}).get("conditions", [])}
        minimum = desired - math.floor(desired * 0.25)
        available = ready >= minimum
        # Like the controller, a finished rollout stays NewReplicaSetAvailable when a pod later crashes; only pods
        # still starting (or a new template) mean it is progressing.
        starting = any((p["metadata"]["namespace"], p["metadata"]["name"]) in self.ready_at for p in pods)
        complete = len(updated_pods) == desired == len(pods) and not starting
        if deployment["metadata"]["uid"] in self.stuck and not complete:
            progressing = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')
        elif complete:
            progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
        else:
            progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        availability = (
            ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
            if available
            else ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        )
        now = o.iso(self.state.clock())
        if not previous:
            # First status of a seeded deployment: its conditions date from its last rollout, not from now.
            now = min(
                (
                    rs["metadata"]["creationTimestamp"]
                    for rs in self.replicasets(deployment)
                    if rs["metadata"]["name"] == name
                ),
                default=now,
            )
        conditions = []
        for kind, (flag, reason, message) in (("Available", availability), ("Progressing", progressing)):
            old = previous.get(kind, {})
            same = old.get("status") == flag and old.get("reason") == reason
            transition = old.get("lastTransitionTime", now) if old.get("status") == flag else now
            update = old.get("lastUpdateTime", now) if same and old.get("message") == message else now
            conditions.append(
                {
                    "type": kind,
                    "status": flag,
                    "lastUpdateTime": update,
                    "lastTransitionTime": transition,
                    "reason": reason,
                    "message": message,
                }
            )
        status["conditions"] = conditions
        deployment["status"] = status


def _name_key(obj: dict[str, Any]) -> str:
    return obj["metadata"]["name"]


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))

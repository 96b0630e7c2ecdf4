"""Churn: pod changes at a steady rate, through the same store every list and watch reads (so every watcher sees
them as a real cluster's watchers would, with resourceVersions increasing).

What a busy fleet does, by weight: rolling updates (a new ReplicaSet; new pods Pending, then Running and Ready, old
ones terminating, then deleted, a quarter of the replicas at a time; the ReplicaSets' and Deployment's status and a
ScalingReplicaSet event every few pods), container restarts (restartCount up, the last termination recorded, a
BackOff event counted up) and evictions (the pod Failed with reason Evicted, a replacement started, the evicted pod
removed later). The rate counts pod events (ADDED, MODIFIED, DELETED of pods); Events are kept to the newest
:data:`EVENTS_KEPT` per cluster, as the API server's event TTL does. Deterministic for a seed.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.state import ClusterState

TICK = 0.02  # seconds between batches: changes land in batches, as an API server's watch cache sends them
EVENTS_KEPT = 2_000
STATUS_EVERY = 10  # pods a rolling update replaces between two status writes
Key = tuple[str, str]


@dataclass
class ChurnStats:
    """What a churn did: pod events by type, and everything else it wrote."""

    added: int = 0
    modified: int = 0
    deleted: int = 0
    other: int = 0
    seconds: float = 0.0

    @property
    def pod_events(self) -> int:
        """Pod watch events (ADDED + MODIFIED + DELETED)."""
        return self.added + self.modified + self.deleted


@dataclass
class _Rollout:
    deployment: Key
    new_rs: dict[str, Any]
    old_pods: deque[Key]
    desired: int
    created: int = 0
    since_status: int = 0
    done: bool = False


@dataclass
class _ClusterChurn:
    """The churn of one cluster (every method runs with the cluster's lock held)."""

    state: ClusterState
    targets: list[Key]  # Deployments to churn
    weights: list[int]
    rng: random.Random
    stats: ChurnStats
    pending: deque[Callable[[], int]] = field(default_factory=deque)
    rolling: dict[Key, _Rollout] = field(default_factory=dict)
    events: deque[Key] = field(default_factory=deque)

    # -- one step: at least one pod event unless nothing can change --------------------------------------------

    def step(self) -> int:
        if self.pending and (self.rng.random() < 0.9 or not self.targets):
            return self.pending.popleft()()
        if not self.targets:
            return 0
        target = self.rng.choices(self.targets, weights=self.weights)[0]
        roll = self.rng.random()
        if roll < 0.5 and target not in self.rolling:
            return self._start_rollout(target)
        pod = self._random_pod(target)
        if pod is None:
            return 0
        return self._restart(pod) if roll < 0.9 else self._evict(pod)

    def _now(self) -> float:
        return self.state.clock()

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        stored = self.state.put(obj)
        if obj.get("kind") == "Pod":
            self.stats.modified += 1
        else:
            self.stats.other += 1
        return stored

    def _current_rs(self, deployment: dict[str, Any]) -> dict[str, Any] | None:
        sets = self.state.children("replicasets", deployment["metadata"]["uid"])
        return max(sets, key=lambda rs: int(rs["metadata"]["annotations"].get(o.REVISION, 0)), default=None)

    def _random_pod(self, target: Key) -> dict[str, Any] | None:
        deployment = self.state.get("deployments", *target)
        rs = deployment and self._current_rs(deployment)
        if not rs:
            return None
        pods = [pod for pod in self.state.children("pods", rs["metadata"]["uid"]) if _running(pod)]
        return self.rng.choice(pods) if pods else None

    # -- pods ----------------------------------------------------------------------------------------------------

    def _new_pod(self, rs: dict[str, Any]) -> Key:
        state = self.state
        state.controllers.counter += 1
        name = f"{rs['metadata']['name']}-{o.suffix(5, state.name, 'churn', state.controllers.counter)}"
        node = state.nodes[self.rng.randrange(len(state.nodes))]
        now = self._now()
        pod = o.pod(name, rs["spec"]["template"], rs, node, now, ready=False)
        pod["metadata"]["uid"] = o.uid(state.name, name, now, state.controllers.counter)
        state.put(pod)
        self.stats.added += 1
        return (pod["metadata"]["namespace"], name)

    def _ready(self, key: Key) -> int:
        pod = self.state.get("pods", *key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return 0
        updated = copy.deepcopy(pod)
        now = self._now()
        updated["status"]["containerStatuses"] = [
            o.container_status(container, key[1], now) for container in updated["spec"]["containers"]
        ]
        o.set_pod_conditions(updated, now)
        self._put(updated)
        return 1

    def _terminate(self, key: Key) -> int:
        pod = self.state.get("pods", *key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return 0
        updated = copy.deepcopy(pod)
        updated["metadata"].update(deletionTimestamp=o.iso(self._now() + 30), deletionGracePeriodSeconds=30)
        self._put(updated)
        return 1

    def _delete(self, key: Key) -> int:
        if self.state.remove("pods", *key) is None:
            return 0
        self.stats.deleted += 1
        return 1

    def _restart(self, pod: dict[str, Any]) -> int:
        updated = copy.deepcopy(pod)
        now = self._now()
        status = updated["status"]["containerStatuses"][0]
        reason, code = ("OOMKilled", 137) if self.rng.random() < 0.3 else ("Error", 1)
        status["lastState"] = {
            "terminated": {
                "exitCode": code,
                "reason": reason,
                "startedAt": status.get("state", {}).get("running", {}).get("startedAt", o.iso(now - 60)),
                "finishedAt": o.iso(now - 1),
                "containerID": status.get("containerID", ""),
            }
        }
        status["restartCount"] = status.get("restartCount", 0) + 1
        status["state"] = {"running": {"startedAt": o.iso(now)}}
        status["containerID"] = f"containerd://{o.digest(pod['metadata']['name'], status['restartCount'], now)}"
        stored = self._put(updated)
        name = status["name"]
        message = f"Back-off restarting failed container {name} in pod {pod['metadata']['name']}"
        self._event(
            stored, "Warning", "BackOff", message, status["restartCount"], field_path=f"spec.containers{{{name}}}"
        )
        return 1

    def _evict(self, pod: dict[str, Any]) -> int:
        updated = copy.deepcopy(pod)
        now = self._now()
        message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 61Mi."
        updated["status"].update(phase="Failed", reason="Evicted", message=message)
        for status in updated["status"]["containerStatuses"]:
            running = status.get("state", {}).get("running", {})
            status.update(ready=False, started=False)
            status["state"] = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "ContainerStatusUnknown",
                    "startedAt": running.get("startedAt", o.iso(now - 60)),
                    "finishedAt": o.iso(now),
                }
            }
        for condition in updated["status"]["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition.update(status="False", lastTransitionTime=o.iso(now))
        stored = self._put(updated)
        self._event(stored, "Warning", "Evicted", message, 1)
        owner = self.state.controllers.owner_of(pod)
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if owner is not None:
            self.pending.append(lambda: self._replace(owner))
        self.pending.append(lambda: self._delete(key))  # the pod garbage collector, a little later
        return 1

    def _replace(self, rs: dict[str, Any]) -> int:
        key = self._new_pod(rs)
        self.pending.append(lambda: self._ready(key))
        return 1

    def _event(self, involved: dict[str, Any], kind: str, reason: str, message: str, count: int, **extra: Any) -> None:
        # Counted up on one Event per object and reason, as the kubelet's event aggregation does.
        created = _seconds(involved["metadata"]["creationTimestamp"])
        event = o.event(involved, kind, reason, message, self._now(), count, first=created, **extra)
        key = (event["metadata"]["namespace"], event["metadata"]["name"])
        if self.state.get("events", *key) is None:
            self.events.append(key)
        self.state.put(event)
        self.stats.other += 1
        while len(self.events) > EVENTS_KEPT:
            self.state.remove("events", *self.events.popleft())
            self.stats.other += 1

    # -- rolling updates -----------------------------------------------------------------------------------------

    def _start_rollout(self, target: Key) -> int:
        state = self.state
        deployment = state.get("deployments", *target)
        if deployment is None:
            return 0
        now = self._now()
        updated = copy.deepcopy(deployment)
        container = updated["spec"]["template"]["spec"]["containers"][0]
        container["image"] = _next_tag(container["image"])
        updated["metadata"]["generation"] = updated["metadata"].get("generation", 1) + 1
        olds = state.children("replicasets", deployment["metadata"]["uid"])
        revision = 1 + max((int(rs["metadata"]["annotations"].get(o.REVISION, 0)) for rs in olds), default=0)
        updated["metadata"].setdefault("annotations", {})[o.REVISION] = str(revision)
        template = copy.deepcopy(updated["spec"]["template"])
        deployment = self._put(updated)
        rs = self._put(o.replicaset(deployment, template, o.template_hash(template), revision, now))
        old_pods = sorted(
            (pod["metadata"]["namespace"], pod["metadata"]["name"])
            for old in olds
            for pod in state.children("pods", old["metadata"]["uid"])
        )
        desired = deployment["spec"].get("replicas", 1)
        rollout = _Rollout(target, rs, deque(old_pods), desired)
        self.rolling[target] = rollout
        for _ in range(max(1, min(25, desired // 4))):  # maxSurge 25%: a quarter of the pods at a time
            self.pending.append(lambda: self._rollout_step(rollout))
        return self._rollout_step(rollout)

    def _rollout_step(self, rollout: _Rollout) -> int:
        if rollout.done:
            return 0
        if rollout.created < rollout.desired:
            rollout.created += 1
            key = self._new_pod(rollout.new_rs)
            self.pending.append(lambda: self._rollout_ready(rollout, key))
            self._progress(rollout)
            return 1
        if rollout.old_pods:
            return self._rollout_retire(rollout)
        self._finish(rollout)
        return 0

    def _rollout_ready(self, rollout: _Rollout, key: Key) -> int:
        events = self._ready(key)
        if rollout.old_pods:
            self.pending.append(lambda: self._rollout_retire(rollout))
        else:
            self.pending.append(lambda: self._rollout_step(rollout))
        return events

    def _rollout_retire(self, rollout: _Rollout) -> int:
        while rollout.old_pods:
            key = rollout.old_pods.popleft()
            if self._terminate(key):
                self.pending.append(lambda retired=key: self._delete(retired))
                self.pending.append(lambda: self._rollout_step(rollout))
                self._progress(rollout)
                return 1
        self.pending.append(lambda: self._rollout_step(rollout))
        return 0

    def _progress(self, rollout: _Rollout) -> None:
        rollout.since_status += 1
        if rollout.since_status >= STATUS_EVERY:
            rollout.since_status = 0
            self._statuses(rollout)

    def _statuses(self, rollout: _Rollout) -> None:
        state = self.state
        deployment = state.get("deployments", *rollout.deployment)
        if deployment is None:
            return
        controllers = state.controllers
        for rs in state.children("replicasets", deployment["metadata"]["uid"]):
            count = sum(1 for pod in state.children("pods", rs["metadata"]["uid"]) if _counted(pod))
            if rs["spec"].get("replicas") != count:
                scaled = copy.deepcopy(rs)
                before, scaled["spec"]["replicas"] = rs["spec"].get("replicas", 0), count
                self._put(scaled)
                verb = "up" if count > before else "down"
                message = f"Scaled {verb} replica set {rs['metadata']['name']} from {before} to {count}"
                self._event(deployment, "Normal", "ScalingReplicaSet", message, 1)
            controllers.refresh_status(rs)
        controllers.refresh_status(deployment)
        self.stats.other += 2

    def _finish(self, rollout: _Rollout) -> None:
        rollout.done = True
        self.rolling.pop(rollout.deployment, None)
        self._statuses(rollout)


def _seconds(timestamp: str) -> float:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _running(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")


def _counted(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") != "Failed" and not pod["metadata"].get("deletionTimestamp")


def _next_tag(image: str) -> str:
    repository, _, tag = image.rpartition(":")
    head, _, last = tag.rpartition(".")
    if last.isdigit():
        return f"{repository}:{head}.{int(last) + 1}" if head else f"{repository}:{int(last) + 1}"
    return f"{image}-1"


class Churn:
    """Emits about ``rate`` pod events per second over ``states`` until :meth:`stop`.

    Args:
        states: The clusters, by name.
        rate: Pod events per second, over every cluster (shared by the pods of the churned services).
        seed: Makes the sequence of changes the same on every run.
        only: Churn only the workloads of this ``backstage.io/kubernetes-id`` (a watched service's worst case).
    """

    def __init__(self, states: dict[str, ClusterState], rate: float, seed: int = 1, only: str | None = None) -> None:
        self.rate = rate
        self.stats = ChurnStats()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._clusters: list[_ClusterChurn] = []
        for index, name in enumerate(sorted(states)):
            state = states[name]
            with state.lock:
                chosen = [
                    (key, deployment["spec"].get("replicas", 1))
                    for key, deployment in sorted(state.objects["deployments"].items())
                    if only is None or (deployment["metadata"].get("labels") or {}).get(o.ID_LABEL) == only
                ]
            if chosen:
                targets, weights = zip(*chosen, strict=True)
                rng = random.Random(f"{seed}/{index}")
                self._clusters.append(_ClusterChurn(state, list(targets), list(weights), rng, self.stats))
        self._weights = [sum(cluster.weights) for cluster in self._clusters]
        self._rng = random.Random(seed)

    def start(self) -> None:
        """Start emitting in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="demo-cluster churn", daemon=True)
        self._thread.start()

    def stop(self) -> ChurnStats:
        """Stop, wait for the thread, and say what was done."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        return self.stats

    def emit(self, count: int) -> int:
        """Make about ``count`` pod events now (in one batch per cluster); returns how many were made."""
        if not self._clusters:
            return 0
        shares = [0] * len(self._clusters)
        for index in self._rng.choices(range(len(self._clusters)), weights=self._weights, k=count):
            shares[index] += 1
        made = 0
        for cluster, share in zip(self._clusters, shares, strict=True):
            if not share:
                continue
            with cluster.state.lock:
                done, tries = 0, 0
                while done < share and tries < 4 * share + 20:  # a step may change nothing (a pod gone meanwhile)
                    done += cluster.step()
                    tries += 1
            made += done
        return made

    def _run(self) -> None:
        started = last = time.monotonic()
        credit = 0.0
        while not self._stopping.wait(TICK):
            now = time.monotonic()
            credit = min(credit + (now - last) * self.rate, self.rate)  # never a burst of more than a second's worth
            last = now
            count = int(credit)
            credit -= count
            if count:
                self.emit(count)
            self.stats.seconds = now - started

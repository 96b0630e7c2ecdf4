"""The demo cluster server: the Kubernetes REST API on 127.0.0.1 for the official client, plus hooks for tests.

Each cluster (kubeconfig context) is served under its own path prefix ``/clusters/<name>`` on one port, so a single
server and a single kubeconfig cover both demo contexts. This module never imports ``kubernetes``: the client is
the thing under test, and the headless commands stay light.
"""

from __future__ import annotations

import copy
import json
import os
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from idp_tui.kube.demo_cluster.handler import ApiError, Handler, not_found
from idp_tui.kube.demo_cluster.state import ClusterState, load_description, merge_patch
from idp_tui.kube.demo_cluster.tls import authority_file, demo_certificate, first_certificate
from idp_tui.local_http import LocalServer

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.churn import Churn, ChurnStats
    from idp_tui.kube.demo_cluster.fleet import FleetSpec

RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
REQUESTS_KEPT = 200_000


@dataclass
class Stream:
    """An open streaming response (a watch or a followed log) that tests can end."""

    kind: str
    closed: threading.Event = field(default_factory=threading.Event)


class DemoCluster:
    """A local, in-memory Kubernetes API server holding the demo clusters.

    Args:
        description: The cluster description file (``demo_catalog/clusters.yaml`` by default).
        rollout_seconds: How long the demo's in-progress rollout takes (each new pod is ready after
            ``rollout_seconds / replicas``); tests pass a small value.
        bookmark_seconds: Idle time after which a watch that allows bookmarks receives a BOOKMARK.
        certificate_dir: Where its TLS certificate is kept (made there on first use); by default
            ``<state dir>/demo-cluster``, next to the kubeconfig ``idp-tui demo cluster`` writes.
        sync_seconds: How long a sync of the demo's stand-in Argo CD runs before it succeeds.
        fleet: Serve a generated fleet (scale mode: :class:`~idp_tui.kube.demo_cluster.fleet.FleetSpec`) instead
            of the description file.
    """

    def __init__(
        self,
        description: Path | None = None,
        rollout_seconds: float = 60.0,
        bookmark_seconds: float = 5.0,
        certificate_dir: Path | None = None,
        sync_seconds: float = 3.0,
        fleet: FleetSpec | None = None,
    ) -> None:
        self.description_path = description
        self.fleet = fleet
        self.certificate_dir = certificate_dir
        self.certificate_pem: bytes | None = None
        self.certificate_authority: Path | None = None
        self.rollout_seconds = rollout_seconds
        self.sync_seconds = sync_seconds
        self.bookmark_seconds = bookmark_seconds
        self.requests: list[dict[str, Any]] = []
        self.failures: dict[str, int | str] = {}
        self.hostile: dict[str, str] = {}
        self.latency: dict[str, float] = {}
        self._healed = threading.Condition()
        self._churn: Churn | None = None
        self.stopping = threading.Event()
        self._description: dict[str, Any] | None = None
        self._clusters: dict[str, ClusterState] = {}
        self._lock = threading.Lock()
        self._streams: list[Stream] = []
        self._server: LocalServer | None = None
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self, tls: tuple[str, str] | None = None) -> str:
        """Serve HTTPS on 127.0.0.1 and a free port in a daemon thread; returns the base URL (``https://127.0.0.1:PORT``).

        Like a real API server, it serves only HTTPS: kubectl and other Go clients refuse to send a bearer token
        over plain HTTP. The kubeconfig from :meth:`write_kubeconfig` trusts the certificate.

        Args:
            tls: ``(certificate file, key file)`` to present; by default the demo's own self-signed certificate
                for 127.0.0.1, made once and kept in ``certificate_dir``.
        """
        if tls is None:
            directory = self.certificate_dir or default_certificate_dir()
            certificate = demo_certificate(directory)
            try:
                self._server = LocalServer(Handler, name="demo-cluster", tls=(str(certificate.path),) * 2, demo=self)
            except ssl.SSLError:  # a kept file that no longer loads (edited, or a key that does not match)
                certificate = demo_certificate(directory, broken=certificate)
                self._server = LocalServer(Handler, name="demo-cluster", tls=(str(certificate.path),) * 2, demo=self)
            self.certificate_pem = certificate.certificate_pem
            self.certificate_authority = authority_file(directory, certificate.certificate_pem)
        else:
            self._server = LocalServer(Handler, name="demo-cluster", tls=tls, demo=self)
            self.certificate_pem = first_certificate(Path(tls[0]).read_bytes())
            if self.certificate_pem:
                directory = self.certificate_dir or default_certificate_dir()
                self.certificate_authority = authority_file(directory, self.certificate_pem)
        self.base_url = self._server.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and end every open stream."""
        self.stopping.set()
        self.stop_churn()
        with self._healed:
            self._healed.notify_all()
        with self._lock:
            for stream in self._streams:
                stream.closed.set()
        for state in list(self._clusters.values()):
            with state.lock:
                state.lock.notify_all()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> DemoCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def contexts(self) -> list[str]:
        """The cluster (context) names, in file order."""
        return list((self._load()["clusters"] or {}).keys())

    def server_url(self, context: str) -> str:
        """The API server URL of one context."""
        return f"{self.base_url}/clusters/{context}"

    def write_kubeconfig(self, path: Path | str, current: str | None = None) -> Path:
        """Write a kubeconfig with one context per demo cluster (bearer token ``demo``); returns its path.

        Each cluster entry trusts the served certificate (``certificate-authority``, a file beside the kept
        certificate), so the Python client, kubectl and k9s all verify TLS; nothing skips verification.
        """
        path = Path(path)
        contexts = self.contexts
        cluster: dict[str, str] = {}
        if self.certificate_authority is not None:
            cluster["certificate-authority"] = str(self.certificate_authority.absolute())
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": name, "cluster": {**cluster, "server": self.server_url(name)}} for name in contexts],
            "users": [{"name": "demo", "user": {"token": "demo"}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": "demo"}} for name in contexts],
            "current-context": current or contexts[0],
        }
        # Whole or not at all: kubectl may read it while a restarted demo rewrites it.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        os.replace(temporary, path)
        return path

    # -- state ---------------------------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self._description is None:
            if self.fleet is not None:
                from idp_tui.kube.demo_cluster.fleet import fleet_description

                self._description = fleet_description(self.fleet)
            else:
                self._description = load_description(self.description_path)
        return self._description

    def build_all(self) -> None:
        """Build every cluster now (a fleet of 20,000 pods takes seconds: before the first request, not during)."""
        for name in self.contexts:
            self.cluster(name)
        if self.fleet is not None:
            import gc

            # A fleet is hundreds of thousands of long-lived dicts: left to the cyclic collector, every full
            # collection would walk them all in the middle of some request. They live as long as the server.
            gc.collect()
            gc.freeze()

    def write_catalog(self, directory: Path | str) -> Path:
        """Write the fleet's catalog (a Component per service, wired to its workloads) as ``catalog-info.yaml`` in
        ``directory``; returns the file. Only in scale mode."""
        from idp_tui.kube.demo_cluster.fleet import fleet_catalog

        if self.fleet is None:
            raise ValueError("only a fleet (scale mode) has a generated catalog; the demo's is demo_catalog/")
        path = Path(directory) / "catalog-info.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Generated by idp-tui demo cluster: {self.fleet.pods:,} pods over {self.fleet.clusters} clusters.\n"
        path.write_text(header + yaml.safe_dump_all(fleet_catalog(self.fleet), sort_keys=False), encoding="utf-8")
        return path

    # -- churn ---------------------------------------------------------------------------------------------------

    def start_churn(self, rate: float, *, only: str | None = None, seed: int | None = None) -> None:
        """Emit about ``rate`` pod events per second (rolling updates, restarts, evictions) until
        :meth:`stop_churn`; ``only`` limits it to one service's workloads (its ``backstage.io/kubernetes-id``)."""
        from idp_tui.kube.demo_cluster.churn import Churn

        self.stop_churn()
        self.build_all()
        states = {name: self._state(name) for name in self.contexts}
        default_seed = self.fleet.seed if self.fleet is not None else 1
        self._churn = Churn(states, rate, seed=default_seed if seed is None else seed, only=only)
        self._churn.start()

    def stop_churn(self) -> ChurnStats | None:
        """Stop the churn; what it did (None when none ran)."""
        churn, self._churn = self._churn, None
        return churn.stop() if churn is not None else None

    def cluster(self, name: str) -> ClusterState | None:
        """One cluster's state, built on first use (so start() stays fast), or None for an unknown name."""
        with self._lock:
            if name not in self._clusters:
                description = self._load()
                spec = (description.get("clusters") or {}).get(name)
                if spec is None:
                    return None
                defaults = {key: value for key, value in description.items() if key != "clusters"}
                state = ClusterState(name, spec, defaults, self.rollout_seconds, sync_seconds=self.sync_seconds)
                # Argo CD reads its destination clusters (never while holding this lock: see ArgoCDController).
                state.argocd.peers = self.cluster
                self._clusters[name] = state
            return self._clusters[name]

    def _state(self, name: str) -> ClusterState:
        state = self.cluster(name)
        if state is None:
            raise KeyError(f"no demo cluster named {name!r}")
        return state

    def record(
        self,
        cluster: str,
        method: str,
        path: str,
        query: dict[str, str],
        body: str | None,
        ctype: Any,
        *,
        connection: int | None = None,
    ) -> None:
        """Remember one request (tests assert on what the client sent, and over which connection: its port)."""
        entry = {
            "cluster": cluster,
            "method": method,
            "path": path,
            "query": query,
            "body": body,
            "content_type": ctype,
            "connection": connection,
        }
        with self._lock:
            self.requests.append(entry)
            if len(self.requests) > REQUESTS_KEPT:  # a demo serving k9s for days keeps the newest only
                del self.requests[: REQUESTS_KEPT // 2]

    # -- test hooks ----------------------------------------------------------------------------------------------

    def fail(self, cluster: str, status: int | str | None) -> None:
        """Make one cluster fail every request: 401, 403 (RBAC Status body), another HTTP code, ``"unreachable"``
        (connections closed without an answer), ``"timeout"`` (no answer for 30 s) or ``"stall"`` (no answer until
        healed, then the usual one); None heals it."""
        with self._healed:
            if status is None:
                self.failures.pop(cluster, None)
            else:
                self.failures[cluster] = status
            self._healed.notify_all()

    def slow(self, cluster: str, seconds: float | None) -> None:
        """Make one cluster wait ``seconds`` before each answer, as a distant API server is a round trip away; None
        makes it quick again."""
        if seconds is None:
            self.latency.pop(cluster, None)
        else:
            self.latency[cluster] = seconds

    def wait_healed(self, cluster: str, timeout: float) -> bool:
        """Wait until ``cluster`` no longer stalls (True) or ``timeout`` passes or the server stops (False)."""
        with self._healed:
            return (
                self._healed.wait_for(lambda: self.failures.get(cluster) != "stall" or self.stopping.is_set(), timeout)
                and not self.stopping.is_set()
            )

    def misbehave(self, cluster: str, mode: str | None) -> None:
        """Make one cluster's lists hostile: ``"repeat-continue"`` (every page names the same next page) or
        ``"endless-pages"`` (one object per page and always another page); None makes it honest again."""
        if mode is None:
            self.hostile.pop(cluster, None)
        else:
            self.hostile[cluster] = mode

    def open_stream(self, kind: str) -> Stream:
        """Register a streaming response."""
        stream = Stream(kind)
        with self._lock:
            self._streams.append(stream)
        if self.stopping.is_set():
            stream.closed.set()
        return stream

    def close_stream(self, stream: Stream) -> None:
        """Forget a finished stream."""
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)

    def streams_serving(self, kind: str | None = None) -> int:
        """How many streams (``watch``, ``log``, or any with None) are being answered now."""
        with self._lock:
            return sum(1 for stream in self._streams if kind in (None, stream.kind))

    def drop_watches(self) -> int:
        """End every open watch stream (as a restarting API server or load balancer would); returns how many."""
        with self._lock:
            watches = [stream for stream in self._streams if stream.kind == "watch"]
        for stream in watches:
            stream.closed.set()
        for state in list(self._clusters.values()):
            with state.lock:
                state.lock.notify_all()
        return len(watches)

    def expire_before(self, resource_version: int | str, cluster: str | None = None) -> None:
        """Compact history: watches and lists from versions older than ``resource_version`` get 410 Gone."""
        for name in [cluster] if cluster else self.contexts:
            self._state(name).expire_before(int(resource_version))

    def add_pod(self, cluster: str, namespace: str, owner: str, *, ready: bool = True, name: str | None = None) -> dict:
        """Add a pod to workload ``owner`` (Deployment, StatefulSet or DaemonSet); emits ADDED to watchers."""
        return copy.deepcopy(self._state(cluster).add_pod(namespace, owner, ready=ready, name=name))

    def set_pod(self, cluster: str, namespace: str, name: str, change: Any) -> dict:
        """Change a pod with a merge-patch dict or a callable editing it in place; emits MODIFIED to watchers."""
        return copy.deepcopy(self._state(cluster).set_pod(namespace, name, change))

    def delete_pod(self, cluster: str, namespace: str, name: str) -> dict | None:
        """Delete a pod (its controller replaces it)."""
        return self._state(cluster).delete_pod(namespace, name)

    def pods(self, cluster: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """A copy of the current pods (for tests that need names)."""
        state = self._state(cluster)
        with state.lock:
            state.tick()
            return copy.deepcopy(state.items("pods", namespace))

    # -- mutations shared by the HTTP handler --------------------------------------------------------------------

    def patch_deployment(self, state: ClusterState, namespace: str, name: str, raw: str, content_type: str) -> dict:
        """Apply a merge, strategic-merge or JSON patch to a deployment; a changed spec starts a rollout."""
        return self.patch_workload(state, "deployments", namespace, name, raw, content_type)

    def patch_workload(
        self, state: ClusterState, plural: str, namespace: str, name: str, raw: str, content_type: str
    ) -> dict:
        """Patch a Deployment, StatefulSet or DaemonSet; its controller then reconciles it."""
        try:
            patch = json.loads(raw)
        except ValueError as error:
            raise ApiError(400, "BadRequest", f"error decoding patch: {error}") from None
        with state.lock:
            state.tick()
            current = state.get(plural, namespace, name)
            if current is None:
                raise not_found(plural, name)
            updated = copy.deepcopy(current)
            if content_type == "application/json-patch+json":
                _json_patch(updated, patch)
            elif isinstance(patch, dict):
                merge_patch(updated, patch, strategic=content_type == "application/strategic-merge-patch+json")
            else:
                raise ApiError(
                    400, "BadRequest", "json: cannot unmarshal array into Go value of type map[string]interface {}"
                )
            replicas = updated["spec"].get("replicas", 0 if plural == "daemonsets" else None)
            if not isinstance(replicas, int) or replicas < 0:
                kind = current.get("kind") or plural
                raise ApiError(422, "Invalid", f'{kind}.apps "{name}" is invalid: spec.replicas: Invalid value')
            if updated["spec"] != current["spec"]:
                updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            state.put(updated)
            if plural == "deployments":
                state.controllers.reconcile_deployment(updated)
            else:
                state.controllers.reconcile_set(updated)
            return copy.deepcopy(state.get(plural, namespace, name))


def _json_patch(target: dict[str, Any], operations: Any) -> None:
    """RFC 6902 add/replace/remove (the operations kubectl and clients send for deployments)."""
    if not isinstance(operations, list):
        raise ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    for operation in operations:
        path = [part.replace("~1", "/").replace("~0", "~") for part in operation.get("path", "").split("/")[1:]]
        parent: Any = target
        for part in path[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = path[-1] if path else ""
        if operation.get("op") in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                parent[index : index + (operation["op"] == "replace")] = [operation["value"]]
            else:
                parent[last] = operation["value"]
        elif operation.get("op") == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            raise ApiError(422, "Invalid", f"unsupported JSON patch operation {operation.get('op')!r}")


def default_certificate_dir() -> Path:
    """``<state dir>/demo-cluster``: the demo cluster's certificate, and the kubeconfig of ``idp-tui demo cluster``."""
    from idp_tui.paths import state_home

    return state_home() / "demo-cluster"


def start_demo_cluster(
    kubeconfig: Path | str,
    rollout_seconds: float = 60.0,
    *,
    fleet: FleetSpec | None = None,
    catalog: Path | str | None = None,
) -> DemoCluster:
    """Start a demo cluster and write its kubeconfig to ``kubeconfig`` (the demo profile's entry point).

    With ``fleet`` it serves that generated fleet instead (built before this returns), and writes the fleet's
    catalog into the ``catalog`` directory when one is given.
    """
    cluster = DemoCluster(rollout_seconds=rollout_seconds, fleet=fleet)
    if fleet is not None:
        cluster.build_all()
        if catalog is not None:
            cluster.write_catalog(catalog)
    cluster.start()
    cluster.write_kubeconfig(kubeconfig)
    return cluster


__all__ = ["RESTART_ANNOTATION", "DemoCluster", "Stream", "default_certificate_dir", "start_demo_cluster"]

"""Reading an entity's workloads from every cluster at once, through the official ``kubernetes`` client.

``kubernetes`` is imported here only when a cluster is first queried (it costs ~240 ms). Every cluster is queried in
its own thread; a cluster that is down, times out or refuses us becomes an error for that cluster alone.
"""

from __future__ import annotations

import json
import os
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import NoClusters, describe_api_error
from .protocols import LogSource, WorkloadSource
from .selection import WorkloadSelector
from .snapshot import KINDS, ClusterSnapshot

if TYPE_CHECKING:
    from .actions import WorkloadAction
    from .logs import LogOptions, LogTail
    from .watch import ClusterWatch, WatchStatus


def kubeconfig_contexts(config_file: str | None = None) -> tuple[list[str], str | None]:
    """The context names in a kubeconfig (``$KUBECONFIG`` or ``~/.kube/config`` by default) and the current one."""
    from kubernetes import config

    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)
    except (config.ConfigException, OSError) as error:
        where = config_file or "$KUBECONFIG or ~/.kube/config"
        raise NoClusters(f"no usable kubeconfig ({where}): {error}") from None
    return [c["name"] for c in contexts], (current or {}).get("name")


class KubeconfigClusters(WorkloadSource, LogSource):
    """The clusters of a kubeconfig, one per context: an entity's workloads (read, watched, acted on) and logs."""

    def __init__(
        self,
        config_file: str | None = None,
        contexts: list[str] | None = None,
        *,
        demo: bool = False,
        timeout: float = 5.0,
    ) -> None:
        self.config_file = config_file
        self.contexts = contexts
        self.demo = demo
        self.timeout = timeout

    def cluster_names(self) -> list[str]:
        """The contexts read: those given, else all (demo), else the current one (the first when none is).

        Raises:
            NoClusters: no kubeconfig, or one that cannot be read.
        """
        if self.contexts:
            return list(self.contexts)
        names, current = kubeconfig_contexts(self.config_file)
        return names if self.demo else [current] if current else names[:1]

    def snapshot(self, selector: WorkloadSelector) -> list[ClusterSnapshot]:
        """Every allowed cluster's workloads for ``selector``, queried concurrently, in cluster order."""
        names = [name for name in self.cluster_names() if selector.allows_cluster(name)]
        if not names:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
            return list(pool.map(lambda name: self._read_cluster(name, selector), names))

    def _read_cluster(self, name: str, selector: WorkloadSelector) -> ClusterSnapshot:
        snapshot = ClusterSnapshot(name, demo=self.demo)
        try:
            client = self.api_client(name)
        except Exception as error:  # noqa: BLE001 - a broken context is that cluster's error, not a crash
            snapshot.error = f"cannot use context {name}: {error}"
            return snapshot
        try:
            what = "pods"
            for kind, (api, noun) in KINDS.items():
                what = f"{noun.replace('_', '')}s"
                # HPAs carry no workload labels; they are matched to workloads by scaleTargetRef later.
                labels = None if kind == "HorizontalPodAutoscaler" else selector.label_selector
                body = self._list(client, api, noun, selector.namespace, labels)
                snapshot.objects[kind] = body.get("items", [])
                snapshot.resource_versions[kind] = body.get("metadata", {}).get("resourceVersion", "")
            what = "events"
            snapshot.events = self._list(client, "CoreV1Api", "event", selector.namespace, None).get("items", [])
        except Exception as error:  # noqa: BLE001 - see describe_api_error: every failure is reported per cluster
            snapshot.error = describe_api_error(error, what)
            snapshot.objects = {}
        finally:
            client.close()
        return snapshot

    def watch(
        self,
        cluster: str,
        selector: WorkloadSelector,
        *,
        on_change: Callable[[ClusterSnapshot], None],
        on_status: Callable[[WatchStatus], None] | None = None,
    ) -> ClusterWatch:
        """Start following one cluster's objects for ``selector``: each kind is listed, then watched (never polled)."""
        from functools import partial

        from .watch import ClusterWatch

        factory = partial(self.api_client, cluster)
        watch = ClusterWatch(factory, cluster, selector, on_change=on_change, on_status=on_status, demo=self.demo)
        watch.start()
        return watch

    def apply(self, action: WorkloadAction, *, read_only: bool = False) -> dict[str, Any]:
        """Send ``action`` to its cluster (see :class:`~idp_tui.kube.actions.WorkloadAction`)."""
        return action.apply(self.api_client(action.cluster), read_only=read_only)

    def tail(
        self, cluster: str, namespace: str | None, label_selector: str, options: LogOptions, lines: queue.Queue
    ) -> LogTail:
        """A tail of ``label_selector``'s pods on one cluster, not started yet."""
        from .logs import LogTail

        return LogTail(self.api_client(cluster), cluster, namespace, label_selector, options, lines)

    def api_client(self, context: str):
        """A client for one cluster; every caller gets clients here, so in-cluster access works everywhere."""
        from kubernetes import config

        return config.new_client_from_config(config_file=self.config_file, context=context)

    def _list(self, client, api: str, noun: str, namespace: str | None, labels: str | None) -> dict[str, Any]:
        """One list call, read as plain JSON (the shape the API sends; no model objects to convert back)."""
        from kubernetes import client as kube

        instance = getattr(kube, api)(api_client=client)
        options: dict[str, Any] = {"_preload_content": False, "_request_timeout": self.timeout}
        if labels:
            options["label_selector"] = labels
        if namespace:
            response = getattr(instance, f"list_namespaced_{noun}")(namespace, **options)
        else:
            response = getattr(instance, f"list_{noun}_for_all_namespaces")(**options)
        return json.loads(response.data)


SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def kubeconfig_clusters(kubeconfig: str | None = None, contexts: list[str] | None = None) -> KubeconfigClusters:
    """The clusters kubectl would read: ``kubeconfig`` (else ``$KUBECONFIG``, else ``~/.kube/config``), optionally
    only ``contexts``.

    With no kubeconfig at all but running inside a pod (``KUBERNETES_SERVICE_HOST`` set), the pod's own cluster is
    read with its service account, as kubectl does.
    """
    kubeconfig = kubeconfig if kubeconfig is not None else os.environ.get("KUBECONFIG") or None
    has_kubeconfig = kubeconfig is not None or (Path.home() / ".kube" / "config").exists()
    if not has_kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return InClusterClusters()
    return KubeconfigClusters(kubeconfig, contexts)


class InClusterClusters(KubeconfigClusters):
    """The cluster idp-tui runs in, reached with the pod's service account (``KUBERNETES_SERVICE_HOST``)."""

    NAME = "in-cluster"

    def __init__(self, token_file: str | None = None, ca_file: str | None = None, *, timeout: float = 5.0) -> None:
        super().__init__(None, [self.NAME], timeout=timeout)
        self.token_file = token_file or f"{SERVICE_ACCOUNT}/token"
        self.ca_file = ca_file or f"{SERVICE_ACCOUNT}/ca.crt"

    def api_client(self, context: str):
        """A client authenticated with the pod's service account token and CA (``context`` is ignored)."""
        from kubernetes import client
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        loader = InClusterConfigLoader(token_filename=self.token_file, cert_filename=self.ca_file, environ=os.environ)
        loader.load_and_set(configuration)
        return client.ApiClient(configuration)

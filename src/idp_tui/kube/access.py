"""Reading an entity's workloads from every cluster at once, through the official ``kubernetes`` client.

``kubernetes`` is imported here only when a cluster is first queried (it costs ~240 ms). Every cluster is queried in
its own thread; a cluster that is down, times out or refuses us becomes an error for that cluster alone.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ClusterError, NoClusters, describe_api_error
from .paging import list_all
from .protocols import LogSource, WorkloadSource
from .rest import list_kind
from .selection import WorkloadSelector
from .snapshot import KINDS, UNLABELLED, ClusterSnapshot

if TYPE_CHECKING:
    from .actions import WorkloadAction
    from .logs import LogOptions, LogTail
    from .watch import ClusterWatch, WatchStatus


# Each kubeconfig context's client configuration, read once and kept until the file changes (see api_client).
_CONFIGURATIONS: dict[tuple[str | None, str], tuple[object, Any]] = {}
_CONFIGURATIONS_LOCK = threading.RLock()  # re-entered: a list client is made from a kept configuration
# Each context's client for the first lists of every watch, kept while the kubeconfig stays the same (list_client).
_LIST_CLIENTS: dict[tuple[str, str | None, str], tuple[object, Any]] = {}


def _kubeconfig_stamp(config_file: str | None) -> object:
    """What changes when the kubeconfig (``config_file``, else ``$KUBECONFIG``'s files, else ~/.kube/config) does."""
    paths = [config_file] if config_file else (os.environ.get("KUBECONFIG") or "~/.kube/config").split(os.pathsep)
    stamps = []
    for path in paths:
        try:
            info = os.stat(os.path.expanduser(path))
        except OSError:
            stamps.append((path, None))
        else:
            stamps.append((path, info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def _kept(table: dict, key: tuple, config_file: str | None, make: Callable[[], Any]) -> Any:
    """``table[key]``, made by ``make()`` the first time and again whenever the kubeconfig has changed since."""
    stamp = _kubeconfig_stamp(config_file)
    with _CONFIGURATIONS_LOCK:
        kept = table.get(key)
        if kept is None or kept[0] != stamp:
            kept = table[key] = (stamp, make())
        return kept[1]


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

    def snapshot(
        self, selector: WorkloadSelector, on_cluster: Callable[[ClusterSnapshot], None] | None = None
    ) -> list[ClusterSnapshot]:
        """Every allowed cluster's workloads for ``selector``, queried concurrently, in cluster order.

        Each cluster is read in its own thread, so a slow or unreachable one delays only itself (up to its
        timeout). ``on_cluster`` is called (from that thread) with each cluster's snapshot as soon as it is read,
        fastest first.
        """
        names = [name for name in self.cluster_names() if selector.allows_cluster(name)]
        if not names:
            return []

        def read(name: str) -> ClusterSnapshot:
            snapshot = self._read_cluster(name, selector)
            if on_cluster is not None:
                on_cluster(snapshot)
            return snapshot

        with ThreadPoolExecutor(max_workers=min(16, len(names)), thread_name_prefix="kube-read") as pool:
            return list(pool.map(read, names))

    def _read_cluster(self, name: str, selector: WorkloadSelector) -> ClusterSnapshot:
        snapshot = ClusterSnapshot(name, demo=self.demo)
        try:
            client = self.api_client(name)
        except Exception as error:  # noqa: BLE001 - a broken context is that cluster's error, not a crash
            snapshot.error = f"cannot use context {name}: {error}"
            return snapshot
        kinds = [*KINDS, "Event"]
        try:
            # Every kind at once (one request each, over the client's connection pool), as the watch does.
            with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix=f"kube-read {name}") as pool:
                bodies = list(pool.map(lambda kind: self._read_kind(client, kind, selector), kinds))
        finally:
            client.close()
        for kind, (body, error) in zip(kinds, bodies, strict=True):
            if error is not None:
                snapshot.error = error
                snapshot.objects = {}
                snapshot.events = []
                return snapshot
            if kind == "Event":
                snapshot.events = body.get("items", [])
            else:
                snapshot.objects[kind] = body.get("items", [])
                snapshot.resource_versions[kind] = body.get("metadata", {}).get("resourceVersion", "")
        return snapshot

    def _read_kind(self, client, kind: str, selector: WorkloadSelector) -> tuple[dict[str, Any], str | None]:
        """One kind's list for ``selector`` (paged), or why it could not be read (one line)."""
        what = KINDS.get(kind, "events")
        # HPAs and Events carry no workload labels: HPAs are matched to workloads by scaleTargetRef later, events
        # by the object they are about. They are still asked for in the entity's namespace only, when it has one.
        labels = None if kind in UNLABELLED else selector.label_selector
        for attempt in range(2):
            try:
                return self._list(client, kind, selector.namespace, labels), None
            except ClusterError as error:
                return {}, str(error)
            except Exception as error:  # noqa: BLE001 - see describe_api_error: every failure is reported per cluster
                if getattr(error, "status", None) == 410 and attempt == 0:
                    continue  # the list's version was compacted between two pages: list again from the start
                return {}, describe_api_error(error, what)
        return {}, f"410 Gone listing {what} twice"  # pragma: no cover - the loop returns on its second attempt

    def watch(
        self,
        cluster: str,
        selector: WorkloadSelector,
        *,
        on_change: Callable[[ClusterSnapshot], None],
        on_status: Callable[[WatchStatus], None] | None = None,
        streams_after: threading.Event | None = None,
        listers: dict[str, tuple[str, Callable[..., Any]]] | None = None,
    ) -> ClusterWatch:
        """Start following one cluster's objects for ``selector``: each kind is listed, then watched (never polled).
        ``listers``: other kinds to follow instead (custom resources; see :class:`~idp_tui.kube.watch.ClusterWatch`)."""
        from .watch import ClusterWatch

        watch = ClusterWatch(
            partial(self.api_client, cluster),
            cluster,
            selector,
            on_change=on_change,
            on_status=on_status,
            demo=self.demo,
            listers=listers,
            list_client=partial(self.list_client, cluster),
            streams_after=streams_after,
        )
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
        """A client for one cluster; every caller gets clients here, so in-cluster access works everywhere.

        The kubeconfig is read once per context (and again when the file changes), not once per client: a watch
        makes a client per kind, and reading the YAML for each was a third of the Deployments view's first read.
        """
        from kubernetes import client, config

        def load() -> Any:
            configuration = client.Configuration()
            config.load_kube_config(config_file=self.config_file, context=context, client_configuration=configuration)
            # The proxy the environment names was resolved while loading. Setting it again keeps it and stops the
            # client resolving it on every request: the kubeconfig's token refresh sets ``host`` before each
            # request, and that read every environment variable again (0.1 ms of a small list's 1.2 ms).
            configuration.proxy = configuration.proxy
            return configuration

        configuration = _kept(_CONFIGURATIONS, (self.config_file, context), self.config_file, load)
        return client.ApiClient(configuration=configuration)

    def list_client(self, context: str):
        """The client every watch on ``context`` makes its first lists with, kept for the process (and made again
        when the kubeconfig changes). Its connections stay open between views: the lists of the next Deployments
        view go over them with no TLS handshake, and a handshake costs more than a small list. Never closed by its
        users; the streams use clients of their own, since each holds its connection."""
        key = (type(self).__name__, self.config_file, context)
        return _kept(_LIST_CLIENTS, key, self.config_file, lambda: self.api_client(context))

    def _list(
        self, client, kind: str, namespace: str | None, labels: str | None, *, fields: str | None = None
    ) -> dict[str, Any]:
        """One list of ``kind``, every page of it (:func:`~idp_tui.kube.paging.list_all`), read as plain JSON (the
        shape the API sends; no model objects to convert back). The selectors go to the server: nothing is
        filtered here."""
        options: dict[str, Any] = {"_request_timeout": self.timeout}
        if labels:
            options["label_selector"] = labels
        if fields:
            options["field_selector"] = fields
        return list_all(partial(list_kind, client, kind, namespace, **options), KINDS.get(kind, "events"))


SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def kubeconfig_clusters(
    kubeconfig: str | None = None, contexts: list[str] | None = None, *, demo: bool = False
) -> KubeconfigClusters:
    """The clusters kubectl would read: ``kubeconfig`` (else ``$KUBECONFIG``, else ``~/.kube/config``), optionally
    only ``contexts``; ``demo``: they are idp-tui's demo cluster (every view says so).

    With no kubeconfig at all but running inside a pod (``KUBERNETES_SERVICE_HOST`` set), the pod's own cluster is
    read with its service account, as kubectl does.
    """
    kubeconfig = kubeconfig if kubeconfig is not None else os.environ.get("KUBECONFIG") or None
    has_kubeconfig = kubeconfig is not None or (Path.home() / ".kube" / "config").exists()
    if not has_kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return InClusterClusters()
    return KubeconfigClusters(kubeconfig, contexts, demo=demo)


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

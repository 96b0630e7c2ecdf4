"""Which clusters a session reads: the demo cluster (started on first use) or the contexts of a kubeconfig."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from .access import InClusterClusters, KubeconfigClusters

DEMO_CONTEXTS = ("demo-eu", "demo-us")


class ClusterAccess:
    """Hands out a :class:`KubeconfigClusters`; in the demo, starts the demo cluster once, on 127.0.0.1.

    The demo cluster speaks the Kubernetes REST API, so everything after this point is the same code that reads a
    real cluster. ``close()`` stops it and removes its temporary kubeconfig.
    """

    def __init__(self, *, demo: bool, kubeconfig: str | None = None, contexts: list[str] | None = None) -> None:
        self.demo = demo
        self.kubeconfig = kubeconfig if kubeconfig is not None else os.environ.get("KUBECONFIG") or None
        self.contexts = contexts
        self._lock = threading.Lock()
        self._cluster = None
        self._folder: tempfile.TemporaryDirectory | None = None

    def clusters(self, contexts: list[str] | None = None) -> KubeconfigClusters:
        """The clusters to read, optionally only ``contexts``.

        With no kubeconfig at all but running inside a pod (``KUBERNETES_SERVICE_HOST`` set), the pod's own
        cluster is read with its service account, as kubectl does.
        """
        wanted = contexts or self.contexts
        if not self.demo:
            if self.in_cluster():
                return InClusterClusters()
            return KubeconfigClusters(self.kubeconfig, wanted)
        return KubeconfigClusters(str(self._demo_kubeconfig()), wanted or list(DEMO_CONTEXTS), demo=True)

    def in_cluster(self) -> bool:
        """No kubeconfig to read, and the environment of a pod."""
        has_kubeconfig = self.kubeconfig is not None or (Path.home() / ".kube" / "config").exists()
        return not has_kubeconfig and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))

    def _demo_kubeconfig(self) -> Path:
        with self._lock:
            if self._cluster is None:
                from .demo_cluster.server import DemoCluster

                self._folder = tempfile.TemporaryDirectory(prefix="idp-tui-demo-kube-")
                cluster = DemoCluster()
                cluster.start()
                cluster.write_kubeconfig(Path(self._folder.name) / "config")
                self._cluster = cluster
            return Path(self._folder.name) / "config"

    @property
    def demo_cluster(self):
        """The running demo cluster (None before first use, or when reading real clusters)."""
        return self._cluster

    def close(self) -> None:
        with self._lock:
            if self._cluster is not None:
                self._cluster.stop()
                self._cluster = None
            if self._folder is not None:
                self._folder.cleanup()
                self._folder = None

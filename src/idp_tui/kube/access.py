"""Reading an entity's workloads from every cluster at once, through the official ``kubernetes`` client.

``kubernetes`` is imported here only when a cluster is first queried (it costs ~240 ms). Every cluster is queried in
its own thread; a cluster that is down, times out or refuses us becomes an error for that cluster alone.
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .selection import WorkloadSelector

# (client API class, the snake_case name in its list methods) for each kind read for an entity.
KINDS: dict[str, tuple[str, str]] = {
    "Deployment": ("AppsV1Api", "deployment"),
    "ReplicaSet": ("AppsV1Api", "replica_set"),
    "StatefulSet": ("AppsV1Api", "stateful_set"),
    "DaemonSet": ("AppsV1Api", "daemon_set"),
    "Pod": ("CoreV1Api", "pod"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "horizontal_pod_autoscaler"),
}


class NoClusters(RuntimeError):
    """No kubeconfig to read, or one with no usable context (said in one line)."""


@dataclass
class ClusterSnapshot:
    """What one cluster holds for an entity: objects by kind (Kubernetes JSON), events, or why it could not tell."""

    name: str
    demo: bool = False
    error: str | None = None
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource_versions: dict[str, str] = field(default_factory=dict)


def kubeconfig_contexts(config_file: str | None = None) -> tuple[list[str], str | None]:
    """The context names in a kubeconfig (``$KUBECONFIG`` or ``~/.kube/config`` by default) and the current one."""
    from kubernetes import config

    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)
    except (config.ConfigException, OSError) as error:
        where = config_file or "$KUBECONFIG or ~/.kube/config"
        raise NoClusters(f"no usable kubeconfig ({where}): {error}") from None
    return [c["name"] for c in contexts], (current or {}).get("name")


def describe_api_error(error: Exception, what: str) -> str:
    """One line for an error from a cluster: the status and the API server's own message, never a token."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError

    if isinstance(error, ApiException):
        message = ""
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(error.body or "{}").get("message", "")
        if error.status == 401:
            return f"401 Unauthorized listing {what}: the cluster did not accept our credentials (missing or expired)"
        if error.status == 403:
            return f"403 Forbidden: {message or f'not allowed to list {what}'}"
        return f"{error.status} {error.reason or ''} listing {what}: {message}".strip()
    if isinstance(error, ReadTimeoutError) or "timed out" in str(error).lower():
        return f"timed out listing {what}"
    if isinstance(error, MaxRetryError | HTTPError | OSError):
        return f"unreachable: {getattr(error, 'reason', None) or error}"
    return f"{type(error).__name__}: {error}"


class KubeconfigClusters:
    """The clusters of a kubeconfig, one per context; implements reading workloads for a selector."""

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


class InClusterClusters(KubeconfigClusters):
    """The cluster idp-tui runs in, reached with the pod's service account (``KUBERNETES_SERVICE_HOST``)."""

    NAME = "in-cluster"

    def __init__(self, token_file: str | None = None, ca_file: str | None = None, *, timeout: float = 5.0) -> None:
        super().__init__(None, [self.NAME], timeout=timeout)
        self.token_file = token_file or f"{SERVICE_ACCOUNT}/token"
        self.ca_file = ca_file or f"{SERVICE_ACCOUNT}/ca.crt"

    def api_client(self, context: str):
        import os

        from kubernetes import client
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        loader = InClusterConfigLoader(token_filename=self.token_file, cert_filename=self.ca_file, environ=os.environ)
        loader.load_and_set(configuration)
        return client.ApiClient(configuration)

"""Argo CD applications and Argo Rollouts through the official ``kubernetes`` client, per kubeconfig context.

Read as the workloads are (:mod:`idp_tui.kube.access`): every cluster in its own thread, plain JSON
(``_preload_content=False``), one cluster's failure that cluster's error; followed with the same list-then-watch
(:class:`~idp_tui.kube.watch.ClusterWatch`, given listers of the custom resources). ``kubernetes`` is imported only when
a cluster is first asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from ...strict_json import loads_strict
from ..errors import ActionFailed, MutationRefused, describe_api_error
from .argocd import ArgoApplication, application_order, parse_application, sort_applications
from .protocols import ClusterApplications, ClusterRollouts, GitOpsSource
from .rollouts import rollout_info
from .selection import APPLICATIONS, GROUP, ROLLOUTS, VERSION, ApplicationSelection

if TYPE_CHECKING:
    from ..access import KubeconfigClusters
    from ..selection import WorkloadSelector
    from ..snapshot import ClusterSnapshot
    from ..watch import ClusterWatch, WatchStatus
    from .protocols import GitOpsAction


def _status(error: BaseException) -> int | None:
    status = getattr(error, "status", None)  # ApiException's HTTP status
    return status if isinstance(status, int) else None


def _list_custom(client: Any, plural: str, namespace: str | None, label_selector: str | None, **options: Any) -> Any:
    """List (or watch, with ``watch=True``) of one argoproj.io resource: the request ``CustomObjectsApi`` sends,
    made through the client's ``ApiClient`` without importing the generated class (see :mod:`idp_tui.kube.rest`)."""
    from ..rest import list_resource

    if label_selector:
        options["label_selector"] = label_selector
    return list_resource(client, f"/apis/{GROUP}/{VERSION}", plural, namespace, **options)


def applications_in(snapshot: ClusterSnapshot, selection: ApplicationSelection) -> tuple[ArgoApplication, ...]:
    """The selection's applications in a watch snapshot, parsed, problems first (as the Deployments view shows)."""
    objects = [obj for obj in snapshot.objects.get("Application", []) if selection.matches(obj)]
    return tuple(sort_applications(parse_application(obj, snapshot.name) for obj in objects))


class KubeconfigGitOps(GitOpsSource):
    """The GitOps custom resources of a kubeconfig's clusters (or the demo cluster's), through the Kubernetes API.

    Args:
        clusters: The session's clusters (the same contexts and credentials as the workloads).
        read_only: Refuse every action before anything is sent.
        timeout: Read timeout of each list, in seconds.
    """

    supports_actions = True

    def __init__(self, clusters: KubeconfigClusters, *, read_only: bool = False, timeout: float = 5.0) -> None:
        self.clusters = clusters
        self.read_only = read_only
        self.timeout = timeout

    @property
    def demo(self) -> bool:  # type: ignore[override]
        """The demo cluster answers (every view and command says so)."""
        return self.clusters.demo

    def cluster_names(self) -> list[str]:
        """The contexts read (see :meth:`KubeconfigClusters.cluster_names`)."""
        return self.clusters.cluster_names()

    def _each(self, names: list[str], read: Callable[[str], Any]) -> list[Any]:
        if not names:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
            return list(pool.map(read, names))

    # -- reading -------------------------------------------------------------------------------------------------

    def applications(self, selection: ApplicationSelection) -> list[ClusterApplications]:
        """Every allowed cluster's applications for ``selection``, read concurrently, in cluster order."""
        names = [name for name in self.cluster_names() if selection.allows_cluster(name)]
        return self._each(names, lambda name: self._applications(name, selection))

    def _applications(self, name: str, selection: ApplicationSelection) -> ClusterApplications:
        try:
            client = self.clusters.api_client(name)
        except Exception as error:  # noqa: BLE001 - a broken context is that cluster's error, not a crash
            return ClusterApplications(name, error=f"cannot use context {name}: {error}")
        try:
            response = _list_custom(
                client,
                APPLICATIONS,
                selection.namespace,
                selection.label_selector,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
            items = loads_strict(response.data).get("items") or []
        except Exception as error:  # noqa: BLE001 - every failure is this cluster's, in one line
            if _status(error) == 404:  # no Application CRD: Argo CD does not run there
                return ClusterApplications(name, installed=False)
            return ClusterApplications(name, error=describe_api_error(error, APPLICATIONS))
        finally:
            client.close()
        pairs = [
            (parse_application(obj, name), obj) for obj in items if isinstance(obj, Mapping) and selection.matches(obj)
        ]
        pairs.sort(key=lambda pair: application_order(pair[0]))
        return ClusterApplications(name, tuple(app for app, _ in pairs), tuple(obj for _, obj in pairs))

    def rollouts(self, selector: WorkloadSelector, *, with_replica_sets: bool = True) -> list[ClusterRollouts]:
        """Every allowed cluster's Rollouts for ``selector`` (with their ReplicaSets and pods unless
        ``with_replica_sets`` is False), in cluster order."""
        names = [name for name in self.cluster_names() if selector.allows_cluster(name)]
        return self._each(names, lambda name: self._rollouts(name, selector, with_replica_sets))

    def _rollouts(self, name: str, selector: WorkloadSelector, with_replica_sets: bool) -> ClusterRollouts:
        from ..rest import RESOURCES, list_kind

        try:
            client = self.clusters.api_client(name)
        except Exception as error:  # noqa: BLE001 - see _applications
            return ClusterRollouts(name, error=f"cannot use context {name}: {error}")
        what = ROLLOUTS
        try:
            options = {"_preload_content": False, "_request_timeout": self.timeout}
            response = _list_custom(client, ROLLOUTS, selector.namespace, selector.label_selector, **options)
            rollouts = [obj for obj in loads_strict(response.data).get("items") or [] if isinstance(obj, Mapping)]
            if not rollouts or not with_replica_sets:
                return ClusterRollouts(name, tuple(rollout_info(obj) for obj in rollouts), tuple(rollouts))
            lists = []
            for kind in ("ReplicaSet", "Pod"):
                what = RESOURCES[kind][1]
                options = {"label_selector": selector.label_selector, **options}
                answer = list_kind(client, kind, selector.namespace, **options)
                lists.append(loads_strict(answer.data).get("items") or [])
        except Exception as error:  # noqa: BLE001 - see _applications
            if what == ROLLOUTS and _status(error) == 404:  # no Rollout CRD: Argo Rollouts is not installed
                return ClusterRollouts(name, installed=False)
            return ClusterRollouts(name, error=describe_api_error(error, what))
        finally:
            client.close()
        replicasets, pods = lists
        infos = [rollout_info(obj, replicasets, pods) for obj in rollouts]
        return ClusterRollouts(name, tuple(infos), tuple(rollouts), tuple(pods))

    def watch(
        self,
        cluster: str,
        *,
        applications: ApplicationSelection | None = None,
        rollouts: WorkloadSelector | None = None,
        on_change: Callable[[ClusterSnapshot], None],
        on_status: Callable[[WatchStatus], None] | None = None,
        streams_after: threading.Event | None = None,
    ) -> ClusterWatch:
        """Follow one cluster's Applications and/or Rollouts: each listed, then watched from that list's version."""
        from ..selection import WorkloadSelector

        listers: dict[str, tuple[str, Callable[..., Any]]] = {}
        if applications is not None:
            call = partial(_list_custom, plural=APPLICATIONS, namespace=applications.namespace)
            listers["Application"] = (APPLICATIONS, partial(call, label_selector=applications.label_selector))
        if rollouts is not None:
            call = partial(_list_custom, plural=ROLLOUTS, namespace=rollouts.namespace)
            listers["Rollout"] = (ROLLOUTS, partial(call, label_selector=rollouts.label_selector))
        if not listers:
            raise ValueError("watch what: applications, rollouts or both")
        selector = rollouts or WorkloadSelector("")  # used only by ClusterWatch's own listers, not these
        return self.clusters.watch(
            cluster, selector, on_change=on_change, on_status=on_status, streams_after=streams_after, listers=listers
        )

    def current(self, cluster: str, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """One Application or Rollout as it is now (GET)."""
        from kubernetes import client as kube

        if plural not in (APPLICATIONS, ROLLOUTS):
            raise ValueError(f"not a GitOps resource: {plural}")
        try:
            client = self.clusters.api_client(cluster)
        except Exception as error:  # noqa: BLE001 - a broken context, said in one line
            raise ActionFailed(f"cannot use context {cluster}: {error}") from error
        try:
            api = kube.CustomObjectsApi(api_client=client)
            response = api.get_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name, _preload_content=False, _request_timeout=self.timeout
            )
            return loads_strict(response.data)
        except Exception as error:  # noqa: BLE001 - one line, naming what could not be read
            text = describe_api_error(error, plural).replace(f"listing {plural}", f"reading {plural}/{name}")
            raise ActionFailed(text) from error
        finally:
            client.close()

    # -- acting --------------------------------------------------------------------------------------------------

    def apply(self, action: GitOpsAction, *, read_only: bool = False) -> dict[str, Any]:
        """Send ``action`` to its cluster (see :class:`GitOpsSource`); refused before any connection when
        read-only."""
        from .actions import client_sender

        if read_only or self.read_only:
            raise MutationRefused(f"read-only mode is on: not running `{action.command}`")
        try:
            client = self.clusters.api_client(action.cluster)
        except Exception as error:  # noqa: BLE001 - a broken context: one line naming the command
            raise ActionFailed(f"`{action.command}` failed: cannot use context {action.cluster}: {error}") from error
        try:
            return action.apply(client_sender(client))
        finally:
            client.close()

"""The GitOps capability: an entity's Argo CD applications and Argo Rollouts, read (listed, then watched) per
cluster, and the actions on them (refresh, sync, promote, abort).

One implementation serves today (:class:`~idp_tui.kube.gitops.access.KubeconfigGitOps`: the custom resources through
the Kubernetes API with the kubeconfig's credentials, against real clusters and the demo cluster alike). What a
backend can do is declared, never probed: ``supports_actions`` (it can send the actions at all) and ``read_only``
(the session forbids changes: :meth:`GitOpsSource.apply` refuses before anything is sent). One cluster's failure is
that cluster's ``error``; a cluster without Argo CD (or Argo Rollouts) installed is ``installed=False``, not an
error, since every context is asked unless ``argocd/instance-name`` says otherwise.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..protocols import Clusters
from .argocd import ArgoApplication
from .rollouts import RolloutInfo

if TYPE_CHECKING:
    from ..selection import WorkloadSelector
    from ..snapshot import ClusterSnapshot
    from ..watch import ClusterWatch, WatchStatus
    from .actions import AbortRollout, PromoteRollout, RefreshApplication, SyncApplication
    from .selection import ApplicationSelection

    GitOpsAction = RefreshApplication | SyncApplication | PromoteRollout | AbortRollout


@dataclass(frozen=True, slots=True)
class ClusterApplications:
    """One cluster's Argo CD applications for an entity (problems first), each with the object as read.

    ``installed`` False: the cluster serves no Argo CD Application API (nothing to show, not an error).
    """

    cluster: str
    applications: tuple[ArgoApplication, ...] = ()
    objects: tuple[Mapping[str, Any], ...] = ()  # the Application objects, in the order of ``applications``
    error: str | None = None
    installed: bool = True


@dataclass(frozen=True, slots=True)
class ClusterRollouts:
    """One cluster's Argo Rollouts for an entity, with their ReplicaSets and pods as read (``pods`` empty and
    each info without ReplicaSets when they were not asked for)."""

    cluster: str
    rollouts: tuple[RolloutInfo, ...] = ()
    objects: tuple[Mapping[str, Any], ...] = ()  # the Rollout objects, in the order of ``rollouts``
    pods: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None
    installed: bool = True


class GitOpsSource(Clusters, Protocol):
    """Where an entity's Argo CD applications and Argo Rollouts are read, followed and acted on."""

    #: The backend can send refresh, sync, promote and abort (check before offering them).
    supports_actions: bool
    #: The session forbids changes: :meth:`apply` refuses (``MutationRefused``) before anything is sent.
    read_only: bool

    @abstractmethod
    def applications(self, selection: ApplicationSelection) -> list[ClusterApplications]:
        """The applications ``selection`` picks on every cluster it allows, read once (clusters in order)."""

    @abstractmethod
    def rollouts(self, selector: WorkloadSelector, *, with_replica_sets: bool = True) -> list[ClusterRollouts]:
        """The Rollouts labelled as ``selector`` says on every cluster it allows, with their ReplicaSets and pods
        (not read when ``with_replica_sets`` is False: the caller holds them, or needs only the Rollouts)."""

    @abstractmethod
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
        """Follow one cluster's Applications and/or Rollouts (list, then watch; never polled). Snapshots hold the
        objects under ``"Application"`` and ``"Rollout"``; :func:`~idp_tui.kube.gitops.access.applications_in`
        keeps the selection's applications. ``stop()`` ends it. ``streams_after``: as for the workloads' watch."""

    @abstractmethod
    def current(self, cluster: str, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """One Application or Rollout (``plural``: ``applications``, ``rollouts``) as it is now.

        Raises:
            ActionFailed: it cannot be read (one line: the status and the API server's message).
        """

    @abstractmethod
    def apply(self, action: GitOpsAction, *, read_only: bool = False) -> dict[str, Any]:
        """Send ``action`` to its cluster with the kubeconfig's credentials, byte for byte as Argo's tools do.

        Raises:
            MutationRefused: ``read_only`` (or the source's) is on; nothing was sent.
            ActionFailed: Argo CD would refuse it, or the cluster refused or could not be reached (one line).
        """

"""The cluster capabilities: an entity's workloads (read, watched, acted on) and its pods' logs.

One implementation serves both today (a kubeconfig's contexts, in-cluster access, or the demo cluster, which speaks
the same API), so everything here runs the same code against the demo and against real clusters. Neither protocol
has optional parts; ``demo`` is a plain value the session gives, so every view and command can say so. Failures are
the :class:`~idp_tui.kube.errors.ClusterError` family; one cluster's failure is that cluster's error, not a raise.
"""

from __future__ import annotations

import queue
import threading
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .actions import WorkloadAction
    from .logs import LogOptions, LogTail
    from .selection import WorkloadSelector
    from .snapshot import ClusterSnapshot
    from .watch import ClusterWatch, WatchStatus


class Clusters(Protocol):
    """The clusters a capability reads, one per kubeconfig context."""

    #: The demo cluster answers (set by the session): every view and command says so.
    demo: bool

    @abstractmethod
    def cluster_names(self) -> list[str]:
        """The clusters (contexts) read, in order.

        Raises:
            NoClusters: no kubeconfig, or none with a usable context.
        """


class WorkloadSource(Clusters, Protocol):
    """The clusters an entity's workloads are read from, watched on and acted on."""

    @abstractmethod
    def snapshot(
        self, selector: WorkloadSelector, on_cluster: Callable[[ClusterSnapshot], None] | None = None
    ) -> list[ClusterSnapshot]:
        """Every allowed cluster's workloads, pods, autoscalers and events for ``selector``, read once, in cluster
        order. Clusters are read concurrently: a slow one delays only itself, and ``on_cluster`` (called from a
        background thread) gets each cluster's snapshot as soon as it is read."""

    @abstractmethod
    def watch(
        self,
        cluster: str,
        selector: WorkloadSelector,
        *,
        on_change: Callable[[ClusterSnapshot], None],
        on_status: Callable[[WatchStatus], None] | None = None,
        streams_after: threading.Event | None = None,
    ) -> ClusterWatch:
        """Start following one cluster's objects for ``selector`` (list, then watch); ``stop()`` ends it.
        ``streams_after``: the streams open once it is set (see :class:`~idp_tui.kube.watch.ClusterWatch`)."""

    @abstractmethod
    def apply(self, action: WorkloadAction, *, read_only: bool = False) -> dict[str, Any]:
        """Send ``action`` (restart, scale, delete pod) to its cluster, byte for byte as kubectl does.

        Raises:
            MutationRefused: ``read_only``; nothing was sent.
            ActionFailed: the cluster refused or could not be reached (one line naming the kubectl command).
        """


class LogSource(Clusters, Protocol):
    """The clusters an entity's pods are tailed on."""

    @abstractmethod
    def tail(
        self, cluster: str, namespace: str | None, label_selector: str, options: LogOptions, lines: queue.Queue
    ) -> LogTail:
        """A tail (not started: ``start()``, then ``stop()``) of every pod matching ``label_selector`` on one
        cluster; its lines go into ``lines``, shared by the tails of several clusters so they interleave."""

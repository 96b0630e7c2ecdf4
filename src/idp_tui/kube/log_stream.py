"""One log stream for an entity's pods on several clusters: tails started, lines batched, back-pressure, clean stop.

``idp-tui logs`` and the Logs screen both read logs through :class:`LogStream`. It starts a :class:`LogTail` per
cluster (their lines meet in one bounded queue, so they interleave as they arrive) and hands the lines on in
batches: at most ``batch_lines`` lines or ``batch_seconds`` of waiting, never one message per line (that caps a
terminal UI near 700 lines a second). When the consumer falls behind, the stream stops taking lines from the queue;
once the queue is full the tails stop reading their sockets, so the containers' output waits in the cluster, not in
memory. What is held is bounded: ``queue_lines`` lines, one line per stream waiting to be queued, and
``unabsorbed + 1`` batches. :meth:`LogStream.stop` shuts the sockets down and waits for every thread it started.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import describe_api_error
from .logs import LogLine, LogOptions, LogTail

if TYPE_CHECKING:
    from .protocols import LogSource
    from .report import PodReport, WorkloadReport
    from .selection import WorkloadSelector

# Lines read from the clusters but not yet batched; beyond this the streams wait (back-pressure).
QUEUE_LINES = 10_000
# A batch ends at this many lines or after this long, whichever comes first.
BATCH_LINES = 1_000
BATCH_SECONDS = 0.05
# Batches handed on but not yet absorbed (shown) beyond this mean the consumer is behind: no new batch until it
# catches up.
UNABSORBED_BATCHES = 4
# How long stop() waits for the threads, whose sockets it has shut down, to end.
STOP_SECONDS = 2.0

LogItem = LogLine | str
"""A line, or a ``str`` saying why a cluster or a container could not be read."""


@dataclass(frozen=True, slots=True)
class LogTarget:
    """Whose logs to tail: the pods a label selector matches, in one namespace (or all), on some clusters.

    Attributes:
        label_selector: The entity's label selector, e.g. ``backstage.io/kubernetes-id=cart-service``.
        namespace: Only pods of this namespace; None for every namespace.
        clusters: Only these clusters (kubeconfig contexts); None for every cluster the source reads.
        pods_named: Only one pod (its name) or one workload's pods (their names start with ``NAME-``).
    """

    label_selector: str
    namespace: str | None = None
    clusters: tuple[str, ...] | None = None
    pods_named: str | None = None

    @classmethod
    def of(
        cls,
        selector: WorkloadSelector,
        cluster: str | None = None,
        workload: WorkloadReport | None = None,
        pod: PodReport | None = None,
    ) -> LogTarget:
        """The logs of an entity (``selector``), narrowed to one cluster, one workload or one pod of its report."""
        return cls(
            label_selector=selector.label_selector,
            namespace=workload.namespace if workload is not None else selector.namespace,
            clusters=(cluster,) if cluster is not None else selector.clusters,
            pods_named=pod.name if pod is not None else workload.name if workload is not None else None,
        )

    def allows_cluster(self, name: str) -> bool:
        """Whether the cluster (kubeconfig context) ``name`` is tailed."""
        return self.clusters is None or name in self.clusters

    def wants(self, item: LogItem) -> bool:
        """Whether a line is of the pods asked for; what went wrong (a ``str``) is always shown."""
        if self.pods_named is None or isinstance(item, str):
            return True
        return item.pod == self.pods_named or item.pod.startswith(self.pods_named + "-")


def tailed_clusters(source: LogSource, target: LogTarget) -> list[str]:
    """The clusters of ``source`` that ``target`` allows, in the source's order.

    Raises:
        NoClusters: the source has no usable cluster (no kubeconfig, or none with a usable context).
    """
    return [name for name in source.cluster_names() if target.allows_cluster(name)]


class LogStream:
    """The merged, batched logs of :class:`LogTarget`'s pods on every cluster it allows.

    Call :meth:`start`, read :meth:`batches` in one thread, and :meth:`stop` (from any thread) when done.

    Args:
        source: The clusters to tail on.
        target: Whose logs.
        options: Follow, tail, since, previous, container and include/exclude filters.
        clusters: The clusters to tail, when the caller already asked :func:`tailed_clusters`.
        queue_lines: Lines held between the tails and the batches (the streams wait beyond it).
        batch_lines: The most lines in one batch.
        batch_seconds: The longest a batch waits for more lines once started.
        unabsorbed: Batches handed on (``handed_on=True``) and not yet absorbed beyond which no new batch is made.

    Raises:
        NoClusters: ``clusters`` was not given and the source has no usable cluster.
    """

    def __init__(
        self,
        source: LogSource,
        target: LogTarget,
        options: LogOptions,
        *,
        clusters: list[str] | None = None,
        queue_lines: int = QUEUE_LINES,
        batch_lines: int = BATCH_LINES,
        batch_seconds: float = BATCH_SECONDS,
        unabsorbed: int = UNABSORBED_BATCHES,
    ) -> None:
        self.source = source
        self.target = target
        self.options = options
        self.clusters = list(clusters) if clusters is not None else tailed_clusters(source, target)
        self.lines: queue.Queue[LogItem] = queue.Queue(maxsize=queue_lines)
        self.batch_lines = batch_lines
        self.batch_seconds = batch_seconds
        self.unabsorbed = unabsorbed
        self.tails: list[LogTail] = []
        #: The clusters whose pods could not be listed; said in the first batch.
        self.failed: list[str] = []
        # Kept apart from the bounded queue: start() must never wait for a consumer that has not begun reading.
        self._said: collections.deque[str] = collections.deque()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Counted by hand rather than read from the consumer's queue: a message a thread posts to Textual reaches
        # its queue only once the event loop runs, so a flooded loop would look idle.
        self._handed = 0  # written only by the thread reading batches()
        self._absorbed = 0  # written only by the consumer (absorbed()), or by batches() for a direct consumer

    def start(self) -> LogStream:
        """List the pods on every cluster and start a stream per container; returns the stream itself.

        A cluster that cannot be listed (unreachable, 401, 403...) is a line of the first batch,
        ``"CLUSTER: why"``, and is counted in :attr:`failed`; the other clusters are tailed all the same.
        """
        for name in self.clusters:
            if self._stopping.is_set():
                break
            try:
                tail = self.source.tail(
                    name, self.target.namespace, self.target.label_selector, self.options, self.lines
                )
                with self._lock:
                    if self._stopping.is_set():
                        break
                    self.tails.append(tail)  # before it starts: stop() must reach every thread it may start
                tail.start()
            except Exception as problem:  # noqa: BLE001 - one unreachable cluster must not stop the others
                self.failed.append(name)
                self._said.append(f"{name}: {describe_api_error(problem, 'pods')}")
        return self

    def batches(self, *, until: Callable[[], bool] | None = None, handed_on: bool = False) -> Iterator[list[LogItem]]:
        """The lines, in the order they arrived, in batches; blocks between them.

        Args:
            until: Checked between batches (at least every ``batch_seconds``): the batches end once it returns
                True. Without it they end when every stream has ended and every line was handed on (never, while
                following); with it, streams that end do not end the batches (pods that join are still shown).
            handed_on: The consumer passes each batch on (posts it to a UI thread) and calls :meth:`absorbed` once
                it has been shown. Otherwise a batch counts as absorbed when the next one is asked for.
        """
        while not self._finished(until):
            self._wait_for_consumer(until)
            batch: list[LogItem] = []
            while self._said:
                batch.append(self._said.popleft())
            deadline = time.monotonic() + self.batch_seconds
            while len(batch) < self.batch_lines and (remaining := deadline - time.monotonic()) > 0:
                try:
                    item = self.lines.get(timeout=remaining)
                except queue.Empty:
                    break
                if self.target.wants(item):
                    batch.append(item)
            if batch:
                self._handed += 1
                yield batch
                if not handed_on:
                    self._absorbed += 1
            elif until is None and self.done() and self.lines.empty():
                return

    def absorbed(self) -> None:
        """One more batch handed on (``batches(handed_on=True)``) has been shown; call it from any thread."""
        self._absorbed += 1

    def _finished(self, until: Callable[[], bool] | None) -> bool:
        return self._stopping.is_set() or (until is not None and until())

    def _wait_for_consumer(self, until: Callable[[], bool] | None) -> None:
        # Not draining the queue while the consumer is behind is the back-pressure: once the queue is full, the
        # tails stop reading their sockets.
        while self._handed - self._absorbed > self.unabsorbed and not self._finished(until):
            time.sleep(self.batch_seconds)

    def done(self) -> bool:
        """Every stream has ended (never, while following)."""
        return all(tail.done() for tail in self.tails)

    def alive(self) -> bool:
        """Whether any thread of the stream (a container's stream, a watch for new pods) is still running."""
        return any(tail.alive() for tail in self.tails)

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """End every stream now (their sockets are shut down) and wait up to ``timeout`` for all their threads.

        Safe to call more than once, and from any thread; :meth:`batches` ends at its next check.

        Returns:
            Whether every thread has ended.
        """
        self._stopping.set()
        with self._lock:
            tails = list(self.tails)
        for tail in tails:
            tail.interrupt()
        deadline = time.monotonic() + timeout
        ended = [tail.join(max(0.0, deadline - time.monotonic())) for tail in tails]
        return all(ended)

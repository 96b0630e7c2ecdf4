"""Tailing every pod of an entity at once, the way stern does: one stream per pod and container, merged.

Each container's log is read in its own thread through the official client (``follow``, ``tailLines``,
``sinceSeconds``, ``timestamps``, ``previous``); lines go into one queue with their pod and container, so the
reader sees them interleaved as they arrive. With ``follow``, a pod watch (from the list's resourceVersion) joins
pods that appear during a rollout.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import describe_api_error

# Listing the pods to tail: (connect, read) seconds. Without it an unreachable API server holds the command for
# the system's TCP timeout (minutes); the log streams themselves have none, as following is meant to last.
LIST_TIMEOUT = (5, 30)


@dataclass(frozen=True)
class LogLine:
    """One line of one container of one pod, on one cluster."""

    cluster: str
    pod: str
    container: str
    text: str

    @property
    def source(self) -> str:
        return f"{self.pod}/{self.container}"


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail: int | None = None
    since_seconds: int | None = None
    timestamps: bool = False
    previous: bool = False
    container: str | None = None
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None

    def wants(self, text: str) -> bool:
        """The include and exclude regular expressions, as stern's ``--include``/``--exclude``."""
        if self.include is not None and not self.include.search(text):
            return False
        return not (self.exclude is not None and self.exclude.search(text))


def parse_duration(text: str) -> int:
    """``30s``, ``5m``, ``2h``, ``1h30m`` -> seconds (stern's and kubectl's ``--since``)."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text.strip())
    if not text.strip() or parts is None:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 5m, 2h or 1h30m")
    hours, minutes, seconds = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


class LogTail:
    """Streams the logs of the pods matching a label selector in one cluster; ``stop()`` ends every stream."""

    def __init__(
        self,
        api_client: Any,
        cluster: str,
        namespace: str | None,
        selector: str,
        options: LogOptions,
        lines: queue.Queue | None = None,
    ) -> None:
        """``lines``: a queue shared by the tails of several clusters, so their lines interleave as they arrive."""
        self.api_client = api_client
        self.cluster = cluster
        self.namespace = namespace
        self.selector = selector
        self.options = options
        self.lines: queue.Queue[LogLine | str] = lines if lines is not None else queue.Queue(maxsize=10_000)
        self.stopping = threading.Event()
        self._started: set[tuple[str, str, str]] = set()
        self._responses: list[Any] = []
        self._streams: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """List the matching pods and start a stream per container.

        Raises:
            Exception: whatever the client raises when the cluster cannot be listed (unreachable, 401, 403...):
                the caller says it per cluster with :func:`describe_api_error`.
        """
        from kubernetes import client

        core = client.CoreV1Api(api_client=self.api_client)
        if self.namespace:
            listing = core.list_namespaced_pod(
                self.namespace, label_selector=self.selector, _request_timeout=LIST_TIMEOUT
            )
        else:
            listing = core.list_pod_for_all_namespaces(label_selector=self.selector, _request_timeout=LIST_TIMEOUT)
        for pod in listing.items:
            self._start_pod(pod)
        if self.options.follow:
            threading.Thread(
                target=self._watch_new_pods, args=(listing.metadata.resource_version,), daemon=True
            ).start()

    def _start_pod(self, pod: Any) -> None:
        names = [c.name for c in pod.spec.containers]
        if self.options.container:
            names = [name for name in names if re.fullmatch(self.options.container, name)]
        for container in names:
            key = (pod.metadata.namespace, pod.metadata.name, container)
            with self._lock:
                if key in self._started:
                    continue
                self._started.add(key)
            stream = threading.Thread(target=self._stream, args=key, name=f"idp-log {key[1]}/{container}", daemon=True)
            self._streams.append(stream)
            stream.start()

    def _stream(self, namespace: str, pod: str, container: str) -> None:
        from kubernetes import client

        core = client.CoreV1Api(api_client=self.api_client)
        options = self.options
        try:
            response = core.read_namespaced_pod_log(
                pod,
                namespace,
                container=container,
                follow=options.follow,
                tail_lines=options.tail,
                since_seconds=options.since_seconds,
                timestamps=options.timestamps,
                previous=options.previous,
                _preload_content=False,
            )
            self._responses.append(response)
            pending = b""
            for chunk in response.stream(4096):
                if self.stopping.is_set():
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    self._emit(pod, container, raw.decode("utf-8", errors="replace"))
            if pending and not self.stopping.is_set():
                self._emit(pod, container, pending.decode("utf-8", errors="replace"))
        except Exception as error:  # noqa: BLE001 - one pod's failure is a line in the stream, not the end of it
            if not self.stopping.is_set():
                self.lines.put(f"{self.cluster} {pod}/{container}: {describe_api_error(error, 'logs')}")

    def _emit(self, pod: str, container: str, text: str) -> None:
        if self.options.wants(text):
            self.lines.put(LogLine(self.cluster, pod, container, text))

    def _watch_new_pods(self, resource_version: str) -> None:
        from kubernetes import client, watch

        core = client.CoreV1Api(api_client=self.api_client)
        watcher = watch.Watch()
        kwargs: dict[str, Any] = {"label_selector": self.selector, "resource_version": resource_version}
        method = core.list_namespaced_pod if self.namespace else core.list_pod_for_all_namespaces
        args = (self.namespace,) if self.namespace else ()
        while not self.stopping.is_set():
            try:
                for event in watcher.stream(method, *args, timeout_seconds=30, **kwargs):
                    if self.stopping.is_set():
                        break
                    pod = event["object"]
                    kwargs["resource_version"] = pod.metadata.resource_version
                    if event["type"] in ("ADDED", "MODIFIED") and pod.status.phase in ("Running", "Succeeded"):
                        self._start_pod(pod)
            except Exception:  # noqa: BLE001 - a dropped or expired watch is re-listed below
                kwargs.pop("resource_version", None)
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()
        for response in self._responses:
            with contextlib.suppress(Exception):  # a stream that already ended
                response.close()

    def done(self) -> bool:
        """Every stream has ended (never, while following)."""
        return not any(stream.is_alive() for stream in self._streams)


def merged(tails: list[LogTail], lines: queue.Queue) -> Iterator[LogLine | str]:
    """The lines of several tails sharing ``lines``, until every stream ended (or forever when following)."""
    while True:
        try:
            yield lines.get(timeout=0.2)
        except queue.Empty:
            if all(tail.done() for tail in tails) and lines.empty():
                return

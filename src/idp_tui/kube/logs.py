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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..strict_json import loads_strict
from .errors import describe_api_error

# Listing the pods to tail: (connect, read) seconds. Without it an unreachable API server holds the command for
# the system's TCP timeout (minutes); the log streams themselves have none, as following is meant to last (the
# client takes no connect-only timeout): stop() shuts their sockets down.
LIST_TIMEOUT = (5, 30)
# The watch for new pods asks the API server to end each request after this many seconds, then watches again.
WATCH_SECONDS = 30
# A stream waiting on a full queue looks this often whether stop() was called.
_PUT_WAIT = 0.1


@dataclass(frozen=True)
class LogLine:
    """One line of one container of one pod, on one cluster."""

    cluster: str
    pod: str
    container: str
    text: str

    @property
    def source(self) -> str:
        """Where the line came from on its cluster: ``pod/container``."""
        return f"{self.pod}/{self.container}"


@dataclass(frozen=True)
class LogOptions:
    """What to tail, as kubectl's and stern's flags say it.

    Attributes:
        follow: keep streaming, and start on pods that appear (``-f``).
        tail: lines of each container's past log to show first; ``None`` for all (``--tail``).
        since_seconds: only lines newer than this (``--since``).
        timestamps: prefix each line with its RFC 3339 time (``--timestamps``).
        previous: the log of each container's previous instance (``--previous``).
        container: a regular expression container names must match in full; ``None`` for all.
        include: only lines this matches (``--include``).
        exclude: no lines this matches (``--exclude``).
    """

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
    """Streams the logs of the pods matching a label selector in one cluster; ``stop()`` ends every stream.

    Each container is read in its own thread, and with ``follow`` one more thread watches for pods that appear.
    A full ``lines`` queue makes the streams wait (the reader's back-pressure), but never past :meth:`stop`.
    """

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
        self._responses: set[Any] = set()
        self._streams: list[threading.Thread] = []
        self._threads: list[threading.Thread] = []  # the streams and the watch for new pods
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
            self._start_pod(pod.metadata.namespace, pod.metadata.name, [c.name for c in pod.spec.containers])
        if self.options.follow:
            watch = threading.Thread(
                target=self._watch_new_pods,
                args=(listing.metadata.resource_version,),
                name=f"idp-log-watch {self.cluster}",
                daemon=True,
            )
            self._spawn(watch)

    def _spawn(self, thread: threading.Thread, stream: bool = False) -> bool:
        # Started under the lock that stop() takes to list the threads: it joins every thread that ever starts.
        with self._lock:
            if self.stopping.is_set():
                return False
            self._threads.append(thread)
            if stream:
                self._streams.append(thread)
            thread.start()
        return True

    def _start_pod(self, namespace: str, pod: str, containers: list[str]) -> None:
        names = containers
        if self.options.container:
            names = [name for name in names if re.fullmatch(self.options.container, name)]
        for container in names:
            key = (namespace, pod, container)
            with self._lock:
                if key in self._started:
                    continue
                self._started.add(key)
            stream = threading.Thread(target=self._stream, args=key, name=f"idp-log {pod}/{container}", daemon=True)
            if not self._spawn(stream, stream=True):
                return

    def _stream(self, namespace: str, pod: str, container: str) -> None:
        from kubernetes import client

        core = client.CoreV1Api(api_client=self.api_client)
        options = self.options
        response = None
        finished = False
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
            if not self._hold(response):
                return
            for raw in _lines(response.stream(4096)):
                if self.stopping.is_set() or not self._emit(pod, container, raw.decode("utf-8", errors="replace")):
                    return
            finished = True
        except Exception as error:  # noqa: BLE001 - one pod's failure is a line in the stream, not the end of it
            if not self.stopping.is_set():
                self._put(f"{self.cluster} {pod}/{container}: {describe_api_error(error, 'logs')}")
        finally:
            if response is not None:
                self._release(response, finished)

    def _hold(self, response: Any) -> bool:
        """Keep ``response`` where stop() shuts it down; False (and closed) when stop() has already run."""
        with self._lock:
            if not self.stopping.is_set():
                self._responses.add(response)
                return True
        with contextlib.suppress(Exception):
            response.close()
        return False

    def _release(self, response: Any, finished: bool) -> None:
        with self._lock:
            self._responses.discard(response)
        # Only a response read to its end may go back to the pool; any other would leave bytes on the connection.
        with contextlib.suppress(Exception):  # the socket may already be shut down by stop()
            if finished:
                response.release_conn()
            else:
                response.close()

    def _put(self, item: LogLine | str) -> bool:
        """Queue ``item``, waiting while the queue is full; False once stop() is called (the item is dropped)."""
        while not self.stopping.is_set():
            try:
                self.lines.put(item, timeout=_PUT_WAIT)
            except queue.Full:
                continue
            return True
        return False

    def _emit(self, pod: str, container: str, text: str) -> bool:
        if self.options.wants(text):
            return self._put(LogLine(self.cluster, pod, container, text))
        return True

    def _watch_new_pods(self, resource_version: str | None) -> None:
        """Follow the pods of the selector and start streams on those that run; a failed watch is re-made."""
        from kubernetes import client

        core = client.CoreV1Api(api_client=self.api_client)
        version = resource_version
        while not self.stopping.is_set():
            response = None
            finished = False
            options: dict[str, Any] = {
                "label_selector": self.selector,
                "watch": True,
                "timeout_seconds": WATCH_SECONDS,
                "_preload_content": False,
                "_request_timeout": (LIST_TIMEOUT[0], WATCH_SECONDS + 30),
            }
            if version:
                options["resource_version"] = version
            try:
                if self.namespace:
                    response = core.list_namespaced_pod(self.namespace, **options)
                else:
                    response = core.list_pod_for_all_namespaces(**options)
                if not self._hold(response):
                    return
                for line in _lines(response.stream(None, decode_content=False)):
                    if self.stopping.is_set():
                        return
                    if not line.strip():
                        continue
                    event = loads_strict(line)
                    if event.get("type") == "ERROR":  # e.g. 410 Gone: the version is too old, watch from now
                        raise _WatchEnded(str(event.get("object")))
                    pod = event.get("object") or {}
                    metadata = pod.get("metadata") or {}
                    version = metadata.get("resourceVersion") or version
                    if event.get("type") in ("ADDED", "MODIFIED") and (pod.get("status") or {}).get("phase") in (
                        "Running",
                        "Succeeded",
                    ):
                        containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
                        self._start_pod(metadata.get("namespace", ""), metadata.get("name", ""), containers)
                finished = True  # the server ended the watch at its timeout: watch again from the last version
            except Exception:  # noqa: BLE001 - a dropped or expired watch is watched again from now
                version = None
                self.stopping.wait(1.0)
            finally:
                if response is not None:
                    self._release(response, finished)

    def interrupt(self) -> None:
        """Ask every stream and the watch for new pods to end now (their sockets are shut down); does not wait."""
        with self._lock:
            self.stopping.set()
            responses = list(self._responses)
        for response in responses:
            try:
                response.shutdown()  # wakes the thread blocked reading it; the thread closes it
            except Exception:  # noqa: BLE001 - already closed by its thread, or no socket to shut down
                with contextlib.suppress(Exception):
                    response.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` for every thread of the tail; whether they all ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        ended = not any(thread.is_alive() for thread in threads)
        if ended:
            with contextlib.suppress(Exception):  # idle keep-alive connections: the server need not wait on them
                self.api_client.rest_client.pool_manager.clear()
        return ended

    def stop(self, timeout: float = 2.0) -> bool:
        """End every stream and the watch for new pods, and wait up to ``timeout`` for their threads.

        Returns:
            Whether every thread has ended.
        """
        self.interrupt()
        return self.join(timeout)

    def done(self) -> bool:
        """Every stream has ended (never, while following)."""
        return not any(stream.is_alive() for stream in self._streams)

    def alive(self) -> bool:
        """Whether any thread of the tail (a stream, the watch for new pods) is still running."""
        return any(thread.is_alive() for thread in self._threads)


class _WatchEnded(Exception):
    """The API server sent an ERROR event on the pod watch (410 Gone, most often)."""


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Every complete line of a response as it arrives (blank ones too), then what follows the last newline."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending

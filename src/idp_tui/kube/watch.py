"""Live cluster state: list each kind once, then watch from the list's resourceVersion; never polled.

Every kind is listed before any stream opens. The lists go one after another over one kept-alive connection (the
cluster's list client, kept between views) while the server answers quickly; once a list after the first (which
also opens the connection) is slow, the kinds left are listed at once: a distant server, where each list is a round
trip. A TLS handshake costs more than a small list, and a stream holds its connection for as long as it is open,
so the streams open after the lists, and after the view that asked for them has shown what the lists brought
(``streams_after``). Then one daemon thread per kind reads a watch stream as raw JSON lines
(``_preload_content=False``), so the snapshot holds the same camelCase Kubernetes JSON that :mod:`access` reads and
:mod:`report` understands. A dropped stream reconnects from the newest resourceVersion seen (bookmarks included)
with exponential backoff; 410 Gone re-lists that kind.
Lists are paged (:mod:`paging`); the selectors go to the server, so only the entity's objects are kept, and no more
than :data:`MAX_OBJECTS` of them (beyond that the cluster says "too many objects" instead of growing). A separate
thread turns bursts of changes into at most four ``on_change`` calls per second, the first at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from ..strict_json import loads_strict
from .errors import ClusterError, describe_api_error
from .paging import MAX_OBJECTS, TooManyObjects, list_all, too_many
from .rest import list_kind
from .selection import WorkloadSelector
from .snapshot import KINDS, UNLABELLED, ClusterSnapshot

# Every kind access.py reads, plus Events (kept apart in the snapshot, as access.py does): kind -> REST plural.
WATCHED: dict[str, str] = {**KINDS, "Event": "events"}
MIN_CHANGE_INTERVAL = 0.25  # seconds between on_change calls: at most four per second
# A first list slower than this (seconds) means a distant server: the kinds left are then listed at once.
SLOW_LIST = 0.05
# The longest the streams wait for ``streams_after`` (seconds): a view that never completes still follows its clusters.
STREAMS_WAIT_LONGEST = 2.0


@dataclass(frozen=True)
class WatchStatus:
    """Whether a cluster's data is live; when not, since when, why, and when the next attempt is."""

    cluster: str
    connected: bool
    stale_since: datetime | None = None
    error: str | None = None
    retry_in: float | None = None


class _Gone(Exception):
    """The resourceVersion we watch from was compacted away (410): re-list."""


class _Interrupted(Exception):
    """A watch ended without an error but before its timeout, or sent an ERROR event: reconnect with backoff."""


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace", ""), metadata.get("name", "")


def _lines(response: Any) -> Iterator[bytes]:
    """The complete lines of a chunked watch response, as they arrive."""
    pending = b""
    for chunk in response.stream(amt=None, decode_content=False):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
    if pending.strip():
        yield pending


class ClusterWatch:
    """Keeps one cluster's objects for a selector up to date by list-then-watch.

    Args:
        api_client_factory: Makes a ``kubernetes.client.ApiClient`` for the cluster. One is made per watch and shared
            by its threads (its connection pool hands each request a free connection, or opens one); the watch
            closes it when it stops.
        list_client: Gives the client for the first lists (by default the watch's own). One kept for the cluster
            keeps its connections open from one watch to the next, so the next view's lists need no handshake;
            the watch never closes it.
        streams_after: The streams open once this is set (by a view, once its first complete state is on screen),
            or after :data:`STREAMS_WAIT_LONGEST` seconds: their handshakes then do not compete with showing it.
            Nothing is missed meanwhile: each stream starts from its list's resourceVersion.
        slow_list: Seconds a first list may take before the kinds left are listed at once.
        cluster: The cluster (context) name, used in snapshots and statuses.
        selector: Which objects belong to the entity.
        on_change: Called from a background thread with a fresh snapshot after changes (coalesced).
        on_status: Called from a background thread when the cluster goes stale or live again.
        demo: Marks snapshots as coming from the demo cluster.
        backoff: First and longest wait between reconnection attempts, in seconds.
        clock: Monotonic clock (injectable for tests).
        timeout_seconds: How long each watch request asks the server to keep the stream open.
        request_timeout: Connect timeout, and read timeout of lists, in seconds.
        listers: Other kinds to follow instead of the workloads' (custom resources): kind -> (what it is called in
            messages, a call ``(api_client, **options)`` listing it, or watching it with ``watch=True``, as the
            generated ``list_*`` methods do). The selector is then the listers' to apply.
        max_objects: The most objects kept over every kind; beyond it the cluster's error says "too many objects".
        min_interval: Seconds between two ``on_change`` calls (changes in between are delivered together).
    """

    def __init__(
        self,
        api_client_factory: Callable[[], Any],
        cluster: str,
        selector: WorkloadSelector,
        *,
        on_change: Callable[[ClusterSnapshot], None],
        on_status: Callable[[WatchStatus], None] | None = None,
        demo: bool = False,
        backoff: tuple[float, float] = (0.5, 30.0),
        clock: Callable[[], float] = time.monotonic,
        timeout_seconds: int = 300,
        request_timeout: float = 10.0,
        listers: dict[str, tuple[str, Callable[..., Any]]] | None = None,
        list_client: Callable[[], Any] | None = None,
        streams_after: threading.Event | None = None,
        slow_list: float = SLOW_LIST,
        max_objects: int = MAX_OBJECTS,
        min_interval: float = MIN_CHANGE_INTERVAL,
    ) -> None:
        self.factory = api_client_factory
        self.list_client = list_client or self._api_client
        self.streams_after = streams_after
        self.slow_list = slow_list
        self.listers = listers or {}
        self.kinds: tuple[str, ...] = tuple(self.listers) or tuple(WATCHED)
        self.cluster = cluster
        self.selector = selector
        self.on_change = on_change
        self.on_status = on_status
        self.demo = demo
        self.backoff = backoff
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.request_timeout = request_timeout
        self.max_objects = max_objects
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._versions: dict[str, str] = {}
        self._errors: dict[str, tuple[str, float | None]] = {}
        self._delays: dict[str, float] = {}
        self._live: set[str] = set()
        self._stale_since: datetime | None = None
        self._last_status: WatchStatus | None = None
        self._responses: set[Any] = set()
        self._stopping = threading.Event()
        self._dirty = threading.Event()
        self._threads: list[threading.Thread] = []
        self._launcher: threading.Thread | None = None
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._listed: set[str] = set()  # kinds whose first list (in the launcher) succeeded
        self._given_up: set[str] = set()
        self._first_delivered = False

    # -- public --------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """List and watch every kind in background daemon threads; returns at once.

        One launcher thread lists every kind, then starts the streams' threads: ``Thread.start()`` waits for the new
        thread to run, and while other clusters' lists are being parsed each of those waits is a turn at the
        interpreter lock, so starting nine threads here held up the next cluster's start by tens of milliseconds.
        """
        self._threads = [threading.Thread(target=self._notify, name=f"watch {self.cluster} notify", daemon=True)]
        self._threads += [
            threading.Thread(target=self._run, args=(kind,), name=f"watch {self.cluster} {kind}", daemon=True)
            for kind in self._kinds_in_order()
        ]
        self._launcher = threading.Thread(target=self._launch, name=f"watch {self.cluster} start", daemon=True)
        self._launcher.start()

    def _kinds_in_order(self) -> list[str]:
        return sorted(self.kinds, key=lambda kind: kind != "Pod")  # pods first: theirs is the longest list

    def _launch(self) -> None:
        try:
            client = self.list_client()
        except Exception as error:  # noqa: BLE001 - a kubeconfig that cannot be used: each kind says so and retries
            for kind in self.kinds:
                self._failed(kind, error)
        else:
            self._list_every_kind(client)
        # The first snapshot is delivered from here, and the notify thread (later changes) started only then: a
        # thread start waits for a turn at the interpreter lock, which the UI painting the new view holds.
        if self._dirty.is_set() and not self._stopping.is_set():
            self._dirty.clear()
            self._deliver(self.snapshot())
            self._first_delivered = True
        self._threads[0].start()
        self._wait_for_streams_gate()
        for thread in self._threads[1:]:
            if self._stopping.is_set():
                return
            thread.start()

    def _wait_for_streams_gate(self) -> None:
        if self.streams_after is None:
            return
        deadline = time.monotonic() + STREAMS_WAIT_LONGEST
        while not self.streams_after.is_set() and not self._stopping.is_set() and time.monotonic() < deadline:
            self.streams_after.wait(0.02)

    def _list_every_kind(self, client: Any) -> None:
        """The first list of each kind (see the module docstring): in turn while quick, then the rest at once."""
        pending = self._kinds_in_order()
        first = True
        while pending and not self._stopping.is_set():
            kind = pending.pop(0)
            started = time.monotonic()
            self._first_list(client, kind)
            # The first list also opens the connection (and, first in a session, loads the client): not a measure.
            if pending and not first and time.monotonic() - started > self.slow_list:
                at_once = [
                    threading.Thread(target=self._first_list, args=(client, other), daemon=True) for other in pending
                ]
                for thread in at_once:
                    thread.start()
                for thread in at_once:
                    thread.join()
                return
            first = False

    def _first_list(self, client: Any, kind: str) -> None:
        """List ``kind`` once; a failure is said on the status, and the kind's own thread lists again after its
        first backoff."""
        try:
            self._list(client, kind)
            self._listed.add(kind)
        except TooManyObjects as error:
            self._given_up.add(kind)
            self._give_up(kind, str(error))
        except Exception as error:  # noqa: BLE001 - reported on the status and retried by the kind's thread
            if not self._stopping.is_set():
                self._failed(kind, error)

    def _api_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self.factory()
            return self._client

    def stop(self, timeout: float = 1.0) -> None:
        """End every stream now (their sockets are shut down) and wait up to ``timeout`` for the threads."""
        self._stopping.set()
        self._dirty.set()
        with self._lock:
            responses = list(self._responses)
        for response in responses:
            with contextlib.suppress(Exception):  # already closed by its own thread
                response.shutdown()
        deadline = time.monotonic() + timeout
        for thread in self._all_threads():
            # stop() may be called from on_change or on_status; a thread the launcher never started has nothing to end.
            if thread is not threading.current_thread() and thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        if not self.alive() and self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()

    def alive(self) -> bool:
        """Whether any background thread is still running."""
        return any(t.is_alive() for t in self._all_threads())

    def _all_threads(self) -> list[threading.Thread]:
        return [self._launcher, *self._threads] if self._launcher is not None else list(self._threads)

    def snapshot(self) -> ClusterSnapshot:
        """A consistent copy of what is known now, shaped like :meth:`KubeconfigClusters.snapshot`'s answer.

        Until every kind has been listed once, a failure is the snapshot's ``error`` (and it holds no objects).
        """
        with self._lock:
            snapshot = ClusterSnapshot(self.cluster, demo=self.demo, resource_versions=dict(self._versions))
            never_listed = [kind for kind in self.kinds if kind in self._errors and kind not in self._objects]
            if never_listed:
                snapshot.error = self._errors[never_listed[0]][0]
                return snapshot
            for kind in (kind for kind in self.kinds if kind in self._objects):
                store = self._objects[kind]
                items = [store[key] for key in sorted(store)]  # the API server's order: namespace, then name
                if kind == "Event":
                    snapshot.events = items
                else:
                    snapshot.objects[kind] = items
        # Objects are replaced by newer versions, never edited, so snapshots share them instead of deep copies.
        return snapshot

    # -- one kind ------------------------------------------------------------------------------------------------

    def _run(self, kind: str) -> None:
        if kind in self._given_up:
            return
        needs_list = kind not in self._listed
        if needs_list and kind in self._errors:  # its first list failed: said already, tried again after the backoff
            self._back_off(kind)
        while not self._stopping.is_set():
            try:
                client = self._api_client()
                if needs_list:
                    self._list(client, kind)
                    needs_list = False
                self._watch(client, kind)
            except _Gone:
                needs_list = True
            except TooManyObjects as error:
                self._give_up(kind, str(error))
                break
            except Exception as error:  # noqa: BLE001 - every failure is reported on the status and retried
                if self._stopping.is_set():
                    break
                if getattr(error, "status", None) == 410:
                    needs_list = True
                    continue
                self._failed(kind, error)
                self._back_off(kind)

    def _failed(self, kind: str, error: Exception) -> None:
        """Say on the status why ``kind`` is not live, and when it is tried again."""
        what = self.listers[kind][0] if kind in self.listers else WATCHED[kind]
        text = str(error) if isinstance(error, _Interrupted | ClusterError) else describe_api_error(error, what)
        self._down(kind, text, self._delays.setdefault(kind, self.backoff[0]))

    def _back_off(self, kind: str) -> None:
        delay = self._delays.setdefault(kind, self.backoff[0])
        self._stopping.wait(delay)
        self._delays[kind] = min(delay * 2, self.backoff[1])

    def _call(self, client: Any, kind: str, **options: Any) -> Any:
        if kind in self.listers:
            return self.listers[kind][1](client, **options)
        if kind not in UNLABELLED and self.selector.label_selector:
            options["label_selector"] = self.selector.label_selector
        return list_kind(client, kind, self.selector.namespace, **options)

    def _list(self, client: Any, kind: str) -> None:
        what = self.listers[kind][0] if kind in self.listers else WATCHED[kind]
        with self._lock:
            room = self.max_objects - sum(len(store) for other, store in self._objects.items() if other != kind)
        call = partial(self._call, client, kind, _preload_content=False, _request_timeout=self.request_timeout)
        try:
            body = list_all(call, what, max_objects=max(0, room))
        except TooManyObjects:
            raise too_many(f"objects ({', '.join(self.kinds)})", self.max_objects) from None
        store = {_key(item): item for item in body.get("items") or []}
        with self._lock:
            self._objects[kind] = store
            self._versions[kind] = (body.get("metadata") or {}).get("resourceVersion", "")
        self._changed()

    def _watch(self, client: Any, kind: str) -> None:
        started = self.clock()
        response = self._call(
            client,
            kind,
            watch=True,
            resource_version=self._versions[kind],
            timeout_seconds=self.timeout_seconds,
            allow_watch_bookmarks=True,
            _preload_content=False,
            _request_timeout=(self.request_timeout, self.timeout_seconds + 30),
        )
        with self._lock:
            self._responses.add(response)
        finished = False
        try:
            if self._stopping.is_set():  # stop() ran while this stream opened: it shut down only the others
                return
            self._up(kind)
            for line in _lines(response):
                if self._stopping.is_set():
                    return
                self._apply(kind, loads_strict(line))
            finished = True
        finally:
            with self._lock:
                self._responses.discard(response)
            # Only a stream read to its end may go back to the pool; any other would leave bytes on the connection.
            with contextlib.suppress(Exception):  # the socket may already be shut down by stop()
                if finished:
                    response.release_conn()
                else:
                    response.close()
        if not self._stopping.is_set() and self.clock() - started < self.timeout_seconds - 1:
            # A watch that ends before its timeout was cut by the server or something in between.
            raise _Interrupted("the API server closed the watch stream")

    def _apply(self, kind: str, event: dict[str, Any]) -> None:
        kind_of_event = event.get("type")
        obj = event.get("object") or {}
        if kind_of_event == "ERROR":
            if obj.get("code") == 410:
                raise _Gone(obj.get("message", "410 Gone"))
            raise _Interrupted(f"{obj.get('code', '')} {obj.get('reason', '')}: {obj.get('message', '')}".strip())
        version = (obj.get("metadata") or {}).get("resourceVersion")
        with self._lock:
            if version:
                self._versions[kind] = version
            if kind_of_event == "BOOKMARK":
                return
            # Lists carry no kind/apiVersion per item; drop them so watched and listed objects look alike.
            item = {key: value for key, value in obj.items() if key not in ("kind", "apiVersion")}
            store = self._objects.setdefault(kind, {})
            key = _key(item)
            if kind_of_event == "DELETED":
                store.pop(key, None)
            else:
                if key not in store and sum(len(kept) for kept in self._objects.values()) >= self.max_objects:
                    raise too_many(f"objects ({', '.join(self.kinds)})", self.max_objects)
                store[key] = item
        self._changed()

    # -- status and notification ---------------------------------------------------------------------------------

    def _up(self, kind: str) -> None:
        with self._lock:
            self._delays[kind] = self.backoff[0]  # a watch that opened is a successful reconnect
            self._live.add(kind)
            self._errors.pop(kind, None)
        self._report()

    def _down(self, kind: str, error: str, retry_in: float | None, *, drop: bool = False) -> None:
        """``kind`` is not live (``error`` says why; tried again in ``retry_in`` s, or never when None); ``drop``
        forgets what it held."""
        with self._lock:
            if drop:
                self._objects.pop(kind, None)
            self._live.discard(kind)
            self._errors[kind] = (error, retry_in)
            if self._stale_since is None:
                self._stale_since = datetime.now().astimezone()
        self._report()
        self._changed()

    def _give_up(self, kind: str, error: str) -> None:
        """Stop following ``kind`` for good (what it held is dropped): the cluster's error says why."""
        self._down(kind, error, None, drop=True)

    def _report(self) -> None:
        with self._status_lock:
            with self._lock:
                if len(self._live) == len(self.kinds):
                    self._stale_since = None
                    status = WatchStatus(self.cluster, connected=True)
                elif self._errors:
                    error, retry_in = list(self._errors.values())[-1]
                    status = WatchStatus(self.cluster, False, self._stale_since, error, retry_in)
                else:
                    return  # still connecting for the first time: nothing to say yet
            if status != self._last_status and not self._stopping.is_set():
                self._last_status = status
                if self.on_status is not None:
                    self.on_status(status)

    def _changed(self) -> None:
        with self._lock:
            # Hold the first call until every kind has been listed (or one failed), so no half-empty view is shown.
            ready = len(self._objects) == len(self.kinds) or bool(self._errors)
        if ready:
            self._dirty.set()

    def _notify(self) -> None:
        if self._first_delivered:  # by the launcher, a moment ago
            self._stopping.wait(self.min_interval)
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            self._dirty.clear()
            self._deliver(self.snapshot())
            self._stopping.wait(self.min_interval)

    def _deliver(self, snapshot: ClusterSnapshot) -> None:
        """``on_change(snapshot)``; when it raises (an object its reader cannot read), the cluster's error instead.

        This thread must outlive any one object: were it to end, the watch would keep its streams open and never
        say anything again. The next change is delivered as usual, so a fixed object shows again.
        """
        try:
            self.on_change(snapshot)
        except Exception as error:  # noqa: BLE001 - the cluster's error, in one line, instead of a dead thread
            failed = ClusterSnapshot(self.cluster, demo=self.demo, resource_versions=snapshot.resource_versions)
            failed.error = f"cannot show what the cluster sent: {type(error).__name__}: {error}"
            with contextlib.suppress(Exception):  # a reader that fails even on an error has nothing left to say
                self.on_change(failed)

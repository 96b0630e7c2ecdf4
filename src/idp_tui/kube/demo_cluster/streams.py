"""Streaming answers: watches (chunked JSON event lines) and followed pod logs (chunked plain text)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.logs import NANOS, ContainerLog
from idp_tui.kube.demo_cluster.state import RESOURCES, ClusterState

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.handler import Handler


def serve_watch(
    handler: Handler,
    state: ClusterState,
    plural: str,
    namespace: str | None,
    matchers: tuple[Any, Any],
    render: Callable[[dict[str, Any], bool], dict[str, Any]] | None = None,
) -> None:
    """Answer a watch: events since the requested resourceVersion, then live changes, as chunked JSON lines.

    ``render(obj, first)`` replaces each event's object (a one-row Table for kubectl ``get -w``); ``first`` is
    true for the first event only.
    """
    labels, fields = matchers
    rendered = 0

    def shown(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal rendered
        if render is None:
            return obj
        rendered += 1
        return render(obj, rendered == 1)

    requested = handler.query.get("resourceVersion") or "0"
    timeout = float(handler.query.get("timeoutSeconds") or 1800)
    bookmarks = handler.query.get("allowWatchBookmarks") in ("true", "1")
    deadline = time.monotonic() + timeout

    def visible(obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        ns = obj["metadata"].get("namespace")
        return (namespace is None or ns == namespace) and labels(obj) and fields(obj)

    stream = handler.demo.open_stream("watch")
    handler.start_chunks("application/json")
    try:
        with state.lock:
            state.tick()
            if not requested.isdigit():
                requested = "0"
            position = int(requested) or state.revision
            if int(requested) == 0:
                initial = [_line("ADDED", shown(obj)) for obj in state.items(plural, namespace) if visible(obj)]
            else:
                initial = []
        handler.chunk(b"".join(initial))
        last_sent = time.monotonic()
        while not stream.closed.is_set() and time.monotonic() < deadline and not handler.client_gone():
            with state.lock:
                state.tick()
                if state.is_expired(position):
                    gone = o.status_body(
                        410, "Expired", f"too old resource version: {position} ({state.expired_before})"
                    )
                    handler.chunk(_line("ERROR", gone))
                    break
                entries = [entry for entry in state.events_since(position) if entry[2] == plural]
                newest = state.revision
                if not entries:
                    state.lock.wait(0.2)
            lines = []
            for _revision, kind, _plural, obj, previous in entries:
                now_visible, was_visible = visible(obj), kind == "MODIFIED" and visible(previous)
                if kind == "MODIFIED" and was_visible and not now_visible:
                    lines.append(_line("DELETED", shown(obj)))
                elif kind == "MODIFIED" and now_visible and not was_visible:
                    lines.append(_line("ADDED", shown(obj)))
                elif now_visible:
                    lines.append(_line(kind, shown(obj)))
            position = newest
            if lines:
                handler.chunk(b"".join(lines))
                last_sent = time.monotonic()
            elif bookmarks and time.monotonic() - last_sent > handler.demo.bookmark_seconds:
                version, kind = RESOURCES[plural][:2]
                mark = {"kind": kind, "apiVersion": version, "metadata": {"resourceVersion": str(position)}}
                handler.chunk(_line("BOOKMARK", mark))
                last_sent = time.monotonic()
        if not handler.client_gone():
            handler.end_chunks()
    finally:
        handler.demo.close_stream(stream)
    if stream.closed.is_set() or handler.client_gone():
        handler.close_connection = True


def serve_log(handler: Handler, state: ClusterState, pod: dict[str, Any], log: ContainerLog) -> None:
    """Answer a pod log request: plain text, or a chunked stream of new lines with ``follow=true``."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    timestamps = handler.query.get("timestamps") == "true"
    now = time.time_ns()
    since = int(handler.query["sinceSeconds"]) if handler.query.get("sinceSeconds") else None
    tail = int(handler.query["tailLines"]) if handler.query.get("tailLines") else None
    chosen = log.select(now, now - since * NANOS if since is not None else None, tail)
    text = "".join(log.line(index, timestamps) for index in chosen)
    if handler.query.get("follow") != "true" or log.end is not None:
        handler.send_text(text)
        return
    stream = handler.demo.open_stream("log")
    handler.start_chunks("text/plain")
    try:
        handler.chunk(text.encode())
        position = chosen.stop
        while not stream.closed.is_set() and not handler.client_gone():
            stream.closed.wait(0.1)
            with state.lock:
                state.tick()
                current = state.get("pods", namespace, name)
            if current is None or current["metadata"]["uid"] != pod["metadata"]["uid"]:
                break  # the pod is gone: the container's log stream ends
            total = log.count(time.time_ns())
            handler.chunk("".join(log.line(index, timestamps) for index in range(position, total)).encode())
            position = max(position, total)
        handler.end_chunks()
    finally:
        handler.demo.close_stream(stream)


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"

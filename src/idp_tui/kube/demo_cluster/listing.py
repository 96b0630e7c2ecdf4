"""Lists as the API server answers them: selectors, ``limit``/``continue`` paging over one consistent moment,
``resourceVersion``/``resourceVersionMatch``, and the errors a real server gives for each misuse.

Paging follows ``k8s.io/apiserver/pkg/storage``: the continue token is opaque to clients (base64url, no padding, of
``{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\\x00"}``); every page of one list is read at the first page's
resourceVersion (the demo rolls its history back to it, as etcd reads a revision), so objects changed between pages
neither appear twice nor go missing. A token from before the compacted history answers 410 Expired with a token to
carry on inconsistently; a token that does not decode answers 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster import tables
from idp_tui.kube.demo_cluster.state import CUSTOM, RESOURCES, ClusterState

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.handler import Handler

TOKEN_VERSION = "meta.k8s.io/v1"
EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without "
    "the continue parameter, or use the continue token in this response to retrieve the remainder of the results. "
    "Continuing with the provided token results in an inconsistent list - objects that were created, modified, or "
    "deleted between the time the first chunk was returned and now may show up in the list."
)


class ListError(Exception):
    """A list the API server refuses: its HTTP code, reason, message and (410) a token to carry on with."""

    def __init__(self, code: int, reason: str, message: str, carry_on: str | None = None) -> None:
        super().__init__(message)
        self.body = o.status_body(code, reason, message)
        if carry_on:
            self.body["metadata"] = {"continue": carry_on}


def encode_continue(revision: int, start: str) -> str:
    """The opaque token of the page after ``start`` (a ``namespace/name`` key) in the list read at ``revision``."""
    raw = json.dumps({"v": TOKEN_VERSION, "rv": revision, "start": start + "\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """``(resourceVersion, start key)`` of a token; ListError 400 for anything the server did not make."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error) as error:
        raise _bad_token(f"continue key is not valid: {error}") from None
    if not isinstance(data, dict) or data.get("v") != TOKEN_VERSION:
        raise _bad_token("continue key is not valid: server does not recognize this encoded version")
    revision, start = data.get("rv"), data.get("start")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision == 0:
        raise _bad_token(
            f"continue key is not valid: incorrect encoded start resourceVersion (version {TOKEN_VERSION})"
        )
    if not isinstance(start, str) or not start:
        raise _bad_token(f"continue key is not valid: encoded start key empty (version {TOKEN_VERSION})")
    return revision, start


def _bad_token(message: str) -> ListError:
    return ListError(400, "BadRequest", f"invalid continue token: {message}")


def key_of(obj: dict[str, Any]) -> str:
    """An object's storage key below its resource: ``namespace/name`` (``name`` when cluster-scoped)."""
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def _limit(text: str | None) -> int:
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ListError(400, "BadRequest", f'limit: Invalid value: "{text}": must be an integer') from None
    return max(0, value)


def list_page(
    state: ClusterState, plural: str, namespace: str | None, query: dict[str, str], matchers: tuple[Any, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The objects of one page and its ListMeta (resourceVersion, continue, remainingItemCount).

    Raises:
        ListError: a bad limit or token, a resourceVersion with a token, or a compacted version (410).
    """
    labels, fields = matchers
    limit = _limit(query.get("limit"))
    token = query.get("continue")
    requested = query.get("resourceVersion") or ""
    match = query.get("resourceVersionMatch") or ""
    if token and requested not in ("", "0"):
        raise ListError(400, "BadRequest", "specifying resource version is not allowed when using continue")
    if match and not requested:
        raise ListError(400, "BadRequest", "resourceVersionMatch is forbidden unless resourceVersion is provided")
    start = ""
    with state.lock:
        state.tick()
        revision = state.revision
        if token:
            at, start = decode_continue(token)
            if at > 0 and state.is_expired(at):
                raise ListError(410, "Expired", EXPIRED_CONTINUE, encode_continue(-1, start.rstrip("\x00")))
            source = state.items_at(plural, namespace, at) if at > 0 else state.items(plural, namespace)
            revision = at if at > 0 else revision
        elif match == "Exact" and requested.isdigit() and int(requested) > 0:
            at = int(requested)
            if state.is_expired(at):
                raise ListError(410, "Expired", f"too old resource version: {at} ({state.expired_before})")
            if at > revision:
                raise ListError(504, "Timeout", f"Too large resource version: {at}, current: {revision}")
            source, revision = state.items_at(plural, namespace, at), at
        else:
            source = state.items(plural, namespace)
        chosen = [obj for obj in source if labels(obj) and fields(obj)]
    if start:
        # Keys compare as (namespace, name), the order lists are served in.
        namespace_, _, name = start.rstrip("\x00").rpartition("/")
        after = (namespace_, name)
        chosen = [obj for obj in chosen if (obj["metadata"].get("namespace", ""), obj["metadata"]["name"]) > after]
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}
    if limit and len(chosen) > limit:
        metadata["continue"] = encode_continue(revision, key_of(chosen[limit - 1]))
        if not query.get("labelSelector") and not query.get("fieldSelector"):
            # Only an unfiltered list knows how many remain (the API server leaves it out for selectors).
            metadata["remainingItemCount"] = len(chosen) - limit
        chosen = chosen[:limit]
    return chosen, metadata


def hostile_page(mode: str, query: dict[str, str], chosen: list[dict[str, Any]], metadata: dict[str, Any]) -> None:
    """A misbehaving server, for tests of the client's budgets: ``repeat-continue`` answers every page with the
    same continue token; ``endless-pages`` answers one object and a fresh token, forever."""
    revision = int(metadata["resourceVersion"])
    if mode == "repeat-continue":
        metadata["continue"] = query.get("continue") or encode_continue(revision, "loop")
    elif mode == "endless-pages":
        page = int(query.get("continue", "").rpartition("-")[2] or 0) if query.get("continue") else 0
        metadata["continue"] = f"{encode_continue(revision, 'endless')}-{page + 1}"
        del chosen[1:]


def serve_list(handler: Handler, state: ClusterState, plural: str, namespace: str | None, matchers: Any) -> None:
    """Answer a list: a ``<Kind>List`` (items without kind and apiVersion, as built-in kinds' are) or a Table."""
    query = handler.query
    mode = handler.demo.hostile.get(state.name)
    if mode == "endless-pages" and query.get("continue"):
        query = {key: value for key, value in query.items() if key != "continue"}
    try:
        chosen, metadata = list_page(state, plural, namespace, query, matchers)
    except ListError as error:
        handler.send_json(error.body["code"], error.body)
        return
    if mode:
        hostile_page(mode, handler.query, chosen, metadata)
    table_version = tables.table_version(handler.headers.get("Accept"))
    if table_version:
        # kubectl get and k9s: the API server's own columns (server-side printing).
        include = handler.query.get("includeObject")
        handler.send_json(200, tables.table(plural, chosen, metadata, version=table_version, include_object=include))
        return
    version, kind = RESOURCES[plural][:2]
    # Built-in kinds' lists leave kind and apiVersion out of the items; custom resources keep them.
    items = [
        obj if plural in CUSTOM else {key: value for key, value in obj.items() if key not in ("kind", "apiVersion")}
        for obj in chosen
    ]
    handler.send_json(200, {"kind": f"{kind}List", "apiVersion": version, "metadata": metadata, "items": items})

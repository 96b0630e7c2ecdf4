"""A small fake of Backstage's catalog REST API on 127.0.0.1, reproducing the shapes recorded from a real backend.

Recorded behaviour it follows (see ../shared/backstage-api/INDEX.md): ``by-query`` answers
``{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}``; the cursor is opaque base64 JSON that carries the query,
so ``filter`` is ignored once a cursor is sent while ``fields`` still applies; several ``filter`` params are OR-ed and
the comma-separated conditions inside one are AND-ed; ``by-refs`` takes ``fields`` in the body and rejects it as a
query parameter; errors are ``{error: {name, message}, request, response: {statusCode}}``; unknown routes are an
empty-body 404; no or a wrong token is a 401 ("Missing credentials" / "Illegal token").
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from idp_tui.local_http import LocalServer

PREFIX = "/api/catalog"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeBackstage:
    """Entities and failure switches for the fake; tests fill it, the handler reads it.

    Failures are queued per request, in arrival order: ``fail_next`` answers with an error status, ``drop_next``
    sends half a response and closes the connection, ``delay_next`` holds the answer back (for timeouts).
    ``latency`` is added to every request.
    """

    entities: list[dict] = field(default_factory=list)
    token: str | None = "test-token"
    latency: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _faults: list[tuple[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # The real catalog adds a uid and a namespace to every stored entity; by-query orders by internal id.
        self.entities = [_stored(entity) for entity in self.entities]

    def fail_next(self, status: int, count: int = 1, message: str | None = None) -> None:
        self._faults += [("status", (status, message))] * count

    def drop_next(self, count: int = 1) -> None:
        self._faults += [("drop", None)] * count

    def delay_next(self, seconds: float, count: int = 1) -> None:
        self._faults += [("delay", seconds)] * count

    def take_fault(self) -> tuple[str, Any] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def requests_to(self, suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    def find(self, kind: str, namespace: str, name: str) -> dict | None:
        wanted = (kind.lower(), namespace.lower(), name.lower())
        for entity in self.entities:
            meta = entity["metadata"]
            if (entity["kind"].lower(), meta["namespace"].lower(), meta["name"].lower()) == wanted:
                return entity
        return None


def _stored(entity: dict) -> dict:
    entity = copy.deepcopy(entity)
    metadata = entity.setdefault("metadata", {})
    metadata.setdefault("namespace", "default")
    metadata.setdefault("uid", str(uuid.uuid4()))
    return entity


def generated_entities(count: int, owners: int = 50) -> list[dict]:
    """``count`` components owned by ``owners`` groups (plus the groups), with both directions of ``ownedBy``.

    Shaped like the real catalog's output: relations present, full refs in lower case.
    """
    groups = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": f"team-{g}", "namespace": "default"},
            "spec": {"type": "team", "children": []},
            "relations": [],
        }
        for g in range(owners)
    ]
    components = []
    for i in range(count):
        owner = f"group:default/team-{i % owners}"
        components.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {
                    "name": f"service-{i:05d}",
                    "namespace": "default",
                    "description": f"Generated service number {i}, for paging tests.",
                    "tags": ["python", f"tier-{i % 3}"],
                    "annotations": {"backstage.io/techdocs-ref": "dir:."},
                },
                "spec": {"type": "service", "lifecycle": "production", "owner": owner, "secretInternals": "x" * 40},
                "relations": [{"type": "ownedBy", "targetRef": owner}],
            }
        )
        groups[i % owners]["relations"].append({"type": "ownerOf", "targetRef": f"component:default/service-{i:05d}"})
    return groups + components


# -- query semantics -------------------------------------------------------------------------------------------------
def _lookup(value: Any, path: list[str]) -> list[Any]:
    """Every value at a dotted path; arrays match any element (as Backstage's search table does)."""
    if not path:
        return value if isinstance(value, list) else [value]
    if isinstance(value, list):
        return [found for element in value for found in _lookup(element, path)]
    if not isinstance(value, dict):
        return []
    head = path[0]
    matches = [v for k, v in value.items() if k.lower() == head.lower()]
    return [found for v in matches for found in _lookup(v, path[1:])]


def _values_for(entity: dict, key: str) -> list[str]:
    parts = key.split(".")
    if parts[0].lower() == "relations" and len(parts) == 2:
        return [r["targetRef"].lower() for r in entity.get("relations", []) if r["type"].lower() == parts[1].lower()]
    return [str(v).lower() for v in _lookup(entity, parts) if v is not None and not isinstance(v, dict | list)]


def _parse_filters(raw: list[str]) -> list[dict[str, list[str]]]:
    """Each ``filter`` param -> {key: allowed values}; an empty list means "the key exists"."""
    groups = []
    for text in raw:
        group: dict[str, list[str]] = {}
        for condition in text.split(","):
            key, eq, value = condition.partition("=")
            values = group.setdefault(key.strip(), [])
            if eq:
                values.append(value.strip().lower())
        groups.append(group)
    return groups


def _matches(entity: dict, groups: list[dict[str, list[str]]]) -> bool:
    if not groups:
        return True
    for group in groups:
        ok = True
        for key, allowed in group.items():
            present = _values_for(entity, key)
            if not present or (allowed and not set(present) & set(allowed)):
                ok = False
                break
        if ok:
            return True
    return False


def _project(entity: dict, fields: list[str]) -> dict:
    """Backstage's ``fields``: copy only the given dotted paths, in the order given."""
    if not fields:
        return entity
    out: dict = {}
    for dotted in fields:
        parts = dotted.split(".")
        source: Any = entity
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
            if source is None:
                break
        if source is None:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return out


def _fields(values: list[str]) -> list[str]:
    return [f.strip() for value in values for f in value.split(",") if f.strip()]


def _encode_cursor(state: dict) -> str:
    return base64.b64encode(json.dumps(state).encode()).decode()


def _decode_cursor(text: str) -> dict:
    state = json.loads(base64.b64decode(text, validate=True))
    if not isinstance(state, dict) or not isinstance(state.get("offset"), int):
        raise ValueError("not a cursor")
    return state


class _Reject(Exception):
    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


# -- HTTP ------------------------------------------------------------------------------------------------------------
def _handler(fake: FakeBackstage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, name: str, message: str) -> None:
            url = self.path[len(PREFIX) :] if self.path.startswith(PREFIX) else self.path
            envelope = {
                "error": {"name": name, "message": message},
                "request": {"method": self.command, "url": url},
                "response": {"statusCode": status},
            }
            self._send(status, envelope)

        def _drop(self) -> None:
            """Promise a body, send half of it, close: the client sees the connection die mid-response."""
            data = json.dumps({"items": [{"kind": "Component"}] * 50}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve(None)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            self._serve(body)

        def _serve(self, body: Any) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            fake.requests.append(Recorded(self.command, parts.path, query, dict(self.headers.items()), body))
            if fake.latency:
                time.sleep(fake.latency)
            if self._fault():
                return
            if not self._authorized():
                return
            try:
                self._route(parts.path, query, body)
            except _Reject as reject:
                self._error(reject.status, reject.name, reject.message)

        def _fault(self) -> bool:
            fault = fake.take_fault()
            if fault is None:
                return False
            what, value = fault
            if what == "delay":
                time.sleep(value)
                return False
            if what == "drop":
                self._drop()
                return True
            status, message = value
            names = {400: "InputError", 403: "NotAllowedError", 404: "NotFoundError", 409: "ConflictError"}
            name = names.get(status, "Error" if status < 500 else "ServiceUnavailableError")
            self._error(status, name, message or f"injected failure {status}")
            return True

        def _authorized(self) -> bool:
            if fake.token is None:
                return True
            header = self.headers.get("Authorization")
            if not header:
                self._error(401, "AuthenticationError", "Missing credentials")
                return False
            if header != f"Bearer {fake.token}":
                self._error(401, "AuthenticationError", "Illegal token")
                return False
            return True

        def _route(self, path: str, query: dict[str, list[str]], body: Any) -> None:
            segments = [unquote(s) for s in path.split("/") if s]
            api = segments[2:] if segments[:2] == ["api", "catalog"] else None
            if api == ["entities", "by-query"] and self.command == "GET":
                return self._send(200, self._by_query(query))
            if api is not None and len(api) == 5 and api[:2] == ["entities", "by-name"] and self.command == "GET":
                return self._by_name(*api[2:])
            if api == ["entities", "by-refs"] and self.command == "POST":
                return self._send(200, self._by_refs(query, body))
            if api == ["entity-facets"] and self.command == "GET":
                return self._send(200, self._facets(query))
            return self._send(404, None)  # the real router's empty-body 404

        def _by_query(self, query: dict[str, list[str]]) -> dict:
            limit_text = query.get("limit", [None])[0]
            if limit_text is not None and not limit_text.isdigit():
                raise _Reject(400, "InputError", "request/query/limit must be integer")
            if "cursor" in query:
                try:
                    state = _decode_cursor(query["cursor"][0])
                except ValueError as error:
                    raise _Reject(400, "InputError", f"Malformed cursor: {error}") from None
            else:
                state = {"filters": query.get("filter", []), "offset": 0}
            matched = [e for e in fake.entities if _matches(e, _parse_filters(state["filters"]))]
            offset = state["offset"]
            limit = int(limit_text) if limit_text is not None else len(matched)
            page = matched[offset : offset + limit]
            fields = _fields(query.get("fields", []))
            page_info: dict[str, str] = {}
            if offset + limit < len(matched):
                page_info["nextCursor"] = _encode_cursor(
                    {"filters": state["filters"], "offset": offset + limit, "totalItems": len(matched)}
                )
            if offset > 0:
                page_info["prevCursor"] = _encode_cursor(
                    {"filters": state["filters"], "offset": max(0, offset - limit), "totalItems": len(matched)}
                )
            return {"items": [_project(e, fields) for e in page], "totalItems": len(matched), "pageInfo": page_info}

        def _by_name(self, kind: str, namespace: str, name: str) -> None:
            entity = fake.find(kind, namespace, name)
            if entity is None:
                message = f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
                return self._error(404, "NotFoundError", message)
            return self._send(200, entity)

        def _by_refs(self, query: dict[str, list[str]], body: Any) -> dict:
            for name in query:
                raise _Reject(400, "InputError", f"Unknown query parameter '{name}'")
            if not isinstance(body, dict) or not isinstance(body.get("entityRefs"), list):
                raise _Reject(400, "InputError", "request/body must have required property 'entityRefs'")
            fields = _fields(body.get("fields") or [])
            items = []
            for ref in body["entityRefs"]:
                kind, _, rest = str(ref).partition(":")
                namespace, _, name = rest.rpartition("/")
                entity = fake.find(kind, namespace or "default", name)
                items.append(_project(entity, fields) if entity is not None else None)
            return {"items": items}

        def _facets(self, query: dict[str, list[str]]) -> dict:
            names = query.get("facet")
            if not names:
                raise _Reject(400, "InputError", "request/query must have required property 'facet'")
            groups = _parse_filters(query.get("filter", []))
            chosen = [e for e in fake.entities if _matches(e, groups)]
            facets = {}
            for name in names:
                counts: dict[str, int] = {}
                for entity in chosen:
                    for value in {str(v) for v in _lookup(entity, name.split(".")) if not isinstance(v, dict | list)}:
                        counts[value] = counts.get(value, 0) + 1
                facets[name] = [{"value": value, "count": counts[value]} for value in sorted(counts)]
            return {"facets": facets}

    return Handler


class BackstageServer:
    """Runs a FakeBackstage on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, fake: FakeBackstage) -> None:
        self.fake = fake
        self._server = LocalServer(_handler(fake), name="fake-backstage", quiet_errors=True)
        self.url = fake.url = self._server.url

    def __enter__(self) -> BackstageServer:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

"""The HTTP side of the demo cluster: Kubernetes REST paths routed to list, watch, get, logs, patch, scale, delete."""

from __future__ import annotations

import copy
import json
import select
import socket
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from idp_tui.kube.demo_cluster import custom, discovery, tables
from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.listing import serve_list
from idp_tui.kube.demo_cluster.logs import LogError, container_log
from idp_tui.kube.demo_cluster.selectors import SelectorError, field_matcher, label_matcher
from idp_tui.kube.demo_cluster.state import CUSTOM, RESOURCES, ClusterState, merge_patch
from idp_tui.kube.demo_cluster.streams import serve_log, serve_watch
from idp_tui.local_http import LocalRequestHandler

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.server import DemoCluster

VERBS = {"GET": "get", "PATCH": "patch", "PUT": "update", "DELETE": "delete", "POST": "create"}


class ApiError(Exception):
    """An error answered with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.body = o.status_body(code, reason, message, details)


def not_found(plural: str, name: str) -> ApiError:
    """The API server's NotFound for one object."""
    group = RESOURCES.get(plural, ("v1",))[0].rpartition("/")[0]
    resource = f"{plural}.{group}" if group else plural
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "group": group, "kind": plural})


class Handler(LocalRequestHandler):
    """One connection; ``server.demo`` is the owning DemoCluster."""

    server_version = "idp-tui-demo-cluster"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Discovery, get, list, watch and logs."""
        self._handle("GET")

    def do_PATCH(self) -> None:  # noqa: N802
        """Deployment, scale and custom resource patches."""
        self._handle("PATCH")

    def do_PUT(self) -> None:  # noqa: N802
        """Scale updates."""
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        """Pod deletion."""
        self._handle("DELETE")

    def do_POST(self) -> None:  # noqa: N802
        """Nothing can be created: answered 405 (or 404) with a Status body."""
        self._handle("POST")

    # -- plumbing ------------------------------------------------------------------------------------------------

    @property
    def demo(self) -> DemoCluster:
        """The DemoCluster this server belongs to."""
        return self.server.demo  # type: ignore[attr-defined]

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else None
        parts = [part for part in url.path.split("/") if part]
        if len(parts) >= 2 and parts[0] == "clusters":
            cluster, api_parts = parts[1], parts[2:]
        else:
            # A client configured in-cluster calls the API server at its root: that is the first cluster.
            cluster, api_parts = self.demo.contexts[0], parts
        rest = "/" + "/".join(api_parts)
        self.cluster_name = cluster
        self.demo.record(
            cluster, method, rest, self.query, raw, self.headers.get("Content-Type"), connection=self.client_address[1]
        )
        if cluster in self.demo.latency:
            time.sleep(self.demo.latency[cluster])
        try:
            state = self.demo.cluster(cluster)
            if state is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            failure = self.demo.failures.get(cluster)
            if failure is not None and self._failed(failure, method, api_parts):
                return
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            # The scheme is case-insensitive (the client's in-cluster loader sends "bearer").
            if scheme.lower() != "bearer" or token != "demo":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            self._route(state, method, api_parts, raw)
        except ApiError as error:
            self.send_json(error.body["code"], error.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # noqa: BLE001 - a demo bug must answer 500 like an API server, not hang the client
            self.send_json(500, o.status_body(500, "InternalError", f"Internal error occurred: {error!r}"))

    def _failed(self, failure: int | str, method: str, parts: list[str]) -> bool:
        if failure == "unreachable":
            # Drop the connection without an answer, as a dead load balancer or node would.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if failure == "timeout":
            self.demo.stopping.wait(30)
            self.close_connection = True
            return True
        if failure == "stall":
            # No answer until the cluster is healed (then it answers as usual) or 30 s have passed.
            if self.demo.wait_healed(self.cluster_name, 30):
                return False
            self.close_connection = True
            return True
        if failure == 401:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if failure == 403:
            raise _forbidden(method, parts, self.query)
        raise ApiError(int(failure), "InternalError", "Internal error occurred: demo failure")

    def send_json(self, code: int, body: Any) -> None:
        """Answer with a JSON body and its Content-Length (the connection stays open for the next request)."""
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, text: str) -> None:
        """Answer 200 with plain text (pod logs)."""
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_chunks(self, content_type: str) -> None:
        """Begin a chunked 200 response (watches and followed logs)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        """Send one chunk now (flushed, so the client sees it at once); empty data sends nothing."""
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunks(self) -> None:
        """End a chunked response cleanly, as the API server does when a watch times out."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def client_gone(self) -> bool:
        """Whether the client closed its end of a stream, as the API server notices and ends the watch.

        A client sends nothing more while it reads a watch or a followed log (HTTP/1.1, no pipelining), so the
        connection turning readable means it closed (or broke the protocol). Without this check, a stream whose
        client had gone kept its thread waking five times a second until its timeout (30 minutes by default),
        and each Deployments view opened and closed left about fifteen of them behind.
        """
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):  # closed already
            return True
        return bool(readable)

    # -- routing -------------------------------------------------------------------------------------------------

    def _route(self, state: ClusterState, method: str, parts: list[str], raw: str | None) -> None:
        if method == "GET" and len(parts) <= 3 and self._discovery(state, parts):
            return
        if parts[:2] == ["api", "v1"]:
            group_version, rest = "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = None
        if len(rest) >= 2 and rest[0] == "namespaces":
            if len(rest) == 2:
                plural, name, sub = "namespaces", rest[1], None
            else:
                namespace, plural, name, sub = rest[1], rest[2], (rest[3:4] or [None])[0], (rest[4:5] or [None])[0]
        else:
            plural, name, sub = rest[0] if rest else "", (rest[1:2] or [None])[0], None
        if plural not in state.served or RESOURCES[plural][0] != group_version or len(rest) > 5:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if name is None:
            if method != "GET":
                raise _not_allowed()
            if self.query.get("watch") in ("true", "1"):
                self._watch(state, plural, namespace)
            else:
                self._list(state, plural, namespace)
            return
        if sub == "log" and plural == "pods" and method == "GET":
            self._log(state, namespace or "", name)
        elif sub == "scale" and plural == "deployments":
            self._scale(state, method, namespace or "", name, raw)
        elif plural in CUSTOM and (method == "PATCH" or sub == "status"):
            self._custom(state, method, plural, namespace or "", name, sub, raw)
        elif sub is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        elif method == "GET":
            with state.lock:
                state.tick()
                obj = state.get(plural, namespace or "", name)
            if obj is None:
                raise not_found(plural, name)
            version = tables.table_version(self.headers.get("Accept"))
            if version:
                list_meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                self.send_json(200, self._table(plural, [obj], list_meta, version))
            else:
                self.send_json(200, obj)
        elif method == "PATCH" and plural in ("deployments", "statefulsets", "daemonsets"):
            self.send_json(
                200, self.demo.patch_workload(state, plural, namespace or "", name, raw or "{}", self._patch_type())
            )
        elif method == "DELETE" and plural == "pods":
            deleted = state.delete_pod(namespace or "", name)
            if deleted is None:
                raise not_found(plural, name)
            self.send_json(200, deleted)
        else:
            raise _not_allowed()

    def _discovery(self, state: ClusterState, parts: list[str]) -> bool:
        address = f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        documents: dict[tuple[str, ...], Any] = {
            ("version",): lambda: discovery.version(state.server_version),
            ("api",): lambda: discovery.api_versions(address),
            ("apis",): discovery.api_group_list,
            ("api", "v1"): lambda: discovery.resource_list("v1", state.served),
        }
        for group, versions in discovery.GROUPS.items():
            documents[("apis", group)] = lambda group=group: discovery.api_group(group)
            for version in versions:
                documents[("apis", group, version)] = lambda gv=f"{group}/{version}": discovery.resource_list(
                    gv, state.served
                )
        if tuple(parts) in ("healthz", "readyz", "livez"):
            self.send_text("ok")
            return True
        document = documents.get(tuple(parts))
        if document is None:
            return False
        self.send_json(200, document())
        return True

    def _patch_type(self) -> str:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type not in (
            "application/strategic-merge-patch+json",
            "application/merge-patch+json",
            "application/json-patch+json",
        ):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted "
                "media types include: application/json-patch+json, application/merge-patch+json, "
                "application/strategic-merge-patch+json",
            )
        return content_type

    # -- list and watch ------------------------------------------------------------------------------------------

    def _matchers(self, plural: str) -> tuple[Any, Any]:
        try:
            labels = label_matcher(self.query.get("labelSelector"))
            return labels, field_matcher(self.query.get("fieldSelector"), plural)
        except SelectorError as error:
            raise ApiError(400, "BadRequest", str(error)) from None

    def _list(self, state: ClusterState, plural: str, namespace: str | None) -> None:
        serve_list(self, state, plural, namespace, self._matchers(plural))

    def _table(self, plural: str, objects: list[dict[str, Any]], list_meta: dict[str, Any], version: str) -> dict:
        include = self.query.get("includeObject")
        return tables.table(plural, objects, list_meta, version=version, include_object=include)

    def _watch(self, state: ClusterState, plural: str, namespace: str | None) -> None:
        version = tables.table_version(self.headers.get("Accept"))
        include = self.query.get("includeObject")

        def as_table(obj: dict[str, Any], headers: bool) -> dict[str, Any]:
            # Each event carries a one-row Table; like the API server, only the first has the column definitions.
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return tables.table(plural, [obj], meta, version=version or "v1", include_object=include, headers=headers)

        serve_watch(self, state, plural, namespace, self._matchers(plural), as_table if version else None)

    # -- custom resources ----------------------------------------------------------------------------------------

    def _custom(
        self, state: ClusterState, method: str, plural: str, namespace: str, name: str, sub: str | None, raw: str | None
    ) -> None:
        """A custom resource's status subresource (GET) or a patch of it or its status; its controller then reacts
        as it would to the watch event."""
        if sub not in (None, "status") or (sub == "status" and plural not in custom.STATUS_SUBRESOURCE):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            with state.lock:
                state.tick()
                obj = state.get(plural, namespace, name)
            if obj is None:
                raise not_found(plural, name)
            self.send_json(200, obj)
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        with state.lock:
            state.tick()
            try:
                _, stored = custom.patch(state, plural, namespace, name, sub, raw or "", content_type)
            except custom.PatchError as error:
                details = {"name": name, "group": "argoproj.io", "kind": plural} if error.code in (404, 409) else None
                raise ApiError(error.code, error.reason, error.message, details) from None
            answer = copy.deepcopy(stored)  # the object as patched; the controller's own writes follow it
            if plural == "applications":
                state.argocd.changed(stored)
            else:
                state.rollouts.reconcile(stored)
        self.send_json(200, answer)

    # -- logs, patch, scale --------------------------------------------------------------------------------------

    def _log(self, state: ClusterState, namespace: str, name: str) -> None:
        with state.lock:
            state.tick()
            pod = state.get("pods", namespace, name)
        if pod is None:
            raise not_found("pods", name)
        try:
            log = container_log(state.seed, pod, self.query.get("container"), self.query.get("previous") == "true")
        except LogError as error:
            raise ApiError(400, "BadRequest", str(error)) from None
        serve_log(self, state, pod, log)

    def _scale(self, state: ClusterState, method: str, namespace: str, name: str, raw: str | None) -> None:
        with state.lock:
            deployment = state.get("deployments", namespace, name)
        if deployment is None:
            raise not_found("deployments", name)
        if method in ("PUT", "PATCH"):
            body = _json(raw)
            if method == "PATCH":
                body = merge_patch(_scale_of(deployment), body)
            replicas = (body.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value')
            patch = json.dumps({"spec": {"replicas": replicas}})
            deployment = self.demo.patch_deployment(state, namespace, name, patch, "application/merge-patch+json")
        elif method != "GET":
            raise _not_allowed()
        self.send_json(200, _scale_of(deployment))


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw or "{}")
    except ValueError as error:
        raise ApiError(400, "BadRequest", f"error decoding patch: {error}") from None


def _scale_of(deployment: dict[str, Any]) -> dict[str, Any]:
    meta = deployment["metadata"]
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: copy.deepcopy(meta[key])
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        },
        "spec": {"replicas": deployment["spec"].get("replicas", 1)},
        "status": {"replicas": deployment.get("status", {}).get("replicas", 0), "selector": selector},
    }


def _not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def _forbidden(method: str, parts: list[str], query: dict[str, str]) -> ApiError:
    """The RBAC refusal for this request, worded exactly as the API server words it."""
    group = parts[1] if parts[:1] == ["apis"] and len(parts) > 1 else ""
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    namespace = rest[1] if len(rest) >= 3 and rest[0] == "namespaces" else None
    rest = rest[2:] if namespace else rest
    resource = rest[0] if rest else "namespaces" if namespace is None and len(parts) > 2 else ""
    name = rest[1] if len(rest) > 1 else None
    if len(rest) > 2:
        resource = f"{resource}/{rest[2]}"
    verb = VERBS.get(method, "get")
    if method == "GET" and name is None:
        verb = "watch" if query.get("watch") in ("true", "1") else "list"
    qualified = f"{resource.split('/')[0]}.{group}" if group else resource.split("/")[0]
    subject = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = f'{subject} is forbidden: User "demo" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
    details: dict[str, Any] = {"group": group, "kind": resource.split("/")[0]}
    if name:
        details = {"name": name, **details}
    return ApiError(403, "Forbidden", message, details)

"""Lists and watches of the kinds idp-tui reads, sent through the official client's ``ApiClient`` directly.

The request is the one the generated ``CoreV1Api.list_namespaced_pod`` (and its siblings) sends: the same path, query
parameters, ``Accept: application/json``, bearer-token authentication and TLS from the kubeconfig, the same
``ApiException`` for an answer that is not 2xx, and the same raw urllib3 response (``_preload_content=False``) to
read JSON or a watch stream from. What is skipped is the generated API classes themselves: importing ``CoreV1Api``
builds some 250 pydantic models (~0.6 s, ``AppsV1Api`` another ~0.15 s) that a caller reading plain JSON never uses,
and that cost fell on the first ``d`` of every session and on every ``idp-tui deployments``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

# kind -> (the API's path prefix, the resource's plural)
RESOURCES: dict[str, tuple[str, str]] = {
    "Deployment": ("/apis/apps/v1", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "Pod": ("/api/v1", "pods"),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "Event": ("/api/v1", "events"),
}
# The generated methods' keyword arguments and the query parameters they become, in the order they send them.
_QUERY = (
    ("allow_watch_bookmarks", "allowWatchBookmarks"),
    ("_continue", "continue"),
    ("field_selector", "fieldSelector"),
    ("label_selector", "labelSelector"),
    ("limit", "limit"),
    ("resource_version", "resourceVersion"),
    ("resource_version_match", "resourceVersionMatch"),
    ("timeout_seconds", "timeoutSeconds"),
    ("watch", "watch"),
)


def list_path(kind: str, namespace: str | None) -> str:
    """``/api/v1/namespaces/<ns>/pods`` (or ``/api/v1/pods`` across namespaces) for ``kind``."""
    prefix, plural = RESOURCES[kind]
    return resource_path(prefix, plural, namespace)


def resource_path(prefix: str, plural: str, namespace: str | None) -> str:
    """The collection path of ``plural`` under an API ``prefix`` (``/apis/argoproj.io/v1alpha1``)."""
    if namespace:
        return f"{prefix}/namespaces/{quote(namespace, safe='')}/{plural}"
    return f"{prefix}/{plural}"


def list_kind(api_client: Any, kind: str, namespace: str | None = None, **options: Any) -> Any:
    """List (or, with ``watch=True``, watch) ``kind`` in ``namespace`` or every namespace; the raw urllib3 response.

    Takes the generated ``list_*`` methods' keyword arguments (``label_selector``, ``field_selector``, ``limit``,
    ``_continue``, ``resource_version``, ``timeout_seconds``, ``allow_watch_bookmarks``, ``watch``,
    ``_request_timeout``), so it can stand in for them.

    Raises:
        kubernetes.client.exceptions.ApiException: the server answered with anything but 2xx.
        ValueError: an option the generated methods do not have, or ``_preload_content=True``.
    """
    prefix, plural = RESOURCES[kind]
    return list_resource(api_client, prefix, plural, namespace, **options)


def list_resource(
    api_client: Any,
    prefix: str,
    plural: str,
    namespace: str | None = None,
    *,
    _request_timeout: Any = None,
    _preload_content: bool = False,
    **options: Any,
) -> Any:
    """:func:`list_kind` for any resource, custom ones included (``CustomObjectsApi.list_namespaced_custom_object``
    sends the same request for ``/apis/<group>/<version>``)."""
    from kubernetes.client.exceptions import ApiException

    if _preload_content:
        raise ValueError("list_resource answers raw responses only (_preload_content=False)")
    known = {name for name, _ in _QUERY}
    if set(options) - known:
        raise ValueError(f"unknown list options: {', '.join(sorted(set(options) - known))}")
    query = []
    for name, parameter in _QUERY:
        value = options.get(name)
        if value is not None:
            query.append((parameter, str(value).lower() if isinstance(value, bool) else value))
    serialized = api_client.param_serialize(
        method="GET",
        resource_path=resource_path(prefix, plural, namespace),
        query_params=query,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(*serialized, _request_timeout=_request_timeout)
    if not 200 <= response.status <= 299:
        response.read()
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return response.response

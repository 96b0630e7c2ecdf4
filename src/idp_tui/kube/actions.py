"""Rollout restart, scale and delete pod, sending byte for byte what kubectl sends.

What kubectl sends, as read in kubernetes/kubernetes ``staging/src/k8s.io/kubectl``:

- ``rollout restart`` (``pkg/cmd/rollout/rollout_restart.go``, ``pkg/polymorphichelpers/objectrestarter.go``,
  ``pkg/cmd/set/helper.go``): GET the object; refuse a paused Deployment; set the pod template annotation
  ``kubectl.kubernetes.io/restartedAt`` to ``time.Now().Format(time.RFC3339)``; send the two-way strategic merge
  patch between before and after, ``PATCH ...?fieldManager=kubectl-rollout`` with
  ``Content-Type: application/strategic-merge-patch+json`` and the body
  ``{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"<time>"}}}}}``.
- ``scale`` (``pkg/cmd/scale/scale.go``, ``pkg/scale/scale.go`` ``ScaleSimple`` without preconditions):
  ``PATCH .../<resource>/<name>/scale`` with ``Content-Type: application/merge-patch+json`` and
  ``{"spec":{"replicas":N}}``.
- ``delete pod`` (``pkg/cmd/delete/delete.go``): ``DELETE .../pods/<name>`` with ``Content-Type: application/json``
  and the DeleteOptions ``{"propagationPolicy":"Background"}`` (the default ``--cascade=background``).

The Python client re-encodes JSON bodies with spaces after separators, so the requests are built with the client's
own URL, headers and authentication and the exact bytes are handed to its connection pool.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..strict_json import loads_strict
from .errors import ActionFailed, MutationRefused, describe_api_error

RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
# kind -> (API path prefix, plural, kubectl's resource name)
WORKLOADS: dict[str, tuple[str, str, str]] = {
    "Deployment": ("/apis/apps/v1", "deployments", "deployment"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", "statefulset"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets", "daemonset"),
}
SCALABLE = ("Deployment", "StatefulSet")  # DaemonSets have no scale subresource


def rfc3339(now: datetime | None = None) -> str:
    """``now`` (default: this moment, local zone) as Go's ``time.RFC3339`` prints it: whole seconds, ``Z`` for UTC.

    A naive datetime is taken as local time, as Go's ``time.Now()`` is.
    """
    moment = (now or datetime.now()).astimezone() if (now is None or now.tzinfo is None) else now
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        zone = "Z"
    else:
        sign, minutes = ("+" if offset > timedelta(0) else "-"), int(abs(offset).total_seconds()) // 60
        zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone  # Go truncates fractions, as strftime does here


def _compact(body: dict[str, Any]) -> bytes:
    # Go's encoding/json: no spaces, map keys sorted.
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _kubectl(cluster: str, namespace: str, *words: str) -> str:
    return shlex.join(["kubectl", "--context", cluster, "-n", namespace, *words])


class WorkloadAction:
    """What every action (restart, scale, delete pod) shares: the read-only guard, the request and its errors."""

    cluster: str
    namespace: str
    name: str

    @property
    def kubectl(self) -> str:  # pragma: no cover - every action defines it
        """The equivalent kubectl command, shown in confirmations and errors."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - every action defines it
        """What the action will do, in a sentence, for the confirmation."""
        raise NotImplementedError

    def apply(self, api_client: Any, now: datetime | None = None, *, read_only: bool = False) -> dict[str, Any]:
        """Send the action through ``api_client``; the API server's answer.

        Raises:
            MutationRefused: ``read_only``; nothing was sent.
            ActionFailed: the cluster refused or could not be reached.
        """
        raise NotImplementedError  # pragma: no cover - every action defines it

    def _refuse_if(self, read_only: bool) -> None:
        if read_only:
            raise MutationRefused(f"read-only mode is on: not running `{self.kubectl}`")

    def _what(self) -> str:  # the resource named in error messages
        return "pods"

    def _send(self, api_client: Any, method: str, path: str, **options: Any) -> dict[str, Any]:
        try:
            return send(api_client, method, path, **options)
        except Exception as error:  # noqa: BLE001 - every failure becomes one line naming the command
            # describe_api_error words its messages for reads ("listing pods"); this was a write.
            text = describe_api_error(error, self._what()).replace(f"listing {self._what()}", f"on {self._what()}")
            raise ActionFailed(f"`{self.kubectl}` failed: {text}") from error


@dataclass(frozen=True)
class RestartWorkload(WorkloadAction):
    """``kubectl rollout restart``: a new pod template annotation starts a fresh rollout."""

    cluster: str
    kind: str
    namespace: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in WORKLOADS:
            raise ValueError(f"cannot restart a {self.kind}: only {', '.join(WORKLOADS)}")

    @property
    def kubectl(self) -> str:
        """The equivalent kubectl command."""
        return _kubectl(self.cluster, self.namespace, "rollout", "restart", f"{WORKLOADS[self.kind][2]}/{self.name}")

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        return (
            f"Restart every pod of {self.kind.lower()} {self.name} in {self.namespace} on {self.cluster}, one by one."
        )

    def _what(self) -> str:
        return WORKLOADS[self.kind][1]

    def patch_body(self, now: datetime | None = None) -> bytes:
        """The strategic merge patch kubectl computes, byte for byte."""
        annotations = {RESTART_ANNOTATION: rfc3339(now)}
        return _compact({"spec": {"template": {"metadata": {"annotations": annotations}}}})

    def apply(self, api_client: Any, now: datetime | None = None, *, read_only: bool = False) -> dict[str, Any]:
        """Send the restart; returns the updated object.

        Raises:
            MutationRefused: ``read_only`` is on (nothing is sent).
            ActionFailed: The deployment is paused, or the cluster refused (the message says why).
        """
        self._refuse_if(read_only)
        prefix, plural, _ = WORKLOADS[self.kind]
        path = f"{prefix}/namespaces/{self.namespace}/{plural}/{self.name}"
        current = self._send(api_client, "GET", path)
        if self.kind == "Deployment" and (current.get("spec") or {}).get("paused"):
            raise ActionFailed(f"`{self.kubectl}` failed: can't restart paused deployment (run rollout resume first)")
        return self._send(
            api_client,
            "PATCH",
            path,
            query={"fieldManager": "kubectl-rollout"},
            body=self.patch_body(now),
            content_type="application/strategic-merge-patch+json",
        )


@dataclass(frozen=True)
class ScaleWorkload(WorkloadAction):
    """``kubectl scale --replicas=N`` through the scale subresource."""

    cluster: str
    kind: str
    namespace: str
    name: str
    replicas: int

    def __post_init__(self) -> None:
        if self.kind not in SCALABLE:
            raise ValueError(f"cannot scale a {self.kind}: only {', '.join(SCALABLE)}")
        if not isinstance(self.replicas, int) or self.replicas < 0:
            raise ValueError("replicas must be a whole number, 0 or more")

    @property
    def kubectl(self) -> str:
        """The equivalent kubectl command."""
        resource = f"{WORKLOADS[self.kind][2]}/{self.name}"
        return _kubectl(self.cluster, self.namespace, "scale", resource, f"--replicas={self.replicas}")

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        return (
            f"Scale {self.kind.lower()} {self.name} in {self.namespace} on {self.cluster} to {self.replicas} replicas."
        )

    def _what(self) -> str:
        return f"{WORKLOADS[self.kind][1]}/scale"

    def apply(self, api_client: Any, now: datetime | None = None, *, read_only: bool = False) -> dict[str, Any]:
        """Send the scale patch; returns the Scale object. Raises as :meth:`RestartWorkload.apply`."""
        self._refuse_if(read_only)
        prefix, plural, _ = WORKLOADS[self.kind]
        return self._send(
            api_client,
            "PATCH",
            f"{prefix}/namespaces/{self.namespace}/{plural}/{self.name}/scale",
            body=_compact({"spec": {"replicas": self.replicas}}),
            content_type="application/merge-patch+json",
        )


@dataclass(frozen=True)
class DeletePod(WorkloadAction):
    """``kubectl delete pod``: its controller replaces it."""

    cluster: str
    namespace: str
    name: str

    @property
    def kubectl(self) -> str:
        """The equivalent kubectl command."""
        return _kubectl(self.cluster, self.namespace, "delete", "pod", self.name)

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        return f"Delete pod {self.name} in {self.namespace} on {self.cluster}; its controller starts a replacement."

    def apply(self, api_client: Any, now: datetime | None = None, *, read_only: bool = False) -> dict[str, Any]:
        """Send the delete; returns the pod as deleted. Raises as :meth:`RestartWorkload.apply`."""
        self._refuse_if(read_only)
        return self._send(
            api_client,
            "DELETE",
            f"/api/v1/namespaces/{self.namespace}/pods/{self.name}",
            body=_compact({"propagationPolicy": "Background"}),
            content_type="application/json",
        )


def send(
    api_client: Any,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """One request with exactly ``body`` as its bytes, authenticated as the client's other calls are.

    Raises:
        kubernetes.client.exceptions.ApiException: A non-2xx answer (as the generated API methods raise).
    """
    import urllib3
    from kubernetes.client.exceptions import ApiException
    from kubernetes.client.rest import RESTResponse

    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    _, url, headers, _, _ = api_client.param_serialize(
        method=method,
        resource_path=path,
        query_params=list((query or {}).items()),
        header_params=headers,
        auth_settings=["BearerToken"],
    )
    raw = api_client.rest_client.pool_manager.request(
        method, url, body=body, headers=headers, timeout=urllib3.Timeout(total=timeout), preload_content=False
    )
    response = RESTResponse(raw)
    response.read()
    if not 200 <= response.status <= 299:
        ApiException.from_response(http_resp=response, body=None, data=None)  # raises the typed exception
    return loads_strict(response.data or b"{}")

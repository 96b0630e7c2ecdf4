"""Custom resources (Argo CD Applications, Argo Rollouts) written as the API server writes them.

The rules of ``k8s.io/apiextensions-apiserver`` that clients notice:

- PATCH accepts ``application/merge-patch+json`` and ``application/json-patch+json``; a strategic merge patch is
  refused with 415 (custom resources have no patch strategy).
- A ``metadata.resourceVersion`` in the patched object is a precondition: another version answers 409 Conflict
  ("the object has been modified; please apply your changes to the latest version and try again").
- With a ``status`` subresource (Rollouts), a write to the object keeps the stored status and a write to
  ``/status`` changes only the status; without one (Applications), the status is written with the object.
- ``metadata.generation`` counts spec changes (with a status subresource) or every change but metadata's
  (without one).
- ``null`` in a field whose schema is not ``nullable`` is dropped (no field of Argo's CRDs is nullable), so the
  controller's ``{"op":"add","path":"/operation","value":null}`` removes ``operation``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from idp_tui.kube.demo_cluster.state import RESOURCES, ClusterState, merge_patch

STATUS_SUBRESOURCE = ("rollouts",)
MERGE, JSON_PATCH = "application/merge-patch+json", "application/json-patch+json"


class PatchError(Exception):
    """A refused patch: the HTTP code, reason and message the API server answers with."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def qualified(plural: str) -> str:
    """``applications.argoproj.io``."""
    return f"{plural}.{RESOURCES[plural][0].split('/')[0]}"


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace and test (a failed test is 422, as the API server answers it)."""
    if not isinstance(operations, list):
        raise PatchError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError(400, "BadRequest", "invalid JSON patch operation")
        op, raw_path = operation.get("op"), operation.get("path", "")
        path = [part.replace("~1", "/").replace("~0", "~") for part in str(raw_path).split("/")[1:]]
        parent: Any = document
        try:
            for part in path[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            last = path[-1] if path else ""
            if op == "test":
                current = parent[int(last)] if isinstance(parent, list) else parent[last]
                if current != operation.get("value"):
                    raise PatchError(
                        422,
                        "Invalid",
                        f"the server rejected our request due to an error in our request: "
                        f"testing value {raw_path} failed: test failed",
                    )
            elif op in ("add", "replace"):
                if isinstance(parent, list):
                    index = len(parent) if last == "-" else int(last)
                    parent[index : index + (op == "replace")] = [operation.get("value")]
                else:
                    if op == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = copy.deepcopy(operation.get("value"))
            elif op == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            else:
                raise PatchError(422, "Invalid", f"unsupported JSON patch operation {op!r}")
        except (KeyError, IndexError, ValueError, TypeError):
            message = (
                "the server rejected our request due to an error in our request: "
                f"{op} operation does not apply: doc is missing path: {raw_path}"
            )
            raise PatchError(422, "Invalid", message) from None
    return document


def drop_nulls(value: Any) -> Any:
    """Non-nullable fields set to null are dropped (``PruneNonNullableNullsWithoutDefaults``)."""
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


def patch(
    state: ClusterState,
    plural: str,
    namespace: str,
    name: str,
    subresource: str | None,
    raw: str,
    content_type: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a client's patch to a custom resource (call with the cluster's lock held).

    Returns:
        (the object before, the object as stored).

    Raises:
        PatchError: 404, 409, 415, 400 or 422, worded as the API server words them.
    """
    if content_type not in (MERGE, JSON_PATCH):
        raise PatchError(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )
    current = state.get(plural, namespace, name)
    if current is None:
        raise PatchError(404, "NotFound", f'{qualified(plural)} "{name}" not found')
    try:
        body = json.loads(raw or "{}")
    except ValueError as error:
        raise PatchError(400, "BadRequest", f"error decoding patch: {error}") from None
    if content_type == JSON_PATCH:
        patched = json_patch(current, body)
    elif isinstance(body, dict):
        patched = merge_patch(copy.deepcopy(current), body)
    else:
        unmarshal = "json: cannot unmarshal array into Go value of type map[string]interface {}"
        raise PatchError(400, "BadRequest", unmarshal)
    if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
        raise PatchError(422, "Invalid", f'{qualified(plural)} "{name}" is invalid: metadata: Required value')
    wanted = patched["metadata"].get("resourceVersion")
    if wanted and wanted != current["metadata"].get("resourceVersion"):
        message = (
            f'Operation cannot be fulfilled on {qualified(plural)} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
        raise PatchError(409, "Conflict", message)
    patched = drop_nulls(patched)
    # What no patch may change: identity, and what the API server sets.
    for key in ("name", "namespace", "uid", "creationTimestamp", "resourceVersion", "generation"):
        if key in current["metadata"]:
            patched["metadata"][key] = current["metadata"][key]
    patched["kind"], patched["apiVersion"] = current["kind"], current["apiVersion"]
    if plural in STATUS_SUBRESOURCE:
        if subresource == "status":
            patched = {**copy.deepcopy(current), "status": patched.get("status", {})}
        else:
            patched["status"] = copy.deepcopy(current.get("status", {}))
    elif subresource is not None:
        raise PatchError(404, "NotFound", "the server could not find the requested resource")
    counted = ("spec",) if plural in STATUS_SUBRESOURCE else tuple(k for k in {**current, **patched} if k != "metadata")
    if any(current.get(key) != patched.get(key) for key in counted):
        patched["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
    return current, state.put(patched)

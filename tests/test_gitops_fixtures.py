"""The Argo fixtures are what a cluster would hold: each validates against Argo's own CRD schema and has no field
the API server would prune. Also the helpers the other GitOps tests share (loading, CRD checks, merge patches).

The schemas are Argo CD v3.5.1's ``application-crd.yaml`` and Argo Rollouts v1.9.1's ``rollout-crd.yaml``
(``tests/fixtures/argo/extract_crd_schemas.py`` rebuilds them from the projects' git repositories).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ARGO = Path(__file__).parent / "fixtures" / "argo"
APPLICATIONS = sorted(path.name for path in ARGO.glob("app-*.yaml"))
ROLLOUTS = sorted(path.name for path in ARGO.glob("rollout-*.yaml"))


def load_all(name: str) -> list[dict[str, Any]]:
    """Every document of a fixture file (a Rollout file holds its ReplicaSets and pods after it)."""
    return [doc for doc in yaml.safe_load_all((ARGO / name).read_text()) if doc]


def load(name: str) -> dict[str, Any]:
    """The first document of a fixture file, a fresh copy each time."""
    return copy.deepcopy(load_all(name)[0])


def of_kind(name: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in load_all(name) if doc.get("kind") == kind]


@cache
def crd(kind: str) -> dict[str, Any]:
    """The extracted CRD (``Application`` or ``Rollout``): source, subresources and ``openAPIV3Schema``."""
    file = {"Application": "application-crd.schema.json", "Rollout": "rollout-crd.schema.json"}[kind]
    return json.loads((ARGO / file).read_text())


def crd_errors(obj: dict[str, Any], schema: dict[str, Any] | None = None) -> list[str]:
    """What the API server's schema validation would refuse in ``obj`` (path: message)."""
    schema = schema or crd(obj["kind"])["openAPIV3Schema"]
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(obj)
    ]


def pruned(obj: Any, schema: dict[str, Any], path: str = "", root: bool = True) -> list[str]:
    """Fields of ``obj`` the API server would silently drop: not declared in the structural schema (and not under
    ``x-kubernetes-preserve-unknown-fields``). The root's ``metadata`` is ObjectMeta, checked elsewhere."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(obj, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, value in obj.items():
            if root and key == "metadata":
                continue
            if key in properties:
                found += pruned(value, properties[key], f"{path}/{key}", False)
            elif isinstance(additional, dict):
                found += pruned(value, additional, f"{path}/{key}", False)
            elif additional is not True:
                found.append(f"{path}/{key}")
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(obj):
            found += pruned(item, schema["items"], f"{path}/{index}", False)
    return found


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the API server applies ``application/merge-patch+json``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@pytest.mark.parametrize("name", APPLICATIONS + ROLLOUTS)
def test_fixture_is_valid_for_argos_crd_and_nothing_would_be_pruned(name):
    obj = load(name)
    schema = crd(obj["kind"])["openAPIV3Schema"]
    assert crd_errors(obj) == []
    assert pruned(obj, schema) == []


def test_the_crd_checks_catch_what_the_api_server_would_refuse_or_drop():
    app = load("app-synced-healthy.yaml")
    app["status"]["history"][0]["id"] = "eleven"  # an int64 in types.go
    app["operation"] = {"sync": {"revison": "main"}}  # misspelt: pruned, the sync would use the target revision
    assert any("history/0/id" in error for error in crd_errors(app))
    assert pruned(app, crd("Application")["openAPIV3Schema"]) == ["/operation/sync/revison"]


def test_application_has_no_status_subresource_and_rollout_has_one():
    # Why Argo CD's API server clears status.operationState with the same update that sets operation, and why
    # kubectl argo rollouts patches .../rollouts/NAME/status separately from the spec.
    assert crd("Application")["subresources"] == {}
    assert "status" in crd("Rollout")["subresources"]
    assert crd("Application")["source"]["tag"] == "v3.5.1"
    assert crd("Rollout")["source"]["tag"] == "v1.9.1"


def test_merge_patch_follows_rfc_7386():
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": None, "e": [1]}, "d": {"x": 1}}) == {
        "a": {"c": 2, "e": [1]},
        "d": {"x": 1},
    }

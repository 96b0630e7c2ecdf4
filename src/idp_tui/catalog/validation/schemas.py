"""JSON Schemas for the entity envelope, metadata and each built-in kind.

They state the same constraints as ``@backstage/catalog-model``'s schema files (and the scaffolder's
``Template.v1beta3`` schema), written out here without their documentation strings. The kind schemas
hold only the kind-specific part; the shared ``ENTITY`` part is checked once by the policy stage, as
Backstage's ``SchemaValidEntityPolicy`` does.
"""

from __future__ import annotations

from typing import Any

_STRING = {"type": "string", "minLength": 1}
_STRING_LIST = {"type": "array", "items": _STRING}
_STRING_MAP = {"type": "object", "additionalProperties": True, "patternProperties": {"^.+$": {"type": "string"}}}
_PROFILE = {
    "type": "object",
    "properties": {"displayName": _STRING, "email": _STRING, "picture": _STRING},
}
_PERMISSIONS = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}

# The envelope every document must have before anything else is looked at (EntityEnvelope).
ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "apiVersion": _STRING,
        "kind": _STRING,
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _STRING, "namespace": _STRING},
        },
    },
}

ENTITY_META: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": True,
    "properties": {
        "uid": _STRING,
        "etag": _STRING,
        "name": _STRING,
        "namespace": _STRING,
        "title": _STRING,
        "description": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "tags": _STRING_LIST,
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": _STRING, "title": _STRING, "icon": _STRING, "type": _STRING},
            },
        },
    },
}

_RELATION = {
    "type": "object",
    "required": ["type", "targetRef"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "minLength": 1, "pattern": r"^\w+$"},
        "target": {
            "type": "object",
            "required": ["kind", "namespace", "name"],
            "additionalProperties": False,
            "properties": {"kind": _STRING, "namespace": _STRING, "name": _STRING},
        },
        "targetRef": _STRING,
    },
}

_STATUS_ITEM = {
    "type": "object",
    "required": ["type", "level", "message"],
    "properties": {
        "type": _STRING,
        "level": {"type": "string", "enum": ["info", "warning", "error"]},
        "message": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["name", "message"],
            "properties": {
                "name": _STRING,
                "message": {"type": "string"},
                "code": {"type": "string"},
                "stack": {"type": "string"},
            },
        },
    },
}

# The whole-entity schema (Entity): unknown root fields are rejected here.
ENTITY: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": _STRING,
        "kind": _STRING,
        "metadata": ENTITY_META,
        "spec": {"type": "object"},
        "relations": {"type": "array", "items": _RELATION},
        "status": {"type": "object", "properties": {"items": {"type": "array", "items": _STATUS_ITEM}}},
    },
}

_BACKSTAGE_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")


def _spec(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["spec"],
        "properties": {"spec": {"type": "object", "required": required, "properties": properties}},
    }


_TEMPLATE_STEP = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "action": {"type": "string"},
        "input": {"type": "object"},
        "if": {"type": ["string", "boolean"]},
        "backstage:permissions": _PERMISSIONS,
    },
}
_CONDITION = {"type": ["string", "boolean"]}
_FORM_DECORATORS = {
    "type": "array",
    "items": {"type": "object", "properties": {"id": {"type": "string"}, "input": {"type": "object"}}},
}
_TEMPLATE_SPEC = {
    "type": {"type": "string", "minLength": 1},
    "owner": _STRING,
    "lifecycle": _STRING,
    "parameters": {
        "oneOf": [
            {"type": "object", "properties": {"backstage:permissions": _PERMISSIONS}},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"when": _CONDITION, "backstage:permissions": _PERMISSIONS},
                },
            },
        ]
    },
    "secrets": {"type": "object", "properties": {"schema": {"type": "object"}}},
    "presentation": {
        "type": "object",
        "properties": {
            "buttonLabels": {
                "type": "object",
                "properties": {
                    "backButtonText": {"type": "string"},
                    "createButtonText": {"type": "string"},
                    "reviewButtonText": {"type": "string"},
                },
            }
        },
    },
    "EXPERIMENTAL_recovery": {"type": "object", "properties": {"EXPERIMENTAL_strategy": {"type": "string"}}},
    "formDecorators": _FORM_DECORATORS,
    "EXPERIMENTAL_formDecorators": _FORM_DECORATORS,
    "steps": {"type": "array", "items": _TEMPLATE_STEP},
    "output": {
        "type": "object",
        "properties": {
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "if": _CONDITION,
                        "url": _STRING,
                        "entityRef": _STRING,
                        "title": _STRING,
                        "icon": _STRING,
                    },
                },
            },
            "text": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "if": _CONDITION,
                        "title": _STRING,
                        "icon": _STRING,
                        "content": {"type": "string"},
                    },
                },
            },
        },
        "additionalProperties": {"type": "string"},
    },
}

# (apiVersion, kind) -> the kind-specific schema. A pair not listed is a kind no processor recognises.
KIND_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {}
for _version in _BACKSTAGE_VERSIONS:
    KIND_SCHEMAS[(_version, "Component")] = _spec(
        ["type", "lifecycle", "owner"],
        {
            "type": _STRING,
            "lifecycle": _STRING,
            "owner": _STRING,
            "system": _STRING,
            "subcomponentOf": _STRING,
            "providesApis": _STRING_LIST,
            "consumesApis": _STRING_LIST,
            "dependsOn": _STRING_LIST,
        },
    )
    KIND_SCHEMAS[(_version, "API")] = _spec(
        ["type", "lifecycle", "owner", "definition"],
        {"type": _STRING, "lifecycle": _STRING, "owner": _STRING, "system": _STRING, "definition": _STRING},
    )
    KIND_SCHEMAS[(_version, "Resource")] = _spec(
        ["type", "owner"],
        {"type": _STRING, "owner": _STRING, "dependsOn": _STRING_LIST, "system": _STRING},
    )
    KIND_SCHEMAS[(_version, "System")] = _spec(["owner"], {"owner": _STRING, "domain": _STRING, "type": _STRING})
    KIND_SCHEMAS[(_version, "Domain")] = _spec(["owner"], {"owner": _STRING, "subdomainOf": _STRING, "type": _STRING})
    KIND_SCHEMAS[(_version, "Group")] = _spec(
        ["type", "children"],
        {
            "type": _STRING,
            "profile": _PROFILE,
            "parent": _STRING,
            "children": _STRING_LIST,
            "members": _STRING_LIST,
        },
    )
    KIND_SCHEMAS[(_version, "User")] = _spec(["memberOf"], {"profile": _PROFILE, "memberOf": _STRING_LIST})
    KIND_SCHEMAS[(_version, "Location")] = _spec(
        [],
        {
            "type": _STRING,
            "target": _STRING,
            "targets": _STRING_LIST,
            "presence": {"type": "string", "enum": ["required", "optional"]},
        },
    )
KIND_SCHEMAS[("scaffolder.backstage.io/v1beta3", "Template")] = _spec(["type", "steps"], _TEMPLATE_SPEC)


def full_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The whole schema an entity of this apiVersion and kind must satisfy, or ``None`` if unknown."""
    part = KIND_SCHEMAS.get((api_version, kind))
    return None if part is None else {"allOf": [ENTITY, part]}

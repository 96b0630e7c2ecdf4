"""Backstage's scaffolder answers as idp-tui's forms know them: parameter pages and 400 errors mapped to fields."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..catalog.entity import Entity
from ..catalog.refs import parse_ref
from ..golden.template import TEMPLATE_API_VERSION, Template


def template_pages(schema: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The parameter-schema answer as page schemas, the shape ``Template.parameter_pages`` has for a local template.

    Backstage sends each page of ``spec.parameters`` back as ``steps[].schema`` with its ``ui:*`` keys inline, which
    is what the form builder reads; a step carrying a separate ``uiSchema`` (as a frontend may produce) is folded in.
    """
    pages = []
    for step in schema.get("steps") or []:
        if not isinstance(step, dict) or not isinstance(step.get("schema"), dict):
            continue
        page = dict(step["schema"])
        if isinstance(step.get("uiSchema"), dict):
            page = _inline_ui_schema(page, step["uiSchema"])
        if isinstance(step.get("title"), str):
            page.setdefault("title", step["title"])
        if isinstance(step.get("description"), str) and step["description"]:
            page.setdefault("description", step["description"])
        pages.append(page)
    return tuple(pages)


def _inline_ui_schema(schema: dict[str, Any], ui_schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    properties = dict(out.get("properties") or {})
    for key, value in ui_schema.items():
        if key.startswith("ui:"):
            out.setdefault(key, value)
        elif isinstance(value, dict) and isinstance(properties.get(key), dict):
            properties[key] = _inline_ui_schema(properties[key], value)
    if properties:
        out["properties"] = properties
    return out


def template_from_schema(entity_or_key: Entity | dict[str, Any] | str, schema: dict[str, Any]) -> Template:
    """A Template whose form pages are the ones Backstage serves for it.

    Args:
        entity_or_key: the Template entity (its steps and output are kept, for the run screen's step list), its raw
            document, or only its reference (then the template has no steps: the server runs them).
        schema: the ``parameter-schema`` answer.
    """
    if isinstance(entity_or_key, dict):
        metadata = entity_or_key.get("metadata") or {}
        key = f"template:{metadata.get('namespace') or 'default'}/{metadata.get('name')}".lower()
        entity_or_key = Entity(entity_or_key, key)
    if isinstance(entity_or_key, Entity):
        return replace(Template.from_entity(entity_or_key), parameter_pages=template_pages(schema))
    ref = parse_ref(entity_or_key, "Template")
    title = schema.get("title") if isinstance(schema.get("title"), str) else ref.name
    description = schema.get("description") if isinstance(schema.get("description"), str) else ""
    metadata = {"name": ref.name, "namespace": ref.namespace, "title": title, "description": description}
    return Template(
        key=ref.key,
        name=ref.name,
        title=title,
        description=description,
        tags=(),
        owner="",
        type="",
        parameter_pages=template_pages(schema),
        steps=(),
        output={},
        raw={"apiVersion": TEMPLATE_API_VERSION, "kind": "Template", "metadata": metadata},
    )


def field_errors(body: Any) -> dict[str, list[str]]:
    """The scaffolder's 400 ``{errors: [...]}`` as messages by dotted field path, in the form's own words.

    Backstage validates values with the ``jsonschema`` npm package; its errors are re-worded the way the local
    form (ajv 8, as Backstage's frontend) says them, and a missing property is reported on that property, as the
    form shows it: ``{"path": [], "name": "required", "argument": "owner"}`` -> ``{"owner": ["must have required
    property 'Owner'"]}``. Keys join nested paths with ``.``, as ``validate_page`` and ``Field.dotted`` do.
    """
    from ..golden.forms.validation import ajv_message, property_title

    errors = body.get("errors") if isinstance(body, dict) else None
    out: dict[str, list[str]] = {}
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        path = [str(part) for part in error.get("path") or [] if isinstance(part, str | int)]
        kind, argument, instance = error.get("name"), error.get("argument"), error.get("instance")
        if kind == "required" and isinstance(argument, str):
            schema = error.get("schema") if isinstance(error.get("schema"), dict) else {}
            path.append(argument)
            message = f"must have required property '{property_title(schema.get('properties'), argument)}'"
        elif isinstance(kind, str) and (kind != "uniqueItems" or isinstance(instance, list)):
            message = ajv_message(kind, argument, instance) or str(error.get("message") or "is not valid")
        else:
            message = str(error.get("message") or "is not valid")
        messages = out.setdefault(".".join(path), [])
        if message not in messages:
            messages.append(message)
    return out


def describe_field_errors(errors: dict[str, list[str]]) -> str:
    """``Backstage rejected the values: name must match pattern "..."`` (one clause per field)."""
    clauses = [f"{name or 'values'} {message}" for name, messages in errors.items() for message in messages]
    return "Backstage rejected the values: " + "; ".join(clauses)


# -- results -------------------------------------------------------------------------------------------------------

"""A page schema resolved against the current values, the way react-jsonschema-form resolves it before rendering.

rjsf (``retrieveSchema``) merges ``allOf``, applies ``if``/``then``/``else`` and, for every ``dependencies`` entry whose
trigger property has a value, merges the dependent schema; a dependent schema with ``oneOf`` contributes the one
branch whose condition on the trigger property matches (none when zero or several match). Array (property)
dependencies stay in the schema: they add no field, only make the listed fields required while the trigger has a
value, and validation reports them in ajv's own words.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

UI_PREFIX = "ui:"


def is_present(value: Any) -> bool:
    """Whether a value counts as given: rjsf turns an emptied input into ``undefined``, so ``""`` does not count."""
    return value is not None and value != ""


def clean(values: Any) -> Any:
    """The values with absent entries (``None``, ``""``) dropped from every nested object, as rjsf holds them."""
    if isinstance(values, dict):
        return {key: clean(value) for key, value in values.items() if is_present(value)}
    return values


def ui_options(schema: dict[str, Any]) -> dict[str, Any]:
    """rjsf's ``getUiOptions``: every ``ui:x`` key as ``x``, with the contents of ``ui:options`` spread in."""
    options: dict[str, Any] = {}
    for key, value in schema.items():
        if not key.startswith(UI_PREFIX):
            continue
        if key == "ui:options" and isinstance(value, dict):
            options.update(value)
        else:
            options[key[len(UI_PREFIX) :]] = value
    return options


def schema_type(schema: dict[str, Any]) -> str | None:
    """The schema's type, inferred the way rjsf's ``getSchemaType`` does when ``type`` is missing."""
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if "const" in schema:
        return _json_type(schema["const"])
    if "enum" in schema:
        return "string"
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def is_nested_object(schema: dict[str, Any]) -> bool:
    """A property rendered as a group of fields (an object with properties and no field extension of its own)."""
    return schema_type(schema) == "object" and isinstance(schema.get("properties"), dict) and "ui:field" not in schema


def resolve(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The schema as rjsf renders it for these values, nested objects included.

    Args:
        schema: a page (or object property) schema, ``ui:*`` keys and all.
        values: the current values, already :func:`clean`-ed.
    """
    data = values if isinstance(values, dict) else {}
    resolved = _resolve_object(schema, data)
    properties = resolved.get("properties")
    if isinstance(properties, dict):
        resolved["properties"] = {
            name: resolve(prop, data.get(name) or {}) if isinstance(prop, dict) and is_nested_object(prop) else prop
            for name, prop in properties.items()
        }
    return resolved


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """rjsf's ``mergeSchemas``: objects merge key by key, ``required`` lists are united, anything else is replaced."""
    merged = dict(left)
    for key, value in right.items():
        current = left.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = merge(current, value)
        elif key == "required" and isinstance(current, list) and isinstance(value, list):
            merged[key] = current + [name for name in value if name not in current]
        else:
            merged[key] = value
    return merged


def _resolve_object(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    schema = dict(schema)
    all_of = schema.pop("allOf", None)
    if isinstance(all_of, list):
        for part in all_of:
            if isinstance(part, dict):
                schema = merge(schema, _resolve_object(part, data))
    if "if" in schema:
        condition, then, otherwise = schema.pop("if"), schema.pop("then", None), schema.pop("else", None)
        branch = then if matches(condition, data) else otherwise
        if isinstance(branch, dict):
            schema = merge(schema, _resolve_object(branch, data))
    dependencies = schema.pop("dependencies", None)
    if not isinstance(dependencies, dict):
        return schema
    property_dependencies = {key: value for key, value in dependencies.items() if isinstance(value, list)}
    for key, dependency in dependencies.items():
        if not isinstance(dependency, dict) or not is_present(data.get(key)):
            continue
        properties = schema.get("properties")
        if isinstance(properties, dict) and key not in properties:
            continue  # rjsf skips a dependency whose trigger is not (yet) a property of the schema
        schema = _with_dependent_schema(schema, key, dependency, data)
    # Branches may bring property dependencies of their own; keep them next to the page's.
    merged_in = schema.pop("dependencies", None)
    if isinstance(merged_in, dict):
        property_dependencies.update({k: v for k, v in merged_in.items() if isinstance(v, list)})
    if property_dependencies:
        schema["dependencies"] = property_dependencies
    return schema


def _with_dependent_schema(
    schema: dict[str, Any], key: str, dependency: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    one_of = dependency.get("oneOf")
    rest = {name: value for name, value in dependency.items() if name != "oneOf"}
    if rest:
        schema = merge(schema, _resolve_object(rest, data))
    if not isinstance(one_of, list):
        return schema
    chosen = [
        branch
        for branch in one_of
        if isinstance(branch, dict)
        and isinstance(branch.get("properties"), dict)
        and key in branch["properties"]
        and matches({"type": "object", "properties": {key: branch["properties"][key]}}, data)
    ]
    if len(chosen) != 1:
        # rjsf too ignores the oneOf then ("there isn't exactly one subschema that is valid").
        return schema
    branch = dict(chosen[0])
    branch["properties"] = {name: value for name, value in branch["properties"].items() if name != key}
    return merge(schema, _resolve_object(branch, data))


def matches(condition: Any, data: Any) -> bool:
    """Whether ``data`` is valid against ``condition`` (draft-07), as rjsf asks its validator."""
    if isinstance(condition, bool):
        return condition
    if not isinstance(condition, dict):
        return False
    import json

    try:
        validator = _validator(json.dumps(condition, sort_keys=True, default=str))
        # A template's condition may be malformed, or hold a pattern that cannot be matched in time: no match.
        return validator is not None and validator.is_valid(data)
    except Exception:  # noqa: BLE001 - a broken schema never matches
        return False


@lru_cache(maxsize=256)
def _validator(condition_json: str):
    # Imported here: jsonschema costs ~85 ms, and only forms with conditions need it before validation.
    import json

    from .patterns import TimedDraft7Validator, schema_error

    schema = json.loads(condition_json)
    return None if schema_error(schema) else TimedDraft7Validator(schema)

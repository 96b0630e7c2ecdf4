"""Validating a form page the way Backstage's form does: draft-07, with ajv 8's messages, plus field extensions' checks.

Backstage renders each page with rjsf and ``@rjsf/validator-ajv8``; rjsf reports a missing required property on
the missing field itself, as ``must have required property 'Title'`` (the property's title replacing its name),
and every other error on the field at the error's path. An emptied input is ``undefined`` to rjsf, so an empty
string counts as absent: optional, it is simply not sent; required, it is a missing required property.

Field extensions' own checks (EntityNamePicker, RepoUrlPicker, EntityTagsPicker) run on fields that have a value
and no schema error. Backstage runs them only once the schema passes, on a second Next; showing them together
saves that round trip without changing any message.

A template's schema is someone else's code: a page whose schema is not valid JSON Schema is one message about the
page (never a traceback), and its regular expressions are matched with a time limit (:mod:`.patterns`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .extensions import EXTENSION_VALIDATORS
from .form import FormPage
from .schema import clean, is_nested_object, is_present
from .values import value_at

PAGE = ""  # the key of messages about the page as a whole


def validate_page(page: FormPage, values: dict[str, Any]) -> dict[str, list[str]]:
    """Messages by dotted field path (``database.engine``; ``""`` for the page), empty when the page is valid.

    Args:
        page: the page to check, validated with the dependency branches the values select.
        values: all of the form's values (every page shares one set, as in Backstage).
    """
    data = clean(values)
    schema = page.resolved(values)
    broken = schema_problem(page.schema) or schema_problem(schema)
    if broken:
        return {PAGE: [broken]}
    fields = page.all_fields(values)
    paths = {field.path for field in fields}
    errors: dict[str, list[str]] = {}

    def add(path: tuple[Any, ...], message: str) -> None:
        messages = errors.setdefault(_field_key(tuple(map(str, path)), paths), [])
        if message not in messages:
            messages.append(message)

    for error in _validator(_schema_json(_without_property_dependencies(schema))).iter_errors(data):
        for path, message in _messages(error):
            add(path, message)
    for path, message in _property_dependency_errors(schema, data, ()):
        add(path, message)
    for field in fields:
        check = EXTENSION_VALIDATORS.get(field.extension or "")
        value = value_at(data, field.path)
        if check is None or not is_present(value) or field.dotted in errors:
            continue
        for message in check(value, field):
            add(field.path, message)
    return errors


def _field_key(path: tuple[str, ...], paths: set[tuple[str, ...]]) -> str:
    """The field an error belongs to: the longest field path the error path starts with (``tags.0`` -> ``tags``)."""
    for size in range(len(path), 0, -1):
        if path[:size] in paths:
            return ".".join(path[:size])
    return PAGE


def _schema_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=str)


@lru_cache(maxsize=64)
def _validator(schema_json: str):
    # Imported here: jsonschema costs ~85 ms and is needed only once a page is validated.
    from .patterns import TimedDraft7Validator

    return TimedDraft7Validator(json.loads(schema_json), format_checker=TimedDraft7Validator.FORMAT_CHECKER)


def schema_problem(schema: Any) -> str | None:
    """Why a page schema is not valid JSON Schema (draft 7), in one line; None when it is."""
    try:
        return _schema_problem(_schema_json(schema))
    except (TypeError, ValueError, RecursionError):
        return "The template's form is broken: its schema is not JSON"


@lru_cache(maxsize=64)
def _schema_problem(schema_json: str) -> str | None:
    from .patterns import schema_error

    try:
        error = schema_error(json.loads(schema_json))
    except RecursionError:
        return "The template's form is broken: its schema is nested too deeply"
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path) or "the page"
    return f"The template's form is broken: {where}: {error.message}"


def _without_property_dependencies(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without array ``dependencies`` (reported by :func:`_property_dependency_errors` in ajv's words)."""
    out = dict(schema)
    dependencies = out.pop("dependencies", None)
    if isinstance(dependencies, dict):
        kept = {key: value for key, value in dependencies.items() if not isinstance(value, list)}
        if kept:
            out["dependencies"] = kept
    properties = out.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            name: _without_property_dependencies(prop) if isinstance(prop, dict) and is_nested_object(prop) else prop
            for name, prop in properties.items()
        }
    return out


def _property_dependency_errors(
    schema: dict[str, Any], data: Any, prefix: tuple[str, ...]
) -> list[tuple[tuple[str, ...], str]]:
    """ajv's ``dependencies`` errors, each on the missing property (where rjsf shows it)."""
    if not isinstance(data, dict):
        return []
    out = []
    for trigger, needed in (schema.get("dependencies") or {}).items():
        if not isinstance(needed, list) or trigger not in data:
            continue
        noun = "property" if len(needed) == 1 else "properties"
        for name in needed:
            if name not in data:
                out.append(
                    ((*prefix, name), f"must have {noun} {', '.join(needed)} when property {trigger} is present")
                )
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and is_nested_object(prop):
            out += _property_dependency_errors(prop, data.get(name), (*prefix, name))
    return out


def _messages(error) -> list[tuple[tuple[Any, ...], str]]:
    """One jsonschema error in ajv 8's words, at the path rjsf shows it."""
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if error.cause is not None and type(error.cause).__name__ == "PatternProblem":
        return [(path, str(error.cause))]  # a pattern that timed out or does not compile: say so, not "must match"
    if kind == "required":
        properties = error.schema.get("properties") if isinstance(error.schema, dict) else None
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return [
            ((*path, name), f"must have required property '{property_title(properties, name)}'") for name in missing
        ]
    message = ajv_message(kind, value, instance)
    return [(path, message if message is not None else error.message)]


def property_title(properties: Any, name: str) -> str:
    """What the form calls property ``name``: its ``ui:title`` or ``title``, else the name itself."""
    prop = properties.get(name) if isinstance(properties, dict) else None
    if isinstance(prop, dict):
        for key in ("ui:title", "title"):
            if isinstance(prop.get(key), str) and prop[key]:
                return prop[key]
    return name


def ajv_message(kind: str, value: Any, instance: Any) -> str | None:
    """ajv 8's message for a failed ``kind`` check (``minLength``, ``type``...) with the schema's ``value``.

    ``None`` for a check this table does not word (the caller falls back to the validator's message);
    ``required`` is worded by the caller, which knows the property titles.
    """
    simple = {
        "minLength": f"must NOT have fewer than {_js(value)} characters",
        "maxLength": f"must NOT have more than {_js(value)} characters",
        "pattern": f'must match pattern "{value}"',
        "format": f'must match format "{value}"',
        "minimum": f"must be >= {_js(value)}",
        "maximum": f"must be <= {_js(value)}",
        "exclusiveMinimum": f"must be > {_js(value)}",
        "exclusiveMaximum": f"must be < {_js(value)}",
        "multipleOf": f"must be multiple of {_js(value)}",
        "enum": "must be equal to one of the allowed values",
        "const": "must be equal to constant",
        "minItems": f"must NOT have fewer than {_js(value)} items",
        "maxItems": f"must NOT have more than {_js(value)} items",
        "minProperties": f"must NOT have fewer than {_js(value)} properties",
        "maxProperties": f"must NOT have more than {_js(value)} properties",
        "additionalProperties": "must NOT have additional properties",
        "oneOf": "must match exactly one schema in oneOf",
        "anyOf": "must match a schema in anyOf",
        "not": "must NOT be valid",
        "contains": "must contain at least 1 valid item(s)",
        "propertyNames": "property name must be valid",
        "false": "boolean schema is false",
    }
    if kind == "type":
        return f"must be {value if isinstance(value, str) else ','.join(value)}"
    if kind == "uniqueItems":
        return _duplicate_items(instance)
    return simple.get(kind)


def _duplicate_items(items: Any) -> str:
    # ajv scans from the end and names the later index first: ["a", "a"] gives "items ## 1 and 0".
    seen: dict[str, int] = {}
    for index in range(len(items) - 1, -1, -1):
        key = json.dumps(items[index], sort_keys=True)
        if key in seen:
            return f"must NOT have duplicate items (items ## {seen[key]} and {index} are identical)"
        seen[key] = index
    return "must NOT have duplicate items"


def _js(number: Any) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)

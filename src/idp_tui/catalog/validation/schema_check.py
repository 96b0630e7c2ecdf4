"""Schema checks: a compiled fast check for the common (valid) case, full explanations for the rest.

fastjsonschema compiles each schema to Python code, so a valid entity costs a few microseconds on a
cold load of tens of thousands of entities. When that check fails, the ``jsonschema`` library lists
every violation, phrased the way Backstage's ajv-based validators phrase them
(``/spec must have required property 'lifecycle'``).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from ...paths import cache_home, write_atomically
from .schemas import ENTITY, ENVELOPE, KIND_SCHEMAS, full_schema

FieldPath = tuple[Any, ...]
SchemaProblem = tuple[FieldPath, str]


@cache
def fast_validator(api_version: str, kind: str) -> Callable[[Any], Any] | None:
    """A compiled validator for the whole entity of this kind, or ``None`` for an unknown kind."""
    schema = full_schema(api_version, kind)
    return None if schema is None else _compiled(json.dumps(schema, sort_keys=True))


@cache
def _compiled(schema_json: str) -> Callable[[Any], Any]:
    """Compile a schema once per process, and its generated code once per machine.

    Generating and compiling the code costs ~13 ms a kind, a noticeable part of opening a small catalog;
    the compiled code is kept in the cache directory (as a .pyc would be), named by the schema, the
    fastjsonschema version that generated it and the Python that compiled it.
    """
    import fastjsonschema

    stamp = f"{fastjsonschema.VERSION}\0{sys.version_info[:2]}\0{schema_json}"
    path = cache_home() / "schemas" / f"validate-{hashlib.sha1(stamp.encode()).hexdigest()[:20]}.marshal"
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        code = compile(fastjsonschema.compile_to_code(json.loads(schema_json)), "<fastjsonschema>", "exec")
        write_atomically(path, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the validator fastjsonschema generated
    return namespace["validate"]


def passes_fast(validator: Callable[[Any], Any], document: Any) -> bool:
    """Whether ``document`` passes a compiled ``validator``.

    Only yes or no, but fast: the jsonschema explainers say why, for the few documents that fail.
    """
    from fastjsonschema import JsonSchemaException

    try:
        validator(document)
    except JsonSchemaException:
        return False
    return True


@cache
def _explainer(schema_id: str):
    from jsonschema import Draft7Validator

    if schema_id == "envelope":
        return Draft7Validator(ENVELOPE)
    if schema_id == "entity":
        return Draft7Validator(ENTITY)
    api_version, _, kind = schema_id.partition("|")
    return Draft7Validator(KIND_SCHEMAS[(api_version, kind)])


def envelope_problems(document: Any) -> list[SchemaProblem]:
    """What keeps a document from being an entity at all (``apiVersion``, ``kind``, ``metadata.name``)."""
    return _explain("envelope", document)


def entity_schema_problems(document: Any) -> list[SchemaProblem]:
    """Violations of the shared entity schema (metadata fields, unknown root fields)."""
    return _explain("entity", document)


def kind_schema_problems(api_version: str, kind: str, document: Any) -> list[SchemaProblem]:
    """Violations of the kind-specific schema (required and typed ``spec`` fields)."""
    return _explain(f"{api_version}|{kind}", document)


def _explain(schema_id: str, document: Any) -> list[SchemaProblem]:
    errors = sorted(_explainer(schema_id).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    problems: list[SchemaProblem] = []
    for error in _with_branch_errors(errors):
        path = tuple(error.absolute_path)
        pointer = _json_pointer(path)
        for extra_path, message in _ajv_messages(error):
            problem = (path + extra_path, f"{pointer} {message}")
            if problem not in problems:  # jsonschema repeats a "required" error per missing property
                problems.append(problem)
    return problems


def _with_branch_errors(errors) -> Iterator[Any]:
    """Each ``oneOf`` error preceded by its branches' errors, as ajv lists them (and reports the first)."""
    for error in errors:
        if error.validator == "oneOf":
            yield from _with_branch_errors(error.context)
        yield error


def _json_pointer(path: FieldPath) -> str:
    """ajv's ``instancePath``: RFC 6901, so ``/`` in a key is ``~1`` (``example.com~1owner``)."""
    if not path:
        return "<root>"
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _ajv_messages(error) -> list[tuple[FieldPath, str]]:
    """Translate one jsonschema error into ajv's wording (one entry per missing or extra property)."""
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        missing = [name for name in value if isinstance(error.instance, dict) and name not in error.instance]
        return [((), f"must have required property '{name}'") for name in missing or value[:1]]
    if kind == "type":
        types = value if isinstance(value, str) else ",".join(value)
        return [((), f"must be {types}")]
    if kind == "minLength":
        return [((), f"must NOT have fewer than {value} characters")]
    if kind == "enum":
        allowed = ", ".join(map(str, value))
        return [((), f"must be equal to one of the allowed values ({allowed})")]
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extras = [key for key in error.instance if key not in allowed] if isinstance(error.instance, dict) else []
        return [((key,), f"must NOT have additional properties ({key})") for key in extras] or [
            ((), "must NOT have additional properties")
        ]
    if kind == "oneOf":
        return [((), "must match exactly one schema in oneOf")]
    if kind == "pattern":
        return [((), f'must match pattern "{value}"')]
    return [((), error.message)]

"""Validate one descriptor document through the stages the Backstage catalog runs, in its order.

1. envelope: ``apiVersion``, ``kind`` and ``metadata.name`` present (else the document is not an entity);
2. policies: the shared entity schema, no foreign root fields, field formats (names, labels, tags, links);
3. kind: a processor must recognise the ``apiVersion``/``kind`` pair and its schema must pass;
4. relations: every relation field must hold a readable entity ref.

Backstage stops at the first failing stage and reports one error; here every problem found is
reported, each worded as Backstage words it, so one ``validate`` run shows everything to fix. The
verdict (accepted or rejected) is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..entity import KNOWN_KINDS
from ..refs import DEFAULT_NAMESPACE, EntityRefError, entity_key
from ..relations import outgoing_relations, relation_target_key, relation_targets
from .field_formats import field_format_problems, field_formats_ok
from .schema_check import (
    entity_schema_problems,
    envelope_problems,
    fast_validator,
    kind_schema_problems,
    passes_fast,
)
from .schemas import KIND_SCHEMAS

FieldPath = tuple[Any, ...]
_ALLOWED_ROOT_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec"})


@dataclass(slots=True)
class Verdict:
    """The outcome for one document.

    Attributes:
        key: the entity's canonical key, when its envelope could be read.
        problems: ``(field path, rule, message)`` for each problem; empty means accepted.
        relations: the entity's outgoing ``(relation type, target key)`` pairs when accepted.
    """

    key: str | None
    problems: list[tuple[FieldPath, str, str]] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the document was accepted (it has no problems)."""
        return not self.problems


def validate_entity(document: Any) -> Verdict:
    """Validate one parsed YAML document as a catalog entity."""
    verdict = _validate_fast(document)
    return verdict if verdict is not None else _validate_fully(document)


def _validate_fast(document: Any) -> Verdict | None:
    """Accept a valid entity cheaply; ``None`` means "look closer" (never a rejection)."""
    if type(document) is not dict:
        return None
    api_version, kind, metadata = document.get("apiVersion"), document.get("kind"), document.get("metadata")
    if type(api_version) is not str or type(kind) is not str or type(metadata) is not dict:
        return None
    # The schema allows ``relations`` and ``status`` (the catalog writes them); a policy forbids them here.
    if not document.keys() <= _ALLOWED_ROOT_FIELDS:
        return None
    validator = fast_validator(api_version, kind)
    if validator is None or not passes_fast(validator, document) or not field_formats_ok(document):
        return None
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    try:
        relations = outgoing_relations(kind, namespace, document.get("spec"))
    except EntityRefError:
        return None
    return Verdict(entity_key(kind, namespace, metadata["name"]), [], relations)


def _validate_fully(document: Any) -> Verdict:
    if not isinstance(document, dict):
        found = "array" if isinstance(document, list) else type(document).__name__
        return Verdict(None, [((), "envelope", f"Expected object at root, got {found}")])
    envelope = envelope_problems(document)
    if envelope:
        return Verdict(None, [(path, "envelope", message) for path, message in envelope])

    metadata = document["metadata"]
    api_version, kind = document["apiVersion"], document["kind"]
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    key = entity_key(kind, namespace, metadata["name"])
    problems: list[tuple[FieldPath, str, str]] = []

    schema_problems = entity_schema_problems(document)
    problems += [(path, "policy", f"Malformed envelope, {message}") for path, message in schema_problems]
    problems += [
        ((name,), "policy", f"Unknown field {name}")
        for name in document
        if name not in _ALLOWED_ROOT_FIELDS and name in ("relations", "status")
    ]
    # A value the schema already rejected (an annotation that is not a string) is not reported twice.
    reported = {path for path, _ in schema_problems}
    problems += [(path, "policy", message) for path, message in field_format_problems(document) if path not in reported]

    if (api_version, kind) not in KIND_SCHEMAS:
        problems.append(((), "kind", _unrecognised(key, api_version, kind)))
    elif not any(path[:1] == ("spec",) for path, _ in schema_problems):
        problems += [(path, "kind", msg) for path, msg in kind_schema_problems(api_version, kind, document)]

    problems += _relation_problems(kind, namespace, document.get("spec"))
    relations = [] if problems else outgoing_relations(kind, namespace, document.get("spec"))
    return Verdict(key, problems, relations)


def _relation_problems(kind: str, namespace: str, spec: Any) -> list[tuple[FieldPath, str, str]]:
    problems = []
    for path, default_kind, _, target in relation_targets(kind, spec):
        try:
            relation_target_key(target, default_kind, namespace)
        except EntityRefError as error:
            problems.append((path, "relation", str(error)))
    return problems


def _unrecognised(key: str, api_version: str, kind: str) -> str:
    message = f"No processor recognized the entity {key} as valid, possibly caused by a foreign kind or apiVersion"
    known = {known.lower(): known for known in KNOWN_KINDS}
    if kind not in KNOWN_KINDS and kind.lower() in known:
        return f'{message} (kind "{kind}" should be spelled "{known[kind.lower()]}")'
    if kind not in KNOWN_KINDS:
        return f'{message} (unknown kind "{kind}"; known kinds: {", ".join(KNOWN_KINDS)})'
    versions = sorted(version for version, known_kind in KIND_SCHEMAS if known_kind == kind)
    return f'{message} (apiVersion "{api_version}" is not one of {", ".join(versions)} for {kind})'

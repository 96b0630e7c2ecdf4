"""Relations between entities, emitted from spec fields in both directions as Backstage's processors do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .refs import EntityRef, EntityRefError, ref_key

OWNED_BY, OWNER_OF = "ownedBy", "ownerOf"
DEPENDS_ON, DEPENDENCY_OF = "dependsOn", "dependencyOf"
PROVIDES_API, API_PROVIDED_BY = "providesApi", "apiProvidedBy"
CONSUMES_API, API_CONSUMED_BY = "consumesApi", "apiConsumedBy"
PART_OF, HAS_PART = "partOf", "hasPart"
PARENT_OF, CHILD_OF = "parentOf", "childOf"
MEMBER_OF, HAS_MEMBER = "memberOf", "hasMember"

# Every relation type and its opposite; a relation recorded one way is always recorded the other way too.
INVERSE: dict[str, str] = {}
for _a, _b in [
    (OWNED_BY, OWNER_OF),
    (DEPENDS_ON, DEPENDENCY_OF),
    (PROVIDES_API, API_PROVIDED_BY),
    (CONSUMES_API, API_CONSUMED_BY),
    (PART_OF, HAS_PART),
    (PARENT_OF, CHILD_OF),
    (MEMBER_OF, HAS_MEMBER),
]:
    INVERSE[_a], INVERSE[_b] = _b, _a

# Display order and headings for relation groups.
RELATION_TITLES: dict[str, str] = {
    OWNED_BY: "Owned by",
    OWNER_OF: "Owns",
    PART_OF: "Part of",
    HAS_PART: "Has parts",
    DEPENDS_ON: "Depends on",
    DEPENDENCY_OF: "Dependency of",
    PROVIDES_API: "Provides APIs",
    API_PROVIDED_BY: "API provided by",
    CONSUMES_API: "Consumes APIs",
    API_CONSUMED_BY: "API consumed by",
    CHILD_OF: "Child of",
    PARENT_OF: "Parent of",
    MEMBER_OF: "Member of",
    HAS_MEMBER: "Members",
}

# (spec field, default kind of a bare ref, relation from this entity to the target), per kind.
# The inverse relation (target -> this entity) is implied by INVERSE.
RELATION_FIELDS: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "Component": (
        ("owner", "Group", OWNED_BY),
        ("subcomponentOf", "Component", PART_OF),
        ("providesApis", "API", PROVIDES_API),
        ("consumesApis", "API", CONSUMES_API),
        ("dependsOn", None, DEPENDS_ON),
        ("dependencyOf", None, DEPENDENCY_OF),
        ("system", "System", PART_OF),
    ),
    "API": (("owner", "Group", OWNED_BY), ("system", "System", PART_OF)),
    "Resource": (
        ("owner", "Group", OWNED_BY),
        ("dependsOn", None, DEPENDS_ON),
        ("dependencyOf", None, DEPENDENCY_OF),
        ("system", "System", PART_OF),
    ),
    "User": (("memberOf", "Group", MEMBER_OF),),
    "Group": (("parent", "Group", CHILD_OF), ("children", "Group", PARENT_OF), ("members", "User", HAS_MEMBER)),
    "System": (("owner", "Group", OWNED_BY), ("domain", "Domain", PART_OF)),
    "Domain": (("owner", "Group", OWNED_BY), ("subdomainOf", "Domain", PART_OF)),
    "Template": (("owner", "Group", OWNED_BY),),
}


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation from one entity to another, as seen from the source entity."""

    type: str
    target: str
    missing: bool = False


def relation_targets(kind: str, spec: Any) -> Iterator[tuple[tuple[str, ...], str | None, str, Any]]:
    """Yield ``(field path, default kind, relation type, raw target)`` for each relation field in a spec."""
    fields = RELATION_FIELDS.get(kind)
    if not fields or not isinstance(spec, dict):
        return
    for field_name, default_kind, relation_type in fields:
        targets = spec.get(field_name)
        if _js_falsy(targets):
            continue
        if isinstance(targets, list):
            for position, target in enumerate(targets):
                yield ("spec", field_name, position), default_kind, relation_type, target
        else:
            yield ("spec", field_name), default_kind, relation_type, targets


def outgoing_relations(kind: str, namespace: str, spec: Any) -> list[tuple[str, str]]:
    """Every ``(relation type, target key)`` an entity's spec declares, in declaration order.

    Raises:
        EntityRefError: a target that is not a valid ref (for example ``dependsOn`` without a kind).
    """
    return [
        (relation_type, relation_target_key(target, default_kind, namespace))
        for _, default_kind, relation_type, target in relation_targets(kind, spec)
    ]


def relation_target_key(target: Any, default_kind: str | None, namespace: str) -> str:
    """The key a relation field value points at, with the field's default kind and the entity's namespace.

    A value that is not a string is read as Backstage's ``parseEntityRef`` reads it: as a compound
    ``{kind, namespace, name}`` ref. Only fields the kind schemas leave untyped (``dependencyOf``) get here.
    """
    if isinstance(target, str) and target:
        return ref_key(target, default_kind, namespace)
    if _js_falsy(target):
        raise EntityRefError("Entity reference must not be empty")
    compound = target if isinstance(target, dict) else {}
    kind = _js_coalesce(compound.get("kind"), default_kind)
    ref_namespace = _js_coalesce(compound.get("namespace"), namespace)
    name = compound.get("name")
    text = json.dumps(target, separators=(",", ":"), ensure_ascii=False, default=str)  # JSON.stringify
    if _js_falsy(kind):
        raise EntityRefError(
            f'Entity reference {text} had missing or empty kind (e.g. did not start with "component:" or similar)'
        )
    for part, value in (("namespace", ref_namespace), ("name", name)):
        if _js_falsy(value):
            raise EntityRefError(f"Entity reference {text} had missing or empty {part}")
    return EntityRef(str(kind), str(ref_namespace), str(name)).key


def _js_falsy(value: Any) -> bool:
    """JavaScript's falsiness (``[]`` and ``{}`` are truthy there), which Backstage's checks use."""
    return value is None or value is False or (type(value) in (int, float, str) and not value)


def _js_coalesce(value: Any, default: Any) -> Any:
    """``value ?? default``."""
    return default if value is None else value

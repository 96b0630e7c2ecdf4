"""Facets (kind, type, owner, lifecycle, tag, namespace): counting values and filtering by them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from .entity import Entity
from .refs import EntityRefError, parse_ref

FACETS = ("kind", "type", "owner", "lifecycle", "tag", "namespace")
FACET_TITLES = {
    "kind": "Kind",
    "type": "Type",
    "owner": "Owner",
    "lifecycle": "Lifecycle",
    "tag": "Tag",
    "namespace": "Namespace",
}


def facet_values(entity: Entity, facet: str) -> list[str]:
    """The values an entity has for a facet (several for tags, none when the field is absent)."""
    if facet == "kind":
        return [entity.kind]
    if facet == "type":
        return [entity.spec_type] if entity.spec_type else []
    if facet == "owner":
        owner = entity.spec.get("owner")
        return [owner_label(entity.owner_key)] if isinstance(owner, str) and owner else []
    if facet == "lifecycle":
        return [entity.lifecycle] if entity.lifecycle else []
    if facet == "tag":
        return list(entity.tags)
    if facet == "namespace":
        return [entity.namespace]
    raise ValueError(f"unknown facet {facet!r}")


def owner_label(owner_key: str | None) -> str:
    """``group:default/team-a`` -> ``team-a``; other kinds and namespaces stay visible."""
    if not owner_key:
        return ""
    return parse_ref(owner_key).humanize(default_kind="group")


def facet_counts(entities: Iterable[Entity], facets: Iterable[str] = FACETS) -> dict[str, Counter]:
    """How many entities have each value of each facet."""
    counts: dict[str, Counter] = {facet: Counter() for facet in facets}
    for entity in entities:
        for facet, counter in counts.items():
            counter.update(facet_values(entity, facet))
    return counts


@dataclass(frozen=True)
class EntityFilter:
    """Facet filters; ``None`` means "any". Values compare case-insensitively; owner compares refs."""

    kind: str | None = None
    type: str | None = None
    owner: str | None = None
    lifecycle: str | None = None
    tag: str | None = None
    namespace: str | None = None

    def with_value(self, facet: str, value: str | None) -> EntityFilter:
        """A copy with ``facet`` (a field name, e.g. ``owner``) set to ``value``; ``None`` clears it."""
        return replace(self, **{facet: value})

    def active(self) -> list[tuple[str, str]]:
        """The facets that are set, as ``(facet, value)`` pairs in field order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]

    def __bool__(self) -> bool:
        return bool(self.active())

    def matches(self, entity: Entity) -> bool:
        """Whether ``entity`` has the value of every facet that is set.

        Kind, type, lifecycle, namespace and tag compare case-insensitively; the owner compares canonical keys,
        so ``team-a`` matches ``group:default/team-a`` (an owner that is not a valid ref matches only entities
        without an owner).
        """
        if self.kind is not None and entity.kind.lower() != self.kind.lower():
            return False
        if self.type is not None and entity.spec_type.lower() != self.type.lower():
            return False
        if self.lifecycle is not None and entity.lifecycle.lower() != self.lifecycle.lower():
            return False
        if self.namespace is not None and entity.namespace.lower() != self.namespace.lower():
            return False
        if self.tag is not None and self.tag.lower() not in (t.lower() for t in entity.tags):
            return False
        return self.owner is None or entity.owner_key == self._owner_key()

    def _owner_key(self) -> str | None:
        try:
            return parse_ref(self.owner, "Group").key if self.owner else None
        except EntityRefError:
            return None

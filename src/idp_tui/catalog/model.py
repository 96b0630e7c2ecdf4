"""The loaded catalog: entities by ref, relations in both directions, and the problems met on the way."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .entity import Entity
from .problems import Problem
from .refs import EntityRefError, parse_ref
from .relations import INVERSE, RELATION_TITLES, Relation


class Catalog:
    """Entities with their relations.

    ``relations`` maps a source key to its ``(type, target key)`` pairs. Keys of entities that do not
    exist are kept too (a relation *from* a missing group), exactly as Backstage stores them. A pair
    declared from both ends (a group's ``children`` and the child's ``parent``) is listed twice here
    and once by every accessor.
    """

    def __init__(
        self,
        entities: list[Entity] | None = None,
        relations: dict[str, list[tuple[str, str]]] | None = None,
        problems: list[Problem] | None = None,
        label: str = "",
    ) -> None:
        self.entities: list[Entity] = [] if entities is None else entities
        self._relations: dict[str, list[tuple[str, str]]] = {} if relations is None else relations
        self.problems: list[Problem] = [] if problems is None else problems
        self.label = label
        self.by_key: dict[str, Entity] = {entity.key: entity for entity in self.entities}
        # Outgoing relations whose inverse (on each target) is still to be added: see build().
        self._incoming_pending: list[tuple[str, list[tuple[str, str]]]] | None = None
        self._incoming_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Catalog({self.label!r}, {len(self.entities)} entities, {len(self.problems)} problems)"

    @property
    def relations(self) -> dict[str, list[tuple[str, str]]]:
        """Every source key's ``(type, target key)`` pairs, both directions (see the class)."""
        if self._incoming_pending is not None:
            self.add_incoming_relations()
        return self._relations

    def add_incoming_relations(self) -> None:
        """Add each relation's inverse to its target (``ownerOf`` for an ``ownedBy``), once.

        :meth:`build` leaves this to the first use of the relations: 180,000 of them on a 50,000-entity catalog
        take about as long as the rest of building it, and the list of entities is shown without them. A
        loader calls it in the background once the list is on screen; a reader sooner waits for it.
        """
        with self._incoming_lock:
            pending = self._incoming_pending
            if pending is None:
                return
            relations, inverse = self._relations, INVERSE
            for key, outgoing in pending:
                for relation_type, target in outgoing:
                    reverse = relations.get(target)
                    if reverse is None:
                        relations[target] = reverse = []
                    reverse.append((inverse[relation_type], key))
            self._incoming_pending = None

    @classmethod
    def build(
        cls, accepted: Iterable[tuple[Entity, list[tuple[str, str]]]], problems: list[Problem], label: str = ""
    ) -> Catalog:
        """Assemble a catalog from accepted entities and their outgoing relations.

        A second entity with the same ref is reported as a problem and left out (the first one wins,
        as in Backstage, where the later location's entity conflicts).
        """
        entities: list[Entity] = []
        seen: dict[str, Entity] = {}
        relations: dict[str, list[tuple[str, str]]] = {}
        pending: list[tuple[str, list[tuple[str, str]]]] = []
        for entity, outgoing in accepted:
            key = entity.key
            first = seen.get(key)
            if first is not None:
                source = entity.source
                problems.append(
                    Problem(
                        source.path if source else "",
                        source.line if source else 0,
                        f"Duplicate entity ref {key}; already defined at {first.source}",
                        "duplicate",
                        key,
                    )
                )
                continue
            seen[key] = entity
            entities.append(entity)
            relations[key] = list(outgoing)  # a copy: the inverses added later must not reach the parse cache
            if outgoing:
                pending.append((key, outgoing))
        catalog = cls(entities, relations, problems, label)
        catalog._incoming_pending = pending
        return catalog

    def remember(self, entities: Iterable[Entity]) -> None:
        """Know more entities by key (relation targets fetched later); the list and search index stay as loaded."""
        for entity in entities:
            self.by_key.setdefault(entity.key, entity)

    def __len__(self) -> int:
        return len(self.entities)

    def get(self, key: str) -> Entity | None:
        """The entity with canonical key ``key`` (any case), loaded or remembered, or ``None``."""
        return self.by_key.get(key.lower())

    def find(self, ref: str) -> Entity | None:
        """Look an entity up the way a person types it.

        ``component:default/foo``, ``component:foo`` and ``foo`` all work; a bare name prefers a
        Component, then any single entity with that name.
        """
        try:
            parsed = parse_ref(ref.strip(), "Component")
        except EntityRefError:
            return None
        entity = self.by_key.get(parsed.key)
        if entity is not None or ":" in ref:
            return entity
        matches = [e for e in self.entities if e.name.lower() == parsed.name.lower()]
        return matches[0] if len(matches) == 1 else None

    def relation_pairs(self, key: str) -> list[tuple[str, str]]:
        """``(type, target key)`` pairs from an entity, sorted by type then target, without repeats."""
        return sorted(set(self.relations.get(key, ())))

    def relations_of(self, key: str) -> list[Relation]:
        """Relations from an entity, sorted by type then target, each marked when its target is missing."""
        return [Relation(rel_type, target, target not in self.by_key) for rel_type, target in self.relation_pairs(key)]

    def related(self, key: str, relation_type: str) -> list[str]:
        """Target keys of one relation type from an entity, sorted."""
        return sorted({target for rel_type, target in self.relations.get(key, ()) if rel_type == relation_type})

    def grouped_relations(self, key: str) -> list[tuple[str, list[Relation]]]:
        """Relations grouped by type in a stable reading order (ownership first)."""
        by_type: dict[str, list[Relation]] = {}
        for relation in self.relations_of(key):
            by_type.setdefault(relation.type, []).append(relation)
        order = list(RELATION_TITLES)
        return sorted(by_type.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))

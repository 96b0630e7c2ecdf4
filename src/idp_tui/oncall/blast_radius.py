"""Blast radius: everything that is hurt when one entity fails, directly and transitively, grouped by owning team.

An entity's failure reaches:
- what depends on it (``dependencyOf``),
- what consumes an API it provides (``providesApi`` then ``apiConsumedBy``; for an API entity, its consumers),
- for a System or Domain, its parts (``hasPart``), and from them onwards.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..catalog.model import Catalog
from ..catalog.refs import parse_ref
from ..catalog.relations import API_CONSUMED_BY, DEPENDENCY_OF, HAS_PART, PROVIDES_API
from .ownership import owner_key_of

CONTAINERS = ("system", "domain")
# A catalog with a dependency cycle or tens of thousands of entities still answers promptly.
MAX_DEPENDENTS = 5_000


@dataclass(frozen=True)
class Dependent:
    """One entity in the blast radius: how far from the failing entity, and through what."""

    key: str
    depth: int  # 1: directly
    via: str  # the relation that reaches it, e.g. "dependencyOf" or "apiConsumedBy api:default/payments-api"
    parent: str  # the entity it is reached from
    owner_key: str | None


def _hurt_by(catalog: Catalog, key: str) -> list[tuple[str, str]]:
    """``(entity key, via)`` for everything one step from ``key``'s failure."""
    kind = parse_ref(key).kind.lower()
    steps = [(target, DEPENDENCY_OF) for target in catalog.related(key, DEPENDENCY_OF)]
    apis = [key] if kind == "api" else catalog.related(key, PROVIDES_API)
    for api in apis:
        through = f"{API_CONSUMED_BY} {parse_ref(api).humanize()}" if api != key else API_CONSUMED_BY
        steps += [(consumer, through) for consumer in catalog.related(api, API_CONSUMED_BY)]
    if kind in CONTAINERS:
        steps += [(part, HAS_PART) for part in catalog.related(key, HAS_PART)]
    return steps


def blast_radius(catalog: Catalog, key: str) -> list[Dependent]:
    """Every entity hurt when ``key`` fails, nearest first, each listed once at its shortest distance."""
    seen = {key}
    found: list[Dependent] = []
    queue: deque[tuple[str, int]] = deque([(key, 0)])
    while queue and len(found) < MAX_DEPENDENTS:
        current, depth = queue.popleft()
        for target, via in _hurt_by(catalog, current):
            if target in seen:
                continue
            seen.add(target)
            entity = catalog.get(target)
            owner = owner_key_of(entity) if entity is not None and entity.kind not in ("Group", "User") else None
            found.append(Dependent(target, depth + 1, via, current, owner))
            queue.append((target, depth + 1))
    return found


def by_owner(dependents: list[Dependent]) -> dict[str | None, list[Dependent]]:
    """The dependents grouped by owning team (None: no owner declared), teams with direct dependents first."""
    groups: dict[str | None, list[Dependent]] = {}
    for dependent in dependents:
        groups.setdefault(dependent.owner_key, []).append(dependent)
    return dict(
        sorted(groups.items(), key=lambda item: (min(d.depth for d in item[1]), item[0] is None, item[0] or ""))
    )

"""Blast radius: dependents through dependencyOf, API consumers and system parts, once each, grouped by team."""

from __future__ import annotations

import yaml

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.oncall.blast_radius import blast_radius, by_owner


def entity(kind: str, name: str, owner: str, **spec) -> dict:
    body = {"owner": owner, **spec}
    if kind in ("Component", "API"):
        body.setdefault("type", "service" if kind == "Component" else "openapi")
        body.setdefault("lifecycle", "production")
    if kind == "API":
        body.setdefault("definition", "openapi: 3.0.0")
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": body}


def load(write_catalog, *documents):
    root = write_catalog({"c.yaml": yaml.safe_dump_all(documents)})
    return LocalCatalogSource([root], use_cache=False).load()


def test_diamond_graph_each_dependent_once_at_its_shortest_distance(write_catalog):
    # core provides core-api; left consumes it, right depends on core; top depends on both; edge on top.
    catalog = load(
        write_catalog,
        entity("Component", "core", "team-core", providesApis=["core-api"]),
        entity("API", "core-api", "team-core"),
        entity("Component", "left", "team-left", consumesApis=["core-api"]),
        entity("Component", "right", "team-right", dependsOn=["component:core"]),
        entity("Component", "top", "team-left", dependsOn=["component:left", "component:right"]),
        entity("Component", "edge", "team-edge", dependsOn=["component:top"]),
    )
    dependents = blast_radius(catalog, "component:default/core")
    assert len(dependents) == 4  # top is reached twice, listed once
    found = {d.key.split("/")[-1]: d for d in dependents}
    assert sorted(found) == ["edge", "left", "right", "top"]
    assert (found["left"].depth, found["left"].via) == (1, "apiConsumedBy api:core-api")
    assert (found["right"].depth, found["right"].via) == (1, "dependencyOf")
    assert found["top"].depth == 2 and found["top"].parent in ("component:default/left", "component:default/right")
    assert found["edge"].depth == 3
    teams = by_owner(blast_radius(catalog, "component:default/core"))
    assert list(teams) == ["group:default/team-left", "group:default/team-right", "group:default/team-edge"]
    assert [d.key for d in teams["group:default/team-left"]] == ["component:default/left", "component:default/top"]


def test_a_system_hurts_its_parts_and_their_dependents_and_cycles_end(write_catalog):
    catalog = load(
        write_catalog,
        entity("System", "shop", "team-a"),
        entity("Component", "cart", "team-a", system="shop", dependsOn=["component:web"]),
        entity("Component", "web", "team-b", dependsOn=["component:cart"]),
    )
    keys = [d.key for d in blast_radius(catalog, "system:default/shop")]
    assert keys == ["component:default/cart", "component:default/web"]
    # A component does not hurt its system's other parts just by being in it, and the cycle stops.
    assert [d.key for d in blast_radius(catalog, "component:default/cart")] == ["component:default/web"]


def test_an_api_hurts_its_consumers(write_catalog):
    catalog = load(
        write_catalog,
        entity("API", "events", "team-a"),
        entity("Component", "reader", "team-b", consumesApis=["events"]),
    )
    [dependent] = blast_radius(catalog, "api:default/events")
    assert (dependent.key, dependent.via, dependent.owner_key) == (
        "component:default/reader",
        "apiConsumedBy",
        "group:default/team-b",
    )

"""Facet counts and filters (kind, type, owner, lifecycle, tag, namespace)."""

from idp_tui.catalog.facets import EntityFilter, facet_counts
from idp_tui.catalog.local_source import LocalCatalogSource


def _catalog(write_catalog):
    root = write_catalog(
        {
            "c.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: a, tags: [python, pci]}
            spec: {type: service, lifecycle: production, owner: team-a}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: b, namespace: ops, tags: [python]}
            spec: {type: website, lifecycle: experimental, owner: team-a}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Resource
            metadata: {name: db}
            spec: {type: database, owner: user:jane}
            """
        }
    )
    return LocalCatalogSource([root], use_cache=False).load()


def test_counts_per_facet_value(write_catalog):
    counts = facet_counts(_catalog(write_catalog).entities)
    assert counts["kind"] == {"Component": 2, "Resource": 1}
    assert counts["type"] == {"service": 1, "website": 1, "database": 1}
    assert counts["owner"] == {"team-a": 1, "ops/team-a": 1, "user:jane": 1}
    assert counts["lifecycle"] == {"production": 1, "experimental": 1}
    assert counts["tag"] == {"python": 2, "pci": 1}
    assert counts["namespace"] == {"default": 2, "ops": 1}


def test_filters_combine_and_compare_refs_and_case(write_catalog):
    catalog = _catalog(write_catalog)

    def names(entity_filter):
        return sorted(e.name for e in catalog.entities if entity_filter.matches(e))

    assert names(EntityFilter(kind="component")) == ["a", "b"]
    assert names(EntityFilter(owner="team-a")) == ["a"]  # b's bare owner ref means its own namespace, ops
    assert names(EntityFilter(owner="group:ops/team-a")) == ["b"]
    assert names(EntityFilter(owner="user:jane")) == ["db"]
    assert names(EntityFilter(tag="PYTHON", lifecycle="production")) == ["a"]
    assert names(EntityFilter(namespace="ops")) == ["b"]
    assert EntityFilter(kind="API").with_value("kind", None) == EntityFilter()

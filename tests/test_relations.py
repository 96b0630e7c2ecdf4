"""Relations: emitted in both directions from spec fields, exactly as Backstage's processors emit them."""

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.relations import INVERSE


def _load(directory):
    return LocalCatalogSource([directory], use_cache=False).load()


def test_every_relation_pair_is_recorded_both_ways(write_catalog):
    root = write_catalog(
        {
            "all.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: Domain
            metadata: {name: commerce}
            spec: {owner: dept}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: System
            metadata: {name: shop}
            spec: {owner: team-a, domain: commerce}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: web}
            spec:
              type: website
              lifecycle: production
              owner: team-a
              system: shop
              subcomponentOf: app
              providesApis: [web-api]
              consumesApis: [orders-api]
              dependsOn: [resource:db]
              dependencyOf: [component:app]
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: app}
            spec: {type: service, lifecycle: production, owner: user:jane}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: team-a}
            spec: {type: team, parent: dept, children: [], members: [jane]}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: dept}
            spec: {type: department, children: [team-a]}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: User
            metadata: {name: jane}
            spec: {memberOf: [team-a]}
            """
        }
    )
    catalog = _load(root)
    assert not catalog.problems
    web = set(catalog.relation_pairs("component:default/web"))
    assert web == {
        ("ownedBy", "group:default/team-a"),
        ("partOf", "system:default/shop"),
        ("partOf", "component:default/app"),
        ("providesApi", "api:default/web-api"),
        ("consumesApi", "api:default/orders-api"),
        ("dependsOn", "resource:default/db"),
        ("dependencyOf", "component:default/app"),
    }
    # Each of those is also visible from the other end.
    for relation_type, target in web:
        assert (INVERSE[relation_type], "component:default/web") in catalog.relation_pairs(target)
    assert ("ownerOf", "component:default/app") in catalog.relation_pairs("user:default/jane")
    assert ("hasPart", "system:default/shop") in catalog.relation_pairs("domain:default/commerce")
    assert ("parentOf", "group:default/team-a") in catalog.relation_pairs("group:default/dept")
    assert ("childOf", "group:default/dept") in catalog.relation_pairs("group:default/team-a")
    assert ("memberOf", "group:default/team-a") in catalog.relation_pairs("user:default/jane")
    assert ("hasMember", "user:default/jane") in catalog.relation_pairs("group:default/team-a")
    # Declared from both sides (children and parent), the pair is stored once.
    assert catalog.relation_pairs("group:default/dept").count(("parentOf", "group:default/team-a")) == 1


def test_relations_to_missing_entities_are_kept_and_marked(write_catalog):
    root = write_catalog(
        {
            "c.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: svc}
            spec: {type: service, lifecycle: production, owner: ghost-team, dependsOn: [component:legacy]}
            """
        }
    )
    catalog = _load(root)
    relations = {r.target: r for r in catalog.relations_of("component:default/svc")}
    assert relations["group:default/ghost-team"].missing
    assert relations["component:default/legacy"].missing
    # The reverse relation exists too, attached to the missing entity's ref.
    assert ("ownerOf", "component:default/svc") in catalog.relation_pairs("group:default/ghost-team")


def test_relations_match_the_real_backstage_catalog(harness_catalog_dir, recorded_entities):
    """The harness seed catalog, loaded locally, gives Backstage's recorded relations for every entity."""
    catalog = _load(harness_catalog_dir)
    compared = 0
    for entity in recorded_entities:
        metadata = entity["metadata"]
        key = f"{entity['kind']}:{metadata['namespace']}/{metadata['name']}".lower()
        if key.startswith("location:default/generated-"):
            continue  # Backstage's own Location for app-config's catalog.locations
        expected = sorted((r["type"], r["targetRef"]) for r in entity.get("relations", []))
        assert catalog.relation_pairs(key) == expected, key
        compared += 1
    assert compared == len(catalog) == 37

"""The bundled demo organisation: valid, realistic, and containing what the product's story relies on."""

from collections import Counter

import pytest

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.techdocs import find_techdocs
from idp_tui.resources import demo_catalog_path


@pytest.fixture(scope="module")
def demo():
    return LocalCatalogSource([demo_catalog_path()], use_cache=False).load()


def test_the_demo_is_valid_and_large_enough(demo):
    assert demo.problems == []
    kinds = Counter(e.kind for e in demo.entities)
    assert len(demo) >= 60
    assert kinds["Domain"] >= 2 and kinds["System"] >= 4 and kinds["Component"] >= 20
    assert kinds["User"] >= 12 and kinds["API"] >= 1 and kinds["Resource"] >= 1
    assert kinds["Template"] >= 1 and kinds["Location"] >= 1


def test_the_root_location_reaches_every_entity(demo):
    through_location = LocalCatalogSource([demo_catalog_path() / "catalog-info.yaml"], use_cache=False).load()
    assert through_location.problems == []
    assert sorted(e.key for e in through_location.entities) == sorted(e.key for e in demo.entities)


def test_payment_processor_is_exactly_the_articles(demo):
    entity = demo.get("component:default/payment-processor")
    assert entity.description == "Handles payment authorization and settlement"
    annotations = entity.annotations
    assert annotations["github.com/project-slug"] == "myorg/payment-processor"
    assert annotations["backstage.io/techdocs-ref"] == "dir:."
    assert annotations["pagerduty.com/service-id"] == "P1A2B3C"
    assert annotations["grafana/dashboard-selector"] == "payment-processor"
    assert {"payments", "critical-path", "pci-dss"} <= set(entity.tags)
    spec = entity.spec
    assert (spec["type"], spec["lifecycle"], spec["owner"], spec["system"]) == (
        "service",
        "production",
        "team-payments",
        "checkout-platform",
    )
    assert {"component:order-service", "resource:payments-db"} <= set(spec["dependsOn"])


def test_apis_have_providers_and_consumers(demo):
    apis = [e for e in demo.entities if e.kind == "API"]
    assert all(demo.related(api.key, "apiProvidedBy") for api in apis)
    assert sum(1 for api in apis if demo.related(api.key, "apiConsumedBy")) >= len(apis) - 1


def test_teams_sit_under_departments_and_users_have_emails(demo):
    teams = [e for e in demo.entities if e.kind == "Group" and e.spec_type == "team"]
    assert len(teams) >= 5
    for team in teams:
        (parent,) = demo.related(team.key, "childOf")
        assert demo.get(parent).spec_type == "department"
    users = [e for e in demo.entities if e.kind == "User"]
    assert all("@" in u.spec["profile"]["email"] for u in users)


def test_deployable_components_carry_kubernetes_annotations(demo):
    deployable = [e for e in demo.entities if e.kind == "Component" and e.spec_type in ("service", "website")]
    assert deployable
    for entity in deployable:
        annotations = entity.annotations
        assert "backstage.io/kubernetes-id" in annotations or "backstage.io/kubernetes-label-selector" in annotations


def test_only_the_deliberate_relation_target_is_missing(demo):
    missing = {r.target for e in demo.entities for r in demo.relations_of(e.key) if r.missing}
    assert missing == {"component:default/legacy-ledger"}


def test_golden_path_template_has_a_skeleton_per_language(demo):
    template = demo.get("template:default/microservice-golden-path")
    assert template.api_version == "scaffolder.backstage.io/v1beta3"
    skeleton = demo_catalog_path() / "templates" / "microservice-golden-path" / "skeleton"
    for language in ("nodejs", "python", "go", "java"):
        assert (skeleton / language / "catalog-info.yaml").is_file()


def test_some_components_have_techdocs(demo):
    with_docs = [e for e in demo.entities if e.kind == "Component" and not find_techdocs(e).problem]
    assert len(with_docs) >= 3
    docs = find_techdocs(demo.get("component:default/payment-processor"))
    assert len(docs.pages) >= 2 and docs.pages[0].title

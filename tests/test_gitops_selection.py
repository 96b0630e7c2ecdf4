"""Which Argo CD applications belong to an entity: the Backstage Argo CD plugins' annotations."""

from __future__ import annotations

import pytest
from test_gitops_fixtures import load

from idp_tui.catalog.entity import Entity
from idp_tui.kube.gitops.selection import (
    ApplicationSelection,
    ApplicationSelectionError,
    application_selection,
)


def entity(annotations: dict[str, str]) -> Entity:
    raw = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "checkout-web", "annotations": annotations},
        "spec": {"type": "service", "owner": "team-checkout", "lifecycle": "production"},
    }
    return Entity(raw=raw, key="component:default/checkout-web")


def test_no_argocd_annotation_means_no_applications():
    assert application_selection(entity({"backstage.io/kubernetes-id": "checkout-web"})) is None
    assert application_selection(entity({"argocd/app-name": " , "})) is None  # empty after trimming


def test_app_name_lists_one_or_several_applications_in_argocd_by_default():
    selection = application_selection(entity({"argocd/app-name": "checkout-web-prod, checkout-web-staging,"}))
    assert selection == ApplicationSelection(names=("checkout-web-prod", "checkout-web-staging"))
    assert selection.namespace == "argocd"
    assert selection.instances is None and selection.allows_cluster("any-context")
    assert selection.list_arguments() == {
        "group": "argoproj.io",
        "version": "v1alpha1",
        "namespace": "argocd",
        "plural": "applications",
    }


def test_selector_namespace_and_instances():
    selection = application_selection(
        {
            "argocd/app-selector": "backstage.io/kubernetes-id=cart-service,region in (eu,us)",
            "argocd/app-namespace": "argocd-apps",
            "argocd/instance-name": "demo-eu, demo-us",
        }
    )
    assert selection.label_selector == "backstage.io/kubernetes-id=cart-service,region in (eu,us)"
    assert selection.list_arguments()["label_selector"] == selection.label_selector
    assert selection.list_arguments()["namespace"] == "argocd-apps"
    assert selection.allows_cluster("demo-us") and not selection.allows_cluster("prod-ap")


@pytest.mark.parametrize("other", ["argocd/app-selector", "argocd/project-name"])
def test_app_name_with_a_selector_or_project_is_refused_as_the_plugins_do(other):
    with pytest.raises(ApplicationSelectionError, match=f"Cannot provide both argocd/app-name and {other}"):
        application_selection({"argocd/app-name": "a", other: "team=x"})


def test_a_malformed_selector_names_the_annotation():
    with pytest.raises(ApplicationSelectionError, match="argocd/app-selector"):
        application_selection({"argocd/app-selector": "team in (a"})


def test_matches_names_selector_project_and_namespace():
    app = load("app-from-applicationset.yaml")  # labels: backstage.io/kubernetes-id=cart-service, region=eu
    assert application_selection({"argocd/app-name": "cart-service-eu"}).matches(app)
    assert not application_selection({"argocd/app-name": "cart-service-us"}).matches(app)
    assert application_selection({"argocd/app-selector": "region=eu"}).matches(app)
    assert not application_selection({"argocd/app-selector": "region=us"}).matches(app)
    assert application_selection({"argocd/project-name": "checkout"}).matches(app)
    assert not application_selection({"argocd/project-name": "payments"}).matches(app)
    elsewhere = application_selection({"argocd/app-name": "cart-service-eu", "argocd/app-namespace": "team-apps"})
    assert not elsewhere.matches(app)

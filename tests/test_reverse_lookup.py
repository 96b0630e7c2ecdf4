"""From a pod back to its entity through each Backstage annotation rule; from a PagerDuty service id."""

from __future__ import annotations

import pytest
import yaml

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.oncall.reverse import PodRef, entities_selecting, entity_for_pagerduty_service, parse_pod_ref, pod_labels
from idp_tui.resources import demo_catalog_path


def write(write_catalog, annotations: dict[str, str], name: str = "svc"):
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }
    root = write_catalog({f"{name}.yaml": yaml.safe_dump(document)})
    return LocalCatalogSource([root], use_cache=False).load()


@pytest.mark.parametrize(
    ("annotations", "labels", "namespace", "cluster", "selected"),
    [
        ({"backstage.io/kubernetes-id": "svc"}, {"backstage.io/kubernetes-id": "svc"}, "ns", "c1", True),
        ({"backstage.io/kubernetes-id": "svc"}, {"backstage.io/kubernetes-id": "other"}, "ns", "c1", False),
        (
            {"backstage.io/kubernetes-label-selector": "app=svc,tier=web"},
            {"app": "svc", "tier": "web"},
            "ns",
            "c1",
            True,
        ),
        ({"backstage.io/kubernetes-label-selector": "app=svc,tier=web"}, {"app": "svc"}, "ns", "c1", False),
        (
            {"backstage.io/kubernetes-id": "svc", "backstage.io/kubernetes-namespace": "prod"},
            {"backstage.io/kubernetes-id": "svc"},
            "dev",
            "c1",
            False,
        ),
        (
            {"backstage.io/kubernetes-id": "svc", "backstage.io/kubernetes-namespace": "prod"},
            {"backstage.io/kubernetes-id": "svc"},
            "prod",
            "c1",
            True,
        ),
        (
            {"backstage.io/kubernetes-id": "svc", "backstage.io/kubernetes-cluster": "c2"},
            {"backstage.io/kubernetes-id": "svc"},
            "ns",
            "c1",
            False,
        ),
        (
            {"backstage.io/kubernetes-id": "svc", "backstage.io/kubernetes-cluster": "c2"},
            {"backstage.io/kubernetes-id": "svc"},
            "ns",
            "c2",
            True,
        ),
    ],
)
def test_each_annotation_rule_run_backwards(write_catalog, annotations, labels, namespace, cluster, selected):
    catalog = write(write_catalog, annotations)
    found = entities_selecting(labels, namespace, cluster, catalog.entities)
    assert [e.name for e in found] == (["svc"] if selected else [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("payment-processor-7d9f8b6c5-x2k4p", PodRef("payment-processor-7d9f8b6c5-x2k4p")),
        ("checkout-platform/payment-processor-abc", PodRef("payment-processor-abc", "checkout-platform")),
        (" demo-eu:checkout-platform/pod/x ", PodRef("x", "checkout-platform/pod", "demo-eu")),
        ("pod/x", PodRef("x")),
    ],
)
def test_pasted_pod_references(text, expected):
    assert parse_pod_ref(text) == expected


def test_a_live_pod_on_the_demo_cluster_leads_to_its_entity(tmp_path):
    catalog = LocalCatalogSource([demo_catalog_path()], use_cache=False).load()
    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    try:
        clusters = KubeconfigClusters(
            str(demo.write_kubeconfig(tmp_path / "config")), ["demo-eu", "demo-us"], demo=True
        )
        pod = next(
            p for p in demo.pods("demo-eu", "checkout-platform") if p["metadata"]["name"].startswith("order-api")
        )
        hits = pod_labels(clusters, parse_pod_ref(f"checkout-platform/{pod['metadata']['name']}"))
        assert len(hits) == 1
        cluster, namespace, labels = hits[0]
        # order-service is found through its label-selector annotation, not a kubernetes-id.
        assert [e.name for e in entities_selecting(labels, namespace, cluster, catalog.entities)] == ["order-service"]
    finally:
        demo.stop()


def test_pagerduty_service_id_to_entity(write_catalog):
    catalog = write(write_catalog, {"pagerduty.com/service-id": "PABC123"})
    assert entity_for_pagerduty_service("pabc123", catalog).name == "svc"
    assert entity_for_pagerduty_service("PNOPE", catalog) is None

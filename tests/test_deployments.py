"""An entity's workloads across clusters, read with the official client from the demo cluster over HTTPS."""

from __future__ import annotations

import json

import pytest

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.cli import main
from idp_tui.commands.deployments_json import cluster_json
from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.report import cluster_report
from idp_tui.kube.selection import selector_for
from idp_tui.resources import demo_catalog_path

CONTEXTS = ["demo-eu", "demo-us"]


@pytest.fixture(scope="module")
def catalog():
    return LocalCatalogSource([demo_catalog_path()], use_cache=False).load()


@pytest.fixture
def cluster(tmp_path):
    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    yield demo, str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
    demo.stop()


def reports(catalog, cluster, ref: str, timeout: float = 5.0) -> dict[str, dict]:
    demo, kubeconfig = cluster
    selector = selector_for(catalog.find(ref))
    snapshots = KubeconfigClusters(kubeconfig, CONTEXTS, demo=True, timeout=timeout).snapshot(selector)
    return {snapshot.name: cluster_json(cluster_report(snapshot)) for snapshot in snapshots}


def test_a_service_on_two_clusters_with_rollout_status_and_pods(catalog, cluster):
    by_cluster = reports(catalog, cluster, "payment-processor")
    assert set(by_cluster) == {"demo-eu", "demo-us"}
    eu = by_cluster["demo-eu"]["workloads"]
    assert [(w["kind"], w["namespace"], w["name"]) for w in eu] == [
        ("Deployment", "checkout-platform", "payment-processor")
    ]
    assert eu[0]["rollout"]["status"] == "progressing"
    assert "new replicas have been updated" in eu[0]["rollout"]["message"]
    assert eu[0]["pods"] and all(pod["name"].startswith("payment-processor-") for pod in eu[0]["pods"])
    assert by_cluster["demo-us"]["workloads"][0]["rollout"]["status"] == "complete"


def test_crash_looping_pod_is_a_problem_with_a_hint_and_listed_first(catalog, cluster):
    workload = reports(catalog, cluster, "settlement-worker")["demo-eu"]["workloads"][0]
    first_pod = workload["pods"][0]
    reasons = {problem["reason"] for problem in first_pod["problems"]}
    assert "CrashLoopBackOff" in reasons
    assert first_pod["restarts"] > 0
    assert any("previous logs" in problem["hint"] for problem in first_pod["problems"])


def test_hpa_at_its_maximum_is_reported_on_the_workload(catalog, cluster):
    workload = reports(catalog, cluster, "cart-service")["demo-eu"]["workloads"][0]
    assert any(problem["reason"] == "AtMaxReplicas" for problem in workload["problems"])


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (403, "403 Forbidden: deployments.apps is forbidden"),
        (401, "401 Unauthorized"),
        ("unreachable", "unreachable"),
    ],
)
def test_one_failing_cluster_is_its_own_error_and_the_other_still_answers(catalog, cluster, failure, expected):
    demo, _ = cluster
    demo.fail("demo-us", failure)
    by_cluster = reports(catalog, cluster, "payment-processor", timeout=2)
    assert by_cluster["demo-us"]["error"].startswith(expected), by_cluster["demo-us"]["error"]
    assert by_cluster["demo-us"]["workloads"] == []
    assert by_cluster["demo-eu"]["error"] is None and by_cluster["demo-eu"]["workloads"]
    assert "Bearer" not in json.dumps(by_cluster)


def test_deployments_command_json_shape(capsys):
    status = main(["deployments", "payment-processor", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["entity"] == "component:default/payment-processor"
    cluster = out["clusters"][0]
    assert set(cluster) >= {"name", "demo", "error", "workloads", "events"}
    workload = cluster["workloads"][0]
    assert set(workload) >= {"kind", "namespace", "name", "rollout", "replicas", "pods"}
    assert set(workload["rollout"]) >= {"status", "message", "revision"}
    assert set(workload["replicas"]) >= {"desired", "updated", "ready", "available"}
    assert set(workload["pods"][0]) >= {"name", "phase", "ready", "restarts", "node", "problems"}


def test_an_entity_without_kubernetes_annotations_says_why(capsys):
    assert main(["deployments", "platform-cli"]) == 1
    assert "no backstage.io/kubernetes-id" in capsys.readouterr().err


def test_no_kubeconfig_is_one_line_and_exit_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    assert main(["--catalog", str(demo_catalog_path()), "deployments", "payment-processor"]) == 2
    assert "no usable kubeconfig" in capsys.readouterr().err


def test_one_cluster_down_and_the_other_forbidden_are_two_clear_rows(catalog, cluster):
    demo, _ = cluster
    demo.fail("demo-eu", "unreachable")
    demo.fail("demo-us", 403)
    by_cluster = reports(catalog, cluster, "payment-processor", timeout=2)
    assert by_cluster["demo-eu"]["error"].startswith("unreachable")
    assert by_cluster["demo-us"]["error"].startswith("403 Forbidden: deployments.apps is forbidden")

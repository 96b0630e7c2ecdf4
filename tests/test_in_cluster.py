"""Inside a pod with no kubeconfig: the pod's own cluster, over HTTPS with its service account, like kubectl."""

from __future__ import annotations

import subprocess

import pytest

from idp_tui.kube.access import InClusterClusters, kubeconfig_clusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.selection import WorkloadSelector


@pytest.fixture
def service_account(tmp_path):
    """A self-signed certificate for 127.0.0.1 (the API server's) and a token file, as mounted in a pod."""
    cert, key = tmp_path / "ca.crt", tmp_path / "tls.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "token").write_text("demo")
    return cert, key, tmp_path / "token"


def test_the_pods_own_cluster_is_read_with_its_service_account(service_account, monkeypatch, tmp_path):
    cert, key, token = service_account
    demo = DemoCluster(rollout_seconds=600)
    url = demo.start(tls=(str(cert), str(key)))
    try:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", url.rsplit(":", 1)[1])
        clusters = InClusterClusters(str(token), str(cert))
        selector = WorkloadSelector("backstage.io/kubernetes-id=payment-processor", "checkout-platform")
        (snapshot,) = clusters.snapshot(selector)
        assert snapshot.error is None, snapshot.error
        assert [d["metadata"]["name"] for d in snapshot.objects["Deployment"]] == ["payment-processor"]
        assert demo.requests and all(r["cluster"] == "demo-eu" for r in demo.requests)
    finally:
        demo.stop()


def test_in_cluster_is_chosen_only_without_any_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert isinstance(kubeconfig_clusters(), InClusterClusters)
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("apiVersion: v1\nkind: Config\n")
    assert not isinstance(kubeconfig_clusters(), InClusterClusters)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    (tmp_path / ".kube" / "config").unlink()
    assert not isinstance(kubeconfig_clusters(), InClusterClusters)

"""Restart, scale and delete pod: the requests kubectl sends, checked on the wire at the demo cluster."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from kubernetes import config

from idp_tui.kube.actions import (
    ActionFailed,
    DeletePod,
    MutationRefused,
    RestartWorkload,
    ScaleWorkload,
    rfc3339,
)
from idp_tui.kube.demo_cluster.server import DemoCluster

CLUSTER = "demo-eu"
NAMESPACE = "checkout-platform"
FROZEN = datetime(2026, 11, 24, 16, 40, 0, 123456, tzinfo=UTC)


@pytest.fixture
def cluster(tmp_path):
    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    kubeconfig = str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
    client = config.new_client_from_config(config_file=kubeconfig, context=CLUSTER)
    yield demo, client
    client.close()
    demo.stop()


def mutations(demo: DemoCluster) -> list[dict]:
    """The writes the demo received, as sent (without the client's port, which differs from run to run)."""
    return [
        {key: value for key, value in request.items() if key != "connection"}
        for request in demo.requests
        if request["method"] in ("PATCH", "PUT", "DELETE", "POST")
    ]


def deployment(demo: DemoCluster, name: str) -> dict:
    state = demo.cluster(CLUSTER)
    with state.lock:
        return state.get("deployments", NAMESPACE, name)


def test_rfc3339_is_gos_format():
    assert rfc3339(FROZEN) == "2026-11-24T16:40:00Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-01-02T03:04:05+01:00"
    )
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=5, minutes=30)))) == (
        "2026-01-02T03:04:05-05:30"
    )
    assert rfc3339().endswith(("Z", ":00", ":30", ":45"))  # now, in the local zone


def test_restart_sends_kubectls_exact_patch_and_starts_a_rollout(cluster):
    demo, client = cluster
    before = deployment(demo, "checkout-web")
    action = RestartWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web")
    assert action.kubectl == "kubectl --context demo-eu -n checkout-platform rollout restart deployment/checkout-web"
    result = action.apply(client, now=FROZEN)
    [patch] = mutations(demo)
    assert patch == {
        "cluster": CLUSTER,
        "method": "PATCH",
        "path": "/apis/apps/v1/namespaces/checkout-platform/deployments/checkout-web",
        "query": {"fieldManager": "kubectl-rollout"},
        "body": '{"spec":{"template":{"metadata":{"annotations":'
        '{"kubectl.kubernetes.io/restartedAt":"2026-11-24T16:40:00Z"}}}}}',
        "content_type": "application/strategic-merge-patch+json",
    }
    # kubectl reads the object first (to refuse a paused deployment); so do we.
    assert [r["method"] for r in demo.requests if r["path"].endswith("/checkout-web")] == ["GET", "PATCH"]
    after = deployment(demo, "checkout-web")
    annotations = after["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == "2026-11-24T16:40:00Z"
    assert result["metadata"]["generation"] == after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert int(after["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) > int(
        before["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    )


@pytest.mark.parametrize(
    ("kind", "name", "plural"),
    [
        ("StatefulSet", "analytics-pipeline", "statefulsets"),
        ("DaemonSet", "analytics-pipeline-collector", "daemonsets"),
    ],
)
def test_restart_of_statefulsets_and_daemonsets_sends_the_same_patch(tmp_path, kind, name, plural):
    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    try:
        kubeconfig = str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
        client = config.new_client_from_config(config_file=kubeconfig, context="demo-eu")
        action = RestartWorkload("demo-eu", kind, "data-insights", name)
        assert action.kubectl.endswith(f"rollout restart {kind.lower()}/{name}")
        updated = action.apply(client, now=FROZEN)
        annotations = updated["spec"]["template"]["metadata"]["annotations"]
        assert annotations["kubectl.kubernetes.io/restartedAt"] == "2026-11-24T16:40:00Z"
        [patch] = mutations(demo)
        assert patch["path"] == f"/apis/apps/v1/namespaces/data-insights/{plural}/{name}"
        assert patch["content_type"] == "application/strategic-merge-patch+json"
        assert patch["body"] == action.patch_body(FROZEN).decode()
    finally:
        demo.stop()


def test_restart_refuses_a_paused_deployment_like_kubectl(cluster):
    demo, client = cluster
    state = demo.cluster(CLUSTER)
    with state.lock:
        paused = dict(deployment(demo, "checkout-web"))
        paused["spec"] = {**paused["spec"], "paused": True}
        state.put(paused)
    with pytest.raises(ActionFailed, match="can't restart paused deployment"):
        RestartWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web").apply(client)
    assert mutations(demo) == []


def test_scale_patches_the_scale_subresource_like_kubectl(cluster):
    demo, client = cluster
    action = ScaleWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web", 4)
    assert action.kubectl == "kubectl --context demo-eu -n checkout-platform scale deployment/checkout-web --replicas=4"
    assert "4 replicas" in action.describe()
    result = action.apply(client)
    [patch] = mutations(demo)
    assert (patch["method"], patch["path"], patch["body"], patch["content_type"]) == (
        "PATCH",
        "/apis/apps/v1/namespaces/checkout-platform/deployments/checkout-web/scale",
        '{"spec":{"replicas":4}}',
        "application/merge-patch+json",
    )
    assert patch["query"] == {}
    assert result["kind"] == "Scale" and result["spec"]["replicas"] == 4
    assert deployment(demo, "checkout-web")["spec"]["replicas"] == 4
    with pytest.raises(ValueError, match="DaemonSet"):
        ScaleWorkload(CLUSTER, "DaemonSet", NAMESPACE, "x", 1)


def test_delete_pod_sends_kubectls_delete_options_and_the_pod_is_replaced(cluster):
    demo, client = cluster
    pods = [p for p in demo.pods(CLUSTER, NAMESPACE) if p["metadata"]["name"].startswith("checkout-web-")]
    victim = pods[0]["metadata"]["name"]
    action = DeletePod(CLUSTER, NAMESPACE, victim)
    assert action.kubectl == f"kubectl --context demo-eu -n checkout-platform delete pod {victim}"
    action.apply(client)
    [request] = mutations(demo)
    assert (request["method"], request["path"], request["body"], request["content_type"]) == (
        "DELETE",
        f"/api/v1/namespaces/checkout-platform/pods/{victim}",
        '{"propagationPolicy":"Background"}',
        "application/json",
    )
    after = [
        p["metadata"]["name"]
        for p in demo.pods(CLUSTER, NAMESPACE)
        if p["metadata"]["name"].startswith("checkout-web-")
    ]
    assert victim not in after and len(after) == len(pods)


@pytest.mark.parametrize(
    "action",
    [
        RestartWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web"),
        ScaleWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web", 0),
        DeletePod(CLUSTER, NAMESPACE, "checkout-web-abc"),
    ],
)
def test_read_only_sends_no_request_at_all(cluster, action):
    demo, client = cluster
    with pytest.raises(MutationRefused) as refused:
        action.apply(client, read_only=True)
    assert "read-only" in str(refused.value) and action.kubectl in str(refused.value)
    time.sleep(0.05)
    assert demo.requests == []


def test_forbidden_is_a_clear_error_not_a_crash(cluster):
    demo, client = cluster
    demo.fail(CLUSTER, 403)
    with pytest.raises(ActionFailed) as failed:
        ScaleWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web", 5).apply(client)
    message = str(failed.value)
    assert "403 Forbidden" in message and 'cannot patch resource "deployments/scale"' in message
    assert "kubectl --context demo-eu" in message
    with pytest.raises(ActionFailed, match=r"403 Forbidden: .*cannot delete resource \"pods\""):
        DeletePod(CLUSTER, NAMESPACE, "checkout-web-abc").apply(client)
    with pytest.raises(ActionFailed, match=r"403 Forbidden: .*cannot get resource \"deployments\""):
        RestartWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web").apply(client)


def test_unauthorized_and_unreachable_are_one_line_errors(cluster):
    demo, client = cluster
    demo.fail(CLUSTER, 401)
    with pytest.raises(ActionFailed, match=r"failed: 401 Unauthorized on pods: the cluster did not accept"):
        DeletePod(CLUSTER, NAMESPACE, "checkout-web-abc").apply(client)
    demo.fail(CLUSTER, "unreachable")
    with pytest.raises(ActionFailed, match=r"failed: unreachable"):
        ScaleWorkload(CLUSTER, "Deployment", NAMESPACE, "checkout-web", 1).apply(client)

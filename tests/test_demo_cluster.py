"""The demo cluster speaks the Kubernetes REST API well enough for the official client: every test goes over HTTPS."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from idp_tui.kube.demo_cluster import DemoCluster
from idp_tui.kube.demo_cluster.tls import CERTIFICATE_FILE, demo_certificate

NS = "checkout-platform"
RESTART = "kubectl.kubernetes.io/restartedAt"


@pytest.fixture
def demo(tmp_path: Path):
    cluster = DemoCluster(rollout_seconds=60)
    cluster.start()
    cluster.kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    yield cluster
    cluster.stop()


def client(demo: DemoCluster, context: str = "demo-eu") -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(demo.kubeconfig), context=context, client_configuration=configuration
    )
    configuration.retries = 0  # a dropped connection should fail at once, not after urllib3's three retries
    return kubernetes.client.ApiClient(configuration)


def core(demo: DemoCluster, context: str = "demo-eu") -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api_client=client(demo, context))


def apps(demo: DemoCluster, context: str = "demo-eu") -> kubernetes.client.AppsV1Api:
    return kubernetes.client.AppsV1Api(api_client=client(demo, context))


def pod_named(demo: DemoCluster, prefix: str, context: str = "demo-eu") -> kubernetes.client.V1Pod:
    pods = core(demo, context).list_pod_for_all_namespaces().items
    return next(pod for pod in pods if pod.metadata.name.startswith(prefix))


def test_start_reuses_the_kept_certificate_and_kubeconfig_has_both_contexts(tmp_path):
    # The certificate is made once per machine and kept (see test_demo_cluster_tls.py): a start makes no new key
    # (the slow part), it loads the kept one.
    demo_certificate(tmp_path / "certs")
    kept = (tmp_path / "certs" / CERTIFICATE_FILE).read_bytes()
    cluster = DemoCluster(certificate_dir=tmp_path / "certs")
    url = cluster.start()
    try:
        assert (tmp_path / "certs" / CERTIFICATE_FILE).read_bytes() == kept
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", url)  # HTTPS, as a real API server (Go clients insist)
        contexts, active = kubernetes.config.list_kube_config_contexts(str(cluster.write_kubeconfig(tmp_path / "k")))
        assert [c["name"] for c in contexts] == ["demo-eu", "demo-us"]
        assert active["name"] == "demo-eu"
    finally:
        cluster.stop()


def test_discovery(demo):
    api = client(demo)
    version = kubernetes.client.VersionApi(api).get_code()
    assert (version.major, version.minor) == ("1", "31") and "demo" in version.git_version
    assert kubernetes.client.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = {group.name for group in kubernetes.client.ApisApi(api).get_api_versions().groups}
    assert groups == {"apps", "autoscaling", "argoproj.io"}
    resources = {r.name for r in kubernetes.client.AppsV1Api(api).get_api_resources().resources}
    assert {"deployments", "deployments/scale", "replicasets", "statefulsets", "daemonsets"} <= resources
    assert "pods/log" in {r.name for r in kubernetes.client.CoreV1Api(api).get_api_resources().resources}


def test_list_pods_with_label_selector_in_a_namespace(demo):
    v1 = core(demo)
    pods = v1.list_namespaced_pod(NS, label_selector="backstage.io/kubernetes-id=payment-processor").items
    assert len(pods) == 4  # three of the old revision and one new pod of the rollout in progress
    assert all(pod.metadata.labels["backstage.io/kubernetes-id"] == "payment-processor" for pod in pods)
    assert {len(pod.spec.containers) for pod in pods} == {2}
    assert all(pod.spec.node_name and pod.status.start_time for pod in pods)
    # order-service is found by its own label selector (backstage.io/kubernetes-label-selector).
    orders = v1.list_namespaced_pod(NS, label_selector="app.kubernetes.io/name=order-service,tier=backend").items
    assert len(orders) == 2
    set_based = v1.list_namespaced_pod(
        NS, label_selector="backstage.io/kubernetes-id in (cart-service,checkout-web),tier!=backend,!tier"
    ).items
    assert {p.metadata.labels["backstage.io/kubernetes-id"] for p in set_based} == {"cart-service", "checkout-web"}
    assert not v1.list_namespaced_pod(NS, label_selector="tier,backstage.io/kubernetes-id notin (order-service)").items


def test_list_across_all_namespaces_and_contexts_differ(demo):
    eu = core(demo, "demo-eu").list_pod_for_all_namespaces()
    us = core(demo, "demo-us").list_pod_for_all_namespaces()
    assert {pod.metadata.namespace for pod in eu.items} == {
        "checkout-platform",
        "data-insights",
        "developer-platform",
        "fraud-detection",
        "identity-access",
        "merchant-portal",
    }
    assert len(eu.items) > len(us.items) > 0
    assert int(eu.metadata.resource_version) > 0
    eu_names = {p.metadata.name for p in eu.items}
    assert not eu_names & {p.metadata.name for p in us.items}
    us_pp = [p for p in us.items if p.metadata.name.startswith("payment-processor-")]
    assert len(us_pp) == 2 and all(p.status.container_statuses[0].ready for p in us_pp)
    namespaces = {ns.metadata.name for ns in core(demo, "demo-us").list_namespace().items}
    assert "fraud-detection" not in namespaces and "checkout-platform" in namespaces


def test_workloads_problems_hpa_and_events(demo):
    crash = pod_named(demo, "settlement-worker-")
    pods = core(demo).list_namespaced_pod(NS, label_selector="backstage.io/kubernetes-id=settlement-worker").items
    crash = next(p for p in pods if not p.status.container_statuses[0].ready)
    status = crash.status.container_statuses[0]
    assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count == 47
    assert (status.last_state.terminated.reason, status.last_state.terminated.exit_code) == ("Error", 1)
    pull = core(demo).list_namespaced_pod(NS, field_selector="status.phase=Pending").items
    reasons = {p.status.container_statuses[0].state.waiting.reason for p in pull}
    assert reasons == {"ImagePullBackOff", "ContainerCreating"}
    oom = pod_named(demo, "risk-rules-engine-")
    assert oom.status.container_statuses[0].last_state.terminated.reason == "OOMKilled"
    hpa = kubernetes.client.AutoscalingV2Api(client(demo)).list_namespaced_horizontal_pod_autoscaler(NS).items[0]
    assert hpa.status.current_replicas == hpa.spec.max_replicas == 6
    promo = apps(demo).read_namespaced_deployment("promo-engine", NS)
    progressing = next(c for c in promo.status.conditions if c.type == "Progressing")
    assert progressing.reason == "ProgressDeadlineExceeded"
    assert len(apps(demo).list_namespaced_stateful_set("data-insights").items) == 1
    daemon = apps(demo).list_daemon_set_for_all_namespaces().items[0]
    assert daemon.status.number_ready == daemon.status.desired_number_scheduled == 3
    events = (
        core(demo)
        .list_namespaced_event(NS, field_selector=f"involvedObject.name={crash.metadata.name},involvedObject.kind=Pod")
        .items
    )
    assert {(e.type, e.reason) for e in events} == {("Warning", "BackOff"), ("Normal", "Pulled")}
    revisions = apps(demo).list_namespaced_replica_set(
        NS, label_selector="backstage.io/kubernetes-id=payment-processor"
    )
    assert sorted(rs.metadata.annotations["deployment.kubernetes.io/revision"] for rs in revisions.items) == [
        "3",
        "4",
        "5",
    ]


def test_paging_with_limit_and_continue(demo):
    v1 = core(demo)
    first = v1.list_pod_for_all_namespaces(limit=10)
    assert len(first.items) == 10 and first.metadata._continue
    rest = v1.list_pod_for_all_namespaces(limit=500, _continue=first.metadata._continue)
    everything = v1.list_pod_for_all_namespaces()
    assert [p.metadata.name for p in first.items + rest.items] == [p.metadata.name for p in everything.items]


def test_watch_from_a_list_version_receives_modified_after_set_pod(demo):
    v1 = core(demo)
    listed = v1.list_namespaced_pod(NS, label_selector="backstage.io/kubernetes-id=checkout-web")
    name = listed.items[0].metadata.name
    demo.set_pod("demo-eu", NS, name, {"metadata": {"annotations": {"demo/touched": "yes"}}})
    watch = kubernetes.watch.Watch()
    events = []
    for event in watch.stream(
        v1.list_namespaced_pod,
        NS,
        label_selector="backstage.io/kubernetes-id=checkout-web",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        events.append(event)
        watch.stop()
    assert events[0]["type"] == "MODIFIED"
    assert events[0]["object"].metadata.name == name
    assert events[0]["object"].metadata.annotations == {"demo/touched": "yes"}
    assert int(events[0]["object"].metadata.resource_version) > int(listed.metadata.resource_version)


def test_drop_watches_ends_the_stream(demo):
    v1 = core(demo)
    version = v1.list_namespaced_pod(NS).metadata.resource_version
    seen, done = [], threading.Event()

    def run():
        for event in kubernetes.watch.Watch().stream(
            v1.list_namespaced_pod, NS, resource_version=version, timeout_seconds=30
        ):
            seen.append(event)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    deadline = time.monotonic() + 5
    while demo.drop_watches() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert done.wait(5)


def test_expired_versions_get_410(demo):
    v1 = core(demo)
    page = v1.list_namespaced_pod(NS, limit=3)
    old = page.metadata.resource_version
    demo.set_pod("demo-eu", NS, page.items[0].metadata.name, {"metadata": {"labels": {"touched": "1"}}})
    demo.expire_before(int(old) + 1, "demo-eu")
    with pytest.raises(ApiException) as listed:
        v1.list_namespaced_pod(NS, limit=3, _continue=page.metadata._continue)
    assert listed.value.status == 410
    assert json.loads(listed.value.body)["reason"] == "Expired"
    with pytest.raises(ApiException) as exact:
        v1.list_namespaced_pod(NS, resource_version=old, resource_version_match="Exact")
    assert exact.value.status == 410
    # Mid-watch the API server sends 410 as an ERROR event; with timeout_seconds the client raises it as ApiException.
    with pytest.raises(ApiException) as watched:
        for _ in kubernetes.watch.Watch().stream(v1.list_namespaced_pod, NS, resource_version=old, timeout_seconds=5):
            pass
    assert watched.value.status == 410
    assert "Expired: too old resource version" in watched.value.reason


def test_logs_tail_timestamps_container_and_previous(demo):
    v1 = core(demo)
    web = pod_named(demo, "checkout-web-").metadata.name
    lines = v1.read_namespaced_pod_log(web, NS, tail_lines=5).splitlines()
    assert len(lines) == 5
    again = v1.read_namespaced_pod_log(web, NS, tail_lines=50, timestamps=True).splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ", line) for line in again)
    assert any(line.split(" ", 1)[1].startswith("{") for line in again)  # some JSON lines
    assert 0 < len(v1.read_namespaced_pod_log(web, NS, since_seconds=2).splitlines()) <= 60
    payment = pod_named(demo, "payment-processor-").metadata.name
    with pytest.raises(ApiException) as missing:
        v1.read_namespaced_pod_log(payment, NS)
    assert missing.value.status == 400
    message = json.loads(missing.value.body)["message"]
    assert message == f"a container name must be specified for pod {payment}, choose one of: [payment-processor envoy]"
    assert v1.read_namespaced_pod_log(payment, NS, container="envoy", tail_lines=1).startswith("[")
    with pytest.raises(ApiException) as none:
        v1.read_namespaced_pod_log(web, NS, previous=True)
    assert (
        json.loads(none.value.body)["message"]
        == f'previous terminated container "checkout-web" in pod "{web}" not found'
    )
    pods = v1.list_namespaced_pod(NS, label_selector="backstage.io/kubernetes-id=settlement-worker").items
    crash = next(p for p in pods if p.status.container_statuses[0].state.waiting)
    previous = v1.read_namespaced_pod_log(crash.metadata.name, NS, previous=True).splitlines()
    assert json.loads(previous[-1])["level"] == "fatal"


def test_follow_streams_new_lines(demo):
    v1 = core(demo)
    web = pod_named(demo, "checkout-web-").metadata.name
    response = v1.read_namespaced_pod_log(web, NS, follow=True, tail_lines=1, _preload_content=False)
    received = b""
    started = time.monotonic()
    for chunk in response.stream(1024):
        received += chunk
        if received.count(b"\n") >= 4 or time.monotonic() - started > 3:
            break
    response.close()
    response.release_conn()
    assert received.count(b"\n") >= 4


def test_forbidden_cluster_answers_403_with_status_message_while_the_other_works(demo):
    demo.fail("demo-us", 403)
    with pytest.raises(ApiException) as refused:
        apps(demo, "demo-us").list_namespaced_deployment("x")
    assert refused.value.status == 403
    body = json.loads(refused.value.body)
    assert body["message"] == (
        'deployments.apps is forbidden: User "demo" cannot list resource "deployments" in API group "apps" '
        'in the namespace "x"'
    )
    assert body["reason"] == "Forbidden" and body["details"] == {"group": "apps", "kind": "deployments"}
    assert apps(demo, "demo-eu").list_namespaced_deployment(NS).items
    demo.fail("demo-us", 401)
    with pytest.raises(ApiException) as unauthorized:
        core(demo, "demo-us").list_namespaced_pod(NS)
    assert unauthorized.value.status == 401
    demo.fail("demo-us", "unreachable")
    with pytest.raises(Exception) as unreachable:
        core(demo, "demo-us").list_namespaced_pod(NS, _request_timeout=2)
    assert not isinstance(unreachable.value, ApiException)
    demo.fail("demo-us", None)
    assert core(demo, "demo-us").list_namespaced_pod(NS).items


def test_restart_patch_is_applied_and_recorded_verbatim(demo):
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTART: "2026-11-24T16:00:00Z"}}}}}
    before = apps(demo).read_namespaced_deployment("checkout-web", NS)
    after = apps(demo).patch_namespaced_deployment("checkout-web", NS, patch)
    assert after.spec.template.metadata.annotations == {RESTART: "2026-11-24T16:00:00Z"}
    assert after.metadata.generation == before.metadata.generation + 1
    assert after.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    sent = [r for r in demo.requests if r["method"] == "PATCH"]
    assert len(sent) == 1
    assert sent[0]["path"] == f"/apis/apps/v1/namespaces/{NS}/deployments/checkout-web"
    assert sent[0]["content_type"] == "application/strategic-merge-patch+json"
    assert json.loads(sent[0]["body"]) == patch
    replica_sets = apps(demo).list_namespaced_replica_set(NS, label_selector="backstage.io/kubernetes-id=checkout-web")
    assert len(replica_sets.items) == 2


def test_scale_changes_replicas(demo):
    api = apps(demo)
    api.patch_namespaced_deployment_scale("checkout-web", NS, {"spec": {"replicas": 4}})
    assert api.read_namespaced_deployment_scale("checkout-web", NS).spec.replicas == 4
    assert api.read_namespaced_deployment("checkout-web", NS).spec.replicas == 4
    pods = core(demo).list_namespaced_pod(NS, label_selector="backstage.io/kubernetes-id=checkout-web").items
    assert len(pods) == 4
    scale = kubernetes.client.V1Scale(
        metadata=kubernetes.client.V1ObjectMeta(name="checkout-web", namespace=NS),
        spec=kubernetes.client.V1ScaleSpec(replicas=1),
    )
    assert api.replace_namespaced_deployment_scale("checkout-web", NS, scale).spec.replicas == 1
    assert api.read_namespaced_deployment("checkout-web", NS).status.replicas == 1


def test_delete_pod_is_replaced(demo):
    v1 = core(demo)
    selector = "backstage.io/kubernetes-id=checkout-web"
    before = {p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector=selector).items}
    victim = sorted(before)[0]
    v1.delete_namespaced_pod(victim, NS)
    after = {p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector=selector).items}
    assert victim not in after and len(after) == len(before)
    with pytest.raises(ApiException) as gone:
        v1.read_namespaced_pod(victim, NS)
    assert gone.value.status == 404
    assert json.loads(gone.value.body)["message"] == f'pods "{victim}" not found'


def test_rollout_progresses_to_completion(tmp_path):
    """The in-progress rollout moves on one pod at a time, then completes. Every state is read, not sampled: the
    first from the state as built, each next one from the watch (each change the controller makes is an event,
    even when a busy machine lets several fall due at once), so load changes only how long it takes."""
    cluster = DemoCluster(rollout_seconds=0.9)
    cluster.start()
    cluster.kubeconfig = cluster.write_kubeconfig(tmp_path / "k")
    try:
        state = cluster.cluster("demo-eu")  # built now; only a request lets its clock move the rollout on
        with state.lock:
            first = state.get("deployments", NS, "payment-processor")["status"]
            version = str(state.revision)
        assert (first["updatedReplicas"], first["readyReplicas"], first["replicas"]) == (1, 3, 4)
        seen = [(first["updatedReplicas"], first["availableReplicas"], first["replicas"])]
        watch = kubernetes.watch.Watch()
        for event in watch.stream(
            apps(cluster).list_namespaced_deployment,
            NS,
            field_selector="metadata.name=payment-processor",
            resource_version=version,
            timeout_seconds=60,
        ):
            status = event["object"].status
            now = (status.updated_replicas, status.available_replicas, status.replicas)
            if now != seen[-1]:
                seen.append(now)
            if now == (3, 3, 3):
                break
        watch.stop()
        # One more updated pod at a time with three available throughout, then the old version's last pod goes.
        assert seen == [(1, 3, 4), (2, 3, 4), (3, 3, 4), (3, 3, 3)]
        assert next(c for c in status.conditions if c.type == "Progressing").reason == "NewReplicaSetAvailable"
    finally:
        cluster.stop()


def test_unknown_path_is_404_with_status(demo):
    with pytest.raises(ApiException) as missing:
        kubernetes.client.BatchV1Api(client(demo)).list_job_for_all_namespaces()
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["kind"] == "Status"


def test_live_watch_sees_an_added_pod_and_bookmarks(tmp_path):
    cluster = DemoCluster(bookmark_seconds=0.2)
    cluster.start()
    cluster.kubeconfig = cluster.write_kubeconfig(tmp_path / "k")
    try:
        v1 = core(cluster)
        selector = "backstage.io/kubernetes-id=checkout-web"
        version = v1.list_namespaced_pod(NS, label_selector=selector).metadata.resource_version
        seen: list[dict] = []

        def run():
            watch = kubernetes.watch.Watch()
            for event in watch.stream(
                v1.list_namespaced_pod,
                NS,
                label_selector=selector,
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=5,
            ):
                seen.append(event)
                if event["type"] == "ADDED":
                    watch.stop()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        time.sleep(0.5)  # long enough for a bookmark on the idle stream
        added = cluster.add_pod("demo-eu", NS, "checkout-web")
        thread.join(5)
        assert [e["type"] for e in seen][-1] == "ADDED"
        assert seen[-1]["object"].metadata.name == added["metadata"]["name"]
        assert "BOOKMARK" in [e["type"] for e in seen]
        assert apps(cluster).read_namespaced_deployment("checkout-web", NS).spec.replicas == 3
    finally:
        cluster.stop()

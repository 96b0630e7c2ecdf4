"""The demo cluster's scale mode (a generated fleet, churn) and the list/watch semantics a real API server has at
scale: label and field selectors, ``limit``/``continue`` paging read at one moment, selector-filtered watches.

Each behaviour is checked by clients no one here wrote: Debian's ``kubectl`` and the official ``kubernetes`` Python
client, over HTTPS. Fleets are small here (a few thousand pods); the 20,000-pod fleet is the benchmark's
(``tests/benchmarks/kube_scale.py``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import kubernetes
import pytest
import yaml
from kubernetes.client.rest import ApiException

from idp_tui.kube.demo_cluster.churn import Churn
from idp_tui.kube.demo_cluster.fleet import HUGE_NAMESPACE, HUGE_SERVICE, FleetSpec, fleet_catalog, plan_fleet
from idp_tui.kube.demo_cluster.server import DemoCluster

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (Debian: kubernetes-client)")
ID = "backstage.io/kubernetes-id"
EU, US = "fleet-eu", "fleet-us"


def start(folder: Path, spec: FleetSpec) -> DemoCluster:
    cluster = DemoCluster(fleet=spec, certificate_dir=folder / "certs")
    cluster.build_all()
    cluster.start()
    cluster.kubeconfig = cluster.write_kubeconfig(folder / "kubeconfig")
    return cluster


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """2,000 pods over two clusters, only read by the tests that share it."""
    cluster = start(tmp_path_factory.mktemp("fleet"), FleetSpec(pods=2000, clusters=2, seed=7))
    yield cluster
    cluster.stop()


@pytest.fixture
def own_fleet(tmp_path):
    """A fleet of its own, for a test that churns it."""
    cluster = start(tmp_path, FleetSpec(pods=1200, clusters=1, seed=3, huge=600))
    yield cluster
    cluster.stop()


def core(cluster: DemoCluster, context: str = EU) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(str(cluster.kubeconfig), context=context, client_configuration=configuration)
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


def kubectl(cluster: DemoCluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    kubeconfig = Path(cluster.kubeconfig)
    env = {"PATH": os.environ["PATH"], "HOME": str(kubeconfig.parent), "KUBECONFIG": str(kubeconfig)}
    result = subprocess.run(
        [KUBECTL, "--request-timeout=20s", *args], env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def names(pods: list[dict]) -> set[tuple[str, str]]:
    return {(pod["metadata"]["namespace"], pod["metadata"]["name"]) for pod in pods}


def kubectl_names(cluster: DemoCluster, *args: str) -> set[tuple[str, str]]:
    out = kubectl(
        cluster, "get", "pods", "-A", "--no-headers", "-o", "custom-columns=NS:.metadata.namespace,N:.metadata.name",
        *args,
    ).stdout  # fmt: skip
    return {tuple(line.split()) for line in out.splitlines() if line.strip()}


# -- the fleet -------------------------------------------------------------------------------------------------


def test_the_default_fleet_is_20000_pods_with_a_2000_pod_service_over_three_clusters_the_same_every_time():
    services = plan_fleet(FleetSpec())
    assert sum(service.pods for service in services) == 20_000
    huge = next(service for service in services if service.id == HUGE_SERVICE)
    assert huge.pods == 2000 and len(huge.replicas) == 3
    huge_ones = [service for service in services if service.tier == "edge"]  # three, a tenth of the pods and less
    assert len(huge_ones) == 3 and all(service.pods >= 500 for service in huge_ones)
    per_cluster = [count for service in services if service.tier != "edge" for count in service.replicas.values()]
    assert min(per_cluster) >= 1 and max(per_cluster) <= 500 and len(services) > 100
    assert [(s.id, s.replicas) for s in plan_fleet(FleetSpec())] == [(s.id, s.replicas) for s in services]
    assert [(s.id, s.replicas) for s in plan_fleet(FleetSpec(seed=2))] != [(s.id, s.replicas) for s in services]
    # The catalog has an entity for every service, wired the way idp-tui's catalog finds workloads.
    entity = next(e for e in fleet_catalog(FleetSpec()) if e["metadata"]["name"] == HUGE_SERVICE)
    assert entity["metadata"]["annotations"] == {ID: HUGE_SERVICE, "backstage.io/kubernetes-namespace": HUGE_NAMESPACE}


def test_the_fleet_has_deployments_replicasets_hpas_and_events_for_its_pods(fleet):
    apps = kubernetes.client.AppsV1Api(core(fleet).api_client)
    deployments = apps.list_deployment_for_all_namespaces().items
    pods = core(fleet).list_pod_for_all_namespaces().items
    assert len(pods) + len(core(fleet, US).list_pod_for_all_namespaces().items) == 2000
    assert sum(d.spec.replicas for d in deployments) == len(pods)
    assert all(d.metadata.labels[ID] for d in deployments) and all(p.metadata.labels[ID] for p in pods)
    assert len(apps.list_replica_set_for_all_namespaces().items) == 2 * len(deployments)
    hpas = kubernetes.client.AutoscalingV2Api(
        core(fleet).api_client
    ).list_horizontal_pod_autoscaler_for_all_namespaces()
    assert hpas.items and all(h.spec.scale_target_ref.kind == "Deployment" for h in hpas.items)
    events = core(fleet).list_event_for_all_namespaces().items
    assert {"ScalingReplicaSet", "BackOff"} <= {event.reason for event in events}


# -- selectors -------------------------------------------------------------------------------------------------

LABEL_CASES = {
    f"{ID}=={HUGE_SERVICE}": lambda labels: labels.get(ID) == HUGE_SERVICE,
    "tier in (frontend,worker)": lambda labels: labels.get("tier") in ("frontend", "worker"),
    "tier notin (frontend),tier": lambda labels: "tier" in labels and labels["tier"] != "frontend",
    "tier!=backend": lambda labels: labels.get("tier") != "backend",
    "!tier": lambda labels: "tier" not in labels,
    f"tier=edge,{ID}!={HUGE_SERVICE}": lambda labels: labels.get("tier") == "edge" and labels.get(ID) != HUGE_SERVICE,
}


@needs_kubectl
@pytest.mark.parametrize("selector", LABEL_CASES)
def test_label_selectors_select_what_kubernetes_would_for_kubectl_and_the_python_client(fleet, selector):
    everything = fleet.pods(EU)
    expected = names([pod for pod in everything if LABEL_CASES[selector](pod["metadata"]["labels"])])
    assert 0 < len(expected) < len(everything)  # each case selects some pods, not all
    assert kubectl_names(fleet, "-l", selector) == expected
    listed = core(fleet).list_pod_for_all_namespaces(label_selector=selector).items
    assert {(pod.metadata.namespace, pod.metadata.name) for pod in listed} == expected


@needs_kubectl
def test_field_selectors_on_name_namespace_phase_and_node_and_an_unsupported_field_is_400(fleet):
    pods = fleet.pods(EU)
    node = pods[0]["spec"]["nodeName"]
    on_node = names([pod for pod in pods if pod["spec"]["nodeName"] == node])
    assert 0 < len(on_node) < len(pods)
    assert kubectl_names(fleet, "--field-selector", f"spec.nodeName={node}") == on_node
    assert kubectl_names(fleet, "--field-selector", "status.phase=Running") == names(
        [pod for pod in pods if pod["status"]["phase"] == "Running"]
    )
    first = pods[0]["metadata"]
    selector = f"metadata.namespace={first['namespace']},metadata.name!={first['name']}"
    expected = names([p for p in pods if p["metadata"]["namespace"] == first["namespace"]]) - {
        (first["namespace"], first["name"])
    }
    listed = core(fleet).list_pod_for_all_namespaces(field_selector=selector).items
    assert {(pod.metadata.namespace, pod.metadata.name) for pod in listed} == expected
    assert kubectl_names(fleet, "--field-selector", f"metadata.name=={first['name']}") == {
        (first["namespace"], first["name"])
    }
    refused = kubectl(fleet, "get", "pods", "-A", "--field-selector", "spec.containers=x", check=False)
    assert refused.returncode != 0 and "field label not supported: spec.containers" in refused.stderr
    with pytest.raises(ApiException) as error:
        core(fleet).list_pod_for_all_namespaces(field_selector="metadata.labels=x")
    assert error.value.status == 400 and json.loads(error.value.body)["reason"] == "BadRequest"
    # A field another kind has (events' reason) is not a pod field either.
    with pytest.raises(ApiException) as other:
        core(fleet).list_pod_for_all_namespaces(field_selector="reason=BackOff")
    assert other.value.status == 400


# -- paging ----------------------------------------------------------------------------------------------------


@needs_kubectl
def test_kubectl_chunk_size_pages_with_limit_and_continue_and_sees_every_pod(fleet):
    before = len(fleet.requests)
    expected = names([pod for pod in fleet.pods(EU) if pod["metadata"]["labels"].get("tier") != "edge"])
    assert kubectl_names(fleet, "--chunk-size=150", "-l", "tier!=edge") == expected
    lists = [r for r in fleet.requests[before:] if r["path"] == "/api/v1/pods" and r["cluster"] == EU]
    assert len(lists) == math.ceil(len(expected) / 150) >= 3
    assert all(r["query"]["limit"] == "150" for r in lists)
    assert "continue" not in lists[0]["query"] and all(r["query"]["continue"] for r in lists[1:])


def test_pages_of_one_list_show_one_moment_even_while_pods_change(own_fleet):
    v1 = core(own_fleet)
    selector = f"{ID}={HUGE_SERVICE}"
    first = v1.list_namespaced_pod(HUGE_NAMESPACE, label_selector=selector, limit=200)
    assert first.metadata._continue and first.metadata.remaining_item_count is None  # unknown with a selector
    at_first = names(own_fleet.pods("fleet-eu", HUGE_NAMESPACE))
    Churn({"fleet-eu": own_fleet.cluster("fleet-eu")}, rate=0, seed=5, only=HUGE_SERVICE).emit(
        300
    )  # pods added, changed, deleted
    assert names(own_fleet.pods("fleet-eu", HUGE_NAMESPACE)) != at_first
    items, token = list(first.items), first.metadata._continue
    while token:
        page = v1.list_namespaced_pod(HUGE_NAMESPACE, label_selector=selector, limit=200, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        items += page.items
        token = page.metadata._continue
    assert {(HUGE_NAMESPACE, pod.metadata.name) for pod in items} == at_first
    assert len(items) == len(at_first)


def test_a_bad_continue_token_is_400_and_a_compacted_one_410_with_a_token_to_carry_on(own_fleet):
    v1 = core(own_fleet)
    with pytest.raises(ApiException) as bad:
        v1.list_pod_for_all_namespaces(limit=10, _continue="bm90IGEgdG9rZW4")
    assert bad.value.status == 400 and "continue key is not valid" in json.loads(bad.value.body)["message"]
    first = v1.list_pod_for_all_namespaces(limit=100)
    Churn({"fleet-eu": own_fleet.cluster("fleet-eu")}, rate=0).emit(20)
    own_fleet.expire_before(int(first.metadata.resource_version) + 1)
    with pytest.raises(ApiException) as expired:
        v1.list_pod_for_all_namespaces(limit=100, _continue=first.metadata._continue)
    body = json.loads(expired.value.body)
    assert expired.value.status == 410 and body["reason"] == "Expired"
    rest = v1.list_pod_for_all_namespaces(limit=5000, _continue=body["metadata"]["continue"])
    later = {pod.metadata.name for pod in rest.items}
    assert later and not later & {pod.metadata.name for pod in first.items}


# -- watches and churn -----------------------------------------------------------------------------------------


def test_churn_through_a_selector_watch_rolling_updates_restarts_and_evictions(own_fleet):
    v1 = core(own_fleet)
    selector = f"{ID}={HUGE_SERVICE}"
    listed = v1.list_namespaced_pod(HUGE_NAMESPACE, label_selector=selector)
    churn = Churn({"fleet-eu": own_fleet.cluster("fleet-eu")}, rate=0, seed=11)
    events: list[dict] = []
    running: list[dict] = []
    opened = threading.Barrier(3, timeout=10)

    def follow(into: list[dict], **options) -> None:
        response = v1.list_namespaced_pod(
            HUGE_NAMESPACE, watch=True, resource_version=listed.metadata.resource_version, timeout_seconds=3,
            _preload_content=False, **options,
        )  # fmt: skip
        opened.wait()
        body = response.data  # the whole stream, once the server ends it at timeout_seconds
        into.extend(json.loads(line) for line in body.splitlines() if line.strip())

    threads = [
        threading.Thread(target=follow, args=(events,), kwargs={"label_selector": selector}),
        threading.Thread(target=follow, args=(running,), kwargs={"field_selector": "status.phase=Running"}),
    ]
    for thread in threads:
        thread.start()
    opened.wait()
    made = churn.emit(400)
    for thread in threads:
        thread.join(15)
    assert made >= 400 and churn.stats.pod_events >= 400
    assert all(e["object"]["metadata"]["labels"][ID] == HUGE_SERVICE for e in events)  # the selector, server-side
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    kinds = {e["type"] for e in events}
    assert kinds == {"ADDED", "MODIFIED", "DELETED"}
    added = [e["object"] for e in events if e["type"] == "ADDED"]
    assert any(pod["status"]["phase"] == "Pending" for pod in added)  # new pods start Pending, then run
    modified = [e["object"] for e in events if e["type"] == "MODIFIED"]
    assert any(pod["metadata"].get("deletionTimestamp") for pod in modified)  # old pods terminate, then go
    assert any(s["restartCount"] for pod in modified for s in pod["status"]["containerStatuses"])
    assert any(pod["status"].get("reason") == "Evicted" for pod in modified)
    # A field-selector watch sees pods arrive when they start running and leave when they stop (evicted, gone).
    assert running and all(e["object"]["status"]["phase"] == "Running" for e in running if e["type"] != "DELETED")
    assert {"ADDED", "DELETED"} <= {e["type"] for e in running}


def test_churn_runs_at_its_rate_in_a_thread_until_stopped(own_fleet):
    own_fleet.start_churn(400, only=HUGE_SERVICE)
    try:
        v1 = core(own_fleet)
        version = v1.list_namespaced_pod(HUGE_NAMESPACE).metadata.resource_version
        seen = 0
        for _event in kubernetes.watch.Watch().stream(
            v1.list_namespaced_pod, HUGE_NAMESPACE, resource_version=version, timeout_seconds=1
        ):
            seen += 1
    finally:
        stats = own_fleet.stop_churn()
    assert seen > 0 and stats is not None and stats.pod_events >= seen


# -- the command -----------------------------------------------------------------------------------------------


@needs_kubectl
def test_idp_tui_demo_cluster_pods_2000_clusters_2_serves_a_fleet_kubectl_sees(tmp_path):
    kubeconfig = tmp_path / "demo" / "kubeconfig"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "idp_tui", "demo", "cluster", "--pods", "2000", "--clusters", "2",
         "--kubeconfig", str(kubeconfig)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = server.stdout.readline()
        assert first.strip() == f"export KUBECONFIG={kubeconfig}", first + server.stderr.read()
        served = DemoCluster()
        served.kubeconfig = kubeconfig
        counts = [
            len(kubectl(served, "--context", context, "get", "pods", "-A", "--no-headers").stdout.splitlines())
            for context in (EU, US)
        ]
        assert sum(counts) == 2000 and all(counts)
        config = yaml.safe_load((kubeconfig.parent / "fleet" / "config.yaml").read_text())
        profile = config["profiles"][config["default_profile"]]
        assert profile["kubernetes"] == {"kubeconfig": str(kubeconfig), "contexts": [EU, US], "demo": True}
        catalog = list(yaml.safe_load_all((Path(profile["catalog"]) / "catalog-info.yaml").read_text()))
        assert any(entity["metadata"]["name"] == HUGE_SERVICE for entity in catalog)
        # Read through that profile, the clusters are said to be the demo's, as on the bundled demo.
        shown = subprocess.run(
            [sys.executable, "-m", "idp_tui", "deployments", HUGE_SERVICE, "--json"],
            env={**env, "IDP_TUI_CONFIG": str(kubeconfig.parent / "fleet" / "config.yaml")},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        clusters = json.loads(shown.stdout)["clusters"]
        assert [c["name"] for c in clusters] == [EU, US] and all(c["demo"] for c in clusters)
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=15)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert "Traceback" not in err and "a fleet of 2,000 pods over 2 clusters" in err


def test_idp_tui_demo_cluster_refuses_a_fleet_too_big_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "idp_tui", "demo", "cluster", "--pods", "10000000"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2 and "--pods: must be from 1 to 200,000" in result.stderr
    assert "Traceback" not in result.stderr

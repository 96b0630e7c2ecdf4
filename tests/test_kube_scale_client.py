"""idp-tui's cluster reading at scale, against the demo cluster's generated fleet over HTTPS: selectors sent to the
server, lists paged with a budget, clusters read concurrently, watch notifications coalesced, stored state capped.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path

import kubernetes
import pytest

from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.churn import Churn
from idp_tui.kube.demo_cluster.fleet import HUGE_NAMESPACE, HUGE_SERVICE, FleetSpec
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.paging import ListBudgetExceeded, list_all
from idp_tui.kube.selection import WorkloadSelector
from idp_tui.kube.snapshot import ClusterSnapshot
from idp_tui.kube.watch import ClusterWatch

ID = "backstage.io/kubernetes-id"
SELECTOR = WorkloadSelector(f"{ID}={HUGE_SERVICE}", namespace=HUGE_NAMESPACE)
EU, US = "fleet-eu", "fleet-us"


def start(folder: Path, spec: FleetSpec) -> DemoCluster:
    cluster = DemoCluster(fleet=spec, certificate_dir=folder / "certs")
    cluster.build_all()
    cluster.start()
    cluster.kubeconfig = str(cluster.write_kubeconfig(folder / "kubeconfig"))
    return cluster


@pytest.fixture
def big(tmp_path):
    """One cluster whose edge-gateway has 1,200 pods: three pages of 500."""
    cluster = start(tmp_path, FleetSpec(pods=1500, clusters=1, seed=4, huge=1200))
    yield cluster
    cluster.stop()


@pytest.fixture
def pair(tmp_path):
    """Two clusters, edge-gateway on both."""
    cluster = start(tmp_path, FleetSpec(pods=600, clusters=2, seed=5, huge=300))
    yield cluster
    cluster.stop()


def pod_lists(cluster: DemoCluster, context: str, since: int = 0) -> list[dict]:
    return [
        r
        for r in cluster.requests[since:]
        if r["cluster"] == context and r["path"].endswith("/pods") and r["query"].get("watch") != "true"
    ]


class Changes:
    """What a watch delivered, in order; waits for a condition on it."""

    def __init__(self) -> None:
        self.snapshots: list[ClusterSnapshot] = []
        self.changed = threading.Condition()

    def __call__(self, snapshot: ClusterSnapshot) -> None:
        with self.changed:
            self.snapshots.append(snapshot)
            self.changed.notify_all()

    def wait(self, predicate, what: str, timeout: float = 30.0) -> None:
        with self.changed:
            assert self.changed.wait_for(predicate, timeout), f"never happened: {what}"


def watch_of(cluster: DemoCluster, context: str, changes: Changes, **options) -> ClusterWatch:
    factory = partial(KubeconfigClusters(cluster.kubeconfig, [context], demo=True).api_client, context)
    watch = ClusterWatch(factory, context, SELECTOR, on_change=changes, demo=True, **options)
    watch.start()
    return watch


def pod_versions(pods: list[dict]) -> dict[str, str]:
    return {pod["metadata"]["name"]: pod["metadata"]["resourceVersion"] for pod in pods}


# -- paging and selectors --------------------------------------------------------------------------------------


def test_a_three_page_list_is_read_whole_and_every_request_carries_the_selector(big):
    (snapshot,) = KubeconfigClusters(big.kubeconfig, [EU], demo=True).snapshot(SELECTOR)
    assert snapshot.error is None
    assert len(snapshot.objects["Pod"]) == 1200
    assert {pod["metadata"]["labels"][ID] for pod in snapshot.objects["Pod"]} == {HUGE_SERVICE}
    pages = pod_lists(big, EU)
    assert [r["query"]["limit"] for r in pages] == ["500", "500", "500"]
    assert "continue" not in pages[0]["query"] and pages[1]["query"]["continue"] != pages[2]["query"]["continue"]
    for request in big.requests:
        # Every list is of the entity's namespace only; every workload kind names the entity's labels.
        assert (
            request["path"].startswith(f"/api/v1/namespaces/{HUGE_NAMESPACE}/")
            or request["path"].startswith(f"/apis/apps/v1/namespaces/{HUGE_NAMESPACE}/")
            or request["path"].startswith(f"/apis/autoscaling/v2/namespaces/{HUGE_NAMESPACE}/")
        ), request["path"]
        if not request["path"].endswith(("/events", "/horizontalpodautoscalers")):
            assert request["query"]["labelSelector"] == SELECTOR.label_selector


def test_a_watch_lists_in_pages_too_then_follows_from_that_lists_version(big):
    changes = Changes()
    watch = watch_of(big, EU, changes)
    try:
        changes.wait(lambda: changes.snapshots, "the first snapshot")
        assert len(changes.snapshots[0].objects["Pod"]) == 1200
        assert len(pod_lists(big, EU)) == 3

        def watches() -> list[dict]:
            return [r for r in big.requests if r["path"].endswith("/pods") and r["query"].get("watch") == "true"]

        for _ in range(400):  # the watch opens just after the list
            if watches():
                break
            threading.Event().wait(0.05)
        watches = watches()
        first_page_version = changes.snapshots[0].resource_versions["Pod"]
        assert watches and watches[0]["query"]["resourceVersion"] == first_page_version
        assert watches[0]["query"]["labelSelector"] == SELECTOR.label_selector
    finally:
        watch.stop()


def test_a_server_naming_the_same_next_page_again_is_stopped_as_that_clusters_error(pair):
    pair.misbehave(US, "repeat-continue")
    eu, us = KubeconfigClusters(pair.kubeconfig, [EU, US], demo=True).snapshot(SELECTOR)
    assert eu.error is None and eu.objects["Pod"]
    assert us.error and "named the same next page twice listing" in us.error and not us.objects
    assert len(pod_lists(pair, US)) == 2  # the first page, and the one that repeated: then it stopped


def test_a_server_whose_pages_never_end_is_stopped_at_the_page_budget(pair):
    pair.misbehave(EU, "endless-pages")
    client = KubeconfigClusters(pair.kubeconfig, [EU], demo=True).api_client(EU)
    api = kubernetes.client.CoreV1Api(client)
    call = partial(api.list_namespaced_pod, HUGE_NAMESPACE, _preload_content=False)
    with pytest.raises(ListBudgetExceeded, match="listing pods did not end after 5 pages"):
        list_all(call, "pods", max_pages=5)
    assert len(pod_lists(pair, EU)) == 5


# -- concurrency -----------------------------------------------------------------------------------------------


def test_a_stalled_cluster_does_not_hold_up_the_others(pair):
    pair.fail(US, "stall")
    arrived: list[str] = []
    us_pending = threading.Event()
    answers: list[ClusterSnapshot] = []

    def on_cluster(snapshot: ClusterSnapshot) -> None:
        arrived.append(snapshot.name)
        if snapshot.name == EU:
            # Fleet-eu is here; fleet-us has been asked (its requests reached the server) and has not answered.
            asked = threading.Event()
            for _ in range(200):
                if pod_lists(pair, US):
                    asked.set()
                    break
                asked.wait(0.05)
            if asked.is_set() and US not in arrived:
                us_pending.set()
            pair.fail(US, None)  # now let it answer

    reader = threading.Thread(
        target=lambda: answers.extend(
            KubeconfigClusters(pair.kubeconfig, [US, EU], demo=True, timeout=30).snapshot(SELECTOR, on_cluster)
        )
    )
    reader.start()
    reader.join(60)
    assert arrived == [EU, US] and us_pending.is_set()
    assert [snapshot.name for snapshot in answers] == [US, EU]  # the answer keeps the clusters' order
    assert all(snapshot.error is None and snapshot.objects["Pod"] for snapshot in answers)


# -- watches ---------------------------------------------------------------------------------------------------


def test_a_burst_of_1000_pod_events_gives_a_handful_of_callbacks_and_the_exact_final_state(pair):
    changes = Changes()
    watch = watch_of(pair, EU, changes)
    try:
        changes.wait(lambda: changes.snapshots, "the first snapshot")
        # One change after a quiet moment is delivered by itself, without waiting for another.
        pod = changes.snapshots[-1].objects["Pod"][0]["metadata"]["name"]
        before = len(changes.snapshots)
        pair.set_pod(EU, HUGE_NAMESPACE, pod, {"metadata": {"annotations": {"touched": "once"}}})
        changes.wait(
            lambda: any(
                (p["metadata"].get("annotations") or {}).get("touched") == "once"
                for p in changes.snapshots[-1].objects["Pod"]
            ),
            "the single change",
        )
        state = pair.cluster(EU)
        churn = Churn({EU: state}, rate=0, seed=9, only=HUGE_SERVICE)
        before = len(changes.snapshots)
        made = 0
        for _ in range(1000):  # one pod event at a time, each its own chunk on the watch stream
            made += churn.emit(1)
            time.sleep(0.002)
        assert made >= 1000 and churn.stats.pod_events >= 1000
        expected = pod_versions(pair.pods(EU, HUGE_NAMESPACE))
        changes.wait(lambda: pod_versions(changes.snapshots[-1].objects["Pod"]) == expected, "the final state")
        callbacks = len(changes.snapshots) - before
        # A handful, where one per event (1,000) arrives without coalescing.
        assert 1 <= callbacks < 100
        final = changes.snapshots[-1]
        with state.lock:
            deployments = {
                d["metadata"]["name"]: d["metadata"]["resourceVersion"]
                for d in state.items("deployments", HUGE_NAMESPACE)
            }
            events = {e["metadata"]["name"] for e in state.items("events", HUGE_NAMESPACE)}
        assert {
            d["metadata"]["name"]: d["metadata"]["resourceVersion"] for d in final.objects["Deployment"]
        } == deployments
        assert {e["metadata"]["name"] for e in final.events} == events
    finally:
        watch.stop()


def test_more_objects_than_the_cap_is_the_clusters_error_and_nothing_is_kept(big):
    changes = Changes()
    watch = watch_of(big, EU, changes, max_objects=1000)
    try:
        changes.wait(lambda: changes.snapshots, "a snapshot")
        snapshot = changes.snapshots[-1]
        assert snapshot.error and snapshot.error.startswith("too many objects: more than 1,000 objects")
        assert not snapshot.objects.get("Pod")
        assert "narrow the entity's selection" in snapshot.error
    finally:
        watch.stop()


def test_objects_growing_past_the_cap_while_watched_stop_that_kind_with_the_error(pair):
    changes, first = Changes(), Changes()
    probe = watch_of(pair, EU, first)
    try:
        first.wait(lambda: first.snapshots, "a first snapshot")
        held = sum(len(items) for items in first.snapshots[0].objects.values()) + len(first.snapshots[0].events)
    finally:
        probe.stop()
    watch = watch_of(pair, EU, changes, max_objects=held + 3)
    try:
        changes.wait(lambda: changes.snapshots and changes.snapshots[-1].error is None, "a first snapshot")
        Churn({EU: pair.cluster(EU)}, rate=0, seed=2, only=HUGE_SERVICE).emit(300)  # rollouts add pods first
        changes.wait(lambda: (changes.snapshots[-1].error or "").startswith("too many objects"), "the cap")
    finally:
        watch.stop()

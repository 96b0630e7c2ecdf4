"""Live cluster state by list-then-watch, through the official client against the demo cluster over HTTPS."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import config

from idp_tui.commands.deployments_json import cluster_json
from idp_tui.kube.access import ClusterSnapshot, KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.report import cluster_report
from idp_tui.kube.selection import WorkloadSelector
from idp_tui.kube.watch import WATCHED, ClusterWatch, WatchStatus

CLUSTER = "demo-eu"
NAMESPACE = "checkout-platform"
SELECTOR = WorkloadSelector("backstage.io/kubernetes-id=payment-processor", namespace=NAMESPACE)


class Recorder:
    """Collects what the watch reports and waits for a condition on it."""

    def __init__(self) -> None:
        self.snapshots: list[ClusterSnapshot] = []
        self.statuses: list[WatchStatus] = []
        self.changed = threading.Condition()

    def snapshot(self, snapshot: ClusterSnapshot) -> None:
        with self.changed:
            self.snapshots.append(snapshot)
            self.changed.notify_all()

    def status(self, status: WatchStatus) -> None:
        with self.changed:
            self.statuses.append(status)
            self.changed.notify_all()

    def wait(self, predicate, timeout: float = 5.0, what: str = "condition"):
        with self.changed:
            assert self.changed.wait_for(predicate, timeout), f"timed out waiting for {what}: {self.statuses[-3:]}"

    def latest(self) -> ClusterSnapshot:
        return self.snapshots[-1]


def start_demo(tmp_path, rollout_seconds: float = 600):
    demo = DemoCluster(rollout_seconds=rollout_seconds)
    demo.start()
    return demo, str(demo.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def cluster(tmp_path):
    demo, kubeconfig = start_demo(tmp_path)
    yield demo, kubeconfig
    demo.stop()


def watch_of(kubeconfig: str, recorder: Recorder, selector: WorkloadSelector = SELECTOR, **options) -> ClusterWatch:
    watch = ClusterWatch(
        lambda: config.new_client_from_config(config_file=kubeconfig, context=CLUSTER),
        CLUSTER,
        selector,
        on_change=recorder.snapshot,
        on_status=recorder.status,
        demo=True,
        backoff=(0.05, 0.2),
        timeout_seconds=5,
        request_timeout=2,
        **options,
    )
    watch.start()
    return watch


def pod_marked(snapshot: ClusterSnapshot, name: str, mark: str) -> bool:
    return any(
        pod["metadata"]["name"] == name and (pod["metadata"].get("annotations") or {}).get("test/mark") == mark
        for pod in snapshot.objects.get("Pod", [])
    )


def requests_of(demo: DemoCluster, since: int) -> list[dict]:
    return [request for request in demo.requests[since:] if request["cluster"] == CLUSTER]


def is_list(request: dict) -> bool:
    return request["method"] == "GET" and request["query"].get("watch") != "true" and "namespaces" in request["path"]


def test_initial_snapshot_equals_a_plain_read(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(lambda: recorder.snapshots, what="the first snapshot")
        [expected] = KubeconfigClusters(kubeconfig, [CLUSTER], demo=True).snapshot(SELECTOR)
        first = recorder.snapshots[0]
        assert first.error is None and first.demo
        assert first.objects == expected.objects
        assert first.events == expected.events
        assert [w["name"] for w in cluster_json(cluster_report(first))["workloads"]] == ["payment-processor"]
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
    finally:
        watch.stop()


def test_every_kind_is_listed_over_one_connection_before_any_stream_opens(cluster):
    """A handshake costs more than a small list: a nearby server's lists share one kept-alive connection, and the
    streams (each holding a connection of its own) open only once everything is listed."""
    demo, kubeconfig = cluster
    seen = len(demo.requests)
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder, slow_list=5.0)  # quick enough however busy the machine running the tests
    try:
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
        requests = requests_of(demo, seen)
        lists = [index for index, request in enumerate(requests) if is_list(request)]
        streams = [index for index, request in enumerate(requests) if request["query"].get("watch") == "true"]
        assert len(lists) == len(streams) == len(WATCHED)
        assert max(lists) < min(streams)
        assert len({requests[index]["connection"] for index in lists}) == 1
    finally:
        watch.stop()


def test_the_streams_open_once_the_view_says_so_and_miss_nothing_meanwhile(cluster):
    demo, kubeconfig = cluster
    gate = threading.Event()
    seen = len(demo.requests)
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder, streams_after=gate)
    try:
        recorder.wait(lambda: recorder.snapshots, what="the first snapshot")
        time.sleep(0.3)
        assert not [r for r in requests_of(demo, seen) if r["query"].get("watch") == "true"]
        pod = recorder.latest().objects["Pod"][0]["metadata"]["name"]
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "meanwhile"}}})
        gate.set()
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "meanwhile"), what="the change made before the gate")
        recorder.wait(lambda: recorder.statuses and recorder.statuses[-1].connected, what="every stream open")
        assert len([r for r in requests_of(demo, seen) if r["query"].get("watch") == "true"]) == len(WATCHED)
        assert len([r for r in requests_of(demo, seen) if is_list(r)]) == len(WATCHED)  # caught up, not re-listed
    finally:
        watch.stop()
    assert not watch.alive()


def test_a_distant_servers_kinds_are_listed_at_once_after_a_slow_list(cluster):
    """Where every list is a round trip away, one after another would add up: once a list (after the first, which
    also opens the connection) is slow, the kinds left are listed at once, each over a connection of its own."""
    demo, kubeconfig = cluster
    demo.slow(CLUSTER, 0.1)
    seen = len(demo.requests)
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(lambda: recorder.snapshots, what="the first snapshot")
        lists = [request for request in requests_of(demo, seen) if is_list(request)]
        assert len(lists) == len(WATCHED)
        assert lists[0]["connection"] == lists[1]["connection"]
        assert len({request["connection"] for request in lists[2:]}) == len(WATCHED) - 2
        assert recorder.snapshots[0].error is None
    finally:
        watch.stop()


def test_a_change_arrives_through_the_watch_without_listing_again(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
        seen = len(demo.requests)
        pod = recorder.latest().objects["Pod"][0]["metadata"]["name"]
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "one"}}})
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "one"), what="the change")
        assert pod_marked(watch.snapshot(), pod, "one")
        assert not [request for request in requests_of(demo, seen) if is_list(request)]
    finally:
        watch.stop()


def test_dropped_watches_reconnect_go_stale_then_live_and_keep_delivering(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
        before = len(recorder.statuses)
        seen = len(demo.requests)
        assert demo.drop_watches() >= 7
        recorder.wait(lambda: any(not s.connected for s in recorder.statuses[before:]), what="stale")
        stale = next(s for s in recorder.statuses[before:] if not s.connected)
        assert stale.stale_since is not None and stale.retry_in == pytest.approx(0.05)
        assert "closed the watch" in stale.error
        recorder.wait(lambda: recorder.statuses[-1].connected, what="live again")
        assert recorder.statuses[-1].stale_since is None
        pod = recorder.latest().objects["Pod"][0]["metadata"]["name"]
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "after"}}})
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "after"), what="a change after reconnecting")
        # Reconnected from the last resourceVersion: watches only, no list.
        watches = requests_of(demo, seen)
        assert watches and not [request for request in watches if is_list(request)]
        assert all(request["query"].get("resourceVersion") not in (None, "", "0") for request in watches)
    finally:
        watch.stop()


def test_410_gone_lists_again_and_the_state_is_right(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
        pod = recorder.latest().objects["Pod"][0]["metadata"]["name"]
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "before"}}})
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "before"), what="the first change")
        seen = len(demo.requests)
        demo.expire_before(demo.cluster(CLUSTER).revision)
        demo.drop_watches()
        with recorder.changed:
            assert recorder.changed.wait_for(lambda: any(is_list(r) for r in requests_of(demo, seen)), 20)
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "relisted"}}})
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "relisted"), what="a change after the re-list")
        recorder.wait(lambda: recorder.statuses[-1].connected, what="live again")
        [expected] = KubeconfigClusters(kubeconfig, [CLUSTER], demo=True).snapshot(SELECTOR)
        assert watch.snapshot().objects == expected.objects
    finally:
        watch.stop()


def test_unreachable_cluster_is_stale_with_the_error_then_live_again(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(
            lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
        )
        demo.fail(CLUSTER, "unreachable")
        demo.drop_watches()
        recorder.wait(
            lambda: not recorder.statuses[-1].connected and "unreachable" in (recorder.statuses[-1].error or ""),
            what="unreachable",
        )
        status = recorder.statuses[-1]
        assert status.stale_since is not None and status.retry_in > 0
        assert watch.snapshot().error is None and watch.snapshot().objects["Deployment"]  # last known data is kept
        demo.fail(CLUSTER, None)
        recorder.wait(lambda: recorder.statuses[-1].connected, timeout=5, what="live again")
    finally:
        watch.stop()


def test_forbidden_first_list_is_the_snapshot_error_and_retried(cluster):
    demo, kubeconfig = cluster
    demo.fail(CLUSTER, 403)
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(lambda: recorder.snapshots and recorder.snapshots[-1].error, what="an error snapshot")
        assert recorder.latest().error.startswith("403 Forbidden:")
        assert recorder.latest().objects == {}
        recorder.wait(lambda: recorder.statuses and not recorder.statuses[-1].connected, what="a stale status")
        assert recorder.statuses[-1].error.startswith("403 Forbidden:")
        demo.fail(CLUSTER, None)
        recorder.wait(lambda: recorder.statuses[-1].connected, what="live after healing")
        recorder.wait(lambda: recorder.latest().error is None and recorder.latest().objects.get("Deployment"))
    finally:
        watch.stop()


def test_a_rollout_progresses_live_and_bursts_are_coalesced(tmp_path):
    demo, kubeconfig = start_demo(tmp_path, rollout_seconds=1.5)
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    try:
        recorder.wait(lambda: recorder.snapshots, what="the first snapshot")
        first = cluster_json(cluster_report(recorder.snapshots[0]))["workloads"][0]["rollout"]["status"]
        assert first == "progressing"
        recorder.wait(
            lambda: cluster_json(cluster_report(recorder.latest()))["workloads"][0]["rollout"]["status"] == "complete",
            timeout=8,
            what="the rollout to complete",
        )
        started = time.monotonic()
        pods = [
            pod["metadata"]["name"]
            for pod in demo.pods(CLUSTER, NAMESPACE)
            if pod["metadata"]["name"].startswith("payment-processor-")
        ]
        before = len(recorder.snapshots)
        for index in range(40):
            demo.set_pod(CLUSTER, NAMESPACE, pods[index % len(pods)], {"metadata": {"annotations": {"n": str(index)}}})
        recorder.wait(
            lambda: any(
                (p["metadata"].get("annotations") or {}).get("n") == "39" for p in recorder.latest().objects["Pod"]
            )
        )
        calls = len(recorder.snapshots) - before
        assert calls <= 5 * (time.monotonic() - started) + 2
    finally:
        watch.stop()
        demo.stop()


def test_stop_ends_every_thread_within_a_second(cluster):
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)
    recorder.wait(
        lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
    )
    started = time.monotonic()
    watch.stop()
    assert not watch.alive()
    assert time.monotonic() - started < 1.0


def test_the_server_ends_the_streams_of_a_stopped_watch_long_before_their_timeout(cluster):
    """A stopped watch closes its connections; the API server notices and stops answering (the demo's streams had
    kept a thread each, waking five times a second, until their timeout)."""
    demo, kubeconfig = cluster
    recorder = Recorder()
    watch = watch_of(kubeconfig, recorder)  # timeout_seconds=5
    recorder.wait(
        lambda: recorder.snapshots and recorder.statuses and recorder.statuses[-1].connected, what="connected"
    )
    assert demo.streams_serving("watch") == len(WATCHED)
    watch.stop()
    deadline = time.monotonic() + 1.5
    while demo.streams_serving("watch") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert demo.streams_serving("watch") == 0


def test_an_on_change_that_raises_is_the_clusters_error_and_the_watch_keeps_delivering(cluster):
    """A reader that cannot read one object (it raises) must not end the notify thread: the cluster's error is
    delivered instead, and the next change still arrives."""
    demo, kubeconfig = cluster
    recorder = Recorder()
    calls = []

    def on_change(snapshot: ClusterSnapshot) -> None:
        calls.append(snapshot)
        if len(calls) == 1:
            raise ValueError("invalid literal for int() with base 10: '²'")
        recorder.snapshot(snapshot)

    watch = ClusterWatch(
        lambda: config.new_client_from_config(config_file=kubeconfig, context=CLUSTER),
        CLUSTER,
        SELECTOR,
        on_change=on_change,
        on_status=recorder.status,
        demo=True,
        backoff=(0.05, 0.2),
        timeout_seconds=5,
        request_timeout=2,
    )
    watch.start()
    try:
        recorder.wait(lambda: recorder.snapshots, what="the error snapshot")
        failed = recorder.snapshots[0]
        assert failed.name == CLUSTER and failed.objects == {}
        assert (
            failed.error == "cannot show what the cluster sent: ValueError: invalid literal for int() with base 10: '²'"
        )
        recorder.wait(lambda: recorder.statuses and recorder.statuses[-1].connected, what="connected")
        pod = watch.snapshot().objects["Pod"][0]["metadata"]["name"]
        demo.set_pod(CLUSTER, NAMESPACE, pod, {"metadata": {"annotations": {"test/mark": "after"}}})
        recorder.wait(lambda: pod_marked(recorder.latest(), pod, "after"), what="the next change")
        assert recorder.latest().error is None
    finally:
        watch.stop()

"""Server-side printing: the demo cluster's Tables, checked against Kubernetes' own printer and duration tests.

The cases are those of ``pkg/printers/internalversion/printers_test.go`` and ``apimachinery/pkg/util/duration``'s
tests, in the JSON shapes the API sends; the HTTP tests check the Table the demo answers when a client asks for one.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
from datetime import UTC, datetime

import pytest

from idp_tui.kube.demo_cluster import DemoCluster
from idp_tui.kube.demo_cluster.tables import hpa_targets, human_duration, selector_string, table, table_version

NOW = 1_800_000_000.0
S, M, H, D = 1, 60, 3600, 86_400
KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "1s"), (70, "70s"), (190, "3m10s"), (70 * M, "70m"), (47 * H, "47h"), (49 * H, "2d1h"),
        ((8 * 24 + 2) * H, "8d"), (367 * D, "367d"), ((365 * 2 * 24 + 25) * H, "2y1d"), ((365 * 8 * 24 + 2) * H, "8y"),
        (-2, "<invalid>"), (-1.999999999, "0s"), (0, "0s"), (0.999, "0s"), (2 * M - 0.001, "119s"), (2 * M, "2m"),
        (2 * M + 1, "2m1s"), (10 * M - 0.001, "9m59s"), (10 * M + 1, "10m"), (3 * H - 0.001, "179m"), (3 * H, "3h"),
        (3 * H + M, "3h1m"), (8 * H - 0.001, "7h59m"), (8 * H + 59 * M, "8h"), (2 * D - 0.001, "47h"), (2 * D, "2d"),
        (8 * D - 0.001, "7d23h"), (8 * D + 23 * H, "8d"), (2 * 365 * D - 0.001, "729d"), (2 * 365 * D, "2y"),
        (2 * 365 * D + D - 0.001, "2y"), (2 * 365 * D + D, "2y1d"), (8 * 365 * D - 0.001, "7y364d"),
        (8 * 365 * D + 364 * D, "8y"), (9 * 365 * D, "9y"),
    ],
)  # fmt: skip
def test_ages_are_apimachinerys_human_duration(seconds, expected):
    assert human_duration(seconds) == expected


def _iso(seconds_ago: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pod(name, status, containers=1, init=(), deleting=False):
    meta = {"name": name, "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = _iso(-30)
    spec = {"containers": [{"name": f"c{i}"} for i in range(containers)], "initContainers": list(init)}
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}


def _cells(pod):
    return table("pods", [pod], {}, now=NOW)["rows"][0]["cells"][:5]


RUNNING, WAITING = {"running": {}}, {"waiting": {}}


def _restarted(count: int, ago: float) -> dict:
    return {"restartCount": count, "lastState": {"terminated": {"finishedAt": _iso(ago)}}}


PRINT_POD_CASES = [
    (  # two containers, one completed, one running, no Ready condition
        _pod("test6", {"phase": "Running", "containerStatuses": [
            {"ready": True, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
            {"ready": True, "restartCount": 3, "state": RUNNING}]}, containers=2),
        ["test6", "1/2", "NotReady", "6", "<unknown>"],
    ),
    (  # the same with the Ready condition
        _pod("test6", {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [
            {"ready": True, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
            {"ready": True, "restartCount": 3, "state": RUNNING}]}, containers=2),
        ["test6", "1/2", "Running", "6", "<unknown>"],
    ),
    (  # an init container restarting
        _pod("test7", {"phase": "podPhase", "initContainerStatuses": [{"ready": False, "state": RUNNING, **_restarted(3, 10)}],
             "containerStatuses": [{"ready": False, "restartCount": 0, "state": WAITING}]}, init=[{"name": "i"}]),
        ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"],
    ),
    (  # two init containers, one completed with restarts and one restarting
        _pod("test10", {"phase": "podPhase", "initContainerStatuses": [
            {"ready": False, "state": {"terminated": {}}, **_restarted(2, 120)},
            {"ready": False, "state": RUNNING, **_restarted(3, 10)}],
            "containerStatuses": [{"ready": False, "state": WAITING}]}, init=[{"name": "a"}, {"name": "b"}]),
        ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"],
    ),
    (  # init done; the container restarted (only its restarts count)
        _pod("test11", {"phase": "Running", "initContainerStatuses": [
            {"ready": False, "state": {"terminated": {}}, **_restarted(2, 120)}],
            "containerStatuses": [{"ready": False, "state": RUNNING, **_restarted(4, 20)}]}, init=[{"name": "i"}]),
        ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"],
    ),
    (  # two containers restarted 5 and 20 days ago: the later restart is shown
        _pod("test14", {"phase": "Running", "containerStatuses": [
            {"ready": True, "state": RUNNING, **_restarted(6, 5 * D)},
            {"ready": True, "state": RUNNING, **_restarted(3, 20 * D)}]}, containers=2),
        ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"],
    ),
    (
        _pod("test15", {"phase": "podPhase", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}, containers=2),
        ["test15", "0/2", "SchedulingGated", "0", "<unknown>"],
    ),
    (
        _pod("test17", {"phase": "Failed", "containerStatuses": [
            {"ready": False, "restartCount": 0, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}),
        ["test17", "0/1", "Error", "0", "<unknown>"],
    ),
    (
        _pod("test19", {"phase": "Running", "containerStatuses": [{"ready": False, "restartCount": 0, "state": RUNNING}]},
             deleting=True),
        ["test19", "0/1", "Terminating", "0", "<unknown>"],
    ),
    (  # restartable (sidecar) init containers count as containers
        _pod("test1", {"phase": "Pending", "conditions": [{"type": "Initialized", "status": "False"}],
             "initContainerStatuses": [
                 {"name": "r1", "ready": False, "started": False, "state": RUNNING, **_restarted(3, 10)},
                 {"name": "r2", "ready": False, "started": False, "state": WAITING}],
             "containerStatuses": [{"ready": False, "restartCount": 0, "state": WAITING}]},
             init=[{"name": "r1", "restartPolicy": "Always"}, {"name": "r2", "restartPolicy": "Always"}]),
        ["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("pod", "expected"), PRINT_POD_CASES)
def test_pod_rows_match_kubernetes_printer_tests(pod, expected):
    assert _cells(pod) == expected


def test_finished_pods_carry_the_completed_row_condition():
    pod = _pod("done", {"phase": "Succeeded", "containerStatuses": [
        {"ready": False, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]})  # fmt: skip
    row = table("pods", [pod], {}, now=NOW)["rows"][0]
    assert row["cells"][2] == "Completed"
    assert row["conditions"] == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]


def test_selectors_hpa_targets_and_negotiation():
    selector = {
        "matchLabels": {"tier": "web", "app": "a"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "zone", "operator": "DoesNotExist"},
            {"key": "canary", "operator": "Exists"},
        ],
    }
    assert selector_string(selector) == "app=a,canary,env in (dev,prod),tier=web,!zone"
    assert selector_string({}) == ""
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    memory = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}},
    }
    pods = {
        "type": "Pods",
        "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
    }
    current = [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 94}}}]
    assert hpa_targets([cpu], current) == "cpu: 94%/70%"
    assert hpa_targets([cpu], []) == "cpu: <unknown>/70%"
    assert hpa_targets([cpu, memory, pods], current) == "cpu: 94%/70%, memory: <unknown>/1Gi + 1 more..."
    assert hpa_targets([], []) == "<none>"

    assert table_version(KUBECTL_ACCEPT) == "v1"
    assert table_version("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == "v1beta1"
    assert table_version("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json") is None
    assert table_version("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json") is None
    assert table_version("application/json") is None and table_version(None) is None


# -- over HTTPS: what a client asking for a Table receives -----------------------------------------------------------


@pytest.fixture
def demo(tmp_path):
    cluster = DemoCluster(rollout_seconds=600, certificate_dir=tmp_path)
    cluster.start()
    yield cluster
    cluster.stop()


def _get(demo: DemoCluster, path: str, accept: str = KUBECTL_ACCEPT):
    context = ssl.create_default_context(cadata=demo.certificate_pem.decode())
    request = urllib.request.Request(
        demo.server_url("demo-eu") + path, headers={"Authorization": "Bearer demo", "Accept": accept}
    )
    return urllib.request.urlopen(request, context=context, timeout=10)


def test_a_list_asked_as_a_table_is_the_api_servers_table(demo):
    body = json.load(_get(demo, "/api/v1/namespaces/checkout-platform/pods?limit=3"))
    assert (body["kind"], body["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    columns = [(c["name"], c["type"], c["format"], c["priority"]) for c in body["columnDefinitions"]]
    assert columns == [
        ("Name", "string", "name", 0), ("Ready", "string", "", 0), ("Status", "string", "", 0),
        ("Restarts", "string", "", 0), ("Age", "string", "", 0), ("IP", "string", "", 1), ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1), ("Readiness Gates", "string", "", 1),
    ]  # fmt: skip
    assert len(body["rows"]) == 3 and body["metadata"]["continue"] and body["metadata"]["remainingItemCount"] > 0
    row = body["rows"][0]
    assert len(row["cells"]) == 9
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["apiVersion"] == "meta.k8s.io/v1"
    assert row["object"]["metadata"]["namespace"] == "checkout-platform" and "spec" not in row["object"]

    full = json.load(_get(demo, "/api/v1/namespaces/checkout-platform/pods?limit=1&includeObject=Object"))
    assert full["rows"][0]["object"]["kind"] == "Pod" and "spec" in full["rows"][0]["object"]
    bare = json.load(_get(demo, "/api/v1/namespaces/checkout-platform/pods?limit=1&includeObject=None"))
    assert "object" not in bare["rows"][0]

    one = json.load(_get(demo, "/apis/apps/v1/namespaces/checkout-platform/deployments/cart-service"))
    assert [row["cells"][:4] for row in one["rows"]] == [["cart-service", "6/6", 6, 6]]
    assert one["metadata"]["resourceVersion"]
    plain = json.load(
        _get(demo, "/apis/apps/v1/namespaces/checkout-platform/deployments/cart-service", "application/json")
    )
    assert plain["kind"] == "Deployment"


def test_a_watch_asked_as_tables_sends_the_columns_once(demo):
    response = _get(
        demo,
        "/api/v1/namespaces/checkout-platform/pods?watch=true&labelSelector=backstage.io/kubernetes-id=order-service",
    )
    first, second = json.loads(response.readline()), json.loads(response.readline())
    assert first["type"] == second["type"] == "ADDED"
    assert first["object"]["kind"] == "Table" and len(first["object"]["columnDefinitions"]) == 9
    assert second["object"]["columnDefinitions"] is None and len(second["object"]["rows"]) == 1
    victim = second["object"]["rows"][0]["cells"][0]
    started = time.monotonic()
    demo.delete_pod("demo-eu", "checkout-platform", victim)
    event = json.loads(response.readline())
    assert event["type"] == "MODIFIED" and event["object"]["rows"][0]["cells"][2] == "Terminating"
    assert time.monotonic() - started < 5
    response.close()

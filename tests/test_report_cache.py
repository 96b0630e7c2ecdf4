"""A watched cluster's reports reuse what did not change (``ReportCache``, ``RowTexts``) and read exactly as if
made afresh: ages move on, readiness probes fall overdue with time, changed and deleted pods and events show."""

from __future__ import annotations

import copy
from datetime import timedelta

from test_deployment_list import NOW, fleet_pod, fleet_snapshot

from idp_tui.kube.report import ReportCache, cluster_report
from idp_tui.render.deployments import cluster_rows
from idp_tui.render.rows import RowTexts


def _probed(pod: dict, started_ago: timedelta) -> dict:
    """Running but not ready, with a readiness probe: a problem once its grace period (30 s) has passed."""
    pod = copy.deepcopy(pod)
    pod["spec"]["containers"][0]["readinessProbe"] = {"periodSeconds": 10, "failureThreshold": 3}
    status = pod["status"]["containerStatuses"][0]
    status["ready"] = False
    status["state"] = {"running": {"startedAt": (NOW - started_ago).isoformat()}}
    return pod


def _event(pod: dict, reason: str, message: str) -> dict:
    meta = pod["metadata"]
    return {
        "metadata": {"name": f"{meta['name']}.{reason}", "namespace": "edge"},
        "type": "Warning",
        "reason": reason,
        "message": message,
        "involvedObject": {"kind": "Pod", "name": meta["name"], "namespace": "edge", "uid": meta["uid"]},
        "lastTimestamp": NOW.isoformat(),
    }


def test_cached_reports_and_rows_read_as_fresh_ones_as_time_passes_and_pods_change():
    snapshot = fleet_snapshot("fleet-eu", 300)
    pods = snapshot.objects["Pod"]
    pods[3] = _probed(pods[3], timedelta(seconds=5))  # overdue 25 s from now
    snapshot.events = [_event(pods[10], "BackOff", "Back-off restarting failed container")]
    cache, texts = ReportCache(), RowTexts()

    def same_as_fresh(now) -> None:
        cached = cluster_report(snapshot, now, cache=cache)
        fresh = cluster_report(snapshot, now)
        assert cached == fresh
        assert [row.text for row in cluster_rows(cached, texts=texts)] == [row.text for row in cluster_rows(fresh)]
        texts.sweep()

    same_as_fresh(NOW)
    same_as_fresh(NOW + timedelta(seconds=1))  # every age one second on
    same_as_fresh(NOW + timedelta(seconds=40))  # pod 3's readiness probe is overdue now: a problem, sorted first
    assert (
        cluster_report(snapshot, NOW + timedelta(seconds=40), cache=cache).workloads[0].pods[0].name
        == (pods[3]["metadata"]["name"])
    )

    # The watch replaces changed objects: a pod crash-loops, another is deleted, a probe fails in an event.
    pods[20] = fleet_pod("fleet-eu", 20, crashing=True, restarts=9)
    del pods[21]
    snapshot.events = [*snapshot.events, _event(pods[30], "Unhealthy", "Readiness probe failed: 503")]
    pods[30] = _probed(pods[30], timedelta(seconds=1))  # not overdue yet: the event alone flags it
    same_as_fresh(NOW + timedelta(minutes=2))
    same_as_fresh(NOW + timedelta(hours=3))
    # The deleted pod is forgotten; pods 3 and 30 are read afresh each time (their readiness depends on the time).
    assert len(cache) == len(pods) - 2 + len(snapshot.events)

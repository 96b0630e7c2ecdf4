"""``deployments --json`` is made at the edge from typed results, and stays byte for byte what scripts already read.

``fixtures/deployments/snapshots.json`` holds what the demo cluster answered for a few entities (a rollout in
progress on two clusters with its history, a crash loop, an autoscaler at its maximum, a StatefulSet and a DaemonSet,
an empty cluster, a forbidden one) and the time it was read at; ``deployments_json.txt`` is the JSON the command
printed for them before the report became typed (the dict report of commit c090d97), one document per case.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from idp_tui.commands.deployments_json import container_json, deployments_json
from idp_tui.commands.output import print_json
from idp_tui.kube.report import DeploymentsReport, container_reports, deployments_report
from idp_tui.kube.selection import WorkloadSelector
from idp_tui.kube.snapshot import ClusterSnapshot

FIXTURES = Path(__file__).parent / "fixtures" / "deployments"


@pytest.fixture(scope="module")
def recorded() -> tuple[datetime, list[DeploymentsReport]]:
    data = json.loads((FIXTURES / "snapshots.json").read_text(encoding="utf-8"))
    now = datetime.fromisoformat(data["now"])
    reports = []
    for case in data["cases"]:
        clusters = tuple(case["clusters"]) if case["clusters"] is not None else None
        selector = WorkloadSelector(case["label_selector"], case["namespace"], clusters)
        snapshots = [ClusterSnapshot(**snapshot) for snapshot in case["snapshots"]]
        reports.append(deployments_report(case["entity"], selector, snapshots, demo=True, now=now))
    return now, reports


def test_the_json_is_byte_for_byte_what_the_command_printed_before(recorded):
    _, reports = recorded
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for report in reports:
            print_json(deployments_json(report))
    assert out.getvalue() == (FIXTURES / "deployments_json.txt").read_text(encoding="utf-8")


def test_the_report_stays_typed_until_the_edge(recorded):
    _, reports = recorded
    report = reports[0]
    workload = report.clusters[0].workloads[0]
    pod = workload.pods[0]
    # Frozen dataclasses all the way down: what the TUI renders cannot be changed behind its back.
    for value in (report, report.clusters[0], workload, pod, pod.summary, pod.containers[0], workload.rollout):
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, None)
    assert workload.rollout_state == "progressing" and workload.revisions[0].number == 5


def test_a_containers_json_says_every_field_of_its_report(recorded):
    # One serialiser (commands/pods_json.container_json) makes every containers entry, deployments --json and
    # gitops alike: it must carry each field the domain reports, under the field's own name, and nothing else.
    data = json.loads((FIXTURES / "snapshots.json").read_text(encoding="utf-8"))
    pods = [
        pod for case in data["cases"] for snapshot in case["snapshots"] for pod in snapshot["objects"].get("Pod", [])
    ]
    assert pods
    for pod in pods:
        for container in container_reports(pod):
            assert container_json(container) == dataclasses.asdict(container)

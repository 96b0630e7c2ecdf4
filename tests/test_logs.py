"""Tailing an entity's pods like stern, through the official client against the demo cluster over HTTPS."""

from __future__ import annotations

import queue
import re
import time

import pytest
from kubernetes import config

from idp_tui.cli import main
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.logs import LogLine, LogOptions, LogTail, parse_duration


@pytest.fixture
def cluster(tmp_path):
    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    kubeconfig = str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
    yield demo, kubeconfig
    demo.stop()


def tail_of(
    cluster, selector: str, options: LogOptions, namespace: str = "checkout-platform"
) -> tuple[LogTail, queue.Queue]:
    demo, kubeconfig = cluster
    lines: queue.Queue = queue.Queue()
    client = config.new_client_from_config(config_file=kubeconfig, context="demo-eu")
    tail = LogTail(client, "demo-eu", namespace, selector, options, lines)
    tail.start()
    return tail, lines


def drained(tail: LogTail, lines: queue.Queue) -> list[LogLine | str]:
    """Every item of ``tail`` until its streams ended (what LogStream reads, without its batching)."""
    got: list[LogLine | str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            got.append(lines.get(timeout=0.2))
        except queue.Empty:
            if tail.done() and lines.empty():
                return got
    raise AssertionError("the tail did not end")


def collect(tail: LogTail, lines: queue.Queue) -> list[LogLine]:
    return [item for item in drained(tail, lines) if isinstance(item, LogLine)]


def test_every_pod_and_container_is_tailed_together(cluster):
    tail, lines = tail_of(cluster, "backstage.io/kubernetes-id=cart-service", LogOptions(tail=2))
    got = collect(tail, lines)
    pods = {line.pod for line in got}
    assert len(pods) == 6  # cart-service runs 6 pods on demo-eu
    assert all(sum(1 for line in got if line.source == source) == 2 for source in {line.source for line in got})


def test_include_and_exclude_filters(cluster):
    options = LogOptions(tail=50, include=re.compile("request"), exclude=re.compile("health"))
    tail, lines = tail_of(cluster, "backstage.io/kubernetes-id=cart-service", options)
    got = collect(tail, lines)
    assert got and all("request" in line.text and "health" not in line.text for line in got)


def test_previous_container_logs_of_the_crash_looping_pod(cluster):
    demo, _ = cluster
    crashing = next(
        p
        for p in demo.pods("demo-eu", "checkout-platform")
        if p["metadata"]["name"].startswith("settlement-worker") and p["status"]["containerStatuses"][0]["restartCount"]
    )
    selector = "backstage.io/kubernetes-id=settlement-worker"
    tail, lines = tail_of(cluster, selector, LogOptions(tail=5, previous=True))
    got = drained(tail, lines)
    crashed = [line for line in got if isinstance(line, LogLine) and line.pod == crashing["metadata"]["name"]]
    assert crashed and "exiting" in crashed[-1].text
    # The healthy pod has no previous container: said in the stream, not a crash.
    assert any(isinstance(item, str) and "not found" in item for item in got)


def test_a_pod_that_appears_while_following_joins_the_stream(cluster):
    demo, _ = cluster
    tail, lines = tail_of(cluster, "backstage.io/kubernetes-id=checkout-web", LogOptions(follow=True, tail=1))
    try:
        new_pod = demo.add_pod("demo-eu", "checkout-platform", "checkout-web", name="checkout-web-joiner-abcde")
        deadline = time.monotonic() + 15
        seen: set[str] = set()
        while time.monotonic() < deadline and new_pod["metadata"]["name"] not in seen:
            try:
                item = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(item, LogLine):
                seen.add(item.pod)
        assert new_pod["metadata"]["name"] in seen
    finally:
        tail.stop()


def test_durations_like_stern():
    assert parse_duration("90s") == 90 and parse_duration("5m") == 300 and parse_duration("1h30m") == 5400
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("soon")


def test_logs_command_prints_prefixed_lines_and_ends(capsys):
    assert main(["logs", "checkout-web", "--tail", "1", "--context", "demo-eu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith("checkout-web-") for line in out)


def test_bad_regex_is_a_clear_error(capsys):
    assert main(["logs", "checkout-web", "--grep", "("]) == 2
    assert "missing )" in capsys.readouterr().err


def test_ctrl_c_ends_a_follow_cleanly():
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "idp_tui", "logs", "checkout-web", "--follow", "--context", "demo-eu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("checkout-web-")  # streaming
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()

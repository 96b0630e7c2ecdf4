"""No silent demo: whenever the demo cluster answers, every view and command says so, and never otherwise."""

from __future__ import annotations

import json
import re

import pytest
from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.logs import LogScreen
from idp_tui.screens.pod_detail import PodDetailScreen
from test_deployments_tui import open_deployments
from test_tui import SIZE, _text, _until

from idp_tui.app import IdpApp
from idp_tui.cli import main
from idp_tui.kube.demo_cluster import DemoCluster
from idp_tui.resources import demo_catalog_path
from idp_tui.session import Session
from idp_tui.widgets.deployment_list import DeploymentList


@pytest.fixture
def real(tmp_path, monkeypatch):
    """A cluster that is not the demo's: a kubeconfig (the demo cluster's, served apart) read by a non-demo profile."""
    cluster = DemoCluster(rollout_seconds=600)
    cluster.start()
    monkeypatch.setenv("KUBECONFIG", str(cluster.write_kubeconfig(tmp_path / "kubeconfig")))
    yield ["--catalog", str(demo_catalog_path())]
    cluster.stop()


def test_the_deployments_command_says_demo_in_text_and_json(capsys):
    assert main(["deployments", "payment-processor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["demo"] is True
    assert main(["deployments", "payment-processor"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("· demo cluster"), first


def test_a_real_cluster_is_not_called_a_demo(capsys, real):
    assert main([*real, "deployments", "payment-processor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["demo"] is False and [c["demo"] for c in report["clusters"]] == [False]
    assert main([*real, "deployments", "payment-processor"]) == 0
    assert "demo cluster" not in capsys.readouterr().out
    assert main([*real, "logs", "payment-processor", "--tail", "1"]) == 0
    assert "demo cluster" not in capsys.readouterr().err


def test_the_logs_command_says_demo_on_stderr_only(capsys):
    assert main(["logs", "checkout-web", "--tail", "1", "--context", "demo-eu"]) == 0
    out, err = capsys.readouterr()
    assert err == "idp-tui: demo cluster (demo-eu): the demo's logs, not a real cluster's\n"
    assert out and all(line.startswith("checkout-web-") for line in out.splitlines())  # stdout: log lines only


async def test_the_deployments_pod_and_log_screens_say_demo_cluster_at_80_columns():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "settlement-worker")
        title = _text(screen.query_one("#deployments-title"))
        assert title.strip() == "Deployments · Settlement Worker · demo cluster"
        assert screen.query_one("#deployments-title").size.height == 1

        pod = next(row for row in screen.rows if row.kind == "pod")
        screen.query_one(DeploymentList).highlighted = screen.rows.index(pod)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, PodDetailScreen))
        assert _text(app.screen.query_one("#pod-title")).strip().endswith("· demo cluster")
        assert re.search(r"Cluster +demo-eu \(demo cluster\)", _text(app.screen.query_one("#pod-detail")))
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))

        await pilot.press("l")
        await _until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.demo)
        await pilot.pause()
        assert _text(app.screen.query_one("#logs-title")).strip().endswith("· demo cluster")
        app.session.close()


async def test_a_long_name_gives_way_to_the_badges_in_the_title():
    from idp_tui.screens.deployments import screen_title

    long = "An Unusually Long Display Name For A Service That Would Not Fit On One Line"
    title = screen_title(long, ["demo cluster", "READ-ONLY"], 78)
    assert len(title) == 78 and title.endswith("… · demo cluster · READ-ONLY")
    assert screen_title("Short", [], 78) == "Deployments · Short"


async def test_a_real_clusters_screen_is_not_called_a_demo(real):
    app = IdpApp(Session.for_catalog(real[1]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "payment-processor")
        assert "demo" not in _text(screen.query_one("#deployments-title"))
        assert not any("demo cluster" in row.text.plain for row in screen.rows)
        app.session.close()

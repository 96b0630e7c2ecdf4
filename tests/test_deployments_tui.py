"""The Deployments screen at 80x24, on the demo cluster through the real client: d, problems first, pod detail."""

from __future__ import annotations

from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.pod_detail import PodDetailScreen
from test_tui import SIZE, _loaded, _search, _text, _until

from idp_tui.app import IdpApp
from idp_tui.session import Session
from idp_tui.widgets.deployment_list import DeploymentList


async def open_deployments(pilot, name: str) -> DeploymentsScreen:
    await _loaded(pilot)
    await _search(pilot, name)
    await pilot.press("enter", "d")
    await _until(pilot, lambda: isinstance(pilot.app.screen, DeploymentsScreen) and pilot.app.screen.complete)
    return pilot.app.screen


async def test_d_shows_workloads_per_cluster_with_the_crash_loop_first():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "settlement-worker")
        assert [report.name for report in screen.reports] == ["demo-eu", "demo-us"]
        kinds = [row.kind for row in screen.rows]
        assert kinds[0] == "cluster" and "workload" in kinds and "pod" in kinds
        first_pod = next(row for row in screen.rows if row.kind == "pod")
        assert first_pod.pod.summary.status == "CrashLoopBackOff"  # problems first
        # Opened on the failing pod: l (its logs) and Enter (why) need no moving first.
        assert screen.current_row() is first_pod and first_pod.workload.name == "settlement-worker"
        assert any(row.kind == "problem" and "previous logs" in row.text.plain for row in screen.rows)
        # Every row is one line at 80 columns; the highlighted one is shown whole under the list.
        rows = screen.query_one(DeploymentList)
        assert all(len(rows.shown_text(i)) <= 80 for i in range(rows.row_count))
        assert "settlement-worker" in _text(screen.query_one("#deployment-detail"))

        pod_index = screen.rows.index(first_pod)
        screen.query_one(DeploymentList).highlighted = pod_index
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, PodDetailScreen))
        detail = _text(app.screen.query_one("#pod-detail"))
        assert "CrashLoopBackOff" in detail and "terminated Error (exit 1)" in detail
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        app.session.close()


async def test_an_entity_without_kubernetes_annotations_is_explained():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "platform-cli")
        await pilot.press("enter", "d")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        await _until(pilot, lambda: "annotation" in _text(app.screen.query_one("#deployments-status")))


def _demo(app):
    return app.session.demo_cluster


async def test_the_view_is_live_a_deleted_pod_is_replaced_on_screen():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        before = {row.pod.name for row in screen.rows if row.kind == "pod" and row.cluster == "demo-eu"}
        victim = sorted(before)[0]
        _demo(app).delete_pod("demo-eu", "checkout-platform", victim)
        await _until(
            pilot,
            lambda: (
                victim not in {row.pod.name for row in screen.rows if row.kind == "pod" and row.cluster == "demo-eu"}
            ),
        )
        lists = [r for r in _demo(app).requests if r["method"] == "GET" and "watch" not in r["query"]]
        # The first list of each kind per cluster (the workloads' seven, and Argo CD's Applications and Argo
        # Rollouts' Rollouts since issue 17); the change came through the watch.
        assert len(lists) <= 18
        app.session.close()


async def test_restart_asks_first_showing_the_kubectl_command_then_sends_kubectls_patch():
    from idp_tui.screens.confirm import ConfirmScreen

    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        assert screen.current_row().kind == "workload"
        await pilot.press("R")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert (
            app.screen.command
            == "kubectl --context demo-eu -n checkout-platform rollout restart deployment/checkout-web"
        )
        await pilot.press("y")
        await _until(pilot, lambda: any(r["method"] == "PATCH" for r in _demo(app).requests))
        patch = next(r for r in _demo(app).requests if r["method"] == "PATCH")
        assert patch["content_type"] == "application/strategic-merge-patch+json"
        assert '"kubectl.kubernetes.io/restartedAt"' in patch["body"]
        app.session.close()


async def test_read_only_sends_nothing_and_says_what_it_would_have_run():
    app = IdpApp(Session.for_catalog(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        await pilot.press("R", "plus")
        pod_row = next(i for i, row in enumerate(screen.rows) if row.kind == "pod")
        screen.query_one(DeploymentList).highlighted = pod_row
        await pilot.press("X")
        await pilot.pause(0.3)
        assert not any(r["method"] in ("PATCH", "PUT", "DELETE", "POST") for r in _demo(app).requests)
        assert "read-only" in _text(screen.query_one("#deployments-status"))
        app.session.close()


async def test_c_switches_between_clusters_and_back_to_all():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "payment-processor")
        assert {row.cluster for row in screen.rows} == {"demo-eu", "demo-us"}
        await pilot.press("c")
        assert {row.cluster for row in screen.rows} == {"demo-eu"}
        await pilot.press("c")
        assert {row.cluster for row in screen.rows} == {"demo-us"}
        await pilot.press("c")
        assert {row.cluster for row in screen.rows} == {"demo-eu", "demo-us"}
        app.session.close()


async def test_l_on_the_crash_looping_pod_tails_it_and_p_shows_why_it_crashed():
    from idp_tui.screens.logs import LogScreen

    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "settlement-worker")
        crashing = next(i for i, row in enumerate(screen.rows) if row.kind == "pod" and row.pod.problems)
        screen.query_one(DeploymentList).highlighted = crashing
        await pilot.press("l")
        await _until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.view.row_count > 0, 15)
        logs = app.screen
        crashed_pod = screen.rows[crashing].pod.name
        assert logs.target == crashed_pod and logs.contexts == ["demo-eu"]
        await pilot.press("p")
        view = logs.view
        await _until(pilot, lambda: any("exiting" in view.row_text(i) for i in range(view.row_count)), 15)
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        app.session.close()


async def test_escape_and_reconnect_do_not_wait_for_watches_of_clusters_that_do_not_answer(monkeypatch):
    """Every watch (three per cluster: workloads, Applications, Rollouts) is told to stop; none is waited for on
    the UI thread, so leaving the view with clusters that never answer is immediate."""
    from idp_tui.kube.watch import ClusterWatch

    waits: list[float] = []
    real_stop = ClusterWatch.stop

    def recording_stop(watch, timeout: float = 1.0) -> None:
        waits.append(timeout)
        real_stop(watch, timeout)

    monkeypatch.setattr(ClusterWatch, "stop", recording_stop)
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        demo = _demo(app)
        for cluster in ("demo-eu", "demo-us"):
            demo.fail(cluster, "timeout")  # connections accepted, never answered
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: len(screen.watches) == 2 and len(screen.gitops_watches) == 4)
        await pilot.pause(0.3)  # every new watch is now waiting on its first list
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, DeploymentsScreen), timeout=5)
        # Ctrl-R stopped the first six watches and Escape the next six, each without waiting for its thread
        # (waiting 0.2 s for each held the UI 1.2 s or more with clusters that never answer).
        assert len(waits) >= 12 and set(waits) == {0}, waits
        assert all(watch._stopping.is_set() for watch in [*screen.watches, *screen.gitops_watches])
        for cluster in ("demo-eu", "demo-us"):
            demo.fail(cluster, None)
        app.session.close()

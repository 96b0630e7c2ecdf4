"""The Deployments screen at scale and under a watch storm, at 80x24, on the demo cluster through the real client:
a thousand pods drawn a screenful at a time, and bursts of watch news shown as a few updates ending on the newest."""

from __future__ import annotations

import copy
import threading

from screen_cells import screen_text
from test_deployments_tui import open_deployments
from test_tui import SIZE, _loaded, _search, _until

from idp_tui.app import IdpApp
from idp_tui.session import Session
from idp_tui.widgets.deployment_list import DeploymentList


def _pods(screen, cluster: str | None = None) -> list:
    return [row for row in screen.rows if row.kind == "pod" and cluster in (None, row.cluster)]


async def test_a_thousand_pods_are_on_screen_a_screenful_at_a_time_and_the_cursor_reaches_the_last():
    session = Session.for_catalog()
    session.workload_source()  # the demo cluster starts here
    demo = session.demo_cluster
    for cluster, count in (("demo-eu", 600), ("demo-us", 400)):
        for _ in range(count):
            demo.add_pod(cluster, "checkout-platform", "checkout-web")
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        assert len(_pods(screen, "demo-eu")) > 600 and len(_pods(screen, "demo-us")) > 400
        screen._stop_watches()  # the demo's controllers keep replacing pods: hold the view still to walk it
        await pilot.pause(0.3)
        listing = screen.query_one(DeploymentList)
        visible = listing.scrollable_content_region.height
        # Each update of the view (one per cluster and Argo read as they came in) drew at most a screenful.
        assert 0 < listing.rows_rendered <= 6 * visible < len(screen.rows) // 10

        await pilot.press("end")
        assert screen.current_row() is screen.rows[-1]
        assert listing.shown_text(len(screen.rows) - 1) in screen_text(app)
        drawn = listing.rows_rendered
        await pilot.press("up", "up", "up")
        assert screen.current_row() is screen.rows[-4]
        assert listing.rows_rendered - drawn <= 6  # each move draws the line it left and the one it reached
        app.session.close()


async def test_a_burst_of_snapshots_makes_a_few_updates_and_the_screen_ends_on_the_newest():
    """Two hundred snapshots of a cluster arrive at once, as a watch storm delivers them: the screen builds and
    shows a few of them, the newest last, never one update per snapshot."""
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        screen._stop_watches()  # from here on, only the snapshots below reach the screen
        base = screen._workload_snapshots["demo-eu"]
        name = _pods(screen, "demo-eu")[0].pod.name
        screen.query_one(DeploymentList).highlighted = screen.rows.index(_pods(screen, "demo-eu")[0])

        def restarted(times: int):
            snapshot = copy.copy(base)
            snapshot.objects = dict(base.objects)
            pods = []
            for pod in base.objects["Pod"]:
                if pod["metadata"]["name"] == name:
                    pod = copy.deepcopy(pod)
                    pod["status"]["containerStatuses"][0]["restartCount"] = times
                pods.append(pod)
            snapshot.objects["Pod"] = pods
            return snapshot

        burst = [restarted(times) for times in range(1, 201)]
        before = screen.updates_applied
        storm = threading.Thread(target=lambda: [screen._changed(s, screen.generation) for s in burst])
        storm.start()
        storm.join()
        await _until(pilot, lambda: any(row.pod.summary.restarts == 200 for row in _pods(screen, "demo-eu")))
        await pilot.pause(0.5)  # anything still queued would show now
        assert 1 <= screen.updates_applied - before <= 5
        row = next(row for row in _pods(screen, "demo-eu") if row.pod.name == name)
        assert row.pod.summary.restarts == 200 and screen.current_row().pod.name == name
        assert "↻200" in screen_text(app)  # the highlighted pod, kept under the cursor, as the newest says
        app.session.close()


async def test_pod_changes_streamed_by_both_clusters_end_on_screen_as_the_clusters_last_said():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        demo = app.session.demo_cluster
        targets = {cluster: _pods(screen, cluster)[0].pod.name for cluster in ("demo-eu", "demo-us")}
        screen.query_one(DeploymentList).highlighted = screen.rows.index(_pods(screen, "demo-eu")[0])
        before = screen.updates_applied

        def restart(times: int):
            def change(pod):
                pod["status"]["containerStatuses"][0]["restartCount"] = times

            return change

        def storm() -> None:  # 300 pod events through the API server's watches, as fast as it takes them
            for times in range(1, 151):
                for cluster, pod in targets.items():
                    demo.set_pod(cluster, "checkout-platform", pod, restart(times))

        thread = threading.Thread(target=storm)
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.05)

        def final() -> bool:
            restarts = {
                row.cluster: row.pod.summary.restarts for row in _pods(screen) if row.pod.name in targets.values()
            }
            return restarts == {"demo-eu": 150, "demo-us": 150}

        await _until(pilot, final, timeout=20)
        assert screen.updates_applied - before < 300 // 5  # a few updates, not one per event
        assert screen.current_row().pod.name == targets["demo-eu"] and "↻150" in screen_text(app)
        app.session.close()


async def test_a_pod_the_report_cannot_read_is_that_clusters_error_and_the_other_still_shows():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        pod = _pods(screen, "demo-eu")[0].pod.name

        def hostile(pod):
            pod["status"]["containerStatuses"][0]["restartCount"] = "²"  # a digit to str.isdigit, not to int()

        app.session.demo_cluster.set_pod("demo-eu", "checkout-platform", pod, hostile)
        await _until(pilot, lambda: screen.by_cluster["demo-eu"].error is not None)
        assert screen.by_cluster["demo-eu"].error.startswith("cannot show what the cluster sent: ValueError")
        assert any("✗ cannot show what the cluster sent" in row.text.plain for row in screen.rows)
        assert _pods(screen, "demo-us") and "demo-eu ✗" in str(screen.query_one("#deployments-status").render())
        app.session.close()


async def test_the_view_lists_first_and_opens_its_streams_once_the_complete_view_is_on_screen():
    """The streams' handshakes would compete with the lists and the first paint: they wait for it, then open at
    once (not after the watch's longest wait), and each starts where its list ended."""
    session = Session.for_catalog()
    session.workload_source()
    demo = session.demo_cluster
    seen = len(demo.requests)
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        await _until(pilot, lambda: screen.streams_gate.is_set(), timeout=1.0)
        await _until(pilot, lambda: all(s.connected for s in screen.statuses.values()) and screen.statuses)
        requests = demo.requests[seen:]
        streams = [i for i, r in enumerate(requests) if r["query"].get("watch") == "true"]
        lists = [i for i, r in enumerate(requests) if r["method"] == "GET" and r["query"].get("watch") != "true"]
        assert streams and lists and max(lists) < min(streams)
        assert all(requests[i]["query"].get("resourceVersion") not in (None, "", "0") for i in streams)
        app.session.close()


async def test_a_slow_cluster_holds_neither_the_first_paint_nor_the_others():
    """The screen waits a moment for its first build, so nearby clusters are painted complete at once; a cluster a
    second away gets "reading…" painted meanwhile, and the clusters that answered are shown without it."""
    from idp_tui.screens.deployments import DeploymentsScreen

    session = Session.for_catalog()
    session.workload_source()
    session.demo_cluster.slow("demo-eu", 1.5)
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "checkout-web")
        await pilot.press("enter", "d")
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen), timeout=1.0)
        screen = app.screen
        await _until(pilot, lambda: [r.name for r in screen.reports] == ["demo-us"], timeout=1.0)
        assert not screen.complete
        assert "demo-eu reading…" in screen_text(app) and "cluster demo-us" in screen_text(app)
        await _until(pilot, lambda: screen.complete, timeout=5.0)
        app.session.close()

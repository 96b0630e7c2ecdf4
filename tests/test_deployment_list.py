"""The Deployments view's list at scale: a service of 2,000 pods over three clusters, drawn a screenful at a time.

The rows are the real ones (``cluster_report`` and ``cluster_rows`` over pods in the API's JSON shape); the list is
the widget the Deployments screen uses, at 80x24. What is counted is what the terminal pays for: rows turned into
cells and lines redrawn.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from screen_cells import screen_text
from textual.app import App, ComposeResult

from idp_tui.kube.report import ReportCache, cluster_report
from idp_tui.kube.snapshot import ClusterSnapshot
from idp_tui.render.deployments import cluster_rows
from idp_tui.render.rows import RowTexts
from idp_tui.widgets.deployment_list import DeploymentList

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
SIZE = (80, 24)


def fleet_pod(cluster: str, index: int, *, crashing: bool = False, restarts: int = 4) -> dict:
    """A pod of the Deployment ``edge-gateway`` as the API returns it (crash-looping ones have problems)."""
    started = (NOW - timedelta(hours=2)).isoformat()
    state = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}} if crashing else {"running": {}}
    state.get("running", {}).update(startedAt=started)
    return {
        "metadata": {
            "name": f"edge-gateway-7d9c5-{cluster}-{index:04d}",
            "namespace": "edge",
            "uid": f"{cluster}-{index}",
            "labels": {"app": "edge-gateway"},
            "creationTimestamp": (NOW - timedelta(minutes=5 + index % 300)).isoformat(),
        },
        "spec": {"nodeName": f"node-{index % 40}", "containers": [{"name": "gateway", "image": "edge:1.0"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "gateway", "ready": not crashing, "restartCount": restarts if crashing else 0, "state": state}
            ],
        },
    }


def fleet_snapshot(cluster: str, pods: int) -> ClusterSnapshot:
    """One cluster's share of the service: its Deployment and ``pods`` pods, one in fifty crash-looping."""
    deployment = {
        "metadata": {"name": "edge-gateway", "namespace": "edge", "generation": 1},
        "spec": {"replicas": pods, "selector": {"matchLabels": {"app": "edge-gateway"}}},
        "status": {"observedGeneration": 1, "replicas": pods, "updatedReplicas": pods, "availableReplicas": pods},
    }
    objects = {"Deployment": [deployment], "Pod": [fleet_pod(cluster, i, crashing=i % 50 == 7) for i in range(pods)]}
    return ClusterSnapshot(cluster, objects=objects)


def view_rows(snapshots: list[ClusterSnapshot], caches=None, texts=None) -> list:
    rows = []
    for snapshot in snapshots:
        cache = caches.setdefault(snapshot.name, ReportCache()) if caches is not None else None
        lines = texts.setdefault(snapshot.name, RowTexts()) if texts is not None else None
        rows += cluster_rows(cluster_report(snapshot, NOW, cache=cache), texts=lines)
    return rows


class ListApp(App):
    def compose(self) -> ComposeResult:
        yield DeploymentList(id="rows")

    def on_mount(self) -> None:
        self.query_one(DeploymentList).focus()


FLEET = [fleet_snapshot("fleet-eu", 700), fleet_snapshot("fleet-us", 700), fleet_snapshot("fleet-ap", 600)]


async def test_two_thousand_pods_are_drawn_a_screenful_at_a_time_down_to_the_last():
    rows = view_rows(FLEET)
    assert sum(1 for row in rows if row.kind == "pod") == 2000
    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        listing = app.query_one(DeploymentList)
        listing.set_rows(rows, 0)
        await pilot.pause()
        visible = listing.scrollable_content_region.height
        assert listing.row_count == len(rows) > 2000
        # One screenful turned into cells, not 2,000 rows.
        assert 0 < listing.rows_rendered <= 2 * visible
        assert "cluster fleet-eu" in screen_text(app)

        await pilot.press("end")
        assert listing.highlighted == len(rows) - 1 and listing.highlighted_row is rows[-1]
        assert rows[-1].text.plain.split()[0] in screen_text(app)  # the last pod, on screen
        await pilot.press("home", "pagedown", "pagedown")
        assert listing.highlighted == 2 * visible
        await pilot.press("down")
        assert listing.highlighted == 2 * visible + 1
        # A page, the end, the top, two more pages: still screenfuls, never the whole list.
        assert listing.rows_rendered <= 8 * visible
        assert listing.shown_text(listing.highlighted) in screen_text(app)

        # At the end when pods go away (a scale-down): the cursor and the view follow to the new last row.
        await pilot.press("end")
        fewer = rows[:-300]
        listing.set_rows(fewer)
        await pilot.pause()
        assert listing.highlighted == len(fewer) - 1
        assert listing.shown_text(len(fewer) - 1) in screen_text(app)
        assert listing.shown_text(len(fewer) - 2) in screen_text(app)  # the rows above it fill the screen


async def test_new_rows_redraw_only_the_lines_that_read_differently():
    caches, texts = {}, {}
    rows = view_rows(FLEET, caches, texts)
    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        listing = app.query_one(DeploymentList)
        listing.set_rows(rows, 0)
        await pilot.pause(0.1)  # focused, styled and drawn: nothing left to repaint
        await pilot.pause()
        # The watch brings a new version of one pod on screen (it restarted again); every row is rebuilt.
        on_screen = next(i for i, row in enumerate(rows) if row.kind == "pod")
        visible = listing.scrollable_content_region.height
        assert on_screen < visible
        name = rows[on_screen].pod.name
        changed = copy.copy(FLEET[0])
        changed.objects = dict(FLEET[0].objects)
        changed.objects["Pod"] = [
            fleet_pod("fleet-eu", i, crashing=True, restarts=97) if pod["metadata"]["name"] == name else pod
            for i, pod in enumerate(FLEET[0].objects["Pod"])
        ]
        new_rows = view_rows([changed, *FLEET[1:]], caches, texts)
        assert len(new_rows) == len(rows) and new_rows[on_screen] is not rows[on_screen]
        differ = [i for i in range(visible) if new_rows[i].text != rows[i].text]
        assert differ == [on_screen]  # the pod's line (its problems read the same)
        drawn, rendered = listing.lines_drawn, listing.rows_rendered
        listing.set_rows(new_rows)
        await pilot.pause()
        assert "↻97" in screen_text(app)
        assert listing.lines_drawn - drawn == 1  # that line alone, of the 22 on screen
        assert listing.rows_rendered - rendered == 1

"""GitOps in the Deployments screen at 80x24, on the demo cluster through the real client: Argo CD applications
above the workloads (drift, health, operation, history), the paused canary Rollout among them, and sync through
the key and the confirmation, refused before anything is sent in read-only mode."""

from __future__ import annotations

import threading

from idp_tui.screens.confirm import ConfirmScreen
from idp_tui.screens.deployments import DeploymentsScreen
from screen_cells import screen_text
from test_deployments_tui import open_deployments
from test_tui import SIZE, _until

from idp_tui.app import IdpApp
from idp_tui.session import Session
from idp_tui.widgets.deployment_list import DeploymentList


def _rows(screen: DeploymentsScreen) -> list[str]:
    return [row.text.plain for row in screen.rows]


def _app_of(screen: DeploymentsScreen, name: str):
    return next(row.application for row in screen.rows if row.application is not None and row.application.name == name)


async def test_d_on_promo_engine_shows_it_out_of_sync_with_the_drifted_configmap_and_sync_fixes_it():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "promo-engine")
        rows = _rows(screen)
        head = next(i for i, row in enumerate(screen.rows) if row.kind == "application")
        # Above its workloads: the application's head line, then its drifted ConfigMap among its resources.
        assert head < next(i for i, row in enumerate(screen.rows) if row.kind == "workload")
        assert "Argo CD promo-engine" in rows[head] and "OutOfSync" in rows[head] and "Degraded" in rows[head]
        drift = next(row for row in rows if "promo-engine-flags" in row)
        assert drift.lstrip().startswith("≠ ConfigMap") and "OutOfSync" in drift
        assert any("history #1" in row for row in rows)  # newest first
        assert any(row.lstrip().startswith("! OutOfSync:") for row in rows)  # a problem, with its hint
        shown = screen_text(app)  # as the terminal shows it, at 80 columns
        assert "OutOfSync" in shown and "ConfigMap checkout-platform/promo-engine-flags" in shown
        assert all(len(line) <= 80 for line in shown.splitlines())

        # Sync: the key asks first, showing the argocd command; y sends it; the watch brings Synced.
        screen.query_one(DeploymentList).highlighted = head
        await pilot.press("s")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.command.startswith("argocd app sync promo-engine --app-namespace argocd")
        assert "demo cluster" in app.screen.question
        await pilot.press("y")
        await _until(pilot, lambda: app.screen is screen)
        await _until(pilot, lambda: _app_of(screen, "promo-engine").sync_status == "Synced", timeout=20)
        synced = _app_of(screen, "promo-engine")
        assert synced.history[0].initiated_by is not None and synced.history[0].initiated_by.username
        assert not any("promo-engine-flags" in row and "OutOfSync" in row for row in _rows(screen))
        app.session.close()


async def test_d_on_checkout_web_shows_the_paused_canary_among_the_workloads():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")
        rollout = next(row for row in screen.rows if row.kind == "rollout")
        assert rollout.cluster == "demo-us" and rollout.rollout.info.canary.step == 2
        index = screen.rows.index(rollout)
        rows = _rows(screen)
        assert rows[index].lstrip().startswith("‖ Rollout checkout-platform/checkout-web")
        state = rows[index + 1]
        assert "canary step 2 of 4" in state and "weight 25%" in state and "paused: CanaryPauseStep" in state
        roles = [row.text.plain.split()[0] for row in screen.rows if row.kind == "replicaset"]
        assert roles == ["canary", "stable"]
        assert sum(1 for row in screen.rows if row.kind == "pod" and row.rollout is not None) == 4
        # On screen at 80x24 once highlighted (the list scrolls to it).
        screen.query_one(DeploymentList).highlighted = index + 1
        await pilot.pause()
        assert "canary step 2 of 4 · weight 25%" in screen_text(app)
        # Argo CD calls the app Suspended while its canary waits: paused (‖) like the Rollout, not a failure.
        head = next(row.text.plain for row in screen.rows if row.kind == "application")
        assert head.lstrip().startswith("‖ Argo CD checkout-web") and "Suspended" in head
        assert screen.problem_count == 0 and "0 with problems" in str(screen.query_one("#deployments-status").render())
        app.session.close()


async def test_read_only_refuses_sync_before_anything_is_sent():
    session = Session.for_catalog(read_only=True)
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "promo-engine")
        demo = session.demo_cluster
        screen.query_one(DeploymentList).highlighted = next(
            i for i, row in enumerate(screen.rows) if row.kind == "application"
        )
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any(
            "Read-only mode: not sent" in n.message and "argocd app sync" in n.message for n in app._notifications
        )
        assert _app_of(screen, "promo-engine").sync_status == "OutOfSync"
        # Nothing that changes a cluster left the client (the request log of the demo API server).
        assert [r for r in demo.requests if r["method"] not in ("GET",)] == []
        session.close()


class _WatchAnswersFirst(Session):
    """A session whose GitOps watches have answered (demo-us has no Argo CD: a 404) before ``watch()`` returns,
    as happens when the UI's worker thread is slow to be scheduled again."""

    def gitops_source(self, contexts=None):
        source = super().gitops_source(contexts)
        watch = source.watch

        def answered_first(cluster, *, on_change, **options):
            answered = threading.Event()

            def told(snapshot):
                on_change(snapshot)
                answered.set()

            started = watch(cluster, on_change=told, **options)
            answered.wait(5)
            return started

        source.watch = answered_first
        return source


async def test_a_404_before_the_watch_is_recorded_still_completes_the_view_and_stops_that_watch():
    app = IdpApp(_WatchAnswersFirst.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot, "checkout-web")  # waits for the view to be complete
        assert screen.gitops_error is None
        assert any(row.kind == "application" for row in screen.rows)  # demo-eu's Argo CD
        assert any(row.kind == "rollout" for row in screen.rows)  # demo-us's Rollout
        unserved = screen._gitops_by_kind[("demo-us", "Application")]
        await _until(pilot, lambda: not unserved.alive())
        assert screen._gitops_by_kind[("demo-eu", "Application")].alive()
        app.session.close()

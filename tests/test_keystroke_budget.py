"""Keystroke budgets for the three everyday journeys, on the bundled demo at 80x24, counted from launch.

Every key goes through ``CountingKeys`` (a wrapper around ``pilot.press``), so a journey that grows a key
fails here; each test prints its count (``pytest -s``) for the report.

The demo's first answers are where the journeys need them: search ranks prefix ties by name, so ``pay`` puts
the API payment-events above payment-processor and ``set`` the Resource settlement-reports-bucket above
settlement-worker (one ``down`` each); Deployments opens on the first failing pod; a repository host with one
allowed value is skipped when the page is focused.
"""

from __future__ import annotations

from idp_tui.screens.deployments import DeploymentsScreen
from idp_tui.screens.logs import LogScreen
from idp_tui.screens.oncall import OnCallScreen
from idp_tui.screens.task_run import TaskRunScreen
from idp_tui.screens.template_form import TemplateFormScreen
from test_tui import SIZE, _loaded, _until

from idp_tui.app import IdpApp
from idp_tui.session import Session

ON_CALL_BUDGET = 8
NEW_SERVICE_BUDGET = 25
CRASH_LOGS_BUDGET = 8


class OverBudget(AssertionError):
    """The journey reached its end, in more keys than its budget."""


def _check_budget(journey: str, count: int, budget: int) -> None:
    print(f"\nkeystrokes: {journey}: {count} (budget {budget})")
    if count > budget:
        raise OverBudget(f"{journey}: {count} keys, budget {budget}")


class CountingKeys:
    """Presses keys through the Pilot and counts each one; pauses between keys are free, keys are not."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.count += 1
            await self.pilot.press(key)
            # Let each key's effect land (a screen push, a search) as it would at human speed.
            await self.pilot.pause()

    async def type(self, text: str) -> None:
        await self.press(*text)

    async def search(self, query: str, *then: str) -> None:
        """``/``, the query, and the keys after it (the search box has every letter before they are pressed)."""
        await self.press("slash")
        await self.type(query)
        await _until(self.pilot, lambda: self.pilot.app.screen.query_one("#search").value == query)
        await self.press(*then)


async def test_find_a_service_and_see_its_on_call_within_budget():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        keys = CountingKeys(pilot)
        await _loaded(pilot)
        # The best match for "pay" is the API payment-events; the service is the row under it.
        await keys.search("pay", "enter", "down", "o")
        await _until(pilot, lambda: isinstance(app.screen, OnCallScreen) and app.screen.answer is not None)
        screen = app.screen
        assert screen.entity.name == "payment-processor"
        report = screen.answer.report
        assert report is not None and report.levels, "the escalation ladder is shown"
        _check_budget("service on-call", keys.count, ON_CALL_BUDGET)


async def test_create_a_service_from_the_articles_template_within_budget(tmp_path):
    app = IdpApp(Session.for_catalog(publish_root=tmp_path / "repos"))
    async with app.run_test(size=SIZE) as pilot:
        keys = CountingKeys(pilot)
        await _until(pilot, lambda: app.catalog is not None)
        await keys.press("n", "down", "enter")  # the second template: New Microservice
        await _until(pilot, lambda: isinstance(app.screen, TemplateFormScreen))
        form = app.screen
        assert form.form_title == "New Microservice"
        # Page 1: the name; owner and system are required and have no default: one letter and → complete each.
        await keys.type("inv")
        await keys.press("tab", "tab", "p", "right", "tab", "c", "right", "ctrl+n")
        await keys.press("ctrl+n")  # page 2: every default kept
        # Page 3: the host has one allowed value, so the owner has the focus; owner and name have no default.
        await keys.type("acme")
        await keys.press("tab")
        await keys.type("inv")
        await keys.press("ctrl+n")
        assert form.in_review, form.values
        await keys.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None, 30)
        assert app.screen.result.status == "completed", app.screen.result.error
        assert (tmp_path / "repos/github.com/acme/inv/catalog-info.yaml").exists()
        _check_budget("new service from the golden path", keys.count, NEW_SERVICE_BUDGET)


async def test_open_the_logs_of_the_crash_looping_pod_within_budget():
    app = IdpApp(Session.for_catalog())
    try:
        async with app.run_test(size=SIZE) as pilot:
            keys = CountingKeys(pilot)
            await _loaded(pilot)
            # The best match for "set" is the Resource settlement-reports-bucket; the service is under it.
            await keys.search("set", "enter", "down", "d")
            await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen) and app.screen.complete, 20)
            deployments = app.screen
            assert deployments.entity.name == "settlement-worker"
            first_pod = next(row for row in deployments.rows if row.kind == "pod")
            assert first_pod.pod.summary.status == "CrashLoopBackOff"  # listed first: problems sort first
            # Opened on the failing pod: its logs are one key away.
            assert deployments.current_row() is first_pod
            await keys.press("l")
            await _until(pilot, lambda: isinstance(app.screen, LogScreen), 15)
            assert app.screen.target == first_pod.pod.name
            _check_budget("crash-looping pod logs", keys.count, CRASH_LOGS_BUDGET)
    finally:
        app.session.close()

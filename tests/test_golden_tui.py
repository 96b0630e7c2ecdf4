"""The whole golden-path journey in the TUI, by keyboard: n, pick, fill, back and forth, preview, run, open."""

from __future__ import annotations

import subprocess

from idp_tui.screens.entity import EntityScreen
from idp_tui.screens.golden_paths import GoldenPathsScreen
from idp_tui.screens.golden_preview import PreviewScreen
from idp_tui.screens.task_run import TaskRunScreen
from idp_tui.screens.template_form import TemplateFormScreen
from textual.widgets import Log

from idp_tui.app import IdpApp
from idp_tui.session import Session

SIZE = (80, 24)


async def wait_for(pilot, condition, attempts: int = 200) -> None:
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def open_article_form(app: IdpApp, pilot) -> TemplateFormScreen:
    await wait_for(pilot, lambda: app.catalog is not None)
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, GoldenPathsScreen))
    titles = [t.title for t in app.screen.templates]
    assert titles == ["Documentation Site", "New Microservice"]
    await pilot.press("down", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TemplateFormScreen))
    return app.screen


async def fill_to_review(pilot) -> None:
    # Page 1: name, description (skipped), owner and system completed from the catalog (right accepts).
    await pilot.press(*"inv", "tab", "tab", *"team-pa", "right", "tab", *"ch", "right", "ctrl+n")
    await pilot.pause()
    await pilot.press("ctrl+n")  # page 2: the defaults (Node.js, tier 2, no database)
    await pilot.pause()
    await pilot.press(*"acme", "tab", *"inv", "ctrl+n")  # page 3: github.com (the only host, skipped) / acme / inv
    await pilot.pause()


async def run_with_answers(app: IdpApp, pilot) -> TaskRunScreen:
    """From launch: n, the article's template, fill it, run; returns the finished run screen."""
    await open_article_form(app, pilot)
    await fill_to_review(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None)
    return app.screen


async def test_create_a_service_from_the_articles_template_by_keyboard(tmp_path):
    session = Session.for_catalog(publish_root=tmp_path / "repos")
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_article_form(app, pilot)
        await fill_to_review(pilot)
        assert form.in_review
        # Back to the last page and forward again: values are kept.
        await pilot.press("b")
        await pilot.pause()
        assert not form.in_review and form.values["repoUrl"] == "github.com?owner=acme&repo=inv"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert form.in_review

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen) and app.screen.result is not None)
        preview = app.screen
        assert preview.result.status == "completed", preview.result.error
        assert "package.json" in preview.result.files  # the Node.js skeleton, the default language
        assert b"inv" in preview.result.files["catalog-info.yaml"]
        assert not (tmp_path / "repos").exists()  # a preview writes nothing
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TemplateFormScreen) and app.screen.in_review)
        assert app.screen.values["owner"] == "group:default/team-payments"

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None)
        run = app.screen
        assert run.result.status == "completed", run.result.error
        assert [s.status for s in run.result.steps] == ["completed"] * 4
        log_text = "\n".join(run.query_one(Log).lines)
        assert "[publish] Beginning step Publish to GitHub" in log_text
        repository = tmp_path / "repos/github.com/acme/inv"
        head = subprocess.run(["git", "-C", str(repository), "log", "--format=%s"], capture_output=True, text=True)
        assert head.stdout.strip() == "initial commit"

        # The registered entity is read into the catalog; o opens it.
        await wait_for(pilot, lambda: app.catalog.get("component:default/inv") is not None)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EntityScreen))
        assert app.screen.entity.key == "component:default/inv"


async def test_the_form_opens_with_last_runs_answers(tmp_path):
    session = Session.for_catalog(publish_root=tmp_path / "repos")
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await run_with_answers(app, pilot)
        assert app.screen.result.status == "completed"

    app = IdpApp(Session.for_catalog(publish_root=tmp_path / "repos"))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_article_form(app, pilot)
        assert form.values["name"] == "inv"
        assert form.values["owner"] == "group:default/team-payments"


async def test_a_failed_run_says_which_step_and_that_nothing_was_created(tmp_path):
    session = Session.for_catalog(publish_root=tmp_path / "repos")
    (tmp_path / "repos/github.com/acme/inv").mkdir(parents=True)  # the repository exists already
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await run_with_answers(app, pilot)
        run = app.screen
        assert run.result.status == "failed"
        assert "Step publish (Publish to GitHub) failed" in run.result.error
        assert app.catalog.get("component:default/inv") is None
        assert run.check_action("open_entity", ()) is None  # nothing to open


async def test_right_completes_from_the_catalog_even_before_the_suggestion_arrived():
    from textual.app import App

    from idp_tui.widgets.form_fields import CompletingInput

    class One(App):
        def compose(self):
            yield CompletingInput("", completions=["team-checkout", "team-payments"])

    app = One()
    async with app.run_test() as pilot:
        field = app.query_one(CompletingInput)
        field.focus()
        field.value = "team-pa"  # as if typed in one burst: no suggestion computed yet
        field.cursor_position = len(field.value)
        field.action_cursor_right()
        assert field.value == "team-payments"
        await pilot.pause()

"""Policies in the TUI at 80x24: typing ``latest`` in the microservice form shows the deny in the preview and blocks
the run; the policies' catalog rules join the catalog's problems (``p``)."""

from __future__ import annotations

import textwrap

import pytest
from idp_tui.screens.golden_preview import POLICIES_ID, PreviewScreen
from idp_tui.screens.problems import ProblemsScreen
from idp_tui.screens.task_run import TaskRunScreen
from idp_tui.screens.template_form import TemplateFormScreen
from test_golden_tui import open_article_form, wait_for
from textual.widgets import Log, OptionList, Static

from idp_tui.app import IdpApp
from idp_tui.resources import demo_catalog_path
from idp_tui.session import Session
from idp_tui.widgets.form_fields import FormField

SIZE = (80, 24)
DEMO_POLICIES = str(demo_catalog_path() / "policies")


@pytest.fixture
def sessions():
    """Makes sessions and closes them after the test (their policy workers stop)."""
    made: list[Session] = []

    def make(**options) -> Session:
        made.append(Session.for_catalog(**options))
        return made[-1]

    yield make
    for session in made:
        session.close()


def static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def fill_with_image_tag(pilot, tag: str) -> None:
    """The article's answers, with ``tag`` typed over the image tag's pinned default (page 2, fourth field)."""
    await pilot.press(*"inv", "tab", "tab", *"team-pa", "right", "tab", *"ch", "right", "ctrl+n")
    await pilot.pause()
    await pilot.press("tab", "tab", "tab")  # language -> tier -> needsDatabase -> imageTag (its text selected)
    await pilot.press(*tag, "ctrl+n")
    await pilot.pause()
    await pilot.press(*"acme", "tab", *"inv", "ctrl+n")  # page 3: github.com (skipped) / acme / inv
    await pilot.pause()


async def test_latest_shows_the_deny_in_the_preview_and_blocks_the_run(tmp_path, sessions):
    session = sessions(publish_root=tmp_path / "repos", policies=[DEMO_POLICIES])
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_article_form(app, pilot)
        await pilot.press(*"inv", "tab", "tab", *"team-pa", "right", "tab", *"ch", "right", "ctrl+n")
        await pilot.pause()
        image_tag = next(w for w in form.query(FormField) if w.field.name == "imageTag")
        assert form.values["imageTag"] == "1.0.0"  # pinned by default
        await pilot.press("tab", "tab", "tab")
        assert image_tag.has_focus_within
        await pilot.press(*"latest", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"acme", "tab", *"inv", "ctrl+n")
        await pilot.pause()
        assert form.in_review and form.values["imageTag"] == "latest"

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen) and app.screen.result is not None)
        preview = app.screen
        assert preview.result.status == "failed" and preview.result.guardrails.blocked
        title = static_text(preview, "#preview-title")
        assert "blocked by policy (2 denied): the run would create nothing" in title
        files = preview.query_one("#files", OptionList)
        assert files.highlighted == 0 and files.get_option_at_index(0).id == POLICIES_ID  # the verdicts first
        await pilot.pause()
        shown = str(preview.query_one("#file-content", Static).content)
        assert (
            "k8s/deployment.yaml:1: DENY main.deny_latest_image: container inv: image ghcr.io/acme/inv:latest" in shown
        )
        assert "k8s/deployment.yaml:1: DENY idp-pinned-images" in shown
        labels = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert "✗ k8s/deployment.yaml" in labels and "package.json" in labels  # the file to fix is marked

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TemplateFormScreen) and app.screen.in_review)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None)
        run = app.screen
        assert run.result.status == "failed"
        assert run.result.error.startswith("Blocked by policy: k8s/deployment.yaml:1: DENY main.deny_latest_image")
        log = "\n".join(run.query_one(Log).lines)
        assert "k8s/deployment.yaml:1: DENY idp-pinned-images" in log
        assert not (tmp_path / "repos").exists()
        assert app.catalog.get("component:default/inv") is None


async def test_the_pinned_default_previews_clean_and_runs(tmp_path, sessions):
    session = sessions(publish_root=tmp_path / "repos", policies=[DEMO_POLICIES])
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_article_form(app, pilot)
        await fill_with_image_tag(pilot, "1.4.2")
        assert form.in_review and form.values["imageTag"] == "1.4.2"
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen) and app.screen.result is not None)
        preview = app.screen
        assert preview.result.status == "completed" and not preview.result.guardrails.blocked
        assert b"ghcr.io/acme/inv:1.4.2" in preview.result.files["k8s/deployment.yaml"]
        files = preview.query_one("#files", OptionList)
        assert str(files.get_option_at_index(1).prompt).startswith("Policies: all passed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TemplateFormScreen) and app.screen.in_review)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskRunScreen) and app.screen.result is not None)
        assert app.screen.result.status == "completed", app.screen.result.error
        assert (tmp_path / "repos/github.com/acme/inv/.git").is_dir()


CATALOG = textwrap.dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Group
    metadata: {name: team-a}
    spec: {type: team, children: []}
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: checkout
    spec: {type: service, lifecycle: production, owner: group:team-a}
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: cart
      annotations: {pagerduty.com/service-id: P123}
    spec: {type: service, lifecycle: production, owner: group:team-a}
    """
)


async def test_the_policies_catalog_rules_join_the_catalogs_problems(tmp_path, sessions):
    (tmp_path / "catalog-info.yaml").write_text(CATALOG)
    session = sessions(catalog=str(tmp_path), use_cache=False, policies=[DEMO_POLICIES])
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.catalog is not None and app.catalog.problems)
        assert app.catalog.get("component:default/checkout") is not None  # judged, not skipped
        top = str(app.screen.query_one("#top-bar", Static).content)
        assert "1 problem (p)" in top
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProblemsScreen))
        problems = app.screen
        assert "1 found by the policies (guardrail)" in static_text(problems, "#screen-title")
        [problem] = problems.problems
        assert (problem.path, problem.line, problem.rule, problem.entity) == (
            str(tmp_path / "catalog-info.yaml"),
            6,
            "guardrail",
            "component:default/checkout",
        )
        assert problem.message == (
            "catalog.deny_production_without_oncall: production service checkout has no pagerduty.com/service-id "
            "annotation (or opsgenie.com/team)"
        )


BROKEN = """\
package catalog
import rego.v1

deny_broken contains msg if {
    msg :=
}
"""


async def test_a_broken_policy_is_said_once_as_a_notification_and_the_others_still_judge(tmp_path, sessions):
    (tmp_path / "catalog-info.yaml").write_text(CATALOG)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "broken.rego").write_text(BROKEN)
    session = sessions(catalog=str(tmp_path), use_cache=False, policies=[str(policies), DEMO_POLICIES])
    app = IdpApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.catalog is not None and app.catalog.problems)
        await pilot.pause()
        said = [(n.title, n.message) for n in app._notifications if "broken.rego" in n.message]
        assert said == [("Policies", f"{policies}/broken.rego:5: policy catalog: Rego: Invalid assignment operator")]
        assert [problem.rule for problem in app.catalog.problems] == ["guardrail"]  # the demo's rules still judge
        app.load_catalog()  # read again (as after a golden path): the policies are not loaded, nor said, again
        await pilot.pause(0.5)
        await wait_for(pilot, lambda: len(app.workers) == 0)
        assert len([n for n in app._notifications if "broken.rego" in n.message]) == 1

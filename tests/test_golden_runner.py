"""The local task runner: if/each, fetch:template's rules, path safety, rollback, and "already exists"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from idp_tui.catalog.entity import Entity, SourceLocation
from idp_tui.golden.actions import catalog as catalog_actions
from idp_tui.golden.actions import fetch
from idp_tui.golden.actions.base import ActionContext, ActionError, RunSettings
from idp_tui.golden.events import TaskEvent
from idp_tui.golden.runner import NOT_APPLIED, LocalTaskRunner
from idp_tui.golden.template import Template


class Record:
    """An action that records what it was given and outputs it back."""

    id = "test:record"
    description = "records its input"
    supports_dry_run = True

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, ctx: ActionContext) -> None:
        self.calls.append(ctx.input)
        ctx.output("seen", ctx.input.get("value"))


class Fail:
    id = "test:fail"
    description = "always fails"
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        raise ActionError("the deploy key was refused")


class StageMarker:
    """Stages an effect that creates a marker file outside the workspace."""

    id = "test:stage"
    description = "stages a marker"
    supports_dry_run = False

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def run(self, ctx: ActionContext) -> None:
        marker = self.marker

        class Effect:
            def describe(self) -> str:
                return f"marker {marker}"

            def check(self) -> None:
                if marker.exists():
                    raise ActionError(f"{marker} already exists")

            def apply(self) -> None:
                marker.write_text("made")

            def undo(self) -> None:
                marker.unlink()

        ctx.stage(Effect())


def make_template(tmp_path: Path, spec: dict[str, Any], files: dict[str, str] | None = None) -> Template:
    base = tmp_path / "template"
    for relative, text in (files or {}).items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    base.mkdir(exist_ok=True)
    raw = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "t"},
        "spec": {"owner": "team-a", "type": "service", **spec},
    }
    (base / "template.yaml").write_text(yaml.safe_dump(raw))
    return Template.from_entity(Entity(raw, "template:default/t", SourceLocation(str(base / "template.yaml"), 1)))


@pytest.fixture
def record() -> Record:
    return Record()


def runner_with(tmp_path: Path, *actions: Any, existing: frozenset[str] = frozenset()) -> LocalTaskRunner:
    settings = RunSettings(tmp_path / "repos", tmp_path / "registry", existing_entity_keys=existing)
    everything = {a.id: a for a in (*fetch.ACTIONS, *catalog_actions.ACTIONS, *actions)}
    return LocalTaskRunner(everything, settings)


def test_if_skips_steps_and_each_runs_once_per_item_with_outputs_collected(tmp_path, record):
    template = make_template(
        tmp_path,
        {
            "steps": [
                {"id": "never", "action": "test:record", "if": "${{ parameters.flag }}", "input": {"value": 1}},
                {"id": "never2", "action": "test:record", "if": False, "input": {"value": 2}},
                {
                    "id": "loop",
                    "action": "test:record",
                    "each": "${{ parameters.envs }}",
                    "input": {"value": "${{ each.value }}-${{ each.key }}"},
                },
                {"id": "after", "action": "test:record", "input": {"value": "${{ steps.loop.output.seen }}"}},
            ],
            "output": {"text": [{"title": "t", "content": "${{ steps.after.output.seen | join('+') }}"}]},
        },
    )
    result = runner_with(tmp_path, record).run(template, {"flag": False, "envs": ["dev", "prod"]})
    assert result.status == "completed", result.error
    assert [s.status for s in result.steps] == ["skipped", "skipped", "completed", "completed"]
    assert record.calls == [{"value": "dev-0"}, {"value": "prod-1"}, {"value": ["dev-0", "prod-1"]}]
    assert result.text == [{"title": "t", "content": "dev-0+prod-1"}]


def test_fetch_template_renders_names_and_contents_with_backstages_rules(tmp_path):
    files = {
        "skeleton/${{ values.name }}/main.py": "print('${{ values.name }}')\n",
        "skeleton/raw/${{ values.name }}.txt": "${{ values.name }} stays as written\n",
        "skeleton/{% if values.docs %}docs{% endif %}/index.md": "docs\n",
        "skeleton/README.md": "{% for t in values.tags %}- ${{ t }}\n{% endfor %}",
        "skeleton/.github/ci.yaml": "name: ${{ values.name }}\n",
    }
    template = make_template(
        tmp_path,
        {
            "steps": [
                {
                    "id": "fetch",
                    "action": "fetch:template",
                    "input": {
                        "url": "./skeleton",
                        "targetPath": "out",
                        "copyWithoutTemplating": ["raw/**"],
                        "values": {"name": "svc", "docs": False, "tags": ["a", "b"]},
                    },
                }
            ]
        },
        files,
    )
    result = runner_with(tmp_path).run(template, {}, dry_run=True)
    assert result.status == "completed", result.error
    assert result.files == {
        "out/.github/ci.yaml": b"name: svc\n",
        "out/README.md": b"- a\n- b\n",
        "out/raw/svc.txt": b"${{ values.name }} stays as written\n",
        "out/svc/main.py": b"print('svc')\n",
    }


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"url": "./skeleton", "targetPath": "../escape"}, "leads outside the task workspace"),
        ({"url": "./skeleton", "targetPath": "/tmp/abs"}, "is absolute"),
        ({"url": "./skeleton", "values": {"name": "../../evil"}}, "leads outside"),
        ({"url": "../../../etc"}, "outside the template's directory"),
    ],
)
def test_writes_outside_the_workspace_are_refused(tmp_path, inputs, message):
    template = make_template(
        tmp_path,
        {"steps": [{"id": "fetch", "action": "fetch:template", "input": inputs}]},
        {"skeleton/${{ values.name }}.txt": "x"},
    )
    result = runner_with(tmp_path).run(template, {})
    assert result.status == "failed"
    assert message in result.error
    assert not (tmp_path / "escape").exists() and not (tmp_path / "evil.txt").exists()


def test_a_symlink_in_the_skeleton_leading_outside_is_refused(tmp_path):
    template = make_template(
        tmp_path, {"steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}}]}, {}
    )
    (template.base_dir / "skeleton").mkdir()
    os.symlink("/etc/passwd", template.base_dir / "skeleton" / "passwd")
    result = runner_with(tmp_path).run(template, {})
    assert result.status == "failed"
    assert "symlink leading outside" in result.error


def test_a_failing_step_applies_nothing_skips_the_rest_and_names_the_step(tmp_path, record):
    marker = tmp_path / "marker"
    template = make_template(
        tmp_path,
        {
            "steps": [
                {"id": "stage", "action": "test:stage", "input": {}},
                {"id": "deploy", "name": "Deploy", "action": "test:fail", "input": {}},
                {"id": "after", "action": "test:record", "input": {"value": 1}},
            ]
        },
    )
    events: list[TaskEvent] = []
    result = runner_with(tmp_path, StageMarker(marker), Fail(), record).run(template, {}, on_event=events.append)
    assert result.status == "failed"
    assert result.error == "Step deploy (Deploy) failed: the deploy key was refused"
    # The staging step prepared what a later failure kept from being created: it is not shown as done.
    assert [s.status for s in result.steps] == ["skipped", "failed", "skipped"]
    assert (events[-2].step_id, events[-2].status, events[-2].message) == ("stage", "skipped", NOT_APPLIED)
    assert not marker.exists() and record.calls == []
    assert events[-1].type == "completion" and events[-1].status == "failed"


def test_registering_an_entity_that_exists_fails_before_anything_is_written(tmp_path):
    files = {
        "skeleton/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-a\n"
    }
    template = make_template(
        tmp_path,
        {
            "steps": [
                {
                    "id": "fetch",
                    "action": "fetch:template",
                    "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
                },
                {"id": "publish", "action": "test:publish", "input": {}},
                {
                    "id": "register",
                    "action": "catalog:register",
                    "input": {"catalogInfoUrl": f"file://{tmp_path}/published/catalog-info.yaml"},
                },
            ]
        },
        files,
    )

    class Publish:  # stands in for publish:*: register reads only locations the task itself staged
        id, description, supports_dry_run = "test:publish", "stages a repository", True

        def run(self, ctx: ActionContext) -> None:
            ctx.staged_locations[f"file://{tmp_path}/published"] = tmp_path / "published"

    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "catalog-info.yaml").write_text(
        files["skeleton/catalog-info.yaml"].replace("${{ values.name }}", "payments")
    )
    runner = runner_with(tmp_path, Publish(), existing=frozenset({"component:default/payments"}))
    result = runner.run(template, {"name": "payments"})
    assert result.status == "failed"
    assert "already exists" in result.error
    assert not (tmp_path / "registry").exists()


def test_output_directory_that_exists_is_refused_before_any_step_runs(tmp_path, record):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    template = make_template(tmp_path, {"steps": [{"id": "a", "action": "test:record", "input": {"value": 1}}]})
    result = runner_with(tmp_path, record).run(template, {}, output_dir=target)
    assert result.status == "failed" and "already exists" in result.error
    assert record.calls == [] and (target / "keep.txt").read_text() == "mine"


def test_unknown_action_fails_with_backstages_message(tmp_path):
    template = make_template(tmp_path, {"steps": [{"id": "x", "action": "acme:deploy", "input": {}}]})
    result = runner_with(tmp_path).run(template, {})
    assert "Template action with ID 'acme:deploy' is not registered" in result.error


def test_secrets_reach_the_action_but_never_the_log_or_the_shown_input(tmp_path, record):
    class Echo(Record):
        id = "test:echo"

        def run(self, ctx: ActionContext) -> None:
            super().run(ctx)
            ctx.log(f"token is {ctx.input['value']}")

    echo = Echo()
    template = make_template(
        tmp_path, {"steps": [{"id": "a", "action": "test:echo", "input": {"value": "${{ secrets.token }}"}}]}
    )
    events: list[TaskEvent] = []
    result = runner_with(tmp_path, echo).run(template, {}, secrets={"token": "s3cr3t-value"}, on_event=events.append)
    assert result.status == "completed"
    assert echo.calls == [{"value": "s3cr3t-value"}]
    assert result.steps[0].input == {"value": "***"}
    assert all("s3cr3t-value" not in event.message for event in events)
    assert any(event.message == "token is ***" for event in events)


def test_remembered_answers_leave_out_secret_fields(tmp_path):
    from idp_tui.golden.state import load_answers, save_answers

    save_answers(
        "template:default/t",
        {"name": "svc", "db": {"password": "hunter2", "engine": "pg"}},
        [("db", "password")],
        tmp_path,
    )
    assert load_answers("template:default/t", tmp_path) == {"name": "svc", "db": {"engine": "pg"}}
    assert "hunter2" not in (tmp_path / "golden" / "last-answers.json").read_text()

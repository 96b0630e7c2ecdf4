"""Backstage's scaffolder as the template runner: SSE parsing, forms from parameter-schema, tasks, dry runs, errors.

The backend is ``tests/scaffolder_server.py``, a local fake answering in the shapes recorded from a real
plugin-scaffolder-backend 4.3.0.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

import pytest
import yaml
from scaffolder_server import PYTHON_SERVICE_SCHEMA, TEMPLATES_DIR, ScaffolderServer

from idp_tui.backstage.dry_run_files import directory_contents
from idp_tui.backstage.http import BackstageError, BackstageHttp
from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner, ScaffolderTaskEvent, strip_ansi
from idp_tui.backstage.scaffolder_forms import field_errors, template_from_schema, template_pages
from idp_tui.backstage.sse import SseEvent, parse_sse
from idp_tui.catalog.entity import Entity, SourceLocation
from idp_tui.golden.events import TaskEvent
from idp_tui.golden.forms import build_form, initial_values, validate_page
from idp_tui.golden.template import Template

TOKEN = "tok-7f3a9c-never-show-me"
NAME_PATTERN = "^[a-z][a-z0-9-]{1,38}[a-z0-9]$"
VALUES = {
    "name": "invoice-renderer",
    "description": "Renders PDF invoices from order events",
    "owner": "group:default/payments-team",
    "framework": "fastapi",
    "pythonVersion": "3.12",
    "port": 8080,
    "enableMetrics": True,
    "namespace": "payments",
    "replicas": 2,
    "lifecycle": "experimental",
    "dryRunDeploy": False,
}


def local_template(name: str) -> Template:
    path = TEMPLATES_DIR / name / "template.yaml"
    raw = yaml.safe_load(path.read_text())
    return Template.from_entity(Entity(raw, f"template:default/{name}", SourceLocation(str(path), 1)))


class Seen:
    """Everything a run showed or returned, to check that the token is nowhere in it."""

    def __init__(self) -> None:
        self.events: list[TaskEvent] = []
        self.texts: list[str] = []

    def __call__(self, event: TaskEvent) -> None:
        self.events.append(event)

    def keep(self, *things: object) -> None:
        self.texts += [repr(thing) for thing in things] + [str(thing) for thing in things]

    def assert_no_token(self, capsys) -> None:
        captured = capsys.readouterr()
        texts = [repr(event) for event in self.events] + self.texts + [captured.out, captured.err]
        assert not [text for text in texts if TOKEN in text]


@pytest.fixture
def seen(capsys):
    watcher = Seen()
    yield watcher
    watcher.assert_no_token(capsys)


@pytest.fixture
def server():
    with ScaffolderServer(token=TOKEN) as fake:
        yield fake


def runner_for(server: ScaffolderServer, token: str = TOKEN) -> BackstageTaskRunner:
    http = BackstageHttp(server.url, lambda: token, timeout=5, retries=1, backoff=0.01)
    return BackstageTaskRunner(BackstageScaffolder(http), backoff=0.01, cancel_grace=5)


# -- server-sent events --------------------------------------------------------------------------------------------


def test_sse_joins_multi_line_data_and_skips_comments():
    lines = [": keep-alive", "event: log", "data: first", "data:second", "data:  third", "", ""]
    assert list(parse_sse(lines)) == [SseEvent("log", "first\nsecond\n third")]


def test_sse_ids_persist_across_events_and_default_type_is_message():
    lines = ["id: 7", "data: a", "", "data: b", "", "id", "data: c", "", "id: x\0y", "data: d", ""]
    events = list(parse_sse(lines))
    assert [(e.event, e.data, e.id) for e in events] == [
        ("message", "a", "7"),
        ("message", "b", "7"),
        ("message", "c", ""),
        ("message", "d", ""),
    ]


def test_sse_accepts_crlf_cr_and_chunks_holding_several_lines():
    chunks = [
        "\ufeffevent: log\r\n",
        "data: one\r\n",
        "\r\n",
        "event: completion\rdata: two\r\r",
        "data: x\n\ndata:\n\n",
    ]
    assert [(e.event, e.data) for e in parse_sse(chunks)] == [
        ("log", "one"),
        ("completion", "two"),
        ("message", "x"),
        ("message", ""),
    ]


def test_sse_drops_an_event_cut_off_by_the_end_of_the_stream_and_reads_retry():
    events = list(parse_sse(["retry: 1500", "data: whole", "", "event: log", "data: {partial"]))
    assert events == [SseEvent("message", "whole", None, 1500)]


def test_sse_reads_a_recorded_backstage_frame():
    frame = 'data: {"id":3,"body":{"message":"\\u001b[32minfo\\u001b[39m: Fetching"},"type":"log"}'
    (event,) = parse_sse(["event: log", frame, ""])
    assert event.event == "log" and event.data.startswith('{"id":3')


def test_strip_ansi_removes_colours_and_hyperlinks():
    text = "\x1b[32minfo\x1b[39m: see \x1b]8;;https://x\x07link\x1b]8;;\x07 \x1b[1;31mbold\x1b[0m"
    assert strip_ansi(text) == "info: see link bold"


# -- forms from parameter-schema -----------------------------------------------------------------------------------


def test_parameter_schema_pages_make_the_same_form_as_the_local_template():
    local = local_template("python-service")
    remote = template_from_schema("template:default/python-service", PYTHON_SERVICE_SCHEMA)
    local_form = build_form(list(local.parameter_pages), title=local.title)
    remote_form = build_form(list(remote.parameter_pages), title=remote.title)
    assert remote_form.title == local_form.title == "Python HTTP service (golden path)"
    assert [p.title for p in remote_form.pages] == ["Describe the service", "Runtime", "Deployment"]
    for local_page, remote_page in zip(local_form.pages, remote_form.pages, strict=True):
        assert remote_page.fields({}) == local_page.fields({})
        assert [f.options for f in remote_page.fields({})] == [f.options for f in local_page.fields({})]
    fields = {f.name: f for f in remote_form.fields({})}
    assert (fields["owner"].extension, fields["owner"].kind) == ("OwnerPicker", "entity")
    assert fields["owner"].options == {"catalogFilter": {"kind": "Group"}}
    assert [c.label for c in fields["framework"].choices] == ["FastAPI", "Flask", "aiohttp"]
    assert (fields["name"].pattern, fields["name"].autofocus, fields["name"].help) == (
        NAME_PATTERN,
        True,
        "Example: invoice-renderer",
    )
    assert initial_values(remote_form) == initial_values(local_form)
    assert initial_values(remote_form)["port"] == 8080


def test_template_from_an_entity_keeps_its_steps_for_the_run_screen():
    local = local_template("python-service")
    entity = Entity(local.raw, local.key)
    remote = template_from_schema(entity, PYTHON_SERVICE_SCHEMA)
    assert [s.id for s in remote.steps] == ["fetch-base", "write-catalog-info", "log"]
    assert remote.parameter_pages == template_pages(PYTHON_SERVICE_SCHEMA)


def test_a_separate_ui_schema_is_folded_into_the_page():
    schema = {
        "steps": [
            {
                "title": "Owner",
                "schema": {"properties": {"owner": {"type": "string"}}},
                "uiSchema": {"owner": {"ui:field": "OwnerPicker"}},
            }
        ]
    }
    (page,) = template_pages(schema)
    (owner,) = build_form([page]).fields({})
    assert (owner.extension, owner.kind) == ("OwnerPicker", "entity")


def test_parameter_schema_is_read_from_backstage(server):
    scaffolder = runner_for(server).scaffolder
    assert scaffolder.parameter_schema("python-service") == PYTHON_SERVICE_SCHEMA
    with pytest.raises(BackstageError) as caught:
        scaffolder.parameter_schema("template:default/no-such-template")
    assert caught.value.kind == "not-found"
    assert "Template template:default/no-such-template not found" in str(caught.value)
    assert TOKEN not in f"{caught.value!s} {caught.value!r} {caught.value.body!r} {scaffolder.http!r}"


# -- runs ----------------------------------------------------------------------------------------------------------


def test_a_run_streams_events_in_order_without_colours_and_ends_with_output_links(server, seen):
    template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
    result = runner_for(server).run(template, VALUES, on_event=seen, secrets={"apiKey": "s3"})
    seen.keep(result)
    (create,) = server.requests_to("POST", "/v2/tasks")
    assert create.body == {
        "templateRef": "template:default/python-service",
        "values": VALUES,
        "secrets": {"apiKey": "s3"},
    }
    logs = [e for e in seen.events if isinstance(e, ScaffolderTaskEvent)]
    assert [e.message for e in logs][:3] == [
        "Starting up task with 3 steps",
        "Beginning step Render skeleton",
        "info: Fetching template content from remote URL",
    ]
    assert all("\x1b" not in e.message for e in seen.events)
    assert logs[2].raw_message.startswith("\x1b[32minfo")
    assert [e.event_id for e in logs] == sorted(e.event_id for e in logs)
    assert [(e.step_id, e.status) for e in logs if e.status][:2] == [
        ("fetch-base", "processing"),
        ("fetch-base", "completed"),
    ]
    assert seen.events[-1].type == "completion" and seen.events[-1].status == "completed"
    assert result.status == "completed" and result.error is None
    assert [link.get("url") or link.get("entityRef") for link in result.links] == [
        "https://github.com/kestrel-commerce/invoice-renderer",
        "group:default/payments-team",
    ]
    assert [(s.id, s.status) for s in result.steps] == [
        ("fetch-base", "completed"),
        ("write-catalog-info", "completed"),
        ("log", "completed"),
    ]


def test_a_dropped_stream_is_resumed_after_the_last_event_without_repeats(seen):
    with ScaffolderServer(token=TOKEN, drop_after=4) as server:
        template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
        result = runner_for(server).run(template, VALUES, on_event=seen)
        streams = server.requests_to("GET", "/eventstream")
    seen.keep(result)
    assert result.status == "completed"
    logs = [e for e in seen.events if isinstance(e, ScaffolderTaskEvent)]
    ids = [e.event_id for e in logs]
    assert len(ids) == len(set(ids)) == 11  # every log event of the task, once
    assert [s.query.get("after") for s in streams] == [None, [str(ids[3])]]
    assert len(result.links) == 2


def test_frames_python_reads_and_go_refuses_are_skipped_and_the_task_still_ends(seen):
    """A frame nested past the recursion limit, and one whose id is 1e400 (infinity to Python's reader): neither
    stops the run; the task's own events follow."""
    hostile = (
        "event: log\ndata: " + "[" * 100_000 + "]" * 100_000 + "\n\n",
        'event: log\ndata: {"id": 1e400, "type": "log", "body": {"message": "no id"}}\n\n',
    )
    with ScaffolderServer(token=TOKEN, hostile_frames=hostile) as server:
        template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
        result = runner_for(server).run(template, VALUES, on_event=seen)
    seen.keep(result)
    assert result.status == "completed" and len(result.links) == 2
    logs = [e for e in seen.events if isinstance(e, ScaffolderTaskEvent) and e.event_id is not None]
    assert len(logs) == 11  # every log event of the task, once


def test_a_long_quiet_step_does_not_use_up_the_reconnects(seen):
    # Every event comes after the client's read timeout: each stream times out quietly and is reopened.
    with ScaffolderServer(token=TOKEN, event_delay=0.35) as server:
        http = BackstageHttp(server.url, lambda: TOKEN, timeout=0.15, retries=0)
        runner = BackstageTaskRunner(BackstageScaffolder(http), reconnects=1, backoff=0.01)
        template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
        result = runner.run(template, VALUES, on_event=seen)
        streams = server.requests_to("GET", "/eventstream")
    seen.keep(result)
    assert result.status == "completed"
    assert len(streams) > 3
    ids = [e.event_id for e in seen.events if isinstance(e, ScaffolderTaskEvent)]
    assert len(ids) == len(set(ids)) == 11


def test_a_stream_that_keeps_dropping_gives_up_with_words(seen):
    with ScaffolderServer(token=TOKEN) as server:
        runner = runner_for(server)
        template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
        server.fail("GET", "/api/scaffolder/v2/tasks/", 502, "bad gateway")
        result = runner.run(template, VALUES, on_event=seen)
    seen.keep(result)
    assert result.status == "failed"
    assert result.error.startswith("lost the events of task ")
    assert "502 Bad Gateway: bad gateway" in result.error


def test_a_failing_task_ends_failed_with_the_step_and_its_error(server, seen):
    template = template_from_schema("harness-diagnostics", {"steps": []})
    result = runner_for(server).run(template, {"outcome": "fail", "waitSeconds": 0}, on_event=seen)
    seen.keep(result)
    assert result.status == "failed"
    assert result.error == (
        "Step fail (Fetch a path that does not exist) failed: ENOENT: no such file or directory, "
        "lstat '/srv/backstage/catalog/templates/harness-diagnostics/no-such-directory'"
    )
    assert {s.id: s.status for s in result.steps} == {
        "announce": "completed",
        "wait": "completed",
        "fail": "failed",
        "done": "skipped",
    }
    assert seen.events[-1] == TaskEvent("completion", result.error, status="failed")


def test_cancel_posts_cancel_and_ends_the_task_cancelled(server, seen):
    cancel = threading.Event()

    def on_event(event: TaskEvent) -> None:
        seen(event)
        if event.message == "Beginning step Wait":
            cancel.set()  # the user presses ctrl+c while the slow step runs

    template = local_template("harness-diagnostics")
    result = runner_for(server).run(
        template, {"outcome": "succeed", "waitSeconds": 60}, on_event=on_event, cancel=cancel
    )
    seen.keep(result)
    (task_id,) = server.tasks
    assert [r.path for r in server.requests_to("POST", "/cancel")] == [f"/api/scaffolder/v2/tasks/{task_id}/cancel"]
    assert (result.status, result.error, result.cancelled) == ("failed", "cancelled", True)
    assert {s.id: s.status for s in result.steps}["wait"] == "failed"
    assert "Step wait has been cancelled." in [e.message for e in seen.events]


def test_cancel_before_the_task_starts_creates_nothing(server, seen):
    cancel = threading.Event()
    cancel.set()
    result = runner_for(server).run(local_template("harness-diagnostics"), {"outcome": "succeed"}, cancel=cancel)
    assert (result.status, result.error) == ("failed", "cancelled")
    assert server.requests_to("POST", "/v2/tasks") == []


# -- dry runs ------------------------------------------------------------------------------------------------------


def test_a_dry_run_sends_the_template_and_its_files_and_returns_the_workspace(server, seen):
    template = local_template("python-service")
    result = runner_for(server).run(template, VALUES, dry_run=True, on_event=seen)
    seen.keep(result)
    (request,) = server.requests_to("POST", "/dry-run")
    assert request.body["template"] == template.raw
    assert (request.body["values"], request.body["secrets"]) == (VALUES, {})
    sent = {item["path"]: base64.b64decode(item["base64Content"]) for item in request.body["directoryContents"]}
    skeleton = TEMPLATES_DIR / "python-service"
    assert sent["template.yaml"] == (skeleton / "template.yaml").read_bytes()
    assert sent["skeleton/app/main.py"] == (skeleton / "skeleton/app/main.py").read_bytes()
    assert result.status == "completed"
    assert result.files["app/main.py"] == (skeleton / "skeleton/app/main.py").read_bytes()
    assert "Dockerfile" in result.files and result.executables == set()
    assert [(s.id, s.status, s.action) for s in result.steps][0] == ("fetch-base", "completed", "fetch:template")
    assert [e.message for e in seen.events][:2] == ["Starting up task with 3 steps", "Beginning step Render skeleton"]
    assert result.links == [{"title": "Owner", "icon": "group", "entityRef": "group:default/payments-team"}]


def test_a_dry_run_of_a_remote_template_reads_the_entity_and_reports_the_failure(server, seen):
    template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
    result = runner_for(server).run(template, VALUES, dry_run=True, on_event=seen)
    seen.keep(result)
    (request,) = server.requests_to("POST", "/dry-run")
    assert request.body["template"]["spec"]["steps"][0]["id"] == "fetch-base"  # the catalog's entity
    assert request.body["directoryContents"] == []
    assert result.status == "failed"
    assert "ENOENT: no such file or directory" in result.error and "500" in result.error


# -- rejected values and errors ------------------------------------------------------------------------------------


def test_field_errors_speak_like_the_local_form():
    recorded = {
        "errors": [
            {
                "path": ["name"],
                "property": "instance.name",
                "message": f'does not match pattern "{NAME_PATTERN}"',
                "name": "pattern",
                "argument": NAME_PATTERN,
                "instance": "Bad Name!",
            },
            {
                "path": [],
                "name": "required",
                "argument": "owner",
                "schema": PYTHON_SERVICE_SCHEMA["steps"][0]["schema"],
            },
            {"path": ["replicas"], "name": "type", "argument": ["integer"], "message": "is not of a type(s) integer"},
            {"path": ["db", "size"], "name": "weird", "message": "is odd"},
        ]
    }
    page = build_form(list(template_pages(PYTHON_SERVICE_SCHEMA))).pages[0]
    local = validate_page(page, {"name": "Bad Name!"})
    assert field_errors(recorded) == {
        "name": local["name"],
        "owner": local["owner"],
        "replicas": ["must be integer"],
        "db.size": ["is odd"],
    }
    assert local["owner"] == ["must have required property 'Owner'"]


def test_rejected_values_fail_with_errors_on_their_fields(server, seen):
    template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
    result = runner_for(server).run(template, {**VALUES, "name": "Bad Name!"}, on_event=seen)
    seen.keep(result)
    assert result.status == "failed"
    assert result.field_errors == {"name": [f'must match pattern "{NAME_PATTERN}"']}
    assert result.error == f'Backstage rejected the values: name must match pattern "{NAME_PATTERN}"'
    missing = {k: v for k, v in VALUES.items() if k != "owner"}
    result = runner_for(server).run(template, missing, dry_run=True)
    assert result.field_errors == {"owner": ["must have required property 'Owner'"]}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            "wrong-token",
            "Backstage: token missing or rejected while starting template:default/python-service (401: Illegal token)",
        ),
        (
            "",
            "Backstage: token missing or rejected while starting template:default/python-service (401: Missing credentials)",
        ),
    ],
)
def test_a_rejected_token_is_a_worded_failure(server, seen, token, expected):
    template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
    result = runner_for(server, token).run(template, VALUES, on_event=seen)
    seen.keep(result)
    assert (result.status, result.error) == ("failed", expected)
    assert server.tasks == {}


def test_an_unknown_template_and_a_server_error_are_worded_failures(server, seen):
    runner = runner_for(server)
    missing = runner.run(template_from_schema("no-such-template", {"steps": []}), {}, on_event=seen)
    assert missing.error == (
        "Backstage: not found while starting template:default/no-such-template: "
        "Template template:default/no-such-template not found"
    )
    server.fail("POST", "/api/scaffolder/v2/tasks", 500, "database is down")
    broken = runner.run(template_from_schema("python-service", PYTHON_SERVICE_SCHEMA), VALUES, on_event=seen)
    assert broken.error == (
        "Backstage failed while starting template:default/python-service (500 Internal Server Error: database is down)"
    )
    assert len(server.requests_to("POST", "/v2/tasks")) == 2  # creating a task is never retried
    seen.keep(missing, broken)


def test_an_unreachable_backstage_is_a_worded_failure(seen):
    with ScaffolderServer(token=TOKEN) as server:
        runner = runner_for(server)
    result = runner.run(template_from_schema("python-service", PYTHON_SERVICE_SCHEMA), VALUES, on_event=seen)
    seen.keep(result)
    assert result.status == "failed"
    assert result.error.startswith(f"could not reach Backstage at {server.url} while starting")


def test_an_output_directory_is_refused_for_a_real_run(server, tmp_path: Path):
    template = template_from_schema("python-service", PYTHON_SERVICE_SCHEMA)
    result = runner_for(server).run(template, VALUES, output_dir=tmp_path / "out")
    assert result.status == "failed" and "--output" in result.error
    assert server.tasks == {}


# -- the template directory a dry run sends -------------------------------------------------------------------------


def test_a_dry_run_sends_the_template_directory_as_files_a_link_inside_it_as_what_it_leads_to(tmp_path):
    template_dir = tmp_path / "template"
    (template_dir / "skeleton").mkdir(parents=True)
    (template_dir / "template.yaml").write_text("kind: Template\n")
    (template_dir / "skeleton" / "values.yaml").write_text("replicas: 2\n")
    (template_dir / "skeleton" / "linked.yaml").symlink_to("values.yaml")
    sent = {item["path"]: base64.b64decode(item["base64Content"]) for item in directory_contents(template_dir)}
    assert sent == {
        "skeleton/linked.yaml": b"replicas: 2\n",
        "skeleton/values.yaml": b"replicas: 2\n",
        "template.yaml": b"kind: Template\n",
    }


def test_a_dry_run_never_sends_a_file_from_outside_the_template_directory(tmp_path):
    """A template is written by other people, and its directory is sent to Backstage: a link to a host file (a
    key, a token) must not send it."""
    secret = tmp_path / "id_ed25519"
    secret.write_text("PRIVATE KEY MATERIAL\n")
    template_dir = tmp_path / "template"
    (template_dir / "skeleton").mkdir(parents=True)
    (template_dir / "skeleton" / "key").symlink_to(secret)
    with pytest.raises(ValueError, match="skeleton/key in .* is a symlink leading out of it") as refused:
        directory_contents(template_dir)
    assert "PRIVATE" not in str(refused.value)


def test_a_fifo_in_a_template_directory_is_refused_without_waiting_on_it(tmp_path):
    template_dir = tmp_path / "template"
    template_dir.mkdir()
    os.mkfifo(template_dir / "pipe.yaml")  # read_bytes() would wait for a writer forever
    with pytest.raises(
        ValueError, match=r"pipe.yaml in .* cannot be sent with a dry run: not a regular file \(a named pipe"
    ):
        directory_contents(template_dir)


def test_a_dry_run_never_sends_a_file_of_the_template_s_git_folder(tmp_path):
    template_dir = tmp_path / "template"
    (template_dir / ".git").mkdir(parents=True)
    (template_dir / ".git" / "config").write_text('[remote "origin"]\n\turl = https://u:token@example.com/r\n')
    (template_dir / "notes.txt").symlink_to(".git/config")
    with pytest.raises(ValueError, match=r"notes.txt in .* leads into a .git folder: not sent") as refused:
        directory_contents(template_dir)
    assert "token" not in str(refused.value)

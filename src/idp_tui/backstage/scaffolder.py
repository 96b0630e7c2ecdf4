"""Backstage's scaffolder as idp-tui's template runner: parameter schemas, tasks and their event stream, dry runs.

:class:`BackstageScaffolder` speaks the REST API (``/api/scaffolder/v2``); :class:`BackstageTaskRunner` is a
:class:`~idp_tui.golden.protocols.TemplateRunner`, so the form, preview and run screens work unchanged against a real
Backstage.
Observed on plugin-scaffolder-backend 4.3.0 (see ``backstage-api/``): a task's output arrives only in the
``completion`` event (``GET /tasks/:id`` has none), event ids live in the JSON ``data`` (no SSE ``id:`` lines) and
are global across tasks, a cancelled task ends ``failed``, and a dry run whose step fails answers 500.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, get_args
from urllib.parse import quote

from ..catalog.refs import EntityRefError, parse_ref
from ..golden.events import EventSink, StepResult, StepStatus, TaskEvent, TaskResult
from ..golden.guardrails import NOTHING_CREATED, GuardrailError, GuardrailReport, Guardrails, check_guardrails
from ..golden.protocols import RunOptions, TemplateRunner
from ..golden.template import Template
from ..safe_text import clean
from .dry_run_files import decode_contents, directory_contents
from .dry_run_urls import with_fetch_urls_resolved
from .http import BackstageError, BackstageHttp, EventStream
from .scaffolder_forms import describe_field_errors, field_errors, template_from_schema
from .sse import parse_sse

API = "/api/scaffolder/v2"

# Backstage's step statuses as the run screen knows them; a cancelled step is a failed one there.
STEP_STATUSES: dict[str, StepStatus] = {**{status: status for status in get_args(StepStatus)}, "cancelled": "failed"}

# Stream failures worth reconnecting after; anything else (401, 404, a bad token) will not get better.
RECONNECTABLE = frozenset({"timeout", "unreachable", "server"})


def strip_ansi(text: str) -> str:
    """The text without terminal escape sequences: winston colours Backstage's log lines, and a task's log is
    written by its template (anything in it could act on the reader's terminal)."""
    return clean(text)


def template_ref(template: Template) -> str:
    """``template:default/python-service``, in the spelling the entity uses when it is known."""
    metadata = template.raw.get("metadata") if isinstance(template.raw.get("metadata"), dict) else {}
    name, namespace = metadata.get("name"), metadata.get("namespace") or "default"
    if isinstance(name, str) and name:
        return f"{template.raw.get('kind') or 'Template'}:{namespace}/{name}".lower()
    return parse_ref(template.key, "Template").key


class BackstageScaffolder:
    """The scaffolder REST API of one Backstage (``/api/scaffolder/v2``). Every failure is a BackstageError."""

    def __init__(self, http: BackstageHttp) -> None:
        self.http = http

    def parameter_schema(self, template_key: str) -> dict[str, Any]:
        """``{title, description, steps: [{title, description, schema}]}`` for a template reference or key."""
        path = f"{API}/templates/{_entity_path(template_key)}/parameter-schema"
        what = f"reading the form of {template_key}"
        return _object(self.http.get_json(path, what=what), what)

    def template_entity(self, template_key: str) -> dict[str, Any]:
        """The Template entity from the catalog (a dry run needs the whole entity, steps included)."""
        ref = parse_ref(template_key, "Template")
        parts = (ref.kind.lower(), ref.namespace, ref.name)  # the catalog orders them kind/namespace/name
        path = "/api/catalog/entities/by-name/" + "/".join(quote(part, safe="") for part in parts)
        what = f"reading template {template_key}"
        return _object(self.http.get_json(path, what=what), what)

    def create_task(self, ref: str, values: dict[str, Any], secrets: dict[str, str]) -> str:
        """Start a task; its id. Not retried: a second POST would run the template twice."""
        body = {"templateRef": ref, "values": values, "secrets": secrets}
        answer = self.http.post_json(f"{API}/tasks", body, what=f"starting {ref}")
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise BackstageError(f"Backstage answered without a task id while starting {ref}", kind="protocol")
        return answer["id"]

    def get_task(self, task_id: str) -> dict[str, Any]:
        """``{id, spec: {steps, ...}, status, createdAt, lastHeartbeatAt}``; 4.3.0 keeps no output here."""
        what = f"reading task {task_id}"
        return _object(self.http.get_json(f"{API}/tasks/{quote(task_id, safe='')}", what=what), what)

    def cancel_task(self, task_id: str) -> None:
        """Ask Backstage to stop the task; it answers ``{status: "cancelled"}`` and the task later ends ``failed``."""
        path = f"{API}/tasks/{quote(task_id, safe='')}/cancel"
        self.http.request("POST", path, what=f"cancelling task {task_id}", idempotent=True)

    def event_stream(self, task_id: str, after: int | None) -> EventStream:
        """The task's ``text/event-stream``, from the event after ``after``; the caller closes it."""
        params = {"after": str(after)} if after is not None else None
        path = f"{API}/tasks/{quote(task_id, safe='')}/eventstream"
        return self.http.stream(path, what=f"following task {task_id}", params=params)

    def dry_run(
        self, entity: dict[str, Any], values: dict[str, Any], secrets: dict[str, str], contents: list[dict[str, str]]
    ) -> dict[str, Any]:
        """``POST /v2/dry-run`` as Backstage's template editor sends it; ``{log, steps, output, directoryContents}``."""
        body = {"template": entity, "values": values, "secrets": secrets, "directoryContents": contents}
        # A dry run changes nothing, so a 502/503 may be retried safely.
        return self.http.post_json(f"{API}/dry-run", body, what="dry-running the template", idempotent=True)


def _object(answer: Any, what: str) -> dict[str, Any]:
    """The answer when it is a JSON object, as every one of these endpoints answers; else a protocol error."""
    if not isinstance(answer, dict):
        raise BackstageError(f"Backstage sent an answer that is not an object while {what}", kind="protocol")
    return answer


def _entity_path(key: str) -> str:
    """``default/template/python-service``: the scaffolder's order (namespace first) for a template reference."""
    ref = parse_ref(key, "Template")
    return "/".join(quote(part, safe="") for part in (ref.namespace, ref.kind.lower(), ref.name))


# -- forms ---------------------------------------------------------------------------------------------------------


@dataclass
class ScaffolderTaskResult(TaskResult):
    """A TaskResult plus what only a Backstage run has: the task id, per-field rejections and whether it was cancelled.

    ``field_errors`` is keyed like the form's own validation (``name``, ``database.engine``), so the form screen
    can show Backstage's 400 on the fields, next to its own messages.
    """

    task_id: str | None = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    cancelled: bool = False


@dataclass(frozen=True)
class ScaffolderTaskEvent(TaskEvent):
    """A TaskEvent with Backstage's event id and the message as sent (with its ANSI colours)."""

    event_id: int | None = None
    raw_message: str = ""


def log_event(body: dict[str, Any], event_id: int | None = None) -> ScaffolderTaskEvent:
    """A task event body (``{message, stepId?, status?}``) as a ``log`` TaskEvent, colours stripped."""
    raw = str(body.get("message") or "")
    step_id = body.get("stepId") if isinstance(body.get("stepId"), str) else None
    status = STEP_STATUSES.get(body.get("status")) if isinstance(body.get("status"), str) else None
    return ScaffolderTaskEvent("log", strip_ansi(raw), step_id, status, event_id=event_id, raw_message=raw)


class StepTracker:
    """Each step's status and error as the events tell them (Backstage's task record does not keep them)."""

    def __init__(self) -> None:
        self.statuses: dict[str, StepStatus] = {}
        self.errors: dict[str, str] = {}

    def see(self, event: TaskEvent) -> None:
        """Take a step's new status from ``event``, if it carries one.

        The first failure of a step keeps the first line of its message as the step's error (Backstage logs
        the stack trace after it).
        """
        if event.step_id is None or event.status is None:
            return
        self.statuses[event.step_id] = event.status
        if event.status == "failed" and event.step_id not in self.errors:
            # Backstage logs the error with its stack trace; the first line says what went wrong.
            self.errors[event.step_id] = event.message.splitlines()[0] if event.message else ""

    def results(self, raw_steps: Any, template: Template) -> list[StepResult]:
        """StepResults for the task's steps (as the server expanded them), or the template's when it sent none."""
        known = [s for s in raw_steps if isinstance(s, dict)] if isinstance(raw_steps, list) else []
        if not known:
            known = [{"id": s.id, "name": s.name, "action": s.action, "input": s.input} for s in template.steps]
        results = []
        for index, raw in enumerate(known):
            step_id = str(raw.get("id") or f"step-{index}")
            step_input = raw.get("input") if isinstance(raw.get("input"), dict) else {}
            result = StepResult(step_id, str(raw.get("name") or ""), str(raw.get("action") or ""), input=step_input)
            result.status = self.statuses.get(step_id, "open")
            result.error = self.errors.get(step_id)
            results.append(result)
        return results


def failure_message(steps: list[StepResult], reason: str | None) -> str:
    """``Step fail (Fetch ...) failed: ENOENT ...``, worded as the local runner words a failed step."""
    failed = next((step for step in steps if step.status == "failed"), None)
    if failed is None:
        return reason or "the task failed"
    return f"Step {failed.id} ({failed.name or failed.action}) failed: {reason or failed.error}"


# -- the runner ----------------------------------------------------------------------------------------------------


class BackstageTaskRunner(TemplateRunner):
    """Runs templates on Backstage, as a :class:`TemplateRunner`; ``run()`` never raises for a failed task.

    A template listed from Backstage is a projection without ``spec.parameters``: ``ready()`` asks the scaffolder
    for its form (``parameter-schema``).

    Args:
        scaffolder: the API client.
        reconnects: how many times in a row a dropped event stream is reopened before giving up on the task.
        backoff: the first delay (seconds) between reconnects; it doubles each time, up to 5 s.
        cancel_grace: how long to wait for Backstage to end a cancelled task before reporting it cancelled anyway.
        guardrails: judge the files the scaffolder's dry run returns: a dry run shows the verdicts, and a real run
            asks for a dry run first and is not created when a policy denies (None: no dry run, nothing checked).
    """

    name = "Backstage"
    ready_asks_backend = True

    def __init__(
        self,
        scaffolder: BackstageScaffolder,
        *,
        reconnects: int = 5,
        backoff: float = 0.5,
        cancel_grace: float = 30.0,
        guardrails: Guardrails | None = None,
    ) -> None:
        self.scaffolder = scaffolder
        self.reconnects = reconnects
        self.backoff = backoff
        self.cancel_grace = cancel_grace
        self.guardrails = guardrails

    def ready(self, template: Template) -> Template:
        """The template with the form Backstage's scaffolder serves for it.

        Raises:
            BackstageError: Backstage could not be asked (said in words).
        """
        entity = self.scaffolder.template_entity(template.key)
        return template_from_schema(entity, self.scaffolder.parameter_schema(template.key))

    def run_task(self, template: Template, values: dict[str, Any], options: RunOptions) -> TaskResult:
        """Run (or dry-run) ``template`` on Backstage. ``user`` is unused: Backstage knows the user from the token."""
        emit = options.on_event or (lambda event: None)
        steps = StepTracker().results(None, template)
        dry_run, secrets = options.dry_run, options.secrets
        if options.output_dir is not None and not dry_run:
            return _failed(
                emit, steps, "--output needs a local run: Backstage keeps the task's workspace on its own server"
            )
        try:
            if dry_run:
                return _dry_run(self.scaffolder, template, emit, values, dict(secrets or {}), self.guardrails)
            report = None
            if self.guardrails is not None:
                if options.cancel is not None and options.cancel.is_set():
                    return _failed(emit, steps, "cancelled", cancelled=True)
                report = _check_before_creating(self.scaffolder, self.guardrails, template, emit, values, secrets)
                if report.blocked:
                    return _failed(emit, steps, report.failure_message(), guardrails=report)
            result = _FollowedTask(self, template, emit, options.cancel).run(values, dict(secrets or {}))
            result.guardrails = report
            return result
        except GuardrailError as error:
            return _failed(emit, steps, f"{error}; {NOTHING_CREATED}")
        except BackstageError as error:
            rejected = field_errors(error.body) if error.kind == "input" else {}
            message = describe_field_errors(rejected) if rejected else str(error)
            return _failed(emit, steps, message, field_errors=rejected)
        except (OSError, ValueError, TypeError, EntityRefError) as error:
            # A template file that cannot be read, a reference that cannot be parsed, values that are not JSON.
            return _failed(emit, steps, f"could not send the task to Backstage: {error}")


def _failed(emit: EventSink, steps: list[StepResult], error: str, **extra: Any) -> ScaffolderTaskResult:
    emit(TaskEvent("completion", error, status="failed"))
    return ScaffolderTaskResult("failed", steps, error=error, **extra)


class _FollowedTask:
    """One task: created, followed on its event stream (resumed after drops), cancelled on request."""

    def __init__(
        self, runner: BackstageTaskRunner, template: Template, emit: EventSink, cancel: threading.Event | None
    ) -> None:
        self.runner = runner
        self.api = runner.scaffolder
        self.template = template
        self.emit = emit
        self.cancel = cancel
        self.steps = StepTracker()
        self.last_id: int | None = None
        self.completion: dict[str, Any] | None = None
        self.cancel_sent_at: float | None = None
        self.cancelled_seen = False

    def run(self, values: dict[str, Any], secrets: dict[str, str]) -> ScaffolderTaskResult:
        if self.cancel is not None and self.cancel.is_set():
            return _failed(self.emit, self.steps.results(None, self.template), "cancelled", cancelled=True)
        task_id = self.api.create_task(template_ref(self.template), values, secrets)
        self.emit(TaskEvent("log", f"Backstage task {task_id} started"))
        # The runner's thread blocks reading the stream; another one sends the cancel as soon as the user asks.
        finished = threading.Event()
        watcher = threading.Thread(target=self._watch_cancel, args=(task_id, finished), daemon=True)
        watcher.start()
        try:
            self._follow(task_id)
        finally:
            finished.set()
            watcher.join(timeout=5)
        return self._result(task_id)

    def _watch_cancel(self, task_id: str, finished: threading.Event) -> None:
        while self.cancel is not None and not finished.is_set():
            if self.cancel.wait(0.1):
                self._send_cancel(task_id)
                return

    def _send_cancel(self, task_id: str) -> None:
        self.cancel_sent_at = time.monotonic()
        try:
            self.api.cancel_task(task_id)
            self.emit(TaskEvent("log", "Cancel requested; waiting for Backstage to stop the task"))
        except BackstageError as error:
            self.emit(TaskEvent("log", f"Could not cancel the task: {error}"))

    def _cancel_overdue(self) -> bool:
        return self.cancel_sent_at is not None and time.monotonic() - self.cancel_sent_at > self.runner.cancel_grace

    def _follow(self, task_id: str) -> None:
        """Read events until ``completion``; reopen the stream with ``after=<last id>`` when it drops."""
        failures, reason = 0, "the stream ended before the task did"
        while self.completion is None and not self._cancel_overdue():
            try:
                outcome = self._read_stream(task_id)
                if outcome == "quiet":
                    self.api.get_task(task_id)  # a quiet step, or a dead server? The task record tells.
            except BackstageError as error:
                if error.kind not in RECONNECTABLE:
                    raise
                outcome, reason = "dropped", str(error)
            if outcome == "progress":
                failures = 0  # the server is alive and the task moves: the budget is for consecutive drops
            elif outcome == "dropped":
                failures += 1
                if failures > self.runner.reconnects:
                    raise BackstageError(f"lost the events of task {task_id}: {reason}", kind="unreachable")
                time.sleep(min(self.runner.backoff * 2 ** (failures - 1), 5.0))
            # "quiet": a long step logs nothing and the server is alive: reopen straight away.

    def _read_stream(self, task_id: str) -> str:
        import httpx

        progressed = False
        try:
            response = self.api.event_stream(task_id, self.last_id)
        except BackstageError as error:
            # Backstage sends no headers until a step logs something: a timeout here is a quiet step.
            if error.kind == "timeout":
                return "quiet"
            raise
        try:
            for sse in parse_sse(response.iter_lines()):
                progressed = self._handle(sse.event, sse.data, sse.id) or progressed
                if self.completion is not None or self._cancel_overdue():
                    return "done"
        except httpx.TimeoutException:
            return "progress" if progressed else "quiet"
        except httpx.HTTPError:
            pass  # the connection broke mid-stream: resume from the last event
        finally:
            response.close()
        return "progress" if progressed else "dropped"

    def _handle(self, sse_type: str, data: str, sse_id: str | None) -> bool:
        """Emit one frame's event unless it was seen already; whether it was new."""
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):  # a frame nested past the recursion limit is as unreadable
            return False
        if not isinstance(payload, dict):
            return False
        event_id = _int(payload.get("id")) if payload.get("id") is not None else _int(sse_id)
        if event_id is not None and self.last_id is not None and event_id <= self.last_id:
            return False  # a server that ignores ``after`` replays from the start; show each event once
        if event_id is not None:
            self.last_id = event_id
        body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
        kind = payload.get("type") or sse_type
        if kind == "completion":
            self.completion = body
            return True
        if kind == "cancelled":
            self.cancelled_seen = True
        event = log_event(body, event_id)
        self.steps.see(event)
        self.emit(event)
        return True

    def _result(self, task_id: str) -> ScaffolderTaskResult:
        completion = self.completion or {}
        try:
            task = self.api.get_task(task_id)
        except BackstageError as error:
            if self.completion is None:
                raise
            task = {}  # the stream already said how it ended; the record only adds the step list
            self.emit(TaskEvent("log", f"Could not read the finished task: {error}"))
        spec = task.get("spec") if isinstance(task.get("spec"), dict) else {}
        steps = self.steps.results(spec.get("steps"), self.template)
        error = completion.get("error") if isinstance(completion.get("error"), dict) else None
        status = task.get("status")
        if status not in ("completed", "failed", "cancelled"):  # the record lags the stream: trust the stream
            status = "failed" if error or self.completion is None else "completed"
        output = task.get("output") or completion.get("output") or {}
        cancelled = self.cancel_sent_at is not None or self.cancelled_seen
        if status == "completed":
            message = strip_ansi(str(completion.get("message") or "Run completed with status: completed"))
            self.emit(TaskEvent("completion", message, status="completed", output=output))
            return ScaffolderTaskResult("completed", steps, output, task_id=task_id)
        reason = strip_ansi(str(error.get("message"))) if error and error.get("message") else None
        message = "cancelled" if cancelled else failure_message(steps, reason)
        self.emit(TaskEvent("completion", message, status="failed"))
        return ScaffolderTaskResult("failed", steps, output, message, task_id=task_id, cancelled=cancelled)


def _check_before_creating(
    api: BackstageScaffolder,
    guardrails: Guardrails,
    template: Template,
    emit: EventSink,
    values: dict[str, Any],
    secrets: dict[str, str] | None,
) -> GuardrailReport:
    """The guardrails' verdicts on the files Backstage's dry run renders for these values, before a task exists.

    The dry run's own events are not shown (the real task's follow); the verdicts are.

    Raises:
        GuardrailError: the dry run failed, so the files could not be checked (the task is not created).
        BackstageError: Backstage refused the values (``input``: shown on the form's fields) or could not be asked.
    """
    emit(TaskEvent("log", "Asking Backstage for a dry run to check the policies before the task is created"))
    try:
        checked = _dry_run(api, template, lambda event: None, dict(values), dict(secrets or {}))
    except BackstageError as error:
        if error.kind == "input":
            raise  # the values themselves: the form shows them on its fields, as for a task
        raise GuardrailError(f"the policies could not be checked: Backstage's dry run failed: {error}") from None
    if checked.status != "completed":
        raise GuardrailError(f"the policies could not be checked: Backstage's dry run failed: {checked.error}")
    return check_guardrails(guardrails, checked.files, _log_to(emit))


DRY_RUN_READS = "a dry run reads only the files sent with it, or fetches by URL, and idp-tui does not have them"


def _dry_run(
    api: BackstageScaffolder,
    template: Template,
    emit: EventSink,
    values: dict[str, Any],
    secrets: dict[str, str],
    guardrails: Guardrails | None = None,
) -> ScaffolderTaskResult:
    """``POST /v2/dry-run``: Backstage renders the template in a scratch workspace and returns its files, which
    ``guardrails`` judge (a deny fails the dry run; its files are kept, to be shown)."""
    spec = template.raw.get("spec")
    # The whole entity is sent: the template's own document, or the catalog's when only its reference is known.
    has_steps = isinstance(spec, dict) and isinstance(spec.get("steps"), list)
    entity = template.raw if has_steps else api.template_entity(template.key)
    contents = directory_contents(template.base_dir)
    unreachable: list[str] = []
    if not contents:  # a template from the catalog: its fetch steps read from where it lives, as in a task
        entity, unreachable = with_fetch_urls_resolved(entity)
    try:
        answer = api.dry_run(entity, values, secrets, contents)
    except BackstageError as error:
        if not unreachable or error.kind == "input":
            raise  # Backstage checks the values first: those errors belong on the form's fields
        why = f"{error}; {'; '.join(unreachable)} ({DRY_RUN_READS})"
        raise BackstageError(why, kind=error.kind, status=error.status, name=error.name, body=error.body) from None
    if not isinstance(answer, dict):
        raise BackstageError("Backstage sent a dry-run answer that is not an object", kind="protocol")
    tracker = StepTracker()
    for entry in answer.get("log") or []:
        body = entry.get("body") if isinstance(entry, dict) else None
        if isinstance(body, dict):
            event = log_event(body)
            tracker.see(event)
            emit(event)
    steps = tracker.results(answer.get("steps"), template)
    files, executables = decode_contents(answer.get("directoryContents"))
    output = answer.get("output") if isinstance(answer.get("output"), dict) else {}
    if any(step.status == "failed" for step in steps):
        return _failed(emit, steps, failure_message(steps, None))
    report = check_guardrails(guardrails, files, _log_to(emit)) if guardrails is not None else None
    if report is not None and report.blocked:
        blocked = _failed(emit, steps, report.failure_message(), guardrails=report)
        blocked.files, blocked.executables = files, executables
        return blocked
    emit(TaskEvent("completion", "Run completed with status: completed", status="completed", output=output))
    return ScaffolderTaskResult("completed", steps, output, files=files, executables=executables, guardrails=report)


def _log_to(emit: EventSink):
    """A line sayer that makes each line a ``log`` event of the task."""
    return lambda line: emit(TaskEvent("log", line))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an id of 1e400 (infinity)
        return None

"""The local task runner: Backstage's workflow semantics, run in a temporary workspace on this machine.

Steps run in order with their inputs rendered against ``parameters``, earlier ``steps`` outputs, ``user`` and
``each``. Nothing outside the workspace changes while steps run: actions stage effects (a repository, a catalog
entry), and the runner applies them only after every step succeeded, undoing applied ones if a later one fails.
The workspace is always removed at the end.

Templates are written by others: every step renders within a budget (:mod:`idp_tui.golden.budget`; the render
time budget can be lowered with ``IDP_TUI_RENDER_TIME_BUDGET``, in seconds), ``each`` runs a step at most
:data:`~idp_tui.golden.budget.MAX_EACH_ITERATIONS` times, and the final workspace is checked (no symlink leading
out, no git control directory) before it is shown, copied or published.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import budget
from .actions.base import Action, ActionContext, ActionError, Effect, RunSettings
from .events import EventSink, StepResult, TaskEvent, TaskResult
from .expressions import UNDEFINED, TemplateEngine, TemplateRenderError
from .guardrails import (
    NOTHING_CREATED,
    GuardrailError,
    GuardrailReport,
    Guardrails,
    check_guardrails,
    read_guardrail_inputs,
    read_linked_inputs,
    read_tree,
    shipped_names,
    without_helm_only,
)
from .js_values import js_truthy
from .protocols import RunOptions, TemplateRunner
from .sandbox import template_global
from .shipping import registered_inputs, shipped_inputs, shipped_tree_names, shipped_trees
from .sources import audit_tree, read_regular
from .template import Step, Template


class TaskCancelled(Exception):
    """The user stopped the task."""


def render_time_budget() -> float:
    """Seconds per render: :data:`~idp_tui.golden.budget.RENDER_TIME_BUDGET_S`, or the environment's lower value."""
    try:
        seconds = float(os.environ.get(budget.RENDER_TIME_BUDGET_ENV, ""))
    except ValueError:
        return budget.RENDER_TIME_BUDGET_S
    return min(seconds, budget.RENDER_TIME_BUDGET_S) if seconds > 0 else budget.RENDER_TIME_BUDGET_S


def is_truthy(value: Any) -> bool:
    """Backstage's ``isTruthy`` for ``if``: an empty list is false, everything else as in JavaScript."""
    if isinstance(value, list):
        return bool(value)
    return js_truthy(None if value is UNDEFINED else value)


class LocalTaskRunner(TemplateRunner):
    """Runs templates with the built-in actions. One runner serves many tasks; each task has its own workspace.

    Args:
        actions: the actions steps may use, by name.
        settings: where runs publish and register, and what they may call.
        whole_template: how to read a listed template whole, where the list holds projections (a remote catalog's);
            None: listed templates are whole already.
        guardrails: checks the YAML and JSON files a run would produce, after its steps and before anything is
            published, registered or provisioned (a deny fails the run); None: nothing is checked.
    """

    def __init__(
        self,
        actions: Mapping[str, Action],
        settings: RunSettings,
        *,
        whole_template: Callable[[str], Template] | None = None,
        guardrails: Guardrails | None = None,
    ) -> None:
        self.actions = dict(actions)
        self.settings = settings
        self.whole_template = whole_template
        self.guardrails = guardrails
        self.engine = TemplateEngine()

    @property
    def name(self) -> str:
        """Who :meth:`ready` asks, in words: the catalog when it reads templates, else the local runner."""
        # What ready() asks, when it asks anything: the catalog that listed the template.
        return "the catalog" if self.whole_template is not None else "the local runner"

    @property
    def ready_asks_backend(self) -> bool:
        """Whether :meth:`ready` reads templates again from the catalog (off the UI thread)."""
        return self.whole_template is not None

    def ready(self, template: Template) -> Template:
        """The template whole: read again from the catalog when its list holds projections."""
        return template if self.whole_template is None else self.whole_template(template.key)

    def run_task(self, template: Template, values: dict[str, Any], options: RunOptions) -> TaskResult:
        """Run every step of ``template`` with ``values``; never raises for a failing step (see the result)."""
        emit = options.on_event or (lambda event: None)
        task = _Task(self, template, values, options.dry_run, options.user or {}, emit, options.cancel)
        task.secrets = dict(options.secrets or {})
        output_dir = options.output_dir
        if output_dir is not None and not options.dry_run:
            task.extra_effects.append(lambda workspace: CopyWorkspace(workspace, output_dir))
        return task.run()


class _Task:
    def __init__(
        self,
        runner: LocalTaskRunner,
        template: Template,
        values: dict[str, Any],
        dry_run: bool,
        user: dict[str, Any],
        emit: EventSink,
        cancel: threading.Event | None,
    ) -> None:
        self.runner = runner
        self.template = template
        self.dry_run = dry_run
        self.emit = emit
        self.cancel = cancel
        self.secrets: dict[str, str] = {}
        # Backstage names dry-run workspaces "dry-run-<uuid>"; templates can see it as context.task.id.
        self.task_id = f"dry-run-{uuid.uuid4()}" if dry_run else str(uuid.uuid4())
        self.context: dict[str, Any] = {
            "parameters": values,
            "steps": {},
            "user": user,
            "context": {"task": {"id": self.task_id}},
            "environment": {"parameters": {}, "secrets": {}},
        }
        self.results = [StepResult(s.id, s.name, s.action) for s in template.steps]
        self.effects: list[Effect] = []
        self.extra_effects: list[Callable[[Path], Effect]] = []
        self.staged_locations: dict[str, Path] = {}
        self.staging_steps: list[StepResult] = []  # steps that staged an effect: not applied if the run fails
        self.failed = False
        self.render_seconds = render_time_budget()

    def run(self) -> TaskResult:
        root = Path(tempfile.mkdtemp(prefix="idp-tui-task-"))
        workspace, scratch = root / "workspace", root / "scratch"
        workspace.mkdir()
        scratch.mkdir()
        error: str | None = None
        try:
            self.emit(TaskEvent("log", f"Starting up task with {len(self.template.steps)} steps"))
            # The --output directory is checked before any step runs, so a clash costs nothing.
            staged_extra = [make(workspace) for make in self.extra_effects]
            for effect in staged_extra:
                effect.check()
            for step, result in zip(self.template.steps, self.results, strict=True):
                if self.failed:
                    result.status = "skipped"
                    self.emit(
                        TaskEvent("log", f"Skipping step {step.id} because a previous step failed", step.id, "skipped")
                    )
                    continue
                self._run_step(step, result, workspace, scratch)
            if self.failed:
                error = self._failure_message()
                return self._finish("failed", error)
            output = _filter_conditional(self._render_output())
            # What leaves the task (shown, copied, published) holds no link out and no git control directory.
            audit_tree(workspace, "the workspace", where="the task workspace")
            files, executables, links = _read_tree(workspace) if self.dry_run else ({}, set(), {})
            # Guardrails judge the workspace before any staged effect (repository, catalog entry, Vault) applies.
            report = self._check_guardrails(workspace, files, links)
            if report is not None and report.blocked:
                result = self._finish("failed", report.failure_message())
            else:
                created = [] if self.dry_run else self._apply(self.effects + staged_extra)
                result = self._finish("completed", None, output)
                result.created = created
            result.files, result.executables, result.symlinks = files, executables, links
            result.guardrails = report
            return result
        except ActionError as failure:
            return self._finish("failed", str(failure))
        except RecursionError:
            return self._finish("failed", "The template's output is nested too deeply to render")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _check_guardrails(
        self, workspace: Path, files: dict[str, bytes], links: dict[str, str]
    ) -> GuardrailReport | None:
        """The guardrails' verdicts on the workspace (a dry run's files and links are read already: what a link
        leads to is read again under its name); None without guardrails.

        Raises:
            ActionError: the guardrails could not be checked: the run stops, nothing is created unchecked.
        """
        guardrails = self.runner.guardrails
        if guardrails is None:
            return None
        try:
            if self.dry_run:
                inputs = {**files, **read_linked_inputs(workspace, links)}
                names = list(links)
            else:
                inputs = read_guardrail_inputs(workspace)
                inputs.update(shipped_inputs(self.effects, inputs))
                names = shipped_names(workspace)
                names += shipped_tree_names(self.effects, set(names))

            def trees() -> list[tuple[str, Mapping[str, bytes]]]:
                """What kustomize and Jsonnet would read: the workspace, and each repository as it will be."""
                return [("", read_tree(workspace)), *shipped_trees(self.effects)]

            # A registered file is judged unless judged already: a chart's template is judged only as Helm
            # renders it, so it is not among those judged (the catalog reads it as it is).
            registered = registered_inputs(self.effects, without_helm_only(inputs, [*inputs, *names]))
            return check_guardrails(guardrails, inputs, self._say, names, registered, trees)
        except GuardrailError as error:
            raise ActionError(f"{error}; {NOTHING_CREATED}") from None

    def _say(self, line: str) -> None:
        """A task-level log line (the guardrails' verdicts)."""
        self.emit(TaskEvent("log", line))

    def _render_output(self) -> Any:
        with budget.step_budget("the template's output", render_seconds=self.render_seconds):
            output = self.runner.engine.render_input(self.template.output, self.context)
            exceeded = budget.step_exceeded()
        if exceeded:
            raise ActionError(f"The template's output could not be rendered: {exceeded}")
        return output

    def _render(self, value: Any, context: dict[str, Any]) -> Any:
        """``value`` rendered; a budget that was exceeded fails the step even where the string would be kept."""
        rendered = self.runner.engine.render_input(value, context)
        exceeded = budget.step_exceeded()
        if exceeded:
            raise ActionError(exceeded)
        return rendered

    def _run_step(self, step: Step, result: StepResult, workspace: Path, scratch: Path) -> None:
        with budget.step_budget(f"step {step.id}", render_seconds=self.render_seconds):
            self._run_step_within_budget(step, result, workspace, scratch)

    def _run_step_within_budget(self, step: Step, result: StepResult, workspace: Path, scratch: Path) -> None:
        try:
            if self.cancel is not None and self.cancel.is_set():
                raise TaskCancelled(f"Step {step.id} ({step.name}) of task {self.task_id} has been cancelled.")
            if step.if_ is False or (
                isinstance(step.if_, str) and step.each is None and not is_truthy(self._render(step.if_, self._ctx()))
            ):
                result.status = "skipped"
                self.emit(TaskEvent("log", f"Skipping step {step.id}: its condition is false", step.id, "skipped"))
                return
            action = self.runner.actions.get(step.action)
            if action is None:
                raise ActionError(
                    f"Template action with ID '{step.action}' is not registered. See "
                    "https://backstage.io/docs/features/software-templates/builtin-actions/ "
                    "on how to add a new action module."
                )
            result.status = "processing"
            self.emit(TaskEvent("log", f"Beginning step {step.title}", step.id, "processing"))
            if self.dry_run and not action.supports_dry_run:
                rendered = self._render(step.input, self._ctx())
                result.input = rendered
                self._log(
                    step.id, f"Skipping {action.id} in dry-run mode: it would change things outside the workspace"
                )
                self.context["steps"][step.id] = {"output": {}}
                result.status = "skipped"
                self.emit(TaskEvent("log", f"Skipped step {step.title} (dry run)", step.id, "skipped", {}))
                return
            staged_before = len(self.effects)
            outputs = self._iterate(step, action, result, workspace, scratch)
            if len(self.effects) > staged_before:
                self.staging_steps.append(result)
            exceeded = budget.step_exceeded()
            if exceeded:  # an action that tolerated a render error still fails on an exceeded budget
                raise ActionError(exceeded)
            self.context["steps"][step.id] = {"output": outputs}
            result.output = outputs
            result.status = "completed"
            self.emit(TaskEvent("log", f"Finished step {step.title}", step.id, "completed", outputs))
        except (ActionError, TemplateRenderError, TaskCancelled, OSError, budget.BudgetExceeded) as failure:
            self._fail(step, result, _reason(failure))
        except RecursionError:
            self._fail(step, result, "the step nests too deeply (its input or a template in it)")
        except Exception as failure:  # noqa: BLE001 - hostile input must end as a failed step, never a traceback
            self._fail(step, result, f"{step.action} failed unexpectedly: {type(failure).__name__}: {failure}")

    def _fail(self, step: Step, result: StepResult, reason: str) -> None:
        self.failed = True
        result.status = "failed"
        result.error = reason
        self.emit(TaskEvent("log", result.error, step.id, "failed"))

    def _iterate(self, step: Step, action: Action, result: StepResult, workspace: Path, scratch: Path) -> dict:
        iterations: list[dict[str, Any] | None] = [None]
        if step.each is not None:
            resolved = self._render(step.each, self._ctx())
            if resolved is UNDEFINED:
                raise ActionError(
                    f'Invalid value on action {action.id}.each parameter, "{step.each}" cannot be resolved to a value'
                )
            if not isinstance(resolved, list | dict):
                raise ActionError(
                    f"Invalid value on action {action.id}.each parameter, must resolve to an array or object"
                )
            if len(resolved) > budget.MAX_EACH_ITERATIONS:
                raise ActionError(
                    f"each resolves to {len(resolved)} items: a step runs at most {budget.MAX_EACH_ITERATIONS} times"
                )
            pairs = enumerate(resolved) if isinstance(resolved, list) else resolved.items()
            iterations = [{"key": str(key), "value": value} for key, value in pairs]
        outputs: dict[str, Any] = {}
        for each in iterations:
            # Secrets reach step inputs only, never ``if``/``each`` or the output (as in Backstage).
            context = {**self._ctx(), "secrets": self.secrets}
            if each is not None:
                context["each"] = each
            if each is not None and step.if_ is not None and not is_truthy(self._render(step.if_, context)):
                self._log(step.id, f"Skipping step each: {each}")
                continue
            step_input = self._render(step.input, context)
            # What is shown and logged has the secrets masked; only the action itself sees them.
            masked = {**context, "secrets": {name: "***" for name in self.secrets}}
            result.input = self._render(step.input, masked) if self.secrets else step_input
            if each is not None:
                self._log(step.id, f"Running step each: {each}")
            ctx = ActionContext(
                input=step_input,
                workspace=workspace,
                template_dir=self.template.base_dir,
                settings=self.runner.settings,
                step_id=step.id,
                dry_run=self.dry_run,
                user=self.context["user"],
                log=lambda message, step_id=step.id: self._log(step_id, message),
                effects=self.effects,
                scratch=scratch,
                staged_locations=self.staged_locations,
            )
            self._validate_input(action, step_input, step.id if each is None else f"{action.id}[{each['key']}]")
            action.run(ctx)
            for name, value in ctx.outputs.items():
                if each is None:
                    outputs[name] = value
                else:
                    outputs.setdefault(name, []).append(value)
        return outputs

    @staticmethod
    def _validate_input(action: Action, step_input: dict[str, Any], label: str) -> None:
        schema = getattr(action, "input_schema", None)
        if not schema:
            return
        import jsonschema

        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(step_input), key=lambda e: list(e.path))
        if errors:
            detail = ", ".join(f"{'.'.join(map(str, e.path)) or 'input'} {e.message}" for e in errors)
            raise ActionError(f"Invalid input passed to action {action.id}, {detail}")

    def _ctx(self) -> dict[str, Any]:
        context = dict(self.context)
        context["always"] = template_global(lambda: True)
        context["failure"] = template_global(lambda: self.failed)
        return context

    def _log(self, step_id: str, message: str) -> None:
        for secret in self.secrets.values():
            if secret:
                message = message.replace(secret, "***")  # an action may echo a secret; the log never does
        self.emit(TaskEvent("log", message, step_id))

    def _apply(self, effects: list[Effect]) -> list[str]:
        applied: list[Effect] = []
        try:
            for effect in effects:
                effect.check()
                effect.apply()
                applied.append(effect)
                self.emit(TaskEvent("log", f"Created {effect.describe()}"))
        except (ActionError, OSError) as failure:
            for effect in reversed(applied):
                effect.undo()
            raise ActionError(f"Nothing was created: {_reason(failure)}") from None
        return [effect.describe() for effect in applied]

    def _failure_message(self) -> str:
        failed = next(r for r in self.results if r.status == "failed")
        return f"Step {failed.id} ({failed.name or failed.action}) failed: {failed.error}"

    def _finish(self, status: str, error: str | None, output: dict | None = None) -> TaskResult:
        if status == "failed":
            # A step that only staged its effect (a repository, a catalog entry) did not create it: shown as done,
            # it would read as published beside "Nothing was created".
            for result in self.staging_steps:
                if result.status == "completed":
                    result.status = "skipped"
                    self.emit(TaskEvent("log", NOT_APPLIED, result.id, "skipped"))
        if error is not None:
            self.emit(TaskEvent("completion", error, status="failed"))
        else:
            self.emit(
                TaskEvent("completion", "Run completed with status: completed", status="completed", output=output)
            )
        return TaskResult(status, self.results, output or {}, error)  # type: ignore[arg-type]


NOT_APPLIED = "Not applied: the run stopped before creating what this step prepared"


def _reason(failure: BaseException) -> str:
    if isinstance(failure, OSError) and failure.filename:
        return f"{failure.strerror or failure}: {failure.filename}"
    return str(failure)


def _filter_conditional(output: Any) -> dict[str, Any]:
    """Backstage drops output links and text items whose ``if`` is falsy."""
    if not isinstance(output, dict):
        return {}
    for key in ("links", "text"):
        items = output.get(key)
        if isinstance(items, list):
            output[key] = [
                {k: v for k, v in item.items() if k != "if"}
                for item in items
                if isinstance(item, dict) and ("if" not in item or is_truthy(item["if"]))
            ]
    return output


def _read_tree(root: Path) -> tuple[dict[str, bytes], set[str], dict[str, str]]:
    """A dry run's result: file contents, executable files, and symlinks with their targets (never followed)."""
    files: dict[str, bytes] = {}
    executables: set[str] = set()
    links: dict[str, str] = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]):
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if os.path.islink(path):
                links[relative] = os.readlink(path)
                continue
            files[relative], mode = read_regular(path, f"workspace file {relative!r}")
            if mode & stat.S_IXUSR:
                executables.add(relative)
    return files, executables, links


class CopyWorkspace:
    """``--output DIR``: the task's final workspace copied to a directory that must not exist yet (or be empty)."""

    def __init__(self, workspace: Path, target: Path) -> None:
        self.workspace = workspace
        self.target = Path(target).absolute()

    def describe(self) -> str:
        """Where the workspace will be copied."""
        return f"workspace copy at {self.target}"

    def check(self) -> None:
        """Refuse a target that is a file or a folder with something in it.

        Raises:
            ActionError: the target exists and is not an empty directory.
        """
        if self.target.exists() and (not self.target.is_dir() or any(self.target.iterdir())):
            raise ActionError(f"output directory {self.target} already exists and is not empty")

    def apply(self) -> None:
        """Copy the workspace to the target, symlinks as symlinks."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.workspace, self.target, symlinks=True, dirs_exist_ok=True)

    def undo(self) -> None:
        """Remove the target folder and what is in it."""
        shutil.rmtree(self.target, ignore_errors=True)

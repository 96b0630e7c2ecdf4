"""A golden path running: each step's status and live log, then the output links and text."""

from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Log, Markdown, Static

from idp_tui.golden.events import StepStatus, TaskEvent, TaskResult
from idp_tui.golden.template import Template
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter

from .golden_task import GoldenTaskScreen
from .host import host

# Marks that read without colour (NO_COLOR, 16-colour terminals).
STATUS_MARKS: dict[str, str] = {"open": "·", "processing": "▸", "completed": "✓", "failed": "✗", "skipped": "–"}


def steps_text(template: Template, statuses: dict[str, StepStatus]) -> Text:
    """One line per step: a mark that also reads without colour, and the step's name."""
    text = Text()
    for step in template.steps:
        status = statuses.get(step.id, "open")
        mark = STATUS_MARKS[status]
        # The mark carries the status (readable without colour); the word is left out to keep the column narrow.
        text.append(f"{mark} {step.title}\n", style="bold" if status == "processing" else "")
    return text


def output_markdown(result: TaskResult) -> str:
    """The task's output links and text as Markdown (entity links say how to open them)."""
    lines = []
    if result.status != "completed":
        lines.append(f"**Failed:** {result.error}\n\nNothing was created.")
    for link in result.links:
        if link.get("entityRef"):
            lines.append(f"- {link.get('title') or 'Entity'}: `{link['entityRef']}` (press `o` to open)")
        elif link.get("url"):
            lines.append(f"- {link.get('title') or link['url']}: {link['url']}")
    for item in result.text:
        lines.append(f"\n### {item.get('title') or ''}\n\n{item.get('content') or ''}")
    if result.created:
        lines.append("\n**Created**\n\n" + "\n".join(f"- {line}" for line in result.created))
    return "\n".join(lines)


class TaskRunScreen(GoldenTaskScreen):
    """Runs the template in a thread; events arrive as messages, in order."""

    BINDINGS = [
        Binding("escape", "leave", "Back", id="run.back"),
        Binding("o", "open_entity", "Open entity", id="run.open_entity"),
        Binding("ctrl+c", "cancel", "Cancel run", show=False, id="run.cancel"),
    ]

    DEFAULT_CSS = """
    TaskRunScreen #run-title { padding: 0 1; background: $panel; text-style: bold; }
    TaskRunScreen #run-body { height: 1fr; }
    TaskRunScreen #steps { width: 30; padding: 0 1; border-right: vkey $panel; }
    TaskRunScreen #log { height: 1fr; }
    TaskRunScreen #result { height: auto; max-height: 50%; display: none; border-top: hkey $panel; }
    TaskRunScreen #result.-done { display: block; }
    """

    class Event(Message):
        def __init__(self, event: TaskEvent) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, result: TaskResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, StepStatus] = {}
        self.cancel = threading.Event()

    def compose(self) -> ComposeResult:
        title = clean(f"{self.badge}Running {self.template.title}", one_line=True)
        yield Static(title, id="run-title", markup=False)  # a template's title is data, not markup
        with Horizontal(id="run-body"):
            yield Static(steps_text(self.template, self.statuses), id="steps")
            with Vertical():
                yield Log(id="log", highlight=False)
                yield Markdown("", id="result")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.session.read_only:
            # Never reached from the form in read-only mode; refused here too so no other way starts a task.
            from idp_tui.golden.errors import READ_ONLY_RUN
            from idp_tui.golden.events import TaskResult

            self.post_message(self.Finished(TaskResult(status="failed", steps=[], error=READ_ONLY_RUN)))
            return
        self.run_task()

    @work(thread=True, exclusive=True, group="golden-run")
    def run_task(self) -> None:
        result = self.make_runner().run(
            self.template,
            self.values,
            user=self.user(),
            on_event=lambda event: self.post_message(self.Event(event)),
            cancel=self.cancel,
            secrets=self.secrets,
        )
        if result.status == "completed":
            from idp_tui.golden.state import remember_answers

            remember_answers(self.template, self.values, self.session.user_state)
        self.post_message(self.Finished(result))

    def on_task_run_screen_event(self, message: Event) -> None:
        event = message.event
        if event.step_id and event.status:
            self.statuses[event.step_id] = event.status
            self.query_one("#steps", Static).update(steps_text(self.template, self.statuses))
        prefix = f"[{event.step_id}] " if event.step_id else ""
        # A step's log is whatever the action printed: no escape sequence of it reaches the terminal.
        self.query_one(Log).write_line(clean(prefix + event.message))

    def on_task_run_screen_finished(self, message: Finished) -> None:
        self.result = message.result
        title = self.query_one("#run-title", Static)
        if message.result.status == "completed":
            title.update(clean(f"✓ {self.template.title}: done", one_line=True))
            # The registered entity is part of the catalog now: read it again so it can be opened.
            host(self).load_catalog()
        else:
            title.update(clean(f"{self.badge}✗ {self.template.title}: failed", one_line=True))
        result = self.query_one("#result", Markdown)
        result.update(output_markdown(message.result))
        result.add_class("-done")
        self.refresh_bindings()

    def created_entity_ref(self) -> str | None:
        if self.result is None or self.result.status != "completed":
            return None
        return next((link["entityRef"] for link in self.result.links if link.get("entityRef")), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_entity" and self.created_entity_ref() is None:
            return None
        return True

    def action_open_entity(self) -> None:
        ref = self.created_entity_ref()
        catalog = host(self).catalog or self.catalog
        entity = catalog.find(ref) if ref else None
        if entity is None:
            self.notify(clean(f"{ref} is not in the catalog yet; try again in a moment."), timeout=3, markup=False)
            return
        host(self).open_entity(entity)

    def action_cancel(self) -> None:
        if self.result is None:
            self.cancel.set()
            self.notify("Cancelling after the current step…", timeout=3)

    def action_leave(self) -> None:
        if self.result is None:
            self.notify("The task is still running (ctrl+c cancels it).", timeout=3)
            return
        self.dismiss(None)

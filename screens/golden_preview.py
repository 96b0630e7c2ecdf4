"""A dry run before the real one: each step's rendered input, the files the template would produce, and what the
policies say about them (the same verdicts that block the real run)."""

from __future__ import annotations

import json

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.golden.events import TaskResult
from idp_tui.golden.guardrails import GuardrailReport
from idp_tui.render.styles import PROBLEM, WARNING
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter

from .golden_task import GoldenTaskScreen

PLAN_ID = "\x00plan"
POLICIES_ID = "\x00policies"
# Marks before a file's name that read without colour: a policy denied a document of it, or warned.
DENIED_MARK, WARNED_MARK = "✗ ", "! "


def plan_text(result: TaskResult) -> Text:
    """Every step with its status and rendered input, as JSON."""
    text = Text()
    for step in result.steps:
        text.append(f"{step.id}", style="bold")
        text.append(f"  {step.action}  {step.status}\n")
        if step.error:
            text.append(f"  {step.error}\n", style="bold")
        rendered = json.dumps(step.input, indent=2, ensure_ascii=False, default=str)
        text.append("".join(f"  {line}\n" for line in rendered.splitlines()))
    return text


def policies_text(report: GuardrailReport) -> Text:
    """Every verdict as ``file:line: DENY policy: message`` (denials in the error style), then what was not judged.
    Policy authors wrote the messages: each line is cleaned."""
    text = Text()
    text.append(report.summary() + "\n\n", style="bold")
    if report.blocked:
        text.append("The run would stop here: nothing is published, registered or provisioned.\n\n")
    for finding in report.findings:
        style = PROBLEM if finding.action == "deny" else WARNING
        text.append(clean(str(finding), one_line=True) + "\n", style=style)
    for unjudged in report.unjudged:
        text.append(clean(unjudged, one_line=True) + "\n", style=PROBLEM)
    return text


def file_label(path: str, report: GuardrailReport | None) -> Text:
    """A file's name, marked when a policy denied or warned about one of its documents."""
    actions = {finding.action for finding in report.findings if finding.file == path} if report else set()
    mark = DENIED_MARK if "deny" in actions else WARNED_MARK if actions else ""
    return Text(mark + clean(path, one_line=True), style=PROBLEM if mark == DENIED_MARK else "")


def file_view(path: str, content: bytes) -> Syntax | Text:
    """A file's content, highlighted by its name; binary files are described, not shown."""
    try:
        code = content.decode("utf-8")
    except UnicodeDecodeError:
        return Text(f"{path}: binary file, {len(content)} bytes")
    lexer = Syntax.guess_lexer(path, code)
    return Syntax(code, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")


class PreviewScreen(GoldenTaskScreen):
    """Nothing is written: the dry run happens in a temporary workspace that is removed afterwards."""

    # dismiss (not pop): the golden paths screen reopens the form's Review page when the preview closes.
    BINDINGS = [Binding("escape", "dismiss", "Back to review", id="preview.back")]

    DEFAULT_CSS = """
    PreviewScreen #preview-title { padding: 0 1; background: $panel; text-style: bold; }
    PreviewScreen #preview-body { height: 1fr; }
    PreviewScreen #files { width: 40%; min-width: 24; border-right: vkey $panel; }
    PreviewScreen #content { width: 1fr; }
    """

    class Done(Message):
        def __init__(self, result: TaskResult) -> None:
            super().__init__()
            self.result = result

    def compose(self) -> ComposeResult:
        title = clean(f"{self.badge}Preview of {self.template.title}: rendering…", one_line=True)
        yield Static(title, id="preview-title", markup=False)  # a template's title is data, not markup
        with Horizontal(id="preview-body"):
            yield OptionList(id="files")
            with VerticalScroll(id="content"):
                yield Static("", id="file-content")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#files", OptionList).focus()
        self.dry_run()

    @work(thread=True, exclusive=True, group="golden-preview")
    def dry_run(self) -> None:
        result = self.make_runner().run(
            self.template, self.values, dry_run=True, user=self.user(), secrets=self.secrets
        )
        self.post_message(self.Done(result))

    def on_preview_screen_done(self, message: Done) -> None:
        result = self.result = message.result
        files = self.query_one("#files", OptionList)
        report = result.guardrails
        options = [Option(Text("Steps and inputs", style="bold"), id=PLAN_ID)]
        if report is not None:
            label = Text(report.summary(), style=PROBLEM if report.blocked else "bold")
            # A deny is what the person must see first: the verdicts open, above the steps.
            options.insert(0 if report.blocked else 1, Option(label, id=POLICIES_ID))
        files.add_options(options)
        files.add_options(Option(file_label(path, report), id=path) for path in result.files)
        if report is not None and report.blocked:
            summary = f"blocked by policy ({report.blocked_words()}): the run would create nothing"
        elif result.status == "completed":
            summary = f"{len(result.files)} files"
        else:
            summary = f"failed: {result.error}"
        self.query_one("#preview-title", Static).update(
            clean(f"{self.badge}Preview of {self.template.title}: {summary}. Nothing is written.", one_line=True)
        )
        files.highlighted = 0

    @on(OptionList.OptionHighlighted, "#files")
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        if self.result is None or event.option.id is None:
            return
        content = self.query_one("#file-content", Static)
        if event.option.id == PLAN_ID:
            content.update(plan_text(self.result))
        elif event.option.id == POLICIES_ID and self.result.guardrails is not None:
            content.update(policies_text(self.result.guardrails))
        else:
            content.update(file_view(event.option.id, self.result.files[event.option.id]))

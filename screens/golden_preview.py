"""A dry run before the real one: each step's rendered input and the files the template would produce."""

from __future__ import annotations

import json

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.golden.events import TaskResult
from idp_tui.safe_text import clean

from .golden_task import GoldenTaskScreen

PLAN_ID = "\x00plan"


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
        yield Footer()

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
        files.add_option(Option(Text("Steps and inputs", style="bold"), id=PLAN_ID))
        files.add_options(Option(Text(clean(path, one_line=True)), id=path) for path in result.files)
        summary = f"{len(result.files)} files" if result.status == "completed" else f"failed: {result.error}"
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
        else:
            content.update(file_view(event.option.id, self.result.files[event.option.id]))

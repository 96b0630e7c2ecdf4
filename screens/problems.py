"""The catalog's problems: every skipped file or entity, and what the policies' catalog rules found, as
``file:line: message``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.catalog.problems import GUARDRAIL_RULE, Problem
from idp_tui.render.words import count
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter


class ProblemsScreen(Screen):
    """What was skipped while loading the catalog, and why; and the policies' verdicts on the entities kept."""

    BINDINGS = [Binding("escape,backspace", "back", "Back", id="problems.back")]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = sorted(problems, key=lambda p: (p.path, p.line))

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="screen-title")
        yield OptionList(*[Option(self._label(problem)) for problem in self.problems], id="problem-list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _title(self) -> str:
        found = sum(1 for problem in self.problems if problem.rule == GUARDRAIL_RULE)
        if not found:
            return f"{count(len(self.problems), 'problem')}: these entities and files were skipped"
        skipped = len(self.problems) - found
        return (
            f"{count(len(self.problems), 'problem')}: {skipped} skipped (entities and files), "
            f"{found} found by the policies (guardrail)"
        )

    @staticmethod
    def _label(problem: Problem) -> Text:
        text = Text()
        text.append(clean(f"{problem.path}:{problem.line}", one_line=True), style="bold")
        text.append(f"  [{problem.rule}]", style="dim")
        if problem.entity:
            text.append(clean(f"  {problem.entity}", one_line=True))
        text.append(f"\n  {clean(problem.message, one_line=True)}")
        return text

    def action_back(self) -> None:
        self.app.pop_screen()

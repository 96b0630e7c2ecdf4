"""Asking before anything changes a cluster: what will happen and the exact kubectl command it equals."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """``y`` confirms, ``n`` or Esc cancels; nothing is preselected, so a stray Enter does nothing."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes, do it", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 76; max-width: 100%; height: auto; border: thick $warning; padding: 0 1;
                               background: $surface; }
    ConfirmScreen #confirm-command { color: $text-muted; margin: 1 0; }
    """

    def __init__(self, question: str, command: str) -> None:
        super().__init__()
        self.question = question
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="confirm-question", markup=False)  # names pods and workloads: data
            yield Static(f"$ {self.command}", id="confirm-command", markup=False)
            yield Static("y: yes, do it    n / Esc: no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

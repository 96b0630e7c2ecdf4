"""``?``: every key that works where you are, grouped by where it comes from."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

_KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter", "backspace": "Backspace"}


def _key_label(keys: str) -> str:
    return " / ".join(_KEY_NAMES.get(k, k) for k in keys.split(","))


class KeysScreen(ModalScreen[None]):
    """A modal list of the bindings of the screen it was opened over."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="keys.close")]

    def __init__(self, over: Screen) -> None:
        super().__init__()
        self.over = over

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self._described_keys():
            table.add_row(keys, description)
        table.add_row("Ctrl+P", "Command palette: every action by name")
        with VerticalScroll(id="keys"):
            yield Static(Text("Keys", style="bold"), classes="picker-title")
            yield Static(table)

    def _described_keys(self) -> list[tuple[str, str]]:
        """``(keys, description)`` from the focused widget up to the app, keys of one action together."""
        keys_by_action: dict[tuple[str, str], list[str]] = {}
        for _namespace, bindings in self.over._modal_binding_chain:
            for key, binding in bindings:
                if binding.description:
                    keys = keys_by_action.setdefault((binding.action, binding.description), [])
                    label = binding.key_display or _key_label(key)
                    if label not in keys:
                        keys.append(label)
        return [(" / ".join(keys), description) for (_, description), keys in keys_by_action.items()]

    def action_close(self) -> None:
        self.dismiss(None)

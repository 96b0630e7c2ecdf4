"""``?``: every key that works where you are, grouped by where it comes from."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

_KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter", "backspace": "Backspace"}
# Textual's sideways scrolling: lists here never scroll sideways, so these keys do nothing worth listing.
_NOT_LISTED = {"scroll_left", "scroll_right", "page_left", "page_right"}


def _key_label(keys: str) -> str:
    return " / ".join(_one_key(key) for key in keys.split(","))


def _one_key(key: str) -> str:
    """``ctrl+f`` as Ctrl+F, ``question_mark`` as ?: keys remapped in keymap.yaml arrive in Textual's names."""
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    *modifiers, base = key.split("+")
    if modifiers and base:
        shown = _one_key(base)
        shown = shown.upper() if len(shown) == 1 else shown
        return "+".join([*(modifier.capitalize() for modifier in modifiers), shown])
    return format_key(key)


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
        for heading, rows in self._sections():
            if rows:
                table.add_row(Text(heading, style="underline"), "")
                for keys, description in rows:
                    table.add_row(keys, description)
        table.add_row("Ctrl+P", "Command palette: every action by name")
        with VerticalScroll(id="keys"):
            yield Static(Text("Keys", style="bold"), classes="picker-title")
            yield Static(table)

    def _sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The keys of this screen first, then of the focused widget, then those that work everywhere."""
        chain = self.over._modal_binding_chain  # focused widget, its parents, the screen, the app
        by_node = {id(node): self._described(bindings) for node, bindings in chain}
        screen = by_node.pop(id(self.over), [])
        app = by_node.pop(id(self.app), [])
        widgets = [row for rows in by_node.values() for row in rows]
        return [("Here", screen), ("In the focused list or box", widgets), ("Everywhere", app)]

    @staticmethod
    def _described(bindings) -> list[tuple[str, str]]:
        """``(keys, description)`` rows, the keys of one action together."""
        keys_by_action: dict[tuple[str, str], list[str]] = {}
        for key, binding in bindings:
            if binding.description and binding.action not in _NOT_LISTED:
                keys = keys_by_action.setdefault((binding.action, binding.description), [])
                label = binding.key_display or _key_label(key)
                if label not in keys:
                    keys.append(label)
        return [(" / ".join(keys), description) for (_, description), keys in keys_by_action.items()]

    def action_close(self) -> None:
        self.dismiss(None)

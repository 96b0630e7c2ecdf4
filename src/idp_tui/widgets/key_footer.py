"""The key footer: the screen's shown bindings on one line, drawn by one widget.

Textual's ``Footer`` is a container of one ``FooterKey`` widget per binding, and it rebuilds them all whenever the
screen's bindings are refreshed: each key is mounted and styled three times (itself, then its ``-compact`` class
set and cleared) along with two component styles. A screen change rebuilt the footers of both screens, and that
styling was a third of the time from ``d`` to the complete Deployments view. Here the line is one widget: styled
once when mounted, redrawn (one line) only when what it shows changes.

It shows what Textual's footer shows, the same way: each action once (its first binding) with the key as the
keymap displays it, disabled keys in their own style, and the command palette's key at the right edge after a
thin bar. Keys that do not fit whole are left out rather than cut (the ``?`` keys screen lists them all). A click
on a key presses it (a disabled key rings the bell), as on Textual's footer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


class ShownKey(NamedTuple):
    """One key as the footer draws it."""

    key: str  # what a click presses
    display: str  # the key as the keymap shows it
    description: str
    enabled: bool


class FooterKeys(NamedTuple):
    """Everything the footer line depends on, compared to decide whether to redraw."""

    keys: tuple[ShownKey, ...]
    palette: ShownKey | None


def footer_keys(screen: Screen) -> FooterKeys:
    """The keys ``screen`` shows in its footer: each action's first shown binding, in binding order."""
    app = screen.app
    active = screen.active_bindings
    seen: set[str] = set()
    keys = []
    for _node, binding, enabled, _tooltip in active.values():
        if binding.show and binding.action not in seen:
            seen.add(binding.action)
            keys.append(ShownKey(binding.key, app.get_key_display(binding), binding.description, enabled))
    palette = None
    if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
        _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
        palette = ShownKey(binding.key, app.get_key_display(binding), binding.description, enabled)
    return FooterKeys(tuple(keys), palette)


class KeyFooter(Widget, can_focus=False):
    """The screen's keys on the bottom line (see the module docstring)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--disabled-key",
        "key-footer--disabled-description",
        "key-footer--bar",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    /* A key not usable here: told by italics rather than dimming, which falls under 3:1 in light themes. */
    KeyFooter > .key-footer--disabled-key {
        color: $text-muted;
        background: $footer-key-background;
        text-style: bold italic;
    }
    KeyFooter > .key-footer--disabled-description {
        color: $footer-description-foreground;
        background: $footer-description-background;
        text-style: italic;
    }
    KeyFooter > .key-footer--bar {
        color: $foreground 20%;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.shown = FooterKeys((), None)
        self._ready = False  # Textual's footer too waits for the screen's first bindings refresh
        self._spans: list[tuple[int, int, ShownKey]] = []  # (start, end, key) of each key drawn, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """Redraw when the keys to show differ from those shown (one focus change refreshes bindings often)."""
        self._ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        keys = footer_keys(screen)
        if keys != self.shown:
            self.shown = keys
            self.refresh()

    def render(self) -> Text:
        self._spans = []
        if not self._ready:
            return Text()
        width = self.size.width
        palette = self._palette_text()
        room = width - palette.cell_len
        line = Text(no_wrap=True, overflow="crop", end="")
        for key in self.shown.keys:
            piece = self._key_text(key, pad=True)
            if line.cell_len + piece.cell_len > room:
                break
            self._spans.append((line.cell_len, line.cell_len + piece.cell_len, key))
            line.append_text(piece)
        if palette:
            line.append(" " * max(0, room - line.cell_len))
            start = line.cell_len + 1  # after the bar
            self._spans.append((start, width, self.shown.palette))
            line.append_text(palette)
        return line

    def _palette_text(self) -> Text:
        palette = self.shown.palette
        if palette is None:
            return Text()
        bar = Text("▏", style=self.get_component_rich_style("key-footer--bar"))
        return bar + self._key_text(palette, pad=False) + Text(" ")

    def _key_text(self, key: ShownKey, *, pad: bool) -> Text:
        """`` k Description `` (the key padded on both sides when ``pad``), in the footer's styles."""
        kind = "" if key.enabled else "disabled-"
        key_style: Style = self.get_component_rich_style(f"key-footer--{kind}key")
        description_style: Style = self.get_component_rich_style(f"key-footer--{kind}description")
        shown = f" {key.display} " if pad else key.display
        if not key.description:
            return Text(shown, style=key_style)
        tail = f"{key.description} " if pad else f" {key.description}"
        return Text.assemble((shown, key_style), (tail, description_style))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        # On the press, not the click (as Textual's footer): a click's release moves the focus first.
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return

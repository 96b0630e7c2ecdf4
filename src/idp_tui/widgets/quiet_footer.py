"""A footer that redraws only when the keys it shows change.

Textual's ``Footer`` rebuilds itself every time the screen's bindings are refreshed, and one focus change
refreshes them several times: over SSH each rebuild sends the whole bottom line again for the same keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class QuietFooter(Footer):
    """Textual's ``Footer``, rebuilt only when what it would show differs from what it last showed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._keys_shown: tuple | None = None

    def _keys(self) -> tuple:
        """What ``Footer.compose`` reads: each shown binding as displayed, and the command palette's key."""
        app = self.app
        active = self.screen.active_bindings
        shown = tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip,
             binding.group)
            for _node, binding, enabled, tooltip in active.values()
            if binding.show
        )  # fmt: skip
        palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        palette_key = None if palette is None else (palette[1].key, app.get_key_display(palette[1]), palette[2])
        return shown, palette_key, self.show_command_palette

    def bindings_changed(self, screen: Screen) -> None:
        """Rebuild (as Textual's footer does) unless the keys to show are the ones shown or about to be."""
        if self._bindings_ready and screen.app.app_focus and self.is_attached and screen is self.screen:
            keys = self._keys()
            if keys == self._keys_shown:
                return
            self._keys_shown = keys
        super().bindings_changed(screen)

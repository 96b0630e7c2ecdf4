"""Named styles for the renderables the TUI and the commands share.

A renderable says what a piece of text is (a problem, a warning), not its colour: the TUI maps these names to
the current theme's colours (:func:`theme_styles`), the commands to the terminal's own red and yellow
(:data:`TERMINAL_STYLES`), so every colour on screen still comes from the theme.
"""

from __future__ import annotations

from collections.abc import Mapping

PROBLEM = "idp.problem"
WARNING = "idp.warning"

TERMINAL_STYLES: dict[str, str] = {PROBLEM: "bold red", WARNING: "bold yellow"}


def theme_styles(error: str | None, warning: str | None) -> dict[str, str]:
    """The named styles in a theme's colours (``#F0707A``, or ``ansi_red`` in an ANSI theme)."""
    return {PROBLEM: f"bold {_rich_colour(error, 'red')}", WARNING: f"bold {_rich_colour(warning, 'yellow')}"}


def _rich_colour(colour: str | None, fallback: str) -> str:
    if not colour:
        return fallback
    # Textual names the terminal's palette ansi_red, ansi_bright_red; Rich calls them red, bright_red.
    return colour.removeprefix("ansi_")


def rich_theme(styles: Mapping[str, str]):
    """A Rich theme holding ``styles`` (Rich is imported here: the module stays free to import)."""
    from rich.theme import Theme

    return Theme(dict(styles), inherit=True)

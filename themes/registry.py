"""Registering idp-tui's themes (built-in and the user's palettes) with the running app."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from .palettes import BUILTIN_THEMES
from .user_palettes import load_user_palettes


def register_themes(app: App, palette_dir: Path) -> tuple[list[str], list[str]]:
    """Register the built-in themes and every valid user palette.

    Returns:
        The names offered to the person (built-in first, then the user's), and the user palettes' problems.
    """
    for theme in BUILTIN_THEMES.values():
        app.register_theme(theme)
    user_themes, problems = load_user_palettes(palette_dir, reserved=set(app.available_themes))
    for theme in user_themes:
        app.register_theme(theme)
    return [*BUILTIN_THEMES, *(theme.name for theme in user_themes)], problems

"""Which colour theme to start with, and remembering the one last chosen in the command palette.

Free of Textual (like the rest of the domain layer): the palettes themselves live in ``idp_tui.themes``.
Precedence: ``--theme`` / ``IDP_TUI_THEME`` / the profile's ``theme`` (already resolved into one value)
> the theme remembered from the last command-palette choice > the default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from .config import config_path
from .paths import state_home, write_atomically


def remembered_theme_path() -> Path:
    """Where the last command-palette choice is kept (state: the user made it, it is not rebuilt)."""
    return state_home() / "theme"


def user_palette_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``themes/`` beside the config file: where users add their own palettes as YAML."""
    return config_path(environ).parent / "themes"


def load_remembered_theme(path: Path | None = None) -> str | None:
    """The theme chosen last time, or None (never chosen, or the state directory cannot be read)."""
    try:
        name = (path or remembered_theme_path()).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name or None


def remember_theme(name: str, path: Path | None = None) -> bool:
    """Keep ``name`` for the next start; False (not an error) when the state directory is not writable."""
    return write_atomically(path or remembered_theme_path(), f"{name}\n".encode())


def choose_theme(
    requested: str | None, remembered: str | None, available: Collection[str], default: str
) -> tuple[str, str | None]:
    """The theme to start with, and a one-line problem to show when the requested one does not exist.

    A remembered theme that no longer exists (a deleted user palette) is passed over quietly: the person did
    not ask for it this time.
    """
    if requested:
        if requested in available:
            return requested, None
        return default, f"Unknown theme {requested!r}; using {default}. Available: {', '.join(sorted(available))}"
    if remembered and remembered in available:
        return remembered, None
    return default, None

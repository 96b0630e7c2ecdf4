"""Writing command output: JSON for scripts, rich tables for people, one-line errors on stderr."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def console(*, table: bool = False):
    """A rich console on stdout; colour only on a terminal and never when NO_COLOR is set.

    A piped table is not cut to 80 columns: a script or grep gets every name whole.
    """
    from rich.console import Console

    from ..render.styles import TERMINAL_STYLES, rich_theme

    width = 4096 if table and not sys.stdout.isatty() else None
    return Console(highlight=False, soft_wrap=False, width=width, theme=rich_theme(TERMINAL_STYLES))


def error(message: str) -> None:
    """One line on stderr, prefixed with the program name, the way command-line tools report."""
    sys.stderr.write(f"idp-tui: {message}\n")


def display_path(path: str) -> str:
    """A path relative to the working directory when it is below it (editors open ``file:line``)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative

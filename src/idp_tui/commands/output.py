"""Writing command output: JSON for scripts, rich tables for people, one-line errors on stderr.

Everything printed here may hold text from a catalog, a template, a backend or a log, written by other people:
it reaches the terminal only through :mod:`idp_tui.safe_text` (no escape sequences, no control characters),
and URLs in errors lose their userinfo (:mod:`idp_tui.redaction`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from functools import lru_cache
from typing import Any

from ..redaction import redact_url
from ..safe_text import clean

# JSON leaves these raw with ensure_ascii=False: DEL, the C1 controls (U+009B is a one-character CSI that some
# terminals act on), the bidirectional overrides that make text read differently from what it is, and the
# line and paragraph separators some viewers break lines at; and lone surrogates (a JSON file can hold them),
# which no output encoding can write. They only ever occur inside JSON strings.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout; characters a terminal could act on are ``\\u`` escapes."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text))
    sys.stdout.write("\n")


def console(*, table: bool = False):
    """A rich console on stdout; colour only on a terminal and never when NO_COLOR is set.

    A piped table is not cut to 80 columns: a script or grep gets every name whole. The text of what it prints
    is cleaned of escape sequences and control characters (its own colours are added after that).
    """
    from ..render.styles import TERMINAL_STYLES, rich_theme

    width = 4096 if table and not sys.stdout.isatty() else None
    # No markup: what is printed is data, and "[/x]" in a catalog's title must print, not raise.
    return safe_console(highlight=False, markup=False, soft_wrap=False, width=width, theme=rich_theme(TERMINAL_STYLES))


def safe_console(**options: Any):
    """A ``rich.console.Console`` (same options) whose output holds no escape sequence from the data it prints.

    Rich strips only a few control characters (BEL, BS, VT, FF, CR) from ``Text``; an ``ESC ] 52`` in an
    entity's title would reach the terminal. Every segment Rich renders is cleaned before Rich styles it:
    a segment's text is content only (styles, links and cursor moves are applied to it later, when Rich
    writes), so Rich's own colours, OSC 8 links and control segments come out as before.
    """
    from ..safe_text import install_terminal_filter

    install_terminal_filter()
    return _safe_console_class()(**options)


@lru_cache(maxsize=1)
def _safe_console_class() -> type:
    from rich.console import Console

    class SafeConsole(Console):
        def render(self, renderable, options=None):
            for segment in super().render(renderable, options):
                if segment.control is None:
                    text = clean(segment.text)
                    if text is not segment.text:  # clean() returns a clean string itself: nothing to copy
                        segment = segment._replace(text=text)
                yield segment

    return SafeConsole


def write_lines(lines: Any) -> None:
    """Plain lines of data on stdout (``validate``, ``scaffold``), each cleaned to one line."""
    sys.stdout.writelines(f"{clean(line, one_line=True)}\n" for line in lines)


def error(message: str) -> None:
    """One line on stderr, prefixed with the program name, the way command-line tools report.

    The message is cleaned to one line and URL credentials are masked: it often quotes a backend or a URL.
    """
    sys.stderr.write(f"idp-tui: {redact_url(clean(str(message), one_line=True))}\n")


def display_path(path: str) -> str:
    """A path relative to the working directory when it is below it (editors open ``file:line``)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative

"""Where a backend's "waiting" notices go: one ``idp-tui: …`` line on stderr, or the TUI's notifications.

The clients are built before anyone knows whether a command or the TUI will run, so they get this relay as their
``on_wait`` hook; the TUI points it at its notifications once it is up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class Notices:
    """A ``Callable[[str], None]`` that says a notice where the session shows them (stderr until ``sink`` is set)."""

    def __init__(self) -> None:
        self.sink: Callable[[str], None] | None = None

    def __call__(self, text: str) -> None:
        sink = self.sink
        if sink is not None:
            sink(text)
            return
        sys.stderr.write(f"idp-tui: {text}\n")
        sys.stderr.flush()

    def __repr__(self) -> str:
        return "Notices()"

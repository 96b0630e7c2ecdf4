"""Where a backend's "waiting" notices go: one ``idp-tui: …`` line on stderr, or the TUI's notifications.

The clients are built before anyone knows whether a command or the TUI will run, so they get this relay as their
``on_wait`` hook; the TUI points it at its notifications once it is up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class Notices:
    """A ``Callable[[str], None]`` that says a notice where the session shows them (stderr until ``sink`` is set).

    ``title`` says what the notice is about where a title is shown (the TUI's notification); a backend's wait
    before retrying has none (the sink's own).
    """

    def __init__(self) -> None:
        self.sink: Callable[..., None] | None = None

    def __call__(self, text: str, title: str | None = None) -> None:
        sink = self.sink
        if sink is not None:
            if title is None:
                sink(text)
            else:
                sink(text, title)
            return
        sys.stderr.write(f"idp-tui: {text}\n")
        sys.stderr.flush()

    def __repr__(self) -> str:
        return "Notices()"

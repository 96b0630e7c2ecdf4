"""Lines of text a view lists and acts on: what ``y`` copies from a line and which entity Enter opens."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True)
class Line:
    """One line of a view: its text, what ``y`` copies from it, the entity Enter opens, and how it is laid out."""

    text: Text
    copy: str | None = None  # what `y` copies from this line
    target: str | None = None  # the entity (key) Enter opens from this line
    heading: bool = False
    # Prose (notes, errors) wraps; a data line is cut at the screen's edge in the TUI, its value kept for `y`.
    wrap: bool = False
    # The line a view highlights first: the first responder now.
    first: bool = False


def heading(title: str) -> Line:
    """A section heading: ``title`` in bold capitals."""
    return Line(Text(title.upper(), style="bold"), heading=True)

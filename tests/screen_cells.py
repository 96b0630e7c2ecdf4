"""What a running app shows, cell by cell: the text of each row and how readable each character is.

Read from the same compositor output Textual writes to the terminal (after its filters: NO_COLOR, ANSI), so
what is measured is what a person sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.color import Color as RichColor
from rich.color import ColorType
from rich.segment import Segment
from rich.terminal_theme import TerminalTheme
from textual.constants import DIM_FACTOR

# Box drawing, block elements and the like are lines and scrollbars, not text to read.
_DECORATION = re.compile(r"[\s\u2500-\u259f\u2800-\u28ff]")


def screen_rows(app) -> list[list[Segment]]:
    """The segments of every row on screen (modal screens drawn over the ones below, as on the terminal)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens, simplify=True)
    return [[segment for strip in row for segment in strip] for row in update.strips]


def screen_text(app) -> str:
    """The screen as plain text, one line per row, trailing spaces removed."""
    return "\n".join("".join(segment.text for segment in row).rstrip() for row in screen_rows(app)) + "\n"


def _rgb(color: RichColor | None, theme: TerminalTheme, foreground: bool) -> tuple[int, int, int]:
    if color is None:
        color = RichColor.default()
    return tuple(color.get_truecolor(theme, foreground=foreground))  # type: ignore[return-value]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio, 1 (none) to 21 (black on white)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class LowContrast:
    row: int
    text: str
    ratio: float

    def __str__(self) -> str:
        return f"row {self.row}: {self.text!r} at {self.ratio:.2f}:1"


def low_contrast(app, minimum: float) -> list[LowContrast]:
    """Every run of readable characters whose foreground/background contrast is under ``minimum``.

    ANSI colours are resolved through the terminal palette Textual assumes (``app.ansi_theme``); dim text is
    blended towards its background the way Textual dims.
    """
    theme = app.ansi_theme
    found: list[LowContrast] = []
    for y, row in enumerate(screen_rows(app)):
        for segment in row:
            style = segment.style
            if style is None or not _DECORATION.sub("", segment.text):
                continue
            fg, bg = _rgb(style.color, theme, True), _rgb(style.bgcolor, theme, False)
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:
                fg = tuple(round(b + (f - b) * DIM_FACTOR) for f, b in zip(fg, bg, strict=True))  # type: ignore[assignment]
            ratio = contrast_ratio(fg, bg)
            if ratio < minimum:
                found.append(LowContrast(y, segment.text.strip(), ratio))
    return found


def coloured_segments(app) -> list[str]:
    """Text drawn with any colour other than the terminal's default (there must be none under NO_COLOR)."""
    found = []
    for y, row in enumerate(screen_rows(app)):
        for segment in row:
            style = segment.style
            if style is None:
                continue
            colours = [c for c in (style.color, style.bgcolor) if c is not None and c.type != ColorType.DEFAULT]
            if colours:
                found.append(f"row {y}: {segment.text!r} {', '.join(c.name for c in colours)}")
    return found

"""How a log view's row reads as text: the line as written or as indented JSON, and a search's matches marked.

Plain functions of a line and the view's toggles (Rich, no Textual), so the view keeps only what needs the widget:
its state, its styles and its drawing.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from ..kube.log_lines import ParsedLine, parse_line

# RFC 3339 as the kubelet writes it with ``timestamps=true`` (``2024-05-01T12:00:00.123456789Z ``).
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


@lru_cache(maxsize=4096)
def parsed(text: str) -> ParsedLine:
    """``text`` read into time, level, message and fields (cached: the visible rows are drawn many times)."""
    return parse_line(text)


@lru_cache(maxsize=4096)
def pretty_json(text: str) -> tuple[str, ...] | None:
    """The lines of ``text`` as indented JSON when it is a JSON object, else None."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        value = json.loads(stripped)
        if not isinstance(value, dict):
            return None
        return tuple(json.dumps(value, indent=2, ensure_ascii=False).splitlines())
    except (ValueError, RecursionError):  # a pod may log an object nested past the recursion limit
        return None


def raw_row_text(text: str, sub: int, *, show_timestamps: bool, json_pretty: bool) -> str:
    """Row ``sub`` of a line as written (not cleaned): the kubelet's timestamp only when shown, and a JSON object
    spread over rows (its timestamp on the first) when ``json_pretty``."""
    body = TIMESTAMP.sub("", text, count=1)
    if json_pretty:
        expanded = pretty_json(body)
        if expanded is not None:
            stamp = text[: len(text) - len(body)] if show_timestamps and sub == 0 else ""
            return stamp + expanded[sub]
    return text if show_timestamps else body


def highlighted(text: str, pattern: re.Pattern[str] | None, style: Style, match_style: Style) -> list[Segment]:
    """``text`` in ``style``, each match of ``pattern`` in ``match_style``."""
    if pattern is None:
        return [Segment(text, style)]
    segments, last = [], 0
    for match in pattern.finditer(text):
        segments.append(Segment(text[last : match.start()], style))
        segments.append(Segment(match.group(), match_style))
        last = match.end()
    segments.append(Segment(text[last:], style))
    return segments


def highlighted_text(
    text: Text, pattern: re.Pattern[str] | None, base: Style, match_style: Style, console: Console
) -> list[Segment]:
    """Styled ``text`` (a pretty row's columns) with each match of ``pattern`` marked, over ``base``."""
    if pattern is not None:
        for match in pattern.finditer(text.plain):
            text.stylize(match_style, match.start(), match.end())
    return [Segment(segment.text, base + segment.style if segment.style else base) for segment in text.render(console)]

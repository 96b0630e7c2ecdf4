"""Log lines laid out for 80 columns: short pod prefixes with a legend and a colour per pod (as stern colours its
prefixes), the level as a symbol and a word (readable with ``NO_COLOR``), the remaining fields folded as dimmed
``k=v``, and the ``--output json`` line.

Everything here returns plain data: :class:`Span` pieces with style names, which the widgets and the commands
each map to their own colours (theme variables, or the terminal's palette), so both render the same words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from ..safe_text import clean
from .log_lines import Level, ParsedLine

# Style names (the renderers map them; a terminal without colour still shows the symbol and the word).
STYLE_TIME = "log.time"
STYLE_MESSAGE = "log.message"
STYLE_FIELD_KEY = "log.field.key"
STYLE_FIELD_VALUE = "log.field.value"
STYLE_MORE = "log.more"
STYLE_LEGEND = "log.legend"
LEVEL_STYLES = {level: f"log.level.{level.word}" for level in Level}

# One cell each in every terminal font we know of (no emoji presentation); the word says the level anyway.
LEVEL_SYMBOLS = {
    Level.FATAL: "■",
    Level.ERROR: "✖",
    Level.WARN: "▲",
    Level.INFO: "●",
    Level.DEBUG: "·",
    Level.TRACE: "·",
}
LEVEL_WORDS = {level: level.name for level in Level}  # FATAL ERROR WARN INFO DEBUG TRACE
# Fields loggers add to every line; shown after the line's own fields when columns are short.
BACKGROUND_FIELDS = frozenset(
    {
        "caller",
        "logger",
        "logger_name",
        "loggerName",
        "name",
        "pid",
        "hostname",
        "v",
        "ecs.version",
        "@version",
        "thread",
        "thread_name",
        "threadName",
        "level_value",
        "endOfBatch",
        "source",
        "file",
        "line",
        "func",
        "stacktrace",
        "logging.googleapis.com/sourceLocation",
    }
)
_WORD_WIDTH = max(len(word) for word in LEVEL_WORDS.values())

# Kubernetes' generated names use this alphabet (k8s.io/apimachinery/pkg/util/rand, SafeEncodeString): the random
# 5-character pod suffix, and the pod-template hash of a ReplicaSet (or a DaemonSet's controller revision).
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX = re.compile(rf"[{_SAFE}]{{5}}")
_HASH = re.compile(rf"[{_SAFE}]{{6,10}}")


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a line and what it is (a style name; ``""`` for none)."""

    text: str
    style: str = ""


def _workload_and_suffix(pod: str) -> tuple[str, str]:
    """``checkout-web-7d4b9c6f5-x2kqp`` -> (``checkout-web``, ``x2kqp``); ``db-0`` -> (``db``, ``0``)."""
    parts = pod.split("-")
    if len(parts) >= 3 and _SUFFIX.fullmatch(parts[-1]) and _HASH.fullmatch(parts[-2]):
        return "-".join(parts[:-2]), parts[-1]  # Deployment (ReplicaSet) pod
    if len(parts) >= 2 and (_SUFFIX.fullmatch(parts[-1]) or parts[-1].isdigit()):
        return "-".join(parts[:-1]), parts[-1]  # DaemonSet or Job pod, StatefulSet ordinal
    return pod, ""


def _common_prefix(names: list[list[str]]) -> int:
    """How many leading ``-`` segments all names share."""
    count = 0
    for segments in zip(*names, strict=False):
        if len(set(segments)) != 1:
            break
        count += 1
    return count


def pod_prefixes(pod_names: Iterable[str]) -> dict[str, str]:
    """The shortest prefix that still tells each pod apart, for every pod.

    Pods of one workload keep their random suffix only (``checkout-web-7d4b9c6f5-x2kqp`` -> ``x2kqp``); pods of
    several workloads keep what differs in the workload's name (``web-x2kqp``, ``worker-k8s2p``); a StatefulSet
    pod keeps its name (``db-0``: an ordinal alone says too little). A name that no rule shortens is kept whole,
    and so is any name whose short form would collide with another's.

    Args:
        pod_names: The pods being tailed (duplicates are ignored).

    Returns:
        pod name -> short prefix.
    """
    pods = list(dict.fromkeys(pod_names))
    split = {pod: _workload_and_suffix(pod) for pod in pods}
    workloads = sorted({workload for workload, suffix in split.values() if suffix})
    shared = _common_prefix([w.split("-") for w in workloads]) if len(workloads) > 1 else 0
    short: dict[str, str] = {}
    for pod in pods:
        workload, suffix = split[pod]
        if not suffix:
            short[pod] = pod
        elif suffix.isdigit():
            short[pod] = pod if len(workloads) <= 1 else "-".join(workload.split("-")[shared:] + [suffix])
        elif len(workloads) <= 1:
            short[pod] = suffix
        else:
            distinct = "-".join(workload.split("-")[shared:]) or workload
            short[pod] = f"{distinct}-{suffix}"
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    return {pod: value if counts[value] == 1 else pod for pod, value in short.items()}


def legend(prefixes: Mapping[str, str], width: int = 80) -> list[str]:
    """Lines saying which pod each short prefix stands for, ``x2kqp=checkout-web-7d4b9c6f5-x2kqp``, wrapped at
    ``width``; nothing when no prefix was shortened."""
    entries = [f"{short}={pod}" for pod, short in sorted(prefixes.items(), key=lambda item: item[1]) if short != pod]
    lines: list[str] = []
    current = ""
    for entry in entries:
        if current and len(current) + 2 + len(entry) > width:
            lines.append(current)
            current = entry
        else:
            current = f"{current}  {entry}" if current else entry
    if current:
        lines.append(current)
    return lines


def source_label(short: str, pod: str, container: str) -> str:
    """What a line's prefix says of its source: the pod's short prefix, and ``/container`` unless the pod is named
    after its container (the usual case, where the pod's name says both) or no container is given.

    ``source_label("x2kqp", "checkout-web-7d4b9c6f5-x2kqp", "istio-proxy")`` is ``x2kqp/istio-proxy``.
    """
    return short if not container or pod.startswith(container) else f"{short}/{container}"


def colour_index(pod: str, palette_size: int) -> int:
    """A pod's colour, the same in every run and every view (an FNV-1a hash of its name)."""
    value = 0x811C9DC5
    for byte in pod.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % palette_size


def assign_colours(
    pod_names: Iterable[str], palette_size: int, existing: Mapping[str, int] | None = None
) -> dict[str, int]:
    """A colour per pod, distinct while the palette lasts: each pod starts at its :func:`colour_index` and moves to
    the next free colour on a clash. Pods in ``existing`` keep theirs (a pod joining mid-tail changes no colour)."""
    colours = dict(existing or {})
    taken = set(colours.values())
    for pod in sorted(set(pod_names) - set(colours)):
        start = colour_index(pod, palette_size)
        free = next(
            (
                (start + step) % palette_size
                for step in range(palette_size)
                if (start + step) % palette_size not in taken
            ),
            start,
        )
        colours[pod] = free
        taken.add(free)
    return colours


def _value_text(value: object) -> str:
    if isinstance(value, str):
        if value == "" or any(ch in value for ch in ' ="\t\n'):
            return json.dumps(value, ensure_ascii=False)
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def level_spans(level: Level | None) -> list[Span]:
    """The level as symbol and word, padded to one width: ``✖ ERROR``, ``▲ WARN ``; blank without a level."""
    if level is None:
        return [Span(" " * (2 + _WORD_WIDTH))]
    return [Span(f"{LEVEL_SYMBOLS[level]} {LEVEL_WORDS[level]:<{_WORD_WIDTH}}", LEVEL_STYLES[level])]


def format_pretty(
    parsed: ParsedLine,
    width: int | None = None,
    *,
    show_time: bool = True,
    show_fields: bool = True,
) -> list[Span]:
    """One log line for a person: ``10:42:07.120 ✖ ERROR payment declined  order=A-1031 amount=42.5``.

    The time (UTC, to the millisecond) and the level come first at fixed widths, then the message whole, then the
    fields dimmed as ``k=v``. When ``width`` columns cannot hold them all, fields are left out from the end and
    ``+N`` says how many (the raw view has them). Text from the line is cleaned of escape sequences and control
    characters; a plain line with no level is its text alone.
    """
    spans: list[Span] = []
    # A plain line with neither time nor level (a stack frame, a banner) is its text alone, as it was written.
    columns = parsed.format != "plain" or parsed.level is not None or parsed.time is not None
    if show_time and columns:
        if parsed.time is not None:
            utc = parsed.time.astimezone(UTC)
            spans.append(Span(f"{utc:%H:%M:%S}.{utc.microsecond // 1000:03d}", STYLE_TIME))
        else:
            spans.append(Span(" " * 12))
        spans.append(Span(" "))
    if columns:
        spans += [*level_spans(parsed.level), Span(" ")]
    message = clean(parsed.message, one_line=True)
    if message:
        spans.append(Span(message, STYLE_MESSAGE))
    if not show_fields or not (parsed.fields or parsed.dropped_fields):
        return spans
    used = sum(len(span.text) for span in spans)
    # What the logger adds to every line (caller, pid, hostname...) goes after what this line is about.
    ordered = sorted(parsed.fields, key=lambda item: item[0] in BACKGROUND_FIELDS)
    pieces = [(clean(key, one_line=True), clean(_value_text(value), one_line=True)) for key, value in ordered]
    shown = len(pieces)
    if width is not None:
        total = used
        for index, (key, value) in enumerate(pieces):
            remaining = len(pieces) - index - 1 + parsed.dropped_fields
            piece = (2 if index == 0 else 1) + len(key) + 1 + len(value)
            if total + piece + (len(f"  +{remaining}") if remaining else 0) > width:
                shown = index
                break
            total += piece
    for index, (key, value) in enumerate(pieces[:shown]):
        spans += [Span("  " if index == 0 else " "), Span(f"{key}=", STYLE_FIELD_KEY), Span(value, STYLE_FIELD_VALUE)]
    hidden = len(pieces) - shown + parsed.dropped_fields
    if hidden:
        spans.append(Span(f"  +{hidden}", STYLE_MORE))
    return spans


def plain_text(spans: Iterable[Span]) -> str:
    """The spans' text joined: what a ``NO_COLOR`` terminal prints, and what the log view searches."""
    return "".join(span.text for span in spans)


def to_json_line(parsed: ParsedLine, *, pod: str, container: str, cluster: str) -> str:
    """The ``logs --output json`` line: ``pod``, ``container``, ``cluster``, ``time`` (ISO 8601, or as written when
    it could not be read), ``level`` (``warn``... or null), ``message``, ``fields`` (an object; a repeated key keeps
    its last value) and ``format``. Strings are JSON-escaped, so a line's escape sequences cannot reach a terminal."""
    time = parsed.time.isoformat().replace("+00:00", "Z") if parsed.time else parsed.time_text
    record = {
        "pod": pod,
        "container": container,
        "cluster": cluster,
        "time": time,
        "level": parsed.level.word if parsed.level is not None else None,
        "message": parsed.message,
        "fields": parsed.field_dict,
        "format": parsed.format,
    }
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=str)

"""Log lines read into time, level, message and fields: JSON (zap, zerolog, logrus, slog, pino, bunyan, ECS,
winston, structlog, logstash, GCP, Serilog), logfmt, and plain text (klog headers and leading level words).

:func:`parse_line` never raises and does bounded work: a line longer than :data:`MAX_STRUCTURED` characters is
not decoded (it is shown as it is), at most :data:`MAX_FIELDS` fields are kept and nested objects are flattened
to :data:`MAX_DEPTH` levels (``http.status``). Levels are normalised to :class:`Level`, so ``≥ warn`` filters
lines from every logger alike. A leading Kubernetes timestamp (``kubectl logs --timestamps``) is taken off and
used when the line has no time of its own.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Literal

MAX_STRUCTURED = 64 * 1024
MAX_FIELDS = 64
MAX_DEPTH = 4
MAX_VALUE = 2048  # a field value longer than this is cut (the raw line keeps it whole)


class Level(IntEnum):
    """The ordered levels every logger's own names map to."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    FATAL = 5

    @property
    def word(self) -> str:
        """The lowercase name used in JSON output and filters: ``warn``."""
        return self.name.lower()


# Names loggers use, lowercased. dpanic (zap) is logged as an error in production; notice (syslog) is info.
_LEVEL_NAMES = {
    "trace": Level.TRACE,
    "trc": Level.TRACE,
    "verbose": Level.TRACE,
    "vrb": Level.TRACE,
    "finest": Level.TRACE,
    "finer": Level.TRACE,
    "all": Level.TRACE,
    "debug": Level.DEBUG,
    "dbg": Level.DEBUG,
    "dbug": Level.DEBUG,
    "fine": Level.DEBUG,
    "config": Level.DEBUG,
    "d": Level.DEBUG,
    "info": Level.INFO,
    "inf": Level.INFO,
    "information": Level.INFO,
    "informational": Level.INFO,
    "notice": Level.INFO,
    "i": Level.INFO,
    "default": Level.INFO,
    "warn": Level.WARN,
    "warning": Level.WARN,
    "wrn": Level.WARN,
    "w": Level.WARN,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "eror": Level.ERROR,
    "erro": Level.ERROR,
    "severe": Level.ERROR,
    "dpanic": Level.ERROR,
    "e": Level.ERROR,
    "fatal": Level.FATAL,
    "ftl": Level.FATAL,
    "fata": Level.FATAL,
    "critical": Level.FATAL,
    "crit": Level.FATAL,
    "crt": Level.FATAL,
    "panic": Level.FATAL,
    "alert": Level.FATAL,
    "emerg": Level.FATAL,
    "emergency": Level.FATAL,
    "f": Level.FATAL,
}
# Syslog severities 0-7 (GELF, journald's PRIORITY).
_SYSLOG = {
    0: Level.FATAL,
    1: Level.FATAL,
    2: Level.FATAL,
    3: Level.ERROR,
    4: Level.WARN,
    5: Level.INFO,
    6: Level.INFO,
    7: Level.DEBUG,
}


def level_of(value: Any) -> Level | None:
    """A logger's level (a name, a pino/bunyan number 10-60, a syslog severity 0-7) as a :class:`Level`.

    Returns None for anything unrecognisable (``true``, an object, ``"loud"``).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        number = int(value)
        if 0 <= number <= 7 and number == value:
            return _SYSLOG[number]
        if 10 <= number < 70:  # pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
            return Level(number // 10 - 1)
        return None
    if isinstance(value, str) and len(value) <= 16:
        word = value.strip().lower()
        if word.isdigit():
            return level_of(int(word))
        return _LEVEL_NAMES.get(word)
    return None


def parse_level(text: str) -> Level:
    """A level given by a person (``warn``, ``W``, ``error``, ``≥warn``) for a filter.

    Raises:
        ValueError: Not a level name.
    """
    level = level_of(text.strip().lstrip("≥>= "))
    if level is None:
        raise ValueError(f"unknown level {text!r}: use trace, debug, info, warn, error or fatal")
    return level


Format = Literal["json", "logfmt", "plain"]
FieldValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """A log line read: ``fields`` are the pairs left after time, level and message, in the line's order.

    ``raw`` is the line as it came (the raw toggle shows it); ``time_text`` the time as written.
    """

    raw: str
    format: Format
    message: str
    level: Level | None = None
    time: datetime | None = None
    time_text: str | None = None
    fields: tuple[tuple[str, FieldValue], ...] = ()
    dropped_fields: int = 0

    @property
    def field_dict(self) -> dict[str, FieldValue]:
        """The fields as a mapping (the last of a repeated key wins)."""
        return dict(self.fields)


_TIME_KEYS = (
    "time",
    "ts",
    "timestamp",
    "@timestamp",
    "@t",
    "t",
    "datetime",
    "date",
    "asctime",
    "eventTime",
    "timeMillis",
    "instant",
    "logtime",
)
_LEVEL_KEYS = (
    "level",
    "lvl",
    "severity",
    "log.level",
    "@l",
    "levelname",
    "loglevel",
    "log_level",
    "Level",
    "level_name",
    "levelName",
)
_MESSAGE_KEYS = ("msg", "message", "@m", "event", "@mt", "textPayload", "Message", "log", "text")

_KUBE_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
_ISO_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_KLOG = re.compile(r"([IWEF])(\d{4}) (\d\d:\d\d:\d\d\.\d+) +\d+ [^\]\s]+\] ?")
_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL|PANIC"
# Up to two tokens (a date and a time) then a level: an uppercase word (``ERROR``, ``ERROR:root:``) or any case in
# brackets (``[warn]``). A lowercase word in prose ("no error found") is not a level.
_LEADING_LEVEL = re.compile(rf"(?:\S+\s+){{0,2}}?(?:\[(?i:({_WORDS}))\]|({_WORDS})(?=:|\s|$))")


def parse_time(value: Any) -> datetime | None:
    """A log time: ISO 8601 / RFC 3339 (nanoseconds cut to microseconds, ``Z``), or epoch seconds,
    milliseconds, microseconds or nanoseconds (told apart by size), or Log4j2's ``instant`` object."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Mapping) and "epochSecond" in value:  # log4j2 JsonLayout
        seconds, nanos = value.get("epochSecond"), value.get("nanoOfSecond", 0)
        return parse_time(seconds + (nanos or 0) / 1e9) if isinstance(seconds, (int, float)) else None
    if isinstance(value, (int, float)):
        number = float(value)
        for scale in (1, 1e3, 1e6, 1e9):
            if abs(number / scale) < 1e11:  # seconds until the year 5138
                try:
                    return datetime.fromtimestamp(number / scale, UTC)
                except (OverflowError, OSError, ValueError):
                    return None
        return None
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        return None
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return parse_time(float(text))
    text = _ISO_FRACTION.sub(lambda m: m.group(1), text.replace(",", ".", 1), count=1)
    try:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # Shown in UTC: an offset that carries the moment past year 9999 or before year 1 cannot be, so it is no
        # time (``9999-12-31T23:59:59-05:00``). The offset as written is kept for the JSON output.
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment


def _flatten(value: Any, prefix: str, out: list[tuple[str, FieldValue]], depth: int) -> None:
    if isinstance(value, Mapping) and value and depth < MAX_DEPTH:
        for key, inner in value.items():
            if len(out) > MAX_FIELDS:
                return
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
        return
    out.append((prefix, _scalar(value)))


def _scalar(value: Any) -> FieldValue:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # inf, nan: JSON has no such number, so the text (``--output json`` stays valid JSON)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if not isinstance(value, str):
        try:
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        except (ValueError, RecursionError):  # pragma: no cover - json.loads output always dumps
            value = str(value)
    return value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"


def _take(record: dict[str, Any], keys: tuple[str, ...], accept: Callable[[Any], Any]) -> tuple[Any, Any]:
    for key in keys:
        if key in record:
            parsed = accept(record[key])
            if parsed is not None:
                return record.pop(key), parsed
    return None, None


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, Mapping, list)):
        return None
    return str(value)


def _from_record(raw: str, record: dict[str, Any], fmt: Format) -> ParsedLine:
    time_value, time = _take(record, _TIME_KEYS, parse_time)
    _, level = _take(record, _LEVEL_KEYS, level_of)
    if level is None and isinstance(record.get("log"), Mapping) and "level" in record["log"]:  # ECS, nested
        level = level_of(record["log"]["level"])
        if level is not None:
            record["log"] = {k: v for k, v in record["log"].items() if k != "level"}
            if not record["log"]:
                del record["log"]
    if level is None and fmt == "json" and ("@m" in record or "@mt" in record):
        level = Level.INFO  # Serilog's compact format omits @l for Information
    _, message = _take(record, _MESSAGE_KEYS, _text_of)
    fields: list[tuple[str, FieldValue]] = []
    dropped = 0
    for index, (key, value) in enumerate(record.items()):
        if len(fields) >= MAX_FIELDS:
            dropped = len(record) - index
            break
        _flatten(value, str(key), fields, 1)
    dropped += max(0, len(fields) - MAX_FIELDS)
    return ParsedLine(
        raw=raw,
        format=fmt,
        message=message or "",
        level=level,
        time=time,
        time_text=str(time_value) if time_value is not None else None,
        fields=tuple(fields[:MAX_FIELDS]),
        dropped_fields=dropped,
    )


_LOGFMT_PAIR = re.compile(r'\s*([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?(?=\s|$)')
_LOGFMT_HINT = {"level", "lvl", "msg", "message", "time", "ts", "t", "severity", "caller", "err", "error"}


def parse_logfmt(text: str) -> dict[str, Any] | None:
    """``key=value key="quoted \\"value\\"" bare`` as a dict, or None when the text is not logfmt.

    A line is taken as logfmt only when every token is a ``key=value`` pair (a bare ``key`` counts as ``true``
    only after the first pair) and a usual key (level, msg, time, ts...) is among them, so prose with an ``=``
    in it stays plain.
    """
    record: dict[str, Any] = {}
    position, seen_hint = 0, False
    while position < len(text):
        if text[position:].isspace():
            break
        found = _LOGFMT_PAIR.match(text, position)
        if found is None:
            return None
        key, value = found.group(1), found.group(2)
        if value is None:
            if not record:
                return None
            record[key] = True
        elif value.startswith('"'):
            try:
                record[key] = json.loads(value)
            except ValueError:
                record[key] = value[1:-1]
        else:
            record[key] = value
        seen_hint = seen_hint or key.lower() in _LOGFMT_HINT
        position = found.end()
        if len(record) > MAX_FIELDS + 8:
            break
    return record if seen_hint and len(record) >= 2 else None


def _number(text: str) -> float | str:
    """A JSON number; one too big for a float (``1e999``) stays as written, as NaN and Infinity stay words."""
    value = float(text)
    return value if math.isfinite(value) else text


_DECODER = json.JSONDecoder(parse_constant=str, parse_float=_number)
_JSON_LEVEL = re.compile(r'"(?:level|lvl|severity|log\.level|levelname|@l)"\s*:\s*"?([A-Za-z]{1,12}|\d{1,2})\b')


def _plain(raw: str, body: str, time: datetime | None, time_text: str | None) -> ParsedLine:
    level = None
    message = body
    head = body[:160]
    klog = _KLOG.match(head)
    if body.lstrip().startswith("{"):
        # JSON too long to decode, or broken: its level is still worth filtering on (looked for near the start only).
        hint = _JSON_LEVEL.search(body, 0, 4096)
        level = level_of(hint.group(1)) if hint else None
    elif klog:
        level = {"I": Level.INFO, "W": Level.WARN, "E": Level.ERROR, "F": Level.FATAL}[klog.group(1)]
        message = body[klog.end() :]
    else:
        leading = _LEADING_LEVEL.match(head)
        if leading:
            level = level_of(leading.group(1) or leading.group(2))
            before = head[: leading.start(1) if leading.group(1) else leading.start(2)].rstrip("[ \t")
            stamp = parse_time(before.strip("[]")) if before else None
            if not before or stamp is not None:
                # "ERROR: x", "[warn] x", "2024-06-12 10:00:00,123 ERROR x": the level (and time) become columns.
                message = body[leading.end() :].lstrip(":] ").lstrip() if leading.end() < len(body) else ""
                if stamp is not None and time is None:
                    time, time_text = stamp, before.strip("[]")
    return ParsedLine(raw, "plain", message, level, time, time_text)


def parse_line(text: str) -> ParsedLine:
    """Read one log line (without its newline).

    Args:
        text: The line, possibly starting with the timestamp ``kubectl logs --timestamps`` adds.

    Returns:
        The line read as JSON (an object), logfmt, or plain text; never raises.
    """
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - a log line must never break the view; show it as it came
        return ParsedLine(text, "plain", text)


def _parse(text: str) -> ParsedLine:
    body, kube_time, kube_text = text, None, None
    stamp = _KUBE_TIMESTAMP.match(text)
    if stamp:
        kube_time, kube_text = parse_time(stamp.group(1)), stamp.group(1)
        body = text[stamp.end() :]
    if len(body) > MAX_STRUCTURED:
        return _plain(text, body, kube_time, kube_text)
    stripped = body.strip()
    parsed: ParsedLine | None = None
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            record = _DECODER.decode(stripped)
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, dict):
            parsed = _from_record(text, record, "json")
    elif "=" in stripped:
        record = parse_logfmt(stripped)
        if record is not None:
            parsed = _from_record(text, record, "logfmt")
    if parsed is None:
        return _plain(text, body, kube_time, kube_text)
    if parsed.time is None and kube_time is not None:
        return ParsedLine(
            parsed.raw,
            parsed.format,
            parsed.message,
            parsed.level,
            kube_time,
            kube_text,
            parsed.fields,
            parsed.dropped_fields,
        )
    return parsed


_CONTINUATION = re.compile(
    r"\s|at |Caused by|Traceback|\.\.\. \d+ more|[A-Za-z_.]+(?:Error|Exception)\b|goroutine \d+|\}|\]"
)


class LevelFilter:
    """``≥ level`` over a stream of lines from several sources: an unlevelled plain line right after a kept line of
    the same source (an indented stack frame, ``Traceback``, ``Caused by``) is kept with it, so an error keeps its
    stack trace; other unlevelled lines are left out."""

    def __init__(self, minimum: Level | str) -> None:
        self.minimum = parse_level(minimum) if isinstance(minimum, str) else minimum
        self._keeping: dict[Any, bool] = {}

    def keep(self, line: ParsedLine, source: Any = None) -> bool:
        """Whether to show ``line``, which came from ``source`` (e.g. ``(pod, container)``)."""
        return self.keep_level(line.level, continues(line), source)

    def keep_level(self, level: Level | None, continuation: bool, source: Any = None) -> bool:
        """:meth:`keep` for a line already read down to its level and :func:`continues` (a view caches those two
        per buffered line, so changing the floor reads no line again)."""
        if level is not None:
            kept = level >= self.minimum
            self._keeping[source] = kept
            return kept
        if continuation and self._keeping.get(source):
            return True
        self._keeping[source] = False
        return False


def continues(line: ParsedLine) -> bool:
    """Whether an unlevelled line reads like part of the entry above it (an indented stack frame, ``Traceback``,
    ``Caused by``): :class:`LevelFilter` keeps it when it keeps that entry."""
    return line.level is None and line.format == "plain" and _CONTINUATION.match(line.message) is not None

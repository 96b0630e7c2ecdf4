"""Server-sent events (the WHATWG ``text/event-stream`` format), parsed from lines of text.

Backstage's scaffolder streams a task's events this way (``event: log`` / ``data: {...}`` frames). The parser
follows the HTML standard's "interpreting an event stream" rules, so any compliant server works, not only the
frames Backstage happens to send: comments, ``id`` persistence, multi-line ``data`` and the three line endings.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..bounded_read import size_words

# One trailing line terminator, and the terminators inside a chunk that holds several lines.
_TRAILING_EOL = re.compile(r"(\r\n|\r|\n)\Z")
_EOL = re.compile(r"\r\n|\r|\n")


class SseLimitError(ValueError):
    """A stream past one of :func:`bounded_lines`' caps; ``str()`` completes "Backstage sent …"."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event.

    Attributes:
        event: the event type (``message`` when the server named none).
        data: the ``data`` lines joined with ``\\n``.
        id: the last event id seen on the stream so far (it persists across events, as in browsers).
        retry: the reconnection delay in milliseconds the server last asked for, if any.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


def _split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Single lines without terminators, whether each chunk is one line (with or without its EOL) or several."""
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix("\ufeff")  # a leading byte-order mark is not part of the first field
            first = False
        body = _TRAILING_EOL.sub("", chunk, count=1)
        yield from _EOL.split(body)


def _field(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon:
        return line, ""  # a line with no colon is a field name with an empty value
    return name, value.removeprefix(" ")  # only one leading space belongs to the syntax


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """The events in a stream of lines (``httpx.Response.iter_lines()`` or a recorded file's lines).

    An event is dispatched at a blank line; one left unfinished when the stream ends is dropped, as the standard
    says, because a cut-off ``data`` line cannot be told apart from a complete one.
    """
    event_type = ""
    data: list[str] = []
    last_id: str | None = None
    retry: int | None = None
    for line in _split_lines(lines):
        if not line:
            if data:
                yield SseEvent(event_type or "message", "\n".join(data), last_id, retry)
            event_type, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment (servers send these as keep-alives)
        name, value = _field(line)
        if name == "event":
            event_type = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            if "\0" not in value:  # the standard ignores ids containing NULL
                last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
        # Any other field name is ignored.


def bounded_lines(chunks: Iterable[bytes], *, max_line: int, max_event: int, max_total: int) -> Iterator[str]:
    """The lines of a byte stream (UTF-8, any of the three line endings), holding at most ``max_line`` characters
    of an unfinished line, ``max_event`` of one event (lines up to a blank one) and ``max_total`` in all.

    Raises:
        SseLimitError: a cap was passed; a server that never ends a line must not fill the memory.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending, event, total = "", 0, 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_total:
            raise SseLimitError(f"more than {size_words(max_total)} on one event stream")
        text = pending + decoder.decode(chunk)
        # A trailing CR may be the first half of CRLF: keep it until the next chunk says.
        held = "\r" if text.endswith("\r") else ""
        lines = _EOL.split(text[:-1] if held else text)
        pending = lines.pop() + held
        if len(pending) > max_line:
            raise SseLimitError(f"an event-stream line longer than {size_words(max_line)}")
        for line in lines:
            if len(line) > max_line:
                raise SseLimitError(f"an event-stream line longer than {size_words(max_line)}")
            event = 0 if not line else event + len(line)
            if event > max_event:
                raise SseLimitError(f"an event longer than {size_words(max_event)}")
            yield line
    tail = pending + decoder.decode(b"", final=True)
    if tail.rstrip("\r"):
        yield tail.rstrip("\r")

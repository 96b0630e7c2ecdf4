"""Budgets for every HTTP answer idp-tui reads: a total deadline, a size cap that holds after decompression,
bounded JSON, and Retry-After waits that are capped.

httpx's timeouts are per socket operation: a server that sends one byte (or one header line) every few seconds,
an endless chunked body or a gzip bomb never trips them. The Backstage, PagerDuty and Opsgenie clients therefore
read every answer through this module:

- a deadline per request, for headers and body together, enforced by a network backend installed into httpx's
  connection pool: each socket read, write and connect waits at most the time left (see :func:`install_deadlines`);
- the body read as a stream and decoded here with a bounded inflater, counting decoded bytes, stopping at a cap;
- JSON checked for nesting depth and number of values before it is parsed, so neither a RecursionError nor
  a million tiny objects can come out of a page;
- Retry-After honoured only while the waits stay small, each wait said through the client's notice hook.

httpx and httpcore are imported on first use: this module is on the start-up path.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .bounded_read import MIB, size_words
from .strict_json import JSONTooDeep, loads_strict

if TYPE_CHECKING:
    import httpx

# Headers and body of one request, together; the per-read timeouts (10 s Backstage, 5 s on-call) stay as they are.
REQUEST_DEADLINE = 30.0
DEADLINE_ENV = "IDP_TUI_HTTP_DEADLINE"  # seconds; for slow links (and for tests, which use a few seconds)
# Decoded bytes of one answer. A by-query page of the 50,000-entity benchmark catalog is 0.5-5 MiB (1,000 entities,
# projected); 64 MiB leaves room for pages of big entities. Other Backstage answers and on-call pages are smaller.
MAX_CATALOG_PAGE_BYTES = 64 * MIB
MAX_BACKSTAGE_BYTES = 32 * MIB
MAX_ONCALL_BYTES = 8 * MIB
# Descriptors are a handful of levels deep; 64 leaves room for JSON schemas and none for a RecursionError.
MAX_JSON_DEPTH = 64
# Values (scalars and containers) in one answer: 1,000 full entities are ~300,000. Bounds the memory json builds.
MAX_JSON_VALUES = 2_000_000
# Retry-After: waits the server asks for are honoured up to these; a longer ask fails at once with "retry in N s"
# (waiting less than the server asked would only earn another 429).
MAX_RETRY_WAIT = 10.0
MAX_TOTAL_RETRY_WAIT = 20.0
NOTICE_FROM = 1.0  # shorter back-offs are not worth a notice
# Decoded output per step of the inflater: a gzip bomb never holds more than this at a time per coding.
_INFLATE_STEP = 256 * 1024
_MAX_CODINGS = 3

Notice = Callable[[str], None]


def request_deadline() -> float:
    """The total deadline per request: ``$IDP_TUI_HTTP_DEADLINE`` seconds when set to a positive number, else 30."""
    try:
        seconds = float(os.environ.get(DEADLINE_ENV, ""))
    except ValueError:
        return REQUEST_DEADLINE
    return seconds if seconds > 0 and math.isfinite(seconds) else REQUEST_DEADLINE


def seconds_words(seconds: float) -> str:
    """``30 s``, ``2.5 s``: whole seconds unless the budget is a fraction."""
    return f"{seconds:g} s" if seconds < 10 else f"{math.ceil(seconds)} s"


class BodyError(Exception):
    """An answer idp-tui will not read; ``str()`` completes "<backend> sent …" (``an answer larger than 64 MiB``).

    Attributes:
        kind: ``too-large``, ``encoding``, ``not-json``, ``too-deep`` or ``too-many-values``.
    """

    def __init__(self, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind


# -- the deadline ------------------------------------------------------------------------------------------------------
class Deadline:
    """A point in time a request must be done by; :meth:`restart` moves it (an event stream's idle budget)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return self.at - self._clock()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def restart(self) -> None:
        self.at = self._clock() + self.seconds


# The deadline of the request this thread is sending or reading; the network backend reads it at every socket call.
_ACTIVE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("idp_tui_http_deadline", default=None)


@contextlib.contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Socket calls made inside wait at most until ``deadline`` (when :func:`install_deadlines` was applied)."""
    token = _ACTIVE.set(deadline)
    try:
        yield deadline
    finally:
        _ACTIVE.reset(token)


def _bounded(timeout: float | None, error: str) -> float | None:
    """``timeout`` shortened to the active deadline; the httpcore timeout ``error`` when it has passed."""
    deadline = _ACTIVE.get()
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        import httpcore

        raise getattr(httpcore, error)(f"the {deadline.seconds:g} s deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An httpcore network stream whose every wait ends by the active deadline."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, "ReadTimeout"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, "WriteTimeout"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        timeout = _bounded(timeout, "ConnectTimeout")
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend:
    """httpcore's sync network backend, with connects, reads and writes bounded by the active :class:`Deadline`."""

    def __init__(self, inner: Any = None) -> None:
        if inner is None:
            import httpcore

            inner = httpcore.SyncBackend()
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **options: Any) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, "ConnectTimeout"), **options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, **options: Any) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, "ConnectTimeout"), **options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install_deadlines(client: httpx.Client) -> int:
    """Put a :class:`DeadlineBackend` under every connection pool of ``client`` (proxies from the environment too).

    httpx exposes no setting for the network backend, so the pools' backend attribute is replaced; a transport
    without one (a test's MockTransport) is left alone, and the body reader still checks the deadline between
    reads. Returns how many pools were changed.
    """
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]  # noqa: SLF001
    changed = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = DeadlineBackend(pool._network_backend)  # noqa: SLF001
            changed += 1
    return changed


def send_within(
    client: httpx.Client, request: httpx.Request, deadline: Deadline, *, max_bytes: int
) -> tuple[httpx.Response, bytes]:
    """Send ``request`` and read its whole body by ``deadline``, decoded and at most ``max_bytes``.

    Raises:
        httpx.TimeoutException: a read or the deadline ran out (``deadline.passed`` tells which).
        httpx.HTTPError: the connection failed.
        BodyError: the body is over ``max_bytes`` or in an encoding that cannot be read.
    """
    with deadline_scope(deadline):
        response = client.send(request, stream=True)
        try:
            return response, read_body(response, max_bytes=max_bytes, deadline=deadline)
        finally:
            response.close()


# -- the body ----------------------------------------------------------------------------------------------------------
def read_body(response: httpx.Response, *, max_bytes: int, deadline: Deadline | None = None) -> bytes:
    """The decoded body of a streamed response, refusing to hold more than ``max_bytes`` of it.

    Decompression happens here, in steps of at most 256 KiB, so a small gzip bomb stops at the cap instead of
    inflating in one call.

    Raises:
        BodyError: kind ``too-large`` past the cap, ``encoding`` for a coding idp-tui does not read.
        httpx.TimeoutException: the deadline passed between reads (transports without the network backend).
    """
    body = bytearray()
    for piece in decoded_chunks(response, max_bytes=max_bytes, deadline=deadline):
        body += piece
        if len(body) > max_bytes:
            raise BodyError(f"an answer larger than {size_words(max_bytes)}", kind="too-large")
    return bytes(body)


def decoded_chunks(response: httpx.Response, *, max_bytes: int, deadline: Deadline | None = None) -> Iterator[bytes]:
    """The body's bytes as they arrive, decoded per ``Content-Encoding`` in bounded steps.

    ``max_bytes`` bounds the bytes on the wire (a decoded cap is the caller's, who counts what it keeps).
    """
    if response.is_stream_consumed:
        # An answer made in memory (a test's MockTransport): already whole and decoded, nothing left to bound.
        return iter([response.content])
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > _MAX_CODINGS:
        raise BodyError(f"an answer encoded {len(codings)} times over ({', '.join(codings[:4])}, …)", kind="encoding")
    chunks: Iterable[bytes] = _raw_chunks(response, max_bytes, deadline)
    for coding in reversed(codings):  # the last coding applied is the first to undo
        chunks = _inflate(chunks, coding)
    return iter(chunks)


def _raw_chunks(response: httpx.Response, max_bytes: int, deadline: Deadline | None) -> Iterator[bytes]:
    import httpx

    received = 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > max_bytes:
            raise BodyError(f"an answer larger than {size_words(max_bytes)}", kind="too-large")
        yield chunk
        if deadline is not None and deadline.passed:
            raise httpx.ReadTimeout(f"the {deadline.seconds:g} s deadline passed")


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Undo one ``gzip``/``deflate`` coding, never producing more than 256 KiB per step.

    What follows the end of the compressed stream is ignored, as httpx does.
    """
    if coding in ("gzip", "x-gzip"):
        wbits = zlib.MAX_WBITS | 16
    elif coding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        raise BodyError(f"an answer in an encoding idp-tui does not read ({coding[:40]})", kind="encoding")
    decompressor, first = zlib.decompressobj(wbits), True
    try:
        for data in chunks:
            if first and data and coding == "deflate" and not _zlib_header(data):
                decompressor = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
            first = first and not data
            while data and not decompressor.eof:
                piece = decompressor.decompress(data, _INFLATE_STEP)
                if piece:
                    yield piece
                data = decompressor.unconsumed_tail
                # A full step with no input left may leave output inside zlib: ask again with no new input.
                while not data and len(piece) == _INFLATE_STEP and not decompressor.eof:
                    piece = decompressor.decompress(b"", _INFLATE_STEP)
                    if piece:
                        yield piece
            if decompressor.eof:
                return
    except zlib.error:
        raise BodyError(f"a {coding} body that does not decompress", kind="encoding") from None


def _zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts like a zlib stream (RFC 1950: method 8, header a multiple of 31)."""
    if data[0] & 0x0F != 8 or data[0] >> 4 > 7:
        return False
    return len(data) < 2 or (data[0] << 8 | data[1]) % 31 == 0


# -- JSON --------------------------------------------------------------------------------------------------------------
_STRING = re.compile(rb'"[^"]*"')  # once escaped quotes are gone
_SPLIT_QUOTES = 400_000
_KEEP_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_BRACKETS_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


def check_json_bounds(data: bytes, *, max_depth: int = MAX_JSON_DEPTH, max_values: int = MAX_JSON_VALUES) -> None:
    """Refuse JSON nested deeper than ``max_depth`` or holding more than ``max_values`` values, from its bytes.

    Cheap enough to run on every answer (measured: 4 ms against json.loads' 3.5 ms for 1,000 projected entities),
    and it means neither a RecursionError nor a million tiny objects is ever built. Not-JSON passes: the parser
    says so.

    Raises:
        BodyError: kind ``too-deep`` or ``too-many-values``.
    """
    # Escaped backslashes, then escaped quotes, go: what is left of a string is between two plain quotes.
    data_outside = data.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in data else data
    quotes = data_outside.count(b'"')
    if quotes // 2 > max_values:
        raise BodyError(f"JSON with more than {max_values:,} values", kind="too-many-values")
    # Splitting at quotes is the faster way to drop strings (every other piece is one); past a few hundred
    # thousand pieces their overhead counts, and the regex builds only the result.
    split = quotes <= _SPLIT_QUOTES
    outside = b"".join(data_outside.split(b'"')[::2]) if split else _STRING.sub(b"", data_outside)
    brackets = outside.translate(_BRACKETS_AS_SQUARE, _KEEP_BRACKETS)
    if len(brackets) // 2 + outside.count(b",") > max_values:
        raise BodyError(f"JSON with more than {max_values:,} values", kind="too-many-values")
    for _ in range(max_depth):
        if not brackets:
            break
        brackets = brackets.replace(b"[]", b"")  # each pass takes one level off every innermost container
    if brackets and brackets.count(b"[") == brackets.count(b"]"):
        # Balanced yet still there after max_depth passes: deeper than allowed. (Unbalanced is not JSON at all,
        # which the parser will say.)
        raise BodyError(f"JSON nested deeper than {max_depth} levels", kind="too-deep")


def loads_bounded(data: bytes, *, max_depth: int = MAX_JSON_DEPTH, max_values: int = MAX_JSON_VALUES) -> Any:
    """``json.loads`` of an answer, after :func:`check_json_bounds`.

    Raises:
        BodyError: kind ``not-json``, ``too-deep`` or ``too-many-values``.
    """
    check_json_bounds(data, max_depth=max_depth, max_values=max_values)
    try:
        return loads_strict(data)
    except JSONTooDeep:
        raise BodyError(f"JSON nested deeper than {max_depth} levels", kind="too-deep") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, NaN and 1e400 are ValueErrors
        raise BodyError(f"an answer that is not JSON ({_json_reason(error, data)})", kind="not-json") from None


def _json_reason(error: ValueError, data: bytes) -> str:
    if not isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
        return str(error)  # NaN, Infinity or 1e400: valid to Python's reader only (strict_json says which)
    if not data.strip():
        return "empty"
    if data.lstrip()[:1] == b"<":
        return "HTML or XML"
    # The parser ran out of text: at the very end, or inside a string that never closed.
    if isinstance(error, json.JSONDecodeError) and (
        error.pos >= len(data.rstrip()) or error.msg.startswith("Unterminated string")
    ):
        return "cut off"
    return "malformed"


# -- Retry-After -------------------------------------------------------------------------------------------------------
def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # an HTTP-date is rare; the import is not free

        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None or moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - now()
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass
class RetryWaits:
    """The waits of one request: a server's ask is honoured while it is at most ``max_wait`` and all of them
    together stay within ``max_total``; :meth:`allows` says when it is not (the caller then fails with "retry in")."""

    max_wait: float = MAX_RETRY_WAIT
    max_total: float = MAX_TOTAL_RETRY_WAIT
    waited: float = 0.0

    def allows(self, seconds: float) -> bool:
        return seconds <= self.max_wait and self.waited + seconds <= self.max_total

    def wait(
        self, seconds: float, notice: Notice | None, words: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        """Sleep ``seconds``, first saying ``"<words>: waiting N s before retrying"`` when it is long enough."""
        if notice is not None and seconds >= NOTICE_FROM:
            notice(f"{words}: waiting {seconds_words(seconds)} before retrying")
        self.waited += seconds
        sleep(seconds)

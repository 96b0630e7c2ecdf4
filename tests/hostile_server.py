"""A raw-socket HTTP server on 127.0.0.1 that answers the way a hostile or broken backend does.

``http.server`` always writes a whole status line and headers at once and cannot send one header line every two
seconds, an endless chunked body or a body that lies about its encoding. Here each connection's answer is written
by a test's function, byte by byte if it wants, on a plain socket. One request per connection (``Connection:
close``), which every HTTP client handles.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


class Wire:
    """The answering side of one connection; every write stops quietly once the client hung up or the server
    stops (the handler then returns)."""

    def __init__(self, conn: socket.socket, stopping: threading.Event) -> None:
        self.conn = conn
        self.stopping = stopping
        self.closed = False

    def send(self, data: bytes) -> bool:
        """Write ``data``; False once the client is gone."""
        if self.closed or self.stopping.is_set():
            return False
        try:
            self.conn.sendall(data)
        except OSError:
            self.closed = True
        return not self.closed

    def trickle(self, data: bytes, *, every: float, size: int = 1) -> bool:
        """Write ``data`` ``size`` bytes at a time, one piece every ``every`` seconds."""
        for start in range(0, len(data), size):
            if not self.send(data[start : start + size]) or self.stopping.wait(every):
                return False
        return True

    def head(self, status: int = 200, headers: Iterable[tuple[str, str]] = (), reason: str = "OK") -> bool:
        lines = [f"HTTP/1.1 {status} {reason}", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def answer(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = (), reason: str = "OK") -> bool:
        """A complete answer with a Content-Length."""
        return self.head(status, [*headers, ("Content-Length", str(len(body)))], reason) and self.send(body)

    def json(self, value: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> bool:
        return self.answer(status, json.dumps(value).encode(), [("Content-Type", "application/json"), *headers])

    def chunk(self, data: bytes) -> bool:
        """One chunk of a ``Transfer-Encoding: chunked`` body."""
        return self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")


Handler = Callable[[Request, Wire], None]


@dataclass
class HostileServer:
    """Serves ``handler`` for every request; ``requests`` records what arrived. A context manager."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, name="hostile-http", daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            # The client hanging up mid-answer is what a budget is expected to do.
            with contextlib.suppress(OSError):
                self.handler(request, Wire(conn, self._stopping))


def _read_request(conn: socket.socket) -> Request | None:
    conn.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more:
                return None
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        while len(body) < length:
            more = conn.recv(65536)
            if not more:
                break
            body += more
    except (OSError, ValueError):
        return None
    return Request(method, target, headers, body)


# -- answers a hostile backend gives -----------------------------------------------------------------------------------
def endless_chunks(wire: Wire, piece: bytes = b"[" + b"0," * 32767, content_type: str = "application/json") -> None:
    """A chunked body that never ends (until the client hangs up)."""
    wire.head(200, [("Content-Type", content_type), ("Transfer-Encoding", "chunked")])
    while wire.chunk(piece):
        pass


def gzip_bomb(decoded_mib: int = 1024) -> bytes:
    """``decoded_mib`` MiB of zeros (plus a JSON-looking start) gzipped: about 1 MiB per GiB on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(b'{"items": ["')]
    parts += [compressor.compress(block) for _ in range(decoded_mib)]
    return b"".join(parts) + compressor.flush()


def gzipped(value: Any) -> bytes:
    return gzip.compress(json.dumps(value).encode())


def slow_headers(wire: Wire, every: float = 2.0, lines: int = 1000) -> None:
    """A status line, then one header line every ``every`` seconds, never reaching the body."""
    wire.send(b"HTTP/1.1 200 OK\r\n")
    for number in range(lines):
        if not wire.send(f"X-Slow-{number}: a\r\n".encode()) or wire.stopping.wait(every):
            return


def slow_body(wire: Wire, body: bytes, every: float = 2.0) -> None:
    """Headers at once, then the body one byte every ``every`` seconds."""
    wire.head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    wire.trickle(body, every=every)


def deeply_nested(depth: int = 100_000) -> bytes:
    return b'{"items": ' + b"[" * depth + b"]" * depth + b"}"


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()

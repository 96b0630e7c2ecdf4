"""What every local server (the demo cluster, the demo Vault, the tests' fakes) needs from http.server."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How long stop() waits for the threads of connections it has shut down.
STOP_SECONDS = 2.0


class LocalRequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay, and no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the client's delayed ACK
        # hold every small response for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if hasattr(self.connection, "do_handshake"):
            # TLS: the handshake runs here, in this connection's thread, not in the accepting one, where a slow or
            # plain-HTTP client would hold up every other connection.
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(self.timeout)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        """Silence the default stderr access log (it would scribble over the TUI)."""


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a client opens many at once (the TUI opens one per
    # watched kind and cluster); a dropped SYN is retried only after a second. Real servers use the system's limit.
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # socketserver forgets daemon threads, and a keep-alive connection's thread waits for the client's next
        # request for as long as the client keeps it: both are kept here, so stop() can end them and wait.
        self.connections: dict[threading.Thread, Any] = {}
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve, args=(request, client_address), daemon=True)
        with self.connections_lock:
            self.connections[thread] = request
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(threading.current_thread(), None)

    def end_connections(self, timeout: float) -> bool:
        """Shut every open connection down and wait up to ``timeout`` for their threads; whether all ended."""
        with self.connections_lock:
            connections = dict(self.connections)
        for request in connections.values():
            with contextlib.suppress(OSError):  # the client hung up already
                request.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in connections:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in connections)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (Ctrl-C on `idp-tui logs --follow`, a timed-out read) is normal for a
        # server, not a bug: no traceback on the stderr of the program the demo server runs in.
        if isinstance(sys.exc_info()[1], OSError):  # ConnectionResetError, BrokenPipeError, ssl.SSLError, timeouts
            return
        super().handle_error(request, client_address)


class _QuietServer(_Server):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # tests whose clients break requests on purpose: no traceback on stderr


class LocalServer:
    """An HTTP server on 127.0.0.1 and a free port (bound at once, so ``url`` is known), served from a daemon thread.

    Args:
        handler: the request handler class.
        name: the serving thread's name.
        tls: ``(certificate file, key file)`` to serve HTTPS.
        quiet_errors: drop the traceback http.server prints when a handler fails (a test client that hangs up).
        attributes: set on the server, where handlers read them (``self.server.vault``).
    """

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        name: str = "local-http",
        tls: tuple[str, str] | None = None,
        quiet_errors: bool = False,
        **attributes: Any,
    ) -> None:
        server_class = _QuietServer if quiet_errors else _Server
        self.httpd = server_class(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        for key, value in attributes.items():
            setattr(self.httpd, key, value)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    def start(self) -> str:
        """Start serving; returns :attr:`url`."""
        self._thread.start()
        return self.url

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop serving, end the open connections and wait up to ``timeout`` for every thread of the server.

        In-process servers (the demo cluster, the demo Vault) stop before the program exits: a thread still
        writing to a socket while the interpreter shuts down can abort it.
        """
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.end_connections(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)

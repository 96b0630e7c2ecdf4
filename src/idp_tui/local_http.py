"""What every local demo server (the demo cluster, the demo Vault) needs from http.server's handler."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler
from typing import Any


class LocalRequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay, and no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the client's delayed ACK
        # hold every small response for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        """Silence the default stderr access log (it would scribble over the TUI)."""

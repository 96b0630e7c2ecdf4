"""Run a TUI in a real pseudo-terminal and watch what it writes: first-frame times and bytes per key."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from dataclasses import dataclass, field


@dataclass
class TerminalRun:
    """A program running in a pseudo-terminal of a given size."""

    argv: list[str]
    columns: int = 80
    rows: int = 24
    env: dict[str, str] = field(default_factory=dict)
    pid: int = 0
    fd: int = -1
    started: float = 0.0
    output: bytearray = field(default_factory=bytearray)

    def start(self) -> None:
        environment = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(self.columns),
            "LINES": str(self.rows),
            **self.env,
        }
        environment.pop("NO_COLOR", None)
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become the program
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
            os.execvpe(self.argv[0], self.argv, environment)
        self.pid, self.fd = pid, fd

    def read(self, timeout: float) -> bytes:
        """Whatever the program writes within ``timeout`` seconds (returns early on a pause)."""
        chunk = bytearray()
        deadline = time.perf_counter() + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunk += data
        self.output += chunk
        return bytes(chunk)

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> float:
        """Seconds from start until ``marker`` first appears in the output."""
        deadline = time.perf_counter() + timeout
        while marker not in self.output:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} not seen in {timeout}s")
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    raise TimeoutError(f"program exited before {marker!r}") from None
        return time.perf_counter() - self.started

    def quiet(self, pause: float = 0.3, timeout: float = 10.0) -> int:
        """Read until nothing arrives for ``pause`` seconds; returns the bytes read meanwhile."""
        total = 0
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            data = self.read(pause)
            if not data:
                break
            total += len(data)
        return total

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def stop(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self.fd >= 0:
            os.close(self.fd)
        self.pid, self.fd = 0, -1

    def __enter__(self) -> TerminalRun:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def bytes_per_key(run: TerminalRun, key: bytes, presses: int, pause: float = 0.15) -> list[int]:
    """Bytes written in answer to each of ``presses`` presses of ``key``."""
    run.quiet(0.5)
    counts = []
    for _ in range(presses):
        run.send(key)
        counts.append(run.quiet(pause))
    return counts

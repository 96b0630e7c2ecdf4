"""Running idp-tui on hostile input the way an attacker would meet it: a child process with resource limits.

Every hostile-input test runs the real command in a child with a memory ceiling (RLIMIT_AS), a CPU-time ceiling
(RLIMIT_CPU), a cap on the size of files it may write (RLIMIT_FSIZE) and a wall-clock timeout, so a regression
shows up as a failed test (killed, out of memory, timed out) instead of a hung or swapping suite. The limits are
budgets the program must fit in, not timings: they are generous enough for a loaded 2-core machine.
"""

from __future__ import annotations

import os
import resource
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Generous for Python with textual, kubernetes and jsonschema imported; far below what a bomb would take.
MEMORY_LIMIT_MB = 1536
CPU_LIMIT_S = 60
WALL_LIMIT_S = 90
FILE_SIZE_LIMIT_MB = 64


@dataclass(frozen=True)
class Outcome:
    """What a child run left behind: exit status and everything it printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def assert_no_traceback(self) -> None:
        assert "Traceback (most recent call last)" not in self.output, self.output[-4000:]
        # Killed by a limit (SIGKILL, SIGXCPU, SIGXFSZ) or by MemoryError: the budget was not kept.
        assert self.returncode >= 0, f"killed by signal {-self.returncode}: {self.output[-2000:]}"
        assert "MemoryError" not in self.output, self.output[-2000:]


def _limits(memory_mb: int, cpu_s: int, file_mb: int):
    def apply() -> None:
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
        size = file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def run_idp_tui(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    memory_mb: int = MEMORY_LIMIT_MB,
    cpu_s: int = CPU_LIMIT_S,
    wall_s: int = WALL_LIMIT_S,
    file_mb: int = FILE_SIZE_LIMIT_MB,
    stdin: str | None = None,
) -> Outcome:
    """Run ``idp-tui ARGS`` in a limited child and return what it printed.

    ``env`` is added to the current environment (the test's isolated XDG directories included). A child still
    running at ``wall_s`` is killed and the test fails: an unbounded wait is exactly what these tests look for.
    """
    child_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "idp_tui", *args],
            capture_output=True,
            text=True,
            errors="replace",
            env=child_env,
            cwd=cwd,
            timeout=wall_s,
            input=stdin,
            preexec_fn=_limits(memory_mb, cpu_s, file_mb),  # noqa: PLW1509 - limits must be set in the child
        )
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"idp-tui {' '.join(args)} did not finish within {wall_s}s") from expired
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


@dataclass(frozen=True)
class Canary:
    """A host file outside every allowed root, holding a unique value that must never show up anywhere."""

    path: Path
    value: str

    def assert_absent(self, *texts: str) -> None:
        for text in texts:
            assert self.value not in text, f"the content of {self.path} leaked"

    def assert_absent_under(self, *roots: Path) -> None:
        """No file under ``roots`` holds the canary (nothing was copied out of the host file)."""
        for root in roots:
            for path in Path(root).rglob("*"):
                if path.is_file() and not path.is_symlink():
                    assert self.value.encode() not in path.read_bytes(), f"{path} holds the content of {self.path}"


def make_canary(directory: Path, name: str = "host-secret.txt") -> Canary:
    """Write a canary file in ``directory`` (which must be outside the roots under test)."""
    directory.mkdir(parents=True, exist_ok=True)
    value = f"CANARY-{secrets.token_hex(12)}"
    path = directory / name
    path.write_text(f"{value}\n")
    return Canary(path, value)

"""idp-tui over a real SSH session inside tmux at 80x24: what the screen shows, and bytes sent per keystroke.

    .venv/bin/python tests/benchmarks/ssh_bytes.py      # needs /usr/sbin/sshd, ssh, ssh-keygen and tmux

A throwaway sshd (its own host key, authorized_keys and port on 127.0.0.1) serves one login; tmux runs
``ssh -tt ... idp-tui --read-only`` in an 80x24 pane, and ``tmux pipe-pane`` copies everything the pane
receives into a file, so the byte counts are what crossed the SSH session to the terminal (after decryption).
``tests/test_ssh_session.py`` drives the same session and checks the screen; this script prints the figures.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")


def missing_tools() -> list[str]:
    """What this machine lacks to run the session (empty when it can)."""
    missing = [tool for tool in ("tmux", "ssh", "ssh-keygen") if shutil.which(tool) is None]
    if not SSHD.exists():
        missing.append(str(SSHD))
    # Debian's sshd refuses to start without its privilege-separation directory; only root may create it.
    if SSHD.exists() and not Path("/run/sshd").is_dir() and os.geteuid() != 0:
        missing.append("/run/sshd (create it as root)")
    return missing


def idp_tui_executable() -> Path:
    """The ``idp-tui`` script of the Python running this (the venv's), by absolute path: the login shell's PATH differs."""
    return Path(sys.executable).parent / "idp-tui"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SshTmuxSession:
    """sshd + tmux + ssh running idp-tui; ``keys``/``screen``/``received`` to drive and watch it."""

    workdir: Path
    columns: int = 80
    rows: int = 24
    app_args: tuple[str, ...] = ("--read-only",)
    socket_name: str = field(default_factory=lambda: f"idp-tui-ssh-{uuid.uuid4().hex[:8]}")
    sshd: subprocess.Popen | None = None
    port: int = 0

    @property
    def output_file(self) -> Path:
        return self.workdir / "pane-output.bin"

    def start(self) -> None:
        self._keys()
        self.port = _free_port()
        config = self._sshd_config()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = open(self.workdir / "sshd.log", "wb")  # noqa: SIM115 - closed with the process
        self.sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        self._wait_for_port()
        self._start_tmux()

    def _keys(self) -> None:
        for name in ("host_key", "user_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.workdir / name)],
                check=True,
                capture_output=True,
            )
        authorized = self.workdir / "authorized_keys"
        authorized.write_text((self.workdir / "user_key.pub").read_text())
        authorized.chmod(0o600)
        (self.workdir / "user_key").chmod(0o600)

    def _sshd_config(self) -> Path:
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.workdir / 'host_key'}",
                    f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    "UsePAM no",
                    "StrictModes no",  # the tmp directory is not the user's own home
                    "PermitRootLogin yes",  # CI runs as root
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "AcceptEnv LANG LC_*",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        return config

    def _wait_for_port(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sshd is not None and self.sshd.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.workdir / 'sshd.log').read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen in time")

    def remote_command(self) -> str:
        state = self.workdir / "remote"
        env = {
            "XDG_CACHE_HOME": state / "cache",
            "XDG_STATE_HOME": state / "state",
            "XDG_CONFIG_HOME": state / "config",  # no user config or keymap leaks into the run
        }
        assignments = " ".join(f"{name}={shlex.quote(str(value))}" for name, value in env.items())
        return f"env {assignments} {shlex.quote(str(idp_tui_executable()))} {' '.join(self.app_args)}"

    def _start_tmux(self) -> None:
        conf = self.workdir / "tmux.conf"
        # No status line: the pane is the whole 80x24 terminal, as on a bare SSH login.
        conf.write_text("set -g status off\nset -g default-terminal xterm-256color\n")
        ssh = [
            "ssh", "-tt", "-p", str(self.port), "-i", str(self.workdir / "user_key"),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", f"{_user()}@127.0.0.1", self.remote_command(),
        ]  # fmt: skip
        # The pane waits for one Enter before connecting, so pipe-pane is attached before the first byte.
        command = f"read _ && exec env TERM=xterm-256color {shlex.join(ssh)}"
        self.tmux(
            "-f", str(conf), "new-session", "-d", "-s", "idp", "-x", str(self.columns), "-y", str(self.rows),
            "sh", "-c", command,
        )  # fmt: skip
        self.tmux("pipe-pane", "-t", "idp", "-O", f"cat >> {shlex.quote(str(self.output_file))}")
        time.sleep(0.2)
        self.tmux("send-keys", "-t", "idp", "Enter")

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket_name, *args], capture_output=True, text=True, check=False)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "idp", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "idp").stdout

    def repainted_screen(self) -> str:
        """The screen after the app painted all of it again (a resize there and back: SIGWINCH twice)."""
        self.tmux("resize-window", "-t", "idp", "-x", str(self.columns + 1), "-y", str(self.rows))
        self.quiet()
        self.tmux("resize-window", "-t", "idp", "-x", str(self.columns), "-y", str(self.rows))
        self.quiet()
        return self.screen()

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "idp").returncode == 0

    def received(self) -> int:
        return self.output_file.stat().st_size if self.output_file.exists() else 0

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The screen once it shows ``text`` (case-insensitive); raises with the screen if it never does."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text.lower() in screen.lower():
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")

    def quiet(self, pause: float = 0.4, timeout: float = 15.0) -> int:
        """Wait until no byte arrives for ``pause`` seconds; the total received so far."""
        deadline = time.monotonic() + timeout
        size, since = self.received(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.received()
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= pause:
                break
        return size

    def press_measured(self, key: str, literal: bool = False) -> int:
        """Send one key; the bytes the terminal received for it (until the screen is quiet again)."""
        before = self.quiet()
        self.keys(key, literal=literal)
        return self.quiet() - before

    def stop(self) -> None:
        self.tmux("kill-server")
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.sshd.kill()


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def measure(session: SshTmuxSession) -> dict[str, object]:
    """Startup bytes (to the catalog shown and quiet), then bytes per key: typing a search, moving in the list."""
    session.wait_for("READ-ONLY")
    session.wait_for("payment")
    startup = session.quiet(pause=1.0)
    typing = [session.press_measured(key, literal=True) for key in "/payment"]
    session.keys("Enter")  # to the results
    session.quiet()
    moves = [session.press_measured("Down") for _ in range(5)]
    return {"startup": startup, "search_keys": typing, "cursor_moves": moves}


def main() -> int:
    missing = missing_tools()
    if missing:
        print(f"cannot run: missing {', '.join(missing)}")
        return 1
    with tempfile.TemporaryDirectory(prefix="idp-ssh-") as folder:
        session = SshTmuxSession(Path(folder))
        try:
            session.start()
            figures = measure(session)
        finally:
            session.stop()
    typing, moves = figures["search_keys"], figures["cursor_moves"]
    print(f"bytes over SSH at {session.columns}x{session.rows}, TERM=xterm-256color")
    print(f"  startup (first frame to catalog shown): {figures['startup']}")
    print(f"  per search keystroke: {typing}  mean {sum(typing) / len(typing):.0f}  (target <= 1,500)")
    print(f"  per cursor move in the list: {moves}  mean {sum(moves) / len(moves):.0f}  (target <= 300)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

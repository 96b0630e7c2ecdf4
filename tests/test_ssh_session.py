"""idp-tui over a real SSH login in tmux at 80x24, read-only: search, open an entity, its on-call, quit.

Needs /usr/sbin/sshd, ssh, ssh-keygen and tmux (``.ci/run`` installs them on Debian); skipped without them.
The bytes sent to the terminal at startup and per key are printed (``pytest -s``), not asserted: they
vary with the machine, and ``tests/benchmarks/ssh_bytes.py`` is the place for the figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

from ssh_bytes import SshTmuxSession, missing_tools  # noqa: E402

pytestmark = pytest.mark.skipif(
    bool(missing_tools()), reason=f"a real SSH session needs sshd, ssh and tmux: missing {', '.join(missing_tools())}"
)


def test_search_entity_and_on_call_over_ssh_at_80x24(tmp_path):
    session = SshTmuxSession(tmp_path)
    try:
        session.start()
        top = session.wait_for("READ-ONLY").splitlines()[0]
        assert "idp-tui" in top.lower() or "READ-ONLY" in top, top
        session.wait_for("payment")  # the catalog's rows are on screen
        startup = session.quiet(pause=1.0)

        per_key = [session.press_measured(key, literal=True) for key in "/payment"]
        # Only rows that changed are repainted: back to the whole catalog, no row of "payment" may be left behind.
        # A resize makes the app paint every cell again, which must change nothing.
        for _ in "payment":
            session.press_measured("BSpace")
        painted_by_keys = session.screen()
        assert painted_by_keys == session.repainted_screen()
        session.keys("payment", literal=True)
        session.quiet()
        screen = session.screen()
        assert "payment" in screen

        session.keys("Enter")  # to the results, best match highlighted
        move = session.press_measured("Down")
        session.keys("Up", "Enter")  # open the best match
        screen = session.wait_for("Overview")
        assert "payment" in screen.lower()

        session.keys("o")
        screen = session.wait_for("Ownership & on-call")
        session.wait_for("on call")
        assert "payment" in screen.lower()

        session.keys("q")
        deadline = time.monotonic() + 15
        while session.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not session.alive(), f"q did not end the session; the screen:\n{session.screen()}"
        print(
            f"\nSSH bytes at 80x24: startup {startup}; per search key {per_key} "
            f"(mean {sum(per_key) / len(per_key):.0f}); per cursor move {move}"
        )
    finally:
        session.stop()

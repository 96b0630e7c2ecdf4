"""Where idp-tui keeps files of its own, following the XDG base directory conventions."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/idp-tui``, else ``~/.cache/idp-tui``: data that can always be rebuilt."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "idp-tui"


def write_atomically(path: Path, payload: bytes) -> bool:
    """Replace ``path`` with ``payload`` all at once (readers never see half a file).

    Returns False instead of raising when the directory cannot be written: everything kept under
    :func:`cache_home` can be rebuilt, and a read-only home directory must not stop the program.
    """
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temp, path)
    except OSError:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)
        return False
    return True


def state_home() -> Path:
    """``$XDG_STATE_HOME/idp-tui``, else ``~/.local/state/idp-tui``: what the user made (registered entities,
    local repositories, remembered form answers) — kept, unlike the cache."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "idp-tui"

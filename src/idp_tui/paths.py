"""Where idp-tui keeps files of its own, following the XDG base directory conventions.

A locked-down host (read-only ``$HOME``, an ``XDG_*`` variable pointing somewhere unwritable) must not stop the
program: each directory is probed once, and one that cannot be written is replaced by a per-user folder under the
temporary directory. The person is told once (:func:`take_fallback_notice`), not at every write.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path


def _can_write(directory: Path) -> bool:
    """Create ``directory`` and a file in it: the only test that also holds for root and read-only mounts."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError:
        return False
    return True


# Tests replace this to simulate a locked-down host (chmod does not stop root, which CI runs as).
writable: Callable[[Path], bool] = _can_write

_lock = threading.Lock()
_chosen: dict[tuple[str, Path], Path] = {}  # (kind, preferred) -> the directory used; each probed once
_unannounced: list[tuple[str, Path, Path]] = []  # (kind, preferred, fallback) not yet told to the person


def _preferred_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "idp-tui"


def _preferred_state() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "idp-tui"


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/idp-tui``, else ``~/.cache/idp-tui``: data that can always be rebuilt.

    Falls back to :func:`fallback_root` ``/cache`` when that cannot be written.
    """
    return _usable("cache", _preferred_cache())


def state_home() -> Path:
    """``$XDG_STATE_HOME/idp-tui``, else ``~/.local/state/idp-tui``: what the user made (registered entities,
    local repositories, remembered form answers) — kept, unlike the cache.

    Falls back to :func:`fallback_root` ``/state`` when that cannot be written (kept only as long as the
    temporary directory is).
    """
    return _usable("state", _preferred_state())


def fallback_root() -> Path:
    """``<tmp>/idp-tui-<uid>``, private to this user; another user's folder of that name is never used."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = Path(tempfile.gettempdir()) / f"idp-tui-{uid}"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        if root.stat().st_uid == uid and writable(root):
            return root
    except OSError:
        pass
    # Someone else made it first (or it is unusable): a fresh private folder for this session.
    return Path(tempfile.mkdtemp(prefix=f"idp-tui-{uid}-"))


def _usable(kind: str, preferred: Path) -> Path:
    key = (kind, preferred)
    with _lock:
        chosen = _chosen.get(key)
        if chosen is None:
            if writable(preferred):
                chosen = preferred
            else:
                chosen = fallback_root() / kind
                chosen.mkdir(parents=True, exist_ok=True)
                _unannounced.append((kind, preferred, chosen))
            _chosen[key] = chosen
        return chosen


def take_fallback_notice() -> str | None:
    """One line saying which directories were replaced by temporary ones, or None; each is said only once."""
    cache_home(), state_home()  # probe now, so the notice comes at start-up, not after the first write
    with _lock:
        taken = list(_unannounced)
        _unannounced.clear()
    if not taken:
        return None
    parts = [f"{kind} {preferred} is not writable, using {fallback}" for kind, preferred, fallback in taken]
    return "; ".join(parts) + " (temporary: it may be removed on reboot)"


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

"""Where idp-tui keeps files of its own, following the XDG base directory conventions."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/idp-tui``, else ``~/.cache/idp-tui``: data that can always be rebuilt."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "idp-tui"

"""The last catalog read from a Backstage, kept on disk so the console opens (and works offline) without waiting.

The cache holds the projected items exactly as Backstage sent them, not built entities: ``json.loads`` of the raw
list is the fast path (stdlib json reads 50,000 projected entities in well under a second) and rebuilding the
entities from it is the same code as a live load, so a cached catalog can never differ in shape from a fresh one.
A cache that is missing, unreadable, corrupt or in another format is simply absent: it is an accelerator and an
offline fallback, never a source of truth.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from ..paths import cache_home, write_atomically
from ..redaction import redact_url

# Bump when the stored shape or LIST_FIELDS changes, so an older cache is ignored instead of misread.
CACHE_FORMAT = 1


def cache_file_for(url: str, profile: str, cache_dir: Path | None = None) -> Path:
    """Where the catalog of one Backstage, for one profile, is cached.

    Args:
        url: the Backstage base URL; a password in it is masked first, so neither the name nor the file holds it
            (a URL without one keeps the name it always had).
        profile: the config profile name (two profiles on one URL may use different tokens, hence different views).
        cache_dir: the cache root; :func:`idp_tui.paths.cache_home` when not given.

    Returns:
        ``<cache root>/backstage/<sha1(profile + url)[:16]>.json``.
    """
    digest = hashlib.sha1((profile + redact_url(url)).encode()).hexdigest()[:16]  # noqa: S324 - a file name, not security
    return (cache_dir or cache_home()) / "backstage" / f"{digest}.json"


def save_items(path: Path, url: str, items: list[dict[str, Any]], saved_at: float | None = None) -> bool:
    """Write the items atomically with the format version, the URL (credentials masked) and the time.

    Returns whether it was written.
    """
    document = {
        "format": CACHE_FORMAT,
        "url": redact_url(url),
        "savedAt": time.time() if saved_at is None else saved_at,
        "items": items,
    }
    # Compact separators: the file is read by machines only and is a third smaller. ASCII: a Backstage answer may
    # hold a lone surrogate ("\ud800" is valid JSON), which only an escape can write.
    payload = json.dumps(document, separators=(",", ":")).encode()
    return write_atomically(path, payload)


def load_items(path: Path, url: str) -> tuple[list[dict[str, Any]], float] | None:
    """The cached items and the epoch seconds they were saved at, or None when there is no usable cache for ``url``."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):  # missing, unreadable, truncated or not JSON (UnicodeDecodeError is a ValueError)
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    if document.get("url") != redact_url(url):
        return None
    items, saved_at = document.get("items"), document.get("savedAt")
    if not isinstance(items, list) or not isinstance(saved_at, int | float) or isinstance(saved_at, bool):
        return None
    return items, float(saved_at)

"""The list's first page, saved after each load so the next start can show it in its first frame.

Reading even a cached 50,000-entity catalog takes about a second; this file holds just the first
screenfuls of the default list (name order, no search) and the counts, so the TUI opens on real rows
at once, says how old they are, and replaces them when the catalog is read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_home, write_atomically
from .entity import Entity

FIRST_PAGE_SIZE = 120
_FORMAT = 1


@dataclass(frozen=True)
class FirstPage:
    """Rows to show before the catalog is loaded: entities trimmed to what a list row displays."""

    entities: list[Entity]
    total: int
    problems: int
    saved_at: float

    def age(self, now: float | None = None) -> float:
        """Seconds since the page was saved (never negative); ``now`` defaults to the current time."""
        return max(0.0, (now or time.time()) - self.saved_at)


def first_page_path(label: str, directory: Path | None = None) -> Path:
    """Where the first page of the catalog ``label`` names is kept.

    A file in ``directory`` (by default the cache home) named by a hash of the label, so each catalog has its own.
    """
    try:  # CPython's own SHA-1: importing hashlib loads OpenSSL, a few ms of the first frame this file is for
        from _sha1 import sha1
    except ImportError:
        from hashlib import sha1
    digest = sha1(label.encode()).hexdigest()[:16]
    return (directory or cache_home()) / f"first-page-{digest}.json"


def _row_projection(entity: Entity) -> dict:
    """Only the fields a list row and a search by name show."""
    metadata, spec = entity.metadata, entity.spec
    return {
        "apiVersion": entity.api_version,
        "kind": entity.kind,
        "metadata": {k: metadata[k] for k in ("name", "namespace", "title", "tags") if k in metadata},
        "spec": {k: spec[k] for k in ("type", "lifecycle", "owner", "system") if k in spec},
    }


def save_first_page(path: Path, entities: Sequence[Entity], total: int, problems: int) -> bool:
    """Write the first rows atomically; an unwritable cache directory is not an error."""
    payload = {
        "format": _FORMAT,
        "total": total,
        "problems": problems,
        "saved_at": time.time(),
        "entities": [[entity.key, _row_projection(entity)] for entity in entities[:FIRST_PAGE_SIZE]],
    }
    try:
        data = json.dumps(payload).encode()
    except (TypeError, ValueError):  # a value JSON cannot hold (exotic YAML tags): no first page
        return False
    return write_atomically(path, data)


def load_first_page(path: Path) -> FirstPage | None:
    """The saved first page, or None when there is none (or it cannot be read)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("format") != _FORMAT:
            return None
        entities = [Entity(raw, key) for key, raw in payload["entities"]]
        return FirstPage(entities, int(payload["total"]), int(payload["problems"]), float(payload["saved_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None

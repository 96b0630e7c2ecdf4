"""Compiled templates kept for reuse, within a memory budget rather than a count.

Compiling a template costs far more than rendering it (a 1,000-file skeleton renders in a fraction of a second
from the cache and takes seconds to compile), so compiled templates are kept. A count alone does not bound the
memory: a compiled template weighs about 8 kB plus 0.3 kB per tag plus a third of its text, and a hostile
skeleton can hold thousands of big files. Entries are weighed that way and the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# About how much memory compiled templates may hold together.
MAX_COMPILED_CACHE_BYTES = 64 * 1024 * 1024
_BASE_WEIGHT = 8 * 1024
_TAG_WEIGHT = 300


def weight(source: str) -> int:
    """The estimated memory of ``source`` compiled, in bytes."""
    tags = source.count("{{") + source.count("{%") + source.count("{#")
    return _BASE_WEIGHT + len(source) // 3 + _TAG_WEIGHT * tags


class CompiledCache:
    """A thread-safe LRU of ``source -> compiled`` bounded by the summed :func:`weight` of its entries."""

    def __init__(self, compile_source: Callable[[str], Any], max_bytes: int = MAX_COMPILED_CACHE_BYTES) -> None:
        self._compile = compile_source
        self._max = max_bytes
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def __call__(self, source: str) -> Any:
        """The compiled ``source``, compiled now if it is not kept (exceptions are not kept)."""
        with self._lock:
            entry = self._entries.get(source)
            if entry is not None:
                self._entries.move_to_end(source)
                return entry[0]
        compiled = self._compile(source)
        cost = weight(source)
        if cost > self._max // 8:
            return compiled  # too big to keep: it would push out many ordinary templates
        with self._lock:
            if source not in self._entries:
                self._entries[source] = (compiled, cost)
                self._total += cost
            while self._total > self._max and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._total -= dropped
        return compiled

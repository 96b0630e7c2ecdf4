"""Reading Kubernetes JSON without trusting its shape: a field of the wrong type reads as absent.

Objects come validated by the CRD's schema, but a cluster may run another version of Argo's CRDs (or none, with
``x-kubernetes-preserve-unknown-fields``); the views must show what they can rather than fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EMPTY: Mapping[str, Any] = {}


def obj(value: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path`` under ``value`` (``{}`` when anything on the way is missing or not a mapping)."""
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else EMPTY


def objs(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a list (anything else in it, or a non-list, is skipped)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def texts(value: Any) -> tuple[str, ...]:
    """The strings of a list."""
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def integer(value: Any, default: int = 0) -> int:
    """An integer (not a bool), else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def decimal(value: Any) -> int | None:
    """A string of ASCII digits as the int Go's ``strconv.Atoi`` reads from it (at most 18 digits, so it fits an
    int64), else None. ``str.isdigit`` is not enough: ``"²".isdigit()`` is true and ``int("²")`` raises, and
    ``int`` also takes other scripts' digits and refuses strings longer than 4300 digits."""
    if isinstance(value, str) and 0 < len(value) <= 18 and value.isascii() and value.isdecimal():
        return int(value)
    return None

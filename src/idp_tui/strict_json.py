"""JSON read as Go's decoder reads it (Kubernetes, Backstage's and Argo's clients, OPA, PagerDuty's API).

Python's ``json`` takes ``NaN``, ``Infinity`` and ``1e400`` (as ``inf``), which no Go or JavaScript encoder writes
and Go's decoder refuses, and it recurses into nesting until ``RecursionError``, which is not a ``ValueError``: an
``except ValueError`` around it lets a hostile answer end in a traceback. :func:`loads_strict` refuses all of them
with a ``ValueError`` naming why. It imports nothing but the standard library: every layer uses it.
"""

from __future__ import annotations

import json
import math
from typing import Any


class JSONTooDeep(ValueError):
    """JSON nested past what can be read (Python's recursion limit)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is past what a JSON number carries")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def loads_strict(data: bytes | bytearray | str) -> Any:
    """``data`` (UTF-8 when bytes) parsed as JSON, refusing what Go's decoder refuses.

    Raises:
        JSONTooDeep: nested past Python's recursion limit.
        ValueError: not JSON (a ``json.JSONDecodeError``, or not UTF-8), ``NaN``/``Infinity``, or a number too
            large for a float.
    """
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise JSONTooDeep("nested too deeply to read") from None

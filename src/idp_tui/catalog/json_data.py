"""JSON data as Kubernetes, Backstage and OPA carry it, checked in files written by other people.

Python's ``json`` accepts more than those do (``NaN``, ``Infinity``, ``1e400``, integers of any length) and
recurses into nesting until it raises ``RecursionError``. :func:`load_json_data` reads a JSON text and refuses
all of that with a sentence (:func:`~idp_tui.strict_json.loads_strict`, then the checks of
:func:`json_data_cost`, which checks and prices a value already parsed).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..strict_json import JSONTooDeep, loads_strict
from . import limits


class OverBudget(Exception):
    """A value is longer (as JSON text) than the budget it was checked against."""


def json_data_cost(value: Any, budget: float, what: str = "the included data") -> int:
    """About the length of ``value`` as JSON text, checking it is JSON data (walked without recursion).

    Args:
        what: how the messages name the value ("the included data").

    Raises:
        ValueError: not JSON data (NaN, an integer JSON cannot carry exactly, a key that is not a string)
            or nested deeper than ``limits.MAX_NESTING_DEPTH``.
        OverBudget: longer than ``budget`` (so a shared or cyclic value is never walked to its end).
    """
    cost = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = item.__class__
        if kind is str:
            cost += len(item) + 2
        elif kind is dict or kind is list:
            if depth >= limits.MAX_NESTING_DEPTH:
                raise ValueError(f"{what} is nested deeper than {limits.MAX_NESTING_DEPTH} levels")
            cost += 2
            if kind is dict:
                for key, child in item.items():
                    if key.__class__ is not str:
                        raise ValueError(f"{what} has a key that is not a string: {key!r:.40}")
                    cost += len(key) + 4
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif item is None or kind is bool:
            cost += 5
        elif kind is int:
            if not -limits.MAX_SAFE_INTEGER <= item <= limits.MAX_SAFE_INTEGER:
                raise ValueError(f"{what} has an integer beyond what JSON carries exactly")
            cost += 8
        elif kind is float:
            if not math.isfinite(item):
                raise ValueError(f"{what} has a number that is not finite (NaN or infinity)")
            cost += 8
        else:
            raise ValueError(f"{what} holds a {kind.__name__}, which is not JSON data")
        if cost > budget:
            raise OverBudget
    return cost


class JSONDataError(ValueError):
    """A text that is not JSON data; ``line`` is where it breaks (1 when the problem is the whole value)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def load_json_data(text: str) -> Any:
    """Parse ``text`` as JSON data.

    Raises:
        JSONDataError: invalid JSON, ``NaN``/``Infinity``, a number JSON cannot carry (``1e400``, an integer
            beyond ±2**53), or nesting deeper than ``limits.MAX_NESTING_DEPTH``.
    """
    try:
        value = loads_strict(text)
    except json.JSONDecodeError as error:
        raise JSONDataError(f"{error.msg} (column {error.colno})", error.lineno) from None
    except JSONTooDeep:
        raise JSONDataError(f"nested deeper than {limits.MAX_NESTING_DEPTH} levels") from None
    except ValueError as error:  # NaN, Infinity, 1e400
        raise JSONDataError(str(error)) from None
    try:
        json_data_cost(value, math.inf, "the value")
    except ValueError as error:
        raise JSONDataError(str(error)) from None
    return value

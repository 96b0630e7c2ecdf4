"""How Backstage's JavaScript template engine turns values into text and JSON.

Backstage renders ``${{ }}`` in Node.js, so a Python dict prints as ``[object Object]``, ``True`` as ``true``,
``None`` as the empty string and ``2.0`` as ``2``. Matching that is what makes our skeletons byte-for-byte equal
to Backstage's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from jinja2 import Undefined

from . import budget


def js_number(value: float | int) -> str:
    """``Number.prototype.toString()`` for a Python number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # Every JavaScript number is a double: large integers lose digits and print in exponent form.
        return str(value) if abs(value) < 2**53 else js_number(float(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    # JS prints the shortest round-tripping digits (as repr does), but uses plain notation
    # for exponents from -7 up to 20 and writes "e+21"/"e-7" with no zero padding.
    digits, exponent = _shortest_digits(repr(abs(value)))
    sign = "-" if value < 0 else ""
    point = exponent + 1  # position of the decimal point relative to the digit string
    if 0 < point <= 21:
        if len(digits) <= point:
            return sign + digits + "0" * (point - len(digits))
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    mantissa_text = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    return f"{sign}{mantissa_text}e{'+' if exp > 0 else '-'}{abs(exp)}"


def _shortest_digits(text: str) -> tuple[str, int]:
    """The significant digits of Python's shortest repr and the decimal exponent of the first digit."""
    mantissa, _, exp_text = text.partition("e")
    exp = int(exp_text) if exp_text else 0
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0") if fraction else ""
    all_digits = (whole + fraction).lstrip("0")
    leading_zeros = len(whole + fraction) - len(all_digits)
    exponent = len(whole) - 1 - leading_zeros + exp
    return all_digits.rstrip("0") or "0", exponent


def js_string(value: Any) -> str:
    """``String(value)`` as nunjucks prints it inside text (undefined and null print nothing)."""
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list | tuple):
        items = ("" if item is None or isinstance(item, Undefined) else js_string(item) for item in value)
        return bounded_join(",", items)
    if isinstance(value, dict):
        return "[object Object]"
    if callable(value):
        raise TypeError("Callable values cannot be coerced")
    return str(value)


def bounded_join(separator: str, parts: Iterable[str]) -> str:
    """``separator.join(parts)``, refusing before it is built when the result would pass the string budget."""
    pieces: list[str] = []
    total = -len(separator)
    for piece in parts:
        total += len(piece) + len(separator)
        if total > budget.MAX_STRING_LENGTH:
            budget.check_length(total)
        pieces.append(piece)
    return separator.join(pieces)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: empty lists and objects are true, unlike in Python."""
    if value is None or isinstance(value, Undefined):
        return False
    if isinstance(value, list | tuple | dict):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def to_json_value(value: Any) -> Any:
    """A copy with undefined dropped from objects and turned into null in arrays, as ``JSON.stringify`` does."""
    if callable(value):
        raise TypeError("Callable values cannot be coerced")
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items() if not isinstance(v, Undefined)}
    if isinstance(value, list | tuple):
        return [None if isinstance(item, Undefined) else to_json_value(item) for item in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value) and abs(value) >= 2**53:
        text = js_number(value)
        return int(text) if text.lstrip("-").isdigit() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def js_json_dumps(value: Any, indent: int | str | None = None) -> str | None:
    """``JSON.stringify(value, null, indent)``; None where JavaScript returns undefined."""
    if isinstance(value, Undefined):
        return None
    if isinstance(indent, int) and indent > 0:
        indent = min(indent, 10)
    elif not (isinstance(indent, str) and indent):
        indent = None
    # Lists may hold one big string many times over: measure before json builds the text.
    width = len(indent) if isinstance(indent, str) else indent or 0
    budget.check_length(printed_size(value, width, budget.MAX_STRING_LENGTH))
    return json.dumps(
        to_json_value(value),
        ensure_ascii=False,
        indent=indent,
        separators=(",", ": ") if indent else (",", ":"),
        default=js_string,
    )


def printed_size(value: Any, indent: int = 0, limit: int = budget.MAX_STRING_LENGTH, depth: int = 0) -> int:
    """About how many characters ``value`` takes as JSON, counting no further than just past ``limit``.

    Cheap however the value is built: every container and item adds at least one character, so the walk stops
    after at most ``limit`` steps.
    """
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, dict):
        items: Iterable[Any] = (item for pair in value.items() for item in pair)
    elif isinstance(value, list | tuple):
        items = value
    else:
        return 24
    total = 2
    for item in items:
        total += 2 + indent * (depth + 1) + printed_size(item, indent, limit - total, depth + 1)
        if total > limit:
            break
    return total

"""A Jinja2 sandbox that sees only data, the way Backstage's template engine does.

Backstage renders ``${{ }}`` with a closed interpreter that exposes plain data (objects, arrays, strings, numbers)
plus an allow-list of JavaScript string and array methods. Here the same boundary is drawn on top of Jinja2's
``SandboxedEnvironment``: attribute access never reaches a Python attribute. ``x.y`` is a dictionary lookup, a
list's ``length`` or one of the allow-listed methods, so payloads such as ``''.__class__.__mro__`` or
``cycler.__init__.__globals__`` find nothing but undefined.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from jinja2 import ChainableUndefined, Undefined
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .js_values import js_string

# Big enough for any real skeleton, small enough that "x" * 10**9 cannot exhaust memory.
MAX_STRING_LENGTH = 5_000_000

# Names that reach JavaScript internals in Backstage's engine, which refuses them; refused here too.
RESERVED_NAMES = frozenset({"__proto__", "constructor", "prototype"})

_LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem"}
)


class JsMethod:
    """A bound, allow-listed JavaScript method (``name.split('-')``): the only callables templates can reach."""

    __slots__ = ("_function", "_name")

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self._name = name
        self._function = function

    def __call__(self, *args: Any) -> Any:
        return self._function(*args)

    def __repr__(self) -> str:
        return f"<method {self._name}>"


def _js_index(sequence: str | list, item: Any, start: int = 0) -> int:
    try:
        return sequence.index(item, start)
    except ValueError:
        return -1


def _js_slice(sequence: str | list, start: int = 0, end: int | None = None) -> str | list:
    return sequence[int(start) : None if end is None else int(end)]


def _js_split(text: str, separator: Any = None, limit: int | None = None) -> list[str]:
    if separator is None or isinstance(separator, Undefined):
        parts = [text]
    elif separator == "":
        parts = list(text)
    else:
        parts = text.split(js_string(separator))
    return parts if limit is None else parts[: int(limit)]


def _js_replace(text: str, old: Any, new: Any) -> str:
    # String.prototype.replace with a string pattern replaces the first occurrence only.
    return text.replace(js_string(old), js_string(new), 1)


def _js_to_fixed(number: float, digits: int = 0) -> str:
    return f"{number:.{int(digits)}f}"


def _string_methods(text: str) -> dict[str, Callable[..., Any]]:
    return {
        "charAt": lambda i=0: text[int(i)] if 0 <= int(i) < len(text) else "",
        "concat": lambda *parts: text + "".join(js_string(p) for p in parts),
        "endsWith": lambda suffix: text.endswith(js_string(suffix)),
        "includes": lambda part: js_string(part) in text,
        "indexOf": lambda part, start=0: _js_index(text, js_string(part), int(start)),
        "lastIndexOf": lambda part: text.rfind(js_string(part)),
        "replace": lambda old, new: _js_replace(text, old, new),
        "slice": lambda start=0, end=None: _js_slice(text, start, end),
        "split": lambda separator=None, limit=None: _js_split(text, separator, limit),
        "startsWith": lambda prefix: text.startswith(js_string(prefix)),
        "substring": lambda start=0, end=None: text[max(0, int(start)) : None if end is None else max(0, int(end))],
        "toLowerCase": text.lower,
        "toUpperCase": text.upper,
        "trim": text.strip,
        "trimEnd": text.rstrip,
        "trimStart": text.lstrip,
    }


def _array_methods(items: list | tuple) -> dict[str, Callable[..., Any]]:
    items = list(items)
    return {
        "at": lambda i=0: items[int(i)] if -len(items) <= int(i) < len(items) else None,
        "concat": lambda *more: items + [x for m in more for x in (m if isinstance(m, list | tuple) else [m])],
        "includes": lambda item: item in items,
        "indexOf": lambda item: _js_index(items, item),
        "join": lambda separator=",": js_string(separator).join(js_string([x]) for x in items),
        "slice": lambda start=0, end=None: _js_slice(items, start, end),
    }


class ScaffolderSandbox(SandboxedEnvironment):
    """A sandboxed Jinja2 environment whose expressions see data and allow-listed methods only."""

    intercepted_binops = frozenset({"+", "*", "**", "/", "//", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, slice) and isinstance(obj, str | list | tuple):
            return list(obj[argument])  # nunjucks slices a string into a list of characters
        return self._lookup(obj, argument)

    def _lookup(self, obj: Any, key: Any) -> Any:
        if key in RESERVED_NAMES:
            raise SecurityError(f"{key} is a reserved name")
        if isinstance(obj, dict):
            value = obj.get(key if isinstance(key, str) else js_string(key), _MISSING)
            return self.undefined(obj=obj, name=key) if value is _MISSING else value
        if isinstance(obj, list | tuple | str):
            if isinstance(key, int) and not isinstance(key, bool):
                return obj[key] if 0 <= key < len(obj) else self.undefined(obj=obj, name=key)
            if key == "length":
                return len(obj)
            methods = _string_methods(obj) if isinstance(obj, str) else _array_methods(obj)
            if key in methods:
                return JsMethod(key, methods[key])
        elif isinstance(obj, int | float) and not isinstance(obj, bool):
            if key == "toFixed":
                return JsMethod(key, lambda digits=0: _js_to_fixed(obj, digits))
            if key == "toString":
                return JsMethod(key, lambda: js_string(obj))
        elif isinstance(obj, LoopContext) and key in _LOOP_ATTRIBUTES:
            return getattr(obj, key)
        elif isinstance(obj, LoopContext) and key == "cycle":
            return JsMethod(key, obj.cycle)
        elif hasattr(type(obj), "template_attribute"):
            value = obj.template_attribute(key)
            if callable(value):
                return JsMethod(key, value)
            return self.undefined(obj=obj, name=key) if value is None else value
        return self.undefined(obj=obj, name=key)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        # Macros are defined by the template itself; JsMethod and marked globals are the allow-list.
        return isinstance(obj, JsMethod | Macro) or getattr(obj, "__idp_template_global__", False)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":
            if isinstance(left, str) or isinstance(right, str):
                return _bounded(js_string(left) + js_string(right))
            if _is_number(left) and _is_number(right):
                return left + right
            if isinstance(left, Undefined) or isinstance(right, Undefined) or left is None or right is None:
                return js_string(left) + js_string(right) if not (_is_number(left) or _is_number(right)) else math.nan
            return _bounded(js_string(left) + js_string(right))
        # JavaScript arithmetic: operands become numbers ("3" * 2 is 6), division by zero is Infinity or NaN.
        left, right = js_to_number(left), js_to_number(right)
        if math.isnan(left) or math.isnan(right):
            return math.nan
        if operator == "*":
            return left * right
        if operator == "**":
            if abs(right) > 1024 and isinstance(left, int) and abs(left) > 1:
                return math.inf if left > 0 or right % 2 == 0 else -math.inf
            return left**right
        if right == 0:
            if operator == "/" and left != 0:
                return math.copysign(math.inf, left) * math.copysign(1, right)
            return math.nan
        if operator == "/":
            return left / right
        if operator == "//":
            return left // right
        return math.fmod(left, right) if isinstance(left, float) or isinstance(right, float) else _js_mod(left, right)


def template_global(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a function as callable from templates (like Backstage's ``always()`` in ``if``)."""
    function.__idp_template_global__ = True  # type: ignore[attr-defined]
    return function


def js_to_number(value: Any) -> int | float:
    """JavaScript's ``Number(value)`` for template data."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if isinstance(value, list | tuple) and len(value) <= 1:
        return js_to_number(value[0]) if value else 0
    return math.nan


def _js_mod(left: int, right: int) -> int:
    # JavaScript's % keeps the sign of the dividend (Python's follows the divisor).
    result = abs(left) % abs(right)
    return -result if left < 0 else result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise SecurityError(f"a template string grew beyond {MAX_STRING_LENGTH} characters")
    return text


_MISSING = object()


class JsUndefined(ChainableUndefined):
    """Nunjucks' undefined: prints nothing and lets ``a.b.c`` continue, but cannot be called."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""

"""A Jinja2 sandbox that sees only data, the way Backstage's template engine does.

Backstage renders ``${{ }}`` with a closed interpreter that exposes plain data (objects, arrays, strings, numbers)
plus an allow-list of JavaScript string and array methods. Here the same boundary is drawn on top of Jinja2's
``SandboxedEnvironment``: attribute access never reaches a Python attribute. ``x.y`` is a dictionary lookup, a
list's ``length`` or one of the allow-listed methods, so payloads such as ``''.__class__.__mro__`` or
``cycler.__init__.__globals__`` find nothing but undefined.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import ChainableUndefined, Undefined
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from . import budget
from .js_values import bounded_join, js_string, printed_size

# JavaScript numbers are doubles: an integer past this many bits is Infinity there (and slow to compute here).
_MAX_INT_BITS = 1024
# toFixed's digits, as JavaScript allows them.
MAX_TO_FIXED_DIGITS = 100

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
        budget.check_items(len(text))
        parts = list(text)
    else:
        separator = js_string(separator)
        budget.check_items(text.count(separator) + 1)
        parts = text.split(separator)
    return parts if limit is None else parts[: int(limit)]


def _js_replace(text: str, old: Any, new: Any) -> str:
    # String.prototype.replace with a string pattern replaces the first occurrence only.
    new = js_string(new)
    budget.check_length(len(text) + len(new))
    return text.replace(js_string(old), new, 1)


def _js_concat(text: str, *parts: Any) -> str:
    return bounded_join("", [text, *(js_string(part) for part in parts)])


def _js_to_fixed(number: float, digits: int = 0) -> str:
    digits = int(digits)
    if not 0 <= digits <= MAX_TO_FIXED_DIGITS:
        raise ValueError(f"toFixed() digits argument must be between 0 and {MAX_TO_FIXED_DIGITS}")
    return f"{number:.{digits}f}"


def _js_array_concat(items: list, *more: Any) -> list:
    extra = [m if isinstance(m, list | tuple) else [m] for m in more]
    budget.check_items(len(items) + sum(len(m) for m in extra))
    return items + [x for m in extra for x in m]


def _string_methods(text: str) -> dict[str, Callable[..., Any]]:
    return {
        "charAt": lambda i=0: text[int(i)] if 0 <= int(i) < len(text) else "",
        "concat": lambda *parts: _js_concat(text, *parts),
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
        "concat": lambda *more: _js_array_concat(items, *more),
        "includes": lambda item: item in items,
        "indexOf": lambda item: _js_index(items, item),
        "join": lambda separator=",": bounded_join(js_string(separator), (js_string([x]) for x in items)),
        "slice": lambda start=0, end=None: _js_slice(items, start, end),
    }


class ScaffolderSandbox(SandboxedEnvironment):
    """A sandboxed Jinja2 environment whose expressions see data and allow-listed methods only."""

    intercepted_binops = frozenset({"+", "*", "**", "/", "//", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute``: a data lookup or an allow-listed method (never a Python attribute).

        Raises:
            SecurityError: ``attribute`` is ``__proto__``, ``constructor`` or ``prototype``.
        """
        return self._lookup(obj, attribute)

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """Join rendered output (a whole template, a macro, a ``{% set %}`` block) within the output budget."""
        allowance = budget.output_allowance()
        pieces: list[str] = []
        total = 0
        iterator = iter(parts)
        # A few pieces at a time: checked before more are produced, without a Python step per piece.
        while batch := list(itertools.islice(iterator, 16)):
            total += sum(map(len, batch))
            if total > allowance:
                budget.output_exceeded()
            pieces += batch
        return "".join(pieces)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call an allow-listed callable, counted against the render's time budget.

        Raises:
            SecurityError: ``obj`` is not allow-listed (see :meth:`is_safe_callable`).
            BudgetExceeded: the render is out of time, or the result is a string or list over its size cap.
        """
        budget.tick()
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, str):
            budget.check_length(len(result))
        elif isinstance(result, list):
            budget.check_items(len(result))
        return result

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``obj[argument]``: a data lookup, or a slice (a string slices into a list of characters, as in nunjucks).

        Raises:
            SecurityError: ``argument`` is ``__proto__``, ``constructor`` or ``prototype``.
            BudgetExceeded: a slice has more items than the cap.
        """
        if isinstance(argument, slice) and isinstance(obj, str | list | tuple):
            sliced = obj[argument]
            budget.check_items(len(sliced))
            return list(sliced)  # nunjucks slices a string into a list of characters
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
        """Never: attributes are looked up by :meth:`getattr`, which reads only data."""
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        """Whether templates may call ``obj``: a :class:`JsMethod`, a macro or a marked global."""
        # Macros are defined by the template itself; JsMethod and marked globals are the allow-list.
        return isinstance(obj, JsMethod | Macro) or getattr(obj, "__idp_template_global__", False)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``left <operator> right`` with JavaScript's semantics (``+`` joins strings, numbers divide to ``Infinity``).

        Raises:
            BudgetExceeded: the render is out of time, or a joined string is over its size cap.
        """
        budget.tick()
        if operator == "+":
            if isinstance(left, str) or isinstance(right, str):
                return bounded_join("", (js_string(left), js_string(right)))
            if _is_number(left) and _is_number(right):
                return _as_double(left + right)
            if isinstance(left, Undefined) or isinstance(right, Undefined) or left is None or right is None:
                return js_string(left) + js_string(right) if not (_is_number(left) or _is_number(right)) else math.nan
            return bounded_join("", (js_string(left), js_string(right)))
        # JavaScript arithmetic: operands become numbers ("3" * 2 is 6), division by zero is Infinity or NaN.
        left, right = js_to_number(left), js_to_number(right)
        if math.isnan(left) or math.isnan(right):
            return math.nan
        if operator == "*":
            return _as_double(left * right)
        if operator == "**":
            if _too_many_bits(left, right):
                return math.inf if left > 0 or right % 2 == 0 else -math.inf
            return _as_double(left**right)
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


def _too_many_bits(base: Any, exponent: Any) -> bool:
    """Whether ``base ** exponent`` (integers) would pass a double's range: computing it could take forever."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or abs(base) <= 1 or exponent <= 0:
        return False
    return exponent * math.log2(abs(base)) > _MAX_INT_BITS


def _as_double(value: Any) -> Any:
    """An integer too big for a JavaScript double is Infinity, as in JavaScript (and stays cheap to compute with)."""
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return math.inf if value > 0 else -math.inf
    return value


class BudgetedLoop:
    """What a template's ``{% for %}`` iterates: the items, counted against the render's loop and time budget."""

    __slots__ = ("_items",)

    def __init__(self, items: Any) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            budget.count_loop()
            yield item

    def __len__(self) -> int:
        return len(self._items)  # a TypeError here makes Jinja's loop.length count the items itself


def budgeted_loop(items: Any) -> BudgetedLoop:
    """The filter every ``{% for %}`` iterable is wrapped in."""
    return BudgetedLoop(items)


def tilde_join(parts: list[Any]) -> str:
    """``a ~ b``: Jinja's string concatenation (``str`` of each part), within the string budget."""
    for part in parts:
        if isinstance(part, list | tuple | dict):  # a list holding one big string many times over
            budget.check_length(printed_size(part))
    return bounded_join("", [str(part) for part in parts])


def budgeted_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` checking the clock before it runs and the size of the string or list it returns."""

    @functools.wraps(function)  # keeps Jinja's pass_context/pass_environment marks
    def run(*args: Any, **kwargs: Any) -> Any:
        budget.tick()
        result = function(*args, **kwargs)
        if isinstance(result, str):
            budget.check_length(len(result))
        elif isinstance(result, list):
            budget.check_items(len(result))
        return result

    return run


_MISSING = object()


class JsUndefined(ChainableUndefined):
    """Nunjucks' undefined: prints nothing and lets ``a.b.c`` continue, but cannot be called."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""

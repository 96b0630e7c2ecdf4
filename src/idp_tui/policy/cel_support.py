"""CEL for ValidatingAdmissionPolicies, on ``common-expression-language`` (the Rust ``cel`` crate), with the
Kubernetes function libraries it has, and a clear "cannot evaluate" for those it lacks.

Runs in the evaluation worker only (see ``worker.py``): importing ``cel`` is the worker's business.

Kubernetes evaluates these expressions with cel-go plus its own libraries. What this engine covers:
- the CEL standard library natively (``size``, ``contains``, ``startsWith``, ``endsWith``, ``matches`` (RE2
  syntax), conversions, ``timestamp``/``duration`` and their getters, ``type``, ``dyn``, ``has`` and the
  comprehension macros ``all``/``exists``/``exists_one``/``map``/``filter``);
- from the package's ``cel.stdlib`` (which mirrors cel-go's extensions): the strings extension (``charAt``,
  ``indexOf``, ``lastIndexOf``, ``lowerAscii``, ``upperAscii``, ``replace``, ``split``, ``join``, ``substring``,
  ``trim``, ``reverse``, ``strings.quote``), the sets extension, and ``min``/``max``/``sum`` of Kubernetes' list
  library.

Everything else Kubernetes offers is said, never guessed: a policy using any other function (``isSorted``,
``find``/``findAll``, ``url()``, ``quantity()``, ``ip()``/``cidr()``, ``semver()``, ``format.*``, the optional
syntax ``.?``/``orValue``, two-variable comprehensions, ``authorizer``...) yields "cannot evaluate: uses X, which
idp-tui's CEL engine lacks". Where ``cel.stdlib`` covers only part of a function (``indexOf`` of strings, not of
lists) the other part raises the same "lacks" at evaluation time, never an error that would read as a verdict.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .cel_text import TOP_LEVEL, VARIABLE_PREFIX, binds_any, cel_tokens, fields_as_indexes

LACKS_MARKER = "IdpTuiLacks"

# Functions the Rust engine implements itself (as reported by Program.functions()).
NATIVE_FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string", "bytes",
        "timestamp", "duration", "type", "dyn", "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth",
        "getDate", "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
# Names the comprehension macros leave behind when used with an arity the engine does not expand (two-variable
# comprehensions of Kubernetes 1.33: all(i, v, ...), exists(k, v, ...)).
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter", "transformList", "transformMap"})
_SYNTAX_WORDS = {".?": "optional field selection (.?)", "[?": "optional index ([?])", "?": "optional syntax (?)"}


class IdpTuiLacks(Exception):
    """A Kubernetes CEL overload the engine lacks was reached at evaluation time."""


def _lacks(what: str):
    raise IdpTuiLacks(what)


def _registered_functions() -> dict[str, Any]:
    from cel.stdlib import EXTENSIONS

    strings = EXTENSIONS["strings"]
    core = EXTENSIONS["core"]

    def string_only(name: str):
        implementation = strings[name]

        def call(receiver, *args):
            if not isinstance(receiver, str):
                _lacks(f"{name} on a {type(receiver).__name__} (Kubernetes' list library)")
            return implementation(receiver, *args)

        return call

    def list_only(name: str):
        implementation = core[name]

        def call(*args):
            if len(args) != 1 or not isinstance(args[0], list):
                _lacks(f"{name} with {len(args)} arguments (Kubernetes' list library has only list.{name}())")
            return implementation(args[0])

        return call

    functions: dict[str, Any] = dict(strings)
    for name in ("indexOf", "lastIndexOf", "reverse"):
        functions[name] = string_only(name)
    functions.update(EXTENSIONS["sets"])
    for name in ("min", "max", "sum"):
        functions[name] = list_only(name)
    functions["bool"] = core["bool"]
    return functions


_FUNCTIONS: dict[str, Any] | None = None


def functions() -> dict[str, Any]:
    """The functions registered on every evaluation context (built once per worker)."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _registered_functions()
    return _FUNCTIONS


def supported_functions() -> frozenset[str]:
    return NATIVE_FUNCTIONS | frozenset(functions())


def _is_operator(name: str) -> bool:
    return name.startswith(("_", "@", "!_", "-_"))


@dataclass(frozen=True)
class Compiled:
    """A compiled expression, or why it cannot be used: ``error`` (invalid CEL) or ``lacks`` (a function).

    ``program`` runs the expression with each ``variables.NAME`` read from a top-level ``VARIABLE_PREFIX + NAME``
    (see :func:`_hoist_variables`) and fields read as indexes (see :func:`~.cel_text.fields_as_indexes`);
    ``needs_variables_map`` when it still reads ``variables`` some other way.
    """

    source: str
    program: Any = None
    hoisted: str = ""  # the source as ``program`` runs it
    error: str = ""
    lacks: str = ""
    variables: frozenset[str] = frozenset()
    uses_variables: frozenset[str] = frozenset()  # names read as variables.NAME
    needs_variables_map: bool = False


def _reserved_name(source: str) -> str | None:
    """An identifier of ``source`` that idp-tui's rewrite uses (``idp_tui_variable__…``), or None."""
    found = (text for kind, text, _ in cel_tokens(source) if kind == "ident" and text.startswith(VARIABLE_PREFIX))
    return next(found, None)


def _hoist_variables(source: str) -> tuple[str, frozenset[str]]:
    """``variables.NAME`` as the top-level ``VARIABLE_PREFIX + NAME``, and the names read that way.

    The engine copies a map's contents each time a field of it is selected and converts every value handed to it,
    so a ``variables`` map re-sent whenever one more variable is known costs more than the expressions themselves.
    As its own top-level value, each variable is converted once. ``has(variables.NAME)`` of a declared variable
    is true. Nothing is rewritten where a comprehension names its element ``variables``: there, as in Kubernetes,
    ``variables.NAME`` reads the element.
    """
    tokens = cel_tokens(source)
    if binds_any(tokens, frozenset({"variables"})):
        return source, frozenset()
    used: set[str] = set()
    pieces: list[str] = []
    end = 0
    for index, (kind, text, offset) in enumerate(tokens):
        if kind != "ident" or text != "variables" or (index and tokens[index - 1][1] == "."):
            continue  # `x.variables` is a field of x
        after = tokens[index + 1 : index + 4]
        if len(after) < 2 or after[0][1] != "." or after[1][0] != "ident":
            continue  # the map itself
        name_text, name_offset = after[1][1], after[1][2]
        used.add(name_text)
        around = tokens[index - 2 : index] if index >= 2 else []
        if [t[1] for t in around] == ["has", "("] and len(after) == 3 and after[2][1] == ")":
            pieces += [source[end : around[0][2]], "true"]
            end = after[2][2] + 1
        else:
            pieces += [source[end:offset], VARIABLE_PREFIX + name_text]
            end = name_offset + len(name_text)
    return "".join(pieces) + source[end:], frozenset(used)


_SHOWN = 160


def short(text: str, width: int = _SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _parse_error(source: str, error: Exception) -> Compiled:
    text = str(error)
    unsupported = re.search(r"unsupported syntax '([^']*)'", text)
    if unsupported:
        syntax = unsupported.group(1)
        return Compiled(source, lacks=_SYNTAX_WORDS.get(syntax, f"the syntax {syntax!r}"))
    # "Failed to parse expression '<source>': ERROR: <input>:1:4: Syntax error: ..." -> the part after <input>
    detail = re.search(r"ERROR: <input>:(\d+):(\d+): ([^\n|]*)", text)
    if detail:
        return Compiled(source, error=f"{detail.group(3).strip()} (at {detail.group(1)}:{detail.group(2)})")
    return Compiled(source, error=short(text))


def _position(source: str, lacking: str) -> int:
    name = lacking.removeprefix("the two-variable comprehension ").split("(", 1)[0]
    found = re.search(rf"\b{re.escape(name)}\s*\(", source)
    return found.start() if found else len(source)


def compile_expression(source: str) -> Compiled:
    """Compile ``source`` and find any function or syntax the engine lacks."""
    import cel

    try:
        program = cel.compile(source)
    except Exception as error:  # the binding raises ValueError for syntax errors; anything else is said the same
        return _parse_error(source, error)
    reserved = _reserved_name(source)
    if reserved:  # Kubernetes: an undeclared reference
        return Compiled(source, error=f"undeclared reference to {reserved!r} (a name idp-tui reserves)")
    supported = supported_functions()
    lacking: list[str] = []
    for name in program.functions():
        if _is_operator(name):
            continue
        if name in _MACROS:
            lacking.append(f"the two-variable comprehension {name}(…, …, …)")
        elif name not in supported:
            lacking.append(f"{name}()")
    if lacking:
        # In the order they are written: "quantity(), isLessThan()" reads as the expression does.
        lacking.sort(key=lambda text: _position(source, text))
        return Compiled(source, lacks=", ".join(lacking), variables=frozenset(program.variables()))
    variables = frozenset(program.variables())
    hoisted, used = _hoist_variables(source)
    if hoisted != source:
        try:
            program = cel.compile(hoisted)
        except Exception as error:  # pragma: no cover - a rewrite of valid CEL is valid CEL
            return _parse_error(source, error)
    indexed = fields_as_indexes(hoisted)
    if indexed != hoisted:
        # A form the rewrite does not know (it no longer compiles): the expression runs as it is written.
        with contextlib.suppress(Exception):
            program, hoisted = cel.compile(indexed), indexed
    needs_map = "variables" in program.variables()
    return Compiled(
        source,
        program=program,
        hoisted=hoisted,
        variables=variables,
        uses_variables=used,
        needs_variables_map=needs_map,
    )


def with_variables_inlined(compiled: Compiled, variables: Mapping[str, Compiled]) -> Compiled | None:
    """``compiled`` computing the policy variables it reads itself, each bound by a one-element comprehension
    (``[podSpec].map(v, …)[0]``); None when it reads none, or one it cannot (undeclared, in a loop, or reading the
    ``variables`` map).

    Handing a variable's value to the engine converts it from Python and back, a microsecond or more per string:
    on a Deployment that took most of the time of the admission policies. Inside one program the value never
    leaves the engine. Each variable it reads is computed before the expression, as the step-by-step evaluation
    computes it; that one remains for when this fails, to say which variable failed and why.
    """
    import cel

    if compiled.program is None or compiled.needs_variables_map or not compiled.uses_variables:
        return None
    order: list[str] = []  # each variable after the ones it reads
    visiting: set[str] = set()

    def visit(name: str) -> bool:
        if name in order:
            return True
        variable = variables.get(name)
        if name in visiting or variable is None or variable.program is None or variable.needs_variables_map:
            return False
        visiting.add(name)
        readable = all(visit(used) for used in sorted(variable.uses_variables))
        visiting.discard(name)
        if readable:
            order.append(name)
        return readable

    if not all(visit(name) for name in sorted(compiled.uses_variables)):
        return None
    text = compiled.hoisted
    for name in reversed(order):  # the innermost binding is the variable read last
        # Line breaks: a source may end in a // comment.
        text = f"[{variables[name].hoisted}\n].map({VARIABLE_PREFIX}{name}, {text}\n)[0]"
    try:
        program = cel.compile(text)
    except Exception:  # noqa: BLE001 - not worth the risk: the step-by-step evaluation is always there
        return None
    return Compiled(compiled.source, program=program, hoisted=text, variables=compiled.variables)


# A variable's text written in place of each read of it: past this, a chain of variables each reading the one
# before twice is not worth compiling (the step-by-step evaluation says what failed instead). Measured on the text as
# it runs, fields read as indexes (`.a` written `["a"]`): up to 2.5 times the 64 KiB of source it stands for.
MAX_SUBSTITUTED = 160 * 1024


def with_variables_substituted(compiled: Compiled, variables: Mapping[str, Compiled]) -> Compiled | None:
    """``compiled`` with each variable it reads written in place, so that a variable is computed only where the
    expression reaches it, as the API server computes variables lazily: ``!has(object.data.level) ||
    variables.level <= 5`` holds for an object without ``level``, where computing ``level`` first fails.

    Computing each read again costs more than :func:`with_variables_inlined`, which gives the same value whenever
    every variable it computes succeeds; so this one is for when that fails. None when it reads none, or one that
    cannot be written in place (undeclared, reading itself, or reading the ``variables`` map).
    """
    import cel

    if compiled.program is None or compiled.needs_variables_map or not compiled.uses_variables:
        return None

    def written(text: str, reading: frozenset[str]) -> str | None:
        tokens = cel_tokens(text)
        # A comprehension naming its element after a top-level value (`.all(object, …)`) would make a variable's text
        # written inside it read the element instead.
        if binds_any(tokens, TOP_LEVEL):  # in the expression or in a variable's own text
            return None
        pieces: list[str] = []
        end = 0
        for kind, token, offset in tokens:
            if kind != "ident" or not token.startswith(VARIABLE_PREFIX):  # reserved: only the rewrite writes one
                continue
            name = token.removeprefix(VARIABLE_PREFIX)
            variable = variables.get(name)
            if name in reading or variable is None or variable.program is None or variable.needs_variables_map:
                return None
            inner = written(variable.hoisted, reading | {name})
            if inner is None:
                return None
            pieces += [text[end:offset], f"(\n{inner}\n)"]  # line breaks: a source may end in a // comment
            end = offset + len(token)
            if sum(map(len, pieces)) > MAX_SUBSTITUTED:
                return None
        return "".join([*pieces, text[end:]])

    text = written(compiled.hoisted, frozenset())
    if text is None or len(text) > MAX_SUBSTITUTED:
        return None
    try:
        program = cel.compile(text)
    except Exception:  # noqa: BLE001 - the step-by-step evaluation is always there
        return None
    return Compiled(compiled.source, program=program, hoisted=text, variables=compiled.variables)


class EvaluationError(Exception):
    """An expression failed at evaluation time; ``str()`` is the reason in words."""


class Lacks(Exception):
    """An expression reached something the engine lacks; ``str()`` names it."""


def evaluate(compiled: Compiled, context: Any) -> Any:
    """Run a compiled expression.

    Raises:
        Lacks: a function or overload the engine lacks was reached.
        EvaluationError: the expression failed (no such key, no matching overload, division by zero...).
    """
    try:
        return compiled.program.execute(context)
    except KeyError as error:
        raise EvaluationError(f"no such key: {error.args[0] if error.args else ''}") from None
    except Exception as error:
        text = str(error)
        lacks = re.search(LACKS_MARKER + r": ([^\n.]*(?:\.[^\n ][^\n.]*)*)", text)
        if lacks:
            raise Lacks(lacks.group(1).strip()) from None
        undefined = re.search(r"Undefined variable or function: '([^']*)'", text)
        if undefined:
            name = undefined.group(1)
            raise Lacks(f"{name}()" if name not in compiled.variables else name) from None
        if isinstance(error, ZeroDivisionError):
            raise EvaluationError("division by zero") from None
        if isinstance(error, OverflowError):
            raise EvaluationError("integer overflow") from None
        if isinstance(error, TypeError) and "No such overload" in text:
            raise EvaluationError("no such overload") from None
        raise EvaluationError(short(text.split(". Check ", 1)[0])) from None

"""What a Rego module declares, read from its text without an engine: package, imports, rules, dotted calls.

The engine (regopy) compiles and evaluates; this scan only answers what it cannot: which conftest rules
(``deny``, ``violation``, ``warn`` and their ``_*`` forms) a package has, so that exactly those are queried, and
which dotted built-ins a module calls, so that one the engine lacks (``http.send``) is reported as a problem
instead of evaluating to "undefined" in silence, which is what regopy does with it.

It also answers which top-level keys of ``input`` the modules can read (:func:`input_keys`), so that only those
are given to the engine.

Rule heads are statements at brace depth 0; strings, raw strings and comments are skipped, so a ``deny`` inside
a message or a comment is not a rule; the code between a template string's braces (``$"{input.kind}"``) is read
as code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

CONFTEST_RULE = re.compile(r"^(?:deny|violation|warn)(?:_[A-Za-z0-9_]+)?$")
# conftest's exceptions: ``exception contains ["run_as_root"] if …`` excepts deny_run_as_root ("" excepts deny).
EXCEPTION_RULE = "exception"

_KEYWORDS = {
    "if", "else", "contains", "some", "every", "in", "not", "with", "as", "default", "import", "package",
    "true", "false", "null",
}  # fmt: skip
_TOKEN = re.compile(
    r"""
    (?P<newline>\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9][0-9A-Za-z_.]*)
  | (?P<open>[{\[(])
  | (?P<close>[}\])])
  | (?P<dot>\.)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_TEMPLATE_STARTS = ('$"', "$`")
_CLOSING = {"{": "}", "[": "]", "(": ")"}


@dataclass
class RegoOutline:
    """What a module declares. ``rules`` are (name, line) of conftest rules; ``calls`` (dotted name, line)."""

    package: str = ""
    package_line: int = 1
    imports: dict[str, str] = field(default_factory=dict)  # alias -> imported path
    rules: list[tuple[str, int]] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)  # rule names declared with arguments
    calls: list[tuple[str, int]] = field(default_factory=list)
    patterns: list[tuple[str, int]] = field(default_factory=list)  # literal patterns given to regex.* built-ins
    rule_names: set[str] = field(default_factory=set)  # of ``rules``: a module of 20,000 rules is read in linear time


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """``(kind, value, line)`` of each token.

    A template string (``$"… {expr} …"``, ``$`… {expr} …` ``: rego-cpp evaluates the code between the braces)
    is a ``template`` token, followed by the tokens of each code part between an ``open`` and a ``close``
    brace: a call or a reference to ``input`` written there is one like any other.
    """
    line, counted = 1, 0
    for kind, value, start in _code_spans(text, 0, in_template=False):
        line += text.count("\n", counted, start)
        counted = start
        yield kind, value, line


def _code_spans(text: str, position: int, *, in_template: bool) -> Generator[tuple[str, str, int], None, int]:
    """``(kind, value, offset)`` of the code from ``position``: to the end of the text, or, ``in_template``, to
    the brace closing a template string's code part (its ``close`` token included). Returns where it ended.

    In a code part, as in rego-cpp, a bracket closing another than the innermost one open is ignored (``[1 }]`` is
    ``[1]``): only a ``}`` with nothing open ends the part.
    """
    opened: list[str] = []  # the brackets open in a template's code part
    while position < len(text):
        if text.startswith(_TEMPLATE_STARTS, position):
            quote = text[position + 1]
            spans: list[tuple[str, str, int]] = []
            end = _drained(_template_spans(text, position + 2, quote), spans)
            if spans:
                yield "template", text[position : position + 2], position
                yield from spans
            else:  # no code: the literal it reads as (a pattern written so is checked like any other)
                body = text[position + 2 : end - 1].replace("\\{", "{")
                yield ("string" if quote == '"' else "raw"), quote + body + quote, position
            position = end
            continue
        match = _TOKEN.match(text, position)
        kind, value, start = match.lastgroup, match.group(), position
        position = match.end()
        if in_template and kind == "open":
            opened.append(value)
        elif in_template and kind == "close":
            if not opened and value == "}":
                yield kind, value, start
                return position
            if opened and _CLOSING[opened[-1]] == value:
                opened.pop()
            else:
                kind = "other"  # ignored: it closes nothing
        yield kind, value, start
    return position


def _drained(spans: Generator[tuple[str, str, int], None, int], into: list[tuple[str, str, int]]) -> int:
    """What ``spans`` yields, added to ``into``; returns what it returns (where it ended)."""
    while True:
        try:
            into.append(next(spans))
        except StopIteration as stop:
            return stop.value


def _template_spans(text: str, position: int, quote: str) -> Generator[tuple[str, str, int], None, int]:
    """The code parts of a template string whose text starts at ``position``; returns the offset after it.

    As rego-cpp reads one: in ``$"…"`` a backslash escapes the next character, in ``$`…` `` only a brace
    (``\\{``); an unescaped ``{`` opens a code part, which the matching ``}`` closes.
    """
    while position < len(text):
        char = text[position]
        if char == quote:
            return position + 1
        if char == "\\" and (quote == '"' or text.startswith("\\{", position)):
            position += 2
        elif char == "{":
            yield "open", "{", position
            position = yield from _code_spans(text, position + 1, in_template=True)
        else:
            position += 1
    return position


def outline(text: str) -> RegoOutline:
    """The package, imports, conftest rules and dotted calls of a Rego module (best effort on broken text)."""
    result = RegoOutline()
    depth = 0
    at_statement = True  # the next identifier at depth 0 starts a statement (a rule head, package, import)
    statement: list[tuple[str, str, int]] = []  # tokens of the current depth-0 header
    significant: list[tuple[str, str, int]] = []  # all non-space tokens, for call detection
    for kind, value, line in _tokens(text):
        if kind in ("space", "comment"):
            continue
        if kind == "newline":
            if depth == 0:
                _finish(statement, result)
                statement = []
                at_statement = True
            continue
        significant.append((kind, value, line))
        if at_statement and depth == 0 and kind == "ident" and value not in ("if", "else", "contains"):
            statement = [(kind, value, line)]
            at_statement = False
        elif statement:
            statement.append((kind, value, line))
        if kind == "open":
            depth += 1
            if depth == 1 and value in "{(" and statement:
                _finish(statement, result)  # a body or an argument list: the head is complete
                statement = []
        elif kind == "close":
            depth = max(0, depth - 1)
    _finish(statement, result)
    _find_calls(significant, result)
    return result


def _finish(statement: list[tuple[str, str, int]], result: RegoOutline) -> None:
    if not statement:
        return
    words = [value for kind, value, _ in statement if kind in ("ident", "string", "dot")]
    head_kind, head, line = statement[0]
    if head == "package":
        result.package = _ref_text(statement[1:])
        result.package_line = line
        return
    if head == "import":
        path = _ref_text(statement[1:])
        if "as" in words:
            alias = words[words.index("as") + 1] if words.index("as") + 1 < len(words) else ""
        else:
            alias = path.rsplit(".", 1)[-1]
        if alias and (path.startswith("data.") or path.startswith("input.") or path in ("data", "input")):
            result.imports[alias] = path
        return
    if head == "default" and len(statement) > 1:
        head_kind, head, line = statement[1]
        statement = statement[1:]
    if head_kind != "ident" or head in _KEYWORDS:
        return
    if len(statement) > 1 and statement[1][1] == "(":
        result.functions.add(head)
        return
    conftest = CONFTEST_RULE.match(head) or head == EXCEPTION_RULE
    if conftest and head not in result.rule_names:  # a rule's first definition names its line
        result.rule_names.add(head)
        result.rules.append((head, line))


# (token kind, bracket, previous token kind) that continue a reference such as a.b["c-d"].e
_REF_STEPS = {
    ("ident", "", ""), ("ident", "", "dot"), ("dot", "", "ident"), ("dot", "", "close"), ("open", "[", "ident"),
    ("open", "[", "close"), ("string", "", "open"), ("close", "]", "string"),
}  # fmt: skip


def _ref_text(tokens: list[tuple[str, str, int]]) -> str:
    """``a.b["c-d"]`` as written, up to the first token that is not part of a reference."""
    parts: list[str] = []
    previous = ""
    for kind, value, _ in tokens:
        if (kind, value if kind in ("open", "close") else "", previous) not in _REF_STEPS:
            break
        parts.append(value)
        previous = kind
    return "".join(parts)


def _find_calls(tokens: list[tuple[str, str, int]], result: RegoOutline) -> None:
    """Dotted names followed by ``(``: ``http.send(``, ``net.lookup_ip_addr(``, ``data.lib.f(``; and those after
    ``as``, where ``with time.now_ns as opa.runtime`` makes a call to one built-in call another."""
    index = 0
    count = len(tokens)
    while index < count:
        kind, value, line = tokens[index]
        if kind != "ident" or (index and tokens[index - 1][0] == "dot"):
            index += 1
            continue
        parts = [value]
        end = index + 1
        while (step := _name_step(tokens, end)) is not None:  # rego-cpp calls opa["runtime"]() too
            part, end = step
            parts.append(part)
        called = end < count and tokens[end][1] == "("
        # `with time.now_ns as opa.runtime` calls a built-in under another's name; after `as`, a local value
        # (`with input as fixtures.latest`) is as common, so only the built-ins that reach outside count there.
        before = index - 1
        while before >= 0 and tokens[before][:2] == ("open", "("):  # `with f as (opa.runtime)`
            before -= 1
        replaces = before >= 0 and tokens[before][:2] == ("ident", "as") and parts[0] in _OUTSIDE_NAMESPACES
        name = ".".join(parts)
        if len(parts) > 1 and (called or replaces or name in NAMED_ANYWHERE):
            result.calls.append((name, line))
        position = PATTERN_ARGUMENT.get(name) if called else None
        if position is not None:
            pattern = _argument(tokens, end + 1, position)
            if pattern is not None:
                result.patterns.append(pattern)
        index = end


def _name_step(tokens: list[tuple[str, str, int]], start: int) -> tuple[str, int] | None:
    """The name ``.name`` or ``["name"]`` (a string or raw-string literal) at ``start`` adds to a dotted name,
    and where it ends; None when neither is there."""
    if start + 1 < len(tokens) and tokens[start][0] == "dot" and tokens[start + 1][0] == "ident":
        return tokens[start + 1][1], start + 2
    if start + 2 < len(tokens) and tokens[start][:2] == ("open", "[") and tokens[start + 2][:2] == ("close", "]"):
        name = _literal(tokens[start + 1])
        return (name, start + 3) if name is not None else None
    return None


def _argument(tokens: list[tuple[str, str, int]], start: int, position: int) -> tuple[str, int] | None:
    """The literal text and line of the ``position``-th argument of the call whose arguments start at ``start``;
    None when that argument is not one string or raw-string literal."""
    depth, current, found = 0, 0, []
    for token in tokens[start:]:
        kind, value, _ = token
        if depth == 0 and (value == ")" or (kind == "other" and value == ",")):
            if current == position:
                break
            current += 1
            if value == ")":
                return None
            continue
        if current == position:
            found.append(token)
        depth += 1 if kind == "open" else -1 if kind == "close" else 0
    while len(found) > 2 and found[0][:2] == ("open", "(") and found[-1][:2] == ("close", ")"):
        found = found[1:-1]  # regex.match(("(?i)x"), s)
    if len(found) != 1:
        return None
    text = _literal(found[0])
    return (text, found[0][2]) if text is not None else None


def _literal(token: tuple[str, str, int]) -> str | None:
    """The text of a string or raw-string token; None for any other token."""
    kind, value, _ = token
    if kind == "raw":
        return value[1:-1]
    if kind == "string":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def input_keys(text: str) -> set[str] | None:
    """The top-level keys of ``input`` a module can read: ``spec`` for ``input.spec.replicas`` or
    ``input["spec"]`` (in a template string's code too); None when it may read ``input`` any other way (as a
    whole, ``input[k]`` with a key known only at run time, ``with input as …``), and so may read every key.

    Only what is written right after ``input`` counts: ``input .spec``, which rego-cpp also reads, gives None.
    """
    keys: set[str] = set()
    tokens = list(_tokens(text))
    previous = ""  # the kind of the last token that is not space, a newline or a comment
    for index, (kind, value, _) in enumerate(tokens):
        if kind in ("space", "newline", "comment"):
            continue
        if kind == "ident" and value == "input" and previous != "dot":  # `x.input` is a field of x
            step = _name_step(tokens, index + 1)  # spaces included: `input .spec` is not a step
            if step is None:
                return None
            keys.add(step[0])
        previous = kind
    return keys


# The built-ins that take a regular expression, and which argument it is.
PATTERN_ARGUMENT = {
    "regex.match": 0, "regex.find_n": 0, "regex.find_all_string_submatch_n": 0, "regex.split": 0, "regex.replace": 1,
    "regex.template_match": 0,  # the template: the patterns between its delimiters are read as any other
}  # fmt: skip
# Named anywhere, not only called, a built-in is reported: rego-cpp calls it in forms a scan cannot all foresee
# (`with f as (opa.runtime)` makes a call to f call it).
NAMED_ANYWHERE = frozenset({"opa.runtime"})
# Built-in namespaces that reach the network, the file system or the process.
_OUTSIDE_NAMESPACES = frozenset({"http", "net", "os", "io", "opa"})
# What Go's RE2 (OPA's regex engine) reads and rego-cpp's does not: inline flags ((?i), (?s:…)), named groups,
# Unicode classes (\p{L}), hexadecimal and octal escapes, \A \z \C and \Q…\E, the classes [[:word:]] and
# [[:^alpha:]], and `{,2}` (literal text in RE2). For some rego-cpp answers "undefined", for others a match other
# than OPA's (`\Aab` never matches): either way the rule would silently not judge as written (Go's RE2 refuses
# \C; rego-cpp never matches it). Each counts only where not escaped: after an even number of backslashes (`\\p`
# is a backslash, then p).
# Constructs read anywhere, inside a character class too.
_LACKING_ANYWHERE = re.compile(r"(?<!\\)(?:\\\\)*(?P<construct>\\[pP][{A-Za-z]|\\[x0-7])")
# Constructs that are plain characters inside a class ([(?i)] matches "(", "?", "i" or ")" in both engines).
_LACKING_OUTSIDE_CLASSES = re.compile(r"(?<!\\)(?:\\\\)*(?P<construct>\(\?[imsU-]+[):]|\(\?P?<|\\[AzCQ]|\{,)")
_ESCAPE_OR_CLASS = re.compile(r"(?P<escape>\\.)|(?P<cls>\[\^?\]?(?:\[:\^?[A-Za-z]+:\]|\\.|[^\]\\])*\])", re.DOTALL)
_LACKING_POSIX = re.compile(r"\[:(?:\^[A-Za-z]*|word):\]")  # within a class: [[:word:]], [[:^alpha:]]


def lacking_regex_syntax(pattern: str) -> str | None:
    """The first construct of ``pattern`` that rego-cpp's regex engine lacks, or None."""
    found = _LACKING_ANYWHERE.search(pattern)
    if found:
        return found.group("construct")
    for match in _ESCAPE_OR_CLASS.finditer(pattern):
        posix = _LACKING_POSIX.search(match.group("cls") or "")
        if posix:
            return f"[{posix.group()}]"
    outside = _ESCAPE_OR_CLASS.sub(lambda match: match.group("escape") or "_", pattern)
    found = _LACKING_OUTSIDE_CLASSES.search(outside)
    return found.group("construct") if found else None


def package_path(package: str) -> list[str]:
    """``a.b["c-d"]`` as path segments ``["a", "b", "c-d"]``."""
    segments: list[str] = []
    for match in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]', package):
        segments.append(match.group(1) or match.group(2))
    return segments


def rego_ref(segments: list[str]) -> str:
    """``data.a.b["c-d"]`` for path segments, quoting those that are not identifiers."""
    text = "data"
    for segment in segments:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", segment):
            text += "." + segment
        else:
            text += '["' + segment.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return text

"""Rego policies on regopy (rego-cpp, Microsoft's Rego interpreter), with conftest's conventions.

Runs in the evaluation worker only (``worker.py``), which is what bounds its time and memory and keeps the
environment away from it: rego-cpp has no timeout or instruction budget, and its ``opa.runtime()`` returns the
process environment (tokens included), so the worker runs with an empty environment and idp-tui refuses
``opa.runtime`` outright.

Conftest's conventions: in each chosen package (``main`` by default), every rule named ``deny``, ``violation`` or
``warn``, or starting with ``deny_``, ``violation_`` or ``warn_``, is queried with the document as ``input``; each
value it yields is a message string or an object with ``msg``. ``warn*`` rules warn; the others deny.

All the chosen rules are answered by one compiled query per document (a generated module collects them into one
object), 5-8x faster than a query per rule. When that query fails at run time (a function the engine lacks, or a
value one of its built-ins trips on), the rules are asked one by one: only the failing rule goes unjudged on that
document, and is reported. It is asked on its own from then on, and still judges every other document: a document
that makes a rule fail must not switch that guardrail off for the documents after it.

regopy answers "undefined" for a built-in it does not have, such as ``http.send``, instead of failing; so the
dotted calls of each module are checked before it is loaded, and a module calling a built-in the engine lacks is
reported ("uses http.send…") and not applied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .rego_scan import EXCEPTION_RULE, input_keys, package_path, rego_ref

EVAL_PACKAGE = "idp_tui_eval_b1f0"
MAX_ERROR_SHOWN = 300  # characters of the engine's reason a run-time failure shows
EVAL_MODULE = "<idp-tui query>"
# Available in rego-cpp but never to a policy: it returns the environment (idp-tui's worker empties it too).
REFUSED_BUILTINS = {"opa.runtime": "it would read idp-tui's environment"}
NETWORK_OR_FILES = {"http.send", "net.lookup_ip_addr", "opa.runtime", "io.jwt.decode_verify"}
# Built-ins whose value is not fixed by their arguments (OPA marks them non-deterministic): a module calling one can
# answer two equal inputs differently.
NONDETERMINISTIC = (
    "time.now_ns",
    "rand.",
    "uuid.rfc4122",
    "io.jwt.decode_verify",
    "crypto.x509.parse_and_verify_certificates",
    *NETWORK_OR_FILES,
)


@dataclass
class Rule:
    package: str
    name: str
    file: str
    line: int

    @property
    def policy(self) -> str:
        return f"{self.package}.{self.name}"

    @property
    def action(self) -> str:
        return "warn" if self.name.startswith("warn") else "deny"

    @property
    def exception_name(self) -> str:
        """The name a conftest exception gives to except this rule: ``run_as_root`` for ``deny_run_as_root``,
        ``""`` for ``deny``; as conftest's removeRulePrefix, each prefix in turn (``violation_deny_x``: ``x``)."""
        if self.name in ("violation", "deny", "warn"):
            return ""
        name = self.name
        for prefix in ("violation_", "deny_", "warn_"):
            name = name.removeprefix(prefix)
        return name

    @property
    def ref(self) -> str:
        return rego_ref([*package_path(self.package), self.name])


@dataclass
class Module:
    file: str
    text: str
    package: str
    rules: list[Rule]
    calls: list[tuple[str, int]] = field(default_factory=list)
    imports: dict[str, str] = field(default_factory=dict)


def line_of_offset(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, min(offset, len(text)))) + 1


def _counted(text: str, start: int) -> tuple[str, int]:
    """A rego-cpp length-prefixed string (``12:a/bad.rego``) at ``start``: its text and the index after it."""
    match = re.compile(r"(\d+):").match(text, start)
    if not match:
        return "", start
    length = int(match.group(1))
    begin = match.end()
    return text[begin : begin + length], begin + length


def parse_errors(text: str) -> list[tuple[str, int | None, str]]:
    """``(file, offset or None, message)`` for each error of a rego-cpp error sequence."""
    errors: list[tuple[str, int | None, str]] = []
    for match in re.finditer(r"\(error\b", text):
        position = match.end()
        while position < len(text) and text[position] in " \t":
            position += 1
        file, offset = "", None
        if position < len(text) and text[position].isdigit():
            file, after = _counted(text, position)
            location = re.compile(r"\|(\d+)\|(\d+)").match(text, after)
            if location:
                offset = int(location.group(1))
        message_at = text.find("(errormsg ", match.end())
        message = ""
        if message_at >= 0:
            message, _ = _counted(text, message_at + len("(errormsg "))
        errors.append((file, offset, message.strip() or "the policy does not compile"))
    if not errors and text.strip():
        errors.append(("", None, " ".join(text.split())[:300]))
    return errors


def messages_of(value: Any) -> tuple[list[str], str]:
    """The messages a conftest rule's value holds, and what is wrong with it ("" when nothing)."""
    items = value if isinstance(value, list) else [value]
    messages: list[str] = []
    wrong = ""
    for item in items:
        if isinstance(item, str):
            messages.append(item)
        elif isinstance(item, dict) and isinstance(item.get("msg"), str):
            messages.append(item["msg"])
        elif item is True:
            # `deny if { … }`: conftest refuses to load it (it wants `deny contains …`), and a `deny = true` it
            # passes; the author plainly meant a failure, so idp-tui fails the document, without a message.
            messages.append("")
        elif item is not False and not wrong:
            # Said once; the rule's other messages still count (Rego sorts numbers before strings, so an early
            # return here lost every message after a stray number).
            shown = json.dumps(item, sort_keys=True)[:120]
            wrong = f"yields {shown}, which is neither a message string nor an object with msg"
    return messages, wrong


# rego-cpp keeps a string as the text between its JSON quotes, escapes included, and takes an input string as
# that text: a raw quote, backslash or control character would not equal the same string written in a policy, and
# a verdict echoing it would be invalid JSON (the rule then "fails" on every later document).
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _rego_text(value: str) -> bytes:
    """A string as rego-cpp takes it: the UTF-8 of its JSON-escaped body."""
    if _NEEDS_ESCAPE.search(value):
        value = json.dumps(value, ensure_ascii=False)[1:-1]
    return value.encode("utf-8")


def _set_input(interpreter, document: Any) -> None:
    """Make ``document`` (JSON-decoded: dicts, lists, strings, numbers, booleans, null) the interpreter's input.

    Made with the same C calls as regopy's ``Input``, with each string escaped as rego-cpp expects (see
    :data:`_NEEDS_ESCAPE`) and without its checks against the abstract ``Mapping``/``Sequence`` classes.
    """
    from regopy import RegoError, rego_shared

    library = rego_shared.rego
    text, integer, real, boolean = (
        library.regoInputString,
        library.regoInputInt,
        library.regoInputFloat,
        library.regoInputBoolean,
    )
    null, item, finish_object, finish_array = (
        library.regoInputNull,
        library.regoInputObjectItem,
        library.regoInputObject,
        library.regoInputArray,
    )
    handle = rego_shared.rego_new_input()

    def add(value: Any) -> int:
        """Push ``value``; a non-zero result is a C error code (codes are OR-ed, so any failure shows)."""
        kind = type(value)
        if kind is str:
            return text(handle, _rego_text(value))
        if kind is dict:
            failed = 0
            for key, member in value.items():
                failed |= add(key) | add(member) | item(handle)
            return failed | finish_object(handle, len(value))
        if kind is list:
            failed = 0
            for member in value:
                failed |= add(member)
            return failed | finish_array(handle, len(value))
        if kind is bool:
            return boolean(handle, value)
        if kind is int:
            return integer(handle, value)
        if kind is float:
            return real(handle, value)
        if value is None:
            return null(handle)
        raise ValueError(f"cannot give a {kind.__name__} to Rego")

    try:
        if add(document):
            raise RegoError("the document could not be made Rego's input")
        rego_shared.rego_set_input(interpreter._impl, handle)
    finally:
        rego_shared.rego_free_input(handle)


class RegoEngine:
    """The Rego side of a worker: compiled modules and the queries for manifests and for catalog entities."""

    def __init__(
        self,
        modules: list[Module],
        data: dict[str, Any],
        manifest_rules: list[Rule],
        entity_rules: list[Rule],
    ) -> None:
        self.modules = modules
        self.data = data
        self.rules = {"manifest": manifest_rules, "entity": entity_rules}
        # Rules that failed at run time on some document: asked one by one from then on, outside the combined
        # query (one failing rule fails that query), and still on every document.
        self.failing: set[str] = set()
        self.problems: list[tuple[str, int, str, str]] = []  # (file, line, policy, message)
        self._interpreter = None
        self._combined: dict[str, Any] = {}
        self._single: dict[str, Any] = {}
        # The top-level keys of a document the modules can read (None: any). Only those are made the input:
        # building it costs more than most rules, and a workflow or a ConfigMap is mostly keys no rule reads.
        self.read_keys: frozenset[str] | None = None
        # What the rules of each kind answer on a document with none of those keys (an mkdocs.yml, a CI workflow:
        # most of a golden path's files), asked once: every such document is the same input to them. Only kept
        # where no module calls a built-in that can answer the same input differently (``deterministic``).
        self._no_keys_read: dict[str, dict[str, Any]] = {}
        self.deterministic = False

    # -- loading ---------------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Compile everything; report and drop modules that fail. Returns the files dropped."""
        import regopy

        dropped: list[str] = []
        probe = regopy.Interpreter()
        for module in list(self.modules):
            reason = self._unavailable_call(probe, module)
            if reason:
                self._drop_module(module, reason[0], reason[1], dropped)
        # Syntax errors surface when a module is added; conflicts between modules only when the query is built.
        for module in list(self.modules):
            interpreter = regopy.Interpreter()  # no data: parsing one module needs none
            interpreter.log_level = regopy.LogLevel.NONE
            try:
                interpreter.add_module(module.file, module.text)
            except regopy.RegoError as error:
                file_errors = parse_errors(str(error))
                _, offset, message = file_errors[0]
                line = line_of_offset(module.text, offset) if offset is not None else 1
                more = f" (and {len(file_errors) - 1} more)" if len(file_errors) > 1 else ""
                self._drop_module(module, line, f"Rego: {message}{more}", dropped)
        if not self._build_all():
            self._find_conflicts(dropped)
        self.read_keys = _keys_read(self.modules)
        self.deterministic = not any(
            name.startswith(NONDETERMINISTIC) for module in self.modules for name, _ in module.calls
        )
        return dropped

    def _unavailable_call(self, probe, module: Module) -> tuple[int, str] | None:
        for name, line in module.calls:
            first = name.split(".", 1)[0]
            if first in ("data", "input") or first in module.imports:
                continue
            if name in REFUSED_BUILTINS:
                return line, f"uses {name}, which idp-tui does not provide to policies: {REFUSED_BUILTINS[name]}"
            if not probe.is_builtin(name):
                why = (
                    "policies cannot reach the network, the file system or the environment"
                    # net.cidr_* only compute on addresses: regopy lacks them, they reach nothing
                    if name in NETWORK_OR_FILES or name.startswith(("http.", "net.lookup", "os.", "io.", "opa."))
                    else "regopy does not implement it"
                )
                return line, f"uses {name}, which idp-tui's Rego engine does not provide: {why}"
        return None

    def _drop_module(self, module: Module, line: int, message: str, dropped: list[str]) -> None:
        self.modules.remove(module)
        dropped.append(module.file)
        self.problems.append((module.file, line, module.package, message))
        gone = {id(rule) for rule in module.rules}
        # A rule is one policy however many modules of its package define it (each module adds to a `deny`):
        # it goes only with the last module defining it, and otherwise stands for a module that remains.
        remaining = {}
        for other in self.modules:
            for rule in other.rules:
                remaining.setdefault(rule.policy, rule)
        for kind, rules in self.rules.items():
            kept = (remaining.get(rule.policy) if id(rule) in gone else rule for rule in rules)
            self.rules[kind] = [rule for rule in kept if rule is not None]

    def _new_interpreter(self, modules: list[Module]):
        import regopy

        interpreter = regopy.Interpreter()
        interpreter.log_level = regopy.LogLevel.NONE
        if self.data:
            interpreter.add_data(self.data)
        for module in modules:
            interpreter.add_module(module.file, module.text)
        return interpreter

    def _eval_module(self) -> str:
        lines = [f"package {EVAL_PACKAGE}", "import rego.v1"]
        for kind, rules in self.rules.items():
            for rule in rules:
                if rule.policy not in self.failing:
                    lines.append(f"{kind}[{json.dumps(rule.policy)}] := {rule.ref}")
        return "\n".join(lines) + "\n"

    def _build_all(self) -> bool:
        """(Re)build the interpreter and the two combined queries; False when they do not compile."""
        import regopy

        self._combined.clear()
        self._single.clear()
        self._no_keys_read.clear()
        try:
            self._interpreter = self._new_interpreter(self.modules)
            self._interpreter.add_module(EVAL_MODULE, self._eval_module())
            for kind in self.rules:
                # An entrypoint, not a query (x := data.…): rego-cpp answers it with less set-up per document.
                bundle = self._interpreter.build(None, [f"{EVAL_PACKAGE}/{kind}"])
                if not bundle.ok():
                    return False
                self._combined[kind] = bundle
        except regopy.RegoError:
            return False
        return True

    def _find_conflicts(self, dropped: list[str]) -> None:
        """Add the modules one by one: a module whose addition stops the set compiling is dropped."""
        kept: list[Module] = []
        failed: list[Module] = []
        for module in list(self.modules):
            self.modules = [*kept, module]
            (kept if self._build_all() else failed).append(module)
        self.modules = kept + failed
        for module in failed:
            self._drop_module(
                module,
                1,
                "Rego: does not compile together with the modules loaded before it (a rule defined twice with "
                "different kinds, or a package clash)",
                dropped,
            )
        if not self._build_all():
            for module in list(self.modules):
                self._drop_module(module, 1, "Rego: the policies do not compile", dropped)
            self._build_all()

    # -- evaluation ------------------------------------------------------------------------------------

    def _query(self, bundle, entrypoint: str = "") -> tuple[Any, str]:
        """The bound ``x`` of a compiled query (the value of ``entrypoint`` when given), or ("", error text)."""
        from regopy import rego_shared

        if entrypoint:
            output = rego_shared.rego_bundle_query_entrypoint(self._interpreter._impl, bundle._impl, entrypoint)
        else:
            output = rego_shared.rego_bundle_query(self._interpreter._impl, bundle._impl)
        try:
            ok = rego_shared.rego_output_ok(output)
            text = rego_shared.rego_output_string(output)
        finally:
            rego_shared.rego_free_output(output)
        if not ok or not text.startswith("{"):
            return None, text if text != "undefined" else ""
        try:
            parsed = json.loads(text)
        except ValueError:
            return None, text
        if entrypoint:
            expressions = parsed.get("expressions") if isinstance(parsed, dict) else None
            return (expressions[0] if isinstance(expressions, list) and expressions else None), ""
        bindings = parsed.get("bindings") if isinstance(parsed, dict) else None
        return (bindings or {}).get("x"), ""

    def _single_bundle(self, rule: Rule):
        bundle = self._single.get(rule.policy)
        if bundle is None:
            bundle = self._interpreter.build(f"x := {rule.ref}")
            self._single[rule.policy] = bundle
        return bundle

    def evaluate(self, document: Any, kind: str, only: set[str] | None = None) -> tuple[list[tuple], list[tuple]]:
        """``(results, problems)`` for one document: results ``(policy, action, message)``; problems
        ``(file, line, policy, message)``.

        Args:
            document: the input.
            kind: ``manifest`` or ``entity`` (which packages' rules apply).
            only: when set, just these rules (by policy name), each queried on its own.
        """

        rules = self.rules.get(kind, [])
        if only is not None:
            # With the exception rules of their packages: a rule asked on its own is still excepted.
            packages = {rule.package for rule in rules if rule.policy in only}
            rules = [
                rule
                for rule in rules
                if rule.policy in only or (rule.name == EXCEPTION_RULE and rule.package in packages)
            ]
        if not rules or self._interpreter is None:
            return [], []
        if self.read_keys is not None and type(document) is dict:
            document = {key: value for key, value in document.items() if key in self.read_keys}
        if document == {} and only is None and self.deterministic:
            values = self._no_keys_read.get(kind)
            problems: list[tuple] = []
            if values is None:
                values, problems = self._query_rules(document, kind, rules, only)
                if not problems:
                    self._no_keys_read[kind] = values
        else:
            values, problems = self._query_rules(document, kind, rules, only)
        excepted = _excepted(rules, values)
        results: list[tuple] = []
        for rule in rules:
            if rule.policy not in values or rule.name == EXCEPTION_RULE:
                continue
            messages, wrong = messages_of(values[rule.policy])
            if wrong:
                problems.append((rule.file, rule.line, rule.policy, f"the rule {wrong}"))
            action = "exception" if rule.exception_name in excepted.get(rule.package, ()) else rule.action
            results.extend((rule.policy, action, message) for message in messages)
        return results, problems

    def _query_rules(
        self, document: Any, kind: str, rules: list[Rule], only: set[str] | None
    ) -> tuple[dict[str, Any], list[tuple]]:
        """``rules``' values on ``document`` (by policy), and the problems met asking them."""
        _set_input(self._interpreter, document)
        values: dict[str, Any] = {}
        problems: list[tuple] = []
        combined = self._combined.get(kind) if only is None else None
        singles = [rule for rule in rules if rule.policy in self.failing] if combined is not None else rules
        if combined is not None:
            value, error = self._query(combined, f"{EVAL_PACKAGE}/{kind}")
            if error:
                singles = rules  # a rule failed on this document: which one, each asked alone says
            else:
                values = value if isinstance(value, dict) else {}
        newly_failing = False
        for rule in singles:
            value, error = self._query(self._single_bundle(rule))
            if error:
                # Only this document goes unjudged by the rule: a document that makes a rule fail must not
                # switch it off for the documents after it.
                _, _, message = parse_errors(error)[0]
                if message.strip() in ("", "<error>"):
                    message = "the engine gave no reason (a rule with two different values, say)"
                elif len(message) > MAX_ERROR_SHOWN:  # it may quote the document's own values, of any length
                    message = message[: MAX_ERROR_SHOWN - 1] + "…"
                why = f"Rego evaluation failed: {message}; the rule does not judge a document where it fails"
                problems.append((rule.file, rule.line, rule.policy, why))
                newly_failing |= rule.policy not in self.failing
                self.failing.add(rule.policy)
            elif value is not None:
                values[rule.policy] = value
        if newly_failing and only is None:
            self._build_all()  # the combined query without the failing rules
        return values, problems


def _keys_read(modules: list[Module]) -> frozenset[str] | None:
    """The top-level input keys any of ``modules`` can read; None when one may read any key."""
    keys: set[str] = set()
    for module in modules:
        read = input_keys(module.text)
        if read is None:
            return None
        keys |= read
    return frozenset(keys)


def _excepted(rules: list[Rule], values: dict[str, Any]) -> dict[str, set[str]]:
    """Per package, the rule names its ``exception`` rule excepts for this document: conftest's
    ``exception contains ["run_as_root"] if …`` is a set of lists of names (items of another kind are ignored)."""
    excepted: dict[str, set[str]] = {}
    for rule in rules:
        value = values.get(rule.policy) if rule.name == EXCEPTION_RULE else None
        for names in value if isinstance(value, list) else ():
            excepted.setdefault(rule.package, set()).update(
                name for name in (names if isinstance(names, list) else ()) if isinstance(name, str)
            )
    return excepted

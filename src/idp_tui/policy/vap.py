"""ValidatingAdmissionPolicy semantics: what the API server would answer to creating a rendered manifest.

Runs in the evaluation worker (CEL through ``cel_support``). For each binding of a valid policy, in the API
server's order: the policy's ``matchConstraints`` and the binding's ``matchResources`` (resource rules for a
CREATE, exclusions, object and namespace selectors), the params (``paramKind`` with the binding's ``paramRef``,
from the objects found beside the policies; one evaluation per param a selector picks;
``parameterNotFoundAction``), the ``matchConditions`` (all must hold), then each validation. ``variables`` are
evaluated lazily, only for the expressions that read them, with the value and type the API server gives them.
A validation that is false fails with its ``message``, or its ``messageExpression`` when that yields a one-line
non-empty string, or ``failed expression: <expression>``; an expression that fails to evaluate follows the
policy's ``failurePolicy`` (``Fail`` by default: ``expression '<expression>' resulted in error: <why>``).

The binding's ``validationActions`` give the verdict: ``Deny`` (a deny), ``Warn`` (a warning) or ``Audit`` (an
audit note); with ``Audit`` beside ``Deny`` or ``Warn`` the stronger one is reported.

Never a guessed verdict: an expression that needs a function the engine lacks, ``authorizer``,
``request.userInfo`` (who applies the manifest is unknown here), the ``namespaceObject`` or namespace labels of a
namespace that is not among the documents, makes that policy "cannot evaluate" for the document, reported as a
problem, with no result from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import cel_support
from .vap_match import (
    BUILTIN_KINDS,
    OnlyEquivalent,
    RequestTarget,
    UnknownLabels,
    match_resources,
    selector_matches,
)

ACTIONS = {"Deny": "deny", "Warn": "warn", "Audit": "audit"}


class CannotEvaluate(Exception):
    """This policy gives no verdict on this document; ``str()`` says why."""


class _ExpressionFailed(Exception):
    pass


@dataclass
class Expression:
    path: tuple
    line: int
    compiled: cel_support.Compiled
    inlined: cel_support.Compiled | None = None  # with the variables it reads computed inside (tried first)
    # With each variable it reads written in place (computed only where reached), made when first needed.
    substituted: cel_support.Compiled | None = None
    substitution_tried: bool = False


@dataclass
class Policy:
    name: str
    file: str
    line: int
    data: dict
    match: dict | None
    failure_policy: str
    param_kind: tuple[str, str] | None
    match_conditions: list[tuple[str, Expression]] = field(default_factory=list)
    variables: dict[str, Expression] = field(default_factory=dict)
    validations: list[tuple[Expression, str, Expression | None, str]] = field(default_factory=list)
    audit_annotations: list[Expression] = field(default_factory=list)  # their values; an error follows failurePolicy
    uses_namespace_object: bool = False
    signatures: dict[str, tuple | None] = field(default_factory=dict)  # each variable's (see _signature)


@dataclass
class Binding:
    name: str
    file: str
    line: int
    policy: Policy
    action: str
    match: dict | None
    param_ref: dict | None


def _line(lines: dict, path: tuple, default: int) -> int:
    for end in range(len(path), 0, -1):
        line = lines.get(tuple(path[:end]))
        if line:
            return line
    return default


def prepare_policy(file: str, line: int, data: dict, lines: dict) -> tuple[Policy | None, list[tuple]]:
    """Compile a (structurally valid) policy's expressions.

    Returns:
        ``(policy, problems)``: the policy is None when an expression is invalid CEL or uses what the engine lacks;
        problems are ``(file, line, policy name, message)``.
    """
    spec = data.get("spec") or {}
    name = str((data.get("metadata") or {}).get("name") or "")
    param_kind = spec.get("paramKind")
    policy = Policy(
        name=name,
        file=file,
        line=line,
        data=data,
        match=spec.get("matchConstraints"),
        failure_policy=spec.get("failurePolicy") or "Fail",
        param_kind=(param_kind.get("apiVersion"), param_kind.get("kind")) if isinstance(param_kind, dict) else None,
    )
    problems: list[tuple] = []
    compiled_all: list[Expression] = []

    def compile_at(path: tuple, source: str) -> Expression | None:
        compiled = cel_support.compile_expression(source)
        where = _line(lines, path, line)
        field_text = ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in path).replace(
            ".[", "["
        )
        if compiled.error:
            problems.append((file, where, name, f"{field_text}: invalid CEL: {compiled.error}"))
            return None
        lacks = compiled.lacks
        if "authorizer" in compiled.variables:
            lacks = "authorizer (authorization checks need the cluster)"
        if not lacks and "params" in compiled.variables and policy.param_kind is None:
            problems.append(
                (file, where, name, f"{field_text}: undeclared reference to 'params' (the policy has no paramKind)")
            )
            return None
        if not lacks and "request" in compiled.variables and "userInfo" in source:
            lacks = "request.userInfo (who will apply the manifest is not known before it is applied)"
        if lacks:
            problems.append((file, where, name, f"cannot evaluate: uses {lacks}, which idp-tui's CEL engine lacks"))
            return None
        if "namespaceObject" in compiled.variables:
            policy.uses_namespace_object = True
        expression = Expression(path, where, compiled)
        compiled_all.append(expression)
        return expression

    for index, condition in enumerate(spec.get("matchConditions") or []):
        expression = compile_at(("spec", "matchConditions", index, "expression"), condition["expression"])
        if expression:
            policy.match_conditions.append((condition["name"], expression))
    for index, variable in enumerate(spec.get("variables") or []):
        expression = compile_at(("spec", "variables", index, "expression"), variable["expression"])
        if expression:
            policy.variables[variable["name"]] = expression
    for index, validation in enumerate(spec.get("validations") or []):
        expression = compile_at(("spec", "validations", index, "expression"), validation["expression"])
        message_expression = None
        if validation.get("messageExpression"):
            message_expression = compile_at(
                ("spec", "validations", index, "messageExpression"), validation["messageExpression"]
            )
        if expression:
            message = (validation.get("message") or "").strip()
            policy.validations.append((expression, message, message_expression, validation.get("reason") or "Invalid"))
    for index, annotation in enumerate(spec.get("auditAnnotations") or []):
        expression = compile_at(("spec", "auditAnnotations", index, "valueExpression"), annotation["valueExpression"])
        if expression:
            policy.audit_annotations.append(expression)
    names = [variable["name"] for variable in spec.get("variables") or []]
    declared = set(names)
    for expression in compiled_all:
        visible = declared
        if expression.path[:2] == ("spec", "variables"):  # a variable reads only those declared before it
            visible = set(names[: expression.path[2]])
        for used in sorted(expression.compiled.uses_variables - visible):
            where = " (declared after it)" if used in declared else ""
            problems.append((file, expression.line, name, f"undeclared reference to 'variables.{used}'{where}"))
    if problems:
        return None, problems
    variables = {variable: expression.compiled for variable, expression in policy.variables.items()}
    for expression in compiled_all:
        expression.inlined = cel_support.with_variables_inlined(expression.compiled, variables)
    return policy, problems


def prepare_binding(file: str, line: int, data: dict, policy: Policy) -> Binding:
    spec = data.get("spec") or {}
    actions = spec.get("validationActions") or []
    action = "deny" if "Deny" in actions else "warn" if "Warn" in actions else "audit"
    return Binding(
        name=str((data.get("metadata") or {}).get("name") or ""),
        file=file,
        line=line,
        policy=policy,
        action=action,
        match=spec.get("matchResources"),
        param_ref=spec.get("paramRef"),
    )


@dataclass
class Param:
    api_version: str
    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    data: dict


def _params_for(binding: Binding, target: RequestTarget, params: list[Param]) -> list[Param | None]:
    """The params a binding selects for this object; raises _ExpressionFailed when none may be used."""
    policy = binding.policy
    if policy.param_kind is None:
        return [None]
    ref = binding.param_ref
    if not isinstance(ref, dict):
        raise _ExpressionFailed(
            f"failed to configure binding: no paramRef to use with paramKind {policy.param_kind[1]}"
        )
    api_version, kind = policy.param_kind
    namespaced = BUILTIN_KINDS.get(kind, ("", True))[1]
    namespace = ref.get("namespace") or ""
    if namespaced and not namespace:
        if not target.namespaced:
            raise _ExpressionFailed("cannot use a namespaced paramRef without a namespace for a cluster-scoped object")
        namespace = target.namespace
    found = [
        param
        for param in params
        if param.api_version == api_version
        and param.kind == kind
        and (not namespaced or param.namespace == namespace)
        and (param.name == ref["name"] if ref.get("name") else selector_matches(ref.get("selector"), param.labels))
    ]
    if found:
        return found
    if (ref.get("parameterNotFoundAction") or "Deny") == "Deny":
        raise _ExpressionFailed(
            "no params found for policy binding with `Deny` parameterNotFoundAction",
        )
    return []


class DocumentContext:
    """The CEL context of one document, made on first use and shared by every policy evaluated on it.

    Converting a value into the engine costs more than most expressions, so the object is converted once per
    document. An expression that reads variables computes them itself, inside the engine
    (``Expression.inlined``); when that fails, they are computed one by one to say which failed and how, and
    then a variable is computed and converted once per document when policies declare it alike (the same name,
    expression and dependencies, and no ``params``). Each (policy, param) evaluation sets ``params``,
    ``namespaceObject`` and the rest.

    Every value bound drops the engine's prepared environment, and the next expression rebuilds it (copying every
    value in it, the object included): so ``params`` and ``namespaceObject`` are bound only when they change
    (most policies have no params: ``null`` from one to the next).
    """

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self._context = None
        self.bound: dict[str, tuple] = {}  # variable name -> signature of the value bound in the context now
        self.shared: dict[tuple, tuple[bool, Any]] = {}  # signature -> (ok, value or error) for this document
        self._given: dict[str, Any] = {"namespaceObject": base.get("namespaceObject")}  # name -> value bound now

    def give(self, name: str, value: Any) -> None:
        """Bind ``params`` or ``namespaceObject`` to ``value``, unless that very value is bound already."""
        if name in self._given and self._given[name] is value:
            return
        self.context.add_variable(name, value)
        self._given[name] = value

    @property
    def context(self):
        if self._context is None:
            import cel

            self._context = cel.Context(variables=self.base, functions=cel_support.functions())
        return self._context


def _signature(policy: Policy, name: str, seen: frozenset = frozenset()) -> tuple | None:
    """What makes a variable's value the same in two policies; None when it depends on params, on the whole
    ``variables`` map, or loops. Remembered per policy: variables reading the two before each would take
    exponential time (a policy whose variables loop is never applied, so a name has one answer)."""
    if name in policy.signatures:
        return policy.signatures[name]
    expression = policy.variables.get(name)
    compiled = expression.compiled if expression is not None else None
    if compiled is None or name in seen or "params" in compiled.variables or compiled.needs_variables_map:
        return None
    dependencies = []
    for used in sorted(compiled.uses_variables):
        signature = _signature(policy, used, seen | {name})
        if signature is None:
            policy.signatures[name] = None
            return None
        dependencies.append(signature)
    policy.signatures[name] = (name, compiled.source, tuple(dependencies))
    return policy.signatures[name]


class Evaluation:
    """One (object, param) evaluation of a policy, with its variables computed on first use."""

    def __init__(self, policy: Policy, document: DocumentContext, param: Param | None, namespace_object) -> None:
        self.policy = policy
        self.document = document
        self.context = document.context
        document.give("params", param.data if param else None)
        if policy.uses_namespace_object:
            document.give("namespaceObject", namespace_object)
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self._computing: set[str] = set()  # the variables being computed now
        self._map_keys: frozenset[str] | None = None  # the names in the ``variables`` map bound now

    def _variable(self, name: str) -> None:
        if name in self.values or name in self.errors:
            return
        if name in self._computing:
            self.errors[name] = f"variables.{name} refers to itself"
            return
        signature = _signature(self.policy, name)
        if signature is not None and signature in self.document.shared:
            ok, value = self.document.shared[signature]
            if not ok:
                self.errors[name] = value
                return
            self.values[name] = value
            if self.document.bound.get(name) != signature:
                self.context.add_variable(cel_support.VARIABLE_PREFIX + name, value)
                self.document.bound[name] = signature
            return
        expression = self.policy.variables[name]
        self._computing.add(name)
        try:
            for used in expression.compiled.uses_variables:
                self._variable(used)
            value = self.run(expression, variable=name)
        except _ExpressionFailed as error:
            self.errors[name] = str(error)
            if signature is not None:
                self.document.shared[signature] = (False, str(error))
            return
        finally:
            self._computing.discard(name)
        self.values[name] = value
        self.context.add_variable(cel_support.VARIABLE_PREFIX + name, value)
        self.document.bound[name] = signature
        if signature is not None:
            self.document.shared[signature] = (True, value)

    def _lazily(self, expression: Expression) -> tuple[bool, Any]:
        """``(True, value)`` when the expression holds a value with each variable computed only where reached.

        Computing a variable before the expression fails where the API server, which computes variables lazily,
        gets a value: ``!has(object.data.level) || variables.level <= 5`` on an object without ``level``.
        """
        if not expression.substitution_tried:
            variables = {name: variable.compiled for name, variable in self.policy.variables.items()}
            expression.substituted = cel_support.with_variables_substituted(expression.compiled, variables)
            expression.substitution_tried = True
        if expression.substituted is None:
            return False, None
        try:
            return True, cel_support.evaluate(expression.substituted, self.context)
        except (cel_support.Lacks, cel_support.EvaluationError):
            return False, None

    def run(self, expression: Expression, variable: str | None = None) -> Any:
        """The value of ``expression`` (the one computing ``variable``, when given: read as a whole, the
        ``variables`` map then holds the variables declared before it, the only ones it may read)."""
        if expression.inlined is not None:
            try:
                return cel_support.evaluate(expression.inlined, self.context)
            except (cel_support.Lacks, cel_support.EvaluationError):
                ok, value = self._lazily(expression)
                if ok:
                    return value
                # Computed step by step below, which says which variable failed and how.
        compiled = expression.compiled
        needed: Iterable[str] = compiled.uses_variables
        if compiled.needs_variables_map:
            declared = list(self.policy.variables)
            needed = declared[: declared.index(variable)] if variable in self.policy.variables else declared
        for used in needed:
            if used not in self.policy.variables:
                continue
            self._variable(used)
            if used in self.errors and used in compiled.uses_variables:
                ok, value = self._lazily(expression)
                if ok:
                    return value
                raise _ExpressionFailed(f"variables.{used}: {self.errors[used]}")
            # A variable of this evaluation bound by another policy's evaluation since: bind it again.
            if used in self.values and self.document.bound.get(used, ()) != _signature(self.policy, used):
                self.context.add_variable(cel_support.VARIABLE_PREFIX + used, self.values[used])
                self.document.bound[used] = _signature(self.policy, used)
        if compiled.needs_variables_map:
            shown = {name: self.values[name] for name in needed if name in self.values}
            if shown.keys() != self._map_keys:  # a value, once computed, stays the same in one evaluation
                self.context.add_variable("variables", shown)
                self._map_keys = frozenset(shown)
        try:
            return cel_support.evaluate(compiled, self.context)
        except cel_support.Lacks as lacks:
            raise CannotEvaluate(f"uses {lacks}, which idp-tui's CEL engine lacks") from None
        except cel_support.EvaluationError as error:
            raise _ExpressionFailed(str(error)) from None


def _message(
    evaluation: Evaluation, expression: Expression, message: str, message_expression: Expression | None
) -> str:
    if message_expression is not None:
        try:
            value = evaluation.run(message_expression)
        except (_ExpressionFailed, CannotEvaluate):
            value = None
        if isinstance(value, str) and value.strip() and "\n" not in value.strip():
            return value.strip()
    return message or f"failed expression: {cel_support.short(expression.compiled.source, 1000)}"


def document_context(document: dict, target: RequestTarget) -> DocumentContext:
    """The shared context of a document's evaluations (made on first use: most policies do not match).

    A namespaced object written without ``metadata.namespace`` gets the request's, as the API server sets it
    before admission (``object.metadata.namespace == request.namespace`` holds there)."""
    metadata = document.get("metadata")
    if target.namespaced and isinstance(metadata, dict) and not metadata.get("namespace"):
        document = {**document, "metadata": {**metadata, "namespace": target.namespace}}
    return DocumentContext(
        {"object": document, "oldObject": None, "request": target.request(), "namespaceObject": None}
    )


def evaluate_binding(
    binding: Binding,
    context: DocumentContext,
    target: RequestTarget,
    namespaces: dict[str, dict[str, str]],
    namespace_objects: dict[str, dict],
    params: list[Param],
) -> list[tuple[str, str, str]]:
    """``(action, message, reason)`` for each failed validation of ``binding`` on the document of ``context``.

    Raises:
        CannotEvaluate: this policy cannot give a verdict on this document (said as a problem).
    """
    policy = binding.policy
    try:
        if not match_resources(policy.match, target, namespaces):
            return []
        if binding.match and not match_resources(binding.match, target, namespaces):
            return []
    except UnknownLabels:
        raise CannotEvaluate(
            f"the namespaceSelector needs the labels of namespace {target.namespace!r}, which is not among the "
            "documents (add its Namespace manifest)"
        ) from None
    except OnlyEquivalent as versions:
        raise CannotEvaluate(
            f"its rules cover {target.resource} in {versions} only: under matchPolicy Equivalent the API server would "
            f"convert this {target.group + '/' if target.group else ''}{target.version} object to that version first, "
            "which idp-tui cannot (write the rule for this version, or matchPolicy: Exact)"
        ) from None
    namespace_object = None
    if policy.uses_namespace_object and target.namespaced:
        namespace_object = namespace_objects.get(target.namespace)
        if namespace_object is None:
            raise CannotEvaluate(
                f"reads namespaceObject, and namespace {target.namespace!r} is not among the documents "
                "(add its Namespace manifest)"
            )
    fail = policy.failure_policy == "Fail"
    try:
        selected = _params_for(binding, target, params)
    except _ExpressionFailed as error:
        return [(binding.action, str(error), "Invalid")] if fail else []
    results: list[tuple[str, str, str]] = []
    for param in selected:
        evaluation = Evaluation(policy, context, param, namespace_object)
        try:
            if not _conditions_hold(evaluation):
                continue
        except _ExpressionFailed as error:
            if fail:
                results.append((binding.action, str(error), "Invalid"))
            continue
        for expression, message, message_expression, reason in policy.validations:
            try:
                value = evaluation.run(expression)
            except _ExpressionFailed as error:
                if fail:
                    results.append((binding.action, _errored(expression, str(error)), reason))
                continue
            if value is True:
                continue
            if value is not False:
                if fail:
                    results.append((binding.action, _errored(expression, "the value is not a boolean"), reason))
                continue
            results.append((binding.action, _message(evaluation, expression, message, message_expression), reason))
        results += _audit_annotation_errors(evaluation, fail)
    return results


def _audit_annotation_errors(evaluation: Evaluation, fail: bool) -> list[tuple[str, str, str]]:
    """The audit annotations the API server turns into a deny, whatever the binding's validationActions: a value
    that is neither a string nor null, and, under ``failurePolicy: Fail``, one that cannot be computed."""
    failed = []
    for expression in evaluation.policy.audit_annotations:
        try:
            value = evaluation.run(expression)
        except _ExpressionFailed as error:
            if fail:
                failed.append(("deny", _errored(expression, str(error)), "Invalid"))
            continue
        if value is not None and not isinstance(value, str):
            source = cel_support.short(expression.compiled.source, 1000)
            why = f"resulted in unsupported return type: {_cel_type(value)}. Return type must be either string or null."
            failed.append(("deny", f"valueExpression '{source}' {why}", "Invalid"))
    return failed


def _cel_type(value: Any) -> str:
    """The CEL name of a value's type, as the API server's message gives it."""
    if isinstance(value, bool):
        return "bool"
    names = {int: "int", float: "double", bytes: "bytes", list: "list", dict: "map"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)


def _errored(expression: Expression, why: str) -> str:
    """The API server's words for an expression that fails under ``failurePolicy: Fail``."""
    return f"expression '{cel_support.short(expression.compiled.source, 1000)}' resulted in error: {why}"


def _conditions_hold(evaluation: Evaluation) -> bool:
    """Whether every matchCondition holds. As in the API server, a false one skips the policy even when one
    before it failed: an error counts only when none is false."""
    failed = None
    for name, expression in evaluation.policy.match_conditions:
        try:
            value = evaluation.run(expression)
        except _ExpressionFailed as error:
            failed = failed or f'matchCondition "{name}" resulted in error: {error}'
            continue
        if value is False:
            return False
        if value is not True:
            failed = failed or f'matchCondition "{name}" resulted in error: the value is not a boolean'
    if failed:
        raise _ExpressionFailed(failed)
    return True

"""Checking a ValidatingAdmissionPolicy or its binding the way the API server does before storing it.

Fields follow ``admissionregistration.k8s.io/v1`` (``v1beta1`` has the same shape). An unknown field is an error,
as with ``kubectl apply --validate=strict``; so are the rules the API server's validation enforces (an expression
is required, ``Deny`` and ``Warn`` cannot be used together, selector operators and their values, unique variable
names). Each error carries the field's path, so it can be reported at its line. CEL is compiled elsewhere (in the
evaluation worker): this module imports no engine.
"""

from __future__ import annotations

import re
from typing import Any

API_GROUP = "admissionregistration.k8s.io"
API_VERSIONS = (f"{API_GROUP}/v1", f"{API_GROUP}/v1beta1")
POLICY_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"

# Past this, an expression is not compiled: a 20,000-term sum crashes the CEL parser's stack.
MAX_EXPRESSION_LENGTH = 10_000

_STR = "string"
_ANY = "any"
_STRING_MAP = "string-map"
_LABEL_SELECTOR = {
    "matchLabels": _STRING_MAP,
    "matchExpressions": [{"key": _STR, "operator": _STR, "values": [_STR]}],
}
_RULE = {
    "apiGroups": [_STR],
    "apiVersions": [_STR],
    "resources": [_STR],
    "operations": [_STR],
    "resourceNames": [_STR],
    "scope": _STR,
}
_MATCH_RESOURCES = {
    "namespaceSelector": _LABEL_SELECTOR,
    "objectSelector": _LABEL_SELECTOR,
    "resourceRules": [_RULE],
    "excludeResourceRules": [_RULE],
    "matchPolicy": _STR,
}
_POLICY_SPEC = {
    "paramKind": {"apiVersion": _STR, "kind": _STR},
    "matchConstraints": _MATCH_RESOURCES,
    "validations": [{"expression": _STR, "message": _STR, "reason": _STR, "messageExpression": _STR}],
    "failurePolicy": _STR,
    "auditAnnotations": [{"key": _STR, "valueExpression": _STR}],
    "matchConditions": [{"name": _STR, "expression": _STR}],
    "variables": [{"name": _STR, "expression": _STR}],
}
_BINDING_SPEC = {
    "policyName": _STR,
    "paramRef": {"name": _STR, "namespace": _STR, "selector": _LABEL_SELECTOR, "parameterNotFoundAction": _STR},
    "matchResources": _MATCH_RESOURCES,
    "validationActions": [_STR],
}
_METADATA = {
    "name": _STR,
    "generateName": _STR,
    "namespace": _STR,
    "labels": _STRING_MAP,
    "annotations": _STRING_MAP,
    "uid": _ANY,
    "resourceVersion": _ANY,
    "generation": _ANY,
    "creationTimestamp": _ANY,
    "deletionTimestamp": _ANY,
    "deletionGracePeriodSeconds": _ANY,
    "ownerReferences": _ANY,
    "finalizers": _ANY,
    "managedFields": _ANY,
}
SCHEMAS = {
    POLICY_KIND: {"apiVersion": _STR, "kind": _STR, "metadata": _METADATA, "spec": _POLICY_SPEC, "status": _ANY},
    BINDING_KIND: {"apiVersion": _STR, "kind": _STR, "metadata": _METADATA, "spec": _BINDING_SPEC},
}

REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge")  # what the API server's validation accepts
# Words CEL reserves: not a variable's name (the API server's isCELIdentifier).
_CEL_RESERVED = frozenset((
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
    "let", "loop", "package", "namespace", "return", "var", "void", "while",
))  # fmt: skip
OPERATIONS = ("*", "CREATE", "UPDATE", "DELETE", "CONNECT")
VALIDATION_ACTIONS = ("Deny", "Warn", "Audit")
_CEL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # fullmatch: `$` would let a trailing newline through
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_QUALIFIED_NAME = re.compile(rf"({_DNS_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")

Error = tuple[tuple, str]  # (field path, message)


def _qualified_name(text: str) -> bool:
    """A Kubernetes qualified name: ``[prefix/]name``, the name at most 63 characters, the prefix (a DNS subdomain)
    at most 253, as label keys and matchCondition names must be."""
    prefix, _, name = text.rpartition("/")
    return bool(_QUALIFIED_NAME.fullmatch(text)) and len(name) <= 63 and len(prefix) <= 253


def field_name(path: tuple) -> str:
    """``spec.validations[0].expression`` for ``("spec", "validations", 0, "expression")``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _required(path: tuple, detail: str = "") -> Error:
    return path, f"{field_name(path)}: Required value" + (f": {detail}" if detail else "")


def _unsupported(path: tuple, value: Any, supported: tuple[str, ...]) -> Error:
    choices = ", ".join(f'"{choice}"' for choice in sorted(supported))
    return path, f"{field_name(path)}: Unsupported value: {value!r}: supported values: {choices}"


def _invalid(path: tuple, detail: str) -> Error:
    return path, f"{field_name(path)}: {detail}"


def _shape(value: Any, schema: Any, path: tuple, errors: list[Error]) -> None:
    if schema == _ANY:
        return
    if schema == _STR:
        if not isinstance(value, str):
            errors.append((path, f"{field_name(path)}: must be a string"))
        return
    if schema == _STRING_MAP:
        if not isinstance(value, dict):
            errors.append((path, f"{field_name(path)}: must be a mapping of strings"))
            return
        for key, item in value.items():
            if not isinstance(item, str):
                errors.append(((*path, key), f"{field_name((*path, key))}: must be a string"))
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            errors.append((path, f"{field_name(path)}: must be a list"))
            return
        for index, item in enumerate(value):
            _shape(item, schema[0], (*path, index), errors)
        return
    if not isinstance(value, dict):
        errors.append((path, f"{field_name(path)}: must be a mapping"))
        return
    for key, item in value.items():
        if key not in schema:
            errors.append(((*path, key), f'unknown field "{field_name((*path, key))}"'))
        elif item is not None:
            _shape(item, schema[key], (*path, key), errors)


def _selector(selector: Any, path: tuple, errors: list[Error]) -> None:
    if not isinstance(selector, dict):
        return
    labels = selector.get("matchLabels")
    if isinstance(labels, dict):
        for key in labels:
            if not _qualified_name(str(key)):
                errors.append(_invalid((*path, "matchLabels"), f"invalid label key {key!r}"))
    for index, requirement in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(requirement, dict):
            continue
        where = (*path, "matchExpressions", index)
        operator = requirement.get("operator")
        values = requirement.get("values") or []
        if not requirement.get("key"):
            errors.append(_required((*where, "key")))
        if operator in ("In", "NotIn"):
            if not values:
                errors.append(_invalid((*where, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                errors.append(_invalid((*where, "values"), detail))
        else:
            errors.append(_unsupported((*where, "operator"), operator, ("In", "NotIn", "Exists", "DoesNotExist")))


def _match_resources(match: Any, path: tuple, errors: list[Error], *, required: bool) -> None:
    if not isinstance(match, dict):
        if required:
            errors.append(_required(path))
        return
    for key in ("namespaceSelector", "objectSelector"):
        _selector(match.get(key), (*path, key), errors)
    rules = match.get("resourceRules")
    if required and not rules:
        errors.append(_required((*path, "resourceRules")))
    for key in ("resourceRules", "excludeResourceRules"):
        for index, rule in enumerate(match.get(key) or []):
            if not isinstance(rule, dict):
                continue
            where = (*path, key, index)
            for required_list in ("apiGroups", "apiVersions", "resources", "operations"):
                if not rule.get(required_list):
                    errors.append(_required((*where, required_list)))
            for listed, words in (("apiGroups", "API groups"), ("apiVersions", "API versions"),
                                  ("operations", "operations")):  # fmt: skip
                values = rule.get(listed) or []
                if len(values) > 1 and "*" in values:
                    errors.append(_invalid((*where, listed), f"if '*' is present, must not specify other {words}"))
            _wildcard_resources(rule.get("resources") or [], (*where, "resources"), errors)
            for operation in rule.get("operations") or []:
                if operation not in OPERATIONS:
                    errors.append(_unsupported((*where, "operations"), operation, OPERATIONS))
            if rule.get("scope") not in (None, "*", "Cluster", "Namespaced"):
                errors.append(_unsupported((*where, "scope"), rule.get("scope"), ("*", "Cluster", "Namespaced")))
    if match.get("matchPolicy") not in (None, "Exact", "Equivalent"):
        errors.append(_unsupported((*path, "matchPolicy"), match.get("matchPolicy"), ("Equivalent", "Exact")))


def _wildcard_resources(resources: list, path: tuple, errors: list[Error]) -> None:
    """``*`` covers every resource and ``*/*`` every resource and subresource: neither goes with others."""
    if len(resources) > 1 and "*/*" in resources:
        errors.append(_invalid(path, "if '*/*' is present, must not specify other resources"))
    elif "*" in resources and any("/" not in str(resource) for resource in resources if resource != "*"):
        errors.append(_invalid(path, "if '*' is present, must not specify other resources without subresources"))


def _expression(value: Any, path: tuple, errors: list[Error], *, required: bool = True) -> None:
    if not isinstance(value, str) or not value.strip():
        if required:
            errors.append(_required(path))
    elif len(value) > MAX_EXPRESSION_LENGTH:
        errors.append(_invalid(path, f"longer than {MAX_EXPRESSION_LENGTH:,} characters; not evaluated"))


def _object_and_spec(data: dict, kind: str) -> tuple[list[Error], dict | None]:
    """The errors of an object's shape and name, and its spec (None when there is nothing more to check)."""
    errors: list[Error] = []
    _shape(data, SCHEMAS[kind], (), errors)
    if errors:
        return errors, None
    metadata = data.get("metadata") or {}
    if not metadata.get("name"):
        errors.append(_required(("metadata", "name")))
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return [*errors, _required(("spec",))], None
    return errors, spec


def check_policy(data: dict) -> list[Error]:
    """The errors that keep a ValidatingAdmissionPolicy from being stored (and so from being applied)."""
    errors, spec = _object_and_spec(data, POLICY_KIND)
    if spec is None:
        return errors
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        detail = "validations or auditAnnotations must contain at least one item"
        errors.append(_required(("spec", "validations"), detail))
    _match_resources(spec.get("matchConstraints"), ("spec", "matchConstraints"), errors, required=True)
    param_kind = spec.get("paramKind")
    if isinstance(param_kind, dict):
        for key in ("apiVersion", "kind"):
            if not param_kind.get(key):
                errors.append(_required(("spec", "paramKind", key)))
    if spec.get("failurePolicy") not in (None, "Fail", "Ignore"):
        errors.append(_unsupported(("spec", "failurePolicy"), spec.get("failurePolicy"), ("Fail", "Ignore")))
    for index, validation in enumerate(spec.get("validations") or []):
        where = ("spec", "validations", index)
        _expression(validation.get("expression"), (*where, "expression"), errors)
        _expression(validation.get("messageExpression"), (*where, "messageExpression"), errors, required=False)
        if validation.get("reason") not in (None, *REASONS):
            errors.append(_unsupported((*where, "reason"), validation.get("reason"), REASONS))
        message = validation.get("message")
        if isinstance(message, str) and "\n" in message.strip():
            errors.append(_invalid((*where, "message"), "must not contain line breaks"))
    for index, annotation in enumerate(spec.get("auditAnnotations") or []):
        _expression(annotation.get("valueExpression"), ("spec", "auditAnnotations", index, "valueExpression"), errors)
    for key in ("matchConditions", "variables"):
        names: set[str] = set()
        for index, item in enumerate(spec.get(key) or []):
            where = ("spec", key, index)
            name = item.get("name")
            if not name:
                errors.append(_required((*where, "name")))
            elif key == "variables" and (not _CEL_IDENTIFIER.fullmatch(name) or name in _CEL_RESERVED):
                errors.append(
                    _invalid((*where, "name"), f"Invalid value: {name!r}: name is not a valid CEL identifier")
                )
            elif key == "matchConditions" and not _qualified_name(name):
                detail = f"Invalid value: {name!r}: must be a qualified name (letters, digits, '-', '_', '.')"
                errors.append(_invalid((*where, "name"), detail))
            elif name in names:
                errors.append(_invalid((*where, "name"), f"Duplicate value: {name!r}"))
            names.add(name)
            _expression(item.get("expression"), (*where, "expression"), errors)
    return errors


def check_binding(data: dict) -> list[Error]:
    """The errors that keep a ValidatingAdmissionPolicyBinding from being stored."""
    errors, spec = _object_and_spec(data, BINDING_KIND)
    if spec is None:
        return errors
    if not spec.get("policyName"):
        errors.append(_required(("spec", "policyName")))
    actions = spec.get("validationActions") or []
    if not actions:
        errors.append(_required(("spec", "validationActions")))
    for action in actions:
        if action not in VALIDATION_ACTIONS:
            errors.append(_unsupported(("spec", "validationActions"), action, VALIDATION_ACTIONS))
    if len(set(actions)) != len(actions):
        errors.append(_invalid(("spec", "validationActions"), "Duplicate value"))
    if "Deny" in actions and "Warn" in actions:
        detail = "Invalid value: the combination of Deny and Warn is not allowed"
        errors.append(_invalid(("spec", "validationActions"), detail))
    param_ref = spec.get("paramRef")
    if isinstance(param_ref, dict):
        if param_ref.get("name") and param_ref.get("selector") is not None:
            errors.append(_invalid(("spec", "paramRef"), "Forbidden: name and selector are mutually exclusive"))
        if not param_ref.get("name") and param_ref.get("selector") is None:
            errors.append(_required(("spec", "paramRef"), "one of name or selector must be specified"))
        if not param_ref.get("parameterNotFoundAction"):  # v1 and v1beta1 have no default (v1alpha1's was Deny)
            errors.append(_required(("spec", "paramRef", "parameterNotFoundAction")))
        elif param_ref.get("parameterNotFoundAction") not in ("Allow", "Deny"):
            action = param_ref.get("parameterNotFoundAction")
            errors.append(_unsupported(("spec", "paramRef", "parameterNotFoundAction"), action, ("Allow", "Deny")))
        _selector(param_ref.get("selector"), ("spec", "paramRef", "selector"), errors)
    _match_resources(spec.get("matchResources"), ("spec", "matchResources"), errors, required=False)
    return errors

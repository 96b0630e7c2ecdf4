"""Label and field selectors as the API server reads them (``labelSelector``, ``fieldSelector`` query parameters).

Label selectors use idp-tui's own parser of ``k8s.io/apimachinery/pkg/labels/selector.go`` (``=``, ``==``, ``!=``,
``in``, ``notin``, ``key``, ``!key``, ``>``, ``<``). Field selectors follow ``pkg/fields/selector.go``: terms split on
unescaped commas, operators ``!=``, ``==`` and ``=``, backslash escapes; each kind answers only the fields its
``ToSelectableFields`` offers, and any other field is ``400 field label not supported: <field>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idp_tui.kube.selection import SelectorError as ParseError
from idp_tui.kube.selection import parse_selector

Matcher = Callable[[dict[str, Any]], bool]

_META = ("metadata.name", "metadata.namespace")
# The fields each kind can be selected on (kube-apiserver's registry strategies; every other kind: metadata only).
FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        *_META,
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        *_META,
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "replicasets": (*_META, "status.replicas"),
    "namespaces": ("metadata.name", "status.phase"),
}
# Where a selectable field reads its value when it is not the dotted path itself.
_PATHS = {"source": "source.component", "spec.hostNetwork": "spec.hostNetwork"}


class SelectorError(ValueError):
    """An unparsable selector or an unsupported field (the API server answers 400 BadRequest)."""


def label_matcher(selector: str | None) -> Matcher:
    """A predicate on objects for a label selector; every requirement must hold (comma is AND)."""
    try:
        requirements = parse_selector(selector or "")
    except ParseError as error:
        raise SelectorError(f"unable to parse requirement: {error}") from None
    if not requirements:
        return _everything
    return lambda obj: all(r.matches(obj["metadata"].get("labels") or {}) for r in requirements)


def _everything(obj: dict[str, Any]) -> bool:
    return True


def field_value(obj: dict[str, Any], path: str) -> str | None:
    """The string value of a dotted field path (``metadata.name``, ``involvedObject.kind``...)."""
    value: Any = obj
    for part in _PATHS.get(path, path).split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        if path == "spec.hostNetwork":
            return "false"
        return "" if path.startswith(("spec.", "status.")) or "." not in path else None
    return str(value)


def _terms(selector: str) -> list[str]:
    """Split on commas that are not escaped with a backslash (fields.splitTerms)."""
    terms, current, escaped = [], "", False
    for char in selector:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(current)
            current = ""
        else:
            current += char
    if escaped:
        current += "\\"
    terms.append(current)
    return [term for term in terms if term]


def _unescape(value: str) -> str:
    out, escaped = "", False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out += char
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out += char
    if escaped:
        raise SelectorError("invalid field selector: unterminated escape sequence")
    return out


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``(field, operator, value)`` at the first unescaped operator, trying ``!=``, ``==``, ``=`` in that order."""
    for operator in ("!=", "==", "="):
        index = 0
        while (index := term.find(operator, index)) >= 0:
            backslashes = len(term[:index]) - len(term[:index].rstrip("\\"))
            if backslashes % 2 == 0:
                return term[:index], operator, term[index + len(operator) :]
            index += 1
    return None


def field_matcher(selector: str | None, plural: str = "pods") -> Matcher:
    """A predicate on objects of ``plural`` for a field selector (``=``, ``==``, ``!=``; AND of the terms)."""
    supported = FIELDS.get(plural, _META)
    tests: list[Matcher] = []
    for term in _terms(selector or ""):
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{term}'; can't understand '{term}'")
        key, operator, raw = split
        if key not in supported:
            raise SelectorError(f"field label not supported: {key}")
        value, negate = _unescape(raw), operator == "!="
        tests.append(lambda obj, k=key, v=value, n=negate: (field_value(obj, k) == v) != n)
    if not tests:
        return _everything
    return lambda obj: all(test(obj) for test in tests)

"""Label and field selectors with the API server's syntax (``a=b,c!=d,e in (x,y),f notin (z),g,!h``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Matcher = Callable[[dict[str, Any]], bool]
_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


class SelectorError(ValueError):
    """An unparsable selector (the API server answers 400 BadRequest)."""


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def label_matcher(selector: str | None) -> Matcher:
    """A predicate on objects for a label selector; every requirement must hold (comma is AND)."""
    tests: list[Callable[[dict[str, str]], bool]] = []
    for requirement in _split(selector or ""):
        found = _SET.match(requirement)
        if found:
            key, op, values = (
                found.group(1),
                found.group(2),
                {v.strip() for v in found.group(3).split(",") if v.strip()},
            )
            if op == "in":
                tests.append(lambda labels, k=key, v=values: labels.get(k) in v)
            else:
                tests.append(lambda labels, k=key, v=values: labels.get(k) not in v)
        elif "!=" in requirement:
            key, value = (part.strip() for part in requirement.split("!=", 1))
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in requirement:
            key, value = (part.strip() for part in re.split(r"==?", requirement, maxsplit=1))
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif requirement.startswith("!"):
            key = requirement[1:].strip()
            tests.append(lambda labels, k=key: k not in labels)
        elif re.fullmatch(r"[A-Za-z0-9./_-]+", requirement):
            tests.append(lambda labels, k=requirement: k in labels)
        else:
            raise SelectorError(f"unable to parse requirement: {requirement!r}")
    return lambda obj: all(test(obj["metadata"].get("labels") or {}) for test in tests)


def field_value(obj: dict[str, Any], path: str) -> str | None:
    """The string value of a dotted field path (``metadata.name``, ``involvedObject.kind``...)."""
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if value is None:
        return "" if path.startswith(("spec.", "status.")) else None
    return str(value)


SUPPORTED_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "status.phase",
    "spec.nodeName",
    "spec.restartPolicy",
    "type",
    "reason",
    "source",
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
)


def field_matcher(selector: str | None) -> Matcher:
    """A predicate on objects for a field selector (``=``, ``==`` and ``!=`` on the supported fields)."""
    tests: list[Matcher] = []
    for requirement in _split(selector or ""):
        negate = "!=" in requirement
        key, value = re.split(r"!=|==|=", requirement, maxsplit=1) if "=" in requirement else (requirement, None)
        key = key.strip()
        if value is None or key not in SUPPORTED_FIELDS:
            raise SelectorError(f"field label not supported: {key}")
        if key == "source":
            key = "source.component"
        value = value.strip()
        tests.append(lambda obj, k=key, v=value, n=negate: (field_value(obj, k) == v) != n)
    return lambda obj: all(test(obj) for test in tests)

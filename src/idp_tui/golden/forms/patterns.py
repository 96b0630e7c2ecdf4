"""Regular expressions a template provides (``pattern``, ``patternProperties``), matched with a time limit.

A form's ``pattern: "(a+)+$"`` against fifty ``a`` and a ``!`` backtracks for hours in Python's ``re``. Template
patterns are matched by the ``regex`` module with a timeout instead; a match that runs out of time, or a pattern
that does not compile, is a validation error on that field rather than a hang or a traceback.

:data:`TimedDraft7Validator` is jsonschema's Draft 7 validator with ``pattern``, ``patternProperties`` and
``additionalProperties`` (which matches ``patternProperties`` too) using these timed matches.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex
from jsonschema import Draft7Validator, ValidationError, validators
from jsonschema._utils import extras_msg

# Seconds one template pattern may take to match one value.
PATTERN_TIMEOUT_S = 0.5
# Values longer than this are matched but not remembered (the cache holds its keys).
_CACHED_TEXT = 4096


class PatternProblem(ValueError):
    """A template pattern that could not be used: it ran out of time or does not compile."""


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (jsonschema's ``pattern`` semantics).

    Raises:
        PatternProblem: the match took over :data:`PATTERN_TIMEOUT_S` or the pattern is invalid.
    """
    if len(text) > _CACHED_TEXT:
        return _search(pattern, text)
    matched, problem = _cached_search(pattern, text)
    if problem is not None:
        raise PatternProblem(problem)
    return matched


@lru_cache(maxsize=1024)
def _cached_search(pattern: str, text: str) -> tuple[bool, str | None]:
    # A form resolves and validates on every change: the same value against the same pattern is matched once,
    # and a pattern that ran out of time is not run again for it.
    try:
        return _search(pattern, text), None
    except PatternProblem as problem:
        return False, str(problem)


def _search(pattern: str, text: str) -> bool:
    try:
        return _compiled(pattern).search(text, timeout=PATTERN_TIMEOUT_S) is not None
    except TimeoutError:
        raise PatternProblem(
            f'could not check pattern "{pattern}" in time (matching took over {PATTERN_TIMEOUT_S:g} s)'
        ) from None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern:
    try:
        return regex.compile(pattern)
    except (regex.error, TypeError, ValueError, OverflowError) as error:
        raise PatternProblem(f'pattern "{pattern}" is not a valid regular expression: {error}') from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    if not validator.is_type(instance, "string"):
        return
    try:
        if not search(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")
    except PatternProblem as problem:
        yield ValidationError(str(problem), cause=problem)


def _pattern_properties(validator: Any, pattern_properties: dict, instance: Any, schema: dict) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            try:
                matched = search(pattern, key)
            except PatternProblem as problem:
                yield ValidationError(str(problem), cause=problem, path=[key])
                continue
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: dict) -> Any:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = []
    for name in instance:
        if name in properties:
            continue
        try:
            if any(search(pattern, name) for pattern in patterns):
                continue
        except PatternProblem as problem:
            yield ValidationError(str(problem), cause=problem)
            return
        extras.append(name)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        if patterns:
            joined = ", ".join(repr(each) for each in sorted(extras))
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {', '.join(map(repr, patterns))}")
        else:
            names, verb = extras_msg(sorted(extras, key=str))
            yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")


TimedDraft7Validator = validators.extend(
    Draft7Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)


def schema_error(schema: Any) -> Any:
    """The first reason ``schema`` is not a valid draft-07 schema (a jsonschema error), or None.

    Formats are not checked here: Python's ``re`` cannot compile every pattern a template may hold (``\\p{L}``);
    each pattern is compiled by :func:`search` when it is used, and reported on its own field.
    """
    from jsonschema.exceptions import best_match

    return best_match(Draft7Validator(Draft7Validator.META_SCHEMA).iter_errors(schema))

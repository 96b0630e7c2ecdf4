"""Form values: reading and writing by path, starting values, what is sent, and the review step's rows."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from .form import Form
from .model import MASK, Field, ReviewRow
from .repo_url import compose_repo_url
from .schema import is_present, matches

_INTEGER = re.compile(r"[+-]?\d+")

# Dependencies can reveal fields whose starting values reveal more; forms nest this only a few levels deep.
_MAX_PASSES = 8


def value_at(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested values, or ``None`` when any part is missing."""
    current: Any = values
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def with_value(values: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``values`` with ``path`` set (``None`` removes it); objects along the path are copied, not shared."""
    if not path:
        return values
    head, rest = path[0], path[1:]
    out = dict(values)
    if rest:
        child = out.get(head)
        out[head] = with_value(child if isinstance(child, dict) else {}, rest, value)
    elif value is None:
        out.pop(head, None)
    else:
        out[head] = value
    return out


def parse_input(field: Field, text: str) -> Any:
    """The value for text typed into a field: numbers typed, an empty input absent (``None``), as rjsf stores them.

    Text that is not a number stays text, so validation can say ``must be number``.
    """
    if field.kind not in ("number", "integer"):
        return text if text != "" else None
    stripped = text.strip()
    if not stripped:
        return None
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number


def initial_values(form: Form, remembered: dict[str, Any] | None = None) -> dict[str, Any]:
    """Starting values: the schema's defaults (nested and dependency branches too), overridden by remembered values.

    A remembered value is used only while it still fits its field's schema (type, enum, pattern, limits), so a
    template that changed since the last run never starts with a value it would refuse.

    Args:
        form: the template's form.
        remembered: values of an earlier run of the same template, nested like the values.
    """
    return _fill(form, {}, remembered or {}, None)


def reveal_defaults(form: Form, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``after`` with defaults for the fields a change revealed (a dependency branch that just appeared).

    Only newly shown fields get defaults: a field the person emptied keeps empty.
    """
    shown = {field.path for page in form.pages for field in page.all_fields(before)}
    return _fill(form, after, {}, shown)


def _fill(
    form: Form, values: dict[str, Any], remembered: dict[str, Any], skip: set[tuple[str, ...]] | None
) -> dict[str, Any]:
    for _ in range(_MAX_PASSES):
        before = values
        for page in form.pages:
            for field in page.all_fields(values):
                if value_at(values, field.path) is not None or (skip is not None and field.path in skip):
                    continue
                candidate = value_at(remembered, field.path)
                if is_present(candidate) and fits(field, candidate):
                    values = with_value(values, field.path, copy.deepcopy(candidate))
                elif field.default is not None:
                    values = with_value(values, field.path, copy.deepcopy(field.default))
                elif field.kind == "repo_url":
                    values = with_value(values, field.path, _repo_url_default(field))
        if values == before:
            break
    return values


def fits(field: Field, value: Any) -> bool:
    """Whether a value is valid against its field's own schema."""
    return matches({k: v for k, v in field.schema.items() if not k.startswith("ui:")}, value)


def _repo_url_default(field: Field) -> str | None:
    # Backstage's RepoUrlPicker starts on the first allowed host, owner and repository.
    options = field.options
    hosts, owners, repos = (_strings(options.get(key)) for key in ("allowedHosts", "allowedOwners", "allowedRepos"))
    if not hosts:
        return None
    return compose_repo_url(hosts[0], owners[0] if owners else "", repos[0] if repos else "") or None


def _strings(value: Any) -> list[str]:
    """A template's list option, keeping its strings (a malformed option gives nothing, not a crash)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def submitted_values(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters Backstage would send: visible fields only, empty strings dropped, numbers typed.

    Values of fields a dependency branch no longer shows are left out (Backstage keeps them in its form state;
    a template should not receive a database engine when no database was asked for). A ``Secret`` field sends
    ``*`` of its length, like Backstage; the real value is in :func:`secret_values`.
    """
    out: dict[str, Any] = {}
    for page in form.pages:
        for field in page.all_fields(values):
            value = value_at(values, field.path)
            if not is_present(value):
                continue
            if field.kind in ("number", "integer") and isinstance(value, str):
                value = parse_input(field, value)
            if field.extension == "Secret":
                value = "*" * len(str(value))
            out = with_value(out, field.path, copy.deepcopy(value))
    return out


def secret_values(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """The real values of shown ``ui:field: Secret`` fields by dotted path: Backstage sends them as ``secrets``."""
    return {
        field.dotted: value_at(values, field.path)
        for page in form.pages
        for field in page.all_fields(values)
        if field.extension == "Secret" and is_present(value_at(values, field.path))
    }


def review_rows(form: Form, values: dict[str, Any]) -> list[ReviewRow]:
    """The review step: every given value by page, masked where Backstage masks it, labelled where it has labels."""
    rows: list[ReviewRow] = []
    for page in form.pages:
        for field in page.all_fields(values):
            value = value_at(values, field.path)
            if not field.show_in_review or not is_present(value):
                continue
            rows.append(ReviewRow(page.title, field.title, display_value(field, value)))
    return rows


def display_value(field: Field, value: Any) -> str:
    """A value as the review shows it: ``******`` for secrets, enum labels, Yes/No, lists joined."""
    if field.masked:
        return field.review_mask if field.review_mask is not None else MASK
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(field.choice_label(item) if field.choices else _plain(item) for item in value)
    if field.choices:
        return field.choice_label(value)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

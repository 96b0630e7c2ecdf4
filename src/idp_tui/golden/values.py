"""Form values given on the command line (``--set``/``--values``), completed and checked like the form does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .template import Template


class ValuesError(ValueError):
    """Values that cannot be used; ``lines`` lists every problem, one per field."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``a.b=VALUE`` -> (["a", "b"], VALUE). The value is read as YAML (numbers, booleans, lists), else text."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValuesError([f"--set {text!r}: expected KEY=VALUE"])
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict) or value is None:
        value = raw
    return key.strip().split("."), value


def read_values(template: Template, values_file: str | None, assignments: list[str]) -> dict[str, Any]:
    """The values to run ``template`` with: defaults, then the file, then each ``--set``; validated page by page.

    Raises:
        ValuesError: an unreadable file, a bad assignment, or values the form would refuse (every field listed).
    """
    from .forms import build_form, initial_values, submitted_values, validate_page

    given: dict[str, Any] = {}
    if values_file:
        given = _read_file(values_file)
    form = build_form(list(template.parameter_pages), title=template.title)
    for text in assignments:
        path, value = parse_assignment(text)
        _assign(given, path, _typed(form, path, value, text))
    values = _merge(initial_values(form), given)
    problems = []
    for number, page in enumerate(form.pages, start=1):
        for field, messages in validate_page(page, values).items():
            problems += [f"{field or page.title or f'page {number}'}: {message}" for message in messages]
    if problems:
        raise ValuesError(problems)
    return submitted_values(form, values)


def secret_paths(template: Template) -> list[tuple[str, ...]]:
    """Paths of fields whose values must never be stored (passwords, secrets)."""
    from .forms import build_form, initial_values

    form = build_form(list(template.parameter_pages), title=template.title)
    values = initial_values(form)
    return [field.path for page in form.pages for field in page.fields(values) if field.masked]


def _typed(form: Any, path: list[str], value: Any, text: str) -> Any:
    """Keep ``--set name=0123`` a string when the schema says string (YAML would read a number)."""
    raw = text.partition("=")[2]
    for page in form.pages:
        for field in page.fields({}):
            if list(field.path) == path and field.kind in (
                "text",
                "textarea",
                "password",
                "select",
                "radio",
                "entity",
                "repo_url",
            ):
                return raw
    return value


def _read_file(name: str) -> dict[str, Any]:
    from ..catalog.yaml_docs import load_documents

    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise ValuesError([f"{name}: {error.strerror}"]) from None
    documents, errors = load_documents(text)
    if errors:
        raise ValuesError([f"{name}:{errors[0].line}: {errors[0].message}"])
    if not documents:
        return {}
    if len(documents) > 1 or not isinstance(documents[0].data, dict):
        raise ValuesError([f"{name}: expected one YAML mapping of field names to values"])
    return documents[0].data


def _assign(values: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    values[path[-1]] = value


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged

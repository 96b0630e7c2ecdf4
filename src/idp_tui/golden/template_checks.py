"""Checks a template needs beyond its kind schema: step ids, action names, form schemas, ``${{ }}`` syntax.

The Backstage catalog accepts a template that passes its kind schema; these checks find what would only fail
once the template runs. Most are errors (no scaffolder can run the step), but an action idp-tui lacks is a
warning: the catalog accepts the template and a Backstage scaffolder that has the action runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from .expressions import TemplateEngine, TemplateRenderError

FieldPath = tuple[str | int, ...]


class TemplateProblem(NamedTuple):
    """One finding in a template: the field it is at, what is wrong, and whether it is only a warning."""

    path: FieldPath
    message: str
    warning: bool = False


def template_problems(document: dict[str, Any], known_actions: set[str]) -> list[TemplateProblem]:
    """Each problem in a v1beta3 Template document that its schema lets through (see the module's note)."""
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    problems: list[TemplateProblem] = []
    problems += _step_problems(spec.get("steps"), known_actions)
    problems += _parameter_problems(spec.get("parameters"))
    engine = TemplateEngine()
    for path, text in _strings(spec.get("steps"), ("spec", "steps")):
        problems += _syntax(engine, path, text)
    for path, text in _strings(spec.get("output"), ("spec", "output")):
        problems += _syntax(engine, path, text)
    return problems


def _step_problems(steps: Any, known_actions: set[str]) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    seen: set[str] = set()
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        step_id, action = step.get("id"), step.get("action")
        if isinstance(step_id, str):
            if step_id in seen:
                problems.append(TemplateProblem(("spec", "steps", index, "id"), f"duplicate step id {step_id!r}"))
            seen.add(step_id)
        if isinstance(action, str) and action not in known_actions:
            problems.append(
                TemplateProblem(
                    ("spec", "steps", index, "action"),
                    f"action {action!r} is not one of idp-tui's built-in actions, so this step can only run on a "
                    "Backstage scaffolder that has it",
                    warning=True,
                )
            )
    return problems


def _parameter_problems(parameters: Any) -> list[TemplateProblem]:
    from jsonschema import Draft7Validator, SchemaError

    pages = [parameters] if isinstance(parameters, dict) else parameters if isinstance(parameters, list) else []
    problems: list[TemplateProblem] = []
    for index, page in enumerate(pages):
        base: FieldPath = ("spec", "parameters") if isinstance(parameters, dict) else ("spec", "parameters", index)
        try:
            Draft7Validator.check_schema(_without_ui(page))
        except SchemaError as error:
            where = ".".join(str(part) for part in error.path) or "schema"
            message = f"not a valid JSON Schema at {where}: {error.message}"
            problems.append(TemplateProblem((*base, *error.path), message))
    return problems


def _without_ui(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_ui(v) for k, v in schema.items() if not (isinstance(k, str) and k.startswith("ui:"))}
    if isinstance(schema, list):
        return [_without_ui(item) for item in schema]
    return schema


def _strings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _syntax(engine: TemplateEngine, path: FieldPath, text: str) -> list[TemplateProblem]:
    try:
        engine.check_syntax(text)
    except TemplateRenderError as error:
        return [TemplateProblem(path, f"template syntax error: {error.reason}")]
    return []

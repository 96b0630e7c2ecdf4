"""Scaffolder forms: a template's ``spec.parameters`` (JSON Schema + ``ui:*`` keys) as pages of typed fields.

Reproduces what Backstage's form (react-jsonschema-form with ajv 8) shows and sends, without any UI: which fields
a page has for the current values, their defaults, validation messages, the values sent and the review rows.
"""

from __future__ import annotations

from .extensions import (
    ExtensionChoices,
    compose_repo_url,
    entity_name_problems,
    entity_value_from_text,
    field_choices,
    humanize_entity_ref,
    normalise_tag,
    repo_url_problems,
    split_repo_url,
    stringify_entity_ref,
)
from .form import Form, FormPage, build_form, form_from_parameter_schema, parameter_pages
from .model import KINDS, MASK, Choice, Field, FormOutcome, ReviewRow
from .validation import validate_page
from .values import (
    display_value,
    initial_values,
    parse_input,
    reveal_defaults,
    review_rows,
    secret_values,
    submitted_values,
    value_at,
    with_value,
)

__all__ = [
    "KINDS",
    "MASK",
    "Choice",
    "ExtensionChoices",
    "Field",
    "Form",
    "FormOutcome",
    "FormPage",
    "ReviewRow",
    "build_form",
    "compose_repo_url",
    "display_value",
    "entity_name_problems",
    "entity_value_from_text",
    "field_choices",
    "form_from_parameter_schema",
    "humanize_entity_ref",
    "initial_values",
    "normalise_tag",
    "parameter_pages",
    "parse_input",
    "repo_url_problems",
    "reveal_defaults",
    "review_rows",
    "secret_values",
    "split_repo_url",
    "stringify_entity_ref",
    "submitted_values",
    "validate_page",
    "value_at",
    "with_value",
]

"""The value objects of a scaffolder form: fields, their choices, review rows and what the form hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Every kind of field a template parameter can become; widgets/form_fields.py has one widget per kind.
KINDS = (
    "text",
    "textarea",
    "password",
    "number",
    "integer",
    "boolean",
    "select",
    "radio",
    "multiselect",
    "string_list",
    "entity",
    "repo_url",
    "tags",
)

# What Backstage's review step shows instead of a password or Secret value.
MASK = "******"


@dataclass(frozen=True, slots=True)
class Choice:
    """One allowed value and the label a person sees (``enumNames``, a ``oneOf`` title, an entity's short ref)."""

    value: Any
    label: str


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form page, derived from a property schema and its ``ui:*`` keys.

    ``path`` locates the value in the (possibly nested) values dict: ``("database", "engine")`` is shown as
    ``database.engine``. ``schema`` is the property's own schema, ``ui:*`` keys included.
    """

    path: tuple[str, ...]
    name: str
    title: str
    kind: str
    schema: dict[str, Any] = field(compare=False, repr=False)
    description: str = ""
    choices: tuple[Choice, ...] = ()
    default: Any = None
    required: bool = False
    placeholder: str = ""
    help: str = ""
    autofocus: bool = False
    show_in_review: bool = True
    review_mask: str | None = None
    masked: bool = False
    disabled: bool = False
    extension: str | None = None
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    section: str = ""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def dotted(self) -> str:
        """The path as validation messages key it (``database.engine``)."""
        return ".".join(self.path)

    @property
    def label(self) -> str:
        """The title, with ``*`` when the field is required (as Backstage's Material UI labels show it)."""
        return f"{self.title} *" if self.required else self.title

    def choice_label(self, value: Any) -> str:
        """The label of a value among the choices, or the value itself when it is not one of them."""
        for choice in self.choices:
            if choice.value == value and type(choice.value) is type(value):
                return choice.label
        return str(value)

    def constraints(self) -> str:
        """The schema's limits in words, for the help line (``3-40 characters``, ``1 to 10``)."""
        parts: list[str] = []
        if self.min_length is not None and self.max_length is not None:
            parts.append(f"{self.min_length}-{self.max_length} characters")
        elif self.max_length is not None:
            parts.append(f"at most {self.max_length} characters")
        elif self.min_length is not None:
            parts.append(f"at least {self.min_length} characters")
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"{_number(self.minimum)} to {_number(self.maximum)}")
        elif self.minimum is not None:
            parts.append(f"at least {_number(self.minimum)}")
        elif self.maximum is not None:
            parts.append(f"at most {_number(self.maximum)}")
        if self.pattern:
            parts.append(f"pattern {self.pattern}")
        return ", ".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One line of the review step: which page, which field, and the value as shown (masked, labelled)."""

    page_title: str
    field_title: str
    display: str


@dataclass(frozen=True)
class FormOutcome:
    """What the form screen hands back: the values to send, and whether to dry-run (preview) or run.

    ``secrets`` holds the real values of ``ui:field: Secret`` fields: Backstage sends those apart from the
    parameters (the parameters carry ``*`` of the same length), for templates to read as ``${{ secrets.x }}``.
    """

    values: dict[str, Any]
    preview: bool = False
    secrets: dict[str, Any] = field(default_factory=dict)

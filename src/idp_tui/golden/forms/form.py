"""A template's ``spec.parameters`` as form pages whose fields follow the current values (dependencies, nesting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Choice, Field
from .schema import clean, is_nested_object, is_present, resolve, schema_type, ui_options

ENTITY_EXTENSIONS = ("EntityPicker", "OwnerPicker", "OwnedEntityPicker", "MyGroupsPicker")

# The title and description a field extension shows when the schema gives none (Backstage's component defaults).
EXTENSION_DEFAULTS: dict[str, tuple[str, str]] = {
    "OwnerPicker": ("Owner", "The owner of the component"),
    "EntityPicker": ("Entity", "An entity from the catalog"),
    "OwnedEntityPicker": ("Entity", "An entity from the catalog"),
    "EntityTagsPicker": ("Tags", ""),
}

TAGS_HELP = "Add any relevant tags. Valid format: [a-z0-9+#] separated by [-], at most 63 characters"


@dataclass(frozen=True)
class FormPage:
    """One page (``spec.parameters`` entry) of a template form."""

    title: str
    description: str
    schema: dict[str, Any] = field(compare=False, repr=False)

    def resolved(self, values: dict[str, Any]) -> dict[str, Any]:
        """The page schema with the dependency branches the values select applied."""
        return resolve(self.schema, clean(values))

    def fields(self, values: dict[str, Any]) -> list[Field]:
        """The fields shown for these values, in order (``ui:order``, then dependency fields after their page's)."""
        return [f for f in self.all_fields(values) if not _hidden(f)]

    def all_fields(self, values: dict[str, Any]) -> list[Field]:
        """Like :meth:`fields`, plus ``ui:widget: hidden`` fields (not shown, but their values are sent)."""
        data = clean(values)
        return _walk(resolve(self.schema, data), data, (), "", None)


@dataclass(frozen=True)
class Form:
    """A template's parameter pages."""

    pages: list[FormPage]
    title: str = ""

    def fields(self, values: dict[str, Any]) -> list[Field]:
        """Every page's fields for these values."""
        return [f for page in self.pages for f in page.fields(values)]


def parameter_pages(parameters: Any) -> list[dict[str, Any]]:
    """``spec.parameters`` as a list of page schemas: Backstage accepts one schema or a list of them."""
    if isinstance(parameters, dict):
        return [parameters]
    if isinstance(parameters, list):
        return [page for page in parameters if isinstance(page, dict)]
    return []


def build_form(pages: list[dict[str, Any]], *, title: str = "") -> Form:
    """A form from page schemas (see :func:`parameter_pages`).

    Args:
        pages: one JSON schema per page, with Backstage's inline ``ui:*`` keys.
        title: the template's title, shown above the pages.
    """
    return Form(
        [FormPage(_text(page.get("title")), _text(page.get("description")), page) for page in pages], title=title
    )


def form_from_parameter_schema(response: dict[str, Any]) -> Form:
    """A form from the scaffolder API's ``GET /v2/templates/:ns/:kind/:name/parameter-schema`` answer."""
    pages = []
    for step in response.get("steps") or []:
        schema = dict(step.get("schema") or {})
        schema.setdefault("title", step.get("title") or "")
        if step.get("description"):
            schema.setdefault("description", step["description"])
        pages.append(schema)
    return build_form(pages, title=_text(response.get("title")))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _hidden(f: Field) -> bool:
    return f.schema.get("ui:widget") == "hidden"


def ordered(names: list[str], order: Any) -> list[str]:
    """rjsf's ``orderProperties``: ``ui:order`` first, ``*`` standing for the rest in schema order.

    rjsf refuses an order list that leaves properties out without a ``*``; here they follow at the end instead.
    """
    if not isinstance(order, list):
        return names
    listed = [name for name in order if name == "*" or name in names]
    rest = [name for name in names if name not in listed]
    if "*" not in listed:
        return listed + rest
    star = listed.index("*")
    return [name for name in listed[:star] if name != "*"] + rest + [name for name in listed[star + 1 :] if name != "*"]


def _walk(
    schema: dict[str, Any], data: dict[str, Any], prefix: tuple[str, ...], section: str, defaults: Any
) -> list[Field]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    listed = schema.get("required")
    required = {name for name in listed if isinstance(name, str)} if isinstance(listed, list) else set()
    dependencies = schema.get("dependencies")
    for trigger, needed in (dependencies if isinstance(dependencies, dict) else {}).items():
        if isinstance(needed, list) and is_present(data.get(trigger)):
            required.update(name for name in needed if isinstance(name, str))
    out: list[Field] = []
    for name in ordered(list(properties), ui_options(schema).get("order")):
        prop = properties[name]
        if not isinstance(prop, dict):
            continue
        inherited = defaults.get(name) if isinstance(defaults, dict) else None
        if is_nested_object(prop):
            nested_defaults = prop.get("default", inherited)
            title = _text(prop.get("title")) or name
            nested = data.get(name) if isinstance(data.get(name), dict) else {}
            out += _walk(prop, nested, (*prefix, name), title, nested_defaults)
        else:
            out.append(make_field(name, prop, (*prefix, name), name in required, section, inherited))
    return out


def make_field(
    name: str,
    prop: dict[str, Any],
    path: tuple[str, ...],
    required: bool = False,
    section: str = "",
    inherited_default: Any = None,
) -> Field:
    """The field for one property schema (``ui:*`` keys included)."""
    ui = ui_options(prop)
    extension = prop.get("ui:field") if isinstance(prop.get("ui:field"), str) else None
    widget = ui.get("widget") if isinstance(ui.get("widget"), str) else None
    kind = _kind(prop, extension, widget)
    default_title, default_description = EXTENSION_DEFAULTS.get(extension or "", ("", ""))
    options = _clean_options(prop.get("ui:options"))
    review = _review_options(prop)
    help_text = _text(ui.get("help"))
    if extension == "EntityTagsPicker" and not help_text:
        help_text = _text(options.get("helperText")) or TAGS_HELP
    default = prop.get("default", inherited_default)
    if default is None and extension == "EntityTagsPicker":
        default = []  # Backstage's EntityTagsPicker always sets an array
    return Field(
        path=path,
        name=name,
        title=_text(ui.get("title")) or _text(prop.get("title")) or default_title or name,
        kind=kind,
        schema=prop,
        description=_text(ui.get("description")) or _text(prop.get("description")) or default_description,
        choices=_choices(prop, ui),
        default=default,
        required=required,
        placeholder=_text(ui.get("placeholder")),
        help=help_text,
        autofocus=bool(ui.get("autofocus")),
        show_in_review=review.get("show", True) is not False,
        review_mask=review.get("mask") if isinstance(review.get("mask"), str) else None,
        masked=widget == "password" or extension == "Secret",
        disabled=bool(ui.get("disabled") or ui.get("readonly")),
        extension=extension,
        options=options,
        section=section,
        min_length=_int(prop.get("minLength")),
        max_length=_int(prop.get("maxLength")),
        pattern=prop.get("pattern") if isinstance(prop.get("pattern"), str) else None,
        minimum=_number(prop.get("minimum")),
        maximum=_number(prop.get("maximum")),
    )


# Options Backstage's pickers read as lists of strings, and as one string: anything else a template puts there
# is left out, so no picker (or widget) meets a number where it expects a list.
_LIST_OPTIONS = ("allowedHosts", "allowedOwners", "allowedRepos", "allowedKinds", "kinds")
_TEXT_OPTIONS = ("defaultKind", "defaultNamespace", "helperText")


def _clean_options(options: Any) -> dict[str, Any]:
    """``ui:options`` with malformed list and text options dropped (a list keeps only its strings)."""
    if not isinstance(options, dict):
        return {}
    cleaned = dict(options)
    for key in _LIST_OPTIONS:
        if key in cleaned:
            value = cleaned[key]
            if isinstance(value, list):
                cleaned[key] = [item for item in value if isinstance(item, str)]
            else:
                del cleaned[key]
    for key in _TEXT_OPTIONS:
        if key in cleaned and not isinstance(cleaned[key], str):
            del cleaned[key]
    return cleaned


def _review_options(prop: dict[str, Any]) -> dict[str, Any]:
    """``ui:backstage: {review: {...}}``, or the same written as dotted keys (``ui:backstage.review.show``)."""
    backstage = prop.get("ui:backstage")
    review = dict(backstage.get("review") or {}) if isinstance(backstage, dict) else {}
    for key in ("show", "mask"):
        if f"ui:backstage.review.{key}" in prop:
            review[key] = prop[f"ui:backstage.review.{key}"]
    return review


def _kind(prop: dict[str, Any], extension: str | None, widget: str | None) -> str:
    if extension in ENTITY_EXTENSIONS:
        return "entity"
    if extension == "RepoUrlPicker":
        return "repo_url"
    if extension == "EntityTagsPicker":
        return "tags"
    if extension == "Secret" or widget == "password":
        return "password"
    kind = schema_type(prop)
    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if widget == "checkboxes" or _choices(items, ui_options(items)):
            return "multiselect"
        return "string_list"
    if kind == "boolean":
        return widget if widget in ("radio", "select") else "boolean"
    if _choices(prop, ui_options(prop)):
        return "radio" if widget == "radio" else "select"
    if kind in ("number", "integer"):
        return kind
    if widget == "textarea":
        return "textarea"
    return "text"


def _choices(prop: dict[str, Any], ui: dict[str, Any]) -> tuple[Choice, ...]:
    """``enum`` labelled by ``enumNames`` (or ``ui:enumNames``), or ``oneOf``/``anyOf`` of ``const`` + ``title``."""
    if schema_type(prop) == "array":
        items = prop.get("items")
        return _choices(items, ui_options(items)) if isinstance(items, dict) else ()
    enum = prop.get("enum")
    if isinstance(enum, list):
        names = ui.get("enumNames") or prop.get("enumNames") or []
        names = names if isinstance(names, list) else []
        return tuple(Choice(v, str(names[i]) if i < len(names) else js_string(v)) for i, v in enumerate(enum))
    branches = prop.get("oneOf") or prop.get("anyOf")
    if isinstance(branches, list) and branches and all(isinstance(b, dict) and "const" in b for b in branches):
        return tuple(Choice(b["const"], _text(b.get("title")) or js_string(b["const"])) for b in branches)
    if schema_type(prop) == "boolean":
        return (Choice(True, "Yes"), Choice(False, "No"))
    return ()


def js_string(value: Any) -> str:
    """``String(value)`` in JavaScript, which is what rjsf shows for an unlabelled enum value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


__all__ = ["Form", "FormPage", "build_form", "form_from_parameter_schema", "make_field", "ordered", "parameter_pages"]

"""One widget per kind of scaffolder form field: title (``*`` when required), the input, help, and an error line.

Every field widget posts :class:`FormField.Changed` with the typed value (``None`` when emptied) only when the value
really changes; the screen owns the values and re-renders a page when a dependency shows or hides fields.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester, SuggestFromList
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, Select, SelectionList, Static, TextArea

from ..golden.forms import (
    ExtensionChoices,
    Field,
    compose_repo_url,
    entity_value_from_text,
    normalise_tag,
    parse_input,
    split_repo_url,
)
from ..safe_text import clean

MATCHES_SHOWN = 4


def _plain(text: object) -> Text:
    """A template's title or choice label as a ``Text``: a ``str`` would be read as markup ("[/x]" raises)."""
    return Text(clean(str(text), one_line=True))


class FormField(Vertical):
    """The frame every field kind shares; subclasses yield the control in :meth:`compose_control`."""

    DEFAULT_CSS = """
    FormField {
        height: auto;
        margin: 0 0 1 0;
        & > .field-label { text-style: bold; }
        & > .field-help { color: $text-muted; }
        & > .field-error { color: $error; display: none; }
        &.-invalid > .field-error { display: block; }
        &.-invalid > .field-label { color: $error; }
        Input, Select, TextArea, SelectionList { margin: 0 0 0 2; width: 1fr; }
        Input.-textual-compact, TextArea { background: $boost; }
        Input.-textual-compact:focus, TextArea:focus { background: $primary-muted; }
        TextArea { height: 4; border: none; }
        SelectionList { height: auto; max-height: 8; }
        RadioSet, Checkbox { margin: 0 0 0 2; }
        Checkbox:focus, RadioSet:focus { background: $primary-muted; }
        .field-row { height: 1; }
        .field-row > Label { width: 12; margin: 0 0 0 2; color: $text-muted; }
        .field-row > Input, .field-row > Select { margin: 0; }
        .field-matches { color: $text-muted; margin: 0 0 0 2; }
    }
    """

    # False for widgets that carry the title themselves (a checkbox's label).
    shows_label = True

    class Changed(Message):
        """A field's value changed (``value`` is typed; ``None`` when the field was emptied)."""

        def __init__(self, form_field: FormField, value: Any) -> None:
            super().__init__()
            self.form_field = form_field
            self.value = value

        @property
        def control(self) -> FormField:
            return self.form_field

    def __init__(self, field: Field, value: Any, choices: ExtensionChoices | None = None) -> None:
        super().__init__(classes=f"field-{field.kind}")
        self.field = field
        self.value = value
        self.choices = choices or ExtensionChoices(field.choices)

    def compose(self) -> ComposeResult:
        if self.shows_label:
            yield Static(clean(self.field.label, one_line=True), classes="field-label", markup=False)
        yield from self.compose_control()
        help_text = self._help_text()
        if help_text:
            yield Static(help_text, classes="field-help")
        yield Static("", classes="field-error")

    def compose_control(self) -> ComposeResult:
        raise NotImplementedError

    def _help_text(self) -> Text:
        field = self.field
        text = Text()
        if field.description:
            text.append(clean(field.description))
        extra = field.help or field.constraints()
        if extra:
            text.append(("  " if text else "") + extra, style="italic")
        return text

    def set_value(self, value: Any) -> None:
        """Record a new value and tell the screen, unless nothing changed (widgets echo their initial values)."""
        if value == self.value and type(value) is type(self.value):
            return
        self.value = value
        self.post_message(self.Changed(self, value))

    def show_errors(self, messages: list[str]) -> None:
        self.query_one(".field-error", Static).update(Text(clean("\n".join(messages))))
        self.set_class(bool(messages), "-invalid")

    def focus_control(self) -> None:
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return


class TextFormField(FormField):
    """``text``, ``password``, ``number`` and ``integer``: one line of input."""

    def compose_control(self) -> ComposeResult:
        field = self.field
        kind = {"number": "number", "integer": "integer"}.get(field.kind, "text")
        # A placeholder always: without colour (NO_COLOR, 16-colour terminals) an empty compact input is
        # otherwise an invisible blank line.
        default_hint = {"number": "a number", "integer": "a whole number"}.get(field.kind, "type here")
        yield Input(
            "" if self.value is None else str(self.value),
            placeholder=field.placeholder or default_hint,
            password=field.masked,
            type=kind,
            disabled=field.disabled,
            compact=True,
        )

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_value(parse_input(self.field, event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()


class TextAreaFormField(FormField):
    """``textarea``, and ``string_list`` with one item per line."""

    def compose_control(self) -> ComposeResult:
        value = self.value
        text = "\n".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
        yield TextArea(text, soft_wrap=True, show_line_numbers=False, disabled=self.field.disabled, compact=True)

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        if self.field.kind == "string_list":
            self.set_value([line.strip() for line in text.splitlines() if line.strip()])
        else:
            self.set_value(text or None)


class BooleanFormField(FormField):
    """``boolean``: a checkbox labelled with the title (space or enter toggles it)."""

    shows_label = False

    def compose_control(self) -> ComposeResult:
        yield Checkbox(_plain(self.field.label), bool(self.value), disabled=self.field.disabled, compact=True)

    @on(Checkbox.Changed)
    def _changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.set_value(event.value)


class SelectFormField(FormField):
    """``select``: a dropdown over the choices (blank allowed unless required and already set)."""

    def compose_control(self) -> ComposeResult:
        choices = self.choices.choices
        index = _index(choices, self.value)
        allow_blank = not (self.field.required and index is not None)
        options = [(_plain(choice.label), i) for i, choice in enumerate(choices)]
        value = Select.NULL if index is None else index
        yield Select(options, allow_blank=allow_blank, value=value, disabled=self.field.disabled, compact=True)

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        index = event.value
        self.set_value(None if not isinstance(index, int) else self.choices.choices[index].value)


class RadioFormField(FormField):
    """``radio``: one button per choice (arrows move, enter or space picks)."""

    def compose_control(self) -> ComposeResult:
        index = _index(self.choices.choices, self.value)
        buttons = [RadioButton(_plain(c.label), value=i == index) for i, c in enumerate(self.choices.choices)]
        yield RadioSet(*buttons, disabled=self.field.disabled, compact=True)

    @on(RadioSet.Changed)
    def _changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.set_value(self.choices.choices[event.index].value)


class MultiSelectFormField(FormField):
    """``multiselect``: a list to tick (space toggles), values kept in the schema's order."""

    def compose_control(self) -> ComposeResult:
        chosen = self.value if isinstance(self.value, list) else []
        yield SelectionList[int](
            *[(_plain(c.label), i, c.value in chosen) for i, c in enumerate(self.choices.choices)],
            disabled=self.field.disabled,
            compact=True,
        )

    @on(SelectionList.SelectedChanged)
    def _changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self.set_value([self.choices.choices[i].value for i in sorted(event.selection_list.selected)])


class CompletingInput(Input):
    """An Input whose → completes from its list even when pressed before the (asynchronous) suggestion arrived.

    Keys typed quickly, or sent by a script over SSH, would otherwise lose the completion.
    """

    def __init__(self, value: str, *, completions: list[str], **kwargs: Any) -> None:
        super().__init__(value, suggester=SuggestFromList(completions, case_sensitive=False), **kwargs)
        self.completions = completions

    def action_cursor_right(self, select: bool = False) -> None:
        if not select and self.cursor_at_end and self.value:
            typed = self.value.casefold()
            match = next((c for c in self.completions if c.casefold().startswith(typed)), None)
            if match is not None and len(match) > len(self.value):
                self.value = match
                self.cursor_position = len(match)
                return
        super().action_cursor_right(select)


class EntityFormField(FormField):
    """Catalog pickers: free text completed from the catalog, or a dropdown when only listed values are allowed."""

    def compose_control(self) -> ComposeResult:
        choices = self.choices.choices
        if not self.choices.allow_arbitrary and choices:
            index = _index(choices, self.value)
            options = [(_plain(c.label), i) for i, c in enumerate(choices)]
            yield Select(options, value=Select.NULL if index is None else index, compact=True)
            return
        names = [c.label for c in choices] + [str(c.value).rpartition("/")[2] for c in choices]
        yield CompletingInput(
            self._text_for(self.value),
            placeholder=self.field.placeholder or "type to search the catalog (→ completes)",
            completions=names,
            disabled=self.field.disabled,
            compact=True,
        )
        yield Static(self._matches(self._text_for(self.value)), classes="field-matches")

    def on_mount(self) -> None:
        # Like Backstage, a picker with exactly one candidate takes it (MyGroupsPicker only when required).
        if self.value is not None or len(self.choices.choices) != 1:
            return
        if self.field.extension == "MyGroupsPicker" and not self.field.required:
            return
        only = self.choices.choices[0]
        self.set_value(only.value)
        for widget in self.query(Input):
            widget.value = only.label
        for select in self.query(Select):
            select.value = 0

    def _text_for(self, value: Any) -> str:
        if value is None:
            return ""
        return next((c.label for c in self.choices.choices if c.value == value), str(value))

    def _matches(self, text: str) -> Text:
        typed = text.strip().lower()
        labels = [c.label for c in self.choices.choices if typed in c.label.lower()]
        if not self.choices.choices:
            return Text("")
        shown = ", ".join(labels[:MATCHES_SHOWN]) + (f", … ({len(labels)})" if len(labels) > MATCHES_SHOWN else "")
        return Text(clean(shown, one_line=True) or "no match in the catalog", style="dim")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one(".field-matches", Static).update(self._matches(event.value))
        self.set_value(entity_value_from_text(event.value, self.choices, self.field.options))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        index = event.value
        self.set_value(None if not isinstance(index, int) else self.choices.choices[index].value)


class RepoUrlFormField(FormField):
    """RepoUrlPicker: host, owner and repository; a dropdown wherever ``allowedHosts/Owners/Repos`` limits them."""

    PARTS = (
        ("host", "Host", "allowedHosts"),
        ("owner", "Owner", "allowedOwners"),
        ("repo", "Repository", "allowedRepos"),
    )

    def compose_control(self) -> ComposeResult:
        parts = split_repo_url(self.value)
        for key, label, option in self.PARTS:
            allowed = [str(v) for v in self.field.options.get(option) or []]
            with Horizontal(classes="field-row"):
                yield Label(label)
                if allowed:
                    value = parts[key] if parts[key] in allowed else allowed[0]
                    yield Select(
                        [(_plain(v), v) for v in allowed],
                        allow_blank=False,
                        value=value,
                        id=f"repo-{key}",
                        compact=True,
                    )
                else:
                    yield Input(parts[key], id=f"repo-{key}", compact=True)

    def focus_control(self) -> None:
        # A host (owner, repository) with one allowed value is already answered: start where typing is needed.
        for key, _, option in self.PARTS:
            if len(self.field.options.get(option) or []) != 1:
                self.query_one(f"#repo-{key}").focus()
                return
        super().focus_control()

    def _compose_value(self) -> None:
        parts: dict[str, str] = {}
        for key, _, _ in self.PARTS:
            widget = self.query_one(f"#repo-{key}")
            value = widget.value if isinstance(widget, Input) else widget.selection  # type: ignore[attr-defined]
            parts[key] = str(value or "").strip()
        self.set_value(compose_repo_url(parts["host"], parts["owner"], parts["repo"]) or None)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        if self.is_mounted:
            self._compose_value()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()


class _LastTagSuggester(Suggester):
    """Completes the tag being typed after the last comma from the catalog's tags."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(case_sensitive=True)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        token = value.rsplit(",", 1)[-1].lstrip().lower()
        if not token:
            return None
        match = next((tag for tag in self.tags if tag.startswith(token) and tag != token), None)
        return value + match[len(token) :] if match else None


class TagsFormField(FormField):
    """EntityTagsPicker: comma-separated tags, completed from the tags already in the catalog."""

    def compose_control(self) -> ComposeResult:
        tags = self.value if isinstance(self.value, list) else []
        existing = [str(c.value) for c in self.choices.choices]
        yield Input(
            ", ".join(map(str, tags)),
            placeholder=self.field.placeholder or "tag1, tag2 (→ completes)",
            suggester=_LastTagSuggester(existing),
            disabled=self.field.disabled,
            compact=True,
        )
        if existing:
            yield Static(
                Text(
                    clean("in use: " + ", ".join(c.label for c in self.choices.choices[:8]), one_line=True), style="dim"
                ),
                classes="field-matches",
            )

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        tags: list[str] = []
        for part in event.value.split(","):
            tag = normalise_tag(part)
            if tag and tag not in tags:
                tags.append(tag)
        self.set_value(tags)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()


WIDGETS: dict[str, type[FormField]] = {
    "text": TextFormField,
    "password": TextFormField,
    "number": TextFormField,
    "integer": TextFormField,
    "textarea": TextAreaFormField,
    "string_list": TextAreaFormField,
    "boolean": BooleanFormField,
    "select": SelectFormField,
    "radio": RadioFormField,
    "multiselect": MultiSelectFormField,
    "entity": EntityFormField,
    "repo_url": RepoUrlFormField,
    "tags": TagsFormField,
}


def field_widget(field: Field, value: Any, choices: ExtensionChoices | None = None) -> FormField:
    """The widget for a field of any kind."""
    return WIDGETS.get(field.kind, TextFormField)(field, value, choices)


def _index(choices: tuple, value: Any) -> int | None:
    for i, choice in enumerate(choices):
        if choice.value == value and type(choice.value) is type(value):
            return i
    return None


__all__ = ["FormField", "field_widget"]

"""A template's parameter form: one page at a time, validated on Next, then a review to run or preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from idp_tui.golden.forms import (
    ExtensionChoices,
    Field,
    Form,
    FormOutcome,
    FormPage,
    field_choices,
    reveal_defaults,
    review_rows,
    secret_values,
    submitted_values,
    validate_page,
    value_at,
    with_value,
)
from idp_tui.safe_text import clean
from idp_tui.widgets.form_fields import FormField, field_widget
from idp_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from idp_tui.catalog.model import Catalog


class TemplateFormScreen(Screen[FormOutcome | None]):
    """Fill in a template's parameters. Dismisses with the values to send (run or preview), or ``None`` on escape."""

    DEFAULT_CSS = """
    TemplateFormScreen {
        #form-header { height: 1; padding: 0 1; background: $panel; }
        #form-description { height: auto; padding: 0 1; color: $text-muted; }
        #form-body { height: 1fr; padding: 0 1; }
        #page-errors { color: $error; height: auto; display: none; }
        #page-errors.-shown { display: block; }
        .form-section { text-style: bold underline; margin: 0 0 1 0; }
        #form-buttons { height: 1; align-horizontal: right; padding: 0 1; }
        #form-buttons Button { margin: 0 0 0 1; }
    }
    """

    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True, id="form.next"),
        Binding("ctrl+b", "back", "Back", priority=True, id="form.back"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("enter,r", "run", "Run", key_display="enter", id="form.run"),
        Binding("p", "preview", "Preview", id="form.preview"),
        Binding("b", "edit", "Edit", id="form.edit"),
    ]

    def __init__(
        self,
        form: Form,
        title: str,
        catalog: Catalog | None,
        user_ref: str | None,
        initial_values: dict[str, Any],
        start_at_review: bool = False,
        read_only: bool = False,
    ) -> None:
        """``read_only``: the session may not run templates; the form and the preview still work."""
        super().__init__()
        self.read_only = read_only
        self.form = form
        self.form_title = title or form.title
        self.catalog = catalog
        self.user_ref = user_ref
        self.values: dict[str, Any] = dict(initial_values)
        self.page_index = len(form.pages) if start_at_review else 0
        self.errors: dict[str, list[str]] = {}
        self._choices: dict[tuple[str, ...], ExtensionChoices] = {}

    @property
    def in_review(self) -> bool:
        return self.page_index >= len(self.form.pages)

    @property
    def page(self) -> FormPage | None:
        return None if self.in_review else self.form.pages[self.page_index]

    def compose(self) -> ComposeResult:
        yield Static("", id="form-header")
        # A template's description is data: shown as written (markup=False), "[/x]" included.
        yield Static("", id="form-description", markup=False)
        yield VerticalScroll(id="form-body")
        with Horizontal(id="form-buttons"):
            yield Button("Back", id="back", compact=True)
            yield Button("Next", id="next", variant="primary", compact=True)
            yield Button("Preview", id="preview", compact=True)
            yield Button("Run", id="run", variant="success", compact=True)
        yield KeyFooter()

    async def on_mount(self) -> None:
        await self.show_page()

    # -- rendering ------------------------------------------------------------------------------------------------

    async def show_page(self, focus_path: tuple[str, ...] | None = None) -> None:
        """Render the current page (or the review) from the values, focusing ``focus_path`` or the autofocus field."""
        body = self.query_one("#form-body", VerticalScroll)
        await body.remove_children()
        page = self.page
        count = len(self.form.pages)
        header = Text(no_wrap=True, overflow="ellipsis")
        if self.read_only:
            header.append("READ-ONLY ", style="bold reverse")
        header.append(clean(self.form_title, one_line=True), style="bold")
        if page is None:
            header.append(f"  ·  Review ({count + 1} of {count + 1})")
            description = self.query_one("#form-description", Static)
            description.update(self._review_hint())
            description.display = True
            body.can_focus = True
            await body.mount(Static(self._review_table(), id="review-table"))
        else:
            header.append(clean(f"  ·  Page {self.page_index + 1} of {count}: {page.title}", one_line=True))
            description = self.query_one("#form-description", Static)
            description.update(clean(page.description))
            description.display = bool(page.description)
            body.can_focus = False
            await body.mount_all(self._page_widgets(page))
        self.query_one("#form-header", Static).update(header)
        self._update_buttons()
        self.refresh_bindings()
        self._focus(focus_path)

    def _page_widgets(self, page: FormPage) -> list[Static | FormField]:
        widgets: list[Static | FormField] = [Static("", id="page-errors", markup=False)]
        section = ""
        for field in page.fields(self.values):
            if field.section and field.section != section:
                widgets.append(Static(clean(field.section, one_line=True), classes="form-section", markup=False))
            section = field.section
            widget = field_widget(field, value_at(self.values, field.path), self._field_choices(field))
            widgets.append(widget)
        return widgets

    def _field_choices(self, field: Field) -> ExtensionChoices:
        if field.kind not in ("entity", "tags"):
            return ExtensionChoices(field.choices)
        # Catalog lookups walk every entity: once per field while the screen lives.
        if field.path not in self._choices:
            self._choices[field.path] = field_choices(field, self.catalog, user_ref=self.user_ref)
        return self._choices[field.path]

    def _review_hint(self) -> Text:
        if self.read_only:
            return Text.assemble(
                ("Read-only mode: this session cannot run golden paths. ", "bold"),
                ("p previews (dry run, nothing is written) · b goes back to edit", "dim"),
            )
        return Text("enter or r runs · p previews (dry run) · b goes back to edit", style="dim")

    def _review_table(self) -> Table:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        table.add_column("Field", style="dim", ratio=1, no_wrap=True)
        table.add_column("Value", ratio=2)
        page_title = None
        for row in review_rows(self.form, self.values):
            if row.page_title != page_title:
                page_title = row.page_title
                table.add_row(Text(clean(page_title or "Parameters", one_line=True), style="bold"), "")
            # Text, not str: a str cell is markup, and a typed value or a title may hold "[/x]".
            table.add_row(Text(clean(f"  {row.field_title}", one_line=True)), Text(clean(str(row.display))))
        if page_title is None:
            table.add_row("No values were given.", "")
        return table

    def _update_buttons(self) -> None:
        review = self.in_review
        self.query_one("#back", Button).display = self.page_index > 0
        next_button = self.query_one("#next", Button)
        next_button.display = not review
        next_button.label = "Review" if self.page_index == len(self.form.pages) - 1 else "Next"
        self.query_one("#preview", Button).display = review
        run = self.query_one("#run", Button)
        run.display = review
        if self.read_only:
            run.disabled = True
            run.label = "Run (read-only)"

    def _field_widgets(self) -> list[FormField]:
        return list(self.query(FormField))

    def _focus(self, path: tuple[str, ...] | None) -> None:
        widgets = self._field_widgets()
        if self.in_review:
            self.query_one("#form-body").focus()
            return
        if not widgets:
            self.query_one("#next", Button).focus()
            return
        target = next((w for w in widgets if w.field.path == path), None)
        target = target or next((w for w in widgets if w.field.autofocus), widgets[0])
        target.focus_control()

    def _show_errors(self) -> None:
        first: FormField | None = None
        for widget in self._field_widgets():
            messages = self.errors.get(widget.field.dotted, [])
            widget.show_errors(messages)
            if messages and first is None:
                first = widget
        page_errors = self.query_one("#page-errors", Static)
        page_messages = self.errors.get("", [])
        page_errors.update("\n".join(page_messages))
        page_errors.set_class(bool(page_messages), "-shown")
        if first is not None:
            first.focus_control()
            first.scroll_visible()
        elif page_messages:
            page_errors.scroll_visible()

    # -- values ---------------------------------------------------------------------------------------------------

    @on(FormField.Changed)
    async def _field_changed(self, event: FormField.Changed) -> None:
        field = event.form_field.field
        before, old_values = self._layout(), self.values
        self.values = reveal_defaults(self.form, old_values, with_value(old_values, field.path, event.value))
        if self.errors.pop(field.dotted, None) is not None:
            event.form_field.show_errors([])
        if self._layout() != before:
            await self.show_page(focus_path=field.path)  # a dependency showed or hid fields
            self._show_errors()

    def _layout(self) -> list[tuple[tuple[str, ...], bool, str]]:
        page = self.page
        return [] if page is None else [(f.path, f.required, f.kind) for f in page.fields(self.values)]

    # -- actions --------------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run" and self.read_only:
            return None  # None: shown dimmed in the footer (False would hide it); the key exists but may not be used
        if action in ("run", "preview", "edit"):
            return self.in_review
        if action == "next":
            return not self.in_review
        if action == "back":
            return self.page_index > 0
        return True

    async def action_next(self) -> None:
        page = self.page
        if page is None:
            return
        self.errors = validate_page(page, self.values)
        if self.errors:
            self._show_errors()
            return
        self.page_index += 1
        await self.show_page()

    async def action_back(self) -> None:
        if self.page_index > 0:
            self.page_index -= 1
            self.errors = {}
            await self.show_page()

    async def action_edit(self) -> None:
        await self.action_back()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_run(self) -> None:
        self._finish(preview=False)

    def action_preview(self) -> None:
        self._finish(preview=True)

    def on_key(self, event: events.Key) -> None:
        # The Run binding is disabled in read-only mode; say why instead of ignoring the key.
        pressing_a_button = event.key == "enter" and isinstance(self.focused, Button)
        if self.read_only and self.in_review and event.key in ("enter", "r") and not pressing_a_button:
            event.stop()
            event.prevent_default()
            self._refuse_run()

    def _refuse_run(self) -> None:
        self.notify("Read-only mode: golden paths are not run. p previews it (dry run).", severity="warning")

    def _finish(self, *, preview: bool) -> None:
        if not preview and self.read_only:
            self._refuse_run()
            return
        if self.in_review:
            values = submitted_values(self.form, self.values)
            self.dismiss(FormOutcome(values, preview=preview, secrets=secret_values(self.form, self.values)))

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"back": self.action_back, "next": self.action_next}.get(event.button.id or "")
        if action is not None:
            await action()
        elif event.button.id in ("run", "preview"):
            self._finish(preview=event.button.id == "preview")

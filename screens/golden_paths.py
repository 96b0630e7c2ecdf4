"""The golden paths: every template in the catalog; Enter fills its form, then previews or runs it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.catalog.model import Catalog
from idp_tui.golden.errors import TemplateRunError
from idp_tui.golden.template import Template, templates_in
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from idp_tui.golden.protocols import TemplateRunner
    from idp_tui.session import Session


def template_prompt(template: Template) -> Text:
    """Title, owner and tags on one line, the description under it."""
    text = Text(clean(template.title, one_line=True), style="bold")
    if template.owner:
        text.append(clean(f"  owner {template.owner}", one_line=True), style="dim")
    if template.tags:
        text.append(clean("  " + " ".join(f"#{tag}" for tag in template.tags), one_line=True), style="italic")
    if template.description:
        text.append("\n  " + clean(template.description, one_line=True), style="dim")
    return text


class GoldenPathsScreen(Screen):
    """Pick a golden path; its form, preview and run follow from here."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="golden.back"),
        Binding("enter", "choose", "Fill in", show=True, id="golden.choose"),
    ]

    DEFAULT_CSS = """
    GoldenPathsScreen #golden-title { padding: 0 1; background: $panel; color: $text; text-style: bold; }
    GoldenPathsScreen OptionList { height: 1fr; border: none; }
    """

    def __init__(self, session: Session, catalog: Catalog) -> None:
        super().__init__()
        self.session = session
        self.catalog = catalog
        self.templates = templates_in(catalog.entities)

    @cached_property
    def runner(self) -> TemplateRunner:
        """The session's runner, which prepares each template's form (made once, after the list is drawn)."""
        return self.session.template_runner(self.catalog)

    def compose(self) -> ComposeResult:
        title = f"Golden paths: {len(self.templates)} templates. Enter fills one in."
        if self.session.read_only:
            title = f"READ-ONLY · {title} Preview only: nothing is run."
        yield Static(title, id="golden-title")
        options = [Option(template_prompt(t), id=t.key) for t in self.templates]
        yield OptionList(*options, id="templates")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.call_after_refresh(lambda: self.runner)  # its imports, once the list is on screen

    def action_choose(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self.open_template(self.templates[option_list.highlighted])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.open_template(self.templates[event.option_index])

    def open_template(self, template: Template) -> None:
        """The form at once when the template is whole; else the runner first asks for it (Backstage's scaffolder
        serves its form, a remote catalog the whole template)."""
        runner = self.runner
        if not runner.ready_asks_backend:
            self.start(runner.ready(template))
            return
        self.notify(
            clean(f"Asking {runner.name} for the form of {template.title}…", one_line=True), timeout=3, markup=False
        )
        self._fetch_form(template)

    @work(thread=True, exclusive=True, group="template-form")
    def _fetch_form(self, template: Template) -> None:
        try:
            ready = self.runner.ready(template)
        except TemplateRunError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.start, ready)

    def start(self, template: Template, values: dict[str, Any] | None = None, at_review: bool = False) -> None:
        """Open the form for ``template`` (with last time's answers unless ``values`` are given)."""
        from idp_tui.golden.forms import build_form, initial_values
        from idp_tui.golden.state import load_answers
        from idp_tui.golden.user import current_user

        from .template_form import TemplateFormScreen

        form = build_form(list(template.parameter_pages), title=template.title)
        user = current_user(self.catalog)
        remembered = values if values is not None else load_answers(template.key, self.session.user_state)
        initial = initial_values(form, remembered)
        screen = TemplateFormScreen(
            form,
            template.title,
            self.catalog,
            user.get("ref"),
            initial,
            start_at_review=at_review,
            read_only=self.session.read_only,
        )
        self.app.push_screen(screen, lambda outcome: self._form_done(template, outcome))

    def _form_done(self, template: Template, outcome: Any) -> None:
        if outcome is None:
            return
        if outcome.preview:
            from .golden_preview import PreviewScreen

            # Back from the preview, the form reopens on its Review page with the same answers (secrets included).
            answers = {**outcome.values, **outcome.secrets}
            self.app.push_screen(
                PreviewScreen(self.session, self.catalog, template, outcome.values, outcome.secrets),
                lambda _: self.start(template, answers, at_review=True),
            )
            return
        from .task_run import TaskRunScreen

        screen = TaskRunScreen(self.session, self.catalog, template, outcome.values, outcome.secrets)
        self.app.push_screen(screen)

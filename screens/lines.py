"""A screen that is a navigable list of lines (on-call, team, secrets): ``y`` copies a line's value, Enter opens its
entity. The catalog's part shows at once; the slow part (a provider, Vault) is asked in a thread worker and its
answer replaces the first lines when it comes.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.model import Catalog
from idp_tui.oncall.providers import OnCallProviders
from idp_tui.render.lines import Line
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter

from .host import host


class LinesScreen(Screen):
    """A screen that is a list of :class:`Line`: ``y`` copies a line's value, Enter opens its entity."""

    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="oncall.back"),
        Binding("y", "copy", "Copy", id="oncall.copy"),
        Binding("o", "oncall", "On call", id="oncall.oncall"),
        Binding("T", "team", "Team", id="oncall.team"),
        Binding("ctrl+r", "refresh", "Refresh", id="oncall.refresh"),
    ]

    class Answered(Message):
        """The providers answered (from the worker thread)."""

        def __init__(self, lines: list[Line]) -> None:
            super().__init__()
            self.lines = lines

    def __init__(self, subject: Entity, title: Text) -> None:
        super().__init__()
        self.subject = subject
        self.title_text = title
        self.lines: list[Line] = []
        self._line_of_option: list[int] = []
        self.answered = False  # the providers' answer is on screen

    @property
    def catalog(self) -> Catalog:
        catalog = host(self).catalog
        assert catalog is not None, "these screens open once the catalog is read"
        return catalog

    @property
    def providers(self) -> OnCallProviders:
        """The session's on-call providers for the catalog on screen (made once, their caches shared)."""
        return host(self).session.oncall(self.catalog)

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="screen-title")
        yield OptionList(id="oncall-lines")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show(self.first_lines())
        self.query_one(OptionList).focus()
        self.ask()

    def first_lines(self) -> list[Line]:
        raise NotImplementedError

    def answer_lines(self) -> list[Line]:
        """Everything, providers included; runs in a thread."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="oncall")
    def ask(self) -> None:
        lines = self.answer_lines()
        self.post_message(self.Answered(lines))

    def on_lines_screen_answered(self, message: Answered) -> None:
        self.show(message.lines)
        self.answered = True

    def show(self, lines: list[Line]) -> None:
        """Lines as options, one row each: data lines are cut at the edge (CSS), prose is wrapped here."""
        self.lines = lines
        option_list = self.query_one(OptionList)
        # A refresh keeps the reader's place; the first answer moves to the first responder.
        keep = option_list.highlighted if self.answered else None
        width = max(20, (option_list.scrollable_content_region.width or self.app.size.width) - 1)
        options: list[Option] = []
        self._line_of_option = []
        for number, line in enumerate(lines):
            rows = line.text.wrap(self.app.console, width) if line.wrap else [line.text]
            for row in rows:
                options.append(Option(row, disabled=line.heading))
                self._line_of_option.append(number)
        option_list.clear_options()
        option_list.add_options(options)
        if keep is None or keep >= len(options) or options[keep].disabled:
            first = next((n for n, line in enumerate(self._line_of_option) if lines[line].first), None)
            keep = first if first is not None else next((n for n, o in enumerate(options) if not o.disabled), None)
        option_list.highlighted = keep

    def on_resize(self) -> None:
        if self.lines:
            self.show(self.lines)

    def selected_line(self) -> Line | None:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is None or highlighted >= len(self._line_of_option):
            return None
        return self.lines[self._line_of_option[highlighted]]

    def selected_entity(self) -> Entity | None:
        line = self.selected_line()
        return self.catalog.get(line.target) if line and line.target else None

    def action_copy(self) -> None:
        line = self.selected_line()
        if line is None or not line.copy:
            self.notify("Nothing to copy on this line.", timeout=2)
            return
        # OSC 52: lands on the clipboard of the machine the person sits at, over SSH and inside tmux.
        self.app.copy_to_clipboard(line.copy)
        self.notify(clean(f"Copied {line.copy}", one_line=True), timeout=3, markup=False)

    def action_oncall(self) -> None:
        entity = self.selected_entity()
        if entity is not None and entity.key != self.subject.key:  # not this page again
            host(self).open_oncall(entity)

    def action_team(self) -> None:
        entity = self.selected_entity()
        if entity is not None and entity.kind in ("Group", "User"):
            host(self).open_team(entity.key)

    def action_refresh(self) -> None:
        self.ask()

    @on(OptionList.OptionSelected, "#oncall-lines")
    def _open(self, event: OptionList.OptionSelected) -> None:
        entity = self.selected_entity()
        if entity is None:
            return
        if entity.kind in ("Group", "User"):
            host(self).open_team(entity.key)
        else:
            host(self).open_entity(entity)

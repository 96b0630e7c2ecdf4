"""Logs like stern: every pod of an entity's workloads tailed together into one LogView.

A thread worker keeps the clusters open and reads the domain's :class:`~idp_tui.kube.log_stream.LogStream`, which
batches the lines and applies back-pressure: one message per batch (never one per line), and no new batch while
the screen has not shown the last few, so the event loop absorbs tens of thousands of lines a second and stays
responsive.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, OptionList, Static

from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter
from idp_tui.widgets.log_view import LogView

if TYPE_CHECKING:
    from idp_tui.kube.log_stream import LogStream, LogTarget
    from idp_tui.kube.protocols import LogSource
    from idp_tui.session import Session


class ContainerPicker(ModalScreen[str | None]):
    """A small list of the containers seen so far; dismisses with a name, "" for every container, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="logs.picker_cancel")]
    DEFAULT_CSS = "ContainerPicker { align: center middle; } ContainerPicker OptionList { width: 40; height: auto; }"

    def __init__(self, containers: list[str]) -> None:
        super().__init__()
        self.containers = containers

    def compose(self) -> ComposeResult:
        yield OptionList("(every container)", *self.containers)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss("" if event.option_index == 0 else self.containers[event.option_index - 1])


class LogScreen(Screen):
    """Tails an entity's pods on every allowed cluster; a ``target`` pod or workload name narrows it to those pods."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("p", "toggle_previous", "Previous", id="logs.previous"),
        Binding("c", "choose_container", "Container", id="logs.container"),
        Binding("slash", "prompt('search')", "Search", id="logs.search"),
        Binding("n", "match(1)", "Next", show=False, id="logs.next"),
        Binding("N", "match(-1)", "Prev match", show=False, id="logs.previous_match"),
        Binding("i", "prompt('include')", "Include", id="logs.include"),
        Binding("x", "prompt('exclude')", "Exclude", id="logs.exclude"),
        Binding("space", "pause", "Pause", id="logs.pause"),
        Binding("t", "timestamps", "Times", show=False, id="logs.timestamps"),
        Binding("j", "json", "JSON", show=False, id="logs.json"),
        Binding("r", "raw", "Raw", id="logs.raw"),
        Binding("l", "level", "Level", id="logs.level"),
        Binding("s", "save", "Save", id="logs.save"),
    ]

    DEFAULT_CSS = """
    LogScreen #logs-title { padding: 0 1; background: $panel; text-style: bold; }
    LogScreen #logs-status { padding: 0 1; color: $text-muted; }
    LogScreen #logs-legend { padding: 0 1; color: $text-muted; max-height: 2; display: none; }
    LogScreen #logs-legend.-shown { display: block; }
    LogScreen #logs-prompt { dock: bottom; display: none; }
    LogScreen #logs-prompt.-open { display: block; }
    """

    class Batch(Message):
        """Lines from the stream, batched: LogLine items, and ``str`` items for stream errors."""

        def __init__(self, lines: list[Any], generation: int, stream: LogStream) -> None:
            super().__init__()
            self.lines = lines
            self.generation = generation
            # Told when the batch is shown: it makes no new batch while the screen is behind.
            self.stream = stream

    class Connected(Message):
        def __init__(self, clusters: list[str], demo: bool, error: str | None = None) -> None:
            super().__init__()
            self.clusters = clusters
            self.demo = demo
            self.error = error

    def __init__(self, session: Session, entity_ref: str, target: LogTarget, *, tail: int = 200) -> None:
        """``session``: its clusters are tailed in the worker (the demo cluster is the session's, shared).

        ``target``: whose logs; ``tail``: the lines of each container's past log shown first.
        """
        super().__init__()
        from idp_tui.kube.logs import LogOptions

        self.session = session
        self.entity_ref = entity_ref
        self.log_target = target
        # A pod or workload name narrowing the view to those pods (said on the status line).
        self.target = target.pods_named
        # The contexts the session reads (every one when None); the stream tails those the target allows.
        self.contexts = list(target.clusters) if target.clusters else None
        # Timestamps are always requested so the t toggle is instant; the view hides them by default.
        self.options = LogOptions(follow=True, tail=tail, timestamps=True)
        self.clusters: list[str] = []
        self.demo = False
        self.error: str | None = None
        self.containers: set[str] = set()
        self.batches = 0
        self.saved_path: str | None = None
        self.saved_lines = 0
        self._tails_closing = threading.Event()
        self._tails_restart = threading.Event()
        self._prompt_kind = ""
        # Bumped at each restart, so batches the old tails posted after the view was cleared are dropped.
        self._generation = 0

    def compose(self) -> ComposeResult:
        # markup=False: refs, cluster names, errors and the user's patterns ("[error]") are shown as written.
        yield Static(clean(f"Logs · {self.entity_ref}", one_line=True), id="logs-title", markup=False)
        yield Static("connecting…", id="logs-status", markup=False)
        yield Static("", id="logs-legend", markup=False)
        yield LogView(id="log-view")
        yield Input(id="logs-prompt")
        yield KeyFooter()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.view.focus()
        self.tail()

    def on_unmount(self) -> None:
        self._tails_closing.set()

    # -- the tails (thread worker) ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="logs")
    def tail(self) -> None:
        """Hold the clusters open; (re)start the stream whenever the options change, until the screen closes."""
        from idp_tui.kube.errors import NoClusters
        from idp_tui.kube.log_stream import tailed_clusters

        try:
            clusters = self.session.log_source(self.contexts)
            names = tailed_clusters(clusters, self.log_target)
            self.post_message(self.Connected(names, clusters.demo))
            while not self._tails_closing.is_set():
                self._tails_restart.clear()
                self._run_stream(clusters, names)
        except NoClusters as problem:
            self.post_message(self.Connected([], False, str(problem)))
        except Exception as problem:  # noqa: BLE001 - a broken kubeconfig is a status line, not a crash
            self.post_message(self.Connected([], False, f"{type(problem).__name__}: {problem}"))

    def _run_stream(self, clusters: LogSource, names: list[str]) -> None:
        """One stream with the current options, until the screen closes or the options change (a finished log,
        of previous containers or not followed, stays on screen until then)."""
        from idp_tui.kube.log_stream import LogStream

        stream = LogStream(clusters, self.log_target, self.options, clusters=names)
        generation = self._generation
        try:
            stream.start()
            for batch in stream.batches(until=self._tails_changed, handed_on=True):
                self.post_message(self.Batch(batch, generation, stream))
        finally:
            stream.stop()

    def _tails_changed(self) -> bool:
        return self._tails_closing.is_set() or self._tails_restart.is_set()

    def _restart_tails(self) -> None:
        self._generation += 1
        self.view.clear()
        self._tails_restart.set()
        self._show_status()

    # -- messages ---------------------------------------------------------------------------------

    def on_log_screen_connected(self, message: Connected) -> None:
        self.clusters, self.demo, self.error = message.clusters, message.demo, message.error
        if self.demo:  # in the title too: the status line is long, and the demo must never pass for a real cluster
            title = clean(f"Logs · {self.entity_ref} · demo cluster", one_line=True)
            self.query_one("#logs-title", Static).update(title)
        self.view.show_cluster = len(self.clusters) > 1
        self._show_status()

    def on_log_screen_batch(self, message: Batch) -> None:
        message.stream.absorbed()
        if message.generation != self._generation:
            return
        self.batches += 1
        for item in message.lines:
            if not isinstance(item, str):
                self.containers.add(item.container)
        self.view.append(message.lines)
        if self.view.paused:
            self.view.refresh()

    def _show_status(self) -> None:
        view, options = self.view, self.options
        parts = [f"clusters {', '.join(self.clusters) or '—'}", f"follow {'on' if options.follow else 'off'}"]
        if self.target:
            parts.append(f"target {self.target}")
        if options.previous:
            parts.append("previous containers")
        if options.container:
            parts.append(f"container {options.container}")
        if view.include is not None:
            parts.append(f"include /{view.include.pattern}/")
        if view.exclude is not None:
            parts.append(f"exclude /{view.exclude.pattern}/")
        if view.search_pattern is not None:
            parts.append(f"search {self._search_text!r}")
        if view.min_level is not None:
            parts.append(f"≥ {view.min_level.word}")
        if view.raw:
            parts.append("raw")
        if self.demo:
            parts.append("demo cluster")
        status = self.error if self.error else " · ".join(parts)
        self.query_one("#logs-status", Static).update(clean(status, one_line=True))

    _search_text = ""

    # -- actions ----------------------------------------------------------------------------------

    def action_back(self) -> None:
        prompt = self.query_one("#logs-prompt", Input)
        if prompt.has_class("-open"):
            self._close_prompt()
            return
        self._tails_closing.set()
        self.app.pop_screen()

    def action_toggle_follow(self) -> None:
        self.options = dataclasses.replace(self.options, follow=not self.options.follow)
        self._restart_tails()

    def action_toggle_previous(self) -> None:
        # A crashed container's previous log is finished: following it would wait forever.
        previous = not self.options.previous
        self.options = dataclasses.replace(self.options, previous=previous, follow=not previous)
        self._restart_tails()

    def action_choose_container(self) -> None:
        def chosen(container: str | None) -> None:
            if container is not None:
                self.options = dataclasses.replace(self.options, container=re.escape(container) if container else None)
                self._restart_tails()

        self.app.push_screen(ContainerPicker(sorted(self.containers)), chosen)

    def action_prompt(self, kind: str) -> None:
        view = self.view
        current = {
            "search": self._search_text,
            "include": view.include.pattern if view.include else "",
            "exclude": view.exclude.pattern if view.exclude else "",
        }[kind]
        prompt = self.query_one("#logs-prompt", Input)
        self._prompt_kind = kind
        prompt.placeholder = {"search": "search text", "include": "include regex", "exclude": "exclude regex"}[kind]
        prompt.value = current
        prompt.add_class("-open")
        prompt.focus()

    @on(Input.Submitted, "#logs-prompt")
    def _prompted(self, event: Input.Submitted) -> None:
        view, value = self.view, event.value
        try:
            if self._prompt_kind == "search":
                self._search_text = value
                found = view.search(value)
                if value:
                    self.notify(f"{found:,} matching rows" if found else f"no rows match {value!r}", timeout=3)
            elif self._prompt_kind == "include":
                view.set_filters(value or None, view.exclude.pattern if view.exclude else None)
            else:
                view.set_filters(view.include.pattern if view.include else None, value or None)
        except re.error as problem:
            self.notify(f"invalid regular expression: {problem}", severity="error", timeout=5)
            return
        self._close_prompt()
        self._show_status()

    def _close_prompt(self) -> None:
        self.query_one("#logs-prompt", Input).remove_class("-open")
        self.view.focus()

    def action_match(self, step: int) -> None:
        if not self.view.next_match(step):
            self.notify("no match", timeout=2)

    def action_pause(self) -> None:
        self.view.set_paused(not self.view.paused)

    def action_timestamps(self) -> None:
        self.view.toggle_timestamps()

    def action_json(self) -> None:
        self.view.toggle_json()

    def action_raw(self) -> None:
        """The lines as written, or read into time, level, message and fields (short pod prefixes)."""
        self.view.toggle_raw()
        self._show_legend()
        self._show_status()

    # Each press raises the floor: every line, ≥ info, ≥ warn, ≥ error, then every line again.
    LEVELS = (None, "info", "warn", "error")

    def action_level(self) -> None:
        from idp_tui.kube.log_lines import Level

        current = self.view.min_level.word if self.view.min_level is not None else None
        following = self.LEVELS[(self.LEVELS.index(current) + 1) % len(self.LEVELS)] if current in self.LEVELS else None
        self.view.set_min_level(Level[following.upper()] if following else None)
        self._show_status()

    @on(LogView.PodsChanged)
    def _pods_changed(self, event: LogView.PodsChanged) -> None:
        self._show_legend()

    def _show_legend(self) -> None:
        """Which pod each short prefix stands for (pretty view only; the raw view names pods in full)."""
        legend = self.query_one("#logs-legend", Static)
        lines = [] if self.view.raw else self.view.legend_lines(max(20, self.size.width - 2))
        text = "\n".join(lines[:2]) + (" …" if len(lines) > 2 else "")
        legend.update(clean(text))
        legend.set_class(bool(lines), "-shown")

    def action_save(self) -> None:
        from idp_tui.paths import state_home

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.entity_ref)
        path = state_home() / "logs" / f"{safe}-{stamp}.log"
        try:
            count = self.view.save(path)
        except OSError as problem:
            self.notify(f"could not save: {problem}", severity="error", timeout=6)
            return
        self.saved_path = str(path)
        self.saved_lines = count
        self.notify(f"saved {count:,} lines to {path}", timeout=6)

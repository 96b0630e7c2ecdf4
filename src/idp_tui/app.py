"""The Textual application: screens, app-wide bindings, the command palette and background loading."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

if TYPE_CHECKING:
    from .catalog.entity import Entity
    from .catalog.model import Catalog
    from .catalog.problems import Problem
    from .catalog.protocols import CatalogSource
    from .catalog.search import SearchIndex
    from .keymap import Scope
    from .kube.report import PodReport, WorkloadReport
    from .session import Session

from .catalog.errors import CatalogSourceError
from .catalog.first_page import first_page_path, load_first_page, save_first_page
from .resources import theme_file
from .widgets.key_hold import KeyHold


class IdpApp(KeyHold, App[int]):
    """idp-tui's terminal UI, on one :class:`Session`: the screens reach its capabilities and each other through
    the app (see ``idp_tui.screens.host``)."""

    TITLE = "idp-tui"
    CSS_PATH = str(theme_file("app.tcss"))
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("n", "golden_paths", "New from golden path", id="app.golden_paths"),
        Binding("m", "mine", "Mine", id="app.mine"),
        Binding("w", "who", "Who owns…", id="app.who"),
        Binding("question_mark", "keys", "Keys", id="app.keys"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.commands"),
    ]

    class CatalogLoaded(Message):
        """The catalog finished loading (from the worker thread)."""

        def __init__(self, catalog: Catalog, index: SearchIndex, note: str | None = None) -> None:
            super().__init__()
            self.catalog = catalog
            self.index = index
            # Said beside the count: "cached 3 min ago, refreshing…", "offline: cached 2 h ago"...
            self.note = note

    class CatalogFailed(Message):
        def __init__(self, reason: str, have_cached: bool = False) -> None:
            super().__init__()
            self.reason = reason
            self.have_cached = have_cached

    class CatalogGuardrails(Message):
        """The policies' catalog rules judged the loaded catalog (from the worker thread): more problems."""

        def __init__(self, catalog: Catalog, problems: list[Problem]) -> None:
            super().__init__()
            self.catalog = catalog
            self.problems = problems

    def __init__(self, session: Session, *, no_animations: bool = False) -> None:
        # Native ANSI under NO_COLOR makes Textual drop every colour (its NoColor filter), not paint in greys.
        super().__init__(ansi_color=True if "NO_COLOR" in os.environ else None)
        from .safe_text import install_terminal_filter

        # Defence in depth: any catalog or backend text that reaches a Text or Content loses its control characters.
        install_terminal_filter()
        self.session = session
        self.catalog: Catalog | None = None
        self.index: SearchIndex | None = None
        if no_animations or os.environ.get("SSH_CONNECTION"):
            # Over SSH every animation frame is bytes on a slow link; --no-animations asks the same anywhere.
            self.animation_level = "none"
        self.theme_names: list[str] = []  # offered in the command palette: built-in, then the user's palettes
        self._render_styles_pushed = False
        self._theme_problems = self.choose_start_theme()

    def get_default_screen(self) -> Screen:
        """The home screen, with last run's first page, as the app's first screen.

        Pushed from ``on_mount`` instead, it would be laid out and painted while Textual still holds back every
        paint for its start-up, and show a frame later (about 20 ms, and a blank default screen composed for
        nothing).
        """
        from idp_tui.screens.home import HomeScreen

        first_page = load_first_page(self._first_page_path) if self._first_page_path else None
        return HomeScreen(self.session, first_page)

    def on_mount(self) -> None:
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=15, markup=False)
        self.apply_user_keymap()
        self._say_storage_fallback()
        self.session.notices.sink = self._say_backend_wait  # "rate limited: waiting 10 s", from any worker
        # Paint the first frame (last run's first page) before the loader competes for the interpreter.
        self.call_after_refresh(self.load_catalog)

    def _say_backend_wait(self, text: str, title: str = "Waiting") -> None:
        """A backend waits before retrying (rate limited), or a session's notice (a broken policy): a notification,
        whichever thread the client runs in."""
        try:
            self.call_from_thread(self.notify, text, title=title, timeout=8, markup=False)
        except RuntimeError:  # on the app's own thread (call_from_thread refuses), or the app has already stopped
            if self.is_running:
                self.notify(text, title=title, timeout=8, markup=False)

    def apply_user_keymap(self) -> None:
        """Remap keys from ``keymap.yaml`` (binding ids to keys); its problems are shown once, valid entries apply."""
        from .config import config_path

        # The usual case (no keymap) costs one stat before the first frame, not the import of the keymap checker
        # and every screen: this is keymap.keymap_path(), which the import would give.
        if not (config_path().parent / "keymap.yaml").exists():
            return
        from .keymap import keymap_path
        from .screens.bindings import load_user_keymap

        path = keymap_path()
        result = load_user_keymap(path, binding_scopes())
        if result.keymap:
            self.set_keymap(result.keymap)
        if result.problems:
            # markup=False: the problems quote the user's text, which may hold [brackets].
            self.notify("\n".join(result.problems), title="keymap.yaml", severity="warning", timeout=20, markup=False)

    def choose_start_theme(self) -> list[str]:
        """Register the themes and pick one (flag/env/profile > last palette choice > default).

        Called before the app runs, so the first frame is styled once, in this theme. Returns the problems, to
        notify once the app runs.
        """
        from idp_tui.themes.palettes import DEFAULT_THEME
        from idp_tui.themes.registry import register_themes

        from .theming import choose_theme, load_remembered_theme, user_palette_dir

        self.theme_names, problems = register_themes(self, user_palette_dir())
        name, problem = choose_theme(self.session.theme, load_remembered_theme(), self.theme_names, DEFAULT_THEME)
        self._set_start_theme(name)
        return ([problem] if problem else []) + problems

    def _set_start_theme(self, name: str) -> None:
        """Set the theme before the app runs, without the CSS refresh a change of theme queues.

        The stylesheet has no rules yet and is first parsed with these variables; the refresh Textual's theme
        watcher queues would parse every rule a second time before the first frame (~10 ms of it). This does the
        rest of what that watcher does: the theme's classes, the ANSI colour mapping, the render styles.
        """
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {existing: False for existing in self.classes if existing.startswith("-theme-")}
        classes.update({f"-theme-{theme.name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())
        self.watch_theme(name)

    def watch_theme(self, name: str) -> None:
        """Give the renderables' named styles (problem, warning) the new theme's colours."""
        from .render.styles import rich_theme, theme_styles

        theme = self.get_theme(name)
        if theme is None:
            return
        if self._render_styles_pushed:
            self.console.pop_theme()
        self.console.push_theme(rich_theme(theme_styles(theme.error, theme.warning)))
        self._render_styles_pushed = True

    def switch_theme(self, name: str) -> None:
        """The command palette's choice: applied now and remembered for the next start."""
        from .theming import remember_theme

        self.theme = name
        remember_theme(name)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        if self.no_color:
            from idp_tui.themes.palettes import NO_COLOR_VARIABLES

            variables.update(NO_COLOR_VARIABLES)
        return variables

    def _say_storage_fallback(self) -> None:
        """A read-only home: say once that state and cache live in a temporary folder this session."""
        from .paths import take_fallback_notice

        notice = take_fallback_notice()
        if notice:
            self.notify(notice, title="Storage", severity="warning", timeout=15, markup=False)

    @property
    def _first_page_path(self) -> Path | None:
        session = self.session
        return first_page_path(session.catalog_source.label, session.cache_dir) if session.use_cache else None

    @work(thread=True, exclusive=True, group="catalog")
    def load_catalog(self) -> None:
        """Read the catalog and build the search index off the UI thread.

        A remote source with a cached copy is shown from the cache at once, marked with its age, and then
        refreshed; a refresh that fails keeps the cached copy usable and says why.
        """
        from .catalog.search import SearchIndex

        source = self.session.catalog_source
        cached = self._cached_catalog(source)
        if cached is not None and self.session.offline:
            return
        try:
            catalog = source.load()
            index = SearchIndex(catalog.entities)
        except Exception as error:  # noqa: BLE001 - any failure is shown, the app stays usable
            reason = str(error) if isinstance(error, CatalogSourceError) else f"{type(error).__name__}: {error}"
            self.post_message(self.CatalogFailed(reason, have_cached=cached is not None))
            return
        self.post_message(self.CatalogLoaded(catalog, index))
        if self._first_page_path:
            save_first_page(self._first_page_path, index.entities, len(catalog), len(catalog.problems))
        catalog.add_incoming_relations()  # left out of the load, which shows the list sooner without them
        index.prepare()  # the texts searched, typo tolerance and the word index, built with the list on screen
        # Last, with the list on screen: the policies' catalog rules (their worker starts here), among the problems.
        guardrails = self.session.catalog_guardrail_problems(catalog)
        if guardrails:
            self.post_message(self.CatalogGuardrails(catalog, guardrails))

    def _cached_catalog(self, source: CatalogSource) -> Catalog | None:
        """Post the source's cached catalog (remote sources keep one), or return None if it has none."""
        import time

        from .catalog.search import SearchIndex
        from .render.words import age_words

        cached = source.load_cached() if source.supports_cached_copy and self.session.use_cache else None
        if cached is None:
            return None
        catalog, saved_at = cached
        age = age_words(time.time() - saved_at)
        note = f"offline: cached {age} ago" if self.session.offline else f"cached {age} ago, refreshing…"
        self.post_message(self.CatalogLoaded(catalog, SearchIndex(catalog.entities), note))
        return catalog

    def on_idp_app_catalog_loaded(self, message: CatalogLoaded) -> None:
        from idp_tui.screens.home import HomeScreen

        self.catalog, self.index = message.catalog, message.index
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.show_catalog(message.catalog, message.index, note=message.note)

    def on_idp_app_catalog_guardrails(self, message: CatalogGuardrails) -> None:
        from idp_tui.screens.home import HomeScreen

        if message.catalog is not self.catalog:
            return  # a newer catalog was read meanwhile; its own verdicts follow
        message.catalog.problems.extend(message.problems)
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.problems_changed()

    def on_idp_app_catalog_failed(self, message: CatalogFailed) -> None:
        from idp_tui.screens.home import HomeScreen

        if not message.have_cached:
            self.notify(f"Could not load the catalog: {message.reason}", severity="error", timeout=30, markup=False)
            return
        reason = f"Refresh failed, showing the cached catalog: {message.reason}"
        self.notify(reason, severity="warning", timeout=15, markup=False)
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.set_catalog_note("cached copy (refresh failed)")

    # -- navigation: every screen opens the others through these ------------------------------------------------

    def _read_catalog(self) -> Catalog | None:
        """The catalog, or None after saying it is still being read (the rows on screen may be last run's)."""
        if self.catalog is None:
            self.notify("Still reading the catalog; try again in a moment.", timeout=3)
        return self.catalog

    def action_golden_paths(self) -> None:
        from idp_tui.screens.golden_paths import GoldenPathsScreen

        if isinstance(self.screen, GoldenPathsScreen):
            return
        catalog = self._read_catalog()
        if catalog is not None:
            self.push_screen(GoldenPathsScreen(self.session, catalog))

    def open_entity(self, entity: Entity, tab: str = "overview") -> None:
        """Everything about an entity, on ``tab`` (overview, relations, owner, docs)."""
        from idp_tui.screens.entity import EntityScreen

        catalog = self._read_catalog()  # the rows on screen may be last run's: their relations are not read yet
        if catalog is not None:
            self.push_screen(EntityScreen(catalog.get(entity.key) or entity, tab=tab))

    def open_deployments(self, entity: Entity) -> None:
        from idp_tui.screens.deployments import DeploymentsScreen

        self.push_screen(DeploymentsScreen(entity, self.session))

    def open_logs(self, entity: Entity, cluster: str, workload: WorkloadReport | None, pod: PodReport | None) -> None:
        """The log tail of a workload's pods, or of one pod (the Deployments screen's ``l``)."""
        from idp_tui.kube.log_stream import LogTarget
        from idp_tui.kube.selection import selector_for
        from idp_tui.screens.logs import LogScreen

        selector = selector_for(entity)
        if selector is None:
            return
        self.push_screen(LogScreen(self.session, entity.key, LogTarget.of(selector, cluster, workload, pod)))

    def open_secrets(self, entity: Entity) -> None:
        from idp_tui.screens.secrets import SecretsScreen

        self.push_screen(SecretsScreen(entity))

    def open_oncall(self, entity: Entity) -> None:
        """The Ownership and On-call view of an entity (``o`` everywhere); for a group or person, the team view."""
        from idp_tui.screens.oncall import OnCallScreen, TeamScreen

        catalog = self._read_catalog()
        if catalog is None:
            return
        entity = catalog.get(entity.key) or entity
        # A team's own page is its ladder and what it owns: a team has no dependents of its own.
        self.push_screen(TeamScreen(entity) if entity.kind in ("Group", "User") else OnCallScreen(entity))

    def open_team(self, owner_key: str) -> None:
        """What a group (or user) owns, with its sub-teams', and how each is doing."""
        from idp_tui.screens.oncall import TeamScreen

        owner = self.catalog.get(owner_key) if self.catalog is not None else None
        if owner is not None:
            self.push_screen(TeamScreen(owner))

    async def action_quit(self) -> None:
        self.session.close()  # the demo cluster and demo Vault stop with the app
        self.exit()

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52, which reaches the clipboard of the machine the person sits at, over SSH too.

        Inside tmux the sequence is sent as is (taken when tmux's set-clipboard is on) and once more wrapped for
        passthrough (taken when allow-passthrough is on), so one of the two reaches the outer terminal.
        """
        from .render.hyperlinks import osc52

        self._clipboard = text
        if self._driver is None:
            return
        sequence = osc52(text)
        if os.environ.get("TMUX"):
            sequence += osc52(text, inside_tmux=True)
        self._driver.write(sequence.decode("ascii"))

    def action_mine(self) -> None:
        """Your groups' services: the user from --user (IDP_TUI_USER), else matched from $USER."""
        from .oncall.ownership import resolve_user

        catalog = self._read_catalog()
        if catalog is None:
            return
        user = resolve_user(catalog, self.session.user, os.environ.get("USER") or os.environ.get("LOGNAME"))
        if user is None:
            self.notify("No catalog User matches you: start with --user user:NAME (or set IDP_TUI_USER).", timeout=8)
            return
        self.open_team(user.key)

    def action_who(self) -> None:
        """Who owns a pasted pod, workload, PagerDuty service or entity (the 3 a.m. question)."""
        from idp_tui.screens.who_prompt import WhoPromptScreen

        catalog = self._read_catalog()
        if catalog is not None and not isinstance(self.screen, WhoPromptScreen):
            self.push_screen(WhoPromptScreen(catalog))

    def action_keys(self) -> None:
        from idp_tui.screens.keys import KeysScreen

        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action bound on the current screen, plus Textual's own commands."""
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            help_text = f"Key: {binding.key_display or key}"
            yield SystemCommand(binding.description, help_text, partial(self.run_action, binding.action, active.node))
        for name in self.theme_names:
            yield SystemCommand(f"Theme: {name}", "Switch colour theme (remembered)", partial(self.switch_theme, name))
        # Textual's own "Theme" picker lists its themes too, and would not remember the choice.
        yield from (command for command in super().get_system_commands(screen) if command.title != "Theme")


def binding_scopes() -> list[Scope]:
    """Every screen, modal and widget of :class:`IdpApp` with the bindings active in it: what keymap.yaml may
    remap (imports every screen and widget module; for the keymap check and ``idp-tui keys``)."""
    from .screens.bindings import scopes_of

    return scopes_of(IdpApp)

"""``w``: "who owns this?" from whatever the alert or kubectl showed: an entity, a PagerDuty service, a pod."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from idp_tui.catalog.model import Catalog
from idp_tui.oncall.reverse import Lookup, lookup
from idp_tui.safe_text import clean

from .host import host


class WhoPromptScreen(ModalScreen[None]):
    """Paste a name; the entity it leads to opens in the Ownership and On-call view. Esc cancels."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="who.back")]

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Who owns…", classes="picker-title")
            yield Input(placeholder="entity, PagerDuty service id, or [cluster:][namespace/]pod", id="who-input")
            yield Static(
                "An entity ref, P7XK2MD, or a pod or workload as kubectl shows it.", id="who-status", markup=False
            )

    @on(Input.Submitted, "#who-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#who-status", Static).update("Looking it up…")
            self._look_up(event.value)

    @work(thread=True, exclusive=True, group="who")
    def _look_up(self, text: str) -> None:
        # Pods are looked up on the session's clusters (the demo cluster starts here on first use).
        try:
            found = lookup(text, self.catalog, host(self).session.workload_source)
        except Exception as problem:  # noqa: BLE001 - a cluster that cannot be read is said, not raised
            from idp_tui.kube.errors import describe_api_error

            found = Lookup(None, problem=f"could not look it up on the clusters: {describe_api_error(problem, 'pods')}")
        self.app.call_from_thread(self._found, found)

    def _found(self, found: Lookup) -> None:
        if found.entity is None:
            self.query_one("#who-status", Static).update(found.problem or "Nothing found.")
            return
        self.app.pop_screen()
        host(self).open_oncall(found.entity)
        if found.found_from:
            found_from = clean(f"{found.entity.ref.humanize()}, found from {found.found_from}", one_line=True)
            self.app.notify(found_from, timeout=5, markup=False)

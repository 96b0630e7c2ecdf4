"""An entity's Deployments: per cluster, workloads with rollout status, their pods and problems, warning events."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from idp_tui.catalog.entity import Entity
from idp_tui.render.deployments import DeploymentRow, cluster_rows


def _one_line(text: Text, width: int) -> Text:
    # One row per line keeps the list scannable at 80 columns; the highlighted row is shown whole below.
    line = text.copy()
    line.truncate(width, overflow="ellipsis")
    return line


class DeploymentsScreen(Screen):
    """Reads every cluster in a thread worker; rows are rebuilt from the report each time it changes."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="deployments.back"),
        Binding("l", "logs", "Logs", id="deployments.logs"),
        Binding("ctrl+r", "reload", "Reload", id="deployments.reload"),
    ]

    DEFAULT_CSS = """
    DeploymentsScreen #deployments-title { padding: 0 1; background: $panel; text-style: bold; }
    DeploymentsScreen #deployments-status { padding: 0 1; color: $text-muted; }
    DeploymentsScreen OptionList { height: 1fr; border: none; }
    DeploymentsScreen #deployment-detail { height: auto; max-height: 5; padding: 0 1; border-top: hkey $panel; }
    """

    class Loaded(Message):
        def __init__(self, reports: list[dict[str, Any]], seconds: float, error: str | None = None) -> None:
            super().__init__()
            self.reports = reports
            self.seconds = seconds
            self.error = error

    def __init__(self, entity: Entity, access: Any) -> None:
        super().__init__()
        self.entity = entity
        self.access = access
        self.reports: list[dict[str, Any]] = []
        self.rows: list[DeploymentRow] = []
        self.loaded_at: datetime | None = None
        self.first_load_seconds: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Deployments · {self.entity.display_name}", id="deployments-title")
        yield Static("reading clusters…", id="deployments-status")
        yield OptionList(id="deployment-rows")
        yield Static("", id="deployment-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="deployments")
    def load(self) -> None:
        from idp_tui.kube.access import NoClusters
        from idp_tui.kube.report import cluster_report
        from idp_tui.kube.selection import SelectorError, selector_for

        started = time.perf_counter()
        try:
            selector = selector_for(self.entity)
            if selector is None:
                message = "no backstage.io/kubernetes-id or kubernetes-label-selector annotation on this entity"
                self.post_message(self.Loaded([], 0.0, message))
                return
            snapshots = self.access.clusters().snapshot(selector)
        except (SelectorError, NoClusters) as problem:
            self.post_message(self.Loaded([], 0.0, str(problem)))
            return
        now = datetime.now(UTC)
        reports = [cluster_report(snapshot, now) for snapshot in snapshots]
        self.post_message(self.Loaded(reports, time.perf_counter() - started))

    def on_deployments_screen_loaded(self, message: Loaded) -> None:
        status = self.query_one("#deployments-status", Static)
        if message.error:
            status.update(Text(f"✗ {message.error}", style="bold"))
            return
        if self.first_load_seconds is None:
            self.first_load_seconds = message.seconds
        self.reports = message.reports
        self.loaded_at = datetime.now(UTC)
        self._show()
        problems = sum(
            1
            for report in self.reports
            for workload in report["workloads"]
            if workload["problems"] or any(pod["problems"] for pod in workload["pods"])
        )
        clusters = ", ".join(report["name"] + (" ✗" if report["error"] else "") for report in self.reports)
        summary = f"{len(self.reports)} clusters ({clusters}) · {problems} workloads with problems"
        status.update(f"{summary} · read at {self.loaded_at:%H:%M:%S}")

    def _show(self) -> None:
        option_list = self.query_one(OptionList)
        highlighted = option_list.highlighted
        self.rows = [row for report in self.reports for row in cluster_rows(report)]
        option_list.clear_options()
        width = max(20, option_list.scrollable_content_region.width - 1)
        option_list.add_options(Option(_one_line(row.text, width)) for row in self.rows)
        if self.rows:
            option_list.highlighted = min(highlighted or self._first_interesting(), len(self.rows) - 1)

    def on_resize(self) -> None:
        if self.rows:
            self._show()

    def _first_interesting(self) -> int:
        """The first workload row: problems sort first, so that is where to look."""
        return next((i for i, row in enumerate(self.rows) if row.kind == "workload"), 0)

    def current_row(self) -> DeploymentRow | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def action_reload(self) -> None:
        self.query_one("#deployments-status", Static).update("reading clusters…")
        self.load()

    def action_logs(self) -> None:
        row = self.current_row()
        if row is None or row.workload is None:
            self.notify("Highlight a workload or a pod to see its logs.", timeout=3)
            return
        opener = getattr(self.app, "open_logs", None)
        if opener is not None:
            opener(self.entity, row.cluster, row.workload, row.pod)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        row = self.rows[event.option_index] if event.option_index < len(self.rows) else None
        self.query_one("#deployment-detail", Static).update(row.text if row is not None else "")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        row = self.rows[event.option_index]
        if row.pod is not None:
            from .pod_detail import PodDetailScreen

            self.app.push_screen(PodDetailScreen(row.cluster, row.pod))

"""One pod: where it runs, each container's image, state and last termination, and its problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from idp_tui.render.deployments import age
from idp_tui.render.styles import PROBLEM
from idp_tui.safe_text import clean
from idp_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from idp_tui.kube.report import PodReport


def _cell(text: object) -> Text:
    # Text, not str: a str cell is read as markup, and a cluster's message may hold "[/x]" (or escapes).
    return Text(clean(str(text)))


def pod_detail(cluster: str, pod: PodReport, demo: bool = False) -> Table:
    """The pod's facts, then a row per container; ``demo``: the cluster is the demo cluster, and it says so."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    summary = pod.summary
    facts = [
        ("Cluster", f"{cluster} (demo cluster)" if demo else cluster),
        ("Status", f"{summary.status} ({summary.phase})"),
        ("Ready", summary.ready),
        ("Restarts", str(summary.restarts)),
        ("Age", age(summary.age)),
        ("Node", summary.node or "-"),
    ]
    for label, value in facts:
        table.add_row(label, _cell(value))
    for container in pod.containers:
        table.add_row("", "")
        mark = "✓" if container.ready else "✗"
        table.add_row(_cell(f"{mark} {container.name}"), _cell(container.image or ""))
        table.add_row("", _cell(f"state: {container.state or '-'}   restarts: {container.restarts}"))
        if container.last_state:
            table.add_row("", _cell(f"last: {container.last_state}"))
    for problem in pod.problems:
        table.add_row("", "")
        reason = Text(clean(f"! {problem.reason}", one_line=True), style=PROBLEM)
        table.add_row(reason, _cell(f"{problem.message}\n{problem.hint}"))
    return table


class PodDetailScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="pod.back")]

    DEFAULT_CSS = """
    PodDetailScreen #pod-title { padding: 0 1; background: $panel; text-style: bold; }
    PodDetailScreen VerticalScroll { padding: 0 1; }
    """

    def __init__(self, cluster: str, pod: PodReport, *, demo: bool = False) -> None:
        super().__init__()
        self.cluster = cluster
        self.pod = pod
        self.demo = demo

    def compose(self) -> ComposeResult:
        badge = " · demo cluster" if self.demo else ""
        yield Static(clean(f"Pod {self.pod.name}{badge}", one_line=True), id="pod-title", markup=False)
        with VerticalScroll():
            yield Static(pod_detail(self.cluster, self.pod, self.demo), id="pod-detail")
        yield KeyFooter()

"""An entity's Deployments: per cluster, its Argo CD applications, then its workloads (Argo Rollouts among them) with
rollout status, their pods and problems, and warning events. Applications and Rollouts are followed by their own
watches; refresh, sync, promote and abort ask first, then go through the GitOps capability."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from idp_tui.catalog.entity import Entity
from idp_tui.render.rows import DeploymentRow
from idp_tui.safe_text import clean
from idp_tui.widgets.deployment_list import DeploymentList
from idp_tui.widgets.key_footer import KeyFooter

from .deployments_feed import LiveFeed
from .deployments_gitops import GitOpsRows
from .host import host

if TYPE_CHECKING:
    from idp_tui.kube.actions import WorkloadAction
    from idp_tui.kube.gitops.protocols import GitOpsAction, GitOpsSource
    from idp_tui.kube.gitops.report import ClusterGitOps
    from idp_tui.kube.gitops.selection import ApplicationSelection
    from idp_tui.kube.protocols import WorkloadSource
    from idp_tui.kube.report import ClusterReport
    from idp_tui.kube.snapshot import ClusterSnapshot
    from idp_tui.session import Session


FIRST_PAINT_WAIT = 0.06
"""Seconds the new screen waits for its first build before it is painted (see ``_start_load``)."""


def screen_title(name: str, badges: list[str], width: int) -> str:
    """``Deployments · NAME · demo cluster · READ-ONLY`` in one line of ``width``: the name gives way, never a badge."""
    tail = "".join(f" · {badge}" for badge in badges)
    head = "Deployments · "
    shown = Text(clean(name, one_line=True))
    shown.truncate(max(8, width - len(head) - len(tail)), overflow="ellipsis")  # in cells: wide characters count 2
    return f"{head}{shown.plain}{tail}"


class DeploymentsScreen(LiveFeed, GitOpsRows, Screen):
    """Follows every cluster through its watches; the rows of the clusters that changed are rebuilt off the UI
    thread (see :mod:`.deployments_feed`) and only the rows on screen are drawn (:class:`DeploymentList`)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="deployments.back"),
        Binding("l", "logs", "Logs", id="deployments.logs"),
        Binding("o", "oncall", "On call", id="deployments.oncall"),
        Binding("R", "restart", "Restart", id="deployments.restart"),
        Binding("plus", "scale(1)", "Scale +1", show=False, id="deployments.scale_up"),
        Binding("minus", "scale(-1)", "Scale -1", show=False, id="deployments.scale_down"),
        Binding("X", "delete_pod", "Delete pod", show=False, id="deployments.delete_pod"),
        Binding("s", "gitops('sync')", "Sync", id="deployments.sync"),
        Binding("r", "gitops('refresh')", "Refresh", show=False, id="deployments.refresh"),
        Binding("H", "gitops('hard_refresh')", "Hard refresh", show=False, id="deployments.hard_refresh"),
        Binding("P", "gitops('promote')", "Promote", show=False, id="deployments.promote"),
        Binding("A", "gitops('abort')", "Abort", show=False, id="deployments.abort"),
        Binding("c", "next_cluster", "Cluster", id="deployments.cluster"),
        Binding("ctrl+r", "reload", "Reconnect", show=False, id="deployments.reload"),
    ]

    DEFAULT_CSS = """
    DeploymentsScreen #deployments-title { padding: 0 1; background: $panel; text-style: bold; }
    DeploymentsScreen #deployments-status { padding: 0 1; color: $text-muted; }
    DeploymentsScreen #deployment-detail { height: auto; max-height: 5; padding: 0 1; border-top: hkey $panel; }
    """

    class Problem(Message):
        """The view cannot be shown at all (no annotation, a bad selector, no clusters): ``error`` says why."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class ClusterStatus(Message):
        def __init__(self, status: Any) -> None:
            super().__init__()
            self.status = status

    def __init__(self, entity: Entity, session: Session) -> None:
        """``session``: its clusters are read in the worker (the demo cluster starts there on first use)."""
        super().__init__()
        self.entity = entity
        self.session = session
        self.read_only = session.read_only
        self.clusters: WorkloadSource | None = None
        self.watches: list[Any] = []
        self.cluster_order: list[str] = []
        self.by_cluster: dict[str, ClusterReport] = {}
        self.statuses: dict[str, Any] = {}
        # None: every cluster; else only this context is shown (c switches).
        self.only_cluster: str | None = None
        self.started_at = time.perf_counter()
        self.reports: list[ClusterReport] = []
        self.rows: list[DeploymentRow] = []
        self._cluster_rows: dict[str, list[DeploymentRow]] = {}
        self.loaded_at: datetime | None = None
        self.first_load_seconds: float | None = None  # from opening to the complete view on screen
        self._shown_complete = False
        self.problem_count = 0  # workloads, applications and Rollouts with problems, as last shown
        self._status_shown = ""
        self._detail_shown: Text | None = None
        # GitOps: what the applications' and Rollouts' watches hold, combined with the workloads' latest snapshot
        # (a Rollout's ReplicaSets and pods are the workloads' own) under a lock, since both post from threads.
        self.gitops_source: GitOpsSource | None = None
        self.gitops_watches: list[Any] = []
        self.gitops: dict[str, ClusterGitOps] = {}
        self.gitops_read = False
        self.gitops_error: str | None = None
        self._gitops_lock = threading.Lock()
        # Set once the first complete view is on screen: the watches' streams open then (their handshakes would
        # otherwise compete with the lists and the first paint). A new one for each Ctrl-R.
        self.streams_gate = threading.Event()
        self._workload_snapshots: dict[str, ClusterSnapshot] = {}
        self._gitops_snapshots: dict[str, dict[str, ClusterSnapshot]] = {}  # cluster -> kind -> its watch's latest
        self._app_selection: ApplicationSelection | None = None
        self._gitops_pending: set[tuple[str, str]] = set()  # (cluster, kind) watches yet to answer
        self._gitops_by_kind: dict[tuple[str, str], Any] = {}
        self._gitops_unserved: set[tuple[str, str]] = set()  # answered 404 before their watch was recorded
        self._init_feed()

    @property
    def badges(self) -> list[str]:
        """What the title must always say: the demo cluster is never silent, nor is read-only mode."""
        demo = self.session.demo_clusters
        return [*(["demo cluster"] if demo else []), *(["READ-ONLY"] if self.read_only else [])]

    def compose(self) -> ComposeResult:
        # markup=False: names and statuses are data, and "[/x]" in a title must show, not raise.
        title = screen_title(self.entity.display_name, self.badges, self.app.size.width - 2)
        yield Static(title, id="deployments-title", markup=False)
        yield Static("reading clusters…", id="deployments-status", markup=False)
        yield DeploymentList(id="deployment-rows")
        yield Static("", id="deployment-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DeploymentList).focus()
        self._defer_full_collections()
        self._start_feed()
        self._start_load()

    def _start_load(self) -> None:
        """Start the watches from a thread of their own, now, and wait up to ``FIRST_PAINT_WAIT`` for the first
        build before the screen is painted at all.

        A Textual worker would start only once the event loop is free again, after the screen's first layout and
        paint. Nearby clusters answer within that wait: the screen is then painted once, complete, instead of empty
        and again a moment later; the empty paint took a quarter of the UI's time and every thread the watches start
        waited for a turn at the interpreter lock while it ran. A slow cluster (or the demo cluster's first start)
        gets the "reading…" screen after the wait, as before."""
        threading.Thread(target=self.load, args=(self.generation,), name="deployments load", daemon=True).start()
        self._await_first_build(FIRST_PAINT_WAIT)

    def load(self, generation: int) -> None:
        """Start one watch per cluster: each lists, then follows changes (never polled)."""
        try:
            watching = self._load(generation)
        except Exception as error:  # noqa: BLE001 - the view says why it cannot show anything, in one line
            self.post_message(self.Problem(f"cannot read the clusters: {type(error).__name__}: {error}"))
            watching = False
        if not watching:  # nothing will be built: the screen's first paint need not wait
            self.first_build_ready.set()

    def _load(self, generation: int) -> bool:
        """Start the watches; False when there is nothing to watch (the problem is said)."""
        from idp_tui.kube.errors import NoClusters
        from idp_tui.kube.selection import SelectorError, selector_for

        try:
            selector = selector_for(self.entity)
            if selector is None:
                self.post_message(
                    self.Problem("no backstage.io/kubernetes-id or kubernetes-label-selector annotation on this entity")
                )
                return False
            clusters = self.clusters = self.session.workload_source()
            names = [name for name in clusters.cluster_names() if selector.allows_cluster(name)]
        except (SelectorError, NoClusters) as problem:
            self.post_message(self.Problem(str(problem)))
            return False
        self.cluster_order = names
        self._follow_gitops(selector, names, generation)
        for name in names:
            watch = clusters.watch(
                name,
                selector,
                on_change=lambda snapshot: self._changed(snapshot, generation),
                on_status=lambda status: self.post_message(self.ClusterStatus(status)),
                streams_after=self.streams_gate,
            )
            self.watches.append(watch)
        return bool(names)

    def on_deployments_screen_cluster_status(self, message: ClusterStatus) -> None:
        self.statuses[message.status.cluster] = message.status
        self._update_status()

    def on_unmount(self) -> None:
        self.streams_gate.set()
        self._stop_watches()
        self._stop_feed()
        self._restore_full_collections()

    def _stop_watches(self) -> None:
        """Tell every watch to stop, without waiting for its threads: their streams are shut down at once, and a
        thread still connecting to an unreachable cluster ends by itself (daemon) when its connection gives up.
        Joining here would hold the UI up to 0.2 s per watch, three per cluster."""
        for watch in [*self.watches, *self.gitops_watches]:
            watch.stop(timeout=0)

    def on_deployments_screen_problem(self, message: Problem) -> None:
        self.query_one("#deployments-status", Static).update(
            Text(f"✗ {clean(message.error, one_line=True)}", style="bold")
        )

    def _update_status(self) -> None:
        """Per cluster: live, or stale since when and why (the data shown is the last that was read)."""
        parts = []
        for name in self.cluster_order:
            report, state = self.by_cluster.get(name), self.statuses.get(name)
            if report is not None and report.error:
                parts.append(f"{name} ✗")
            elif state is not None and not state.connected and state.stale_since is not None:
                parts.append(f"{name} stale since {state.stale_since:%H:%M:%S}")
            elif report is None:
                parts.append(f"{name} reading…")
            else:
                parts.append(f"{name} live")
        problems = self.problem_count
        mode = " · read-only" if self.read_only else ""  # a key that would change something says why not
        argo = f" · ✗ {self.gitops_error}" if self.gitops_error else ""
        status = clean(f"{' · '.join(parts)} · {problems} with problems{mode}{argo}", one_line=True)
        if status != self._status_shown:  # unchanged (as under a watch storm): no repaint, no bytes sent
            self._status_shown = status
            self.query_one("#deployments-status", Static).update(status)

    def _show(self) -> None:
        """Put the clusters' rows in the list; only the visible lines that changed are drawn again."""
        rows_list = self.query_one(DeploymentList)
        before = self.current_row()
        shown = [r.name for r in self.reports if self.only_cluster in (None, r.name)]
        self.rows = [row for name in shown for row in self._cluster_rows.get(name, ())]
        cursor = None
        if self.rows:
            # Until the whole view is in, the first failing pod; then the row the reader is on, wherever the
            # watches moved it (an application or Rollout changing above it shifts every row below).
            cursor = self._same_row(before) if before is not None and self._shown_complete else None
            if cursor is None:
                highlighted = rows_list.highlighted or 0
                cursor = min(highlighted, len(self.rows) - 1) if self._shown_complete else self._first_interesting()
            self._shown_complete = self._shown_complete or self.complete
        rows_list.set_rows(self.rows, cursor)
        self._show_detail(rows_list.highlighted_row)  # now, in the same frame as the rows

    def _same_row(self, row: DeploymentRow) -> int | None:
        def key(r: DeploymentRow) -> tuple:
            names = (r.workload.name if r.workload else None, r.pod.name if r.pod else None)
            gitops = (r.application.name if r.application else None, r.rollout.name if r.rollout else None)
            return (r.kind, r.cluster, *names, *gitops)

        wanted = key(row)
        return next((i for i, candidate in enumerate(self.rows) if key(candidate) == wanted), None)

    def on_resize(self) -> None:
        title = screen_title(self.entity.display_name, self.badges, self.size.width - 2)
        self.query_one("#deployments-title", Static).update(title)

    def _first_interesting(self) -> int:
        """The first failing pod (its logs are one key away), else the first workload: problems sort first."""
        rows = list(enumerate(self.rows))
        failing = (i for i, row in rows if row.kind == "pod" and row.pod and row.pod.problems)
        workloads = (i for i, row in rows if row.kind in ("workload", "rollout"))
        return next(failing, next(workloads, next((i for i, row in rows if row.kind == "application"), 0)))

    @property
    def complete(self) -> bool:
        """Every cluster has answered (with its workloads or its error), and so have Argo CD and Argo Rollouts."""
        return self.complete_with(self.reports)

    def complete_with(self, reports: list[ClusterReport]) -> bool:
        """Whether ``reports`` and the GitOps read make the whole view."""
        return bool(self.cluster_order) and len(reports) == len(self.cluster_order) and self.gitops_read

    def current_row(self) -> DeploymentRow | None:
        """The highlighted row (None before any is shown)."""
        return self.query_one(DeploymentList).highlighted_row

    def action_next_cluster(self) -> None:
        """Show one cluster, the next, …, then all again."""
        choices = [None, *self.cluster_order]
        self.only_cluster = choices[(choices.index(self.only_cluster) + 1) % len(choices)]
        self.query_one(DeploymentList).move_to(0)
        self._show()
        self.notify(f"Showing {self.only_cluster or 'every cluster'}", timeout=2, markup=False)

    def action_reload(self) -> None:
        self._stop_watches()
        self.watches.clear()
        self.streams_gate = threading.Event()
        with self._gitops_lock:
            self.generation += 1  # what the old watches still deliver is dropped
            self.gitops_watches.clear()
            self._gitops_by_kind.clear()
            self._gitops_unserved.clear()
            self._workload_snapshots.clear()
            self._gitops_snapshots.clear()
            self._dirty_workloads.clear()
            self._dirty_gitops.clear()
            self._gitops_done = False
            self._build_state = type(self._build_state)()
        self.by_cluster.clear()
        self.gitops.clear()
        self._cluster_rows.clear()
        self.gitops_read = False
        self._shown_complete = False
        self._status_shown = "reading clusters…"
        self.query_one("#deployments-status", Static).update(self._status_shown)
        self._start_load()

    MUTATIONS = ("restart", "scale", "delete_pod", "gitops")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None (not False, which hides): the footer shows the keys dimmed, and the command palette leaves them out.
        if self.read_only and action in self.MUTATIONS:
            return None
        return True

    def on_key(self, event: events.Key) -> None:
        """A disabled mutation key still answers: what it would have run, and why it was not sent.

        The binding is found by key (not a fixed letter), so a remapped key explains itself too.
        """
        if not self.read_only:
            return
        from textual.actions import parse

        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            _, name, parameters = parse(binding.action)
            if name in self.MUTATIONS:
                event.stop()
                event.prevent_default()
                getattr(self, f"action_{name}")(*parameters)
                return

    def action_restart(self) -> None:
        from idp_tui.kube.actions import RestartWorkload

        row = self.current_row()
        if row is None or row.workload is None or row.kind == "pod":
            self.notify("Highlight a workload to restart it.", timeout=3)
            return
        workload = row.workload
        self._confirm(RestartWorkload(row.cluster, workload.kind, workload.namespace, workload.name))

    def action_scale(self, delta: int) -> None:
        from idp_tui.kube.actions import ScaleWorkload

        row = self.current_row()
        if row is None or row.workload is None or row.workload.kind == "DaemonSet":
            self.notify("Highlight a Deployment or StatefulSet to scale it.", timeout=3)
            return
        workload = row.workload
        replicas = max(0, workload.replicas.desired + delta)
        self._confirm(ScaleWorkload(row.cluster, workload.kind, workload.namespace, workload.name, replicas))

    def action_delete_pod(self) -> None:
        from idp_tui.kube.actions import DeletePod

        row = self.current_row()
        owner = (row.workload or row.rollout) if row is not None else None
        if row is None or row.pod is None or owner is None:
            self.notify("Highlight a pod to delete it.", timeout=3)
            return
        self._confirm(DeletePod(row.cluster, owner.namespace, row.pod.name))

    def _confirm(self, action: WorkloadAction | GitOpsAction) -> None:
        command = self._command(action)
        if self.read_only:
            would_run = f"Read-only mode: not sent. It would run: {command}"
            self.notify(would_run, severity="warning", timeout=6, markup=False)
            return
        from .confirm import ConfirmScreen

        describe = action.describe() + (" (demo cluster)" if self.session.demo_clusters else "")
        self.app.push_screen(ConfirmScreen(describe, command), lambda yes: yes and self._apply(action))

    @work(thread=True, group="deployments-actions")
    def _apply(self, action: WorkloadAction | GitOpsAction) -> None:
        from idp_tui.kube.errors import ActionFailed, MutationRefused

        target = self.gitops_source if self._is_gitops(action) else self.clusters
        if target is None:  # only rows the clusters sent can be acted on
            return
        command = self._command(action)
        try:
            target.apply(action, read_only=self.read_only)  # type: ignore[arg-type]
        except (ActionFailed, MutationRefused) as problem:
            self.app.call_from_thread(self.notify, str(problem), severity="error", timeout=8, markup=False)
            return
        # The watches bring the new state (a sync running, then Synced; the canary's next step).
        self.app.call_from_thread(self.notify, f"Sent: {command}", timeout=4, markup=False)

    def action_oncall(self) -> None:
        # Every workload and pod here was found through this entity's annotations: it is theirs.
        host(self).open_oncall(self.entity)

    def action_logs(self) -> None:
        row = self.current_row()
        owner = (row.workload or row.rollout) if row is not None else None
        if row is None or owner is None:
            self.notify("Highlight a workload or a pod to see its logs.", timeout=3)
            return
        # A Rollout narrows the logs as a workload does: by namespace and by its pods' name prefix.
        host(self).open_logs(self.entity, row.cluster, owner, row.pod)  # type: ignore[arg-type]

    @on(DeploymentList.Highlighted)
    def _highlighted(self, event: DeploymentList.Highlighted) -> None:
        self._show_detail(event.row)

    def _show_detail(self, row: DeploymentRow | None) -> None:
        """The highlighted row in full under the list; the same text again is not drawn again."""
        text = row.text if row is not None else None
        if text is self._detail_shown or (text is not None and text == self._detail_shown):
            return
        self._detail_shown = text
        self.query_one("#deployment-detail", Static).update(text if text is not None else "")

    @on(DeploymentList.Selected)
    def _selected(self, event: DeploymentList.Selected) -> None:
        row = event.row
        if row is not None and row.pod is not None:
            from .pod_detail import PodDetailScreen

            report = self.by_cluster.get(row.cluster)
            self.app.push_screen(PodDetailScreen(row.cluster, row.pod, demo=report is not None and report.demo))

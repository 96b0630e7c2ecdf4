"""How the watches' news reaches the Deployments screen: coalesced, built off the UI thread, newest state only.

Every watch thread (a cluster's workloads, its Argo CD applications, its Rollouts) only records its newest
snapshot and marks its cluster as changed. The screen's one build thread turns the changed clusters into reports
and rows and hands the result to the UI thread, which applies it at once. Until the view is complete each piece is
built as soon as every piece is in, or ``GATHER_SECONDS`` after the first piece if one is still missing (a slow
cluster never holds up the others for longer); after that, at most ``UPDATES_PER_SECOND`` updates are applied, the
first change at once. The next build starts only once the last one is on screen, so a storm of pod events costs a
few builds a second, never a queue of refreshes: whatever arrives meanwhile is taken by the next build, and only
the newest snapshot of each cluster is ever built.

A mixin of :class:`~idp_tui.screens.deployments.DeploymentsScreen`, which owns the state it uses.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from idp_tui.kube.gitops.report import ClusterGitOps
    from idp_tui.kube.report import ClusterReport, ReportCache
    from idp_tui.kube.snapshot import ClusterSnapshot
    from idp_tui.render.rows import DeploymentRow, RowTexts

UPDATES_PER_SECOND = 4
"""Screen updates a second at most once the view is complete (a watch storm is shown at this pace)."""
GATHER_SECONDS = 0.05
"""Until the view is complete, how long a piece waits for the others: the pieces of nearby clusters come within a
few milliseconds of each other, and each build shown on its own cost a layout and a repaint of the screen."""


@dataclass
class _Built:
    """What one build made, per cluster it rebuilt (the others keep what they had)."""

    generation: int
    reports: dict[str, ClusterReport] = field(default_factory=dict)
    gitops: dict[str, ClusterGitOps] = field(default_factory=dict)
    rows: dict[str, list[DeploymentRow]] = field(default_factory=dict)
    gitops_read: bool = False
    gitops_error: str | None = None


# Open views that deferred the collector's full collections, and the thresholds to restore when the last closes.
_DEFERRING: dict[str, Any] = {"views": 0, "thresholds": None}


class _BuildState:
    """What the build thread keeps between builds (one generation of watches: Ctrl-R starts a new one)."""

    def __init__(self) -> None:
        self.reports: dict[str, ClusterReport] = {}
        self.gitops: dict[str, ClusterGitOps] = {}
        self.caches: dict[str, ReportCache] = {}
        self.texts: dict[str, RowTexts] = {}
        self.gitops_read = False


class LiveFeed:
    """Coalesced, off-thread updates of the Deployments screen (see the module's docstring)."""

    class Built(Message):
        """A build is done: apply it."""

        def __init__(self, built: _Built) -> None:
            super().__init__()
            self.built = built

    def _init_feed(self) -> None:
        self.generation = 0
        self.updates_applied = 0  # screen updates so far: a storm of events must make only a few
        self._dirty_workloads: set[str] = set()
        self._dirty_gitops: set[str] = set()
        self._gitops_done = False
        self._news_came = threading.Event()  # something was recorded for the next build
        self._shown = threading.Event()  # the last build is on screen (or none was made)
        # The screen's first paint may wait for the first build (briefly, see ``_start_load``): while it waits,
        # the build is handed to it here rather than posted, so the first paint already shows it.
        self.first_build_ready = threading.Event()
        self._handover_lock = threading.Lock()
        self._awaiting_first_build = False
        self._first_build: _Built | None = None
        self._shown.set()
        self._feed_stopping = threading.Event()
        self._last_update = float("-inf")
        self._build_state = _BuildState()

    def _start_feed(self) -> None:
        threading.Thread(target=self._feed, name="deployments build", daemon=True).start()

    def _stop_feed(self) -> None:
        self._feed_stopping.set()
        self._news_came.set()
        self._shown.set()

    # -- the garbage collector -------------------------------------------------------------------------------------

    def _defer_full_collections(self) -> None:
        """While the view is open, Python's full (oldest-generation) collections wait until it closes.

        A full collection walks every long-lived object, and a watched service of 2,000 pods is hundreds of
        thousands of them: under a watch storm one ran every few seconds and held every thread ~100 ms, the UI
        included. Young collections still run (they free what a build throws away); cycles that outlive them are
        freed after the view closes, when the thresholds come back.
        """
        if _DEFERRING["views"] == 0:
            _DEFERRING["thresholds"] = gc.get_threshold()
            young, middle, _ = _DEFERRING["thresholds"]
            gc.set_threshold(young, middle, 2**31 - 1)
        _DEFERRING["views"] += 1
        self._deferring = True

    def _restore_full_collections(self) -> None:
        if not getattr(self, "_deferring", False):
            return
        self._deferring = False
        _DEFERRING["views"] -= 1
        if _DEFERRING["views"] == 0 and _DEFERRING["thresholds"] is not None:
            gc.set_threshold(*_DEFERRING["thresholds"])

    # -- from the watch threads ------------------------------------------------------------------------------------

    def _changed(self, snapshot: ClusterSnapshot, generation: int | None = None) -> None:
        """A workloads watch's newest snapshot (from its thread): recorded, built by the next build."""
        with self._gitops_lock:
            if generation is not None and generation != self.generation:
                return  # a watch stopped by Ctrl-R still finishing its last delivery
            self._workload_snapshots[snapshot.name] = snapshot
            self._dirty_workloads.add(snapshot.name)
        self._news()

    def _news(self) -> None:
        """Wake the build thread (any thread): a thousand changes before it wakes make one build."""
        self._news_came.set()

    # -- the build thread ------------------------------------------------------------------------------------------

    def _feed(self) -> None:
        stopping = self._feed_stopping
        while True:
            self._news_came.wait()
            self._shown.wait()  # the last build is on screen: builds never queue up behind a busy UI
            if stopping.is_set():
                return
            if self._shown_complete:  # then at most UPDATES_PER_SECOND, the first change after a pause at once
                wait = self._last_update + 1 / UPDATES_PER_SECOND - time.monotonic()
                if wait > 0 and stopping.wait(wait):
                    return
            elif not self._gather_pieces(stopping):
                return
            self._news_came.clear()  # news from here on is for the next build
            with self._gitops_lock:  # Ctrl-R changes both at once
                generation, state = self.generation, self._build_state
            try:
                built = self._build_changes(generation, state)
            except Exception as error:  # noqa: BLE001 - clusters' errors are said per cluster; this thread must go on
                self.log.error(f"deployments build failed: {type(error).__name__}: {error}")
                continue
            if built is None:
                continue
            self._shown.clear()
            with self._handover_lock:
                handed_over = self._awaiting_first_build
                if handed_over:
                    self._first_build, self._awaiting_first_build = built, False
            if not handed_over and not self.post_message(self.Built(built)):  # the screen is gone
                return
            self.first_build_ready.set()

    def _await_first_build(self, longest: float) -> None:
        """On the UI thread, before the first paint: wait up to ``longest`` for the first build and apply it."""
        with self._handover_lock:
            self._awaiting_first_build = True
        self.first_build_ready.wait(longest)
        with self._handover_lock:
            self._awaiting_first_build = False
            built, self._first_build = self._first_build, None
        if built is not None:
            self.on_live_feed_built(self.Built(built))

    def _gather_pieces(self, stopping: threading.Event) -> bool:
        """Before the view is complete: wait until every piece is in, for at most ``GATHER_SECONDS``. False when
        the screen is closing."""
        deadline = time.monotonic() + GATHER_SECONDS
        while not self._every_piece_in() and time.monotonic() < deadline:
            if stopping.wait(0.002):
                return False
        return True

    def _every_piece_in(self) -> bool:
        """Whether every cluster's workloads and the GitOps reads have answered (the next build completes the view)."""
        with self._gitops_lock:
            workloads_in = all(name in self._workload_snapshots for name in self.cluster_order)
            return bool(self.cluster_order) and workloads_in and self._gitops_done

    # -- on the UI thread ------------------------------------------------------------------------------------------

    def on_live_feed_built(self, message: Built) -> None:
        message.stop()
        if message.built.generation == self.generation:
            self._apply_built(message.built)
        self._shown.set()

    def _apply_built(self, built: _Built) -> None:
        self.by_cluster.update(built.reports)
        self.gitops.update(built.gitops)
        self._cluster_rows.update(built.rows)
        self.gitops_read = built.gitops_read
        self.gitops_error = built.gitops_error
        self.reports = [self.by_cluster[name] for name in self.cluster_order if name in self.by_cluster]
        self.loaded_at = datetime.now(UTC)
        if self.complete and not self.streams_gate.is_set():
            self.call_after_refresh(self.streams_gate.set)  # once this complete view is painted
        if self.first_load_seconds is None and self.complete:
            self.first_load_seconds = time.perf_counter() - self.started_at
        self._show()
        problems = sum(1 for report in self.reports for workload in report.workloads if workload.has_problems)
        self.problem_count = problems + sum(item.problem_count for item in self.gitops.values())
        self._update_status()
        self._last_update = time.monotonic()
        self.updates_applied += 1

    # -- in the build thread ---------------------------------------------------------------------------------------

    def _build_changes(self, generation: int, state: _BuildState) -> _Built | None:
        """Reports and rows for every cluster changed since the last build, from the newest snapshots (None when
        nothing changed)."""
        from idp_tui.kube.report import ClusterReport, ReportCache
        from idp_tui.render.deployments import cluster_rows
        from idp_tui.render.rows import RowTexts

        with self._gitops_lock:
            snapshots = {name: self._workload_snapshots[name] for name in self._dirty_workloads}
            gitops_changed = set(self._dirty_gitops)
            for name in snapshots:  # a Rollout's ReplicaSets and pods are the workloads'
                watched = self._gitops_snapshots.get(name, {}).get("Rollout")
                if watched is not None and watched.objects.get("Rollout"):
                    gitops_changed.add(name)
            self._dirty_workloads.clear()
            self._dirty_gitops.clear()
            # Read with the snapshots: the build that says "read" also shows what the last answer brought.
            gitops_read = self._gitops_done
        built = _Built(generation, gitops_read=gitops_read)
        if not snapshots and not gitops_changed and built.gitops_read == state.gitops_read:
            return None  # nothing new since the last build
        state.gitops_read = built.gitops_read
        now = datetime.now(UTC)
        for name, snapshot in snapshots.items():
            state.reports[name] = built.reports[name] = self._report(
                snapshot, now, state.caches.setdefault(name, ReportCache())
            )
        for name in gitops_changed:
            try:
                state.gitops[name] = built.gitops[name] = self._gitops_for(name)
            except Exception as error:  # noqa: BLE001 - an object that cannot be shown: said, and the view completes
                self.gitops_error = f"{name}: cannot show what was read: {type(error).__name__}: {error}"
        for name in {*snapshots, *gitops_changed}:
            if name in state.reports:
                texts = state.texts.setdefault(name, RowTexts())
                try:
                    built.rows[name] = cluster_rows(state.reports[name], gitops=state.gitops.get(name), texts=texts)
                except Exception as error:  # noqa: BLE001 - the cluster says it cannot be shown; the others still show
                    report = state.reports[name]
                    problem = f"cannot show what the cluster sent: {type(error).__name__}: {error}"
                    state.reports[name] = built.reports[name] = ClusterReport(name, report.demo, problem, (), ())
                    built.rows[name] = cluster_rows(built.reports[name])
                texts.sweep()
        built.gitops_error = self.gitops_error
        return built

    @staticmethod
    def _report(snapshot: ClusterSnapshot, now: datetime, cache: ReportCache) -> ClusterReport:
        """The cluster's report; an object it cannot read is that cluster's error, and the view still completes."""
        from idp_tui.kube.report import ClusterReport, cluster_report

        try:
            return cluster_report(snapshot, now, cache=cache)
        except Exception as error:  # noqa: BLE001 - one line for the cluster, instead of a dead view
            problem = f"cannot show what the cluster sent: {type(error).__name__}: {error}"
            return ClusterReport(snapshot.name, snapshot.demo, problem, (), ())

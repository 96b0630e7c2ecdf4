"""The GitOps half of the Deployments screen: each cluster's Argo CD applications and Argo Rollouts, read once and
then watched, combined with the workloads' own snapshot (a Rollout's ReplicaSets and pods are read with the
workloads), and the keys that refresh or sync an application and promote or abort a Rollout.

A mixin of :class:`~idp_tui.screens.deployments.DeploymentsScreen`, which owns the state it uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idp_tui.kube.gitops.report import ClusterGitOps
    from idp_tui.kube.selection import WorkloadSelector
    from idp_tui.kube.snapshot import ClusterSnapshot


class GitOpsRows:
    """Reading, following and acting on an entity's applications and Rollouts (see the module's docstring)."""

    def _follow_gitops(self, selector: WorkloadSelector, names: list[str], generation: int | None = None) -> None:
        """Watch each cluster's applications and Rollouts (list, then watch; one watch per kind, so a cluster
        without Argo CD still shows its Rollouts); runs beside the workloads' first lists."""
        from idp_tui.kube.errors import ClusterError
        from idp_tui.kube.gitops.selection import ApplicationSelectionError, application_selection

        error = None
        try:
            selection = application_selection(self.entity)
        except ApplicationSelectionError as problem:
            selection, error = None, f"Argo CD: {problem}"
        self._app_selection = selection
        self.gitops_error = error
        try:
            source = self.gitops_source = self.session.gitops_source()
        except ClusterError as problem:
            self._gitops_finished(str(problem))
            return
        plans = [(name, "Application") for name in names if selection is not None and selection.allows_cluster(name)]
        plans += [(name, "Rollout") for name in names]
        with self._gitops_lock:
            self._gitops_pending = set(plans)
        if not plans:
            self._gitops_finished(error)
            return
        for name, kind in plans:
            watch = source.watch(
                name,
                applications=selection if kind == "Application" else None,
                rollouts=selector if kind == "Rollout" else None,
                on_change=partial(self._gitops_changed, kind, generation=generation),
                streams_after=self.streams_gate,
            )
            with self._gitops_lock:
                self.gitops_watches.append(watch)
                self._gitops_by_kind[(name, kind)] = watch
                unserved = (name, kind) in self._gitops_unserved
            if unserved:  # its 404 came before watch() returned: stop it now
                watch.stop(timeout=0)

    def _gitops_finished(self, error: str | None) -> None:
        """No applications or Rollouts to read (or no way to read them: ``error`` says why): the view completes.
        Called from the loading thread itself: the UI thread may be waiting for the first build (see
        ``_start_load``), which waits for this."""
        with self._gitops_lock:
            self._gitops_done = True
            self.gitops_error = error
        self._news()

    def _gitops_for(self, cluster: str) -> ClusterGitOps:
        """The cluster's applications and Rollouts from what the watches hold now (called from the build thread)."""
        from idp_tui.kube.gitops.access import applications_in
        from idp_tui.kube.gitops.report import ClusterGitOps, rollout_reports

        with self._gitops_lock:
            watched = self._gitops_snapshots.get(cluster, {})
            snapshot = self._workload_snapshots.get(cluster)
            selection = self._app_selection
        apps, rollouts = watched.get("Application"), watched.get("Rollout")
        workload_objects = snapshot.objects if snapshot is not None else {}
        return ClusterGitOps(
            cluster,
            applications_in(apps, selection) if apps is not None and selection is not None else (),
            rollout_reports(
                rollouts.objects.get("Rollout", []) if rollouts is not None else (),
                workload_objects.get("ReplicaSet", []),
                workload_objects.get("Pod", []),
                snapshot.events if snapshot is not None else (),
                datetime.now(UTC),
            ),
        )

    def _gitops_changed(self, kind: str, snapshot: ClusterSnapshot, generation: int | None = None) -> None:
        """A watch's news (from its thread), recorded for the next build of the view. A first list answered 404
        means the cluster does not serve that resource (Argo CD or Argo Rollouts is not installed there): that
        watch stops, nothing is said."""
        key = (snapshot.name, kind)
        stop = None
        with self._gitops_lock:
            if generation is not None and generation != self.generation:
                return  # a watch stopped by Ctrl-R still finishing its last delivery
            first = key in self._gitops_pending
            self._gitops_pending.discard(key)
            if not snapshot.error:
                self._gitops_snapshots.setdefault(snapshot.name, {})[kind] = snapshot
                self._dirty_gitops.add(snapshot.name)
            elif first and snapshot.error.startswith("404 "):
                # The watch starts before watch() returns it: a fast 404 may come before it is recorded.
                stop = self._gitops_by_kind.get(key)
                if stop is None:
                    self._gitops_unserved.add(key)
            elif first:
                noun = "Argo CD applications" if kind == "Application" else "Argo Rollouts"
                self.gitops_error = f"{snapshot.name}: {noun}: {snapshot.error}"
            # Later errors: the last state read stays on screen while the watch reconnects on its own.
            if first and not self._gitops_pending:
                self._gitops_done = True  # with the snapshots above: the build that shows them completes the view
        if stop is not None:
            stop.stop(timeout=0)
        self._news()

    def action_gitops(self, kind: str) -> None:
        """Refresh (``hard_refresh``) or sync the highlighted Argo CD application; promote or abort the
        highlighted Argo Rollout. With one application (or Rollout) in the view, it needs no highlighting."""
        from idp_tui.kube.gitops.actions import AbortRollout, PromoteRollout, RefreshApplication, SyncApplication

        row = self.current_row()
        if kind in ("promote", "abort"):
            rollouts = [(name, r) for name, item in self.gitops.items() for r in item.rollouts]
            if row is not None and row.rollout is not None:
                rollouts = [(row.cluster, row.rollout)]
            if len(rollouts) != 1:
                self.notify("Highlight an Argo Rollout to promote or abort it.", timeout=3)
                return
            cluster, rollout = rollouts[0]
            make = PromoteRollout if kind == "promote" else AbortRollout
            self._confirm(make(cluster, rollout.namespace, rollout.name))
            return
        apps = [app for item in self.gitops.values() for app in item.applications]
        if row is not None and row.application is not None:
            apps = [row.application]
        if len(apps) != 1:
            what = "sync" if kind == "sync" else "refresh"
            self.notify(f"Highlight an Argo CD application to {what} it.", timeout=3)
            return
        app = apps[0]
        if kind == "sync":
            self._confirm(SyncApplication(app.cluster, app.namespace, app.name, username=self.session.username))
        else:
            self._confirm(RefreshApplication(app.cluster, app.namespace, app.name, hard=kind == "hard_refresh"))

    @staticmethod
    def _is_gitops(action: object) -> bool:
        from idp_tui.kube.gitops.actions import AbortRollout, PromoteRollout, RefreshApplication, SyncApplication

        return isinstance(action, RefreshApplication | SyncApplication | PromoteRollout | AbortRollout)

    def _command(self, action: Any) -> str:
        """The command the action equals: ``argocd app sync ...``, ``kubectl argo rollouts promote ...``, or the
        ``kubectl`` command of a workload action."""
        return action.command if self._is_gitops(action) else action.kubectl

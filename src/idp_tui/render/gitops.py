"""Argo CD applications and Argo Rollouts as rows of the Deployments view (and of ``idp-tui deployments``).

An application comes above its cluster's workloads: one head line (sync and health), then where it deploys from
and to which revision, its problems with hints, the resources out of sync or unhealthy, the current or last
operation, and the sync history, newest first. A Rollout is a workload: phase and replicas, the canary's step and
weight (or blue-green's active and preview), pause reasons, its ReplicaSets by role and their pods. Every line
reads without colour: marks and words carry the state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from .rows import DeploymentRow, age, pod_rows, printable, problem_text
from .styles import PROBLEM, WARNING

if TYPE_CHECKING:
    from ..kube.gitops.argocd import ArgoApplication, Initiator
    from ..kube.gitops.report import RolloutReport

HISTORY_SHOWN = 3
RESOURCES_SHOWN = 6
ROLLOUT_PHASE_MARKS = {"Healthy": "✓", "Progressing": "▸", "Paused": "‖", "Degraded": "✗"}
APP_MARKS = {"ok": "✓", "busy": "▸", "paused": ROLLOUT_PHASE_MARKS["Paused"], "bad": "✗"}


def _row(kind: str, text: Text, cluster: str, **about: object) -> DeploymentRow:
    return DeploymentRow(kind, text, cluster, **about)  # type: ignore[arg-type]


_p = printable


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """``5m ago``, ``3d ago`` (kubectl's AGE units); ``?`` when unknown."""
    if moment is None:
        return "?"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    return f"{age(max(0, seconds))} ago"


def _who(initiator: Initiator | None) -> str:
    if initiator is None:
        return "unknown"
    return "auto-sync" if initiator.automated else (initiator.username or "unknown")


def app_state(app: ArgoApplication) -> str:
    """``bad`` (a problem), ``busy`` (an operation running, progressing), ``paused`` (Suspended, waiting for a
    person, as a paused Rollout) or ``ok``."""
    if app.failing and not (app.operation is not None and app.operation.running and not app.operation.failed):
        return "bad"
    if (app.operation is not None and app.operation.running) or app.health_status == "Progressing":
        return "busy"
    if app.paused:
        return "paused"
    return "bad" if app.failing else "ok"


def application_rows(cluster: str, app: ArgoApplication, now: datetime | None = None) -> list[DeploymentRow]:
    """The rows of one Argo CD application (see the module's docstring)."""
    state = app_state(app)
    head = Text(f"  {APP_MARKS[state]} ", style="bold")
    head.append(_p(f"Argo CD {app.name}"), style="bold")
    sync_style = PROBLEM if app.sync_status != "Synced" else ""
    health_style = PROBLEM if app.health_status in ("Degraded", "Missing", "Unknown") else ""
    health_style = WARNING if app.paused else health_style
    head.append("  ")
    head.append(_p(app.sync_status), style=sync_style)
    head.append(" · ")
    head.append(_p(app.health_status), style=health_style)
    head.append(_p(f"  {app.project}"), style="dim")
    rows = [_row("application", head, cluster, application=app)]

    source = app.source
    line = Text("      ")
    line.append(_p(app.synced_short))
    target = source.target if source is not None else "?"
    line.append(_p(f" → {target}"), style="dim")
    if source is not None:
        where = source.what.removeprefix("https://").removesuffix(".git")
        line.append(_p(f"  {where}"), style="dim")
    if app.destination_namespace or app.destination_server:
        dest = app.destination_server or ""
        shown = "" if dest.startswith("https://kubernetes.default.svc") else f"{dest} "
        line.append(_p(f"  → {shown}{app.destination_namespace or ''}".rstrip()), style="dim")
    rows.append(_row("note", line, cluster, application=app))

    # The app's health and its unhealthy resource can give the same hint: say it once.
    seen: set[tuple[str, str]] = set()
    for problem in app.problems:
        key = (problem.reason, problem.hint or problem.message)
        if key not in seen:
            seen.add(key)
            if app.paused:  # why it waits, marked as the pause it is rather than as a failure
                text = Text(f"      {APP_MARKS['paused']} ", style=WARNING)
                text.append(_p(f"{problem.reason}: "), style="bold")
                text.append(_p(problem.hint or problem.message))
                rows.append(_row("note", text, cluster, application=app))
            else:
                rows.append(_row("problem", problem_text(problem, 6), cluster, application=app))

    for resource in app.resources[:RESOURCES_SHOWN]:
        text = Text("      ")
        drift = resource.status not in (None, "Synced")
        unhealthy = resource.health not in (None, "Healthy")
        if not drift and resource.health == "Suspended":  # paused, as the application's head says
            text.append(f"{APP_MARKS['paused']} ", style=WARNING)
        else:
            text.append("≠ " if drift else "♥ " if unhealthy else "  ", style=PROBLEM if drift or unhealthy else "")
        text.append(_p(f"{resource.kind} {resource.namespace}/{resource.name}".replace(" /", " ")), style="bold")
        states = [s for s in (resource.status if drift else None, resource.health if unhealthy else None) if s]
        if resource.requires_pruning:
            states.append("prune")
        text.append(_p(f"  {' · '.join(states)}"))
        if unhealthy and resource.health_message:
            text.append(_p(f": {resource.health_message}"), style="italic")
        rows.append(_row("resource", text, cluster, application=app))
    if len(app.resources) > RESOURCES_SHOWN:
        more = Text(f"      … {len(app.resources) - RESOURCES_SHOWN} more resources", style="dim")
        rows.append(_row("note", more, cluster, application=app))
    if not app.resource_health_known and app.health_status != "Healthy":
        note = Text("      resource health is kept in Argo CD's tree, not here: argocd app get", style="dim")
        rows.append(_row("note", note, cluster, application=app))

    operation = app.operation
    if operation is not None:
        text = Text("      ")
        verb = "sync" if not operation.running else "syncing"
        phase = "waiting to start" if operation.pending else operation.phase
        text.append(_p(f"{verb} {phase}"), style=PROBLEM if operation.failed else "bold" if operation.running else "")
        when = operation.finished_at or operation.started_at
        if when is not None:
            text.append(_p(f" {ago(when, now)}"))
        text.append(_p(f" by {_who(operation.initiated_by)}"))
        if operation.message:
            text.append(_p(f": {operation.message}"), style="italic")
        rows.append(_row("operation", text, cluster, application=app))

    if app.history:
        text = Text("      history ", style="dim")
        entries = [
            f"#{entry.id} {_short(entry.revision)} {ago(entry.deployed_at, now)} {_who(entry.initiated_by)}"
            for entry in app.history[:HISTORY_SHOWN]
        ]
        text.append(_p(" · ".join(entries)))
        rows.append(_row("history", text, cluster, application=app))
    return rows


def _short(revision: str | None) -> str:
    from ..kube.gitops.argocd import short_revision

    return short_revision(revision) or "?"


def rollout_rows(cluster: str, report: RolloutReport) -> list[DeploymentRow]:
    """The rows of one Argo Rollout among the workloads (see the module's docstring)."""
    info = report.info
    head = Text(f"  {ROLLOUT_PHASE_MARKS.get(info.phase, '?')} ", style="bold")
    head.append(_p(f"Rollout {info.namespace}/{info.name}"), style="bold")
    head.append(f"  {report.replicas_summary}")
    if info.revision:
        head.append(f"  rev {info.revision}", style="dim")
    rows = [_row("rollout", head, cluster, rollout=report)]

    text = Text("      ")
    canary, blue_green = info.canary, info.blue_green
    phase_style = PROBLEM if info.phase == "Degraded" else WARNING if info.phase == "Paused" else ""
    text.append(_p(info.phase), style=phase_style)
    if canary is not None:
        if canary.step is not None and canary.steps:
            text.append(f" · canary step {canary.step} of {canary.steps}", style="bold")
        text.append(f" · weight {canary.set_weight}%", style="bold")
        if canary.actual_weight is not None and canary.actual_weight != canary.set_weight:
            text.append(f" (actual {canary.actual_weight}%)")
    elif blue_green is not None:
        text.append(" · blue-green")
        if blue_green.auto_promotion is False:
            text.append(" · manual promotion")
    if info.pause_reasons:
        text.append(_p(f" · paused: {', '.join(info.pause_reasons)}"), style=WARNING)
    elif info.aborted:
        text.append(" · aborted", style=PROBLEM)
    if info.message and info.phase != "Paused":
        text.append(_p(f" · {info.message}"), style="italic")
    rows.append(_row("note", text, cluster, rollout=report))
    if canary is not None and canary.current_step and canary.paused:
        step = Text(_p(f"      waiting at {canary.current_step}: promote it or abort it"), style="dim")
        rows.append(_row("note", step, cluster, rollout=report))
    rows += [_row("problem", problem_text(p, 4), cluster, rollout=report) for p in info.problems]

    services = {"active": None, "preview": None}
    if blue_green is not None:
        services = {"active": blue_green.active_service, "preview": blue_green.preview_service}
    for rs in info.replica_sets:
        if not rs.roles and not rs.replicas:
            continue  # an old, scaled-down ReplicaSet: history, not state
        text = Text("      ")
        roles = ",".join(rs.roles) or "old"
        text.append(f"{roles:<8}", style="bold" if rs.roles else "dim")
        text.append(_p(f" {rs.name}"))
        text.append(f"  {rs.available}/{rs.replicas}")
        service = next((services[r] for r in rs.roles if services.get(r)), None)
        if service:
            text.append(_p(f"  svc {service}"), style="dim")
        text.append(_p(f"  {', '.join(rs.images)}"), style="dim")
        rows.append(_row("replicaset", text, cluster, rollout=report))
    rows += pod_rows(cluster, report.pods, rollout=report)
    return rows

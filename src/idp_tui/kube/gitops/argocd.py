"""An Argo CD Application as an on-call engineer reads it: sync, health, operation, history, resources, problems.

Parsed from the Application custom object (``argoproj.io/v1alpha1``) as the Kubernetes API returns it, following
the field definitions of ``pkg/apis/application/v1alpha1/types.go`` in argoproj/argo-cd:

- sources: ``spec.source``, or ``spec.sources`` (multi-source, ``HasMultipleSources``), or the sync source of
  ``spec.sourceHydrator`` (``GetSource``); a Helm chart source has ``chart`` instead of ``path``.
- ``status.sync``: ``status`` (Synced, OutOfSync, Unknown), ``revision`` or ``revisions`` (one per source).
- ``status.health``: ``status`` and ``message``. Resource health is ``status.resources[].health``; since Argo CD
  2.x can keep it out of the object (``status.resourceHealthSource: appTree``, the default from 3.0) it may be
  missing, which is then said rather than shown as healthy.
- ``status.operationState``: phase (Running, Terminating, Failed, Error, Succeeded), message, ``startedAt``,
  ``finishedAt``, ``operation.initiatedBy`` (``username``, ``automated``). A requested ``operation`` with no state
  yet is a pending sync (as Backstage's Argo CD plugin shows it: "waiting to start").
- ``status.history``: ``RevisionHistories`` is "oldest first and newest last"; shown newest first.
- ``status.conditions``: types ending in ``Error`` are errors (``ApplicationCondition.IsError``), in ``Warning``
  warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..events import parse_time
from ..problems import Problem
from ._json import EMPTY, integer, obj, objs, text, texts

SYNCED, OUT_OF_SYNC, UNKNOWN = "Synced", "OutOfSync", "Unknown"
HEALTHY, PROGRESSING, DEGRADED, SUSPENDED, MISSING = "Healthy", "Progressing", "Degraded", "Suspended", "Missing"
RESOURCE_HEALTH_IN_APP_TREE = "appTree"

# One actionable line per condition type (pkg/apis/application/v1alpha1/types.go, ApplicationCondition*).
CONDITION_HINTS = {
    "ComparisonError": "Argo CD could not render or compare the manifests; check the repo, path, revision and "
    "credentials, then hard-refresh",
    "InvalidSpecError": "the Application spec is invalid (source, destination or project); fix the Application "
    "or its AppProject",
    "SyncError": "the last automated sync failed; read the operation message, fix the manifests and sync again",
    "DeletionError": "Argo CD could not delete the app's resources; check finalizers and the controller's rights",
    "UnknownError": "the controller hit an unexpected error; read the argocd-application-controller logs",
    "SharedResourceWarning": "a resource is also managed by another Application; keep each resource in one app",
    "RepeatedResourceWarning": "the manifests define the same resource twice; remove the duplicate",
    "ExcludedResourceWarning": "a resource kind is excluded by resource.exclusions in argocd-cm; it is not managed",
    "OrphanedResourceWarning": "the namespace holds resources no Application manages; delete them or add them to git",
}
STATE_HINTS = {
    OUT_OF_SYNC: "the live state differs from git; sync to apply git, or find who changed the cluster by hand",
    DEGRADED: "a managed resource failed; look at the unhealthy resources and their workloads below",
    MISSING: "resources in git do not exist in the cluster; sync to create them",
    UNKNOWN: "Argo CD cannot tell; look at the conditions and the controller",
    SUSPENDED: "a resource is paused (a Rollout waiting for promotion, a suspended CronJob); resume it when ready",
    "OperationFailed": "the last sync failed; read the message, fix the cause and sync again",
    "OperationRunning": "a sync is running; wait for it, or terminate it if it is stuck",
}
_GENERIC_HINT = "read the message for details"

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def short_revision(revision: str | None) -> str | None:
    """A revision as Argo CD's UI shows it: a git commit SHA cut to 7 characters, anything else (a Helm chart
    version, a tag) whole."""
    if not revision:
        return None
    return revision[:7] if _SHA.fullmatch(revision) else revision


@dataclass(frozen=True, slots=True)
class AppSource:
    """Where an application's manifests come from: a git path, a Helm chart, or a ``ref``-only values source."""

    repo_url: str
    path: str | None = None
    chart: str | None = None
    target_revision: str | None = None
    ref: str | None = None
    name: str | None = None

    @property
    def target(self) -> str:
        """The target revision as Argo CD resolves an empty one (``HEAD``)."""
        return self.target_revision or "HEAD"

    @property
    def what(self) -> str:
        """``repo path``, or ``chart@version from repo`` for a Helm chart."""
        if self.chart:
            return f"{self.chart}@{self.target} from {self.repo_url}"
        return f"{self.repo_url} {self.path or '.'}" if self.path is not None else self.repo_url


@dataclass(frozen=True, slots=True)
class Initiator:
    """Who started an operation: a user, or the automated sync policy."""

    username: str | None = None
    automated: bool = False

    @property
    def who(self) -> str:
        """``alice``, ``automated sync policy`` or ``unknown``."""
        if self.automated:
            return "automated sync policy"
        return self.username or "unknown"


@dataclass(frozen=True, slots=True)
class Operation:
    """The current or last operation (a sync); ``pending`` when requested but not yet picked up."""

    phase: str
    message: str
    started_at: datetime | None
    finished_at: datetime | None
    initiated_by: Initiator
    revision: str | None = None
    revisions: tuple[str, ...] = ()
    retry_count: int = 0
    pending: bool = False

    @property
    def running(self) -> bool:
        """Whether it has not finished (Running or Terminating, or pending)."""
        return self.pending or self.phase in ("Running", "Terminating")

    @property
    def failed(self) -> bool:
        """Whether it ended in Failed or Error."""
        return self.phase in ("Failed", "Error")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of the sync history: what was deployed, when, by whom."""

    id: int
    revision: str | None
    revisions: tuple[str, ...]
    deployed_at: datetime | None
    started_at: datetime | None
    initiated_by: Initiator | None
    sources: tuple[AppSource, ...] = ()


@dataclass(frozen=True, slots=True)
class ManagedResource:
    """A resource the application manages that is out of sync or unhealthy."""

    group: str
    kind: str
    namespace: str
    name: str
    status: str | None
    health: str | None
    health_message: str | None = None
    requires_pruning: bool = False
    hook: bool = False

    @property
    def ref(self) -> str:
        """``Kind/namespace/name`` (no namespace for cluster-scoped resources)."""
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)


@dataclass(frozen=True, slots=True)
class Condition:
    """An application condition (``ComparisonError``, ``OrphanedResourceWarning``...)."""

    type: str
    message: str
    last_transition: datetime | None

    @property
    def is_error(self) -> bool:
        """As Argo CD's ``IsError``: the type ends in ``Error``."""
        return self.type.endswith("Error")


@dataclass(frozen=True, slots=True)
class ArgoApplication:
    """One Argo CD Application on one cluster (kubeconfig context), ready to show above its workloads."""

    cluster: str
    namespace: str
    name: str
    project: str
    sources: tuple[AppSource, ...]
    multi_source: bool
    sync_status: str
    sync_revision: str | None
    sync_revisions: tuple[str, ...]
    health_status: str
    health_message: str | None
    operation: Operation | None
    history: tuple[HistoryEntry, ...]
    resources: tuple[ManagedResource, ...]
    resource_count: int
    resource_health_known: bool
    conditions: tuple[Condition, ...]
    problems: tuple[Problem, ...]
    application_set: str | None = None
    destination_server: str | None = None
    destination_namespace: str | None = None
    auto_sync: bool = False
    deleting: bool = False
    reconciled_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def source(self) -> AppSource | None:
        """The first (for a single-source app, the only) source."""
        return self.sources[0] if self.sources else None

    @property
    def synced_short(self) -> str:
        """The synced revision(s) as short SHAs, ``a1b2c3d`` or ``a1b2c3d, 1.4.2`` for a multi-source app."""
        revisions = self.sync_revisions or ((self.sync_revision,) if self.sync_revision else ())
        return ", ".join(short_revision(rev) or "?" for rev in revisions) or "?"

    @property
    def has_problems(self) -> bool:
        """Whether anything needs a person's attention (problems sort first)."""
        return bool(self.problems)

    @property
    def paused(self) -> bool:
        """Suspended with nothing else wrong: a canary paused for promotion, a suspended CronJob. It waits for a
        person, it has not failed (Argo CD's UI shows a pause sign); its Suspended problem says why."""
        return self.health_status == SUSPENDED and all(problem.reason == SUSPENDED for problem in self.problems)

    @property
    def failing(self) -> bool:
        """Whether a problem other than a pause needs fixing (what counts among a cluster's problems)."""
        return bool(self.problems) and not self.paused


def _source(raw: Any) -> AppSource | None:
    if not isinstance(raw, Mapping):
        return None
    return AppSource(
        repo_url=text(raw.get("repoURL")) or "",
        path=raw.get("path") if isinstance(raw.get("path"), str) else None,
        chart=text(raw.get("chart")),
        target_revision=text(raw.get("targetRevision")),
        ref=text(raw.get("ref")),
        name=text(raw.get("name")),
    )


def _sources(spec: Mapping[str, Any]) -> tuple[tuple[AppSource, ...], bool]:
    if isinstance(spec.get("sourceHydrator"), Mapping):  # GetSource: the hydrated sync source, branch as the target
        dry, sync = obj(spec, "sourceHydrator", "drySource"), obj(spec, "sourceHydrator", "syncSource")
        repo = text(sync.get("repoURL")) or text(dry.get("repoURL")) or ""
        return (AppSource(repo, text(sync.get("path")), None, text(sync.get("targetBranch"))),), False
    many = [source for source in map(_source, objs(spec.get("sources"))) if source is not None]
    if many:
        return tuple(many), True
    one = _source(spec.get("source"))
    return ((one,) if one else ()), False


def _initiator(raw: Any) -> Initiator | None:
    if not isinstance(raw, Mapping) or not (text(raw.get("username")) or raw.get("automated") is True):
        return None
    return Initiator(text(raw.get("username")), raw.get("automated") is True)


def _operation(application: Mapping[str, Any], status: Mapping[str, Any]) -> Operation | None:
    state = status.get("operationState")
    requested = application.get("operation")
    if isinstance(requested, Mapping) and (not isinstance(state, Mapping) or _finished(state)):
        # Argo CD's API server clears operationState when it sets operation; the controller has not started yet.
        initiator = _initiator(requested.get("initiatedBy")) or Initiator()
        return Operation("Running", "waiting to start", None, None, initiator, pending=True)
    if not isinstance(state, Mapping):
        return None
    operation, result = obj(state, "operation"), obj(state, "syncResult")
    return Operation(
        phase=text(state.get("phase")) or UNKNOWN,
        message=text(state.get("message")) or "",
        started_at=parse_time(state.get("startedAt")),
        finished_at=parse_time(state.get("finishedAt")),
        initiated_by=_initiator(operation.get("initiatedBy")) or Initiator(),
        revision=text(result.get("revision")) or text(obj(operation, "sync").get("revision")),
        revisions=texts(result.get("revisions")),
        retry_count=integer(state.get("retryCount")),
    )


def _finished(state: Mapping[str, Any]) -> bool:
    return state.get("phase") in ("Succeeded", "Failed", "Error")


def _history(status: Mapping[str, Any]) -> tuple[HistoryEntry, ...]:
    rows = [
        HistoryEntry(
            id=integer(entry.get("id"), index),
            revision=text(entry.get("revision")),
            revisions=texts(entry.get("revisions")),
            deployed_at=parse_time(entry.get("deployedAt")),
            started_at=parse_time(entry.get("deployStartedAt")),
            initiated_by=_initiator(entry.get("initiatedBy")),
            sources=tuple(
                source
                for source in map(_source, objs(entry.get("sources")) or [entry.get("source")])
                if source is not None
            ),
        )
        for index, entry in enumerate(objs(status.get("history")))
    ]
    # Stored oldest first; ids increase with each sync, so they order entries even if the list was reordered.
    rows.sort(key=lambda row: row.id, reverse=True)
    return tuple(rows)


def _resources(status: Mapping[str, Any]) -> tuple[tuple[ManagedResource, ...], int]:
    raw = objs(status.get("resources"))
    rows = []
    for entry in raw:
        health = obj(entry, "health")
        row = ManagedResource(
            group=text(entry.get("group")) or "",
            kind=text(entry.get("kind")) or "",
            namespace=text(entry.get("namespace")) or "",
            name=text(entry.get("name")) or "",
            status=text(entry.get("status")),
            health=text(health.get("status")),
            health_message=text(health.get("message")),
            requires_pruning=entry.get("requiresPruning") is True,
            hook=entry.get("hook") is True,
        )
        if row.status not in (None, SYNCED) or row.health not in (None, HEALTHY):
            rows.append(row)
    rows.sort(key=lambda r: (r.health not in (DEGRADED, MISSING), r.status == SYNCED, r.kind, r.namespace, r.name))
    return tuple(rows), len(raw)


def _conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            text(condition.get("type")) or "Condition",
            condition.get("message") if isinstance(condition.get("message"), str) else "",
            parse_time(condition.get("lastTransitionTime")),
        )
        for condition in objs(status.get("conditions"))
    )


def _problem(reason: str, message: str, severity: int, hint: str | None = None) -> Problem:
    return Problem(
        reason, message, hint or CONDITION_HINTS.get(reason) or STATE_HINTS.get(reason, _GENERIC_HINT), severity
    )


def application_problems(
    sync_status: str,
    health_status: str,
    health_message: str | None,
    operation: Operation | None,
    resources: Iterable[ManagedResource],
    conditions: Iterable[Condition],
) -> list[Problem]:
    """What needs attention in an application, worst first, each with a one-line hint.

    Severity (higher is worse, on the scale of :mod:`idp_tui.kube.problems`): error conditions 8, a failed sync 7,
    Degraded 7, Missing 6, an unhealthy resource 6, OutOfSync 5, Unknown 4, warning conditions 3, Suspended 2.
    """
    conditions = list(conditions)
    resources = list(resources)
    problems = []
    for condition in conditions:
        problems.append(_problem(condition.type, condition.message, 8 if condition.is_error else 3))
    if operation is not None and operation.failed:
        message = f"sync {operation.phase.lower()}: {operation.message}".rstrip(": ")
        problems.append(_problem("OperationFailed", message, 7))
    # An error condition (a ComparisonError) is why sync and health read Unknown: say it once.
    explained = any(condition.is_error for condition in conditions)
    if health_status in (DEGRADED, MISSING, SUSPENDED) or (health_status == UNKNOWN and not explained):
        severity = {DEGRADED: 7, MISSING: 6, UNKNOWN: 4, SUSPENDED: 2}[health_status]
        problems.append(_problem(health_status, health_message or f"application health is {health_status}", severity))
    for resource in resources:
        if resource.health in (DEGRADED, MISSING):
            message = f"{resource.ref} is {resource.health}" + (
                f": {resource.health_message}" if resource.health_message else ""
            )
            problems.append(_problem(resource.health, message, 6))
    if sync_status == OUT_OF_SYNC:
        drifted = [r.ref for r in resources if r.status == OUT_OF_SYNC]
        message = f"out of sync: {', '.join(drifted[:3])}" if drifted else "out of sync with git"
        if len(drifted) > 3:
            message += f" and {len(drifted) - 3} more"
        problems.append(_problem(OUT_OF_SYNC, message, 5))
    elif sync_status == UNKNOWN and not explained:
        problems.append(_problem(UNKNOWN, "sync status is Unknown", 4))
    problems.sort(key=lambda p: -p.severity)  # stable: same severity keeps the order found
    return problems


def parse_application(application: Mapping[str, Any], cluster: str = "") -> ArgoApplication:
    """An Application custom object (the API's JSON) as an :class:`ArgoApplication`.

    Args:
        application: The object, e.g. an item of ``list_namespaced_custom_object``.
        cluster: The kubeconfig context it was read from.

    Never raises on a malformed object: missing or mistyped fields read as absent.
    """
    application = application if isinstance(application, Mapping) else EMPTY
    metadata, spec, status = obj(application, "metadata"), obj(application, "spec"), obj(application, "status")
    sources, multi = _sources(spec)
    sync, health = obj(status, "sync"), obj(status, "health")
    operation = _operation(application, status)
    resources, resource_count = _resources(status)
    conditions = _conditions(status)
    sync_status = text(sync.get("status")) or UNKNOWN
    health_status = text(health.get("status")) or UNKNOWN
    health_message = text(health.get("message"))
    owner = next((o for o in objs(metadata.get("ownerReferences")) if o.get("kind") == "ApplicationSet"), EMPTY)
    destination = obj(spec, "destination")
    automated = obj(spec, "syncPolicy").get("automated")
    return ArgoApplication(
        cluster=cluster,
        namespace=text(metadata.get("namespace")) or "",
        name=text(metadata.get("name")) or "",
        project=text(spec.get("project")) or "default",
        sources=sources,
        multi_source=multi,
        sync_status=sync_status,
        sync_revision=text(sync.get("revision")),
        sync_revisions=texts(sync.get("revisions")),
        health_status=health_status,
        health_message=health_message,
        operation=operation,
        history=_history(status),
        resources=resources,
        resource_count=resource_count,
        resource_health_known=status.get("resourceHealthSource") != RESOURCE_HEALTH_IN_APP_TREE,
        conditions=conditions,
        problems=tuple(
            application_problems(sync_status, health_status, health_message, operation, resources, conditions)
        ),
        application_set=text(owner.get("name")),
        destination_server=text(destination.get("server")) or text(destination.get("name")),
        destination_namespace=text(destination.get("namespace")),
        # syncPolicy.automated: {} enables auto-sync; "enabled: false" (Argo CD 3.1+) turns it off again.
        auto_sync=isinstance(automated, Mapping) and automated.get("enabled", True) is not False,
        deleting=bool(metadata.get("deletionTimestamp")),
        reconciled_at=parse_time(status.get("reconciledAt")),
        labels={k: v for k, v in obj(metadata, "labels").items() if isinstance(k, str) and isinstance(v, str)},
    )


def application_order(app: ArgoApplication) -> tuple[int, str, str, str]:
    """The sort key of :func:`sort_applications`: worst problem first, then cluster, namespace and name."""
    return (-(app.problems[0].severity if app.problems else 0), app.cluster, app.namespace, app.name)


def sort_applications(applications: Iterable[ArgoApplication]) -> list[ArgoApplication]:
    """Applications with problems first (worst first), then by cluster, namespace and name."""
    return sorted(applications, key=application_order)

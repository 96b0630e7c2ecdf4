"""Refresh and sync an Argo CD Application, promote and abort an Argo Rollout: the requests Argo's own tools send.

Everything goes through the Kubernetes API (no Argo CD API server, no extra credentials). What the tools send, as
read in their sources:

- Refresh: argoproj/argo-cd ``util/argo/argo.go`` ``RefreshApp`` (what ``argocd app get --refresh`` and the UI's
  Refresh reach through the API server): ``PATCH`` the Application with ``application/merge-patch+json`` and
  ``{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`` (``"hard"`` for ``--hard-refresh``);
  the controller refreshes and removes the annotation (``controller/appcontroller.go``). Argo CD after v3.5.1 adds
  ``argocd.argoproj.io/refresh-timestamp`` (RFC 3339 with nanoseconds) so a request made during a reconcile is not
  dropped; ``RefreshApplication(..., request_time=...)`` sends it too.
- Sync: ``server/application/application.go`` ``Server.Sync`` builds an ``Operation`` (types in
  ``pkg/apis/application/v1alpha1/types.go``: ``Operation``, ``SyncOperation``, ``OperationInitiator``,
  ``SyncStrategy``) and ``util/argo/argo.go`` ``SetAppOperation`` writes it: GET, refuse when ``operation`` is
  already set ("another operation is already in progress"), set ``operation``, clear ``status.operationState``,
  update (retrying on conflicts). ``argocd app sync`` sends the hook strategy (``{"hook":{}}``) unless told
  ``--strategy apply``. Here the same fields are written with one merge patch carrying the object's
  ``resourceVersion`` (a conflict instead of a lost update, as the API server's Update has). The API server resolves
  the target revision to a commit SHA through the repo server, which the Kubernetes API cannot reach; the
  ambiguous revision (``main``, ``HEAD``, a chart version) is sent instead, which the controller resolves itself
  (``controller/sync.go``: "Sync requests might be requested with ambiguous revisions").
  ``docs/user-guide/sync-kubectl.md`` documents syncing this way.
- Promote: argoproj/argo-rollouts ``pkg/kubectl-argo-rollouts/cmd/promote/promote.go`` ``PromoteRollout`` and
  ``getPatches``: a merge patch of the ``status`` subresource first (clear the pause conditions, or move
  ``currentStepIndex`` on, or ``promoteFull``), then of the object for ``spec.paused``; when the status subresource
  answers 404 (Rollouts 0.9) the unified patch of both goes to the object instead. The patch strings are byte for byte
  upstream's (including the space after some commas).
- Abort: ``pkg/kubectl-argo-rollouts/cmd/abort/abort.go`` ``AbortRollout``: ``{"status":{"abort":true}}`` to the
  status subresource, to the object on 404.

Each action gives the exact requests (:class:`ApiRequest`) and the equivalent commands to show before asking:
``command`` (``argocd ...`` or ``kubectl argo rollouts ...``) and ``kubectl_commands(current)`` (the
``kubectl patch`` commands sending the same bytes; sync and promote depend on the object as it is now).
``apply`` runs them through a ``send`` callable supplied by the adapter (see :func:`client_sender`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import ActionFailed, MutationRefused, describe_api_error
from ._json import obj, objs, text, texts
from .selection import APPLICATIONS, GROUP, ROLLOUTS, VERSION

MERGE_PATCH = "application/merge-patch+json"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
REFRESH_TIMESTAMP_ANNOTATION = "argocd.argoproj.io/refresh-timestamp"

# promote.go's constants, verbatim.
SET_CURRENT_STEP_INDEX = '{"status":{"currentStepIndex":%d}}'
UNPAUSE_PATCH = '{"spec":{"paused":false}}'
CLEAR_PAUSE_CONDITIONS_PATCH = '{"status":{"pauseConditions":null}}'
CLEAR_PAUSE_CONDITIONS_AND_CONTROLLER_PAUSE_PATCH = (
    '{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":%d}}'
)
UNPAUSE_AND_CLEAR_PAUSE_CONDITIONS_PATCH = '{"spec":{"paused":false},"status":{"pauseConditions":null}}'
PROMOTE_FULL_PATCH = '{"status":{"promoteFull":true}}'
CLEAR_PAUSE_CONDITIONS_PATCH_WITH_STEP = '{"status":{"pauseConditions":null, "currentStepIndex":%d}}'
UNPAUSE_AND_CLEAR_PAUSE_CONDITIONS_PATCH_WITH_STEP = (
    '{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":%d}}'
)
UNPAUSE_AND_PROMOTE_FULL_PATCH = '{"spec":{"paused":false},"status":{"promoteFull":true}}'
ABORT_PATCH = '{"status":{"abort":true}}'  # abort.go

ANOTHER_OPERATION = "another operation is already in progress"  # util/argo/argo.go ErrAnotherOperationInProgress
_CONFLICT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request to the Kubernetes API, exactly: method, path, content type and body bytes."""

    method: str
    path: str
    content_type: str | None = None
    body: bytes | None = None

    @property
    def subresource(self) -> str | None:
        """``status`` for a request to the status subresource."""
        return "status" if self.path.endswith("/status") else None


Send = Callable[[ApiRequest], dict[str, Any]]
"""Sends one request and returns the JSON answer; raises on a non-2xx answer with the status code in ``.status``
(as ``kubernetes.client.exceptions.ApiException`` does)."""


def _path(plural: str, namespace: str, name: str, subresource: str | None = None) -> str:
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}/{name}"
    return f"{path}/{subresource}" if subresource else path


def _compact(value: Any) -> bytes:
    # As Go's encoding/json writes it: no spaces, keys in the order built (Go's struct field order), UTF-8 as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def rfc3339_nano(moment: datetime | None = None) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: fractional seconds without trailing zeros, ``Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    fraction = f"{moment.microsecond:06d}000".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _status_of(error: BaseException) -> int | None:
    status = getattr(error, "status", None)  # ApiException's HTTP status; anything else has none
    return status if isinstance(status, int) else None


class _GitOpsAction:
    cluster: str
    namespace: str
    name: str
    _resource = "applications"

    @property
    def command(self) -> str:  # pragma: no cover - every action defines it
        raise NotImplementedError

    def _refuse_if(self, read_only: bool) -> None:
        if read_only:
            raise MutationRefused(f"read-only mode is on: not running `{self.command}`")

    def _send(self, send: Send, request: ApiRequest) -> dict[str, Any]:
        try:
            return send(request)
        except (MutationRefused, ActionFailed):
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes one line naming the command
            raise ActionFailed(f"`{self.command}` failed: {_describe(error, self._resource)}") from error

    def _kubectl_patch(self, kind: str, body: bytes, subresource: str | None = None) -> str:
        words = ["kubectl", "--context", self.cluster, "-n", self.namespace, "patch", f"{kind}/{self.name}"]
        if subresource:
            words.append(f"--subresource={subresource}")
        return shlex.join([*words, "--type=merge", "-p", body.decode()])


def _describe(error: Exception, resource: str) -> str:
    return describe_api_error(error, resource).replace(f"listing {resource}", f"on {resource}")


@dataclass(frozen=True)
class RefreshApplication(_GitOpsAction):
    """Ask Argo CD to compare the application with git now (``hard``: also drop its manifest cache)."""

    cluster: str
    namespace: str
    name: str
    hard: bool = False
    request_time: datetime | None = None  # set: also send Argo CD > 3.5.1's refresh-timestamp annotation

    @property
    def command(self) -> str:
        """The equivalent ``argocd`` command."""
        words = ["argocd", "app", "get", self.name, "--app-namespace", self.namespace]
        return shlex.join([*words, "--hard-refresh" if self.hard else "--refresh"])

    def kubectl_commands(self, current: Mapping[str, Any] | None = None) -> list[str]:
        """The ``kubectl patch`` sending the same request (``current`` is not needed)."""
        return [self._kubectl_patch("application", self.request().body or b"")]

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        kind = "Hard-refresh" if self.hard else "Refresh"
        extra = " (its manifest cache is dropped and regenerated)" if self.hard else ""
        where = f"{self.name} in {self.namespace} on {self.cluster}"
        return f"{kind} Argo CD application {where}: compare it with git now{extra}."

    def request(self) -> ApiRequest:
        """``RefreshApp``'s merge patch."""
        annotations = {REFRESH_ANNOTATION: "hard" if self.hard else "normal"}
        if self.request_time is not None:
            annotations[REFRESH_TIMESTAMP_ANNOTATION] = rfc3339_nano(self.request_time)
        # Go marshals map[string]any with sorted keys.
        body = json.dumps({"metadata": {"annotations": annotations}}, separators=(",", ":"), sort_keys=True).encode()
        return ApiRequest("PATCH", _path(APPLICATIONS, self.namespace, self.name), MERGE_PATCH, body)

    def apply(self, send: Send, *, read_only: bool = False) -> dict[str, Any]:
        """Send the refresh; returns the Application as patched.

        Raises:
            MutationRefused: ``read_only`` is on (nothing is sent).
            ActionFailed: The cluster refused (the message says why).
        """
        self._refuse_if(read_only)
        return self._send(send, self.request())


@dataclass(frozen=True)
class SyncApplication(_GitOpsAction):
    """Sync an application to its target revision, as ``argocd app sync`` (the hook strategy by default)."""

    cluster: str
    namespace: str
    name: str
    username: str
    prune: bool = False
    revision: str | None = None  # None: the source's targetRevision
    apply_strategy: bool = False  # --strategy apply
    force: bool = False
    info: tuple[tuple[str, str], ...] = ()  # --info name=value

    @property
    def command(self) -> str:
        """The equivalent ``argocd`` command."""
        words = ["argocd", "app", "sync", self.name, "--app-namespace", self.namespace]
        if self.revision:
            words += ["--revision", self.revision]
        if self.prune:
            words.append("--prune")
        if self.apply_strategy:
            words += ["--strategy", "apply"]
        if self.force:
            words.append("--force")
        for name, value in self.info:
            words += ["--info", f"{name}={value}"]
        return shlex.join(words)

    def kubectl_commands(self, current: Mapping[str, Any] | None = None) -> list[str]:
        """The ``kubectl patch`` sending the same request for the application as it is now (``current``)."""
        if current is None:
            raise ValueError("the sync patch depends on the application: pass it as current")
        return [self._kubectl_patch("application", self.request(current).body or b"")]

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        to = f" to {self.revision}" if self.revision else " to its target revision"
        prune = ", deleting resources no longer in git" if self.prune else ""
        return f"Sync Argo CD application {self.name} in {self.namespace} on {self.cluster}{to}{prune}."

    def refusal(self, application: Mapping[str, Any]) -> str | None:
        """Why Argo CD's API server would refuse this sync now, or None."""
        metadata, spec = obj(application, "metadata"), obj(application, "spec")
        if metadata.get("deletionTimestamp"):
            return "application is deleting"
        if application.get("operation"):
            return ANOTHER_OPERATION
        if self.revision and objs(spec.get("sources")) and not spec.get("sourceHydrator"):
            return (
                "a revision for a multi-source application needs a source position (argocd app sync --source-positions)"
            )
        automated = obj(spec, "syncPolicy").get("automated")
        if self.revision and isinstance(automated, Mapping) and automated.get("enabled", True) is not False:
            target = text(obj(spec, "source").get("targetRevision")) or ""
            if self.revision != (target or "HEAD"):
                return f"Cannot sync to {self.revision}: auto-sync currently set to {target}"
        return None

    def operation(self, application: Mapping[str, Any]) -> dict[str, Any]:
        """The ``Operation`` ``Server.Sync`` builds for ``application``, in Go's field order with Go's omitempty."""
        spec = obj(application, "spec")
        policy = obj(spec, "syncPolicy")
        sources = objs(spec.get("sources"))
        multi = bool(sources) and not spec.get("sourceHydrator")
        sync: dict[str, Any] = {}
        if not multi:
            target = self.revision or text(obj(spec, "source").get("targetRevision"))
            if target:
                sync["revision"] = target
        if self.prune:
            sync["prune"] = True
        strategy_options = {"force": True} if self.force else {}
        sync["syncStrategy"] = {"apply": strategy_options} if self.apply_strategy else {"hook": strategy_options}
        if not multi and isinstance(spec.get("source"), Mapping):
            sync["source"] = spec["source"]  # Server.Sync: Source = a.Spec.GetSource() for a single source
        if texts(policy.get("syncOptions")):
            sync["syncOptions"] = list(texts(policy.get("syncOptions")))
        if multi:
            sync["sources"] = sources
            sync["revisions"] = [text(source.get("targetRevision")) or "" for source in sources]
        operation: dict[str, Any] = {"sync": sync, "initiatedBy": {"username": self.username} if self.username else {}}
        if self.info:
            operation["info"] = [{"name": name, "value": value} for name, value in self.info]
        # Retry is a struct without a pointer: Go always writes it, {} when the policy has none.
        operation["retry"] = dict(obj(policy, "retry"))
        return operation

    def request(self, application: Mapping[str, Any]) -> ApiRequest:
        """The merge patch setting ``operation`` and clearing ``status.operationState``, guarded by the object's
        ``resourceVersion``."""
        metadata = obj(application, "metadata")
        patch: dict[str, Any] = {}
        if metadata.get("resourceVersion"):
            patch["metadata"] = {"resourceVersion": metadata["resourceVersion"]}
        patch["operation"] = self.operation(application)
        patch["status"] = {"operationState": None}
        return ApiRequest("PATCH", _path(APPLICATIONS, self.namespace, self.name), MERGE_PATCH, _compact(patch))

    def apply(self, send: Send, *, read_only: bool = False) -> dict[str, Any]:
        """Read the application, check as Argo CD's API server does, set the operation; returns the Application.

        Raises:
            MutationRefused: ``read_only`` is on (nothing is sent).
            ActionFailed: Argo CD would refuse (another operation running, deleting, auto-sync pinned), or the
                cluster refused; the message says why.
        """
        self._refuse_if(read_only)
        get = ApiRequest("GET", _path(APPLICATIONS, self.namespace, self.name))
        for _ in range(_CONFLICT_RETRIES):
            application = self._send(send, get)
            refusal = self.refusal(application)
            if refusal:
                raise ActionFailed(f"`{self.command}` refused: {refusal}")
            try:
                return send(self.request(application))
            except Exception as error:  # noqa: BLE001 - a conflict is retried, anything else said in one line
                if _status_of(error) != 409:
                    raise ActionFailed(f"`{self.command}` failed: {_describe(error, self._resource)}") from error
        raise ActionFailed(f"`{self.command}` failed: the application kept changing; try again")


@dataclass(frozen=True)
class PromoteRollout(_GitOpsAction):
    """``kubectl argo rollouts promote``: past the current pause or step; ``full``: skip every step and analysis."""

    cluster: str
    namespace: str
    name: str
    full: bool = False
    _resource = "rollouts"

    @property
    def command(self) -> str:
        """The equivalent ``kubectl argo rollouts`` command."""
        words = ["kubectl", "argo", "rollouts", "--context", self.cluster, "-n", self.namespace, "promote", self.name]
        return shlex.join([*words, "--full"] if self.full else words)

    def kubectl_commands(self, current: Mapping[str, Any] | None = None) -> list[str]:
        """The ``kubectl patch`` commands sending the same requests for the rollout as it is now (``current``),
        status subresource first; none when there is nothing to promote."""
        if current is None:
            raise ValueError("the promote patches depend on the rollout: pass it as current")
        plan = self.plan(current)
        return [
            self._kubectl_patch("rollout", request.body or b"", request.subresource)
            for request in (plan.status, plan.spec)
            if request is not None
        ]

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        if self.full:
            return (
                f"Fully promote rollout {self.name} in {self.namespace} on {self.cluster}: skip the remaining "
                "steps, pauses and analysis and make the new version stable."
            )
        return f"Promote rollout {self.name} in {self.namespace} on {self.cluster} past its current pause or step."

    def plan(self, rollout: Mapping[str, Any]) -> PromotePlan:
        """``getPatches`` for ``rollout`` as it is now."""
        from .rollouts import current_canary_step

        spec, status = obj(rollout, "spec"), obj(rollout, "status")
        canary = obj(spec, "strategy").get("canary")
        canary = canary if isinstance(canary, Mapping) else None
        steps = len(canary.get("steps")) if canary is not None and isinstance(canary.get("steps"), list) else 0
        spec_patch = status_patch = None
        if self.full:
            if spec.get("paused") is True:
                spec_patch = UNPAUSE_PATCH
            if (text(status.get("currentPodHash")) or "") != (text(status.get("stableRS")) or ""):
                status_patch = PROMOTE_FULL_PATCH
            unified = UNPAUSE_AND_PROMOTE_FULL_PATCH
        else:
            unified = UNPAUSE_AND_CLEAR_PAUSE_CONDITIONS_PATCH
            if spec.get("paused") is True:
                spec_patch = UNPAUSE_PATCH
            _, index = current_canary_step(rollout)
            next_index = None if index is None else (index + 1 if index < steps else index)
            analysis = obj(status, "canary", "currentStepAnalysisRunStatus")
            inconclusive = canary is not None and analysis.get("status") == "Inconclusive"
            pause_conditions = isinstance(status.get("pauseConditions"), list) and status["pauseConditions"]
            if inconclusive and pause_conditions and status.get("controllerPause") is True:
                if next_index is not None:
                    status_patch = CLEAR_PAUSE_CONDITIONS_AND_CONTROLLER_PAUSE_PATCH % next_index
            elif pause_conditions:
                status_patch = CLEAR_PAUSE_CONDITIONS_PATCH
            elif canary is not None and next_index is not None:
                # Promoting during an analysis or experiment step: move on one step (never both).
                status_patch = CLEAR_PAUSE_CONDITIONS_PATCH_WITH_STEP % next_index
                unified = UNPAUSE_AND_CLEAR_PAUSE_CONDITIONS_PATCH_WITH_STEP % next_index
        return PromotePlan(
            status=self._request(status_patch, "status"),
            spec=self._request(spec_patch),
            unified=self._request(unified),
        )

    def _request(self, body: str | None, subresource: str | None = None) -> ApiRequest | None:
        if body is None:
            return None
        return ApiRequest("PATCH", _path(ROLLOUTS, self.namespace, self.name, subresource), MERGE_PATCH, body.encode())

    def apply(self, send: Send, *, read_only: bool = False) -> dict[str, Any]:
        """Read the rollout and send ``PromoteRollout``'s patches; returns the Rollout as patched.

        Raises:
            MutationRefused: ``read_only`` is on (nothing is sent).
            ActionFailed: The cluster refused (the message says why).
        """
        self._refuse_if(read_only)
        rollout = self._send(send, ApiRequest("GET", _path(ROLLOUTS, self.namespace, self.name)))
        plan = self.plan(rollout)
        return _status_then_spec(self, send, plan.status, plan.spec, plan.unified) or rollout


@dataclass(frozen=True, slots=True)
class PromotePlan:
    """The requests ``PromoteRollout`` sends: ``status`` (subresource) then ``spec``; ``unified`` replaces the spec
    request when the status subresource is missing (Rollouts 0.9)."""

    status: ApiRequest | None
    spec: ApiRequest | None
    unified: ApiRequest

    @property
    def requests(self) -> list[ApiRequest]:
        """What is sent against a current controller, in order (nothing when there is nothing to promote)."""
        return [request for request in (self.status, self.spec) if request is not None]


@dataclass(frozen=True)
class AbortRollout(_GitOpsAction):
    """``kubectl argo rollouts abort``: stop the update and send all traffic back to the stable version."""

    cluster: str
    namespace: str
    name: str
    _resource = "rollouts"

    @property
    def command(self) -> str:
        """The equivalent ``kubectl argo rollouts`` command."""
        return shlex.join(
            ["kubectl", "argo", "rollouts", "--context", self.cluster, "-n", self.namespace, "abort", self.name]
        )

    def kubectl_commands(self, current: Mapping[str, Any] | None = None) -> list[str]:
        """The ``kubectl patch`` sending the same request (``current`` is not needed)."""
        return [self._kubectl_patch("rollout", ABORT_PATCH.encode(), "status")]

    def describe(self) -> str:
        """One sentence for a confirmation dialog."""
        return (
            f"Abort rollout {self.name} in {self.namespace} on {self.cluster}: the stable version gets all traffic "
            "back; the new template stays in the spec until it is changed or the rollout is retried."
        )

    def requests(self) -> tuple[ApiRequest, ApiRequest]:
        """The status-subresource patch, and the patch of the object sent instead when that answers 404."""
        body = ABORT_PATCH.encode()
        return (
            ApiRequest("PATCH", _path(ROLLOUTS, self.namespace, self.name, "status"), MERGE_PATCH, body),
            ApiRequest("PATCH", _path(ROLLOUTS, self.namespace, self.name), MERGE_PATCH, body),
        )

    def apply(self, send: Send, *, read_only: bool = False) -> dict[str, Any]:
        """Send the abort; returns the Rollout as patched. Raises as :meth:`PromoteRollout.apply`."""
        self._refuse_if(read_only)
        status, whole = self.requests()
        return _status_then_spec(self, send, status, None, whole) or {}


def _status_then_spec(
    action: _GitOpsAction, send: Send, status: ApiRequest | None, spec: ApiRequest | None, fallback: ApiRequest
) -> dict[str, Any] | None:
    """The status subresource first; on 404 (no status subresource) the fallback goes to the object instead."""
    result = None
    if status is not None:
        try:
            result = send(status)
        except Exception as error:  # noqa: BLE001 - 404 falls back, anything else is one line
            if _status_of(error) != 404:
                raise ActionFailed(f"`{action.command}` failed: {_describe(error, action._resource)}") from error
            spec = fallback
    if spec is not None:
        result = action._send(send, spec)
    return result


def client_sender(api_client: Any, timeout: float = 10.0) -> Send:
    """A :data:`Send` through a ``kubernetes.client.ApiClient``, with the exact body bytes (kube.actions.send)."""

    def send(request: ApiRequest) -> dict[str, Any]:
        from ..actions import send as send_bytes

        return send_bytes(
            api_client,
            request.method,
            request.path,
            body=request.body,
            content_type=request.content_type,
            timeout=timeout,
        )

    return send

"""Refresh, sync, promote and abort: the exact requests Argo CD and kubectl-argo-rollouts send.

Expected bodies are copied from upstream source, cited per test:
- argoproj/argo-cd v3.5.1 ``util/argo/argo.go`` ``RefreshApp`` and ``SetAppOperation``;
  ``server/application/application.go`` ``Server.Sync``; ``cmd/argocd/commands/app.go`` (``app sync`` strategy);
  ``pkg/apis/application/v1alpha1/types.go`` (``Operation``, ``SyncOperation``, ``RetryStrategy``).
- argoproj/argo-rollouts v1.9.1 ``pkg/kubectl-argo-rollouts/cmd/promote/promote.go`` (``PromoteRollout``,
  ``getPatches``) and ``cmd/abort/abort.go`` (``AbortRollout``).
Each patch is also applied (RFC 7386) to a fixture and the result checked against Argo's CRD schema.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_gitops_fixtures import crd, crd_errors, load, merge_patch, pruned

from idp_tui.kube.errors import ActionFailed, MutationRefused
from idp_tui.kube.gitops.actions import (
    AbortRollout,
    ApiRequest,
    PromoteRollout,
    RefreshApplication,
    SyncApplication,
    rfc3339_nano,
)
from idp_tui.kube.gitops.argocd import parse_application
from idp_tui.kube.gitops.rollouts import rollout_info

APP_PATH = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/checkout-web-prod"
ROLLOUT_PATH = "/apis/argoproj.io/v1alpha1/namespaces/fraud-detection/rollouts/fraud-scoring-service"


class ApiError(Exception):
    """What kubernetes' ApiException carries that the actions look at: the HTTP status."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.body = json.dumps({"kind": "Status", "message": reason, "code": status})
        self.headers = {}


class Cluster:
    """A stand-in API server holding objects by path: GET returns them, PATCH merges (RFC 7386), and answers can
    be scripted per call (an exception to raise) to exercise conflicts and missing subresources."""

    def __init__(self, objects: dict[str, dict], script: list | None = None) -> None:
        self.objects = objects
        self.script = list(script or [])
        self.sent: list[ApiRequest] = []

    def __call__(self, request: ApiRequest) -> dict:
        self.sent.append(request)
        if self.script:
            outcome = self.script.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
        path = request.path.removesuffix("/status")
        if request.method == "GET":
            return self.objects[path]
        assert request.method == "PATCH" and request.content_type == "application/merge-patch+json"
        self.objects[path] = merge_patch(self.objects[path], json.loads(request.body))
        return self.objects[path]


# --- refresh ----------------------------------------------------------------------------------------------------


def test_refresh_is_refreshapps_merge_patch_byte_for_byte():
    normal = RefreshApplication("demo-eu", "argocd", "checkout-web-prod").request()
    hard = RefreshApplication("demo-eu", "argocd", "checkout-web-prod", hard=True).request()
    # RefreshApp (v3.5.1): json.Marshal(map{"metadata": map{"annotations": map{AnnotationKeyRefresh: refreshType}}})
    assert normal == ApiRequest(
        "PATCH",
        APP_PATH,
        "application/merge-patch+json",
        b'{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}',
    )
    assert hard.body == b'{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"hard"}}}'


def test_refresh_with_a_request_time_adds_the_newer_timestamp_annotation():
    # argo-cd master (after v3.5.1): annotations[AnnotationKeyRefreshTimestamp] = time.Now().Format(time.RFC3339Nano)
    moment = datetime(2026, 11, 24, 16, 40, 0, 120500, tzinfo=UTC)
    request = RefreshApplication("demo-eu", "argocd", "checkout-web-prod", request_time=moment).request()
    assert request.body == (
        b'{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal",'
        b'"argocd.argoproj.io/refresh-timestamp":"2026-11-24T16:40:00.1205Z"}}}'
    )
    assert rfc3339_nano(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_refresh_lands_as_an_annotation_and_shows_both_commands():
    cluster = Cluster({APP_PATH: load("app-synced-healthy.yaml")})
    action = RefreshApplication("demo-eu", "argocd", "checkout-web-prod", hard=True)
    patched = action.apply(cluster)
    assert patched["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "hard"}
    assert patched["metadata"]["labels"]["team"] == "checkout"  # a merge patch leaves the rest alone
    assert action.command == "argocd app get checkout-web-prod --app-namespace argocd --hard-refresh"
    assert action.kubectl_commands() == [
        "kubectl --context demo-eu -n argocd patch application/checkout-web-prod --type=merge "
        """-p '{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"hard"}}}'"""
    ]
    assert "Hard-refresh" in action.describe()


def test_read_only_sends_nothing():
    cluster = Cluster({APP_PATH: load("app-synced-healthy.yaml")})
    for action in (
        RefreshApplication("demo-eu", "argocd", "checkout-web-prod"),
        SyncApplication("demo-eu", "argocd", "checkout-web-prod", username="alice"),
        PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service"),
        AbortRollout("demo-eu", "fraud-detection", "fraud-scoring-service"),
    ):
        with pytest.raises(MutationRefused, match="read-only"):
            action.apply(cluster, read_only=True)
    assert cluster.sent == []


def test_a_refused_request_is_one_line_naming_the_command():
    cluster = Cluster({APP_PATH: load("app-synced-healthy.yaml")}, script=[ApiError(403, "forbidden")])
    with pytest.raises(ActionFailed, match=r"^`argocd app get checkout-web-prod .*--refresh` failed: "):
        RefreshApplication("demo-eu", "argocd", "checkout-web-prod").apply(cluster)


# --- sync -------------------------------------------------------------------------------------------------------


def test_sync_writes_the_operation_server_sync_builds():
    app = load("app-synced-healthy.yaml")
    action = SyncApplication("demo-eu", "argocd", "checkout-web-prod", username="alice@acme.example")
    # Server.Sync: Operation{Sync: &SyncOperation{Source: GetSource(), Revision, Prune, DryRun, SyncOptions:
    # spec.syncPolicy.syncOptions, SyncStrategy: {Hook: {}} (argocd app sync's default), ...},
    # InitiatedBy: {Username}, Info, Retry: *spec.syncPolicy.retry}; JSON in types.go's field order.
    assert action.operation(app) == {
        "sync": {
            "revision": "main",
            "syncStrategy": {"hook": {}},
            "source": {
                "repoURL": "https://github.com/acme/checkout-deploy.git",
                "path": "apps/checkout-web/overlays/prod",
                "targetRevision": "main",
            },
            "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
        },
        "initiatedBy": {"username": "alice@acme.example"},
        "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
    }
    request = action.request(app)
    assert (request.method, request.path, request.content_type) == ("PATCH", APP_PATH, "application/merge-patch+json")
    assert request.body.startswith(
        b'{"metadata":{"resourceVersion":"48211930"},"operation":{"sync":{"revision":"main",'
    )
    assert request.body.endswith(b',"status":{"operationState":null}}')


def test_sync_result_is_valid_for_the_application_crd_and_clears_the_last_operation_state():
    app = load("app-out-of-sync.yaml")
    path = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/order-service-prod"
    cluster = Cluster({path: app})
    action = SyncApplication(
        "demo-eu", "argocd", "order-service-prod", username="alice", prune=True, info=(("reason", "INC-4411 drift"),)
    )
    patched = action.apply(cluster)
    assert [r.method for r in cluster.sent] == ["GET", "PATCH"]
    assert patched["operation"] == {
        "sync": {
            "revision": "HEAD",
            "prune": True,
            "syncStrategy": {"hook": {}},
            "source": app["spec"]["source"],
        },
        "initiatedBy": {"username": "alice"},
        "info": [{"name": "reason", "value": "INC-4411 drift"}],
        "retry": {},
    }
    assert "operationState" not in patched["status"]  # SetAppOperation: a.Status.OperationState = nil
    assert crd_errors(patched) == []
    assert pruned(patched, crd("Application")["openAPIV3Schema"]) == []
    assert parse_application(patched).operation.pending
    assert action.command == (
        "argocd app sync order-service-prod --app-namespace argocd --prune --info 'reason=INC-4411 drift'"
    )
    assert action.kubectl_commands(app)[0].startswith(
        "kubectl --context demo-eu -n argocd patch application/order-service-prod "
        '--type=merge -p \'{"metadata":{"resourceVersion":"48212077"}'
    )


def test_multi_source_sync_sends_sources_and_revisions_not_source():
    app = load("app-multi-source.yaml")
    operation = SyncApplication("demo-eu", "argocd", "payment-processor-prod", username="carol").operation(app)
    # Server.Sync: Source is nil for multi-source apps; Sources = a.Spec.Sources, Revisions one per source.
    assert operation["sync"] == {
        "syncStrategy": {"hook": {}},
        "syncOptions": ["PruneLast=true"],
        "sources": app["spec"]["sources"],
        "revisions": ["1.43.0", "main"],
    }
    patched = merge_patch(
        app,
        json.loads(SyncApplication("demo-eu", "argocd", "payment-processor-prod", username="carol").request(app).body),
    )
    assert crd_errors(patched) == [] and pruned(patched, crd("Application")["openAPIV3Schema"]) == []


def test_sync_strategy_apply_and_force_as_argocd_app_sync_sends_them():
    app = load("app-degraded.yaml")
    action = SyncApplication(
        "demo-eu",
        "argocd",
        "settlement-worker-prod",
        username="",
        apply_strategy=True,
        force=True,
        revision="release-2026.11",
    )
    operation = action.operation(app)
    # app.go: case "apply": Strategy = {Apply: {Force: force}}; SyncStrategyHook inlines SyncStrategyApply.
    assert operation["sync"]["syncStrategy"] == {"apply": {"force": True}}
    assert operation["initiatedBy"] == {}  # OperationInitiator is a struct: {} without a user
    hook = SyncApplication("demo-eu", "argocd", "x", username="u", force=True).operation(app)
    assert hook["sync"]["syncStrategy"] == {"hook": {"force": True}}
    assert action.command == (
        "argocd app sync settlement-worker-prod --app-namespace argocd --revision release-2026.11 --strategy apply --force"
    )


def test_sync_refuses_what_the_api_server_refuses():
    running = load("app-synced-healthy.yaml")
    running["operation"] = {"sync": {}, "initiatedBy": {"username": "bob"}}
    path = APP_PATH
    cluster = Cluster({path: running})
    with pytest.raises(ActionFailed, match="another operation is already in progress"):
        SyncApplication("demo-eu", "argocd", "checkout-web-prod", username="alice").apply(cluster)
    assert [r.method for r in cluster.sent] == ["GET"]
    deleting = load("app-synced-healthy.yaml")
    deleting["metadata"]["deletionTimestamp"] = "2026-11-24T16:00:00Z"
    assert SyncApplication("c", "argocd", "a", username="u").refusal(deleting) == "application is deleting"
    pinned = SyncApplication("c", "argocd", "a", username="u", revision="3c4d5e6")
    assert pinned.refusal(load("app-synced-healthy.yaml")) == "Cannot sync to 3c4d5e6: auto-sync currently set to main"
    assert (
        SyncApplication("c", "argocd", "a", username="u", revision="main").refusal(load("app-synced-healthy.yaml"))
        is None
    )


def test_sync_retries_a_conflict_with_a_fresh_read():
    app = load("app-synced-healthy.yaml")
    cluster = Cluster({APP_PATH: app}, script=[None, ApiError(409, "the object has been modified")])
    SyncApplication("demo-eu", "argocd", "checkout-web-prod", username="alice").apply(cluster)
    assert [r.method for r in cluster.sent] == ["GET", "PATCH", "GET", "PATCH"]
    assert cluster.objects[APP_PATH]["operation"]["initiatedBy"] == {"username": "alice"}


# --- promote ----------------------------------------------------------------------------------------------------


def canary(**status) -> dict:
    rollout = load("rollout-canary-paused.yaml")
    rollout["status"].update(status)
    return rollout


def bodies(plan) -> tuple:
    return (
        plan.status.body.decode() if plan.status else None,
        plan.spec.body.decode() if plan.spec else None,
        plan.unified.body.decode(),
    )


def test_promote_a_canary_paused_at_a_pause_step_clears_its_pause_conditions():
    plan = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service").plan(canary())
    # getPatches default case, len(PauseConditions) > 0: statusPatch = clearPauseConditionsPatch.
    assert bodies(plan) == (
        '{"status":{"pauseConditions":null}}',
        None,
        '{"spec":{"paused":false},"status":{"pauseConditions":null}}',
    )
    assert plan.status.path == ROLLOUT_PATH + "/status"
    assert plan.requests == [plan.status]


def test_promote_during_an_analysis_step_moves_to_the_next_step():
    rollout = canary(currentStepIndex=1, pauseConditions=None, controllerPause=None)
    plan = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service").plan(rollout)
    # No pause conditions, a canary with steps: clearPauseConditionsPatchWithStep with index+1 (upstream's spacing).
    assert bodies(plan) == (
        '{"status":{"pauseConditions":null, "currentStepIndex":2}}',
        None,
        '{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":2}}',
    )


def test_promote_an_inconclusive_analysis_also_clears_the_controller_pause():
    rollout = canary(
        currentStepIndex=1,
        pauseConditions=[{"reason": "InconclusiveAnalysisRun", "startTime": "2026-11-24T16:30:00Z"}],
        canary={"currentStepAnalysisRunStatus": {"name": "ar", "status": "Inconclusive"}},
    )
    plan = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service").plan(rollout)
    assert bodies(plan)[0] == '{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":2}}'
    assert (
        bodies(plan)[2] == '{"spec":{"paused":false},"status":{"pauseConditions":null}}'
    )  # unified unchanged upstream


def test_promote_a_manually_paused_rollout_unpauses_the_spec_and_the_last_step_stays_put():
    rollout = canary(currentStepIndex=4, pauseConditions=None)
    rollout["spec"]["paused"] = True
    plan = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service").plan(rollout)
    assert bodies(plan)[:2] == (
        '{"status":{"pauseConditions":null, "currentStepIndex":4}}',
        '{"spec":{"paused":false}}',
    )
    assert plan.spec.path == ROLLOUT_PATH
    assert [r.path for r in plan.requests] == [ROLLOUT_PATH + "/status", ROLLOUT_PATH]


def test_promote_full_and_nothing_to_do():
    full = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service", full=True)
    assert bodies(full.plan(canary())) == (
        '{"status":{"promoteFull":true}}',
        None,
        '{"spec":{"paused":false},"status":{"promoteFull":true}}',
    )
    done = canary(currentPodHash="6c8f7d9b4", pauseConditions=None)
    assert full.plan(done).requests == []
    assert (
        full.command
        == "kubectl argo rollouts --context demo-eu -n fraud-detection promote fraud-scoring-service --full"
    )


def test_promote_applied_unpauses_the_canary_as_the_controller_will_see_it():
    rollout = canary()
    cluster = Cluster({ROLLOUT_PATH: rollout})
    action = PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service")
    assert action.kubectl_commands(rollout) == [
        "kubectl --context demo-eu -n fraud-detection patch rollout/fraud-scoring-service --subresource=status "
        """--type=merge -p '{"status":{"pauseConditions":null}}'"""
    ]
    patched = action.apply(cluster)
    assert [(r.method, r.path) for r in cluster.sent] == [("GET", ROLLOUT_PATH), ("PATCH", ROLLOUT_PATH + "/status")]
    assert crd_errors(patched) == []
    # controllerPause still set with no pause conditions: kubectl argo rollouts calls it "waiting for rollout to
    # unpause" until the controller moves on.
    info = rollout_info(patched)
    assert (info.phase, info.message, info.paused) == ("Progressing", "waiting for rollout to unpause", False)


def test_promote_falls_back_to_the_unified_patch_without_a_status_subresource():
    rollout = canary()
    rollout["spec"]["paused"] = True
    cluster = Cluster(
        {ROLLOUT_PATH: rollout}, script=[None, ApiError(404, "the server could not find the requested resource")]
    )
    PromoteRollout("demo-eu", "fraud-detection", "fraud-scoring-service").apply(cluster)
    # PromoteRollout: NotFound on the status patch -> specPatch = unifiedPatch, sent to the object.
    assert [(r.path, r.body) for r in cluster.sent[1:]] == [
        (ROLLOUT_PATH + "/status", b'{"status":{"pauseConditions":null}}'),
        (ROLLOUT_PATH, b'{"spec":{"paused":false},"status":{"pauseConditions":null}}'),
    ]


# --- abort ------------------------------------------------------------------------------------------------------


def test_abort_patches_the_status_subresource_and_falls_back_on_404():
    action = AbortRollout("demo-eu", "fraud-detection", "fraud-scoring-service")
    status, whole = action.requests()
    assert (status.path, status.body) == (ROLLOUT_PATH + "/status", b'{"status":{"abort":true}}')  # abort.go abortPatch
    assert (whole.path, whole.body) == (ROLLOUT_PATH, b'{"status":{"abort":true}}')
    cluster = Cluster({ROLLOUT_PATH: canary()})
    patched = action.apply(cluster)
    assert cluster.sent == [status] and patched["status"]["abort"] is True and crd_errors(patched) == []
    old = Cluster({ROLLOUT_PATH: canary()}, script=[ApiError(404, "not found")])
    action.apply(old)
    assert old.sent == [status, whole]
    assert action.command == "kubectl argo rollouts --context demo-eu -n fraud-detection abort fraud-scoring-service"
    assert action.kubectl_commands()[0].endswith("""--subresource=status --type=merge -p '{"status":{"abort":true}}'""")


def test_a_refused_status_patch_is_not_retried_on_the_object():
    cluster = Cluster({ROLLOUT_PATH: canary()}, script=[ApiError(403, "forbidden")])
    with pytest.raises(ActionFailed, match="kubectl argo rollouts .* abort fraud-scoring-service` failed"):
        AbortRollout("demo-eu", "fraud-detection", "fraud-scoring-service").apply(cluster)
    assert len(cluster.sent) == 1


# --- on the wire ------------------------------------------------------------------------------------------------


def test_requests_leave_through_the_kubernetes_client_byte_for_byte(tmp_path):
    """Through the official client to the demo cluster (which holds neither this Rollout nor this Application, so
    it answers 404): the exact bytes and content types arrive, a 404 from the status subresource falls back to the
    object, and the failure is one line naming the command."""
    from kubernetes import config

    from idp_tui.kube.demo_cluster.server import DemoCluster
    from idp_tui.kube.gitops.actions import client_sender

    demo = DemoCluster(rollout_seconds=600)
    demo.start()
    try:
        kubeconfig = str(demo.write_kubeconfig(tmp_path / "kubeconfig"))
        client = config.new_client_from_config(config_file=kubeconfig, context="demo-eu")
        send = client_sender(client)
        with pytest.raises(ActionFailed, match=r"^`kubectl argo rollouts .* abort fraud-scoring-service` failed: "):
            AbortRollout("demo-eu", "fraud-detection", "fraud-scoring-service").apply(send)
        with pytest.raises(ActionFailed, match=r"^`argocd app get checkout-web-prod .*--refresh` failed: "):
            RefreshApplication("demo-eu", "argocd", "checkout-web-prod").apply(send)
        client.close()
    finally:
        demo.stop()
    wire = [(r["method"], r["path"], r["body"], r["content_type"]) for r in demo.requests if "argoproj" in r["path"]]
    assert wire == [
        ("PATCH", ROLLOUT_PATH + "/status", '{"status":{"abort":true}}', "application/merge-patch+json"),
        ("PATCH", ROLLOUT_PATH, '{"status":{"abort":true}}', "application/merge-patch+json"),
        (
            "PATCH",
            APP_PATH,
            '{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}',
            "application/merge-patch+json",
        ),
    ]

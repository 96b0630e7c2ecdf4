"""Argo CD applications read from their custom objects: sync, health, operation, history, resources, problems,
and the ``gitops`` entries of ``deployments --json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_gitops_fixtures import APPLICATIONS, load

from idp_tui.commands.gitops_json import application_json
from idp_tui.kube.gitops.argocd import (
    CONDITION_HINTS,
    ArgoApplication,
    parse_application,
    short_revision,
    sort_applications,
)


def app(name: str, cluster: str = "demo-eu") -> ArgoApplication:
    return parse_application(load(name), cluster)


def test_synced_healthy_app_with_its_source_revision_and_history_newest_first():
    checkout = app("app-synced-healthy.yaml")
    assert (checkout.cluster, checkout.namespace, checkout.name, checkout.project) == (
        "demo-eu",
        "argocd",
        "checkout-web-prod",
        "checkout",
    )
    assert (checkout.sync_status, checkout.health_status) == ("Synced", "Healthy")
    assert checkout.synced_short == "9f4e2a1"
    assert checkout.source.repo_url == "https://github.com/acme/checkout-deploy.git"
    assert checkout.source.path == "apps/checkout-web/overlays/prod"
    assert checkout.source.target == "main"
    assert checkout.auto_sync and not checkout.multi_source
    assert [entry.id for entry in checkout.history] == [14, 13, 12, 11]
    assert [short_revision(entry.revision) for entry in checkout.history] == [
        "9f4e2a1",
        "3c4d5e6",
        "2b3c4d5",
        "1a2b3c4",
    ]
    assert [entry.initiated_by.who if entry.initiated_by else None for entry in checkout.history] == [
        "automated sync policy",
        "automated sync policy",
        "alice@acme.example",
        None,  # recorded before Argo CD kept initiatedBy in the history
    ]
    assert checkout.history[0].deployed_at == datetime(2026, 11, 24, 15, 2, 6, tzinfo=UTC)
    operation = checkout.operation
    assert (operation.phase, operation.message) == ("Succeeded", "successfully synced (all tasks run)")
    assert operation.initiated_by.automated and not operation.running
    assert operation.finished_at - operation.started_at == datetime(2026, 1, 1, 0, 0, 8) - datetime(2026, 1, 1)
    assert checkout.resources == () and checkout.resource_count == 4
    assert checkout.problems == () and not checkout.has_problems


def test_a_drifted_configmap_is_the_one_resource_shown_and_the_problem_names_it():
    order = app("app-out-of-sync.yaml")
    assert order.sync_status == "OutOfSync" and order.health_status == "Healthy"
    assert [(r.kind, r.namespace, r.name, r.status, r.health) for r in order.resources] == [
        ("ConfigMap", "checkout-platform", "order-api-settings", "OutOfSync", None)
    ]
    (problem,) = order.problems
    assert problem.reason == "OutOfSync"
    assert problem.message == "out of sync: ConfigMap/checkout-platform/order-api-settings"
    assert "sync" in problem.hint
    assert order.source.target == "HEAD" and not order.auto_sync
    assert order.operation.initiated_by.who == "alice@acme.example"


def test_synced_but_degraded_names_the_failing_deployment_with_argos_message():
    worker = app("app-degraded.yaml")
    assert (worker.sync_status, worker.health_status) == ("Synced", "Degraded")
    assert [r.ref for r in worker.resources] == ["Deployment/checkout-platform/settlement-worker"]
    assert [p.reason for p in worker.problems] == ["Degraded", "Degraded"]
    assert worker.problems[1].message == (
        'Deployment/checkout-platform/settlement-worker is Degraded: Deployment "settlement-worker" exceeded its '
        "progress deadline"
    )
    assert worker.destination_server == "in-cluster"  # destination by name
    assert worker.auto_sync  # automated: {} turns auto-sync on


def test_multi_source_app_pairs_revisions_with_sources():
    payments = app("app-multi-source.yaml")
    assert payments.multi_source
    assert [(s.repo_url, s.chart, s.target_revision, s.ref) for s in payments.sources] == [
        ("https://charts.acme.example/stable", "payment-processor", "1.43.0", None),
        ("https://github.com/acme/payments-deploy.git", None, "main", "values"),
    ]
    assert payments.sources[0].what == "payment-processor@1.43.0 from https://charts.acme.example/stable"
    assert payments.sync_revision is None
    assert payments.synced_short == "1.43.0, c0ffee1"  # a chart version whole, a commit cut to 7
    assert [entry.revisions for entry in payments.history] == [
        ("1.43.0", "c0ffee1234567890abcdef1234567890abcdef12"),
        ("1.42.0", "b0ffee1234567890abcdef1234567890abcdef12"),
    ]
    assert payments.operation.revisions == ("1.43.0", "c0ffee1234567890abcdef1234567890abcdef12")
    # Progressing is not a problem: the resource health message is still shown with the resource.
    assert payments.problems == ()
    assert [(r.name, r.health) for r in payments.resources] == [("payment-processor", "Progressing")]


def test_an_applicationset_app_is_an_ordinary_app_that_knows_its_set():
    cart = app("app-from-applicationset.yaml")
    assert cart.application_set == "cart-service"
    assert cart.labels["region"] == "eu"
    assert not cart.resource_health_known  # Argo CD 3.x: resource health lives in the app tree, not the object
    assert cart.resources == ()  # no health recorded is not "unhealthy"


def test_comparison_error_is_one_problem_with_a_hint_and_not_repeated_as_unknown():
    promo = app("app-comparison-error.yaml")
    assert promo.sync_status == "Unknown"
    assert [p.reason for p in promo.problems] == ["ComparisonError", "OrphanedResourceWarning"]
    assert promo.problems[0].hint == CONDITION_HINTS["ComparisonError"]
    assert "hpa.yaml: no such file or directory" in promo.problems[0].message
    assert promo.problems[0].severity > promo.problems[1].severity
    assert [(c.type, c.is_error) for c in promo.conditions] == [
        ("ComparisonError", True),
        ("OrphanedResourceWarning", False),
    ]


def test_failed_sync_lists_condition_operation_health_and_drift_worst_first():
    notify = app("app-sync-failed.yaml")
    assert [p.reason for p in notify.problems] == ["SyncError", "OperationFailed", "Missing", "Missing", "OutOfSync"]
    assert notify.problems[1].message.startswith("sync failed: one or more objects failed to apply, reason: Deployment")
    assert notify.operation.failed and notify.operation.retry_count == 5
    pruning = [r for r in notify.resources if r.requires_pruning]
    assert [r.name for r in pruning] == ["notification-legacy"]
    assert notify.problems[-1].message == (
        "out of sync: Deployment/platform/notification-service, ConfigMap/platform/notification-legacy"
    )


def test_a_requested_operation_not_yet_started_reads_as_pending():
    raw = load("app-out-of-sync.yaml")
    raw["operation"] = {"initiatedBy": {"username": "dave"}, "sync": {"revision": "HEAD"}}
    del raw["status"]["operationState"]
    pending = parse_application(raw).operation
    assert pending.pending and pending.running
    assert (pending.phase, pending.message, pending.initiated_by.who) == ("Running", "waiting to start", "dave")


def test_problem_apps_sort_first_worst_first():
    apps = [app(name) for name in APPLICATIONS]
    ordered = [a.name for a in sort_applications(apps)]
    assert ordered[:2] == ["notification-service-prod", "promo-engine-prod"]  # error conditions (8)
    assert ordered[2] == "settlement-worker-prod"  # Degraded (7)
    assert ordered[3] == "order-service-prod"  # OutOfSync (5)
    assert set(ordered[4:]) == {"cart-service-eu", "checkout-web-prod", "payment-processor-prod"}


@pytest.mark.parametrize(
    "hostile",
    [
        {},
        {"metadata": None, "spec": None, "status": None},
        {"status": "broken"},
        {"spec": {"sources": ["not a source", None]}, "status": {"sync": [], "health": "Healthy"}},
        {"status": {"history": [None, 3, {"id": "x", "revision": 7}], "resources": ["a", {"health": "bad"}]}},
        {"status": {"conditions": [None, {"type": 5, "message": None}], "operationState": {"phase": None}}},
        {"metadata": {"ownerReferences": [None, {"kind": "ApplicationSet"}]}, "operation": "yes"},
    ],
)
def test_malformed_objects_never_raise(hostile):
    parsed = parse_application(hostile)
    json.dumps(application_json(parsed))


def test_gitops_json_has_the_documented_shape():
    doc = application_json(app("app-out-of-sync.yaml"))
    assert set(doc) >= {
        "tool",
        "cluster",
        "namespace",
        "name",
        "project",
        "source",
        "sync",
        "health",
        "operation",
        "history",
        "resources",
        "conditions",
    }
    assert doc["tool"] == "argocd" and doc["cluster"] == "demo-eu"
    assert doc["source"] == {
        "repoURL": "https://github.com/acme/checkout-deploy.git",
        "path": "apps/order-service/prod",
        "chart": None,
        "targetRevision": "HEAD",
        "ref": None,
    }
    assert doc["sync"] == {
        "status": "OutOfSync",
        "revision": "5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809",
        "revisions": [],
    }
    assert doc["health"] == {"status": "Healthy", "message": None}
    assert doc["operation"] == {
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "startedAt": "2026-11-21T09:11:30Z",
        "finishedAt": "2026-11-21T09:11:41Z",
        "initiatedBy": {"username": "alice@acme.example", "automated": False},
        "revision": "5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809",
        "pending": False,
    }
    assert doc["history"][0] == {
        "id": 41,
        "revision": "5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809",
        "revisions": [],
        "deployedAt": "2026-11-21T09:11:41Z",
        "initiatedBy": {"username": "alice@acme.example", "automated": False},
    }
    assert doc["resources"] == [
        {
            "group": "",
            "kind": "ConfigMap",
            "namespace": "checkout-platform",
            "name": "order-api-settings",
            "status": "OutOfSync",
            "health": None,
            "requiresPruning": False,
        }
    ]
    assert doc["conditions"] == []
    assert doc["problems"][0]["reason"] == "OutOfSync"
    conditions = application_json(app("app-comparison-error.yaml"))["conditions"]
    assert conditions[0]["type"] == "ComparisonError"
    assert conditions[0]["lastTransitionTime"] == "2026-11-24T16:31:02Z"


def test_short_revision():
    assert short_revision("9f4e2a1c7b3d5e6f8a9b0c1d2e3f4a5b6c7d8e9f") == "9f4e2a1"
    assert short_revision("1.43.0") == "1.43.0"
    assert short_revision("v2.8.0") == "v2.8.0"
    assert short_revision(None) is None


def _suspended(**health) -> dict:
    """The synced, healthy app with its Rollout paused at a canary step: Argo CD calls the app Suspended."""
    application = load("app-synced-healthy.yaml")
    application["status"]["health"] = {"status": "Suspended", **health}
    application["status"]["resources"].append(
        {
            "group": "argoproj.io",
            "version": "v1alpha1",
            "kind": "Rollout",
            "namespace": "checkout-platform",
            "name": "checkout-web",
            "status": "Synced",
            "health": {"status": "Suspended", "message": "CanaryPauseStep"},
        }
    )
    return application


def test_a_suspended_app_is_paused_not_failing_and_says_why_it_waits():
    from idp_tui.kube.gitops.report import ClusterGitOps
    from idp_tui.render.gitops import application_rows

    paused = parse_application(_suspended(), "demo-eu")
    assert paused.paused and not paused.failing
    assert [p.reason for p in paused.problems] == ["Suspended"]  # still said, in JSON too
    assert ClusterGitOps("demo-eu", (paused,)).problem_count == 0
    rows = [row.text.plain for row in application_rows("demo-eu", paused)]
    assert rows[0].startswith("  ‖ Argo CD checkout-web-prod  Synced · Suspended")  # not ✗, as Argo CD's pause sign
    assert any(
        row.lstrip().startswith("‖ Suspended: a resource is paused (a Rollout waiting for promotion") for row in rows
    )
    assert any(
        row.lstrip().startswith("‖ Rollout checkout-platform/checkout-web  Suspended: CanaryPauseStep") for row in rows
    )
    assert not any(row.lstrip().startswith(("!", "✗", "♥")) for row in rows)

    # Suspended and out of sync: that is a failure to fix, the head says so and it counts.
    drifted = _suspended()
    drifted["status"]["sync"]["status"] = "OutOfSync"
    failing = parse_application(drifted, "demo-eu")
    assert failing.failing and not failing.paused
    assert ClusterGitOps("demo-eu", (failing,)).problem_count == 1
    assert application_rows("demo-eu", failing)[0].text.plain.startswith("  ✗ Argo CD checkout-web-prod")

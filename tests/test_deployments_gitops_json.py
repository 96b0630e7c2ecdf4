"""``idp-tui deployments REF --json`` with GitOps (issue 17, part 5), on the demo cluster through the real client:
``gitops`` entries in the issue's shape, Rollouts among the workloads with ``kind: "Rollout"`` and ``canary``,
and ``gitops: []`` with the rest unchanged for an entity without ``argocd/*`` annotations."""

from __future__ import annotations

import json

from idp_tui.cli import main

ISSUE_KEYS = [
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
]


def _json(capsys, ref: str) -> dict:
    assert main(["deployments", ref, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_gitops_entries_have_the_issue_shape(capsys):
    out = _json(capsys, "promo-engine")
    (app,) = out["gitops"]
    assert list(app)[: len(ISSUE_KEYS)] == ISSUE_KEYS  # the issue's keys, in its order, before any extra
    assert app["tool"] == "argocd" and app["cluster"] == "demo-eu" and app["namespace"] == "argocd"
    assert app["name"] == "promo-engine" and app["project"] == "growth"
    assert {"repoURL", "path", "targetRevision"} <= set(app["source"])
    assert app["source"]["path"] == "apps/promo-engine/prod" and app["source"]["targetRevision"] == "main"
    assert app["sync"]["status"] == "OutOfSync" and len(app["sync"]["revision"]) == 40
    assert app["health"] == {"status": "Degraded", "message": app["health"]["message"]}
    assert {"phase", "message", "startedAt", "finishedAt", "initiatedBy"} <= set(app["operation"])
    assert app["operation"]["phase"] == "Succeeded" and app["operation"]["initiatedBy"]["username"]
    history = app["history"]
    assert len(history) == 2 and [entry["id"] for entry in history] == [1, 0]  # newest first
    assert all({"id", "revision", "deployedAt", "initiatedBy"} <= set(entry) for entry in history)
    drifted = [r for r in app["resources"] if r["status"] == "OutOfSync"]
    assert [(r["kind"], r["namespace"], r["name"]) for r in drifted] == [
        ("ConfigMap", "checkout-platform", "promo-engine-flags")
    ]
    assert all({"group", "kind", "namespace", "name", "status", "health"} <= set(r) for r in app["resources"])
    assert isinstance(app["conditions"], list)


def test_rollouts_appear_among_the_workloads_with_their_canary(capsys):
    out = _json(capsys, "checkout-web")
    us = next(cluster for cluster in out["clusters"] if cluster["name"] == "demo-us")
    rollout = next(w for w in us["workloads"] if w["kind"] == "Rollout")
    assert rollout["name"] == "checkout-web" and rollout["namespace"] == "checkout-platform"
    canary = rollout["canary"]
    assert {k: canary[k] for k in ("step", "steps", "weight", "paused", "pauseReasons")} == {
        "step": 2,
        "steps": 4,
        "weight": 25,
        "paused": True,
        "pauseReasons": ["CanaryPauseStep"],
    }
    deployment = next(w for w in us["workloads"] if w["kind"] == "Deployment")
    assert set(rollout) >= set(deployment)  # a workload like the others, plus its own keys
    assert len(rollout["pods"]) == 4
    assert [app["name"] for app in out["gitops"]] == ["checkout-web"]


def test_an_entity_without_argocd_annotations_has_empty_gitops_and_the_rest_unchanged(capsys):
    out = _json(capsys, "cart-service")
    assert out["gitops"] == []
    assert list(out) == ["entity", "selector", "namespace", "demo", "clusters", "gitops"]
    assert all(w["kind"] != "Rollout" for cluster in out["clusters"] for w in cluster["workloads"])

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


def test_replicasets_and_pods_are_listed_once_per_cluster_the_rollouts_use_the_workloads_read(
    tmp_path, monkeypatch, capsys
):
    """A Rollout's ReplicaSets and pods carry the entity's labels: the workloads' read already holds them."""
    from idp_tui.kube.demo_cluster.server import DemoCluster

    demo = DemoCluster(rollout_seconds=600, sync_seconds=30, certificate_dir=tmp_path / "certs")
    demo.start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(demo.write_kubeconfig(tmp_path / "kubeconfig")))
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout-web\n  annotations:\n"
            "    backstage.io/kubernetes-id: checkout-web\n    backstage.io/kubernetes-namespace: checkout-platform\n"
            "spec: {type: website, lifecycle: production, owner: team-payments}\n"
        )
        argv = ["--catalog", str(catalog), "deployments", "checkout-web", "--json", "--context", "demo-us"]
        assert main(argv) == 0
        out = json.loads(capsys.readouterr().out)
        rollout = next(w for w in out["clusters"][0]["workloads"] if w["kind"] == "Rollout")
        assert len(rollout["pods"]) == 4 and rollout["canary"]["actualWeight"] == 25
        assert [rs["roles"] for rs in rollout["replicaSets"]] == [["canary"], ["stable"], []]
        lists = [r["path"].rsplit("/", 1)[-1] for r in demo.requests if r["method"] == "GET"]
        assert (lists.count("replicasets"), lists.count("pods"), lists.count("rollouts")) == (1, 1, 1)
    finally:
        demo.stop()

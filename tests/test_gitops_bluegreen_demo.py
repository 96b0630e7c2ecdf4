"""A blue-green Argo Rollout in the demo cluster, read and acted on through the official kubernetes client.

The bundled demo has only a canary Rollout; these tests start a demo cluster from a description (the demo's own,
plus one blue-green Rollout on demo-us), so the demo's object counts other tests rely on do not change.

Expected shapes and outcomes are Argo Rollouts' (argoproj/argo-rollouts ``docs/features/bluegreen.md``;
``rollout/bluegreen.go`` ``reconcileBlueGreenPause``; ``rollout/service.go`` ``reconcileActiveService``, which
switches the active Service to the new ReplicaSet once the pause is over and keeps it on ``status.stableRS`` when
aborted; ``rollout/pause.go`` ``CompletedBlueGreenPause``; ``cmd/promote/promote.go`` and ``cmd/abort/abort.go``,
whose patches ``kubectl argo rollouts`` sends).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import kubernetes
import pytest
import yaml
from test_gitops_fixtures import crd, crd_errors, pruned

from idp_tui.commands.gitops_json import rollout_report_json
from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.demo_cluster.state import load_description
from idp_tui.kube.gitops.access import KubeconfigGitOps
from idp_tui.kube.gitops.actions import AbortRollout, PromoteRollout
from idp_tui.kube.gitops.report import rollout_report
from idp_tui.kube.gitops.rollouts import RolloutInfo
from idp_tui.kube.selection import selector_for
from idp_tui.render.gitops import rollout_rows

NS = "checkout-platform"
NAME = "basket-api"
ROLLOUT = f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/{NAME}"
HASH = "rollouts-pod-template-hash"
WRITES = ("PATCH", "PUT", "POST", "DELETE")
# spec.strategy.blueGreen as a manifest writes it (docs/features/bluegreen.md), plus the new version's image.
BLUE_GREEN = {
    "image": "basket-api:1.5.0",
    "activeService": "basket-api-active",
    "previewService": "basket-api-preview",
    "autoPromotionEnabled": False,
    "scaleDownDelaySeconds": 1,
    "abortScaleDownDelaySeconds": 1,
}
ENTITY = {"metadata": {"name": NAME, "annotations": {"backstage.io/kubernetes-id": NAME}}}


def described(tmp: Path) -> Path:
    """The demo's description with a blue-green Rollout added on demo-us (version 1.4.0 active, 1.5.0 in preview)."""
    description = load_description()
    description["clusters"]["demo-us"].setdefault("rollouts", []).append(
        {
            "id": NAME,
            "namespace": NS,
            "replicas": 2,
            "image": "basket-api:1.4.0",
            "previous": "basket-api:1.3.2",
            "revision": 3,
            "blueGreen": BLUE_GREEN,
        }
    )
    path = tmp / "clusters.yaml"
    path.write_text(yaml.safe_dump(description, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def demo(tmp_path):
    cluster = DemoCluster(description=described(tmp_path), rollout_seconds=4.0)
    cluster.start()
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    source = KubeconfigGitOps(KubeconfigClusters(str(kubeconfig), ["demo-eu", "demo-us"], demo=True))
    yield cluster, source, kubeconfig
    cluster.stop()


def core(kubeconfig: Path) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(kubeconfig), context="demo-us"))


def read(source: KubeconfigGitOps) -> tuple[RolloutInfo, object]:
    """The Rollout as the Deployments view reads it (through the client), with its report (pods)."""
    (eu, us) = source.rollouts(selector_for(ENTITY))
    assert eu.rollouts == () and eu.error is None and us.error is None
    (info,) = us.rollouts
    return info, rollout_report(info, us.pods)


def by_role(info: RolloutInfo) -> dict[str, object]:
    return {role: rs for rs in info.replica_sets for role in rs.roles}


def selectors(kubeconfig: Path) -> dict[str, str]:
    v1 = core(kubeconfig)
    return {
        name: v1.read_namespaced_service(name, NS).spec.selector[HASH]
        for name in ("basket-api-active", "basket-api-preview")
    }


def until(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rendered(report) -> str:
    return "\n".join(row.text.plain for row in rollout_rows("demo-us", report))


def test_paused_before_promotion_with_the_active_service_on_stable_and_the_preview_on_the_new_version(demo):
    cluster, source, kubeconfig = demo
    info, _ = read(source)
    assert (info.strategy, info.phase, info.pause_reasons, info.paused) == (
        "BlueGreen",
        "Paused",
        ("BlueGreenPause",),
        True,
    )
    roles = by_role(info)
    active, preview = roles["active"], roles["preview"]
    assert roles["stable"] is active and active.hash == info.stable_hash and preview.hash == info.current_hash
    assert active.images == ("ghcr.io/acme/basket-api:1.4.0",) and preview.images == ("ghcr.io/acme/basket-api:1.5.0",)
    assert (len(active.pods), len(preview.pods), active.status, preview.status) == (2, 2, "Healthy", "Healthy")
    green = info.blue_green
    assert (green.active_service, green.preview_service, green.auto_promotion) == (
        "basket-api-active",
        "basket-api-preview",
        False,
    )
    assert (green.active_selector, green.preview_selector) == (active.hash, preview.hash)
    # The Services, read through the client, select what status.blueGreen says (the controller reads them back).
    assert selectors(kubeconfig) == {"basket-api-active": active.hash, "basket-api-preview": preview.hash}
    service = core(kubeconfig).read_namespaced_service("basket-api-active", NS)
    assert service.metadata.annotations["argo-rollouts.argoproj.io/managed-by-rollouts"] == NAME
    pods = core(kubeconfig).list_namespaced_pod(NS, label_selector=f"{HASH}={preview.hash}").items
    assert sorted(pod.metadata.name for pod in pods) == sorted(preview.pods)
    # Availability counts the active ReplicaSet's pods (syncRolloutStatusBlueGreen); every pod counts as a replica.
    assert (info.available, info.current, info.updated, info.desired) == (2, 4, 2, 2)
    # What is stored is what Argo's CRD accepts, with nothing the API server would prune.
    rollout = source.current("demo-us", "rollouts", NS, NAME)
    assert crd_errors(rollout) == [] and pruned(rollout, crd("Rollout")["openAPIV3Schema"]) == []
    assert rollout["status"]["controllerPause"] is True and "currentStepHash" not in rollout["status"]


def test_promote_switches_the_active_service_to_the_preview_replicaset_which_becomes_stable(demo):
    cluster, source, kubeconfig = demo
    before, _ = read(source)
    old, new = before.stable_hash, before.current_hash
    source.apply(PromoteRollout("demo-us", NS, NAME))
    # promote.go for a paused blue-green Rollout: the pause conditions cleared through the status subresource.
    assert [(r["method"], r["path"], r["body"]) for r in cluster.requests if r["method"] in WRITES] == [
        ("PATCH", f"{ROLLOUT}/status", '{"status":{"pauseConditions":null}}')
    ]
    after, report = read(source)
    assert selectors(kubeconfig) == {"basket-api-active": new, "basket-api-preview": new}
    assert (after.blue_green.active_selector, after.stable_hash, after.phase, after.paused) == (
        new,
        new,
        "Healthy",
        False,
    )
    assert by_role(after)["active"].hash == new and by_role(after)["active"].roles == ("stable", "active")
    events = core(kubeconfig).list_namespaced_event(NS, field_selector=f"involvedObject.name={NAME}").items
    messages = [event.message for event in events]
    assert f"Switched selector for service 'basket-api-active' from '{old}' to '{new}'" in messages
    assert f"Rollout completed update to revision 3 ({new}): Completed blue-green update" in messages
    # The previous active ReplicaSet waits scaleDownDelaySeconds (1 s here), then goes to zero.
    old_set = f"{NAME}-{old}"
    annotations = kubernetes.client.AppsV1Api(core(kubeconfig).api_client).read_namespaced_replica_set(old_set, NS)
    assert "scale-down-deadline" in annotations.metadata.annotations
    until(lambda: not core(kubeconfig).list_namespaced_pod(NS, label_selector=f"{HASH}={old}").items, "scale-down")
    (active_row,) = [line for line in rendered(report).splitlines() if line.strip().startswith("stable,active")]
    assert f"{NAME}-{new}  2/2  svc basket-api-active  ghcr.io/acme/basket-api:1.5.0" in active_row


def test_abort_keeps_the_active_service_on_the_stable_replicaset_and_scales_the_preview_down(demo):
    cluster, source, kubeconfig = demo
    before, _ = read(source)
    stable, new = before.stable_hash, before.current_hash
    source.apply(AbortRollout("demo-us", NS, NAME))
    assert [(r["method"], r["path"], r["body"]) for r in cluster.requests if r["method"] in WRITES] == [
        ("PATCH", f"{ROLLOUT}/status", '{"status":{"abort":true}}')
    ]
    info, report = read(source)
    assert (info.aborted, info.phase, info.message) == (
        True,
        "Degraded",
        "RolloutAborted: Rollout aborted update to revision 3",
    )
    assert info.pause_reasons == () and info.stable_hash == stable
    assert info.blue_green.active_selector == stable and info.blue_green.preview_selector == new
    assert selectors(kubeconfig) == {"basket-api-active": stable, "basket-api-preview": new}
    assert [p.reason for p in info.problems] == ["RolloutAborted"]
    assert "aborted" in rendered(report)
    # abortScaleDownDelaySeconds (1 s here) later the aborted version has no pods; the active one keeps its two.
    until(lambda: not core(kubeconfig).list_namespaced_pod(NS, label_selector=f"{HASH}={new}").items, "scale-down")
    assert len(core(kubeconfig).list_namespaced_pod(NS, label_selector=f"{HASH}={stable}").items) == 2
    assert selectors(kubeconfig)["basket-api-active"] == stable


def test_deployments_json_carries_blue_green(demo):
    _, source, _ = demo
    info, report = read(source)
    document = json.loads(json.dumps(rollout_report_json(report)))
    assert document["strategy"] == "BlueGreen" and document["canary"] is None
    assert document["blueGreen"] == {
        "activeService": "basket-api-active",
        "previewService": "basket-api-preview",
        "activeSelector": info.stable_hash,
        "previewSelector": info.current_hash,
        "autoPromotion": False,
        "paused": True,
        "pauseReasons": ["BlueGreenPause"],
    }
    assert document["rollout"] == {
        "status": "progressing",
        "message": "Paused (BlueGreenPause)",
        "revision": 3,
        "paused": True,
    }
    roles = {tuple(rs["roles"]): rs for rs in document["replicaSets"] if rs["roles"]}
    assert roles[("stable", "active")]["hash"] == info.stable_hash and roles[("preview",)]["hash"] == info.current_hash
    assert len(document["pods"]) == 4


def test_the_rollout_rows_show_active_and_preview_with_their_services(demo):
    _, source, _ = demo
    info, report = read(source)
    text = rendered(report)
    assert f"Rollout {NS}/{NAME}  2 of 2 available, 2 updated  rev 3" in text
    assert "Paused · blue-green · manual promotion · paused: BlueGreenPause" in text
    lines = text.splitlines()
    (active,) = [line for line in lines if line.strip().startswith("stable,active")]
    (preview,) = [line for line in lines if line.strip().startswith("preview")]
    assert f"{NAME}-{info.stable_hash}  2/2  svc basket-api-active  ghcr.io/acme/basket-api:1.4.0" in active
    assert f"{NAME}-{info.current_hash}  2/2  svc basket-api-preview  ghcr.io/acme/basket-api:1.5.0" in preview


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_lists_the_services_with_their_selectors(demo):
    """The Services are served like the API server's: kubectl's own Table printing reads them."""
    _, source, kubeconfig = demo
    info, _ = read(source)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(kubeconfig.parent), "KUBECONFIG": str(kubeconfig)}
    result = subprocess.run(
        ["kubectl", "--context", "demo-us", "-n", NS, "get", "svc", "-o", "wide"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    cells = {row.split()[0]: row.split() for row in rows}
    assert cells["basket-api-active"][1] == "ClusterIP" and cells["basket-api-active"][4] == "80/TCP"
    assert cells["basket-api-active"][6].endswith(f"{HASH}={info.stable_hash}")
    assert cells["basket-api-preview"][6].endswith(f"{HASH}={info.current_hash}")

"""The demo cluster checked by a client no one here wrote: the real kubectl, over HTTPS, with the demo's kubeconfig.

The demo cluster stands in for a kube-apiserver, so it is checked by an independent client: kubectl verifies its
certificate, reads its discovery documents, asks for server-side printing (Tables) and drives rollouts, scaling,
logs and watches the way a person would. The assertions are on what that person reads: column headers and values.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.gitops.argocd import parse_application
from idp_tui.kube.gitops.rollouts import rollout_info
from idp_tui.kube.problems import pod_summary

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed (Debian: apt-get install kubernetes-client, as .ci/run does)"
)
NS = "checkout-platform"
RESTARTS_AGO = re.compile(r"47 \(\d+(s|m\d*s?) ago\)")


def start(folder: Path, rollout_seconds: float) -> tuple[DemoCluster, Path]:
    cluster = DemoCluster(rollout_seconds=rollout_seconds, certificate_dir=folder / "certs")
    cluster.start()
    return cluster, cluster.write_kubeconfig(folder / "kubeconfig")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One demo cluster for the tests that only read (its rollout finishes in about three seconds)."""
    folder = tmp_path_factory.mktemp("kubectl")
    cluster, kubeconfig = start(folder, rollout_seconds=3)
    yield cluster, kubeconfig
    cluster.stop()


@pytest.fixture
def own(tmp_path):
    """A demo cluster of its own, for a test that changes it."""
    cluster, kubeconfig = start(tmp_path, rollout_seconds=2)
    yield cluster, kubeconfig
    cluster.stop()


def _env(kubeconfig: Path) -> dict[str, str]:
    # kubectl keeps a discovery cache under $HOME/.kube: a per-cluster folder keeps runs apart.
    return {"PATH": os.environ["PATH"], "HOME": str(kubeconfig.parent), "KUBECONFIG": str(kubeconfig)}


def kubectl(cluster: tuple[DemoCluster, Path], *args: str, check: bool = True, timeout: float = 30) -> str:
    _, kubeconfig = cluster
    result = subprocess.run(
        [KUBECTL, "--request-timeout=10s", *args],
        env=_env(kubeconfig),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout if check else result.stdout + result.stderr


def table(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """kubectl's human-readable table: headers and rows by header (cells may hold single spaces: "47 (1m ago)")."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0]
    starts = [match.start() for match in re.finditer(r"\S+(?: \S+)*", header)]  # names may hold one space
    names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows.append(dict(zip(names, cells, strict=True)))
    return names, rows


def named(rows: list[dict[str, str]], prefix: str) -> list[dict[str, str]]:
    return [row for row in rows if row["NAME"].startswith(prefix)]


# -- get: the API server's columns ---------------------------------------------------------------------------------


def test_get_pods_has_a_real_api_servers_columns_and_values(shared):
    headers, rows = table(kubectl(shared, "get", "pods", "-n", NS))
    assert headers == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    (crash,) = [row for row in named(rows, "settlement-worker-") if row["READY"] == "0/1"]
    assert crash["STATUS"] == "CrashLoopBackOff" and RESTARTS_AGO.fullmatch(crash["RESTARTS"]), crash
    assert any(row["STATUS"] == "ImagePullBackOff" for row in named(rows, "promo-engine-"))
    assert {row["READY"] for row in named(rows, "payment-processor-") if row["STATUS"] == "Running"} == {"2/2"}
    assert all(re.fullmatch(r"\d+(s|m|h|d)(\d+(s|m|h))?", row["AGE"]) for row in rows)

    headers, rows = table(kubectl(shared, "get", "pods", "-n", NS, "-o", "wide"))
    assert headers == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    pods = {pod["metadata"]["name"]: pod for pod in shared[0].pods("demo-eu", NS)}
    for row in rows:
        pod = pods[row["NAME"]]
        assert (row["IP"], row["NODE"]) == (pod["status"]["podIP"], pod["spec"]["nodeName"])
        assert (row["NOMINATED NODE"], row["READINESS GATES"]) == ("<none>", "<none>")

    headers, rows = table(kubectl(shared, "get", "pods", "-A"))
    assert headers[:2] == ["NAMESPACE", "NAME"]  # from each row's PartialObjectMetadata
    assert {row["NAMESPACE"] for row in rows} >= {NS, "fraud-detection", "data-insights"}
    us = table(kubectl(shared, "--context", "demo-us", "get", "pods", "-A"))[1]
    assert any(row["STATUS"] == "CreateContainerConfigError" for row in named(us, "notification-service-"))
    # OOMKilled: running again, with the restarts and when the last one was.
    risk = named(table(kubectl(shared, "get", "pods", "-n", "fraud-detection"))[1], "risk-rules-engine-")
    assert any(row["STATUS"] == "Running" and row["RESTARTS"].startswith("3 (") for row in risk)


def test_kubectls_status_and_ready_agree_with_idp_tuis_own(shared):
    """Two independent ports of kubectl's printPod: the demo's (what kubectl prints) and idp-tui's (what it shows)."""
    kubectl(shared, "rollout", "status", "deployment/payment-processor", "-n", NS, "--timeout=30s")

    def ours() -> dict[str, tuple[str, str]]:
        summaries = [pod_summary(pod) for context in ("demo-eu",) for pod in shared[0].pods(context)]
        return {summary.name: (summary.ready, summary.status) for summary in summaries}

    before = ours()
    rows = table(kubectl(shared, "get", "pods", "-A"))[1]
    after = ours()
    stable = {name: value for name, value in before.items() if after.get(name) == value}
    theirs = {row["NAME"]: (row["READY"], row["STATUS"]) for row in rows if row["NAME"] in stable}
    assert theirs == stable
    assert {status for _, status in stable.values()} >= {"Running", "CrashLoopBackOff", "ImagePullBackOff"}


def test_get_deployments_with_and_without_wide(shared):
    headers, rows = table(kubectl(shared, "get", "deployments", "-n", "merchant-portal"))
    assert headers == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    bff = named(rows, "merchant-bff")[0]
    assert (bff["READY"], bff["UP-TO-DATE"], bff["AVAILABLE"]) == ("2/3", "3", "2")  # one pod fails readiness

    headers, rows = table(kubectl(shared, "get", "deploy", "-n", NS, "-o", "wide"))
    assert headers == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    payment = named(rows, "payment-processor")[0]
    assert payment["CONTAINERS"] == "payment-processor,envoy"
    assert payment["IMAGES"].endswith(",envoyproxy/envoy:v1.31.2")
    assert (
        payment["SELECTOR"] == "app.kubernetes.io/instance=payment-processor,app.kubernetes.io/name=payment-processor"
    )


def test_get_statefulsets_daemonsets_and_replicasets(shared):
    headers, rows = table(kubectl(shared, "get", "sts", "-n", "data-insights"))
    assert headers == ["NAME", "READY", "AGE"] and rows[0]["READY"] == "3/3"
    headers, rows = table(kubectl(shared, "get", "sts", "-n", "data-insights", "-o", "wide"))
    assert headers == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]
    assert rows[0]["IMAGES"] == "ghcr.io/acme/analytics-pipeline:9.4.0"

    headers, rows = table(kubectl(shared, "get", "ds", "-n", "data-insights"))
    assert headers == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"]
    assert [rows[0][h] for h in headers[1:7]] == ["3", "3", "3", "3", "3", "<none>"]
    headers = table(kubectl(shared, "get", "ds", "-n", "data-insights", "-o", "wide"))[0]
    assert headers[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]

    headers, rows = table(kubectl(shared, "get", "rs", "-n", NS))
    assert headers == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    cart = named(rows, "cart-service-")
    assert len(cart) == 1 and [cart[0][h] for h in ("DESIRED", "CURRENT", "READY")] == ["6", "6", "6"]
    headers, rows = table(kubectl(shared, "get", "rs", "-n", NS, "-o", "wide"))
    assert headers[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert "pod-template-hash=" in named(rows, "cart-service-")[0]["SELECTOR"]


def test_get_events_hpa_and_namespaces(shared):
    headers, rows = table(kubectl(shared, "get", "events", "-n", NS))
    assert headers == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    backoff = [row for row in rows if row["REASON"] == "BackOff" and row["OBJECT"].startswith("pod/settlement-worker-")]
    assert backoff and backoff[0]["TYPE"] == "Warning"
    assert backoff[0]["MESSAGE"].startswith("Back-off restarting failed container settlement-worker")
    headers, rows = table(kubectl(shared, "get", "events", "-n", NS, "-o", "wide"))
    assert headers == [
        "LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME",
    ]  # fmt: skip
    (wide,) = [row for row in rows if row["REASON"] == "BackOff" and row["OBJECT"].startswith("pod/settlement")]
    assert wide["COUNT"] == "212" and wide["SUBOBJECT"] == "spec.containers{settlement-worker}"
    assert wide["SOURCE"].startswith("kubelet, ip-10-20-") and wide["FIRST SEEN"] == "4h"

    headers, rows = table(kubectl(shared, "get", "hpa", "-A"))
    assert headers == ["NAMESPACE", "NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    (cart,) = rows
    assert [cart[h] for h in headers[2:7]] == ["Deployment/cart-service", "cpu: 94%/70%", "2", "6", "6"]

    headers, rows = table(kubectl(shared, "get", "namespaces"))
    assert headers == ["NAME", "STATUS", "AGE"]
    assert {row["STATUS"] for row in rows} == {"Active"} and NS in {row["NAME"] for row in rows}


def test_get_one_object_and_several_kinds(shared):
    pod = next(p["metadata"]["name"] for p in shared[0].pods("demo-eu", NS) if p["metadata"]["name"].startswith("cart"))
    headers, rows = table(kubectl(shared, "get", "pod", pod, "-n", NS))
    assert headers == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and rows[0]["NAME"] == pod
    text = kubectl(shared, "get", "deploy,sts", "-n", "data-insights")
    assert "statefulset.apps/analytics-pipeline" in text and "READY" in text


# -- Argo CD and Argo Rollouts: custom resources with their CRDs' printer columns ------------------------------------


def test_get_applications_shows_argo_cds_sync_and_health_columns(shared):
    headers, rows = table(kubectl(shared, "get", "applications", "-n", "argocd"))
    # application-crd.yaml's additionalPrinterColumns (no Age column: the CRD declares columns, so none is added).
    assert headers == ["NAME", "SYNC STATUS", "HEALTH STATUS"]
    assert {row["NAME"]: (row["SYNC STATUS"], row["HEALTH STATUS"]) for row in rows} == {
        "checkout-web": ("Synced", "Suspended"),
        "payment-processor": ("Synced", "Healthy"),
        "promo-engine": ("OutOfSync", "Degraded"),
        "settlement-worker": ("Synced", "Degraded"),
    }
    headers, rows = table(kubectl(shared, "get", "app", "-n", "argocd", "-o", "wide"))  # the short name
    assert headers == ["NAME", "SYNC STATUS", "HEALTH STATUS", "REVISION", "PROJECT"]
    assert all(re.fullmatch(r"[0-9a-f]{40}", row["REVISION"]) for row in rows)
    assert {row["NAME"]: row["PROJECT"] for row in rows}["promo-engine"] == "growth"
    # demo-us runs no Argo CD: kubectl says so as it does for any cluster without the CRD.
    out = kubectl(shared, "--context", "demo-us", "get", "applications", "-A", check=False)
    assert 'the server doesn\'t have a resource type "applications"' in out


def test_get_rollouts_works_and_shows_the_paused_canary(shared):
    assert kubectl(shared, "get", "rollouts", "-A") == ""  # none on demo-eu ("No resources found" on stderr)
    headers, rows = table(kubectl(shared, "--context", "demo-us", "get", "rollouts", "-A"))
    assert headers == ["NAMESPACE", "NAME", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE", "AGE"]
    (web,) = rows
    assert [web[h] for h in headers[:6]] == [NS, "checkout-web", "4", "4", "1", "4"]
    rollout = json.loads(kubectl(shared, "--context", "demo-us", "get", "ro", "checkout-web", "-n", NS, "-o", "json"))
    info = rollout_info(rollout)
    assert (info.phase, info.canary.step, info.canary.steps, info.canary.set_weight) == ("Paused", 2, 4, 25)


def test_get_app_as_json_parses_and_shows_the_drifted_configmap(shared):
    app = json.loads(kubectl(shared, "get", "app", "promo-engine", "-n", "argocd", "-o", "json"))
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    parsed = parse_application(app, "demo-eu")
    assert parsed.sync_status == "OutOfSync"
    assert [r.ref for r in parsed.resources if r.status == "OutOfSync"] == [
        "ConfigMap/checkout-platform/promo-engine-flags"
    ]
    headers, rows = table(kubectl(shared, "get", "configmaps", "-n", NS))
    assert (
        headers == ["NAME", "DATA", "AGE"]
        and {"promo-engine-flags": "3"}.items() <= {r["NAME"]: r["DATA"] for r in rows}.items()
    )
    value = kubectl(shared, "get", "cm", "promo-engine-flags", "-n", NS, "-o", "jsonpath={.data.max-discount-percent}")
    assert value == "90"  # changed by hand; git says 20


def test_kubectl_syncs_as_argo_cds_docs_say_and_aborts_through_the_status_subresource(own):
    # argo-cd docs/user-guide/sync-kubectl.md: patch the Application with an "operation" (--type merge).
    operation = {"operation": {"initiatedBy": {"username": "kubectl-user"}, "sync": {"syncStrategy": {"hook": {}}}}}
    patched = kubectl(
        own, "patch", "-n", "argocd", "app", "promo-engine", "--type", "merge", "-p", json.dumps(operation)
    )
    assert patched.strip() == "application.argoproj.io/promo-engine patched"
    state = "jsonpath={.status.operationState.phase} {.status.sync.status} {.status.history[-1:].initiatedBy.username}"
    deadline = time.monotonic() + 20
    while (
        answer := kubectl(own, "get", "app", "promo-engine", "-n", "argocd", "-o", state)
    ) != "Succeeded Synced kubectl-user":
        assert time.monotonic() < deadline, answer
        time.sleep(0.2)
    assert (
        kubectl(own, "get", "cm", "promo-engine-flags", "-n", NS, "-o", "jsonpath={.data.max-discount-percent}") == "20"
    )
    # What kubectl argo rollouts abort sends (abort.go), sent by kubectl itself.
    us = ("--context", "demo-us")
    aborted = kubectl(
        own,
        *us,
        "patch",
        "rollout",
        "checkout-web",
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"abort":true}}',
    )
    assert aborted.strip() == "rollout.argoproj.io/checkout-web patched"
    headers, rows = table(kubectl(own, *us, "get", "ro", "-n", NS))
    assert rows[0]["UP-TO-DATE"] == ""  # no pod runs the canary: the zero is omitted, as the controller writes it
    info = rollout_info(json.loads(kubectl(own, *us, "get", "ro", "checkout-web", "-n", NS, "-o", "json")))
    assert info.aborted and info.phase == "Degraded" and info.canary.set_weight == 0


# -- describe, logs --------------------------------------------------------------------------------------------------


def test_describe_a_crash_looping_pod_and_a_deployment(shared):
    pod = next(
        p for p in shared[0].pods("demo-eu", NS) if p["status"]["containerStatuses"][0].get("restartCount") == 47
    )
    text = kubectl(shared, "describe", "pod", pod["metadata"]["name"], "-n", NS)
    for expected in (
        "Reason:       CrashLoopBackOff",
        "Exit Code:    1",
        "Restart Count:  47",
        "Controlled By:  Replica",
    ):
        assert expected in text, expected
    assert re.search(r"Warning\s+BackOff\s+.*\(x212 over 4h\)\s+kubelet\s+Back-off restarting failed container", text)

    text = kubectl(shared, "describe", "deployment", "merchant-bff", "-n", "merchant-portal")
    assert re.search(r"Replicas:\s+3 desired \| 3 updated \| 3 total \| 2 available \| 1 unavailable", text)
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in text
    assert re.search(r"NewReplicaSet:\s+merchant-bff-\w+ \(3/3 replicas created\)", text)


def test_logs_previous_and_follow(shared):
    pods = shared[0].pods("demo-eu", NS)
    crash = next(p for p in pods if p["status"]["containerStatuses"][0].get("restartCount") == 47)
    previous = kubectl(shared, "logs", crash["metadata"]["name"], "-n", NS, "--previous")
    assert "startup checks failed, exiting" in previous.splitlines()[-1]

    cart = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("cart-service-"))
    _, kubeconfig = shared
    follow = subprocess.Popen(
        [KUBECTL, "--request-timeout=30s", "logs", "-f", cart, "-n", NS, "--tail=1", "--timestamps"],
        env=_env(kubeconfig),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    follow.terminate()
    out, err = follow.communicate(timeout=10)
    stamps = [line.split(" ", 1)[0] for line in out.splitlines()]
    assert len(stamps) >= 5, (out, err)  # new lines kept coming for three seconds (a line every ~0.1 s)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


# -- changes: rollout, scale, watch ----------------------------------------------------------------------------------


def test_rollout_status_restart_history_and_undo(own):
    status = kubectl(own, "rollout", "status", "deployment/payment-processor", "-n", NS, "--timeout=30s")
    assert 'Waiting for deployment "payment-processor" rollout to finish' in status
    assert status.splitlines()[-1] == 'deployment "payment-processor" successfully rolled out'

    original = named(table(kubectl(own, "get", "rs", "-n", NS))[1], "checkout-web-")
    assert len(original) == 1
    assert kubectl(own, "rollout", "restart", "deployment/checkout-web", "-n", NS).strip() == (
        "deployment.apps/checkout-web restarted"
    )
    status = kubectl(own, "rollout", "status", "deployment/checkout-web", "-n", NS, "--timeout=30s")
    assert status.splitlines()[-1] == 'deployment "checkout-web" successfully rolled out'
    history = kubectl(own, "rollout", "history", "deployment/checkout-web", "-n", NS)
    assert re.findall(r"^(\d+)\s+<none>$", history, re.M) == ["1", "2"]

    undone = kubectl(own, "rollout", "undo", "deployment/checkout-web", "-n", NS)
    assert undone.strip() == "deployment.apps/checkout-web rolled back"
    kubectl(own, "rollout", "status", "deployment/checkout-web", "-n", NS, "--timeout=30s")
    # As on a real cluster: revision 1's ReplicaSet serves again, now as revision 3.
    history = kubectl(own, "rollout", "history", "deployment/checkout-web", "-n", NS)
    assert re.findall(r"^(\d+)\s+<none>$", history, re.M) == ["2", "3"]
    replicasets = {
        row["NAME"]: row["DESIRED"] for row in named(table(kubectl(own, "get", "rs", "-n", NS))[1], "checkout-web-")
    }
    assert len(replicasets) == 2 and replicasets[original[0]["NAME"]] == "2"


def test_scale_and_wait_for_the_new_pods(own):
    scaled = kubectl(own, "scale", "deployment/currency-converter", "--replicas=3", "-n", NS)
    assert scaled.strip() == "deployment.apps/currency-converter scaled"
    kubectl(own, "rollout", "status", "deployment/currency-converter", "-n", NS, "--timeout=30s")
    row = table(kubectl(own, "get", "deployment", "currency-converter", "-n", NS))[1][0]
    assert (row["READY"], row["UP-TO-DATE"], row["AVAILABLE"]) == ("3/3", "3", "3")
    running = [r for r in named(table(kubectl(own, "get", "pods", "-n", NS))[1], "currency-converter-")]
    assert len(running) == 3 and {r["STATUS"] for r in running} == {"Running"}


def test_get_watch_shows_a_change(own):
    cluster, kubeconfig = own
    watch = subprocess.Popen(
        [KUBECTL, "--request-timeout=60s", "get", "pods", "-n", NS, "-l", "app.kubernetes.io/name=order-service", "-w"],
        env=_env(kubeconfig),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in watch.stdout], daemon=True).start()
    seen: list[str] = []

    def until(predicate, what: str) -> None:
        deadline = time.monotonic() + 15
        while not predicate():
            try:
                seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"kubectl get -w did not show {what}: {seen} {watch.stderr.read() if watch.poll() else ''}")

    try:
        until(lambda: len(seen) >= 3, "the two pods")
        assert seen[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        victim = sorted(line.split()[0] for line in seen[1:3])[0]
        cluster.delete_pod("demo-eu", NS, victim)
        until(lambda: any(line.startswith(victim) and "Terminating" in line for line in seen), "Terminating")
        until(lambda: any(" ContainerCreating " in line for line in seen), "the replacement pod")
        assert sum(1 for line in seen if line.split()[:1] == ["NAME"]) == 1  # the header once, as on a real cluster
    finally:
        watch.kill()
        watch.wait()


# -- TLS and the command that serves the demo ----------------------------------------------------------------------


def test_kubectl_verifies_the_demo_certificate(shared, tmp_path):
    config = yaml.safe_load(shared[1].read_text())
    authorities = {Path(c["cluster"]["certificate-authority"]) for c in config["clusters"]}
    assert [path.read_bytes() for path in authorities] == [shared[0].certificate_pem]
    assert b"PRIVATE KEY" not in shared[0].certificate_pem
    assert "insecure-skip-tls-verify" not in shared[1].read_text()
    for entry in config["clusters"]:  # the same server, its certificate not trusted: kubectl refuses it
        del entry["cluster"]["certificate-authority"]
    untrusted = tmp_path / "kubeconfig"
    untrusted.write_text(yaml.safe_dump(config))
    out = kubectl((shared[0], untrusted), "get", "pods", check=False)
    assert "certificate signed by unknown authority" in out


def test_idp_tui_demo_cluster_serves_until_ctrl_c(tmp_path):
    kubeconfig = tmp_path / "demo" / "kubeconfig"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "idp_tui", "demo", "cluster", "--kubeconfig", str(kubeconfig)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = server.stdout.readline()
        assert first.startswith("export KUBECONFIG="), first + server.stderr.read()
        assert first.strip() == f"export KUBECONFIG={kubeconfig}"
        headers, rows = table(kubectl((None, kubeconfig), "get", "pods", "-A"))
        assert headers == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"] and len(rows) > 20
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=15)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert "Traceback" not in err and "demo cluster stopped" in err
    assert len(err.splitlines()) == 3, err  # where it serves, what to do next, that it stopped

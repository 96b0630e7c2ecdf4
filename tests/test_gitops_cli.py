"""``idp-tui gitops sync|refresh|promote|abort REF``: what it prints, asks and sends, and its exit status.

Run as a person runs it: in-process through ``main`` on the demo, in a child process (stdin not a terminal), in a
pseudo-terminal (the question answered), and against a demo cluster reached through an ordinary kubeconfig.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from idp_tui.cli import build_parser, main
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.session import Session

WRITES = ("PATCH", "PUT", "POST", "DELETE")
REVISION = "rollout.argoproj.io/revision"


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    status = main(list(argv))
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else {}


def test_sync_with_yes_prints_the_argocd_command_and_the_running_operation(capsys):
    status, outcome = run_json(capsys, "gitops", "sync", "promo-engine", "--yes", "--json")
    assert status == 0
    assert outcome["command"] == "argocd app sync promo-engine --app-namespace argocd"
    assert (outcome["cluster"], outcome["namespace"], outcome["name"], outcome["demo"]) == (
        "demo-eu",
        "argocd",
        "promo-engine",
        True,
    )
    assert outcome["kubectl"][0].startswith(
        "kubectl --context demo-eu -n argocd patch application/promo-engine --type=merge -p "
    )
    assert outcome["result"]["operation"]["phase"] == "Running"
    assert outcome["result"]["sync"]["status"] == "OutOfSync"  # not yet: Argo CD is running the sync


def test_human_output_of_each_action(capsys):
    assert main(["gitops", "refresh", "promo-engine", "--hard", "--yes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "demo-eu/argocd/promo-engine · demo cluster: refresh requested; now OutOfSync, Degraded",
        "  argocd app get promo-engine --app-namespace argocd --hard-refresh",
    ]
    assert main(["gitops", "promote", "checkout-web", "--yes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("demo-us/checkout-platform/checkout-web · demo cluster: promoted; now Progressing")
    assert out[0].endswith("step 3/4 · weight 75%")
    assert out[1] == "  kubectl argo rollouts --context demo-us -n checkout-platform promote checkout-web"
    assert main(["gitops", "abort", "checkout-web", "--yes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(
        "aborted; now Degraded: RolloutAborted: Rollout aborted update to revision 7 · step 0/4 · weight 0%"
    )


def test_read_only_exits_2_with_one_line_and_sends_nothing(capsys):
    args = build_parser().parse_args(["gitops", "sync", "promo-engine", "--yes"])
    with Session.for_catalog(read_only=True) as session:
        assert args.handler(args, session) == 2
        assert not [r for r in session.demo_cluster.requests if r["method"] in WRITES]
        assert session.demo_cluster.requests  # it read, to name what it would have run
    err = capsys.readouterr().err
    assert err == "idp-tui: read-only mode is on: not running `argocd app sync promo-engine --app-namespace argocd`\n"
    assert main(["--read-only", "gitops", "promote", "checkout-web", "--yes"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_without_a_terminal_and_without_yes_nothing_is_sent(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "idp_tui", "gitops", "abort", "checkout-web"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "idp-tui: stdin is not a terminal, so nothing can be confirmed: add --yes to run "
        "`kubectl argo rollouts --context demo-us -n checkout-platform abort checkout-web`\n"
    )
    assert result.stdout == ""


def _in_a_terminal(argv: list[str], answer: bytes, tmp_path: Path) -> tuple[int, str]:
    """Run idp-tui in a pseudo-terminal, answer its question, return the exit status and what it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of its own
        os.environ.update(XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"))
        os.execv(sys.executable, [sys.executable, "-m", "idp_tui", *argv])
    seen, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Proceed? [y/N]" in seen:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace").replace("\r\n", "\n")


def test_on_a_terminal_it_asks_first_showing_the_command(tmp_path):
    status, text = _in_a_terminal(["gitops", "sync", "promo-engine"], b"y\n", tmp_path)
    assert status == 0, text
    assert (
        "Sync Argo CD application promo-engine in argocd on demo-eu to its target revision. (on the demo cluster)"
        in text
    )
    assert "\n  argocd app sync promo-engine --app-namespace argocd\nProceed? [y/N] " in text
    assert "demo-eu/argocd/promo-engine · demo cluster: sync operation running; now OutOfSync, Degraded" in text

    status, text = _in_a_terminal(["gitops", "promote", "checkout-web"], b"n\n", tmp_path)
    assert status == 1
    assert "kubectl argo rollouts --context demo-us -n checkout-platform promote checkout-web" in text
    assert "idp-tui: cancelled: nothing was sent" in text


@pytest.fixture
def kubeconfig_demo(tmp_path, monkeypatch):
    """A demo cluster reached as any cluster is: through $KUBECONFIG, with a catalog of one's own."""
    demo = DemoCluster(rollout_seconds=600, sync_seconds=30, certificate_dir=tmp_path / "certs")
    demo.start()
    monkeypatch.setenv("KUBECONFIG", str(demo.write_kubeconfig(tmp_path / "kubeconfig")))
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: payments-backend\n  annotations:\n    argocd/project-name: payments\n"
        "spec: {type: service, lifecycle: production, owner: team-payments}\n"
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: bare\nspec: {type: service, lifecycle: production, owner: team-payments}\n"
    )
    yield demo, str(catalog)
    demo.stop()


def test_several_applications_need_app_to_choose_one(kubeconfig_demo, capsys):
    demo, catalog = kubeconfig_demo
    assert main(["--catalog", catalog, "gitops", "sync", "payments-backend", "--yes"]) == 2
    assert capsys.readouterr().err == (
        "idp-tui: component:default/payments-backend has 2 Argo CD applications: settlement-worker "
        "(demo-eu/argocd), payment-processor (demo-eu/argocd); choose one with --app NAME\n"  # problems first
    )
    assert not [r for r in demo.requests if r["method"] in WRITES]

    status, outcome = run_json(
        capsys,
        "--catalog",
        catalog,
        "gitops",
        "sync",
        "payments-backend",
        "--app",
        "settlement-worker",
        "--yes",
        "--json",
    )
    assert status == 0 and outcome["demo"] is False  # a kubeconfig's cluster, as far as idp-tui knows
    (patch,) = [r for r in demo.requests if r["method"] in WRITES]
    assert patch["path"] == "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/settlement-worker"

    # A sync is running (30 s here): Argo CD's API server would refuse another; so does this, in one line.
    assert (
        main(["--catalog", catalog, "gitops", "sync", "payments-backend", "--app", "settlement-worker", "--yes"]) == 1
    )
    assert capsys.readouterr().err == (
        "idp-tui: `argocd app sync settlement-worker --app-namespace argocd` refused: "
        "another operation is already in progress\n"
    )


def test_nothing_to_act_on_is_one_line_and_exit_1(kubeconfig_demo, capsys):
    _, catalog = kubeconfig_demo
    assert main(["--catalog", catalog, "gitops", "refresh", "bare", "--yes"]) == 1
    assert "has no argocd/app-name, argocd/app-selector or argocd/project-name annotation" in capsys.readouterr().err
    assert main(["--catalog", catalog, "gitops", "promote", "bare", "--yes"]) == 1
    assert "has no backstage.io/kubernetes-id" in capsys.readouterr().err
    assert main(["--catalog", catalog, "gitops", "sync", "payments-backend", "--app", "nope", "--yes"]) == 1
    assert capsys.readouterr().err == (
        "idp-tui: component:default/payments-backend: no Argo CD application 'nope' found (asked: demo-eu)\n"
    )
    assert main(["--catalog", catalog, "gitops", "sync", "missing", "--yes"]) == 1
    assert capsys.readouterr().err == "idp-tui: no entity 'missing' in the catalog\n"


def test_a_rollout_revision_written_in_non_ascii_digits_is_read_as_absent_not_a_traceback(
    tmp_path, monkeypatch, capsys
):
    """``rollout.argoproj.io/revision: "²"`` on the Rollout and its ReplicaSets ("²".isdigit() is true, int("²")
    raises): ``deployments`` and ``gitops promote`` still answer, with no revision."""
    demo = DemoCluster(rollout_seconds=600, sync_seconds=30, certificate_dir=tmp_path / "certs")
    demo.start()
    try:
        kubeconfig = demo.write_kubeconfig(tmp_path / "kubeconfig", current="demo-us")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout-web\n  annotations:\n"
            "    backstage.io/kubernetes-id: checkout-web\n    backstage.io/kubernetes-namespace: checkout-platform\n"
            "spec: {type: website, lifecycle: production, owner: team-payments}\n"
        )
        state = demo.cluster("demo-us")

        def revisions(value: str | None, plurals: tuple[str, ...]) -> dict[str, str]:
            """Set the revision annotation of the Rollout and/or its ReplicaSets (each its own value when None)."""
            before = {}
            with state.lock:
                for plural in plurals:
                    for obj in state.items(plural, "checkout-platform"):
                        annotations = obj["metadata"].get("annotations") or {}
                        if REVISION in annotations:
                            before[obj["metadata"]["name"]] = annotations[REVISION]
                            changed = json.loads(json.dumps(obj))
                            changed["metadata"]["annotations"][REVISION] = value or original[obj["metadata"]["name"]]
                            state.put(changed)
            return before

        original = revisions("²", ("rollouts", "replicasets"))
        assert main(["--catalog", str(catalog), "deployments", "checkout-web", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        (us,) = out["clusters"]
        rollout = next(w for w in us["workloads"] if w["kind"] == "Rollout")
        assert rollout["rollout"]["revision"] is None and rollout["replicaSets"]
        assert all(rs["revision"] is None for rs in rollout["replicaSets"])
        assert rollout["canary"]["step"] == 2
        assert main(["--catalog", str(catalog), "deployments", "checkout-web"]) == 0
        assert "Rollout checkout-platform/checkout-web" in capsys.readouterr().out

        # The demo's stand-in controller itself reads its ReplicaSets' revisions when it scales them: give those
        # back, keep the Rollout's "²".
        revisions(None, ("replicasets",))
        assert main(["--catalog", str(catalog), "gitops", "promote", "checkout-web", "--yes"]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("demo-us/checkout-platform/checkout-web: promoted; now ")
        assert captured.err == ""
    finally:
        demo.stop()


def test_a_sync_is_initiated_by_the_catalog_users_name(capsys):
    """``--user user:default/jane.doe``: the operation Argo CD records is initiated by ``jane.doe`` (as the TUI's)."""
    assert Session.for_catalog(user="user:default/jane.doe").username == "jane.doe"
    status, outcome = run_json(
        capsys, "--user", "user:default/jane.doe", "gitops", "sync", "promo-engine", "--yes", "--json"
    )
    assert status == 0
    assert outcome["result"]["operation"]["initiatedBy"] == {"username": "jane.doe", "automated": False}

"""A golden path's Jsonnet is judged as the real Jsonnet (Google's library) evaluates it, as Argo CD would: each
``*.jsonnet`` file in a child process with a deadline, memory cap and imports kept inside the run's files.
"""

from __future__ import annotations

import json

import pytest
import test_policy_golden as golden
from test_policy_kustomize import skeleton_template

from idp_tui.golden import jsonnet
from idp_tui.golden.guardrails import check_guardrails

# test_policy_golden's fixtures: the demo policies as guardrails, and a runner they guard.
demo_guardrails, guarded_runner = golden.demo_guardrails, golden.guarded_runner

LIBRARY = """\
{
  deployment(name, tag)::
    local labels = { 'app.kubernetes.io/name': name, 'backstage.io/kubernetes-id': name };
    {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name, labels: labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels: labels },
        spec: { containers: [{
          name: name,
          image: 'ghcr.io/myorg/%s:%s' % [name, tag],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
          resources: { limits: { cpu: '500m', memory: '256Mi' } },
          securityContext: { runAsNonRoot: true },
        }] },
      },
    },
  },
}
"""


def application(tag: str) -> str:
    return f"local lib = import 'lib.libsonnet';\n[lib.deployment('api', '{tag}')]\n"


@pytest.mark.parametrize("dry_run", [True, False])
def test_jsonnet_evaluating_to_a_latest_image_is_denied_and_a_pinned_one_passes(tmp_path, guarded_runner, dry_run):
    latest = skeleton_template(
        tmp_path / "latest", {"k8s/lib.libsonnet": LIBRARY, "k8s/app.jsonnet": application("latest")}
    )
    result = guarded_runner.run(latest, {}, dry_run=dry_run)
    assert result.status == "failed" and result.guardrails.unjudged == ()
    assert {(f.file, f.kind, f.name) for f in result.guardrails.denials} == {
        ("jsonnet k8s/app.jsonnet", "Deployment", "api")
    }
    assert result.error.startswith("Blocked by policy: jsonnet k8s/app.jsonnet:")

    pinned = skeleton_template(
        tmp_path / "pinned", {"k8s/lib.libsonnet": LIBRARY, "k8s/app.jsonnet": application("1.4.2")}
    )
    result = guarded_runner.run(pinned, {}, dry_run=dry_run)
    assert result.status == "completed", result.error
    assert result.guardrails.unjudged == () and result.guardrails.denials == ()


def test_a_grafana_dashboard_in_jsonnet_is_judged_as_the_json_it_is(demo_guardrails):
    dashboard = (
        b"{ title: 'Invoices', panels: [{ type: 'graph', targets: [{ expr: 'rate(http_requests_total[5m])' }] }] }"
    )
    said: list[str] = []
    report = check_guardrails(demo_guardrails, {"dashboards/invoices.jsonnet": dashboard}, said.append)
    assert not report.blocked and report.unjudged == ()
    assert said[0] == "Checking 1 YAML and JSON files against the policies"


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ('import "/etc/passwd"', "couldn't open import \"/etc/passwd\": /etc/passwd: idp-tui's check reads no file"),
        ('importstr "../../../../../../etc/hostname"', "idp-tui's check reads no file outside the folder checked"),
        ("local f(x) = f(x + 1); f(0)", "RUNTIME ERROR: max stack frames exceeded."),
        ('std.extVar("environment")', "RUNTIME ERROR: undefined external variable: environment"),
        ('std.length(std.repeat("x", 1000000000))', "a memory allocation error occurred"),
        ("{ a: ", "STATIC ERROR"),
    ],
)
def test_jsonnet_that_cannot_be_evaluated_here_is_not_judged_and_blocks(demo_guardrails, source, why):
    report = check_guardrails(demo_guardrails, {"k8s/app.jsonnet": source.encode()}, lambda line: None)
    (unjudged,) = report.unjudged
    assert unjudged.startswith("k8s/app.jsonnet:1: not judged: Jsonnet could not evaluate it: ")
    assert why in unjudged and "\n" not in unjudged and "idp-tui-build-" not in unjudged


def test_jsonnet_running_past_its_deadline_is_stopped(monkeypatch):
    monkeypatch.setattr(jsonnet, "EVALUATE_TIMEOUT", 1.0)
    endless = b"local spin(n) = if n < 0 then n else spin(n + 1) tailstrict; spin(0)"
    builds = jsonnet.evaluate_jsonnet([("", {"app.jsonnet": endless})])
    assert builds.unjudged_lines() == [
        "app.jsonnet:1: not judged: Jsonnet took longer than 1 s to evaluate the Jsonnet files"
    ]


def test_validate_judges_what_the_jsonnet_under_a_folder_evaluates_to(tmp_path, monkeypatch, capsys):
    from idp_tui.cli import main
    from idp_tui.resources import demo_catalog_path

    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "lib.libsonnet").write_text(LIBRARY)
    (tmp_path / "k8s" / "app.jsonnet").write_text(application("latest"))
    monkeypatch.chdir(tmp_path)
    status = main(["validate", "--policy", str(demo_catalog_path() / "policies"), "k8s", "--json"])
    out, _ = capsys.readouterr()
    assert status == 1
    assert {(item["file"], item["policy"]) for item in json.loads(out) if item["action"] == "deny"} == {
        ("jsonnet k8s/app.jsonnet", "main.deny_latest_image"),
        ("jsonnet k8s/app.jsonnet", "idp-pinned-images"),
    }

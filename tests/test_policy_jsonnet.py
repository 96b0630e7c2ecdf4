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
            "import refused: missing.libsonnet: no such file beside it, nor in any folder a search path could name",
        ),
        ("local f(x) = f(x + 1); f(0)", "RUNTIME ERROR: max stack frames exceeded."),
        ('std.extVar("environment")', "RUNTIME ERROR: Undefined external variable: environment"),
        ('std.length(std.repeat("x", 1000000000))', "Jsonnet stopped evaluating it: runtime: out of memory"),
        ("{ a: ", "Unexpected end of file"),
        ("function(tag='1.4.2') {image: tag}", "its top-level value is a function: Argo CD calls it"),
        ("{ path: std['this' + 'File'] }", "it evaluates to something else at another place"),
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


def test_an_import_is_read_beside_the_file_else_wherever_argo_cds_search_path_may_find_it_the_same(demo_guardrails):
    # go-jsonnet reads an import beside the file first; else Argo CD's search path: the application's folder (any
    # folder above the file may be it) and its `libs` (lib/, vendor/). Two different files there: refused.
    app = b"local lib = import 'k.libsonnet'; [lib.deployment('api', 'latest')]"
    for folder in ("k8s/deploy", "k8s", "lib", "vendor"):
        files = {"k8s/deploy/app.jsonnet": app, f"{folder}/k.libsonnet": LIBRARY.encode()}
        report = check_guardrails(demo_guardrails, files, lambda line: None)
        assert report.unjudged == () and {f.file for f in report.denials} == {"jsonnet k8s/deploy/app.jsonnet"}, folder
    other = LIBRARY.replace("replicas: 2", "replicas: 3").encode()
    beside = {"k8s/deploy/app.jsonnet": app, "k8s/deploy/k.libsonnet": LIBRARY.encode(), "lib/k.libsonnet": other}
    assert check_guardrails(demo_guardrails, beside, lambda line: None).unjudged == ()
    apart = {"k8s/deploy/app.jsonnet": app, "k8s/k.libsonnet": LIBRARY.encode(), "lib/k.libsonnet": other}
    (unjudged,) = check_guardrails(demo_guardrails, apart, lambda line: None).unjudged
    assert (
        "import refused: k.libsonnet: found, different, in 2 folders a search path (Argo CD's libs) names" in unjudged
    )


def test_jsonnet_is_evaluated_where_argo_cd_checks_it_out_and_one_depending_on_the_place_is_refused(demo_guardrails):
    pinned_unless_argo = (
        b"local lib = import 'lib.libsonnet';\n"
        b"local argo = std.startsWith(std['this' + 'File'], '/tmp/_argocd-repo/');\n"
        b"[lib.deployment('api', if argo then 'latest' else '1.4.2')]"
    )
    files = {"k8s/app.jsonnet": pinned_unless_argo, "k8s/lib.libsonnet": LIBRARY.encode()}
    report = check_guardrails(demo_guardrails, files, lambda line: None)
    # As Argo CD checks it out, it is :latest; run as `jsonnet k8s/app.jsonnet`, pinned: the two differ.
    (unjudged,) = report.unjudged
    assert unjudged.endswith("it evaluates to something else at another place: it would not be judged as deployed")
    only_relative = pinned_unless_argo.replace(
        b"std.startsWith(std['this' + 'File'], '/tmp/_argocd-repo/')", b"!std.startsWith(std['this' + 'File'], '/')"
    )
    report = check_guardrails(demo_guardrails, {**files, "k8s/app.jsonnet": only_relative}, lambda line: None)
    (unjudged,) = report.unjudged
    assert unjudged.endswith("it evaluates to something else at another place: it would not be judged as deployed")
    own_folder = pinned_unless_argo.replace(
        b"std.startsWith(std['this' + 'File'], '/tmp/_argocd-repo/')", b"std['this' + 'File'] == 'app.jsonnet'"
    )  # `cd k8s && jsonnet app.jsonnet`
    report = check_guardrails(demo_guardrails, {**files, "k8s/app.jsonnet": own_folder}, lambda line: None)
    (unjudged,) = report.unjudged
    assert unjudged.endswith("it evaluates to something else at another place: it would not be judged as deployed")
    # The checkout's own name (a uuid) differs from one evaluation to the next: an answer using it is refused.
    seeded = b"local lib = import 'lib.libsonnet'; [lib.deployment('api', std.md5(std.thisFile)[0:7])]"
    (unjudged,) = check_guardrails(demo_guardrails, {**files, "k8s/app.jsonnet": seeded}, lambda line: None).unjudged
    assert unjudged.endswith("it evaluates to something else at another place: it would not be judged as deployed")


def test_an_import_of_a_file_left_out_for_its_size_is_refused_not_found_elsewhere(tmp_path, monkeypatch):
    from idp_tui.golden.build_sandbox import LEFT_OUT

    builds = jsonnet.evaluate_jsonnet(
        [("", {"deploy/app.jsonnet": b"{ tag: importstr 'tag.txt' }", "deploy/tag.txt": LEFT_OUT, "lib/tag.txt": b"1"})]
    )
    (line,) = builds.unjudged_lines()
    assert "import refused: tag.txt: it is past the size idp-tui reads, so it was left out of the check" in line


def test_manifests_nested_in_what_jsonnet_evaluates_to_are_judged(demo_guardrails):
    # Tanka, kubecfg and `jsonnet -m` apply every object with an apiVersion and a kind, however deep.
    source = b"local lib = import 'lib.libsonnet'; { app: { deployment: lib.deployment('api', 'latest') } }"
    report = check_guardrails(
        demo_guardrails, {"k8s/app.jsonnet": source, "k8s/lib.libsonnet": LIBRARY.encode()}, lambda line: None
    )
    assert {(f.file, f.kind) for f in report.denials} == {("jsonnet k8s/app.jsonnet", "Deployment")}


def test_a_real_run_judges_the_repository_as_a_clone_holds_it(tmp_path, guarded_runner):
    # A .gitignore'd library is judged in the workspace but not committed: in a clone, the import finds lib/'s.
    app = "local lib = import 'k.libsonnet'; [lib.deployment('api', 'latest')]\n".replace("'latest'", "lib.tag")
    files = {
        "deploy/app.jsonnet": app,
        "deploy/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: '1.4.2',\n  deployment", 1),
        "lib/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: 'latest',\n  deployment", 1),
        ".gitignore": "deploy/k.libsonnet\n",
    }
    assert guarded_runner.run(skeleton_template(tmp_path / "dry", files), {}, dry_run=True).status == "completed"
    result = guarded_runner.run(skeleton_template(tmp_path / "real", files), {})
    assert result.status == "failed"
    repository = f"{tmp_path}/repos/github.com/myorg/api"
    assert {f.file for f in result.guardrails.denials} == {f"jsonnet {repository}/deploy/app.jsonnet"}


def test_the_tools_outputs_share_one_cap(monkeypatch):
    from idp_tui.golden import build_sandbox
    from idp_tui.golden.deploy_tools import build_tool_sources

    monkeypatch.setattr(build_sandbox, "MAX_BUILT_BYTES", 300)
    files = {
        "k/kustomization.yaml": b"resources: [c.yaml]\n",
        "k/c.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '" + b"x" * 200 + b"'}\n",
        "j/app.jsonnet": b"{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' }, data: { a: std.repeat('y', 200) } }",
    }
    builds = build_tool_sources(list(files), lambda: [("", files)])
    assert list(builds.manifests) == ["kustomize build k"]
    assert builds.unjudged_lines() == ["j/app.jsonnet:1: not judged: the tools built more than 300 bytes from the run"]


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


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_import_through_a_linked_folder_reads_what_the_link_leads_to(tmp_path, guarded_runner, dry_run):
    template = skeleton_template(
        tmp_path,
        {
            "k8s/app.jsonnet": "local lib = import 'sub/k.libsonnet'; [lib.deployment('api', lib.tag)]\n",
            "evil/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: 'latest',\n  deployment", 1),
            "sub/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: '1.4.2',\n  deployment", 1),
        },
    )
    (template.base_dir / "skeleton" / "k8s" / "sub").symlink_to("../evil")
    result = guarded_runner.run(template, {}, dry_run=dry_run)
    assert result.status == "failed"
    assert "jsonnet k8s/app.jsonnet" in {f.file for f in result.guardrails.denials}


def test_a_real_run_judges_the_line_ends_a_checkout_gives(tmp_path, guarded_runner):
    # `eol=crlf` makes every checkout's tag.txt end in CRLF, while the workspace's ends in LF.
    files = {
        "k8s/app.jsonnet": (
            "local lib = import 'lib.libsonnet';\n"
            "[lib.deployment('api', if std.endsWith(importstr 'flag.txt', '\\r\\n') then 'latest' else '1.4.2')]\n"
        ),
        "k8s/lib.libsonnet": LIBRARY,
        "k8s/flag.txt": "x\n",
        ".gitattributes": "*.txt text eol=crlf\n",
    }
    result = guarded_runner.run(skeleton_template(tmp_path, files), {})
    assert result.status == "failed"
    assert {f.file for f in result.guardrails.denials} == {
        f"jsonnet {tmp_path}/repos/github.com/myorg/api/k8s/app.jsonnet"
    }


def test_an_import_found_in_folders_any_libs_could_name_must_be_the_same_file_in_each(demo_guardrails):
    # Argo CD's Application may name any folder in `libs`: apps/ and jsonnet/ both hold a k.libsonnet.
    app = b"local lib = import 'k.libsonnet'; [lib.deployment('api', lib.tag)]"
    files = {
        "apps/api/app.jsonnet": app,
        "apps/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: '1.4.2',\n  deployment", 1).encode(),
        "jsonnet/k.libsonnet": LIBRARY.replace("{\n  deployment", "{\n  tag:: 'latest',\n  deployment", 1).encode(),
    }
    (unjudged,) = check_guardrails(demo_guardrails, files, lambda line: None).unjudged
    assert "import refused: k.libsonnet: found, different, in 2 folders a search path (Argo CD's libs)" in unjudged

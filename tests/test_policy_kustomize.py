"""A golden path's kustomizations are judged as the real kustomize builds them (``kubectl kustomize``, Debian's
kubectl), in a scratch copy with no network, no environment and nothing outside the run's files.

An overlay's ``images`` transformer can apply ``:latest`` over a pinned base: no file the policies read says so,
only kustomize's output does.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
import test_policy_golden as golden
from test_golden_runner import make_template
from test_policy_validate import PINNED

from idp_tui.catalog.model import Catalog
from idp_tui.golden import kustomize
from idp_tui.golden.guardrails import check_guardrails

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="needs the real kustomize: .ci/run installs Debian's kubectl",
)

# test_policy_golden's fixtures: the demo policies as guardrails, a runner they guard, the tests' scaffolder.
demo_guardrails, guarded_runner, server = golden.demo_guardrails, golden.guarded_runner, golden.server

BASE = {
    "k8s/base/deployment.yaml": PINNED,
    "k8s/base/kustomization.yaml": "resources: [deployment.yaml]\n",
}

BASE_BYTES = {name: text.encode() for name, text in BASE.items()}
RESOURCES = BASE_BYTES["k8s/base/kustomization.yaml"]


def overlay(tag: str) -> str:
    return f"resources: [../../base]\nimages:\n  - name: ghcr.io/myorg/api\n    newTag: {tag}\n"


def skeleton_template(tmp_path, files: dict[str, str], publish: bool = True):
    steps = [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}}]
    if publish:
        steps.append(
            {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}}
        )
    return make_template(tmp_path, {"steps": steps}, {f"skeleton/{name}": text for name, text in files.items()})


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_overlay_putting_latest_over_a_pinned_base_is_denied_as_kustomize_builds_it(
    tmp_path, guarded_runner, dry_run
):
    files = {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("latest")}
    result = guarded_runner.run(skeleton_template(tmp_path, files), {}, dry_run=dry_run)
    assert result.status == "failed"
    report = result.guardrails
    assert report.unjudged == ()
    # Only the overlay is built (the base is built through it); the pinned base file itself passes.
    assert {(f.file, f.kind, f.name) for f in report.denials} == {
        ("kustomize build k8s/overlays/prod", "Deployment", "api")
    }
    assert any("ghcr.io/myorg/api:latest" in finding.message for finding in report.denials)
    assert result.error.startswith("Blocked by policy: kustomize build k8s/overlays/prod:")
    assert not (tmp_path / "repos").exists() or not any((tmp_path / "repos").rglob("*.yaml"))


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_overlay_pinning_a_version_passes_and_what_it_builds_was_checked(tmp_path, guarded_runner, dry_run):
    files = {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("1.5.0")}
    logged: list[str] = []
    result = guarded_runner.run(
        skeleton_template(tmp_path, files), {}, dry_run=dry_run, on_event=lambda e: logged.append(e.message)
    )
    assert result.status == "completed", result.error
    assert result.guardrails.unjudged == () and result.guardrails.denials == ()
    # The three files, and what kustomize built from the overlay and from the base (applied on its own, it can be).
    assert "Checking 5 YAML and JSON files against the policies" in logged


def test_a_real_run_judges_the_repository_as_it_will_be_built_once(tmp_path, guarded_runner):
    # The repository is built from the workspace: the same overlay is built from both, and said once.
    files = {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("latest")}
    result = guarded_runner.run(skeleton_template(tmp_path, files), {})
    assert len(result.guardrails.denials) == len({f.policy for f in result.guardrails.denials})


@pytest.mark.parametrize(
    "reference",
    [
        "https://github.com/acme/base//k8s?ref=v1",
        "github.com/acme/base/k8s?ref=v1",
        "git@github.com:acme/base.git",
        "../../../../../../etc/kubernetes",
        "/etc/kubernetes",
        "missing-base",
    ],
)
def test_a_kustomization_referring_to_what_the_run_does_not_hold_is_not_built_and_blocks(demo_guardrails, reference):
    files = {**BASE, "k8s/overlays/prod/kustomization.yaml": f"resources: [../../base, {reference!r}]\n"}
    said: list[str] = []
    report = check_guardrails(demo_guardrails, {k: v.encode() for k, v in files.items()}, said.append)
    assert report.blocked and report.findings == ()
    (unjudged,) = report.unjudged
    assert unjudged.startswith(
        f"k8s/overlays/prod/kustomization.yaml:1: not judged: it refers to {reference!r} in resources, which is not "
        "a file or folder among the files checked"
    )
    assert "Checking 4 YAML and JSON files against the policies" in said  # the three files and the base's build


def test_a_base_that_cannot_be_built_blocks_its_overlay_and_what_kustomize_says_is_shown(demo_guardrails):
    files = {
        **BASE,
        "k8s/base/kustomization.yaml": "resources: [deployment.yaml]\npatches: [{path: missing-patch.yaml}]\n",
        "k8s/overlays/prod/kustomization.yaml": overlay("1.5.0"),
    }
    report = check_guardrails(demo_guardrails, {k: v.encode() for k, v in files.items()}, lambda line: None)
    assert [line.split(": not judged: ")[0] for line in report.unjudged] == [
        "k8s/base/kustomization.yaml:1",
        "k8s/overlays/prod/kustomization.yaml:1",
    ]
    for unjudged in report.unjudged:
        assert unjudged.split(": not judged: ")[1].startswith("kustomize could not build it: ")
        assert "missing-patch.yaml" in unjudged and "idp-tui-build-" not in unjudged and "\n" not in unjudged


def test_without_kustomize_or_kubectl_a_kustomization_blocks(demo_guardrails, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    kustomize.kustomize_command.cache_clear()
    try:
        files = {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("1.5.0")}
        report = check_guardrails(demo_guardrails, {k: v.encode() for k, v in files.items()}, lambda line: None)
    finally:
        kustomize.kustomize_command.cache_clear()
    assert report.unjudged == tuple(
        f"k8s/{folder}/kustomization.yaml:1: not judged: kustomize builds the manifests applied from this "
        "folder, and neither kustomize nor kubectl is here"
        for folder in ("base", "overlays/prod")
    )


def test_a_kustomization_no_tree_holds_is_still_not_judged(demo_guardrails):
    # A caller whose trees miss a kustomization it ships: blocked as before kustomize could build one.
    files = {k: v.encode() for k, v in {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("1.5.0")}.items()}
    report = check_guardrails(demo_guardrails, files, lambda line: None, trees=lambda: [])
    assert [line.split(": not judged: ")[0] for line in report.unjudged] == [
        "k8s/base/kustomization.yaml:1",
        "k8s/overlays/prod/kustomization.yaml:1",
    ]


def test_kustomize_runs_with_no_environment_and_no_network(tmp_path, monkeypatch):
    # A stand-in kustomize (first on PATH) prints what it was given as a ConfigMap: how many variables hold the
    # token, and the network interfaces it sees.
    fake_kustomize(
        tmp_path,
        monkeypatch,
        'printf \'kind: ConfigMap\\ndata:\\n  token: "%s"\\n  proxy: "%s"\\n  net: "%s"\\n\' '
        '"$(env | grep -c s3cr3t)" "$HTTPS_PROXY" "$(awk -F: \'NR>2 {gsub(/ /, "", $1); print $1}\' /proc/net/dev'
        " | tr '\\n' ' ')\"",
    )
    monkeypatch.setenv("GITHUB_TOKEN", "s3cr3t")
    try:
        builds = kustomize.build_kustomizations([("", {"kustomization.yaml": b"resources: []\n"})])
        isolated = kustomize.kustomize_command()[0] == "unshare"
    finally:
        kustomize.kustomize_command.cache_clear()
    built = builds.manifests["kustomize build ."].decode()
    assert 'token: "0"' in built and f'proxy: "{kustomize.NOWHERE}"' in built
    if isolated:  # a network namespace of its own: only its loopback
        assert 'net: "lo "' in built


def test_a_backstage_dry_runs_kustomize_overlay_is_built_and_its_deny_stops_the_task(server, tmp_path, monkeypatch):
    # The scaffolder's dry run returns the files (the tests' server: the skeleton as it is); the overlay among them
    # is built here, and its :latest stops the task before it is created.
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    skeleton = {
        "k8s/base/deployment.yaml": golden.DEPLOYMENT.format(image="ghcr.io/kestrel/invoice-renderer:1.4.0"),
        "k8s/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "k8s/overlays/prod/kustomization.yaml": (
            "resources: [../../base]\nimages: [{name: ghcr.io/kestrel/invoice-renderer, newTag: latest}]\n"
        ),
    }
    template = golden.python_service_with(tmp_path, skeleton)
    with golden.backstage_session(
        server, [golden.policy_dir(tmp_path / "policies", latest=golden.LATEST_REGO)]
    ) as session:
        result = session.template_runner(Catalog()).run(template, golden.BACKSTAGE_VALUES)
    assert result.status == "failed"
    assert result.error.startswith("Blocked by policy: kustomize build k8s/overlays/prod:")
    assert "ghcr.io/kestrel/invoice-renderer:latest is not pinned" in result.error and result.error.endswith(
        golden.NOTHING
    )
    assert server.requests_to("POST", "/v2/tasks") == [] and server.tasks == {}


def test_kustomizations_referring_to_each_other_in_a_circle_are_not_judged(demo_guardrails):
    files = {
        "k8s/a/kustomization.yaml": b"resources: [../b]\n",
        "k8s/b/kustomization.yaml": b"resources: [../a]\n",
    }
    report = check_guardrails(demo_guardrails, files, lambda line: None)
    assert [line.split(": not judged: ")[0] for line in report.unjudged] == [
        "k8s/a/kustomization.yaml:1",
        "k8s/b/kustomization.yaml:1",
    ]
    assert all("kustomize could not build it: " in line and "cycle detected" in line for line in report.unjudged)


def fake_tool(tmp_path, monkeypatch, name: str, script: str) -> None:
    """A stand-in for the tool ``name``, first on PATH, running ``script`` (sh)."""
    fake = tmp_path / "bin" / name
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")


def fake_kustomize(tmp_path, monkeypatch, script: str) -> None:
    """A stand-in kustomize first on PATH, running ``script`` (sh)."""
    fake_tool(tmp_path, monkeypatch, "kustomize", script)
    kustomize.kustomize_command.cache_clear()


def test_a_kustomize_that_runs_past_its_time_is_stopped_and_said(tmp_path, monkeypatch):
    fake_kustomize(tmp_path, monkeypatch, "sleep 30")
    monkeypatch.setattr(kustomize, "BUILD_TIMEOUT", 0.5)
    try:
        builds = kustomize.build_kustomizations([("", {"kustomization.yaml": b"resources: []\n"})])
    finally:
        kustomize.kustomize_command.cache_clear()
    assert builds.unjudged_lines() == [
        "kustomization.yaml:1: not judged: kustomize took longer than 0.5 s to build the kustomizations"
    ]


@pytest.mark.parametrize(
    "fetching",
    [
        {"k8s/base/kustomization.yaml": RESOURCES + b"patches: [{path: 'http://127.0.0.1:8200/v1/secret/data/db'}]\n"},
        {  # a transformer's configuration, in a file of its own
            "k8s/base/kustomization.yaml": RESOURCES + b"transformers: [fetch.yaml]\n",
            "k8s/base/fetch.yaml": b"apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: f}\n"
            b"path: http://127.0.0.1:8200/v1/secret/data/db\n",
        },
    ],
)
def test_where_kustomize_cannot_be_kept_off_the_network_a_tree_naming_a_url_is_not_built(monkeypatch, fetching):
    # Without user namespaces (a container's seccomp, Ubuntu's AppArmor), only proxies keep kustomize off the
    # network, and they do not stop a fetch from 127.0.0.1: a URL in any file it may read is refused.
    monkeypatch.setattr(kustomize, "can_isolate", lambda: False)
    kustomize.kustomize_command.cache_clear()
    try:
        plain = kustomize.build_kustomizations([("", BASE_BYTES)])
        refused = kustomize.build_kustomizations([("", {**BASE_BYTES, **fetching})])
    finally:
        kustomize.kustomize_command.cache_clear()
    assert list(plain.manifests) == ["kustomize build k8s/base"] and plain.unjudged == []
    (line,) = refused.unjudged_lines()
    assert line.startswith("k8s/base/kustomization.yaml:1: not judged: k8s/base/")
    assert line.endswith("names a URL, and kustomize cannot be kept off the network here (no user namespaces)")


def test_validate_judges_what_kustomize_builds_from_a_folder_and_says_what_it_could_not(tmp_path, monkeypatch, capsys):
    from idp_tui.cli import main
    from idp_tui.resources import demo_catalog_path

    for name, text in {
        **BASE,
        "k8s/overlays/prod/kustomization.yaml": overlay("latest"),
        "k8s/overlays/remote/kustomization.yaml": "resources: [github.com/acme/base/k8s?ref=v1]\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    status = main(["validate", "--policy", str(demo_catalog_path() / "policies"), "k8s", "--json"])
    out, err = capsys.readouterr()
    assert status == 1
    built = {(item["file"], item["policy"]) for item in json.loads(out) if item["action"] == "deny"}
    assert built == {
        ("kustomize build k8s/overlays/prod", "main.deny_latest_image"),
        ("kustomize build k8s/overlays/prod", "idp-pinned-images"),
    }
    assert (
        "k8s/overlays/remote/kustomization.yaml:1: not judged: it refers to 'github.com/acme/base/k8s?ref=v1' in "
        "resources, which is not a file or folder among the files checked"
    ) in err


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_base_is_judged_as_it_builds_on_its_own_too(tmp_path, guarded_runner, dry_run):
    # `kubectl apply -k k8s/base` (or an Argo CD application on it) applies the base whatever its overlays pin:
    # here its resource is no YAML file the guardrails read as such.
    files = {
        "k8s/base/deploy.txt": PINNED.replace(":1.4.2", ":latest"),
        "k8s/base/kustomization.yaml": "resources: [deploy.txt]\n",
        "k8s/overlays/prod/kustomization.yaml": overlay("1.5.0"),
    }
    result = guarded_runner.run(skeleton_template(tmp_path, files), {}, dry_run=dry_run)
    assert result.status == "failed"
    assert {finding.file for finding in result.guardrails.denials} == {"kustomize build k8s/base"}


def test_a_patch_is_judged_in_what_kustomize_builds_with_it_and_as_the_file_it_is(demo_guardrails):
    # A patch may be applied on its own too (`kubectl apply -f k8s/overlays/prod/`, an Argo CD directory app): it
    # is judged as it is, besides. A JSON 6902 patch is a list of operations, no object the policies judge.
    replicas = "- {op: replace, path: /spec/replicas, value: 3}\n"
    latest = "- {op: replace, path: /spec/template/spec/containers/0/image, value: 'ghcr.io/myorg/api:latest'}\n"
    noop = PINNED.replace(":1.4.2", ":latest")  # a whole Deployment named as a patch of no target
    for patch, target, denied in (
        (replicas, "{kind: Deployment}", set()),
        (latest, "{kind: Deployment}", {"kustomize build k8s/overlays/prod"}),
        (noop, "{kind: NoSuchKind}", {"k8s/overlays/prod/patch.yaml"}),
    ):
        files = {
            **BASE,
            "k8s/overlays/prod/kustomization.yaml": (
                f"resources: [../../base]\npatches: [{{path: patch.yaml, target: {target}}}]\n"
            ),
            "k8s/overlays/prod/patch.yaml": patch,
        }
        report = check_guardrails(demo_guardrails, {k: v.encode() for k, v in files.items()}, lambda line: None)
        assert report.unjudged == ()
        assert {finding.file for finding in report.denials} == denied


def test_a_file_named_as_a_build_is_not_judged_in_its_place(demo_guardrails):
    files = {
        "kustomize build k8s/x.yaml": PINNED.replace(":1.4.2", ":latest"),
        "k8s/x.yaml/kustomization.yaml": "resources: [d.yaml]\n",
        "k8s/x.yaml/d.yaml": PINNED,
    }
    report = check_guardrails(demo_guardrails, {k: v.encode() for k, v in files.items()}, lambda line: None)
    assert report.blocked
    assert report.unjudged == (
        "kustomize build k8s/x.yaml:1: not judged: a file of the run has the name of what a tool built",
    )


def test_a_kustomization_under_a_name_no_tool_is_given_blocks(demo_guardrails):
    # A dry run's names come from a server: `k8s//kustomization.yaml` is k8s/kustomization.yaml once in git.
    files = {"k8s//kustomization.yaml": b"images: [{name: ghcr.io/myorg/api, newTag: latest}]\n", "k8s/d.yaml": b""}
    report = check_guardrails(demo_guardrails, files, lambda line: None)
    (unjudged,) = report.unjudged
    assert unjudged.startswith("k8s//kustomization.yaml:1: not judged: kustomize builds the manifests")


def test_a_gitattributes_rewriting_a_file_kustomize_reads_is_not_published(tmp_path, guarded_runner):
    # `ident` rewrites `$Id$` spans when git stores the file: a one-line Kustomization can hide a tag in one.
    files = {
        **BASE,
        "k8s/base/Kustomization": "resources: [deployment.yaml]\n",
        ".gitattributes": "Kustomization ident\n",
    }
    del files["k8s/base/kustomization.yaml"]
    result = guarded_runner.run(skeleton_template(tmp_path, files), {})
    assert result.status == "failed"
    assert "k8s/base/Kustomization: a .gitattributes sets ident=" in result.error
    assert not (tmp_path / "repos").exists() or not any((tmp_path / "repos").rglob("Kustomization"))


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_resource_linked_to_another_file_is_built_as_kustomize_reads_it(tmp_path, guarded_runner, dry_run):
    template = skeleton_template(tmp_path, {"k8s/base/kustomization.yaml": "resources: [deployment.yaml]\n"})
    base = template.base_dir / "skeleton" / "k8s" / "base"
    (base / "deploy.txt").write_text(PINNED.replace(":1.4.2", ":latest"))
    (base / "deployment.yaml").symlink_to("deploy.txt")
    result = guarded_runner.run(template, {}, dry_run=dry_run)
    assert result.status == "failed" and result.guardrails.unjudged == ()
    assert {finding.file for finding in result.guardrails.denials} == {
        "k8s/base/deployment.yaml",
        "kustomize build k8s/base",
    }


def test_what_kustomize_says_is_its_reason_without_kubectls_warnings_and_log_prefix():
    builds = kustomize.build_kustomizations(
        [
            (
                "",
                {
                    "b/kustomization.yaml": b"bases: [../c]\n",
                    "c/kustomization.yaml": b"resources: [x.yaml]\n",
                    "c/x.yaml": b"kind: [\n",
                },
            )
        ]
    )
    overlay_line, base_line = builds.unjudged_lines()
    assert overlay_line.startswith("b/kustomization.yaml:1: not judged: kustomize could not build it: accumulating")
    assert overlay_line.endswith("MalformedYAMLError: yaml: line 1: did not find expected node content in File: x.yaml")
    assert "Warning" not in overlay_line and "command failed" not in overlay_line
    assert base_line.startswith("c/kustomization.yaml:1: not judged: kustomize could not build it: accumulating")


def test_validates_sarif_places_what_kustomize_built_at_its_kustomization(tmp_path, monkeypatch, capsys):
    # Code scanning shows results only on files of the repository: `kustomize build k8s/overlays/prod` is none.
    from idp_tui.cli import main
    from idp_tui.resources import demo_catalog_path

    for name, text in {**BASE, "k8s/overlays/prod/kustomization.yaml": overlay("latest")}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    status = main(["validate", "--policy", str(demo_catalog_path() / "policies"), "k8s", "--format", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert status == 1
    latest = [r for r in results if r["ruleId"] == "main.deny_latest_image"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in latest] == [
        "k8s/overlays/prod/kustomization.yaml"
    ]
    assert latest[0]["message"]["text"].endswith("(in what `kustomize build k8s/overlays/prod` builds, line 1)")


def test_reading_a_runs_files_through_links_is_bounded_and_said(tmp_path, monkeypatch):
    # Links are the template's: two links per level to the next level would be walked 2^n times; 45 links in a
    # chain pass the kernel's limit; forty links to one folder read it once.
    from idp_tui.golden import guardrails
    from idp_tui.golden.guardrails import GuardrailError, read_tree

    doubling = tmp_path / "doubling"
    for level in range(30):
        (doubling / "L" / str(level)).mkdir(parents=True)
        for link in ("a", "b"):
            (doubling / "L" / str(level) / link).symlink_to(f"../{level + 1}")
    (doubling / "L" / "30").mkdir()
    with pytest.raises(GuardrailError, match="more than 100 links to folders"):
        read_tree(doubling)

    chain = tmp_path / "chain"
    for level in range(45):
        (chain / "L" / str(level)).mkdir(parents=True)
        (chain / "L" / str(level) / "next").symlink_to(f"../{level + 1}")
    (chain / "L" / "45").mkdir()
    monkeypatch.setattr(guardrails, "MAX_FOLDER_LINKS", 10_000)  # the kernel's limit, not idp-tui's, is met first
    with pytest.raises(GuardrailError, match="could not be listed: Too many levels of symbolic links"):
        read_tree(chain)
    monkeypatch.undo()

    fanned = tmp_path / "fanned"
    (fanned / "big").mkdir(parents=True)
    (fanned / "big" / "blob.txt").write_bytes(b"x" * 1024 * 1024)
    for index in range(40):
        (fanned / f"l{index}").symlink_to("big")
    files = read_tree(fanned)
    assert len(files) == 41 and all(files[f"l{index}/blob.txt"] is files["big/blob.txt"] for index in range(40))


def test_a_name_the_file_system_cannot_hold_is_not_built_and_blocks(demo_guardrails):
    # A Backstage dry run's names are JSON strings: one can hold a lone surrogate.
    files = {"\ud800/kustomization.yaml": b"resources: [deployment.yaml]\n", "\ud800/deployment.yaml": PINNED.encode()}
    report = check_guardrails(demo_guardrails, files, lambda line: None)
    assert report.blocked
    assert any(line.startswith("\ud800/kustomization.yaml:1: not judged:") for line in report.unjudged)


def test_validate_refuses_to_build_a_folder_of_too_many_files(tmp_path, monkeypatch, capsys):
    from idp_tui.cli import main
    from idp_tui.golden import build_sandbox
    from idp_tui.resources import demo_catalog_path

    monkeypatch.setattr(build_sandbox, "MAX_FILES", 20)
    for name, text in BASE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for index in range(30):
        (tmp_path / "k8s" / f"note-{index}.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    status = main(["validate", "--policy", str(demo_catalog_path() / "policies"), "k8s"])
    out, _ = capsys.readouterr()
    assert status == 1
    assert "k8s:1: not built: it holds more than 20 files: none was built" in out.splitlines()

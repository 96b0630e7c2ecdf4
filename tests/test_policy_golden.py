"""Policies at provisioning time: a golden path's files are judged after its steps and before anything is published,
registered or provisioned, by the local runner (``idp-tui scaffold``) and against a Backstage scaffolder's dry run.

The demo profile uses the bundled demo policies; ``--policy`` adds more; a profile's ``policies:`` replace them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from scaffolder_server import TEMPLATES_DIR, ScaffolderServer
from test_golden_runner import make_template
from test_policy_validate import LATEST

from idp_tui.catalog.entity import Entity, SourceLocation
from idp_tui.catalog.model import Catalog
from idp_tui.cli import main
from idp_tui.golden.actions import builtin_actions
from idp_tui.golden.actions.base import RunSettings
from idp_tui.golden.forms import build_form, initial_values
from idp_tui.golden.guardrails import GuardrailError, check_guardrails, read_linked_inputs
from idp_tui.golden.runner import NOT_APPLIED, LocalTaskRunner
from idp_tui.golden.template import Template, templates_in
from idp_tui.policy import PolicyGuardrails, load_policies
from idp_tui.resources import demo_catalog_path
from idp_tui.session import Session

VALUES = {
    "name": "invoice-svc",
    "description": "Renders invoices",
    "owner": "group:default/team-payments",
    "system": "system:default/checkout-platform",
    "language": "python",
    "repoUrl": "github.com?owner=myorg&repo=invoice-svc",
}
LATEST_DENIED = (
    "k8s/deployment.yaml:1: DENY main.deny_latest_image: container invoice-svc: image "
    "ghcr.io/myorg/invoice-svc:latest uses :latest; pin a version"
)
NOTHING = "nothing was published, registered or provisioned"

WARN_REPLICAS = """\
package main
import rego.v1

# Two replicas is the floor; three ride out a node drain during a deploy.
warn_few_replicas contains msg if {
    input.kind == "Deployment"
    input.spec.replicas < 3
    msg := sprintf("%s runs %d replicas; 3 survive a node drain", [input.metadata.name, input.spec.replicas])
}
"""

DENY_UNTYPED_SERVICE = """\
package main
import rego.v1

deny_untyped_service contains msg if {
    input.kind == "Service"
    not input.spec.type
    msg := sprintf("Service %s has no spec.type", [input.metadata.name])
}
"""

BROKEN = """\
package main
import rego.v1

deny_broken contains msg if {
    msg :=
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assignments(values: dict[str, str]) -> list[str]:
    return [item for key, value in values.items() for item in ("--set", f"{key}={value}")]


def scaffold(capsys, values: dict[str, str], *extra: str) -> tuple[int, str, str]:
    return run(capsys, "scaffold", "microservice-golden-path", *assignments(values), *extra)


def policy_dir(root: Path, **modules: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in modules.items():
        (root / f"{name}.rego").write_text(text)
    return root


def demo_vault_state() -> str:
    path = Path(os.environ["XDG_STATE_HOME"]) / "idp-tui" / "demo-vault.json"
    return path.read_text() if path.exists() else ""


# -- the demo profile: the bundled policies --------------------------------------------------------------------------


def test_latest_blocks_the_run_and_nothing_is_published_registered_or_provisioned(capsys, tmp_path):
    repos, output = tmp_path / "repos", tmp_path / "out"
    where = ("--publish-root", str(repos), "--output", str(output))
    status, out, err = scaffold(capsys, {**VALUES, "imageTag": "latest"}, *where)
    assert status == 1
    assert LATEST_DENIED in out  # the policy, its message and file:line
    assert f"idp-tui: Blocked by policy: {LATEST_DENIED} (and 1 more denied); {NOTHING}" in err
    for step in ("publish", "register", "vault"):  # they prepared their effects; none is shown as done
        assert f"– [{step}] {NOT_APPLIED}" in out.splitlines()
    assert not repos.exists() and not output.exists()
    assert run(capsys, "catalog", "show", "invoice-svc")[0] == 1  # not registered
    assert "invoice-svc" not in demo_vault_state()  # not provisioned

    # The same path with the pinned default goes through, and is provisioned: the checks above can fail.
    billing = {**VALUES, "name": "billing-svc", "repoUrl": "github.com?owner=myorg&repo=billing-svc"}
    status, out, err = scaffold(capsys, billing, *where[:2], "--json")
    payload = json.loads(out)
    assert status == 0, err
    assert payload["policies"]["blocked"] is False and payload["policies"]["results"] == []
    assert (repos / "github.com/myorg/billing-svc/.git").is_dir()
    assert "billing-svc" in demo_vault_state()


def test_scaffold_dry_run_shows_the_deny_the_run_would_meet(capsys, tmp_path):
    status, out, err = scaffold(capsys, {**VALUES, "imageTag": "latest"}, "--dry-run")
    assert status == 1
    lines = out.splitlines()
    assert any(line.startswith("  k8s/deployment.yaml  (") for line in lines)  # what it would produce, shown
    assert f"  {LATEST_DENIED}" in lines
    assert "Policies: 2 denied, 0 warnings (5 documents in 4 files)" in lines
    assert "Blocked by policy" in err

    status, out, _ = scaffold(capsys, {**VALUES, "imageTag": "latest"}, "--dry-run", "--json")
    payload = json.loads(out)
    assert status == 1 and payload["status"] == "failed" and payload["error"].startswith("Blocked by policy")
    assert "ghcr.io/myorg/invoice-svc:latest" in next(
        f["content"] for f in payload["files"] if f["path"] == "k8s/deployment.yaml"
    )
    assert [(r["file"], r["line"], r["policy"], r["engine"], r["action"]) for r in payload["policies"]["results"]] == [
        ("k8s/deployment.yaml", 1, "main.deny_latest_image", "rego", "deny"),
        ("k8s/deployment.yaml", 1, "idp-pinned-images", "vap", "deny"),
    ]


def test_a_command_that_ends_while_the_second_policy_worker_starts_ends_without_a_traceback():
    """The first check of a golden path starts a second policy worker in the background (where there are two cores);
    ``scaffold --dry-run`` ends right after it, and the worker still starting is stopped quietly at exit."""
    latest = {**VALUES, "imageTag": "latest"}
    command = [sys.executable, "-m", "idp_tui", "scaffold", "microservice-golden-path", *assignments(latest)]
    done = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 1, done.stderr
    assert "Blocked by policy" in done.stderr
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr, done.stderr


def demo_values(template: Template, language: str | None) -> dict:
    form = build_form(list(template.parameter_pages), title=template.title)
    values = {
        **initial_values(form),
        "name": "svc",
        "owner": "group:default/team-payments",
        "system": "system:default/checkout-platform",
        "repoUrl": "github.com?owner=o&repo=svc",
    }
    return {**values, "language": language} if language else values


def test_every_demo_golden_path_rendered_with_its_defaults_passes_the_demo_policies():
    with Session.for_catalog(policies=[str(demo_catalog_path() / "policies")]) as session:
        catalog = session.catalog_source.load()
        runner = session.template_runner(catalog)
        checked = []
        for template in templates_in(catalog.entities):
            languages = ["nodejs", "python", "go", "java"] if "language" in demo_values(template, None) else [None]
            for language in languages:
                result = runner.run(template, demo_values(template, language), dry_run=True)
                assert result.status == "completed", (template.key, language, result.error)
                assert result.guardrails is not None and result.guardrails.findings == (), result.guardrails
                checked.append((template.key, language, result.guardrails.documents))
    assert len(checked) == 5 and all(documents >= 2 for *_, documents in checked)


# -- --policy, warnings, broken policies -----------------------------------------------------------------------------


def test_warnings_are_said_and_the_run_goes_on(capsys, tmp_path):
    policies = policy_dir(tmp_path / "team-policies", replicas=WARN_REPLICAS)
    repos = tmp_path / "repos"
    status, out, err = scaffold(capsys, VALUES, "--policy", str(policies), "--publish-root", str(repos))
    assert status == 0, err
    assert "Policies: 0 denied, 1 warning (5 documents in 4 files)" in out
    assert (
        "  k8s/deployment.yaml:1: WARN main.warn_few_replicas: invoice-svc runs 2 replicas; 3 survive a node drain"
        in out
    )
    assert (repos / "github.com/myorg/invoice-svc/.git").is_dir()
    assert run(capsys, "catalog", "show", "invoice-svc")[0] == 0


def test_a_deny_the_policies_own_exception_excepts_does_not_block_the_run(capsys, tmp_path):
    excepted = (
        DENY_UNTYPED_SERVICE + '\nexception contains ["untyped_service"] if input.metadata.name == "invoice-svc"\n'
    )
    policies = policy_dir(tmp_path / "team-policies", service=excepted)
    repos = tmp_path / "repos"
    status, out, err = scaffold(capsys, VALUES, "--policy", str(policies), "--publish-root", str(repos))
    assert status == 0, err
    assert "Policies: 0 denied, 0 warnings, 1 excepted (5 documents in 4 files)" in out
    [line] = [line for line in out.splitlines() if "EXCEPTION" in line]
    assert line.endswith(" EXCEPTION main.deny_untyped_service: Service invoice-svc has no spec.type")
    assert (repos / "github.com/myorg/invoice-svc/.git").is_dir()


def test_a_broken_policy_is_said_once_and_every_other_one_still_applies(capsys, tmp_path):
    policies = policy_dir(tmp_path / "team-policies", broken=BROKEN, service=DENY_UNTYPED_SERVICE)
    status, out, err = scaffold(capsys, VALUES, "--policy", str(policies), "--dry-run")
    assert status == 1
    broken = f"{policies}/broken.rego:5: policy main: Rego: Invalid assignment operator"
    assert (out + err).count("broken.rego") == 1 and f"idp-tui: {broken}" in err.splitlines()
    assert "  k8s/deployment.yaml:50: DENY main.deny_untyped_service: Service invoice-svc has no spec.type" in out


def test_the_ci_workflow_a_golden_path_renders_is_judged_too(capsys, tmp_path):
    """Hidden files are the run's output too: the skeleton's .github/workflows/ci.yaml meets a policy on CI
    workflows (actions pinned to a commit), and blocks the run like any other deny."""
    pinned_actions = """\
package main
import rego.v1

deny_unpinned_action contains sprintf("%s: pin the action to a commit", [step.uses]) if {
    some job in input.jobs
    some step in job.steps
    step.uses
    not regex.match(`@[0-9a-f]{40}$`, step.uses)
}
"""
    policies = policy_dir(tmp_path / "team-policies", actions=pinned_actions)
    status, out, err = scaffold(capsys, VALUES, "--policy", str(policies), "--dry-run")
    assert status == 1
    assert (
        "  .github/workflows/ci.yaml:1: DENY main.deny_unpinned_action: actions/checkout@v4: pin the action to a "
        "commit" in out.splitlines()
    )
    assert "Blocked by policy: .github/workflows/ci.yaml:1" in err


@pytest.fixture(scope="module")
def demo_guardrails():
    """The demo policies as a runner's guardrails (one policy set, and its workers, for the tests below)."""
    policy_set = load_policies([demo_catalog_path() / "policies"])
    yield PolicyGuardrails(lambda: policy_set)
    policy_set.close()


@pytest.fixture
def guarded_runner(tmp_path, demo_guardrails) -> LocalTaskRunner:
    """A local runner with every built-in action, publishing and registering under ``tmp_path``, guarded."""
    settings = RunSettings(tmp_path / "repos", tmp_path / "registry")
    return LocalTaskRunner(builtin_actions(), settings, guardrails=demo_guardrails)


def test_a_manifest_whose_suffix_is_in_capitals_is_judged_too(demo_guardrails):
    """kubectl applies a file it is named whatever its suffix: a template's ``k8s/deployment.YAML`` is a manifest
    like any other, not a file the guardrails may skip."""
    said: list[str] = []
    files = {"k8s/deployment.YAML": LATEST.encode(), "src/main.py": b"print('hi')\n"}
    report = check_guardrails(demo_guardrails, files, said.append)
    assert report.blocked
    assert {finding.file for finding in report.findings} == {"k8s/deployment.YAML"}
    assert said[0] == "Checking 1 YAML and JSON files against the policies"


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_manifest_name_linked_to_another_file_is_judged_as_what_kubectl_reads_through_it(
    tmp_path, guarded_runner, dry_run
):
    """A skeleton's ``k8s/deployment.yaml`` may be a symlink to ``deploy.txt``: published as a link, kubectl
    applies what it leads to, and ``deploy.txt`` is no YAML file to judge under its own name."""
    template = make_template(
        tmp_path, {"steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}}]}
    )
    manifests = template.base_dir / "skeleton" / "k8s"
    manifests.mkdir(parents=True)
    (manifests / "deploy.txt").write_text(LATEST)
    (manifests / "deployment.yaml").symlink_to("deploy.txt")
    result = guarded_runner.run(template, {}, dry_run=dry_run)
    assert result.status == "failed"
    assert result.error.startswith("Blocked by policy: k8s/deployment.yaml:1: DENY")
    assert {finding.file for finding in result.guardrails.findings} == {"k8s/deployment.yaml"}


def test_a_manifest_name_linked_to_nothing_blocks_the_run(tmp_path):
    """kubectl reads nothing through it here, but a clone on a file system that ignores case may read a file."""
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deploy.txt").write_text(LATEST)
    (tmp_path / "k8s" / "deployment.yaml").symlink_to("Deploy.txt")
    with pytest.raises(GuardrailError, match="k8s/deployment.yaml is a symlink leading to nothing"):
        read_linked_inputs(tmp_path, ["k8s/deployment.yaml"])


def test_what_a_publish_step_built_is_judged_though_a_later_step_removed_it_from_the_workspace(
    tmp_path, guarded_runner
):
    """A repository is built when its publish step runs: a later ``fs:delete`` must not hide from the guardrails a
    manifest the repository ships."""
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
        {"id": "tidy", "action": "fs:delete", "input": {"files": ["k8s/deployment.yaml"]}},
    ]
    template = make_template(tmp_path, {"steps": steps}, {"skeleton/k8s/deployment.yaml": LATEST})
    result = guarded_runner.run(template, {})
    assert result.status == "failed"
    shipped = tmp_path / "repos" / "github.com" / "myorg" / "api" / "k8s" / "deployment.yaml"
    assert result.error.startswith(f"Blocked by policy: {shipped}:1: DENY")
    assert not (tmp_path / "repos").exists()  # nothing published


def fetch_publish_register(catalog_info_path: str) -> list[dict]:
    """A golden path's steps: the skeleton fetched, published to GitHub, and ``catalog_info_path`` registered."""
    return [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
        {
            "id": "register",
            "action": "catalog:register",
            "input": {
                "repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}",
                "catalogInfoPath": catalog_info_path,
            },
        },
    ]


def test_a_registered_catalog_file_that_git_would_store_as_other_bytes_is_not_registered(tmp_path, guarded_runner):
    """In UTF-7, ``+AHAAcgBvAGQAdQBjAHQAaQBvAG4-`` is ``production``: the guardrails judge one lifecycle, and the
    repository would hold another."""
    disguised = PRODUCTION_WITHOUT_ON_CALL.replace("production", "+AHAAcgBvAGQAdQBjAHQAaQBvAG4-")
    steps = fetch_publish_register("/entities.txt")
    files = {
        "skeleton/.gitattributes": "entities.txt working-tree-encoding=UTF-7\n",
        "skeleton/entities.txt": disguised,
    }
    result = guarded_runner.run(make_template(tmp_path, {"steps": steps}, files), {})
    assert result.status == "failed"
    assert 'entities.txt: a .gitattributes sets working-tree-encoding="UTF-7"' in result.error
    assert result.error.endswith("not registered")
    assert not (tmp_path / "registry").exists() and not (tmp_path / "repos").exists()


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        (f"./{'**/' * 6}*.txt", "match more than 1,000 files, or list too many folders"),
        ("./" + "d/" * 30 + "entities.txt", "name too many files and folders to follow"),
    ],
    ids=["stars-over-a-deep-chain", "a-long-path"],
)
def test_a_registered_locations_targets_are_followed_within_the_catalogs_budget(
    tmp_path, guarded_runner, monkeypatch, target, refusal
):
    """``**`` repeated over a deep folder chain took minutes in ``glob.glob``, and 5,000 targets of a thousand
    parts each took 30 s to resolve: the targets are matched as the catalog matches them, each folder listed once
    per part, and cost the catalog's folder budget (here 20)."""
    from idp_tui.catalog import limits

    monkeypatch.setattr(limits, "MAX_GLOB_FOLDERS", 20)
    location = LOCATION_OF.format(target)
    deep = "/".join(["d"] * 30)
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
        {
            "id": "register",
            "action": "catalog:register",
            "input": {"repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}"},
        },
    ]
    files = {"skeleton/catalog-info.yaml": location, f"skeleton/{deep}/entities.txt": PRODUCTION_WITHOUT_ON_CALL}
    result = guarded_runner.run(make_template(tmp_path, {"steps": steps}, files), {})
    assert result.status == "failed"
    assert f"the Location entities {refusal}" in result.error


def test_a_workspace_file_named_like_a_shipped_one_is_judged_as_itself(tmp_path, guarded_runner):
    """What a repository ships is named where it will be, an absolute path: a workspace file at the relative path
    ``github.com/myorg/api/k8s/d.yaml`` cannot take the place of the repository's ``k8s/d.yaml`` among the inputs."""
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
        {"id": "tidy", "action": "fs:delete", "input": {"files": ["k8s/d.yaml"]}},
    ]
    pinned = LATEST.replace(":latest", ":1.4.2")
    files = {"skeleton/k8s/d.yaml": pinned, "skeleton/github.com/myorg/api/k8s/d.yaml": LATEST}
    result = guarded_runner.run(make_template(tmp_path, {"steps": steps}, files), {})
    assert result.status == "failed"
    assert result.error.startswith("Blocked by policy: github.com/myorg/api/k8s/d.yaml:1: DENY")


PRODUCTION_WITHOUT_ON_CALL = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: api}\n"
    "spec: {type: service, lifecycle: production, owner: team-a}\n"
)
LOCATION_OF = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {{name: api}}\nspec: {{targets: [{}]}}\n"


@pytest.mark.parametrize(
    ("skeleton", "register"),
    [
        ({"backstage/entities.txt": PRODUCTION_WITHOUT_ON_CALL}, {"catalogInfoPath": "/backstage/entities.txt"}),
        (
            {
                "catalog-info.yaml": LOCATION_OF.format("./backstage/*.txt"),
                "backstage/entities.txt": PRODUCTION_WITHOUT_ON_CALL,
            },
            {},
        ),
        (  # the catalog goes up to the repository's parent and back in by its name, where it will be
            {
                "catalog-info.yaml": LOCATION_OF.format("../api/backstage/entities.txt"),
                "backstage/entities.txt": PRODUCTION_WITHOUT_ON_CALL,
            },
            {},
        ),
        (  # a NUL byte names no file: skipped, as the catalog skips it, not an error of its own
            {
                "catalog-info.yaml": LOCATION_OF.format('"./a\\0b.txt", ./backstage/entities.txt'),
                "backstage/entities.txt": PRODUCTION_WITHOUT_ON_CALL,
            },
            {},
        ),
    ],
    ids=["registered-by-name", "through-a-location", "through-the-repositorys-parent", "beside-a-nul-target"],
)
def test_the_catalog_files_a_run_registers_are_judged_whatever_their_names(
    tmp_path, guarded_runner, skeleton, register
):
    """``catalog:register`` reads ``entities.txt`` as YAML, as Backstage does, and the catalog follows a registered
    Location's targets: their entities meet the catalog rules although no file of the run has a YAML name."""
    steps = [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
        {"id": "publish", "action": "publish:github", "input": {"repoUrl": "github.com?owner=myorg&repo=api"}},
        {
            "id": "register",
            "action": "catalog:register",
            "input": {"repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}", **register},
        },
    ]
    files = {f"skeleton/{name}": text for name, text in skeleton.items()}
    result = guarded_runner.run(make_template(tmp_path, {"steps": steps}, files), {})
    assert result.status == "failed"
    registered = tmp_path / "repos" / "github.com" / "myorg" / "api" / "backstage" / "entities.txt"
    assert result.error.startswith(f"Blocked by policy: {registered}:1: DENY catalog.deny_production_without_oncall")
    assert not (tmp_path / "registry").exists() and not (tmp_path / "repos").exists()


# -- profiles ----------------------------------------------------------------------------------------------------------


def test_a_profiles_policies_replace_the_demos_and_resolve_from_the_config_file(capsys, tmp_path, monkeypatch):
    config = tmp_path / "config" / "config.yaml"
    policy_dir(config.parent / "guardrails", service=DENY_UNTYPED_SERVICE)
    config.write_text(
        textwrap.dedent(
            """\
            profiles:
              guarded:
                catalog: demo
                policies: [guardrails]
              unguarded:
                catalog: demo
                policies: []
            """
        )
    )
    monkeypatch.setenv("IDP_TUI_CONFIG", str(config))
    latest = {**VALUES, "imageTag": "latest"}
    status, out, _ = run(capsys, "--profile", "guarded", "scaffold", "microservice-golden-path", *assignments(latest),
                         "--dry-run", "--json")  # fmt: skip
    results = json.loads(out)["policies"]["results"]
    assert status == 1
    assert [(r["policy"], r["file"]) for r in results] == [("main.deny_untyped_service", "k8s/deployment.yaml")]

    status, out, _ = run(capsys, "--profile", "unguarded", "scaffold", "microservice-golden-path",
                         *assignments(latest), "--dry-run", "--json")  # fmt: skip
    assert status == 0 and "policies" not in json.loads(out)  # none checked: the run is as before policies

    status, out, _ = run(capsys, "--profile", "guarded", "config", "show")
    assert f"policies    {config.parent / 'guardrails'}  [file:4]" in out.splitlines()
    status, out, _ = run(capsys, "--profile", "demo", "config", "show", "--json")
    assert json.loads(out)["profile"]["policies"] == [str(demo_catalog_path() / "policies")]


def test_a_profile_chooses_its_rego_packages_and_namespace_flags_choose_for_one_command(capsys, tmp_path, monkeypatch):
    config = tmp_path / "config" / "config.yaml"
    policy_dir(config.parent / "guardrails", service=DENY_UNTYPED_SERVICE.replace("main", "platform.k8s"))
    config.write_text(
        "profiles:\n  guarded:\n    catalog: demo\n    policies: [guardrails]\n    policy_namespaces: [platform.k8s]\n"
    )
    monkeypatch.setenv("IDP_TUI_CONFIG", str(config))
    command = ("--profile", "guarded", "scaffold", "microservice-golden-path", *assignments(VALUES), "--dry-run")
    status, out, _ = run(capsys, *command, "--json")
    assert status == 1
    assert [r["policy"] for r in json.loads(out)["policies"]["results"]] == ["platform.k8s.deny_untyped_service"]

    status, out, err = run(capsys, *command, "--namespace", "main", "--json")  # the flag replaces the profile's
    assert status == 0 and json.loads(out)["policies"]["results"] == []
    # The policies are all in platform.k8s: choosing main judges nothing, and that is said.
    assert "no Rego package main among the policies (they declare platform.k8s): nothing is judged by it" in err
    status, out, err = run(capsys, *command, "--namespace", "platform.k8", "--json")
    assert status == 0
    assert "no Rego package platform.k8 among the policies (they declare platform.k8s): nothing is judged by it" in err

    status, out, _ = run(capsys, "--profile", "guarded", "config", "show")
    assert "rego pkgs   platform.k8s  [file:5]" in out.splitlines()


# -- Backstage: the scaffolder's dry run supplies the files ------------------------------------------------------------


@pytest.fixture
def server():
    with ScaffolderServer() as fake:
        yield fake


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: invoice-renderer
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: {image}
"""


def python_service(tmp_path: Path, image: str) -> Template:
    """The harness's python-service template, with a skeleton whose Deployment runs ``image`` (the fake scaffolder's
    dry run returns the skeleton as it is)."""
    return python_service_with(tmp_path, {"k8s/deployment.yaml": DEPLOYMENT.format(image=image)})


def python_service_with(tmp_path: Path, skeleton: dict[str, str]) -> Template:
    """The harness's python-service template, with ``skeleton`` (path -> text) as its skeleton."""
    base = tmp_path / "python-service"
    base.mkdir(parents=True)
    shutil.copy(TEMPLATES_DIR / "python-service" / "template.yaml", base / "template.yaml")
    for name, text in skeleton.items():
        (base / "skeleton" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "skeleton" / name).write_text(text)
    raw = yaml.safe_load((base / "template.yaml").read_text())
    location = SourceLocation(str(base / "template.yaml"), 1)
    return Template.from_entity(Entity(raw, "template:default/python-service", location))


BACKSTAGE_VALUES = {
    "name": "invoice-renderer",
    "description": "Renders PDF invoices from order events",
    "owner": "group:default/payments-team",
    "framework": "fastapi",
    "pythonVersion": "3.12",
    "port": 8080,
    "enableMetrics": True,
    "namespace": "payments",
    "replicas": 2,
    "lifecycle": "experimental",
    "dryRunDeploy": False,
}


def backstage_session(server: ScaffolderServer, policies: list[Path]) -> Session:
    return Session.for_catalog(server.url, use_cache=False, policies=[str(p) for p in policies])


def test_a_deny_on_the_scaffolders_dry_run_stops_the_task_before_it_is_created(server, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    policies = policy_dir(tmp_path / "policies", latest=LATEST_REGO)
    template = python_service(tmp_path, "ghcr.io/kestrel/invoice-renderer:latest")
    events = []
    with backstage_session(server, [policies]) as session:
        result = session.template_runner(Catalog()).run(template, BACKSTAGE_VALUES, on_event=events.append)
    assert result.status == "failed"
    assert result.error == (
        "Blocked by policy: k8s/deployment.yaml:1: DENY main.deny_latest: ghcr.io/kestrel/invoice-renderer:latest "
        f"is not pinned; {NOTHING}"
    )
    assert len(server.requests_to("POST", "/dry-run")) == 1
    assert server.requests_to("POST", "/v2/tasks") == [] and server.tasks == {}
    assert "k8s/deployment.yaml:1: DENY main.deny_latest: ghcr.io/kestrel/invoice-renderer:latest is not pinned" in [
        event.message for event in events
    ]


def test_a_passing_dry_run_creates_the_task_and_a_dry_run_shows_the_verdicts(server, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    policies = policy_dir(tmp_path / "policies", latest=LATEST_REGO, replicas=WARN_REPLICAS)
    with backstage_session(server, [policies]) as session:
        runner = session.template_runner(Catalog())
        pinned = python_service(tmp_path / "pinned", "ghcr.io/kestrel/invoice-renderer:1.4.0")
        events = []
        result = runner.run(pinned, BACKSTAGE_VALUES, on_event=events.append)
        assert result.status == "completed", result.error
        warning = "k8s/deployment.yaml:1: WARN main.warn_few_replicas: invoice-renderer runs 2 replicas; 3 survive a node drain"
        messages = [event.message for event in events]
        assert warning in messages  # said as the run's own log, before the task's events
        assert messages.index(warning) < messages.index(f"Backstage task {result.task_id} started")
        assert len(server.tasks) == 1 and result.guardrails is not None and not result.guardrails.blocked
        assert [finding.policy for finding in result.guardrails.findings] == ["main.warn_few_replicas"]

        latest = python_service(tmp_path / "latest", "ghcr.io/kestrel/invoice-renderer:latest")
        preview = runner.run(latest, BACKSTAGE_VALUES, dry_run=True)
    assert preview.status == "failed" and preview.guardrails.blocked
    assert b"invoice-renderer:latest" in preview.files["k8s/deployment.yaml"]  # shown beside the verdict
    assert len(server.tasks) == 1  # a dry run creates no task


def test_a_dry_run_that_fails_leaves_the_policies_unchecked_and_creates_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    policies = policy_dir(tmp_path / "policies", latest=LATEST_REGO)
    server.fail("POST", "/api/scaffolder/v2/dry-run", 500, "dry runs are down")
    template = python_service(tmp_path, "ghcr.io/kestrel/invoice-renderer:1.4.0")
    with backstage_session(server, [policies]) as session:
        result = session.template_runner(Catalog()).run(template, BACKSTAGE_VALUES)
    assert result.status == "failed"
    assert result.error.startswith("the policies could not be checked: Backstage's dry run failed:")
    assert "dry runs are down" in result.error and result.error.endswith(NOTHING)
    assert server.requests_to("POST", "/v2/tasks") == []


URL_LOCATED_TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: url-service
  annotations:
    backstage.io/managed-by-location: url:{base}/templates/url-service/template.yaml
spec:
  owner: group:default/payments-team
  type: service
  parameters:
    - properties:
        name: {{type: string}}
  steps:
    - id: fetch
      name: Fetch the Deployment
      action: fetch:template:file
      input:
        url: ./k8s/deployment.yaml
        targetPath: ./k8s/deployment.yaml
"""


@pytest.fixture
def template_host(tmp_path):
    """Where a template lives, as a Git host serves it: files over HTTP on 127.0.0.1."""
    import functools
    from http.server import SimpleHTTPRequestHandler

    from idp_tui.local_http import LocalServer

    root = tmp_path / "host"
    (root / "templates" / "url-service" / "k8s").mkdir(parents=True)
    quiet = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda self, *args: None})
    host = LocalServer(functools.partial(quiet, directory=str(root)))
    yield root, host.start()
    host.stop()


def catalog_template(text: str) -> Template:
    """A template as the catalog of a Backstage serves it: its entity only, no folder here."""
    return Template.from_entity(Entity(yaml.safe_load(text), "template:default/url-service", None))


def test_a_catalog_templates_dry_run_fetches_its_files_from_where_it_lives_and_a_deny_stops_it(
    server, template_host, tmp_path, monkeypatch
):
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    root, base = template_host
    (root / "templates" / "url-service" / "k8s" / "deployment.yaml").write_text(
        DEPLOYMENT.format(image="ghcr.io/kestrel/url-service:latest")
    )
    template = catalog_template(URL_LOCATED_TEMPLATE.format(base=base))
    with backstage_session(server, [policy_dir(tmp_path / "policies", latest=LATEST_REGO)]) as session:
        result = session.template_runner(Catalog()).run(template, {"name": "url-service"})
    assert result.error == (
        "Blocked by policy: k8s/deployment.yaml:1: DENY main.deny_latest: ghcr.io/kestrel/url-service:latest is not "
        f"pinned; {NOTHING}"
    )
    (dry_run,) = server.requests_to("POST", "/dry-run")
    assert dry_run.body["directoryContents"] == []
    fetch = dry_run.body["template"]["spec"]["steps"][0]["input"]
    assert fetch["url"] == f"{base}/templates/url-service/k8s/deployment.yaml"  # as the task would resolve it
    assert server.requests_to("POST", "/v2/tasks") == []


def test_a_catalog_template_whose_files_only_the_server_has_fails_its_dry_run_and_says_why(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("BACKSTAGE_TOKEN", server.token)
    on_server = URL_LOCATED_TEMPLATE.format(base="").replace("url:/templates", "file:/srv/templates")
    with backstage_session(server, [policy_dir(tmp_path / "policies", latest=LATEST_REGO)]) as session:
        result = session.template_runner(Catalog()).run(catalog_template(on_server), {"name": "url-service"})
    assert result.error.startswith("the policies could not be checked: Backstage's dry run failed: ")
    assert "ENOENT: no such file or directory" in result.error  # what Backstage said, then why
    assert result.error.endswith(
        "; step fetch fetches ./k8s/deployment.yaml from the Backstage server's own files "
        "(file:///srv/templates/url-service/template.yaml) (a dry run reads only the files sent with it, or fetches "
        f"by URL, and idp-tui does not have them); {NOTHING}"
    )
    assert server.requests_to("POST", "/v2/tasks") == []


LATEST_REGO = """\
package main
import rego.v1

deny_latest contains msg if {
    some c in input.spec.template.spec.containers
    endswith(c.image, ":latest")
    msg := sprintf("%s is not pinned", [c.image])
}
"""


def test_catalog_guardrails_name_each_entity_of_a_remote_location():
    """Entities from a remote catalog have no file: all those one location provided share a place, so each verdict
    must still name the entity it is about (the second entity here fails, the first does not)."""
    from types import SimpleNamespace

    from idp_tui.policy import load_policies
    from idp_tui.policy.guardrails import catalog_guardrail_problems

    location = "url:https://github.com/acme/catalog/blob/main/all.yaml"

    def component(name: str, lifecycle: str) -> SimpleNamespace:
        raw = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "annotations": {"backstage.io/managed-by-location": location}},
            "spec": {"type": "service", "lifecycle": lifecycle, "owner": "team-a"},
        }
        return SimpleNamespace(raw=raw, key=f"component:default/{name}", source=None)

    policy_set = load_policies([demo_catalog_path() / "policies"])
    try:
        problems = catalog_guardrail_problems(
            policy_set, [component("quiet", "experimental"), component("loud", "production")]
        )
    finally:
        policy_set.close()
    assert problems and {problem.entity for problem in problems} == {"component:default/loud"}, problems


def test_an_entity_a_catalog_exception_excepts_is_not_among_the_catalogs_problems(tmp_path):
    from types import SimpleNamespace

    from idp_tui.policy import load_policies
    from idp_tui.policy.guardrails import catalog_guardrail_problems

    rules = (
        'package catalog\nimport rego.v1\ndeny_no_owner contains "no owner" if not input.spec.owner\n'
        'exception contains ["no_owner"] if input.metadata.name == "orphan-by-design"\n'
    )
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "catalog.rego").write_text(rules)

    def component(name: str) -> SimpleNamespace:
        raw = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": name}, "spec": {}}
        return SimpleNamespace(raw=raw, key=f"component:default/{name}", source=None)

    with load_policies([policies]) as policy_set:
        problems = catalog_guardrail_problems(policy_set, [component("orphan-by-design"), component("orphan")])
    assert [(problem.entity, problem.message) for problem in problems] == [
        ("component:default/orphan", "catalog.deny_no_owner: no owner")
    ]

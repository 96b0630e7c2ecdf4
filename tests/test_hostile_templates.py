"""Hostile golden paths: templates written to read host files, run commands, or never finish.

Every attack runs the real ``idp-tui scaffold`` (or ``validate``) in a resource-limited child (tests/hostile.py):
a regression shows up as a failed test, not as a hung or swapping suite. Each test checks what the person sees
(a clear error naming the step, no traceback) and what is left behind (nothing published, no ``--output``
directory, no host file copied or shown). The render time budget is lowered to 1 s through
``IDP_TUI_RENDER_TIME_BUDGET`` so the time-budget tests take about that long each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile import Canary, Outcome, make_canary, run_idp_tui

from idp_tui.golden.actions import catalog as catalog_actions
from idp_tui.golden.actions import fetch, filesystem, plain, publish
from idp_tui.golden.actions.base import ActionContext, ActionError, RunSettings

TEMPLATE = "hostile"
FAST_BUDGET = {"IDP_TUI_RENDER_TIME_BUDGET": "1"}
# Two nested loops of 100,000 iterations each: 10^10 turns, hours without a budget.
NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# No loop at all: 2^40 macro calls.
MACRO_BOMB = "{% macro f(n) %}{% if n > 0 %}${{ f(n - 1) }}${{ f(n - 1) }}{% endif %}{% endmacro %}${{ f(40) }}"
# Four million characters to start from.
BIG = "{% set s = 'x' | center(4000000) %}"


# --- helpers -------------------------------------------------------------------------------------------------------


class Roots:
    """Where a run may write (publish root, --output), and a host file that must never show up anywhere."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.publish = tmp_path / "published"
        self.output = tmp_path / "out"
        self.canary: Canary = make_canary(tmp_path / "host")
        self.state = Path(os.environ["XDG_STATE_HOME"])
        self.state_before = _files(self.state)

    def assert_nothing_left(self, *outcomes: Outcome) -> None:
        """Nothing published, registered or copied out, and the canary nowhere."""
        assert not _files(self.publish), f"published: {_files(self.publish)}"
        assert not self.output.exists(), "the --output directory was written"
        assert _files(self.state) == self.state_before, "something was registered or remembered"
        self.canary.assert_absent(*(o.output for o in outcomes))
        self.canary.assert_absent_under(self.publish, self.tmp / "catalog")


@pytest.fixture
def roots(tmp_path: Path) -> Roots:
    return Roots(tmp_path)


def _files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir() or p.is_symlink())


def template_file(
    tmp_path: Path,
    steps: Any,
    *,
    parameters: Any = None,
    output: Any = None,
    files: dict[str, str | bytes] | None = None,
) -> Path:
    """A catalog file holding one Template (``hostile``), with its skeleton files beside it."""
    base = tmp_path / "catalog"
    base.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = {"owner": "team-a", "type": "service", "parameters": parameters or [], "steps": steps}
    if output is not None:
        spec["output"] = output
    document = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": TEMPLATE, "title": "Hostile"},
        "spec": spec,
    }
    for relative, content in (files or {}).items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    target = base / "template.yaml"
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def scaffold(
    catalog: Path, roots: Roots | None, *args: str, real: bool = False, env: dict | None = None, wall_s: int = 60
) -> tuple[Outcome, dict[str, Any] | None]:
    """``idp-tui scaffold hostile ARGS --json`` in a limited child: a dry run, or a real run publishing into roots."""
    where = ["--publish-root", str(roots.publish), "--output", str(roots.output)] if real and roots else []
    outcome = run_idp_tui(
        "--catalog", str(catalog), "scaffold", TEMPLATE, *args, *(where or ["--dry-run"]), "--json",
        env=env, wall_s=wall_s,
    )  # fmt: skip
    outcome.assert_no_traceback()
    try:
        payload = json.loads(outcome.stdout)
    except ValueError:
        payload = None
    return outcome, payload


def assert_step_failed(payload: dict[str, Any] | None, step: str, *words: str) -> str:
    assert payload is not None and payload["status"] == "failed", payload
    error = payload["error"]
    assert f"Step {step}" in error, error
    for word in words:
        assert word.lower() in error.lower(), error
    assert len(error) < 2000, "the error quotes far too much"
    return error


def step(step_id: str, action: str, **inputs: Any) -> dict[str, Any]:
    return {"id": step_id, "name": step_id.title(), "action": action, "input": inputs}


def local_ctx(tmp_path: Path, inputs: dict, **extra: Any) -> ActionContext:
    workspace, scratch, template_dir = tmp_path / "ws", tmp_path / "scratch", tmp_path / "template"
    for directory in (workspace, scratch, template_dir):
        directory.mkdir(exist_ok=True)
    return ActionContext(
        input=inputs,
        workspace=workspace,
        template_dir=template_dir,
        settings=RunSettings(tmp_path / "repos", tmp_path / "registry"),
        step_id="step",
        log=lambda message: None,
        scratch=scratch,
        **extra,
    )


# --- host files: file:// and other URLs ----------------------------------------------------------------------------

FETCH_ACTIONS = ["fetch:template", "fetch:template:file", "fetch:plain", "fetch:plain:file"]


@pytest.mark.parametrize("action", FETCH_ACTIONS)
def test_every_fetch_action_refuses_file_urls_and_copies_nothing(tmp_path, roots, action):
    single = action.endswith(":file")
    url = (roots.canary.path if single else roots.canary.path.parent).as_uri()
    inputs = {"url": url, "targetPath": "copied" if single else "./"}
    catalog = template_file(tmp_path, [step("leak", action, **inputs)])
    outcome, payload = scaffold(catalog, roots, real=True)
    assert_step_failed(payload, "leak", "file://")
    roots.assert_nothing_left(outcome)


def test_the_environment_of_the_process_is_not_readable_through_proc(tmp_path, roots):
    catalog = template_file(
        tmp_path, [step("leak", "fetch:template:file", url="file:///proc/self/environ", targetPath="env")]
    )
    outcome, payload = scaffold(catalog, roots, env={"LEAKY_TOKEN": roots.canary.value})
    assert_step_failed(payload, "leak", "file://")
    roots.assert_nothing_left(outcome)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file:/etc/passwd",
        "file:etc/passwd",
        "https://github.com/o/r/tree/main/skeleton",
        "ftp://example.com/x",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "//server/share",
        "/etc",
        "\\\\server\\share",
        "C:\\Windows",
        "../outside",
        "./skeleton/../../outside",
        "./link-out",
        "\x00",
        "./skel\x00eton",
    ],
)
@pytest.mark.parametrize("action", [fetch.FetchTemplate(), fetch.FetchTemplateFile(), *plain.ACTIONS])
def test_only_paths_inside_the_template_directory_are_fetched(tmp_path, action, url):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("secret")
    ctx = local_ctx(tmp_path, {"url": url, "targetPath": "x"})
    (ctx.template_dir / "link-out").symlink_to(tmp_path / "outside")
    with pytest.raises(ActionError) as refused:
        action.run(ctx)
    assert action.id in str(refused.value) or "outside" in str(refused.value) or "NUL" in str(refused.value)
    assert not any(ctx.workspace.iterdir())


def test_catalog_register_refuses_host_files(tmp_path, roots):
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "stolen", "description": roots.canary.value},
        "spec": {"type": "service", "lifecycle": "experimental", "owner": "team-a"},
    }
    host_file = roots.canary.path.parent / "catalog-info.yaml"
    host_file.write_text(yaml.safe_dump(entity))
    steps = [step("register", "catalog:register", catalogInfoUrl=host_file.as_uri())]
    outcome, payload = scaffold(template_file(tmp_path, steps), roots, real=True)
    assert_step_failed(payload, "register", "file://")
    roots.assert_nothing_left(outcome)


@pytest.mark.parametrize("suffix", ["/../../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/link"])
def test_catalog_register_stays_inside_the_repository_this_task_staged(tmp_path, suffix):
    staged = tmp_path / "scratch" / "repo"
    staged.mkdir(parents=True)
    (staged / "link").symlink_to("/etc/passwd")
    locations = {"file:///published/github.com/acme/app": staged}
    ctx = local_ctx(tmp_path, {"catalogInfoUrl": "file:///published/github.com/acme/app" + suffix})
    ctx.staged_locations.update(locations)
    with pytest.raises(ActionError, match="catalog:register"):
        catalog_actions.CatalogRegister().run(ctx)
    assert not ctx.effects


# --- skeleton symlinks, dangling links, loops, FIFOs ------------------------------------------------------------


def test_a_templated_symlink_name_cannot_land_a_link_to_a_host_file(tmp_path, roots):
    depth = 24
    folders = "/".join(f"d{i}" for i in range(depth))
    catalog = template_file(tmp_path, [step("fetch", "fetch:template", url="./skeleton", values={"up": "../" * depth})])
    link = tmp_path / "catalog" / "skeleton" / folders / "${{ values.up }}leak"
    link.parent.mkdir(parents=True)
    # Inside the skeleton as written (the extra ../ stop at /), outside the workspace once its name is rendered.
    link.symlink_to("../" * depth + str(roots.canary.path).lstrip("/"))
    dry, dry_payload = scaffold(catalog, roots)
    assert_step_failed(dry_payload, "fetch", "symlink", "outside")
    outcome, payload = scaffold(catalog, roots, real=True)
    assert_step_failed(payload, "fetch", "symlink", "outside")
    roots.assert_nothing_left(dry, outcome)


def test_dangling_links_and_link_loops_in_a_skeleton_do_not_crash_a_dry_run(tmp_path, roots):
    catalog = template_file(
        tmp_path,
        [
            step("fetch", "fetch:template", url="./skeleton", targetPath="templated"),
            step("plain", "fetch:plain", url="./skeleton", targetPath="plain"),
        ],
        files={"skeleton/README.md": "hello ${{ values.name }}"},
    )
    skeleton = tmp_path / "catalog" / "skeleton"
    (skeleton / "dangling").symlink_to("missing-file")
    (skeleton / "loop-a").symlink_to("loop-b")
    (skeleton / "loop-b").symlink_to("loop-a")
    outcome, payload = scaffold(catalog, roots)
    assert payload is not None and payload["status"] == "completed", outcome.output[-2000:]
    files = {item["path"]: item for item in payload["files"]}
    for prefix in ("templated", "plain"):
        assert files[f"{prefix}/dangling"]["symlink"] == "missing-file"
        assert files[f"{prefix}/loop-a"]["symlink"] == "loop-b"
    # A real run copies them as the links they are.
    outcome, payload = scaffold(catalog, roots, real=True)
    assert payload is not None and payload["status"] == "completed", outcome.output[-2000:]
    assert os.readlink(roots.output / "plain" / "loop-b") == "loop-a"


@pytest.mark.parametrize("action", FETCH_ACTIONS)
def test_a_fifo_in_a_skeleton_is_refused_not_waited_on(tmp_path, roots, action):
    single = action.endswith(":file")
    inputs = {"url": "./skeleton/pipe" if single else "./skeleton", "targetPath": "x" if single else "./"}
    catalog = template_file(tmp_path, [step("fetch", action, **inputs)], files={"skeleton/a.txt": "a"})
    os.mkfifo(tmp_path / "catalog" / "skeleton" / "pipe")
    started = time.monotonic()
    outcome, payload = scaffold(catalog, roots, wall_s=30)
    assert_step_failed(payload, "fetch", "named pipe")
    assert time.monotonic() - started < 20
    roots.assert_nothing_left(outcome)


def test_skeleton_size_caps_fail_the_step(tmp_path, monkeypatch):
    from idp_tui.golden import sources

    def ctx() -> ActionContext:
        context = local_ctx(tmp_path, {"url": "./skeleton"})
        skeleton = context.template_dir / "skeleton"
        skeleton.mkdir(exist_ok=True)
        for index in range(30):
            (skeleton / f"f{index}.txt").write_text("x")
        shutil.rmtree(context.workspace)
        context.workspace.mkdir()
        return context

    monkeypatch.setattr(sources, "MAX_SKELETON_ENTRIES", 10)
    for action in (plain.FetchPlain(), fetch.FetchTemplate()):
        with pytest.raises(ActionError, match="more than 10 files"):
            action.run(ctx())
    monkeypatch.setattr(sources, "MAX_SKELETON_ENTRIES", 10_000)
    monkeypatch.setattr(sources, "MAX_SKELETON_FILE_BYTES", 4)
    for action in (plain.FetchPlain(), fetch.FetchTemplate()):
        context = ctx()
        (context.template_dir / "skeleton" / "big.txt").write_text("12345")
        with pytest.raises(ActionError, match="larger than 4 bytes"):
            action.run(context)


# --- git: nothing a later `git` command would execute ------------------------------------------------------------

FSMONITOR_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch {marker}"\n'


def git_dir_files(marker: Path, prefix: str) -> dict[str, str]:
    """What a skeleton needs for ``prefix`` to be a git control directory whose config runs ``touch marker``."""
    return {
        f"{prefix}HEAD": "ref: refs/heads/main\n",
        f"{prefix}config": FSMONITOR_CONFIG.format(marker=marker),
        f"{prefix}objects/info/keep": "",
        f"{prefix}refs/heads/keep": "",
    }


def git_status_everywhere(root: Path) -> None:
    """Run ``git status`` in every folder under ``root`` the way a person browsing it would."""
    if not root.exists():
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts)]:
        subprocess.run(["git", "status"], cwd=folder, env=env, capture_output=True, timeout=30, check=False)


@pytest.mark.parametrize(
    "repo_url",
    [
        "github.com?owner=acme&repo=.git",
        "github.com?owner=acme&repo=.GIT",
        "github.com?owner=acme&repo=.git.",
        "github.com?owner=.git&repo=app",
        "gitlab.com?owner=acme/.git&repo=app",
    ],
)
def test_a_repository_cannot_be_published_as_a_git_control_directory(tmp_path, roots, repo_url):
    marker = tmp_path / "fsmonitor-ran"
    action = "publish:gitlab" if repo_url.startswith("gitlab") else "publish:github"
    steps = [step("fetch", "fetch:plain", url="./skeleton"), step("publish", action, repoUrl=repo_url)]
    catalog = template_file(tmp_path, steps, files=git_dir_files(marker, "skeleton/"))
    outcome, payload = scaffold(catalog, roots, real=True)
    assert_step_failed(payload, "publish", ".git")
    roots.assert_nothing_left(outcome)
    (roots.publish / "github.com" / "acme" / "app" / "src").mkdir(parents=True)
    git_status_everywhere(roots.publish)
    assert not marker.exists(), "git ran the template's fsmonitor command"


def test_a_skeletons_own_git_directory_is_never_published(tmp_path, roots):
    marker = tmp_path / "fsmonitor-ran"
    files = {"skeleton/README.md": "# ${{ values.name }}\n", **git_dir_files(marker, "skeleton/.git/")}
    files.update(git_dir_files(marker, "skeleton/${{ values.name }}/.GIT/"))
    steps = [
        step("fetch", "fetch:template", url="./skeleton", values={"name": "app"}),
        step("plain", "fetch:plain", url="./skeleton", targetPath="plain"),
        step("publish", "publish:github", repoUrl="github.com?owner=acme&repo=app"),
    ]
    outcome, payload = scaffold(template_file(tmp_path, steps, files=files), roots, real=True)
    assert payload is not None and payload["status"] == "completed", outcome.output[-3000:]
    repository = roots.publish / "github.com" / "acme" / "app"
    assert (repository / "README.md").read_text() == "# app\n"
    assert "fsmonitor" not in (repository / ".git" / "config").read_text()
    assert not (repository / "app" / ".GIT").exists() and not (repository / "plain" / ".git" / "HEAD").exists()
    git_status_everywhere(roots.publish)
    git_status_everywhere(roots.output)
    assert not marker.exists(), "git ran the template's fsmonitor command"


def test_a_folder_shaped_like_a_bare_repository_is_not_published(tmp_path, roots):
    marker = tmp_path / "fsmonitor-ran"
    steps = [
        step("fetch", "fetch:plain", url="./skeleton"),
        step("publish", "publish:github", repoUrl="github.com?owner=acme&repo=app"),
    ]
    catalog = template_file(tmp_path, steps, files=git_dir_files(marker, "skeleton/vendor/"))
    outcome, payload = scaffold(catalog, roots, real=True)
    assert_step_failed(payload, "publish", "vendor", "git")
    roots.assert_nothing_left(outcome)
    git_status_everywhere(roots.publish)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("action", "inputs"),
    [
        (fetch.FetchTemplate(), {"url": "./skeleton", "targetPath": ".git"}),
        (fetch.FetchTemplate(), {"url": "./skeleton", "targetPath": "sub/.GIT./hooks"}),
        (fetch.FetchTemplate(), {"url": "./skeleton", "targetPath": "sub/.git /hooks"}),
        (fetch.FetchTemplate(), {"url": "./skeleton", "targetPath": "sub/.git\u200c/hooks"}),
        (fetch.FetchTemplate(), {"url": "./skeleton", "targetPath": "git~1"}),
        (plain.FetchPlain(), {"url": "./skeleton", "targetPath": "a/.git"}),
        (plain.FetchPlainFile(), {"url": "./skeleton/a.txt", "targetPath": ".git/config"}),
        (fetch.FetchTemplateFile(), {"url": "./skeleton/a.txt", "targetPath": ".git/hooks/pre-commit"}),
        (filesystem.Rename(), {"files": [{"from": "a.txt", "to": ".git/config"}]}),
        (filesystem.Rename(), {"files": [{"from": ".git", "to": "b"}]}),
        (filesystem.Delete(), {"files": [".git"]}),
        (catalog_actions.CatalogWrite(), {"entity": {}, "filePath": "x/.git/config"}),
    ],
)
def test_workspace_paths_naming_a_git_directory_are_refused(tmp_path, action, inputs):
    ctx = local_ctx(tmp_path, inputs)
    (ctx.template_dir / "skeleton").mkdir()
    (ctx.template_dir / "skeleton" / "a.txt").write_text("a")
    (ctx.workspace / "a.txt").write_text("a")
    with pytest.raises(ActionError, match="git"):
        action.run(ctx)
    assert not list(ctx.workspace.rglob("*.git*")) and not list(ctx.workspace.rglob("*.GIT*"))


@pytest.mark.parametrize(
    "inputs",
    [
        {"defaultBranch": ".git"},
        {"defaultBranch": "feature/.git/x"},
        {"defaultBranch": "--upload-pack=touch"},
        {"sourcePath": ".git"},
        {"repoUrl": "github.com?owner=acme&repo=.git%20"},
    ],
)
def test_publish_refuses_git_control_names_in_branches_and_source_paths(tmp_path, inputs):
    ctx = local_ctx(tmp_path, {"repoUrl": "github.com?owner=acme&repo=app", **inputs})
    (ctx.workspace / "README.md").write_text("hi")
    with pytest.raises(ActionError, match=r"git|branch"):
        publish.ACTIONS[0].run(ctx)
    assert not ctx.effects and not (tmp_path / "repos").exists()


# --- unbounded rendering: size ---------------------------------------------------------------------------------

GROWTH = {
    "tilde": BIG + "{% set a = s ~ s %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}"
    "{% set e = d ~ d %}{% set f = e ~ e %}{% set g = f ~ f %}{% set h = g ~ g %}${{ h | length }}",
    "concat": BIG + "{% set a = s.concat(s, s, s) %}{% set b = a.concat(a, a, a) %}{% set c = b.concat(b, b, b) %}"
    "{% set d = c.concat(c, c, c) %}${{ d.length }}",
    "replace": BIG + "${{ (s | replace('x', s)) | length }}",
    "join": BIG + "${{ range(100000) | join(s) | length }}",
    "batch": "${{ [1] | batch(1000000000, 'x') | length }}",
    "batch-join": BIG + "${{ ([1] | batch(100000, s))[0] | join | length }}",
    "array-concat": BIG + "{% macro grow(l, n) %}{% if n > 0 %}${{ grow(l.concat(l), n - 1) }}{% else %}"
    "${{ l | join | length }}{% endif %}{% endmacro %}${{ grow([s], 40) }}",
    "loop-output": BIG + "{% for i in range(100000) %}${{ s }}{% endfor %}",
    "loop-text": "{% for i in range(100000) %}{% for j in range(100) %}" + "y" * 1000 + "{% endfor %}{% endfor %}",
    "toFixed": "${{ (1).toFixed(1000000000) }}",
    "indent": BIG + "${{ (s | replace(' ', '\\n')) | indent(1000) | length }}",
    "dump": BIG + "${{ ([1] | batch(100000, s)) | dump | length }}",
    "plus": BIG + "{% set a = s + s %}{% set b = a + a %}${{ b | length }}",
    "round": "${{ 1.5 | round(1000000000) }}${{ (10 ** 1000) ** 1000 ** 1000 }}",
}


@pytest.mark.parametrize("vector", sorted(GROWTH))
def test_string_growth_fails_the_step_before_memory_runs_out(tmp_path, roots, vector):
    steps = [step("grow", "fetch:template", url="./skeleton")]
    catalog = template_file(tmp_path, steps, files={"skeleton/out.txt": GROWTH[vector]})
    started = time.monotonic()
    outcome, payload = scaffold(catalog, roots, real=True, env=FAST_BUDGET, wall_s=40)
    if vector == "round":  # JavaScript's answers (NaN, Infinity), quickly
        assert payload is not None and payload["status"] == "completed", outcome.output[-2000:]
        assert (roots.output / "out.txt").read_text() == "NaNInfinity"
        return
    assert_step_failed(payload, "grow", "out.txt")
    assert time.monotonic() - started < 15
    roots.assert_nothing_left(outcome)


def test_a_growing_step_input_fails_the_step_instead_of_being_kept(tmp_path, roots):
    catalog = template_file(tmp_path, [step("grow", "debug:log", message=GROWTH["join"])])
    outcome, payload = scaffold(catalog, roots, env=FAST_BUDGET)
    assert_step_failed(payload, "grow", "characters", "in step grow")
    assert len(outcome.stdout) < 100_000


# --- unbounded rendering: time -----------------------------------------------------------------------------------


def _placed(where: str, payload: str) -> dict[str, Any]:
    """A template running ``payload`` in a step's input, a skeleton file, ``if``, ``each`` or the output."""
    fetch_step = step("slow", "fetch:template", url="./skeleton")
    log_step = step("slow", "debug:log", message="hi")
    if where == "input":
        return {"steps": [step("slow", "debug:log", message=payload)]}
    if where == "file":
        return {"steps": [fetch_step], "files": {"skeleton/slow.txt": payload}}
    if where == "if":
        return {"steps": [{**log_step, "if": payload}]}
    if where == "each":
        return {"steps": [{**log_step, "each": payload}]}
    return {"steps": [log_step], "output": {"text": [{"title": "t", "content": payload}]}}


@pytest.mark.parametrize("bomb", ["loops", "macro"])
@pytest.mark.parametrize("where", ["input", "file", "if", "each", "output"])
def test_rendering_has_a_time_budget_everywhere(tmp_path, roots, where, bomb):
    placed = _placed(where, NESTED_LOOPS if bomb == "loops" else MACRO_BOMB)
    catalog = template_file(tmp_path, placed["steps"], output=placed.get("output"), files=placed.get("files"))
    started = time.monotonic()
    outcome, payload = scaffold(catalog, roots, real=True, env=FAST_BUDGET, wall_s=40)
    elapsed = time.monotonic() - started
    assert payload is not None and payload["status"] == "failed", outcome.output[-2000:]
    assert "budget" in payload["error"], payload["error"]
    if where == "output":
        assert "template's output" in payload["error"]
    else:
        assert_step_failed(payload, "slow", "in step slow")
    assert elapsed < 15, f"took {elapsed:.1f}s"
    roots.assert_nothing_left(outcome)


def test_each_over_a_huge_list_is_refused(tmp_path, roots):
    log = {**step("many", "debug:log", message="${{ each.value }}"), "each": "${{ range(100000) }}"}
    outcome, payload = scaffold(template_file(tmp_path, [log]), roots, wall_s=40)
    assert_step_failed(payload, "many", "each", "100000")
    assert len(outcome.stdout) < 100_000


# --- regular expressions a template provides ---------------------------------------------------------------------

REDOS = "(a+)+$"  # hours in Python's re; the regex module answers at once
SLOW = "(a|aa)+$"  # exponential in the regex module too: only its timeout ends it
EVIL = "a" * 50 + "!"


def test_a_catastrophic_form_pattern_is_a_validation_error_not_a_hang(tmp_path, roots):
    properties = {"name": {"type": "string", "pattern": REDOS}, "slow": {"type": "string", "pattern": SLOW}}
    catalog = template_file(tmp_path, [step("log", "debug:log", message="x")], parameters=[{"properties": properties}])
    started = time.monotonic()
    outcome = run_idp_tui(
        "--catalog", str(catalog), "scaffold", TEMPLATE, "--set", f"name={EVIL}", "--set", f"slow={EVIL}",
        "--dry-run", "--json", wall_s=30,
    )  # fmt: skip
    outcome.assert_no_traceback()
    assert outcome.returncode == 2
    errors = json.loads(outcome.stdout)["errors"]
    assert f'name: must match pattern "{REDOS}"' in errors, errors
    assert any(line.startswith("slow:") and "pattern" in line and "in time" in line for line in errors), errors
    assert time.monotonic() - started < 15


# Run in a child: without the timeout the match never ends, and a C-level regex cannot be interrupted in-process.
FORM_CHECK = f"""
import json
from idp_tui.golden.forms import build_form, initial_values, validate_page

pattern, evil = {SLOW!r}, {EVIL!r}
schema = {{"type": "string", "pattern": pattern}}
form = build_form([{{"properties": {{"name": schema, "labels": {{"type": "object", "patternProperties": {{pattern: schema}}}}}}}}])
errors = validate_page(form.pages[0], {{"name": evil, "labels": {{evil: 5}}}})
print(json.dumps({{"errors": errors, "remembered": initial_values(form, {{"name": evil}}).get("name")}}))
"""


def test_template_regexes_in_forms_are_matched_with_a_timeout():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", FORM_CHECK], capture_output=True, text=True, timeout=30, check=True)
    answer = json.loads(done.stdout)
    assert any("time" in message for message in answer["errors"]["name"]), answer
    assert "labels" in answer["errors"], answer
    # A remembered answer is checked against the pattern too, and simply not used.
    assert answer["remembered"] is None
    assert time.monotonic() - started < 15


def test_a_catastrophic_glob_fails_the_step(tmp_path, roots):
    glob = "{a,aa}" * 40 + "b"  # (?:a|aa) forty times: exponential backtracking on a name of a's
    steps = [step("fetch", "fetch:template", url="./skeleton", copyWithoutTemplating=[glob])]
    catalog = template_file(tmp_path, steps, files={"skeleton/" + "a" * 70: "x"})
    started = time.monotonic()
    outcome, payload = scaffold(catalog, roots, wall_s=40)
    assert_step_failed(payload, "fetch", "pattern")
    assert time.monotonic() - started < 15


# --- malformed templates -----------------------------------------------------------------------------------------

MALFORMED = {
    "parameters-properties-string": {"parameters": [{"properties": "x"}]},
    "parameters-string": {"parameters": "x"},
    "parameters-items-scalars": {"parameters": [1, "a", None]},
    "property-string": {"parameters": [{"properties": {"name": "x"}}]},
    "required-string": {"parameters": [{"properties": {"name": {"type": "string"}}, "required": "name"}]},
    "bad-regex": {"parameters": [{"properties": {"name": {"type": "string", "pattern": "(", "default": "a"}}}]},
    "ui-options-scalar": {
        "parameters": [
            {
                "properties": {
                    "repoUrl": {
                        "type": "string",
                        "ui:field": "RepoUrlPicker",
                        "ui:options": {"allowedHosts": "github.com", "allowedOwners": 5},
                    }
                }
            }
        ]
    },
    "steps-string": {"steps": "x"},
    "steps-scalars": {"steps": ["x", 5, None]},
    "input-string": {"steps": [{"id": "a", "action": "debug:log", "input": "x"}]},
    "action-number": {"steps": [{"id": "a", "action": 5, "input": {}}]},
    "each-number": {"steps": [{"id": "a", "action": "debug:log", "each": 5, "input": {}}]},
    "nul-url": {"steps": [step("a", "fetch:template", url="\x00")]},
    "output-string": {"steps": [], "output": "x"},
    "output-links-scalars": {"steps": [], "output": {"links": ["x", 5], "text": "y"}},
    "if-mapping": {"steps": [{"id": "a", "action": "debug:log", "if": {"a": 1}, "input": {}}]},
    "expression-recursion": {"steps": [step("a", "debug:log", message="{% if a %}" * 3000 + "{% endif %}" * 3000)]},
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_templates_fail_clearly_in_scaffold_and_validate(tmp_path, roots, case):
    spec = MALFORMED[case]
    catalog = template_file(
        tmp_path, spec.get("steps", []), parameters=spec.get("parameters"), output=spec.get("output")
    )
    outcome, payload = scaffold(catalog, roots)
    assert outcome.returncode in (0, 1, 2), outcome.output[-2000:]
    if outcome.returncode != 0:
        assert outcome.stderr.strip() or (payload and (payload.get("error") or payload.get("errors")))
    checked = run_idp_tui("validate", str(catalog), "--json")
    checked.assert_no_traceback()
    assert checked.returncode in (0, 1)
    if case.startswith(("parameters-properties", "property-string", "required-string", "bad-regex")):
        assert checked.returncode == 1 and json.loads(checked.stdout), checked.output
        assert outcome.returncode == 2, outcome.output[-2000:]
    roots.assert_nothing_left(outcome, checked)


BROKEN_PAGES = [
    {"title": "Broken", "properties": "x"},
    {
        "title": "Odd options",
        "properties": {
            "repoUrl": {
                "type": "string",
                "ui:field": "RepoUrlPicker",
                "ui:options": {"allowedHosts": "github.com", "allowedOwners": 5},
            },
            "owner": {"type": "string", "ui:field": "OwnerPicker", "ui:options": {"allowedKinds": 5, "defaultKind": 5}},
            "tags": {"type": "array", "ui:field": "EntityTagsPicker", "ui:options": {"kinds": 5}},
        },
        "required": "repoUrl",
    },
]


@pytest.mark.parametrize("page", BROKEN_PAGES, ids=["properties-string", "odd-options"])
async def test_the_form_screen_shows_a_broken_form_instead_of_crashing(page):
    from idp_tui.screens.template_form import TemplateFormScreen
    from textual.app import App

    from idp_tui.golden.forms import build_form, initial_values

    form = build_form([page], title="Hostile")

    class FormApp(App):
        def on_mount(self) -> None:
            self.push_screen(TemplateFormScreen(form, "Hostile", None, None, initial_values(form), False))

    app = FormApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.action_next()
        await pilot.pause()
        assert app.screen.errors[""][0].startswith("The template's form is broken"), app.screen.errors
        assert app.screen.page_index == 0  # it does not go on

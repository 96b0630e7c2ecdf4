"""The local built-in actions: fetch:plain, debug:*, fs:*, publish:* and Backstage's parseRepoUrl."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from idp_tui.golden.actions import debug, filesystem, plain, publish
from idp_tui.golden.actions.base import ActionContext, ActionError, RunSettings
from idp_tui.golden.repo_url import host_type, parse_repo_url


class Task:
    """A task's shared state; ``ctx(...)`` builds one step's context like the runner does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.scratch = root / "scratch"
        self.template_dir = root / "template"
        for directory in (self.workspace, self.scratch, self.template_dir):
            directory.mkdir()
        self.settings = RunSettings(publish_root=root / "repos", registry_dir=root / "registry")
        self.logs: list[str] = []
        self.effects: list = []
        self.staged_locations: dict[str, Path] = {}

    def ctx(self, inputs: dict, *, template_dir: Path | None | str = "default") -> ActionContext:
        return ActionContext(
            input=inputs,
            workspace=self.workspace,
            template_dir=self.template_dir if template_dir == "default" else template_dir,
            settings=self.settings,
            step_id="step",
            log=self.logs.append,
            effects=self.effects,
            scratch=self.scratch,
            staged_locations=self.staged_locations,
        )

    def write(self, relative: str, text: str = "x", *, base: Path | None = None) -> Path:
        path = (base or self.workspace) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


@pytest.fixture
def task(tmp_path: Path) -> Task:
    return Task(tmp_path)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace that no action may touch."""
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("keep me")
    return secret


def run(action, ctx: ActionContext) -> ActionContext:
    action.run(ctx)
    return ctx


def git(repo: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


# --- metadata ----------------------------------------------------------------------------------------------------


def test_action_ids_and_dry_run_support_match_backstage():
    actions = {a.id: a for module in (plain, debug, filesystem, publish) for a in module.ACTIONS}
    assert {k: v.supports_dry_run for k, v in actions.items()} == {
        "fetch:plain": True,
        "fetch:plain:file": True,
        "debug:log": True,
        "debug:wait": False,
        "fs:rename": True,
        "fs:delete": True,
        "fs:readdir": True,
        "publish:github": False,
        "publish:gitlab": False,
        "publish:bitbucket": False,
        "publish:bitbucketCloud": False,
        "publish:bitbucketServer": False,
    }


def test_input_schemas_are_the_recorded_backstage_ones():
    name = "11-scaffolder-actions.json"
    # GET /api/scaffolder/v2/actions, recorded from the harness's real Backstage.
    recorded = json.loads((Path(__file__).parent / "fixtures/recorded" / name).read_text())
    by_id = {entry["id"]: entry for entry in recorded}
    for module in (plain, debug, filesystem):
        for action in module.ACTIONS:
            assert action.input_schema == by_id[action.id]["schema"]["input"], action.id
            assert action.description == by_id[action.id]["description"], action.id


# --- parse_repo_url ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repo_url", "expected"),
    [
        ("github.com?owner=o&repo=r", {"host": "github.com", "owner": "o", "repo": "r"}),
        ("gitlab.com?owner=group/sub&repo=r", {"host": "gitlab.com", "owner": "group/sub", "repo": "r"}),
        (
            "bitbucket.org?workspace=w&project=p&repo=r",
            {"host": "bitbucket.org", "repo": "r", "workspace": "w", "project": "p"},
        ),
        (
            "dev.azure.com?organization=org&project=p&repo=r",
            {"host": "dev.azure.com", "repo": "r", "organization": "org", "project": "p"},
        ),
        ("GitHub.com:443?owner=/o/&repo=r%20x&repo=second", {"host": "github.com", "owner": "o", "repo": "r x"}),
        ("gitlab.com?project=42&repo=r", {"host": "gitlab.com", "repo": "r", "project": "42"}),
    ],
)
def test_parse_repo_url_like_backstage(repo_url, expected):
    parsed = parse_repo_url(repo_url)
    assert parsed == expected
    assert list(parsed) == list(expected)  # Backstage's key order, absent keys left out


@pytest.mark.parametrize(
    ("repo_url", "message"),
    [
        ("github.com?owner=o", "Invalid repo URL passed to publisher: https://github.com/?owner=o, missing repo"),
        (
            "github.com?owner=a b&repo=",
            "Invalid repo URL passed to publisher: https://github.com/?owner=a%20b&repo=, missing repo",
        ),
        ("gitlab.com?repo=r", "Invalid repo URL passed to publisher: https://gitlab.com/?repo=r, missing owner"),
        (
            "bitbucket.org?workspace=w&repo=r",
            "Invalid repo URL passed to publisher: https://bitbucket.org/?workspace=w&repo=r, missing project",
        ),
        (
            "dev.azure.com?repo=r",
            "Invalid repo URL passed to publisher: https://dev.azure.com/?repo=r, missing project",
        ),
        ("", "Invalid repo URL passed to publisher, got , TypeError: Invalid URL"),
        ("a b?repo=r", "Invalid repo URL passed to publisher, got a b?repo=r, TypeError: Invalid URL"),
        (
            "example.com?owner=o&repo=r",
            "No matching integration configuration for host example.com, please check your integrations config",
        ),
    ],
)
def test_parse_repo_url_errors_are_worded_as_backstage(repo_url, message):
    with pytest.raises(ActionError) as error:
        parse_repo_url(repo_url)
    assert str(error.value) == message


def test_self_hosted_hosts_are_guessed_from_their_name():
    assert host_type("github.acme.com") == "github"
    assert host_type("git.acme.com") is None
    assert host_type("git.acme.com", {"git.acme.com": "gitlab"}) == "gitlab"
    assert parse_repo_url("gitlab.acme.com?owner=a/b&repo=r")["owner"] == "a/b"
    with pytest.raises(ActionError, match=r"bitbucket\.acme\.com/\?repo=r, missing project"):
        parse_repo_url("bitbucket.acme.com?repo=r")  # Bitbucket Server needs project and repo


# --- fetch:plain -------------------------------------------------------------------------------------------------


def test_fetch_plain_copies_the_tree_with_dot_files_into_target_path(task):
    task.write("skeleton/README.md", "hello", base=task.template_dir)
    task.write("skeleton/.github/workflows/ci.yml", "on: push", base=task.template_dir)
    run_sh = task.write("skeleton/run.sh", "#!/bin/sh", base=task.template_dir)
    run_sh.chmod(0o755)
    task.write("app/README.md", "old")
    run(plain.ACTIONS[0], task.ctx({"url": "./skeleton", "targetPath": "app"}))
    assert (task.workspace / "app/README.md").read_text() == "hello"
    assert (task.workspace / "app/.github/workflows/ci.yml").read_text() == "on: push"
    assert os.stat(task.workspace / "app/run.sh").st_mode & stat.S_IXUSR
    assert task.logs == ["Fetching plain content from remote URL"]


def test_fetch_plain_refuses_file_urls_and_defaults_to_the_workspace_root(task, tmp_path):
    task.write("elsewhere/a.txt", "A", base=tmp_path)
    with pytest.raises(ActionError, match="never file://"):  # host files are not the template's to read
        run(plain.ACTIONS[0], task.ctx({"url": (tmp_path / "elsewhere").as_uri()}, template_dir=None))
    task.write("skeleton/a.txt", "A", base=task.template_dir)
    run(plain.ACTIONS[0], task.ctx({"url": "./skeleton"}))
    assert (task.workspace / "a.txt").read_text() == "A"


@pytest.mark.parametrize("target", ["../x", "/etc", "a/../../x"])
def test_fetch_plain_refuses_target_paths_outside_the_workspace(task, target):
    task.write("skeleton/a.txt", base=task.template_dir)
    with pytest.raises(ActionError, match="targetPath"):
        run(plain.ACTIONS[0], task.ctx({"url": "./skeleton", "targetPath": target}))
    assert not (task.root / "x").exists()


def test_fetch_plain_refuses_a_target_path_through_a_symlink_leading_out(task, outside):
    task.write("skeleton/secret.txt", "overwritten", base=task.template_dir)
    (task.workspace / "out").symlink_to(outside.parent)
    with pytest.raises(ActionError, match="symlink outside"):
        run(plain.ACTIONS[0], task.ctx({"url": "./skeleton", "targetPath": "out"}))
    assert outside.read_text() == "keep me"


def test_fetch_plain_skips_symlinks_leading_out_of_the_fetched_directory(task, outside):
    skeleton = task.template_dir / "skeleton"
    task.write("skeleton/real.txt", "real", base=task.template_dir)
    (skeleton / "inside-link").symlink_to("real.txt")
    (skeleton / "outside-link").symlink_to(outside)
    (skeleton / "outside-dir").symlink_to(outside.parent)
    run(plain.ACTIONS[0], task.ctx({"url": "./skeleton"}))
    assert os.readlink(task.workspace / "inside-link") == "real.txt"
    assert not os.path.lexists(task.workspace / "outside-link")
    assert not os.path.lexists(task.workspace / "outside-dir")
    assert "Skipping symlink outside-link: it points outside the fetched directory" in task.logs


def test_fetch_plain_refuses_remote_and_escaping_urls_and_reports_missing_ones(task):
    with pytest.raises(ActionError, match="remote fetching is not available in local mode"):
        run(plain.ACTIONS[0], task.ctx({"url": "https://github.com/o/r/tree/main/skeleton"}))
    with pytest.raises(ActionError, match="outside its parent"):
        run(plain.ACTIONS[0], task.ctx({"url": "../../etc"}))
    with pytest.raises(ActionError, match=r"^ENOENT: no such file or directory, lstat '.*/template/nope'$"):
        run(plain.ACTIONS[0], task.ctx({"url": "./nope"}))
    with pytest.raises(
        ActionError, match="template location could not be determined and the fetch URL is relative, ./x"
    ):
        run(plain.ACTIONS[0], task.ctx({"url": "./x"}, template_dir=None))


def test_fetch_plain_file_copies_one_file_creating_parents(task):
    task.write("files/LICENSE", "MIT", base=task.template_dir)
    run(plain.ACTIONS[1], task.ctx({"url": "./files/LICENSE", "targetPath": "docs/legal/LICENSE"}))
    assert (task.workspace / "docs/legal/LICENSE").read_text() == "MIT"


def test_fetch_plain_file_refuses_traversal_and_directories(task):
    task.write("files/LICENSE", "MIT", base=task.template_dir)
    for target in ("../LICENSE", "/tmp/LICENSE"):
        with pytest.raises(ActionError, match="targetPath"):
            run(plain.ACTIONS[1], task.ctx({"url": "./files/LICENSE", "targetPath": target}))
    with pytest.raises(ActionError, match="use fetch:plain for a directory"):
        run(plain.ACTIONS[1], task.ctx({"url": "./files", "targetPath": "x"}))
    with pytest.raises(ActionError, match="targetPath is required"):
        run(plain.ACTIONS[1], task.ctx({"url": "./files/LICENSE"}))


# --- debug:log / debug:wait ----------------------------------------------------------------------------------------


def test_debug_log_logs_input_message_and_workspace_like_backstage(task, outside):
    task.write("b.txt")
    task.write("a/z.py")
    task.write(".env")
    (task.workspace / "empty").mkdir()
    (task.workspace / "link-out").symlink_to(outside.parent)
    inputs = {"message": "Rendered svc", "listWorkspace": True}
    run(debug.ACTIONS[0], task.ctx(inputs))
    assert task.logs == [
        '{\n  "message": "Rendered svc",\n  "listWorkspace": true\n}',
        "Rendered svc",
        "Workspace:\n  - .env\n  - a/z.py\n  - b.txt\n  - link-out",
    ]


def test_debug_log_with_contents_skips_what_it_may_not_read(task, outside):
    task.write("a.txt", "alpha")
    (task.workspace / "secret").symlink_to(outside)
    run(debug.ACTIONS[0], task.ctx({"listWorkspace": "with-contents"}))
    assert task.logs[-1] == "Workspace:\n - a.txt:\n\n  alpha\n - secret: [skipped]"


def test_debug_wait_refuses_more_than_ten_minutes():
    with pytest.raises(ActionError) as error:
        debug.ACTIONS[1].run(_bare_ctx({"minutes": 10, "seconds": 1}))
    assert str(error.value) == "Waiting duration is longer than the maximum threshold of 0 hours, 10 minutes, 0 seconds"
    with pytest.raises(ActionError, match="Invalid unit value soon"):
        debug.ACTIONS[1].run(_bare_ctx({"seconds": "soon"}))


def test_debug_wait_sleeps_the_sum_of_its_units():
    started = time.monotonic()
    debug.ACTIONS[1].run(_bare_ctx({"seconds": 0.1, "milliseconds": 150}))
    assert time.monotonic() - started >= 0.25


def test_debug_wait_ends_early_when_a_cancel_flag_is_set():
    ctx = _bare_ctx({"seconds": 30})
    ctx.cancel = threading.Event()  # type: ignore[attr-defined]
    threading.Timer(0.2, ctx.cancel.set).start()  # type: ignore[attr-defined]
    started = time.monotonic()
    debug.ACTIONS[1].run(ctx)
    assert time.monotonic() - started < 5


def _bare_ctx(inputs: dict) -> ActionContext:
    return ActionContext(input=inputs, workspace=Path("."), template_dir=None, settings=None, step_id="w")  # type: ignore[arg-type]


# --- fs:rename -----------------------------------------------------------------------------------------------------


def test_fs_rename_moves_files_and_directories_creating_parents(task):
    task.write("a.txt", "A")
    task.write("dir/b.txt", "B")
    files = [{"from": "a.txt", "to": "new/place/a.txt"}, {"from": "dir", "to": "moved"}]
    run(filesystem.ACTIONS[0], task.ctx({"files": files}))
    assert (task.workspace / "new/place/a.txt").read_text() == "A"
    assert (task.workspace / "moved/b.txt").read_text() == "B"
    assert not (task.workspace / "a.txt").exists() and not (task.workspace / "dir").exists()
    assert task.logs == [
        "File a.txt renamed to new/place/a.txt successfully",
        "File dir renamed to moved successfully",
    ]


def test_fs_rename_onto_an_existing_file_needs_overwrite(task):
    task.write("a.txt", "A")
    task.write("b.txt", "B")
    with pytest.raises(ActionError, match=r"^dest already exists\."):
        run(filesystem.ACTIONS[0], task.ctx({"files": [{"from": "a.txt", "to": "b.txt"}]}))
    assert (task.workspace / "b.txt").read_text() == "B"
    run(filesystem.ACTIONS[0], task.ctx({"files": [{"from": "a.txt", "to": "b.txt", "overwrite": True}]}))
    assert (task.workspace / "b.txt").read_text() == "A"


def test_fs_rename_reports_fs_extra_errors(task):
    task.write("dir/x")
    task.write("file")
    cases = [
        ({"from": "missing", "to": "b"}, "ENOENT: no such file or directory, lstat 'missing'"),
        (
            {"from": "dir", "to": "file", "overwrite": True},
            "Cannot overwrite non-directory 'file' with directory 'dir'.",
        ),
        (
            {"from": "file", "to": "dir", "overwrite": True},
            "Cannot overwrite directory 'dir' with non-directory 'file'.",
        ),
        ({"from": "dir", "to": "dir/sub"}, "Cannot move 'dir' to a subdirectory of itself, 'dir/sub'."),
        ({"from": "file", "to": "file"}, "Source and destination must not be the same."),
        ({"from": "file"}, "each file must have a from and to property"),
    ]
    for file, message in cases:
        with pytest.raises(ActionError) as error:
            run(filesystem.ACTIONS[0], task.ctx({"files": [file]}))
        assert str(error.value) == message
    with pytest.raises(ActionError, match="files must be an Array"):
        run(filesystem.ACTIONS[0], task.ctx({"files": "a.txt"}))


@pytest.mark.parametrize(
    "file",
    [
        {"from": "../outside/secret.txt", "to": "stolen.txt"},
        {"from": "a.txt", "to": "../outside/secret.txt", "overwrite": True},
        {"from": "/etc/passwd", "to": "passwd"},
        {"from": "a.txt", "to": "/tmp/a.txt"},
        {"from": "link/secret.txt", "to": "stolen.txt"},
        {"from": "a.txt", "to": "link/secret.txt", "overwrite": True},
        {"from": "link", "to": "renamed-link"},
    ],
)
def test_fs_rename_refuses_paths_leading_out_of_the_workspace(task, outside, file):
    task.write("a.txt", "A")
    (task.workspace / "link").symlink_to(outside.parent)
    with pytest.raises(ActionError, match="absolute|outside the task workspace"):
        run(filesystem.ACTIONS[0], task.ctx({"files": [file]}))
    assert outside.read_text() == "keep me"
    assert (task.workspace / "a.txt").read_text() == "A"


# --- fs:delete -----------------------------------------------------------------------------------------------------


def _tree(root: Path) -> list[str]:
    return [path for path, _ in filesystem.list_tree(root)]


def test_fs_delete_globs_run_in_the_workspace_with_dot_files(task):
    for name in ("x.md", "docs/y.md", ".dot/z.md", ".hidden", "keep.txt", "a.json", "b.yaml", "dir/one", "dir/sub/two"):
        task.write(name)
    run(filesystem.ACTIONS[1], task.ctx({"files": ["**/*.md", ".hidden", "*.{json,yaml}", "dir", "nothing-here"]}))
    assert _tree(task.workspace) == [".dot", "docs", "keep.txt"]
    assert "File docs/y.md deleted successfully" in task.logs
    assert "File dir deleted successfully" in task.logs


def test_fs_delete_glob_matches_files_only_and_does_not_cross_directories(task):
    for name in ("top.md", "nested/deep.md", "nested.md/inner.txt"):
        task.write(name)
    run(filesystem.ACTIONS[1], task.ctx({"files": ["*.md"]}))
    assert _tree(task.workspace) == ["nested", "nested/deep.md", "nested.md", "nested.md/inner.txt"]


@pytest.mark.parametrize(
    "pattern", ["../outside/secret.txt", "../outside/*", "/etc/passwd", "link", "link/*", "dir/../../outside"]
)
def test_fs_delete_refuses_patterns_leading_out_of_the_workspace(task, outside, pattern):
    task.write("dir/a.txt")
    (task.workspace / "link").symlink_to(outside)
    with pytest.raises(ActionError, match="absolute|outside the task workspace"):
        run(filesystem.ACTIONS[1], task.ctx({"files": [pattern]}))
    assert outside.read_text() == "keep me"
    assert os.path.lexists(task.workspace / "link")


def test_fs_delete_refuses_a_glob_match_that_leads_out(task, outside):
    (task.workspace / "zz-link").symlink_to(outside)
    with pytest.raises(ActionError, match="outside the task workspace"):
        run(filesystem.ACTIONS[1], task.ctx({"files": ["*"]}))
    assert outside.read_text() == "keep me"


# --- publish:* -----------------------------------------------------------------------------------------------------

GITHUB = publish.ACTIONS[0]


def _by_id(action_id: str):
    return next(action for action in publish.ACTIONS if action.id == action_id)


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """A read-only HOME whose git config would break a commit, no git identity anywhere, a stray GIT_DIR."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n")
    home.chmod(0o555)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "not-a-repo"))
    for name in ("EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    yield home
    home.chmod(0o755)


def test_publish_github_stages_a_repository_and_creates_it_only_when_applied(task, isolated_home):
    task.write("catalog-info.yaml", "kind: Component")
    task.write(".gitignore", "*.log\n")
    task.write("debug.log", "ignored")
    task.write("src/app.py", "print()")
    ctx = run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc", "description": "My service"}))
    final = task.root / "repos/github.com/acme/svc"
    assert not final.exists()  # nothing outside the workspace until the task succeeds
    assert ctx.outputs["remoteUrl"] == final.as_uri() == ctx.outputs["repoContentsUrl"]
    staged = task.staged_locations[final.as_uri()]
    assert (staged / "catalog-info.yaml").read_text() == "kind: Component"
    assert [effect.describe() for effect in task.effects] == [f"repository github.com/acme/svc at {final}"]
    assert "Committing file to repo {dir=<workspace>,message=initial commit}" in task.logs

    task.effects[0].apply()
    assert git(final, "log", "--format=%s|%an|%ae") == "initial commit|Scaffolder|scaffolder@backstage.io"
    assert git(final, "rev-parse", "--abbrev-ref", "HEAD") == "master"
    assert git(final, "rev-parse", "HEAD") == ctx.outputs["commitHash"]
    assert git(final, "ls-files").splitlines() == [".gitignore", "catalog-info.yaml", "src/app.py"]
    assert git(final, "status", "--porcelain") == ""
    assert (final / ".git/description").read_text() == "My service\n"
    assert not staged.exists()


def test_publish_honours_branch_message_author_and_source_path(task, isolated_home):
    task.write("service/README.md", "svc")
    task.write("service/.env.example", "A=1")
    task.write("other/ignored.txt")
    inputs = {
        "repoUrl": "github.com?owner=acme&repo=svc",
        "defaultBranch": "main",
        "gitCommitMessage": "Create svc",
        "gitAuthorName": "Dev",
        "gitAuthorEmail": "dev@example.com",
        "sourcePath": "../service",  # Backstage drops the leading ../
    }
    run(GITHUB, task.ctx(inputs))
    task.effects[0].apply()
    final = task.root / "repos/github.com/acme/svc"
    assert git(final, "branch", "--show-current") == "main"
    assert git(final, "log", "--format=%s|%an|%ae|%cn") == "Create svc|Dev|dev@example.com|Dev"
    assert git(final, "ls-files").splitlines() == [".env.example", "README.md"]


@pytest.mark.parametrize(
    ("action_id", "repo_url", "location", "message"),
    [
        ("publish:gitlab", "gitlab.com?owner=group/sub&repo=r", "gitlab.com/group/sub/r", "initial commit"),
        ("publish:bitbucketCloud", "bitbucket.org?workspace=w&project=P&repo=r", "bitbucket.org/w/r", "Initial commit"),
        ("publish:bitbucketServer", "bitbucket.acme.com?project=P&repo=r", "bitbucket.acme.com/P/r", "initial commit"),
        ("publish:bitbucket", "bitbucket.org?workspace=w&project=P&repo=r", "bitbucket.org/w/r", "initial commit"),
    ],
)
def test_other_publishers_lay_repositories_out_like_their_hosts(task, action_id, repo_url, location, message):
    task.write("README.md")
    run(_by_id(action_id), task.ctx({"repoUrl": repo_url}))
    task.effects[0].apply()
    final = task.root / "repos" / location
    assert git(final, "log", "--format=%s") == message
    assert git(final, "rev-parse", "--abbrev-ref", "HEAD") == "master"
    deprecation = any(
        line.startswith('[Deprecated] Please migrate the use of action "publish:bitbucket"') for line in task.logs
    )
    assert deprecation == (action_id == "publish:bitbucket")


def test_publish_fails_before_writing_anything_when_the_repository_exists(task):
    task.write("README.md")
    existing = task.root / "repos/github.com/acme/svc"
    existing.mkdir(parents=True)
    with pytest.raises(ActionError) as error:
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    assert str(error.value) == f"Repository github.com/acme/svc already exists at {existing}"
    assert list(task.scratch.iterdir()) == [] and task.effects == [] and task.staged_locations == {}


def test_publish_refuses_attributes_under_which_git_would_store_other_bytes_than_were_judged(task):
    """The guardrails judge the files as they are; UTF-7 spells `latest` as `+AGwAYQB0AGUAcwB0-`, and a clone would
    hold `image: api:latest`. A filter (git-lfs) would fetch other content at checkout."""
    task.write(".gitattributes", "k8s/*.yaml working-tree-encoding=UTF-7\n")
    task.write("k8s/deployment.yaml", "image: ghcr.io/acme/api:+AGwAYQB0AGUAcwB0-\n")
    with pytest.raises(ActionError) as error:
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    assert str(error.value) == (
        'k8s/deployment.yaml: a .gitattributes sets working-tree-encoding="UTF-7" for it, so git would store it, '
        "or check it out, as other bytes than the ones the guardrails judge; not published"
    )
    assert list(task.scratch.iterdir()) == [] and task.effects == []


@pytest.mark.parametrize(
    "attributes",
    [
        "*.yaml ident\n",  # $Id:…$ rewritten at checkout can end a quoted string elsewhere
        "[attr]sly export-subst\nk8s/* sly\n",  # through a macro; $Format:…$ rewritten in an archive
        "deploy.txt filter=lfs\n",  # what k8s/deployment.yaml links to
    ],
)
def test_publish_refuses_every_attribute_that_changes_a_judged_file(task, attributes):
    task.write(".gitattributes", attributes)
    task.write("k8s/deploy.txt", "image: ghcr.io/acme/api:1.0.0\n")
    (task.workspace / "k8s" / "deployment.yaml").symlink_to("deploy.txt")
    with pytest.raises(ActionError, match="not published"):
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))


def test_publish_keeps_a_filter_on_files_no_guardrail_reads_and_any_file_name(task):
    task.write(".gitattributes", "*.jar filter=lfs diff=lfs merge=lfs -text\n")
    task.write("gradle/wrapper/gradle-wrapper.jar", "PK")
    (task.workspace / "docs").mkdir()
    (task.workspace / "docs" / os.fsdecode(b"caf\xe9.md")).write_text("a Latin-1 name")
    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    task.effects[0].apply()
    assert "gradle/wrapper/gradle-wrapper.jar" in git(task.root / "repos/github.com/acme/svc", "ls-files")


def test_publish_keeps_line_end_attributes_which_change_no_manifest(task):
    task.write(".gitattributes", "* text=auto eol=lf\n*.png binary\n")
    task.write("k8s/deployment.yaml", "image: ghcr.io/acme/api:1.0.0\n")
    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    task.effects[0].apply()
    final = task.root / "repos/github.com/acme/svc"
    assert git(final, "show", "HEAD:k8s/deployment.yaml") == "image: ghcr.io/acme/api:1.0.0"


def test_publish_leaves_the_users_own_git_attributes_out(task, tmp_path, monkeypatch):
    """A re-encoding in ``~/.config/git/attributes`` is the user's business, not the template's: the repository
    holds the bytes the guardrails judged, and the publish is not refused for it."""
    (tmp_path / "xdg" / "git").mkdir(parents=True)
    (tmp_path / "xdg" / "git" / "attributes").write_text("*.yaml working-tree-encoding=UTF-16\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    task.write("k8s/deployment.yaml", "image: ghcr.io/acme/api:1.0.0\n")
    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    task.effects[0].apply()
    final = task.root / "repos/github.com/acme/svc"
    assert git(final, "cat-file", "blob", "HEAD:k8s/deployment.yaml") == "image: ghcr.io/acme/api:1.0.0"


def test_publishing_the_same_repository_twice_in_a_task_fails_at_the_second_step(task):
    task.write("README.md")
    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    with pytest.raises(ActionError, match="already published by an earlier step"):
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))


def test_a_repository_inside_another_is_refused_whether_this_task_or_an_earlier_one_published_it(task):
    """Its files would land in the other repository's folder, unjudged as part of it (and read by a Location of
    the outer one)."""
    gitlab = _by_id("publish:gitlab")
    task.write("README.md")
    run(gitlab, task.ctx({"repoUrl": "gitlab.com?owner=myorg&repo=api"}))
    with pytest.raises(ActionError, match="would nest with gitlab.com/myorg/api, published by an earlier step"):
        run(gitlab, task.ctx({"repoUrl": "gitlab.com?owner=myorg/api&repo=sub"}))
    (task.root / "repos/gitlab.com/acme/svc/.git").mkdir(parents=True)
    with pytest.raises(ActionError, match="would be inside the repository at .*gitlab.com/acme/svc"):
        run(gitlab, task.ctx({"repoUrl": "gitlab.com?owner=acme/svc&repo=sub"}))


def test_the_effect_rechecks_at_apply_and_undo_removes_only_what_it_made(task):
    task.write("README.md")
    (task.root / "repos").mkdir()
    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=svc"}))
    effect = task.effects[0]
    effect.apply()
    assert (task.root / "repos/github.com/acme/svc/.git").is_dir()
    effect.undo()
    assert _tree(task.root / "repos") == []  # github.com/acme created by apply are gone, repos/ stays

    run(GITHUB, task.ctx({"repoUrl": "github.com?owner=acme&repo=late"}))
    (task.root / "repos/github.com/acme/late").mkdir(parents=True)
    with pytest.raises(ActionError, match="already exists"):
        task.effects[-1].apply()
    assert _tree(task.root / "repos/github.com/acme/late") == []


@pytest.mark.parametrize(
    ("action_id", "repo_url", "message"),
    [
        ("publish:github", "gitlab.com?owner=o&repo=r", "No matching integration configuration for host gitlab.com"),
        ("publish:github", "github.com?owner=o&repo=..", "cannot name a local repository"),
        ("publish:gitlab", "gitlab.com?owner=a//b&repo=r", "cannot name a local repository"),
        ("publish:gitlab", "gitlab.com?project=42&repo=r", "No owner provided for host: gitlab.com, and repo r"),
        ("publish:bitbucketServer", "bitbucket.acme.com?repo=r", "missing project"),
        ("publish:github", "github.com?repo=r", "missing owner"),
    ],
)
def test_publish_refuses_bad_repo_urls(task, action_id, repo_url, message):
    with pytest.raises(ActionError, match=message):
        run(_by_id(action_id), task.ctx({"repoUrl": repo_url}))
    assert not (task.root / "repos").exists()


def test_publish_refuses_bad_branches_and_source_paths(task):
    task.write("README.md")
    with pytest.raises(ActionError, match="defaultBranch 'bad..name' is not a valid git branch name"):
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=o&repo=r", "defaultBranch": "bad..name"}))
    with pytest.raises(ActionError, match="is not a directory in the workspace"):
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=o&repo=r", "sourcePath": "missing"}))
    assert list(task.scratch.iterdir()) == []


def test_publish_explains_a_missing_git(task, monkeypatch, tmp_path):
    task.write("README.md")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(
        ActionError, match="publish:github needs the git command-line tool, which was not found on PATH"
    ):
        run(GITHUB, task.ctx({"repoUrl": "github.com?owner=o&repo=r"}))

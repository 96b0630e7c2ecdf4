"""``publish:github``, ``publish:gitlab`` and the Bitbucket publishers, publishing to local git repositories.

Instead of creating a repository on a server, the local runner creates one under the profile's publish root:
``<publish_root>/<host>/<path>``, where the path mirrors the repository's address on that host:

- GitHub: ``owner/repo``; GitLab: ``owner/repo`` with every level of a nested group (``group/sub/repo``);
- Bitbucket Cloud: ``workspace/repo`` (the project key groups repositories but is not part of their address);
- Bitbucket Server: ``project/repo`` (as in ``/scm/<project>/<repo>.git``).

The step itself writes nothing there: it builds the repository (``git init``, one commit of ``sourcePath`` on
``defaultBranch``) in the task's scratch directory and stages a :class:`MoveRepository` effect that moves it into
place when the whole task succeeds. An existing repository fails the step before anything is built.

Outputs keep Backstage's names. ``remoteUrl`` is the repository's ``file://`` URL. ``repoContentsUrl`` is the same
URL rather than Backstage's ``<html url>/blob/<branch>``: the local repository's working tree *is* the default
branch, so ``repoContentsUrl + "/catalog-info.yaml"`` names a real file that ``catalog:register`` can read.
``commitHash`` is the commit's sha. GitLab's ``projectId`` has no local equivalent and is not set.

Git runs isolated from the user's configuration (no system or global config, no template hooks, no prompts) with
the author given on the command line, so it works with a read-only ``HOME`` and no git identity configured.

Nothing a template writes may become git's own control data, which git would run commands from (``core.fsmonitor``,
hooks): repository names, owners and branches naming ``.git`` (in any spelling a file system folds to it) are
refused, the repository is always made by ``git init`` (a ``.git`` in the content is never copied), and content
with a folder shaped like a bare repository, or a symlink leading out of the published folder, is not published.
Nor is content a ``.gitattributes`` would make git store or check out as other bytes (a re-encoding, a filter):
the guardrails judge the files as they are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...bounded_read import is_within
from ...quoting import quoted
from ...safe_text import clean
from ..deploy_tools import is_tool_source
from ..gitsafety import is_git_name, looks_like_git_dir
from ..guardrails import is_guardrail_input
from ..repo_url import host_type, parse_repo_url
from ..sources import audit_tree
from ..workspace import inside
from .base import ActionContext, ActionError

DEFAULT_AUTHOR_NAME = "Scaffolder"
DEFAULT_AUTHOR_EMAIL = "scaffolder@backstage.io"
_GIT_TIMEOUT_SECONDS = 120


class MoveRepository:
    """The staged publication: a repository built in scratch space, moved to its final place on apply."""

    def __init__(self, staged: Path, final: Path, label: str, source: str = "") -> None:
        self.staged = staged
        self.final = final
        self.label = label
        self.source = source  # the workspace folder it is built from ("": the workspace)
        self._created_parents: list[Path] = []
        self._created_final = False

    def describe(self) -> str:
        """The repository that will be created, and where."""
        return f"repository {self.label} at {self.final}"

    def shipped_files(self) -> tuple[str, Path, str]:
        """What the guardrails judge (:class:`~idp_tui.golden.actions.base.ShipsFiles`): the built repository, named
        where it will be."""
        return str(self.final), self.staged, self.source

    def check(self) -> None:
        """Refuse when something is at the repository's final place already.

        Raises:
            ActionError: the final path exists.
        """
        if os.path.lexists(self.final):
            raise ActionError(f"Repository {self.label} already exists at {self.final}")

    def apply(self) -> None:
        """Move the built repository into its final place, creating the folders above it.

        Never merges into a folder that appeared since :meth:`check`; on failure, what it made is removed.

        Raises:
            ActionError: the final path exists, or the move failed.
        """
        self.check()
        try:
            missing = []
            parent = self.final.parent
            while not os.path.lexists(parent):
                missing.append(parent)
                parent = parent.parent
            for directory in reversed(missing):
                directory.mkdir()
                self._created_parents.append(directory)
            try:
                # mkdir is exclusive: a repository that appeared since check() is never merged into.
                self.final.mkdir()
            except FileExistsError:
                raise ActionError(f"Repository {self.label} already exists at {self.final}") from None
            self._created_final = True
            for child in sorted(self.staged.iterdir()):
                shutil.move(str(child), str(self.final / child.name))
            self.staged.rmdir()
        except OSError as error:
            self.undo()
            raise ActionError(
                f"cannot create repository {self.label} at {self.final}: {error.strerror or error}"
            ) from None
        except ActionError:
            self.undo()
            raise

    def undo(self) -> None:
        """Remove the repository and the folders :meth:`apply` created for it (those left empty)."""
        if self._created_final:
            shutil.rmtree(self.final, ignore_errors=True)
            self._created_final = False
        for directory in reversed(self._created_parents):
            try:
                directory.rmdir()
            except OSError:
                break
        self._created_parents = []


def _git_env(author_name: str, author_email: str, ceiling: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        # Git never looks for a repository above the task's scratch directory (a hostile /tmp/.git, say).
        GIT_CEILING_DIRECTORIES=str(ceiling),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=author_name,
        GIT_AUTHOR_EMAIL=author_email,
        GIT_COMMITTER_NAME=author_name,
        GIT_COMMITTER_EMAIL=author_email,
    )
    return env


def _git(args: list[str], cwd: Path, env: dict[str, str], action_id: str, stdin: str | None = None) -> str:
    author = ["-c", f"user.name={env['GIT_AUTHOR_NAME']}", "-c", f"user.email={env['GIT_AUTHOR_EMAIL']}"]
    isolated = ["-c", "commit.gpgsign=false", "-c", f"core.hooksPath={os.devnull}", "-c", "core.fsmonitor=false"]
    isolated += ["-c", f"core.attributesFile={os.devnull}"]  # the user's own git attributes apply to nothing here
    command = ["git", *author, *isolated, *args]
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            input=stdin,
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",  # file names as os.walk gives them, whatever their bytes
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise ActionError(f"{action_id} needs the git command-line tool, which was not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise ActionError(f"git {args[0]} did not finish within {_GIT_TIMEOUT_SECONDS} seconds") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ActionError(f"git {args[0]} failed: {detail[-1] if detail else f'exit status {done.returncode}'}")
    return done.stdout


def source_directory(ctx: ActionContext, source_path: Any) -> Path:
    """Backstage's ``getRepoSourceDirectory``: ``sourcePath`` inside the workspace, leading ``../`` dropped.

    Like Backstage, a leading ``/`` or ``../`` is not an error (``/app`` and ``../app`` both mean ``app``); a
    path that still leads out, or through a symlink leading out, is refused.
    """
    if not source_path:
        return Path(os.path.realpath(ctx.workspace))
    text = os.path.normpath(str(source_path).replace("\\", "/"))
    while text == ".." or text.startswith("../"):
        text = text[3:] if text != ".." else ""
    text = text.lstrip("/") or "."
    try:
        return inside(ctx.workspace, text, what="sourcePath")
    except ActionError as error:
        raise ActionError(f"Invalid source path: {error}") from None


class LocalPublish:
    """One of the ``publish:*`` actions, creating a local repository instead of a hosted one."""

    supports_dry_run = False

    def __init__(self, action_id: str, description: str, host_types: tuple[str, ...], default_message: str) -> None:
        self.id = action_id
        self.description = description
        self.host_types = host_types
        self.default_message = default_message
        self.input_schema = {
            "type": "object",
            "required": ["repoUrl"],
            "properties": {
                "repoUrl": {"title": "Repository Location", "type": "string"},
                "description": {"title": "Repository Description", "type": "string"},
                "defaultBranch": {"title": "Default Branch", "type": "string"},
                "sourcePath": {"title": "Source Path", "type": "string"},
                "gitCommitMessage": {"title": "Git Commit Message", "type": "string"},
                "gitAuthorName": {"title": "Default Author Name", "type": "string"},
                "gitAuthorEmail": {"title": "Default Author Email", "type": "string"},
            },
        }

    def run(self, ctx: ActionContext) -> None:
        """Build the repository ``repoUrl`` names from ``sourcePath`` and stage its move under the publish root.

        Outputs ``remoteUrl`` and ``repoContentsUrl`` (both the repository's ``file://`` URL) and ``commitHash``.

        Raises:
            ActionError: the URL's host is not this publisher's, or it names an invalid or git-control folder;
                the repository exists or an earlier step publishes it; ``sourcePath`` is not a folder in the
                workspace or holds what must not be published; the branch is invalid; git is missing or fails.
        """
        repo_url = ctx.input.get("repoUrl")
        parsed = parse_repo_url(repo_url)
        host = parsed["host"]
        if host_type(host) not in self.host_types:
            raise ActionError(
                f"No matching integration configuration for host {host}, please check your integrations config"
            )
        segments = self._segments(parsed, repo_url)
        for segment in [host, *segments]:
            if segment in ("", ".", "..") or any(ch in segment for ch in "/\\\x00"):
                raise ActionError(
                    f"Invalid repo URL passed to publisher: {repo_url}, {segment!r} cannot name a local repository"
                )
            if is_git_name(segment):
                raise ActionError(
                    f"Invalid repo URL passed to publisher: {repo_url}, {segment!r} names a git control directory "
                    "(.git), which git would run commands from"
                )
        label = "/".join([host, *segments])
        final = Path(os.path.abspath(ctx.settings.publish_root)).joinpath(host, *segments)
        _refuse_inside_git_dir(Path(os.path.abspath(ctx.settings.publish_root)), final, label)
        move = MoveRepository(Path(), final, label)
        move.check()
        for effect in ctx.effects:
            if not isinstance(effect, MoveRepository):
                continue
            if effect.final == final:
                raise ActionError(f"Repository {label} is already published by an earlier step of this task")
            if is_within(final, effect.final) or is_within(effect.final, final):
                # One repository's files would land in the other's folder, unjudged as part of it.
                raise ActionError(f"Repository {label} would nest with {effect.label}, published by an earlier step")
        source = source_directory(ctx, ctx.input.get("sourcePath"))
        if not source.is_dir():
            raise ActionError(f"sourcePath {ctx.input.get('sourcePath')} is not a directory in the workspace")
        shown_source = "sourcePath" if ctx.input.get("sourcePath") else "the workspace"
        audit_tree(source, f"{self.id}: {shown_source}", where="the published folder")
        branch = _branch(ctx.input.get("defaultBranch"))
        message = str(ctx.input.get("gitCommitMessage") or self.default_message)
        if ctx.scratch is None:
            raise ActionError(f"{self.id} needs the task's scratch directory to build the repository")
        env = _git_env(
            str(ctx.input.get("gitAuthorName") or DEFAULT_AUTHOR_NAME),
            str(ctx.input.get("gitAuthorEmail") or DEFAULT_AUTHOR_EMAIL),
            Path(os.path.realpath(ctx.scratch)),
        )
        build_dir = Path(tempfile.mkdtemp(prefix="publish-", dir=ctx.scratch))
        try:
            repo_dir = build_dir / "repo"
            commit = self._build(ctx, source, repo_dir, branch, message, env)
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        move.staged = repo_dir
        built_from = Path(os.path.relpath(source, os.path.realpath(ctx.workspace))).as_posix()
        move.source = "" if built_from == "." else built_from
        ctx.stage(move)
        remote_url = final.as_uri()
        ctx.staged_locations[remote_url] = repo_dir
        ctx.log(f"Repository {label} will be created at {final} when the task completes")
        ctx.output("commitHash", commit)
        ctx.output("remoteUrl", remote_url)
        ctx.output("repoContentsUrl", remote_url)

    def _segments(self, parsed: dict[str, str], repo_url: str) -> list[str]:
        repo = parsed.get("repo", "")
        if self.host_types == ("github",):
            if not parsed.get("owner"):
                raise ActionError("Invalid repository owner provided in repoUrl")
            return [parsed["owner"], repo]
        if self.host_types == ("gitlab",):
            if not parsed.get("owner"):
                raise ActionError(f"No owner provided for host: {parsed['host']}, and repo {repo}")
            return [*parsed["owner"].split("/"), repo]
        cloud = parsed["host"] == "bitbucket.org" or self.host_types == ("bitbucketCloud",)
        if cloud and not parsed.get("workspace"):
            raise ActionError(
                f"Invalid URL provider was included in the repo URL to create {repo_url}, missing workspace"
            )
        if not parsed.get("project"):
            raise ActionError(
                f"Invalid URL provider was included in the repo URL to create {repo_url}, missing project"
            )
        return [parsed["workspace"] if cloud else parsed["project"], repo]

    def _build(self, ctx: ActionContext, source: Path, repo_dir: Path, branch: str, message: str, env: dict) -> str:
        shown = os.path.relpath(source, os.path.realpath(ctx.workspace))
        shown = "<workspace>" if shown == "." else shown
        if self.id == "publish:bitbucket":
            ctx.log(
                '[Deprecated] Please migrate the use of action "publish:bitbucket" to "publish:bitbucketCloud" '
                'or "publish:bitbucketServer".'
            )
        if shutil.which("git", path=env.get("PATH")) is None:
            raise ActionError(f"{self.id} needs the git command-line tool, which was not found on PATH")
        try:
            _git(["check-ref-format", "--branch", branch], repo_dir.parent, env, self.id)
        except ActionError:
            raise ActionError(f"defaultBranch {branch!r} is not a valid git branch name") from None
        shutil.copytree(source, repo_dir, symlinks=True, ignore=_ignore_git_names(ctx))
        ctx.log(f"Init git repository {{dir={shown}}}")
        _git(["-c", f"init.defaultBranch={branch}", "init", "--quiet", "--template=", "."], repo_dir, env, self.id)
        _git(["symbolic-ref", "HEAD", f"refs/heads/{branch}"], repo_dir, env, self.id)
        description = ctx.input.get("description")
        if description:
            (repo_dir / ".git" / "description").write_text(f"{description}\n", encoding="utf-8")
        ctx.log(f"Adding file {{dir={shown},filepath=.}}")
        _git(["add", "--all", "."], repo_dir, env, self.id)
        _refuse_transformed_content(repo_dir, env, self.id)
        ctx.log(f"Committing file to repo {{dir={shown},message={message}}}")
        _git(["commit", "--quiet", "--allow-empty", "--no-verify", "-m", message], repo_dir, env, self.id)
        return _git(["rev-parse", "HEAD"], repo_dir, env, self.id).strip()


# Attributes under which git stores, a clone checks out, or an archive holds other bytes than the ones the
# guardrails judged: a re-encoding (from UTF-7, `image: api:+AGwAYQB0AGUAcwB0-` is stored as `image: api:latest`), a
# clean/smudge filter (git-lfs fetches a file's content when it is checked out), `ident` (`$Id:…$` is rewritten at
# checkout, which can move where a quoted string ends) and `export-subst` (`$Format:%x6c…$` in an archive).
# Line-end conversions (`text`, `eol`) change no manifest's meaning, and repositories set them often; a
# `filter=lfs` on a file the guardrails do not read (a jar) changes nothing they judged.
_CONTENT_ATTRIBUTES = ("working-tree-encoding", "filter", "ident", "export-subst")


def _refuse_transformed_content(repo_dir: Path, env: dict[str, str], action_id: str) -> None:
    """Refuse a repository whose ``.gitattributes`` would make git store, check out or archive a file the guardrails
    judge as other bytes.

    Raises:
        ActionError: such a file has one of :data:`_CONTENT_ATTRIBUTES` set.
    """
    _refuse_attributes(repo_dir, _judged_files(repo_dir), env, action_id, "not published")


def refuse_transformed_files(repo_dir: Path, paths: list[str], action_id: str) -> None:
    """:func:`_refuse_transformed_content` for ``paths`` of a built repository (the catalog files ``catalog:register``
    registers, whatever their names).

    Raises:
        ActionError: such a file has one of :data:`_CONTENT_ATTRIBUTES` set.
    """
    if not (repo_dir / ".git").is_dir():
        return  # not a repository git stores: no attribute applies
    env = _git_env(DEFAULT_AUTHOR_NAME, DEFAULT_AUTHOR_EMAIL, Path(os.path.realpath(repo_dir)).parent)
    _refuse_attributes(repo_dir, paths, env, action_id, "not registered")


def _refuse_attributes(repo_dir: Path, paths: list[str], env: dict[str, str], action_id: str, outcome: str) -> None:
    """Raise, saying ``outcome``, when one of ``paths`` has one of :data:`_CONTENT_ATTRIBUTES` set."""
    if not paths:
        return
    listed = "".join(f"{path}\0" for path in paths)
    found = _git(["check-attr", "-z", "--stdin", *_CONTENT_ATTRIBUTES], repo_dir, env, action_id, stdin=listed)
    fields = found.split("\0")
    for path, attribute, value in zip(fields[0::3], fields[1::3], fields[2::3], strict=False):
        if value not in ("unspecified", "unset"):
            raise ActionError(
                f"{clean(path, one_line=True)}: a .gitattributes sets {attribute}={quoted(value)} for it, so git "
                f"would store it, or check it out, as other bytes than the ones the guardrails judge; {outcome}"
            )


def _judged_files(repo_dir: Path) -> list[str]:
    """The repository's files the guardrails read: YAML and JSON names, and what a link with such a name leads to;
    every file, where the repository holds a kustomization or Jsonnet (kustomize and Jsonnet read files of any name:
    a ``Kustomization``, a resource named ``deploy.txt``, an ``importstr``)."""
    root = os.path.realpath(repo_dir)
    every: list[Path] = []
    for directory, dirnames, filenames in os.walk(repo_dir):
        dirnames[:] = [name for name in dirnames if name != ".git"]
        every += [Path(directory, name) for name in filenames]
    names = {path: path.relative_to(repo_dir).as_posix() for path in every}
    built = any(is_tool_source(relative) for relative in names.values())
    judged: set[str] = set()
    for path, relative in names.items():
        if not (built or is_guardrail_input(relative)):
            continue
        judged.add(relative)
        target = os.path.realpath(path)
        if path.is_symlink() and is_within(target, root):
            judged.add(Path(os.path.relpath(target, root)).as_posix())
    return sorted(judged)


def read_clone(repo_dir: Path, read: Callable[[Path], dict[str, bytes]]) -> dict[str, bytes] | None:
    """What a clone of the built repository holds, read by ``read`` from a fresh clone of it: as a deploy tool
    reads it, without a ``.gitignore``'d file, with the line ends its ``.gitattributes`` give a checkout; None when
    ``repo_dir`` is no repository.

    Raises:
        ActionError: git failed.
    """
    if not (repo_dir / ".git").is_dir():
        return None
    with tempfile.TemporaryDirectory(prefix="idp-tui-clone-") as scratch:
        env = _git_env(DEFAULT_AUTHOR_NAME, DEFAULT_AUTHOR_EMAIL, Path(scratch).parent)
        clone = Path(scratch, "clone")
        _git(["clone", "--quiet", "--no-hardlinks", "--", str(repo_dir), str(clone)], Path(scratch), env, "publish")
        return read(clone)


def _branch(value: Any) -> str:
    """``defaultBranch``, refused when git could read it as an option or it names a git control directory."""
    branch = str(value or "master")
    if branch.startswith("-") or any(is_git_name(part) for part in branch.split("/")):
        raise ActionError(f"defaultBranch {branch!r} is not a valid git branch name")
    return branch


def _refuse_inside_git_dir(publish_root: Path, final: Path, label: str) -> None:
    """Refuse a repository whose folder would be inside an existing git control directory under the root, or
    inside a repository already there (its files would be that repository's, unjudged as part of it)."""
    for folder in [*reversed(final.parents), final]:
        if folder != publish_root and publish_root in folder.parents and looks_like_git_dir(folder):
            raise ActionError(f"Repository {label} would be inside {folder}, a git repository's control directory")
        if folder != final and publish_root in folder.parents and os.path.lexists(folder / ".git"):
            raise ActionError(f"Repository {label} would be inside the repository at {folder}")


def _ignore_git_names(ctx: ActionContext):
    """A copytree filter leaving out every entry named like a git control directory (git makes its own)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if is_git_name(name)}
        for name in sorted(skipped):
            ctx.log(f"Skipping {name} in {os.path.basename(directory)}: git makes the repository's own")
        return skipped

    return ignore


_INITIALIZES = "Initializes a git repository of the content in the workspace, and publishes it to"
ACTIONS = (
    LocalPublish(
        "publish:github",
        "Initializes a git repository of contents in workspace and publishes it to GitHub.",
        ("github",),
        "initial commit",
    ),
    LocalPublish("publish:gitlab", f"{_INITIALIZES} GitLab.", ("gitlab",), "initial commit"),
    LocalPublish(
        "publish:bitbucket", f"{_INITIALIZES} Bitbucket.", ("bitbucketCloud", "bitbucketServer"), "initial commit"
    ),
    # Backstage's bitbucketCloud passes no message by default, so isomorphic-git's "Initial commit" is used.
    LocalPublish("publish:bitbucketCloud", f"{_INITIALIZES} Bitbucket Cloud.", ("bitbucketCloud",), "Initial commit"),
    LocalPublish(
        "publish:bitbucketServer", f"{_INITIALIZES} Bitbucket Server.", ("bitbucketServer",), "initial commit"
    ),
)

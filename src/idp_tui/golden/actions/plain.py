"""``fetch:plain`` and ``fetch:plain:file``: copy content into the workspace without templating, as Backstage does.

The local runner reads only local content: a path relative to the template's directory (Backstage's behaviour for
templates registered from ``file:`` locations). ``file://`` and remote URLs are refused with an explanation, and
so are paths (or symlinks) leading out of the template's directory; only regular files, directories and symlinks
are copied, within the caps of :mod:`idp_tui.golden.sources`, and a fetched ``.git`` is skipped.

As in Backstage (whose copy filter drops every entry that resolves outside the fetched directory), symlinks in
the fetched tree that lead outside it are not copied; unlike Backstage, a log line names each one. Links that
stay inside are copied as links. Existing files in the target are replaced, directories are merged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...bounded_read import is_within
from ..sources import link_problem, list_skeleton, read_regular, resolve_template_url
from .base import ActionContext, ActionError

_TOKEN = {"type": "string", "description": "An optional token to use for authentication when reading the resources."}
_SCHEMA_NOTE = "http://json-schema.org/draft-07/schema#"


def resolve_fetch_url(ctx: ActionContext, url: Any, action_id: str = "fetch:plain") -> Path:
    """Where ``url`` is on this machine: a path relative to the template's directory, symlinks resolved.

    Raises:
        ActionError: for ``file://``, remote and other URLs, absolute paths, a relative URL without a template
            directory, and paths (or symlinks) leading outside the template's directory.
    """
    return resolve_template_url(ctx.template_dir, url, action_id)


def _make_room_for_file(output: Path, shown: str) -> None:
    """Remove a file or link at ``output`` (never writing through a link); refuse to replace a directory."""
    if os.path.islink(output):
        os.unlink(output)
    elif output.is_dir():
        raise ActionError(f"Cannot overwrite directory '{shown}' with non-directory '{shown}'.")
    elif output.exists():
        os.unlink(output)


def _copy_file(source: Path, output: Path, what: str) -> None:
    content, mode = read_regular(source, what)
    output.write_bytes(content)
    os.chmod(output, mode & 0o7777)


class FetchPlain:
    """``fetch:plain``: copies a directory of the template into the workspace, without templating."""

    id = "fetch:plain"
    description = (
        "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the "
        "`targetPath` input option."
    )
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "description": "Relative path or absolute URL pointing to the directory tree to fetch",
            },
            "targetPath": {
                "type": "string",
                "description": "Target path within the working directory to download the contents to.",
            },
            "token": _TOKEN,
        },
        "required": ["url"],
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Copy the directory at ``url`` into ``targetPath``: files replaced, directories merged.

        Symlinks that lead outside the fetched directory or the workspace are skipped, with a log line.

        Raises:
            ActionError: ``url`` is a URL, a file, missing or outside the template's directory, or ``targetPath``
                is a file or leads out of the workspace.
        """
        ctx.log("Fetching plain content from remote URL")
        target = ctx.workspace_path(ctx.input.get("targetPath") or "./", what="targetPath")
        url = ctx.input.get("url")
        source = resolve_fetch_url(ctx, url, self.id)
        if not os.path.lexists(source):
            raise ActionError(f"ENOENT: no such file or directory, lstat '{source}'")
        if not source.is_dir():
            raise ActionError(
                f"{url} is a file: fetch:plain copies a directory; use fetch:plain:file for a single file"
            )
        if target.exists() and not target.is_dir():
            raise ActionError(f"Cannot overwrite non-directory '{ctx.input.get('targetPath')}' with directory '{url}'.")
        self._copy_tree(ctx, source, target)

    def _copy_tree(self, ctx: ActionContext, source: Path, target: Path) -> None:
        source_real = os.path.realpath(source)
        target_rel = os.path.relpath(target, os.path.realpath(ctx.workspace))
        target.mkdir(parents=True, exist_ok=True)
        for entry in list_skeleton(source, self.id, ctx.log):
            relative = entry.rstrip("/")
            output = ctx.workspace_path(os.path.join(target_rel, relative), what=f"fetched entry {relative!r}")
            path = os.path.join(source_real, relative)
            if entry.endswith("/"):
                output.mkdir(parents=True, exist_ok=True)
            elif os.path.islink(path):
                self._copy_link(ctx, path, output, source_real, relative)
            else:
                _make_room_for_file(output, relative)
                _copy_file(Path(path), output, f"fetched entry {relative!r}")

    @staticmethod
    def _copy_link(ctx: ActionContext, link: str, output: Path, source_real: str, relative: str) -> None:
        if not is_within(os.path.realpath(link), source_real):
            ctx.log(f"Skipping symlink {relative}: it points outside the fetched directory")
            return
        pointer = os.readlink(link)
        if os.path.isabs(pointer):
            # An absolute link into the fetched tree would still point at the template: make it relative.
            pointer = os.path.relpath(os.path.realpath(link), os.path.realpath(os.path.dirname(link)))
        problem = link_problem(output, pointer, ctx.workspace)
        if problem:
            ctx.log(f"Skipping symlink {relative}: {problem}")
            return
        _make_room_for_file(output, relative)
        os.symlink(pointer, output)


class FetchPlainFile:
    """``fetch:plain:file``: copies one file of the template into the workspace, without templating."""

    id = "fetch:plain:file"
    description = "Downloads single file and places it in the workspace."
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "description": "Relative path or absolute URL pointing to the single file to fetch.",
            },
            "targetPath": {
                "type": "string",
                "description": "Target path within the working directory to download the file as.",
            },
            "token": _TOKEN,
        },
        "required": ["url", "targetPath"],
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Copy the file at ``url`` to ``targetPath``, replacing a file there.

        Raises:
            ActionError: ``targetPath`` is missing, a directory or outside the workspace, or ``url`` is a URL, a
                directory, missing or outside the template's directory.
        """
        ctx.log("Fetching plain content from remote URL")
        target_path = ctx.input.get("targetPath")
        if not isinstance(target_path, str) or not target_path:
            raise ActionError("input targetPath is required")
        output = ctx.workspace_path(target_path, what="targetPath")
        url = ctx.input.get("url")
        source = resolve_fetch_url(ctx, url, self.id)
        if not source.exists():
            raise ActionError(f"ENOENT: no such file or directory, copyfile '{source}' -> '{target_path}'")
        if source.is_dir():
            raise ActionError(
                f"{url} is a directory: fetch:plain:file copies a single file; use fetch:plain for a directory"
            )
        if output.is_dir() and not output.is_symlink():
            raise ActionError(f"EISDIR: illegal operation on a directory, copyfile '{url}' -> '{target_path}'")
        output.parent.mkdir(parents=True, exist_ok=True)
        _make_room_for_file(output, target_path)
        _copy_file(source, output, f"fetched file {url!r}")


ACTIONS = (FetchPlain(), FetchPlainFile())

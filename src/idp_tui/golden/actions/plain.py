"""``fetch:plain`` and ``fetch:plain:file``: copy content into the workspace without templating, as Backstage does.

The local runner reads only local content: a path relative to the template's directory (Backstage's behaviour for
templates registered from ``file:`` locations) or a ``file://`` URL. Remote URLs are refused with an explanation.

As in Backstage (whose copy filter drops every entry that resolves outside the fetched directory), symlinks in
the fetched tree that lead outside it are not copied; unlike Backstage, a log line names each one. Links that
stay inside are copied as links. Existing files in the target are replaced, directories are merged.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .base import ActionContext, ActionError

_TOKEN = {"type": "string", "description": "An optional token to use for authentication when reading the resources."}
_SCHEMA_NOTE = "http://json-schema.org/draft-07/schema#"


def _within(path: str | Path, root: str | Path) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_fetch_url(ctx: ActionContext, url: Any) -> Path:
    """Where ``url`` is on this machine: relative to the template's directory, or a ``file://`` URL.

    Raises:
        ActionError: for remote URLs, for a relative URL without a template directory, and for relative
            paths (or symlinks) leading outside the template's directory.
    """
    if not isinstance(url, str) or not url:
        raise ActionError("input url is required")
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ActionError(f"Cannot fetch {url}: file:// URLs must name a path on this machine")
        return Path(unquote(parts.path))
    if parts.scheme and (len(parts.scheme) > 1 or "://" in url):
        raise ActionError(
            f"Cannot fetch {url}: remote fetching is not available in local mode; use a path relative to the "
            "template (./skeleton) or a file:// URL"
        )
    if ctx.template_dir is None:
        raise ActionError(
            f"Failed to fetch, template location could not be determined and the fetch URL is relative, {url}"
        )
    base = Path(os.path.abspath(ctx.template_dir))
    source = Path(os.path.normpath(base / url))
    if not _within(source, base):
        raise ActionError(
            "Relative path is not allowed to refer to a directory outside its parent: "
            f"{url} leads outside the template's directory"
        )
    return source


def _make_room_for_file(output: Path, shown: str) -> None:
    """Remove a file or link at ``output`` (never writing through a link); refuse to replace a directory."""
    if os.path.islink(output):
        os.unlink(output)
    elif output.is_dir():
        raise ActionError(f"Cannot overwrite directory '{shown}' with non-directory '{shown}'.")
    elif output.exists():
        os.unlink(output)


class FetchPlain:
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
        ctx.log("Fetching plain content from remote URL")
        target = ctx.workspace_path(ctx.input.get("targetPath") or "./", what="targetPath")
        url = ctx.input.get("url")
        source = resolve_fetch_url(ctx, url)
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
        for directory, dirnames, filenames in os.walk(source):
            dirnames.sort()
            relative_dir = os.path.relpath(directory, source)
            ctx.workspace_path(os.path.join(target_rel, relative_dir), what="targetPath").mkdir(
                parents=True, exist_ok=True
            )
            links = [name for name in dirnames if os.path.islink(os.path.join(directory, name))]
            dirnames[:] = [name for name in dirnames if name not in links]
            for name in sorted(filenames + links):
                entry = os.path.join(directory, name)
                relative = os.path.normpath(os.path.join(relative_dir, name))
                output = ctx.workspace_path(os.path.join(target_rel, relative), what=f"fetched entry {relative!r}")
                if os.path.islink(entry):
                    self._copy_link(ctx, entry, output, source_real, relative)
                    continue
                _make_room_for_file(output, relative)
                shutil.copy2(entry, output)

    @staticmethod
    def _copy_link(ctx: ActionContext, link: str, output: Path, source_real: str, relative: str) -> None:
        if not _within(link, source_real):
            ctx.log(f"Skipping symlink {relative}: it points outside the fetched directory")
            return
        _make_room_for_file(output, relative)
        pointer = os.readlink(link)
        if os.path.isabs(pointer):
            # An absolute link into the fetched tree would still point at the template: make it relative.
            pointer = os.path.relpath(os.path.realpath(link), os.path.realpath(os.path.dirname(link)))
        os.symlink(pointer, output)


class FetchPlainFile:
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
        ctx.log("Fetching plain content from remote URL")
        target_path = ctx.input.get("targetPath")
        if not isinstance(target_path, str) or not target_path:
            raise ActionError("input targetPath is required")
        output = ctx.workspace_path(target_path, what="targetPath")
        url = ctx.input.get("url")
        source = resolve_fetch_url(ctx, url)
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
        shutil.copy2(source, output)


ACTIONS = (FetchPlain(), FetchPlainFile())

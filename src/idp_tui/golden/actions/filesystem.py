"""``fs:rename`` and ``fs:delete``: move and remove files inside the workspace, with Backstage's semantics.

``fs:rename`` behaves like fs-extra's ``move`` (which Backstage uses): parents of the destination are created, an
existing destination fails with ``dest already exists.`` unless ``overwrite`` is set, and a directory never
replaces a file (nor the reverse).

``fs:delete`` treats each entry as a glob evaluated in the workspace with dot files included, like Backstage's
globby call: glob patterns match files (and symlinks, which are removed themselves, never followed), not
directories. One deliberate difference: a plain path naming a directory removes the directory. Backstage's globby
expands it to the files inside and leaves the empty directories behind; git does not record empty directories,
so a published repository is the same either way, while the local workspace is left tidy.

Every path (``from``, ``to``, each pattern and each match) goes through ``ctx.workspace_path``: absolute paths,
``..`` escapes and symlinks leading out of the workspace are refused. Log lines show workspace-relative paths
(Backstage logs absolute paths of its temporary workspace, which mean nothing to the user here).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..globs import GlobError, glob_regex, has_magic
from .base import ActionContext, ActionError

_SCHEMA_NOTE = "http://json-schema.org/draft-07/schema#"


def list_tree(root: Path) -> list[tuple[str, bool]]:
    """``(relative posix path, is_directory)`` for everything under ``root``, sorted per directory, links not followed.

    Directories come before their contents; a symlink (even one to a directory) is listed as a non-directory.
    """
    entries: list[tuple[str, bool]] = []

    def visit(directory: Path, prefix: str) -> None:
        try:
            with os.scandir(directory) as scan:
                items = sorted(scan, key=lambda item: item.name)
        except OSError:
            return
        for item in items:
            relative = prefix + item.name
            is_dir = item.is_dir(follow_symlinks=False)
            entries.append((relative, is_dir))
            if is_dir:
                visit(Path(item.path), relative + "/")

    visit(root, "")
    return entries


def _display(ctx: ActionContext, path: Path) -> str:
    relative = os.path.relpath(path, os.path.realpath(ctx.workspace))
    return Path(relative).as_posix()


class Rename:
    """``fs:rename``: moves files and directories within the workspace, as fs-extra's ``move`` does."""

    id = "fs:rename"
    description = "Renames files and directories within the workspace"
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "from": {"type": "string", "description": "The source location of the file to be renamed"},
                        "to": {"type": "string", "description": "The destination of the new file"},
                        "overwrite": {
                            "type": "boolean",
                            "description": "Overwrite existing file or directory, default is false",
                        },
                    },
                    "required": ["from", "to"],
                    "additionalProperties": False,
                },
                "description": "A list of file and directory names that will be renamed",
            }
        },
        "required": ["files"],
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Move each ``files`` entry's ``from`` to its ``to``, in order.

        Raises:
            ActionError: an entry is malformed, names the workspace itself or a path outside it, its source is
                missing, or its destination exists (without ``overwrite``), is the source, lies inside it or is
                of the other type (a directory for a file, or the reverse).
        """
        files = ctx.input.get("files")
        if not isinstance(files, list):
            raise ActionError("files must be an Array")
        for file in files:
            if not isinstance(file, dict) or not file.get("from") or not file.get("to"):
                raise ActionError("each file must have a from and to property")
            source = ctx.workspace_path(str(file["from"]), what="from")
            destination = ctx.workspace_path(str(file["to"]), what="to")
            if os.path.realpath(ctx.workspace) in (str(source), str(destination)):
                raise ActionError(f"Cannot rename {file['from']} to {file['to']}: the workspace itself cannot be moved")
            shown_from, shown_to = _display(ctx, source), _display(ctx, destination)
            try:
                self._move(source, destination, bool(file.get("overwrite", False)), shown_from, shown_to)
            except ActionError:
                ctx.log(f"Failed to rename file {shown_from} to {shown_to}:")
                raise
            ctx.log(f"File {shown_from} renamed to {shown_to} successfully")

    @staticmethod
    def _move(source: Path, destination: Path, overwrite: bool, shown_from: str, shown_to: str) -> None:
        if not os.path.lexists(source):
            raise ActionError(f"ENOENT: no such file or directory, lstat '{shown_from}'")
        source_is_dir = source.is_dir() and not source.is_symlink()
        if os.path.lexists(destination):
            same = os.lstat(source), os.lstat(destination)
            if (same[0].st_dev, same[0].st_ino) == (same[1].st_dev, same[1].st_ino):
                raise ActionError("Source and destination must not be the same.")
            destination_is_dir = destination.is_dir() and not destination.is_symlink()
            if source_is_dir and not destination_is_dir:
                raise ActionError(f"Cannot overwrite non-directory '{shown_to}' with directory '{shown_from}'.")
            if not source_is_dir and destination_is_dir:
                raise ActionError(f"Cannot overwrite directory '{shown_to}' with non-directory '{shown_from}'.")
        if source_is_dir and (destination == source or source in destination.parents):
            raise ActionError(f"Cannot move '{shown_from}' to a subdirectory of itself, '{shown_to}'.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(destination):
            if not overwrite:
                raise ActionError(
                    f"dest already exists. (renaming {shown_from} to {shown_to}; set overwrite: true to replace it)"
                )
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            else:
                os.unlink(destination)
        os.rename(source, destination)


class Delete:
    """``fs:delete``: deletes the files matching globs, or the named files and directories, in the workspace."""

    id = "fs:delete"
    description = "Deletes files and directories from the workspace"
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "files": {
                "type": "array",
                "items": {"type": "string"},
                "description": "A list of files and directories that will be deleted",
            }
        },
        "required": ["files"],
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Delete what each ``files`` entry names: a glob's matching files, a plain path's file or directory.

        Raises:
            ActionError: ``files`` is not a list, an entry leads out of the workspace or is a bad glob, or a
                deletion fails.
        """
        files = ctx.input.get("files")
        if not isinstance(files, list):
            raise ActionError("files must be an Array")
        root = Path(os.path.realpath(ctx.workspace))
        for pattern in files:
            safe = ctx.workspace_path(str(pattern), what="file")
            relative = _display(ctx, safe)
            if safe == root:
                # "." names the workspace: empty it (as globby's directory expansion would), keep the directory.
                matches = [path for path, _ in list_tree(root) if "/" not in path]
            elif not has_magic(relative):
                matches = [relative] if os.path.lexists(safe) else []
            else:
                try:
                    glob = glob_regex(relative)
                    matches = [path for path, is_dir in list_tree(root) if not is_dir and glob.fullmatch(path)]
                except GlobError as error:
                    raise ActionError(f"files: {error}") from None
            for match in matches:
                target = ctx.workspace_path(match, what="file")
                try:
                    if target.is_dir() and not target.is_symlink():
                        shutil.rmtree(target)
                    elif os.path.lexists(target):
                        os.unlink(target)
                except OSError as error:
                    ctx.log("Failed to delete file")
                    raise ActionError(f"{error.strerror or error}: {match}") from None
                ctx.log(f"File {match} deleted successfully")


class ReadDir:
    """``fs:readdir``: the files and folders under workspace paths, as outputs for later steps."""

    id = "fs:readdir"
    description = "Reads files and directories from the workspace"
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "recursive": {"type": "boolean", "default": False},
        },
        "required": ["paths"],
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Output ``files`` and ``folders`` (``name``, ``path``, ``fullPath``) under each of ``paths``.

        Only the direct children unless ``recursive``; symlinks count as files and are never followed.

        Raises:
            ActionError: ``paths`` is not a list of non-empty strings, or one leads out of the workspace.
        """
        paths = ctx.input.get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise ActionError("input paths must be a list of non-empty strings")
        recursive = bool(ctx.input.get("recursive"))
        files, folders = [], []
        for local in paths:
            root = ctx.workspace_path(local, what="path")
            for relative, is_dir in list_tree(root) if recursive else _children(root):
                full = root / relative
                element = {"name": full.name, "path": _display(ctx, full), "fullPath": str(full)}
                (folders if is_dir else files).append(element)
        ctx.output("files", files)
        ctx.output("folders", folders)


def _children(root: Path) -> list[tuple[str, bool]]:
    with os.scandir(root) as scan:
        return sorted((item.name, item.is_dir(follow_symlinks=False)) for item in scan)


ACTIONS = (Rename(), Delete(), ReadDir())

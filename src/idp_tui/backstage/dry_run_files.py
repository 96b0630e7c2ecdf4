"""A scaffolder dry run's files: the template directory as Backstage's template editor sends it, and the rendered
workspace as ``POST /v2/dry-run`` answers it (``directoryContents``: ``[{path, base64Content, executable}]``)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from ..bounded_read import RefusedRead, is_within, read_regular_file
from ..golden.gitsafety import is_git_name

# A template directory sent with a dry run is read whole; past this it is surely not a template directory.
MAX_DRY_RUN_FILES = 2000
MAX_DRY_RUN_BYTES = 50 * 1024 * 1024
TOO_MUCH = "holds too much to send with a dry run (over 2000 files or 50 MB)"


def directory_contents(base_dir: Path | None) -> list[dict[str, str]]:
    """The template directory as the template editor sends it (``[{path, base64Content}]``); ``[]`` without one.

    A template directory is written by other people, and what is read here is sent to Backstage: only regular files
    inside it are read (a symlink is read as the file it leads to there), each within what is left of the cap.

    Raises:
        ValueError: the directory is too big to be a template's (a template file at a repository root), or holds a
            symlink leading out of it, or something that is not a regular file (a FIFO, a device).
    """
    if base_dir is None or not Path(base_dir).is_dir():
        return []
    root = os.path.realpath(base_dir)
    contents, total = [], 0
    for directory, dirnames, filenames in os.walk(base_dir):
        dirnames[:] = sorted(name for name in dirnames if name != ".git")
        for filename in sorted(filenames):
            path = Path(directory, filename)
            relative = path.relative_to(base_dir).as_posix()
            if len(contents) >= MAX_DRY_RUN_FILES:
                raise ValueError(f"{base_dir} {TOO_MUCH}")
            target = os.path.realpath(path)
            if not is_within(target, root):
                raise ValueError(f"{relative} in {base_dir} is a symlink leading out of it: not sent with a dry run")
            if any(is_git_name(part) for part in Path(os.path.relpath(target, root)).parts):
                # A walked .git folder is skipped; a link into one would send its config (a remote's token, say).
                raise ValueError(f"{relative} in {base_dir} leads into a .git folder: not sent with a dry run")
            try:
                data, _ = read_regular_file(target, MAX_DRY_RUN_BYTES - total)
            except RefusedRead as refused:
                if refused.kind == "too-large":
                    raise ValueError(f"{base_dir} {TOO_MUCH}") from None
                raise ValueError(f"{relative} in {base_dir} cannot be sent with a dry run: {refused}") from None
            total += len(data)
            contents.append({"path": relative, "base64Content": base64.b64encode(data).decode("ascii")})
    return contents


def decode_contents(contents: Any) -> tuple[dict[str, bytes], set[str]]:
    """A dry run's ``directoryContents`` as ``{path: bytes}`` and the set of executable paths."""
    files: dict[str, bytes] = {}
    executables: set[str] = set()
    for item in contents if isinstance(contents, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            continue
        files[item["path"]] = base64.b64decode(item.get("base64Content") or "")
        if item.get("executable"):
            executables.add(item["path"])
    return files, executables

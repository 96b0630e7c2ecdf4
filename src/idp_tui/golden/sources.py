"""Reading what a template ships (skeletons and files) and checking the trees it leaves behind.

A template is written by someone else. The local runner reads only paths relative to the template's own
directory, after resolving symlinks: ``file://`` and every other URL is refused, so a step cannot copy
``/etc`` or ``/proc/self/environ``. Only regular files, directories and symlinks are read (a FIFO would block
forever, a device never end), each file and each skeleton within the caps below. A symlink is checked where it
is written: its target, resolved from there, must stay inside the tree it is written to.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..bounded_read import RefusedRead, file_kind, is_within, read_regular_file
from .errors import ActionError
from .gitsafety import git_problem, is_git_name, looks_like_git_dir
from .workspace import OUTSIDE_PARENT

# One skeleton file (or fetched file) at most this big.
MAX_SKELETON_FILE_BYTES = 10 * 1024 * 1024
# Files, directories and links in one skeleton (or fetched tree).
MAX_SKELETON_ENTRIES = 10_000
# All the files of one skeleton together.
MAX_SKELETON_BYTES = 100 * 1024 * 1024


def resolve_template_url(template_dir: Path | None, url: Any, action_id: str) -> Path:
    """Where ``url`` (a path relative to ``template_dir``, the template's directory) is on this machine, symlinks
    resolved.

    Raises:
        ActionError: for a missing url, any URL with a scheme (``file://``, ``https://``, ``data:`` ...), absolute
            and network paths, control characters, a template without a directory, and paths (or symlinks)
            leading outside the template's directory.
    """
    if not isinstance(url, str) or not url:
        raise ActionError("input url is required")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ActionError(f"{action_id} refuses url {url!r}: it contains a NUL byte or another control character")
    _refuse_urls(url, action_id)
    if template_dir is None:
        raise ActionError(
            f"Failed to fetch, template location could not be determined and the fetch URL is relative, {url}"
        )
    base = os.path.realpath(template_dir)
    target = os.path.realpath(os.path.join(base, url))  # symlinks resolved: a link cannot lead out either
    if not is_within(target, base):
        raise ActionError(f"{OUTSIDE_PARENT}: {action_id} url {url!r} leads outside the template's directory")
    return Path(target)


def _refuse_urls(url: str, action_id: str) -> None:
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = "?"
    if scheme.lower() in ("http", "https"):
        raise ActionError(
            f"{action_id} cannot fetch {url}: remote fetching is not available in local mode; use a path relative "
            "to the template (./skeleton)"
        )
    if scheme or url.startswith(("/", "\\")):
        raise ActionError(
            f"{action_id} refuses url {url!r}: the local runner reads only paths relative to the template's "
            "directory, never file:// or other URLs, nor absolute paths"
        )


def read_regular(path: str | Path, what: str) -> tuple[bytes, int]:
    """``(content, mode)`` of the regular file at ``path``, never following a final symlink, within the file cap.

    Raises:
        ActionError: ``path`` is not a regular file (a FIFO, a device, a socket, a link) or is over the cap.
    """
    try:
        content, status = read_regular_file(path, MAX_SKELETON_FILE_BYTES, follow_symlinks=False)
    except RefusedRead as refused:
        if refused.kind == "not-regular":
            raise ActionError(f"{what} is {refused}: only regular files, directories and symlinks are read") from None
        if refused.kind == "too-large":
            raise ActionError(f"{what} is {refused}") from None
        raise ActionError(f"cannot read {what}: {refused}") from None
    return content, status.st_mode


def list_skeleton(root: Path, action_id: str, log: Callable[[str], None]) -> list[str]:
    """Every entry under ``root``, breadth first and sorted per directory, directories ending in ``/``.

    Symlinks are listed, not followed. Entries named like a git control directory are skipped (with a log line);
    anything but a regular file, directory or symlink is refused, as is a tree over the entry or size caps.

    Raises:
        ActionError: a FIFO, socket or device, or a skeleton over :data:`MAX_SKELETON_ENTRIES` entries or
            :data:`MAX_SKELETON_BYTES` bytes, or a file over :data:`MAX_SKELETON_FILE_BYTES`.
    """
    entries: list[str] = []
    pending = [""]
    total = 0
    while pending:
        prefix = pending.pop(0)
        with os.scandir(root / prefix if prefix else root) as scan:
            items = sorted(scan, key=lambda e: e.name)
        for item in items:
            relative = prefix + item.name
            if is_git_name(item.name):
                log(f"Skipping {relative}: a skeleton's git control directory is never copied")
                continue
            if len(entries) >= MAX_SKELETON_ENTRIES:
                raise ActionError(
                    f"{action_id}: the skeleton holds more than {MAX_SKELETON_ENTRIES} files and directories"
                )
            mode = item.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                entries.append(relative + "/")
                pending.append(relative + "/")
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise ActionError(
                    f"{action_id}: skeleton entry {relative!r} is {file_kind(mode)}: only regular files, directories "
                    "and symlinks are copied"
                )
            if stat.S_ISREG(mode):
                size = item.stat(follow_symlinks=False).st_size
                if size > MAX_SKELETON_FILE_BYTES:
                    raise ActionError(
                        f"{action_id}: skeleton entry {relative!r} is larger than {MAX_SKELETON_FILE_BYTES} bytes"
                    )
                total += size
                if total > MAX_SKELETON_BYTES:
                    raise ActionError(f"{action_id}: the skeleton holds more than {MAX_SKELETON_BYTES} bytes")
            entries.append(relative)
    return entries


def link_problem(output: Path, pointer: str, root: Path, where: str = "the task workspace") -> str | None:
    """Why a symlink at ``output`` pointing at ``pointer`` may not be written inside ``root`` (None when it may).

    The target is resolved from where the link is written, through any links that already exist there, and
    must stay inside ``root``. Absolute targets are refused: they name the host, not the tree.
    """
    if os.path.isabs(pointer) or pointer.startswith("\\") or "\x00" in pointer:
        return f"its target {pointer!r} is absolute"
    if git_problem(pointer, "its target"):
        return f"its target {pointer!r} names a git control directory"
    root_real = os.path.realpath(root)
    lexical = os.path.normpath(os.path.join(os.path.dirname(output), pointer))
    if not is_within(lexical, root_real) or not is_within(os.path.realpath(lexical), root_real):
        return f"its target {pointer!r} leads outside {where}"
    return None


def audit_tree(root: Path, what: str, *, where: str = "it") -> None:
    """Check a tree before it leaves the task (published, copied to ``--output``, shown by a dry run).

    Refused: symlinks whose target leads outside ``root``, entries named like a git control directory, folders
    shaped like a bare git repository, and anything but files, folders and links.

    Args:
        root: the tree.
        what: the tree's role in messages ("the workspace", "publish:github: sourcePath").
        where: the tree in messages about links ("the task workspace", "the published folder").

    Raises:
        ActionError: naming the first offending entry.
    """
    root_real = os.path.realpath(root)
    if looks_like_git_dir(Path(root_real)):
        raise ActionError(f"{what} is shaped like a git repository's control directory (HEAD, objects, refs)")
    for directory, dirnames, filenames in os.walk(root_real):
        for name in [*dirnames, *filenames]:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root_real)
            problem = git_problem(relative, f"{what} entry")
            if problem:
                raise ActionError(problem)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                reason = link_problem(Path(path), os.readlink(path), Path(root_real), where)
                if reason:
                    raise ActionError(f"{what} entry {relative!r} is a symlink that cannot be kept: {reason}")
            elif stat.S_ISDIR(mode):
                if looks_like_git_dir(Path(path)):
                    raise ActionError(
                        f"{what} entry {relative!r} is shaped like a git repository's control directory "
                        "(HEAD, objects, refs): git would read its config and run commands from it"
                    )
            elif not stat.S_ISREG(mode):
                raise ActionError(f"{what} entry {relative!r} is {file_kind(mode)}")

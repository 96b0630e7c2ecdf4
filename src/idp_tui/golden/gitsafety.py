"""Names and folders that git would treat as a repository's control directory.

A ``.git`` folder (or a folder shaped like a bare repository) is code to git: its ``config`` may set
``core.fsmonitor``, ``core.pager`` or hooks that run as soon as someone types ``git status`` below it. A template
must never be able to place one: repository names, owners, workspace paths and branch names that name a control
directory are refused, and a skeleton's own ``.git`` is never copied.

A name counts as ``.git`` the way the file systems git protects against see it (git's ``core.protectNTFS`` and
``core.protectHFS``): case-insensitively, with trailing dots and spaces dropped (Windows), with the characters HFS+
ignores removed (macOS), and as Windows' short name ``GIT~1``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Characters HFS+ ignores in names (zero-width and direction marks): ".g\u200cit" is ".git" on macOS.
_HFS_IGNORED = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]")
_SEPARATORS = re.compile(r"[/\\]")


def is_git_name(segment: str) -> bool:
    """Whether one path segment names a git control directory on some file system git supports."""
    name = _HFS_IGNORED.sub("", segment).rstrip(". ").lower()
    return name in (".git", "git~1")


def git_segment(path: str) -> str | None:
    """The first segment of ``path`` (``/`` or ``\\`` separated) that names a git control directory, if any."""
    return next((part for part in _SEPARATORS.split(str(path)) if is_git_name(part)), None)


def git_problem(path: str, what: str) -> str | None:
    """Why ``path`` (given as ``what``) may not be used, or None when it names no git control directory."""
    segment = git_segment(path)
    if segment is None:
        return None
    return f"{what} {path!r} names a git control directory ({segment!r}), which git would run commands from"


def looks_like_git_dir(directory: Path) -> bool:
    """Whether git would take ``directory`` itself for a repository's control directory (a bare repository)."""
    if not os.path.isfile(directory / "HEAD") or os.path.islink(directory / "HEAD"):
        return False
    return os.path.isfile(directory / "commondir") or (
        os.path.isdir(directory / "objects") and os.path.isdir(directory / "refs")
    )

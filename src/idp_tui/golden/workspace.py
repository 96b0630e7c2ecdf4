"""Keeping every file a template writes inside its task workspace."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ..bounded_read import is_within
from .errors import ActionError
from .gitsafety import git_problem

# Backstage's own words for every path that would leave its parent (resolveSafeChildPath).
OUTSIDE_PARENT = "Relative path is not allowed to refer to a directory outside its parent"


def inside(root: Path, relative: str, *, what: str = "path") -> Path:
    """``relative`` joined to ``root``, refusing anything that would land outside it.

    Refused: absolute paths, ``..`` segments that climb above ``root``, paths that pass through a symlink
    pointing outside ``root``, and paths naming a git control directory (``.git``, ``.GIT.``: git would run
    commands from what lands there). The returned path may not exist yet.

    Raises:
        ActionError: naming ``what`` and the offending value.
    """
    text = str(relative)
    if "\x00" in text:
        raise ActionError(f"{what} {text!r} contains a NUL byte")
    problem = git_problem(text, what)
    if problem:
        raise ActionError(problem)
    posix = PurePosixPath(text.replace("\\", "/"))
    if posix.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise ActionError(f"{OUTSIDE_PARENT}: {what} {text!r} is absolute")
    root_real = Path(os.path.realpath(root))
    candidate = Path(os.path.normpath(root_real.joinpath(*posix.parts))) if posix.parts else root_real
    if not is_within(candidate, root_real):
        raise ActionError(f"{OUTSIDE_PARENT}: {what} {text!r} leads outside the task workspace")
    # Resolve symlinks on the part that exists: a link inside the workspace may point anywhere.
    if not is_within(Path(os.path.realpath(candidate)), root_real):
        raise ActionError(f"{OUTSIDE_PARENT}: {what} {text!r} follows a symlink outside the task workspace")
    return candidate

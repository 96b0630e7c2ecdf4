"""Location target globs that stay inside the catalog root, end on symlink loops and stop at a cap.

``glob.glob('./**/*.yaml', recursive=True)`` follows symlinks to folders: two links back to ``.`` make 2^40
paths, and ``/**/*.yaml`` walks the whole disk. This walk matches what ``glob.glob`` would for an ordinary
tree (wildcards skip hidden names unless the pattern part starts with a dot, ``**`` is zero or more folders),
but enters a folder only when its resolved path lies inside the root, visits each resolved folder once for
each part of the pattern, and stops after ``max_files`` matches or ``max_folders`` folders listed.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .file_access import is_within


class OutsideRoot(Exception):
    """The pattern's fixed leading folders (or the named file) resolve outside the catalog root."""


@dataclass
class GlobBudget:
    """Folders that globs may still list (shared by every glob of one catalog load)."""

    folders: int


@dataclass
class GlobResult:
    """What :func:`confined_glob` found: the matching paths, and whether a cap stopped it early."""

    matches: list[str]
    truncated: bool = False  # stopped at max_files
    out_of_folders: bool = False  # stopped because the catalog's globs listed max_folders folders


def confined_glob(pattern: str, root: str, max_files: int, budget: GlobBudget) -> GlobResult:
    """The non-folder paths matching an absolute, normalised ``pattern`` under the resolved ``root``, sorted.

    Raises:
        OutsideRoot: the part of the pattern before its first wildcard resolves outside ``root``.
    """
    parts = pattern.split(os.sep)
    first = next(index for index, part in enumerate(parts) if glob.has_magic(part))
    base = os.sep.join(parts[:first]) or os.sep
    base_real = os.path.realpath(base)
    if not is_within(base_real, root):
        raise OutsideRoot(base)
    rest = parts[first:]
    result = GlobResult([])
    seen: set[tuple[str, int]] = set()
    found: set[str] = set()
    stack = [(base, base_real, 0)]
    while stack:
        directory, real, index = stack.pop()
        if (real, index) in seen:
            continue
        seen.add((real, index))
        if budget.folders <= 0:
            result.out_of_folders = True
            break
        budget.folders -= 1
        part = rest[index]
        last = index == len(rest) - 1
        recursive = part == "**"
        if recursive and not last:
            stack.append((directory, real, index + 1))  # ``**`` matching no folder at all
        if not glob.has_magic(part):
            child = os.path.join(directory, part)
            if last:
                if os.path.lexists(child) and not os.path.isdir(child):
                    found.add(child)
            elif os.path.isdir(child):
                child_real = os.path.realpath(child)
                if is_within(child_real, root):
                    stack.append((child, child_real, index + 1))
            continue
        for name, is_dir, is_link in _listing(directory):
            if name.startswith(".") and not part.startswith("."):
                continue  # glob's wildcards skip hidden names
            path = os.path.join(directory, name)
            if is_dir:
                if recursive or (not last and fnmatchcase(name, part)):
                    child_real = os.path.realpath(path) if is_link else os.path.join(real, name)
                    if is_within(child_real, root):
                        stack.append((path, child_real, index if recursive else index + 1))
            elif last and (recursive or fnmatchcase(name, part)):
                found.add(path)
                if len(found) > max_files:
                    break
        if len(found) > max_files:
            break
    matches = sorted(found)
    if len(matches) > max_files:
        matches, result.truncated = matches[:max_files], True
    result.matches = matches
    return result


def _listing(directory: str) -> list[tuple[str, bool, bool]]:
    """``(name, is a folder (following symlinks), is a symlink)`` for each entry, sorted; empty if unreadable."""
    try:
        with os.scandir(directory) as entries:
            listing = []
            for entry in entries:
                try:
                    listing.append((entry.name, entry.is_dir(), entry.is_symlink()))
                except OSError:
                    continue
    except OSError:
        return []
    return sorted(listing)

"""Finding catalog files: scanning directories, and resolving Location globs against what was scanned.

A catalog directory is often also the target of its own root Location (``./repos/*/catalog-info.yaml``).
Globbing again would list every folder a second time, which is a large part of opening a catalog of
tens of thousands of repositories; when every folder the glob could enter was already scanned, the
glob is answered from the scan. Folders the scan skips are remembered, so a pattern that could reach
into one of them is still globbed on disk.

A catalog is written by other people: the scan never follows a symlink to a folder and stops after
``limits.MAX_CATALOG_FILES`` files, and a glob on disk stays inside the catalog root (``confined_glob``).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

from . import limits
from .confined_glob import GlobBudget, GlobResult, OutsideRoot, confined_glob
from .file_access import is_within

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRECTORIES = {"node_modules", "skeleton", "skeletons", "__pycache__"}
# A Helm chart's templates are not YAML until Helm renders them (``name: {{ .Release.Name }}``): skipped like a
# golden path's skeleton.
CHART_FILE, CHART_TEMPLATES = "Chart.yaml", "templates"


@dataclass
class ScannedTree:
    """The YAML files found under some directories, and the skeleton-like folders skipped on the way.

    ``previous`` holds listings from an earlier scan (see :attr:`listings`): a folder whose modification
    time has not changed has the same entries, so a stat replaces reading it again.
    """

    previous: dict[str, tuple] = field(default_factory=dict)
    listings: dict[str, tuple] = field(default_factory=dict)
    relisted: bool = False  # a folder was read again (new, or changed since the previous scan)
    roots: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # The resolved path of each scanned root, and whether a scan stopped at limits.MAX_CATALOG_FILES.
    real_roots: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    glob_budget: GlobBudget = field(default_factory=lambda: GlobBudget(limits.MAX_GLOB_FOLDERS))

    @property
    def changed(self) -> bool:
        """Whether any folder differs from the previous scan (so the new listings are worth saving).

        A folder read again has a new modification time, so its listing differs; the others are the previous
        listings themselves: comparing the folders listed is enough (comparing every listing took ~10 ms at
        23,000 folders, on every start).
        """
        return self.relisted or self.listings.keys() != self.previous.keys()

    def scan(self, directory: str) -> list[str]:
        """Add every YAML file under ``directory`` (depth first, sorted) and return them."""
        found: list[str] = []
        room = limits.MAX_CATALOG_FILES - len(self.files)
        stack = [directory]
        while stack:
            current = stack.pop()
            listing = self._list(current)
            if listing is None:
                continue
            _, subdirectories, yaml_files, skipped = listing
            # os.path.join of a listed name (never absolute, never holding a separator), made plain: this runs
            # for every folder of the catalog on every start.
            prefix = current if current.endswith(os.sep) else current + os.sep
            found += [prefix + name for name in yaml_files]
            if len(found) > room:  # a catalog this large is cut short, and says so
                del found[max(room, 0) :]
                self.truncated = True
                break
            if skipped:
                self.skipped += [prefix + name for name in skipped]
            stack.extend([prefix + name for name in reversed(subdirectories)])
        self.roots.append(directory)
        self.real_roots[directory] = os.path.realpath(directory)
        self.files += found
        return found

    def _list(self, directory: str) -> tuple | None:
        try:
            mtime_ns = os.stat(directory).st_mtime_ns
        except OSError:
            return None
        listing = self.previous.get(directory)
        if listing is None or listing[0] != mtime_ns:
            self.relisted = True
            try:
                with os.scandir(directory) as entries:
                    ordered = sorted(entries, key=lambda entry: entry.name)
            except OSError:
                return None
            subdirectories, yaml_files, skipped = [], [], []
            is_chart = any(entry.name == CHART_FILE for entry in ordered)
            for entry in ordered:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIPPED_DIRECTORIES or (is_chart and name == CHART_TEMPLATES):
                        skipped.append(name)
                    elif not name.startswith("."):  # glob's wildcards skip hidden folders too
                        subdirectories.append(name)
                elif entry.is_symlink() and _is_dir(entry):
                    # Never entered (it may lead out of the root, or back into itself); listed as skipped so
                    # a glob that could reach into it goes to the disk, where the walk checks where it leads.
                    skipped.append(name)
                elif name.endswith(YAML_SUFFIXES):
                    yaml_files.append(name)
            listing = (mtime_ns, subdirectories, yaml_files, skipped)
        self.listings[directory] = listing
        return listing

    def glob(self, pattern: str, root: str | None = None) -> list[str]:
        """The files matching an absolute glob ``pattern``, sorted, as ``glob.glob`` would find them.

        ``root`` (resolved) is the folder the matches must lie in; by default the scanned root holding the
        pattern (none: no matches). Matches stop at ``limits.MAX_GLOB_FILES`` (:meth:`match` tells whether).
        """
        if root is None:
            holding = [real for lexical, real in self.real_roots.items() if pattern.startswith(lexical + os.sep)]
            if not holding:
                return []
            root = holding[0]
        try:
            return self.match(pattern, root).matches
        except OutsideRoot:
            return []

    def match(self, pattern: str, root: str) -> GlobResult:
        """The files an absolute, normalised Location ``pattern`` names inside the resolved ``root``.

        A pattern without wildcards names one path: anything there but a folder, so that a FIFO or a device
        is reported when read rather than silently missing.

        Raises:
            OutsideRoot: the pattern (or its part before the first wildcard) resolves outside ``root``.
        """
        if not glob.has_magic(pattern):
            if not is_within(os.path.realpath(pattern), root):
                raise OutsideRoot(pattern)
            return GlobResult([pattern] if os.path.lexists(pattern) and not os.path.isdir(pattern) else [])
        parts = pattern.split(os.sep)
        max_files = limits.MAX_GLOB_FILES
        if self._covers(pattern, parts, root):
            matches = sorted(path for path in self.files if _matches(path, parts))
            return GlobResult(matches[:max_files], truncated=len(matches) > max_files)
        return confined_glob(pattern, root, max_files, self.glob_budget)

    def _covers(self, pattern: str, parts: list[str], root: str) -> bool:
        if "**" in parts or any(part.startswith(".") for part in parts):
            return False  # recursive, or naming a hidden folder the scan did not enter
        # Only a scan of this very root answers: its files are inside it.
        if not any(pattern.startswith(lexical + os.sep) and real == root for lexical, real in self.real_roots.items()):
            return False
        for skipped in self.skipped:
            skipped_parts = skipped.split(os.sep)
            depth = len(skipped_parts)
            leading = zip(skipped_parts, parts, strict=False)
            if depth < len(parts) and all(fnmatchcase(name, part) for name, part in leading):
                return False  # the glob could enter a folder the scan skipped
        return True


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _matches(path: str, pattern_parts: list[str]) -> bool:
    """Whether ``path`` matches the glob split into ``pattern_parts``, part by part as ``glob`` matches."""
    leading, checks = _part_checks(tuple(pattern_parts))
    if not path.startswith(leading):  # most paths of a catalog differ from a pattern before its first wildcard
        return False
    path_parts = path.split(os.sep)
    if len(path_parts) != len(pattern_parts):
        return False
    for index, part, match in checks:
        name = path_parts[index]
        if match is None:
            if name != part:
                return False
        # glob's wildcards never match hidden names unless the pattern itself starts with a dot.
        elif (name.startswith(".") and not part.startswith(".")) or (name != part and match(name) is None):
            return False
    return True


@lru_cache(maxsize=64)
def _part_checks(parts: tuple[str, ...]) -> tuple[str, list[tuple[int, str, Callable[[str], object] | None]]]:
    """``(the literal start of the pattern, each later part with its matcher)``, made once per pattern: a catalog
    matches every file it scanned against each Location glob, on every start."""
    literal = 0
    while literal < len(parts) and not glob.has_magic(parts[literal]):
        literal += 1
    leading = os.sep.join(parts[:literal]) + (os.sep if literal < len(parts) else "")
    checks = [
        (index, part, re.compile(fnmatch.translate(part)).match if glob.has_magic(part) else None)
        for index, part in enumerate(parts)
        if index >= literal
    ]
    return leading, checks

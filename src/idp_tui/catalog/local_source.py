"""A catalog read from local YAML files: a file, or a directory of them, following Location entities.

Directories are searched recursively for ``*.yaml``/``*.yml``, skipping hidden folders, ``node_modules``
and template ``skeleton`` folders (their ``catalog-info.yaml`` files are templates, not entities). A file
found that way counts only if it looks like a catalog file (a built-in kind or a Backstage apiVersion), so
OpenAPI specs, Kubernetes manifests and mkdocs.yml beside the descriptors are not reported as bad entities;
files named explicitly or reached through a Location are always checked in full.
Location targets are resolved relative to the file that declares them, globs included; each file is
read once however many Locations point at it, so Location cycles end.

A catalog is written by other people. Every file read (scanned, named by a Location or by a placeholder)
must resolve inside its catalog root — the folder given, or the folder of the file given; the registry of
registered entities is a root of its own — and be a regular file within a size cap; globs stay inside the
root, and a catalog stops at ``limits.MAX_CATALOG_FILES`` files. A file refused is a problem at its line.
"""

from __future__ import annotations

import gc
import glob
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import limits
from .problems import Problem
from .protocols import CatalogSource

# The reading machinery (discovery, confinement, the model) is imported by load(): the TUI makes this source
# for its first frame, which needs only the catalog's label.
if TYPE_CHECKING:
    from .discovery import ScannedTree
    from .model import Catalog
    from .parse_cache import ParseCache
    from .parsed_file import ParsedFile


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a catalog, then set the result aside.

    Building 50,000 entity dicts triggers hundreds of collections that find nothing to free; pausing
    them makes parsing and cache reads 3-4x faster. The catalog lives as long as the program, so the
    objects built are frozen (moved out of the collector's sight) instead of being scanned again by
    the first collection after it is re-enabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


# How far a path to read is known to be confined (see file_access.checked_stat):
_NAMED = 0  # named by the user, so its own root
_INSIDE = 1  # found by a scan or a confined glob: its folder is inside the root, only a symlink there can lead out
_UNCHECKED = 2  # named by a Location without wildcards: resolved in full when read


@dataclass
class LoadStats:
    """What a :class:`LocalCatalogSource` read, for ``validate``'s summary.

    Attributes:
        files: files read, parsed afresh or from the cache (adds up over loads).
        parsed: files parsed afresh (adds up over loads).
        cached: files read back from the parse cache (adds up over loads).
        ignored: files the last load found by scanning and set aside as not meant for the catalog.
    """

    files: int = 0
    parsed: int = 0
    cached: int = 0
    ignored: int = 0


class _CatalogExpansion:
    """What aliases and placeholders added so far, against the budgets of the whole catalog.

    Each file's own budgets keep one file from printing gigabytes; these keep many files, each just under
    its own, from adding up to the same.
    """

    def __init__(self) -> None:
        self.alias_nodes = 0
        self.included_bytes = 0

    def admits(self, parsed: ParsedFile, problems: list[Problem]) -> bool:
        """Whether the file's documents fit what is left; if not, a problem says so and they are left out."""
        alias_nodes = self.alias_nodes + parsed.alias_nodes
        included_bytes = self.included_bytes + parsed.included_bytes
        if alias_nodes > limits.MAX_ALIAS_NODES_PER_CATALOG:
            message = (
                f"not read: its aliases would take the catalog past {limits.MAX_ALIAS_NODES_PER_CATALOG:,} "
                "nodes added by aliases"
            )
        elif included_bytes > limits.MAX_INCLUDED_BYTES_PER_CATALOG:
            size = limits.MAX_INCLUDED_BYTES_PER_CATALOG // limits.MIB
            message = f"not read: its placeholders would take the catalog past {size} MiB included"
        else:
            self.alias_nodes, self.included_bytes = alias_nodes, included_bytes
            return True
        problems.append(Problem(parsed.path, 1, message, "yaml"))
        return False


class LocalCatalogSource(CatalogSource):
    """Reads a catalog from local paths: every entity whole, so it needs none of the optional lookups."""

    def __init__(
        self,
        paths: list[str | Path],
        *,
        use_cache: bool = True,
        cache_dir: Path | None = None,
        optional_paths: list[str | Path] = (),
    ) -> None:
        self.roots = [os.path.abspath(os.fspath(p)) for p in paths]
        # Read when they exist, silently skipped when not (the registry of entities this user registered).
        # Each is a root of its own, written by idp-tui only: its Locations name the repositories the user
        # published, wherever they are, and each file they name is then the root of what it names in turn.
        self.optional_roots = [os.path.abspath(os.fspath(p)) for p in optional_paths]
        self.use_cache = use_cache
        self.cache_dir = cache_dir
        self.stats = LoadStats()

    @property
    def label(self) -> str:
        """The catalog's paths, comma-separated."""
        return ", ".join(self.roots)

    def load(self) -> Catalog:
        """Read every file reachable from the roots. Bad files become problems; nothing raises."""
        # Imported here: the YAML parser and validators load in the worker that reads the catalog,
        # not on the TUI's start-up path.
        from .entity import entity_read_at
        from .model import Catalog
        from .parse_cache import ParseCache

        cache = ParseCache.for_roots(self.roots, self.cache_dir) if self.use_cache else ParseCache(None)
        with gc_paused():
            cache.load()
            files, set_aside, tree, problems = self._read_all(cache)
            accepted = []
            expansion = _CatalogExpansion()
            for parsed in files.values():
                problems += parsed.problems
                if (parsed.alias_nodes or parsed.included_bytes) and not expansion.admits(parsed, problems):
                    continue
                path = parsed.path
                for line, data, key, relations, document_problems in parsed.documents:  # once per entity
                    if document_problems:
                        problems += document_problems
                    elif key is not None:
                        accepted.append((entity_read_at(data, key, path, line), relations))
            catalog = Catalog.build(accepted, problems, self.label)
        if self.stats.parsed or tree.changed:
            cache.save([*files.values(), *set_aside.values()], tree.listings)
        return catalog

    def _read_all(
        self, cache: ParseCache
    ) -> tuple[dict[str, ParsedFile], dict[str, ParsedFile], ScannedTree, list[Problem]]:
        """Read every file: ``(catalog files, scanned files set aside, the scan, problems)``."""
        from .discovery import ScannedTree

        files: dict[str, ParsedFile] = {}
        problems: list[Problem] = []
        tree = ScannedTree(previous=cache.directories)
        queue: deque[str] = deque()
        # Each path with the resolved root it must stay in (and its targets too) and how far it is checked.
        origins: dict[str, tuple[str, int]] = {}
        explicit: set[str] = set()  # named, or reached through a Location: always checked in full
        for root in self.roots + [r for r in self.optional_roots if os.path.exists(r)]:
            if os.path.isdir(root):
                real = os.path.realpath(root)
                for path in tree.scan(root):
                    if path not in origins:
                        origins[path] = (real, _INSIDE)
                        queue.append(path)
            elif os.path.exists(root):
                if root not in origins:
                    origins[root] = (os.path.realpath(os.path.dirname(root)), _NAMED)
                    queue.append(root)
                explicit.add(root)
            else:
                problems.append(Problem(root, 1, "no such file or directory", "location"))
        registries = {os.path.realpath(root) for root in self.optional_roots}
        read_one = self._reader(cache)
        ignored: dict[str, ParsedFile] = {}
        read = 0
        stopped_at = self.roots[0] if tree.truncated else None
        while queue:
            if read >= limits.MAX_CATALOG_FILES:
                stopped_at = queue[0]
                break
            path = queue.popleft()
            read += 1
            root, how = origins[path]
            parsed = read_one(path, root, how)
            if path not in explicit and not parsed.looks_like_catalog_file():
                ignored[path] = parsed
                continue
            files[path] = parsed
            registered = root in registries
            for target, target_how in self._location_targets(parsed, os.sep if registered else root, tree, problems):
                explicit.add(target)
                if target in ignored:  # scanned and set aside, but a Location names it
                    files[target] = ignored.pop(target)
                elif target not in origins:
                    origins[target] = (
                        (os.path.realpath(os.path.dirname(target)), _NAMED) if registered else (root, target_how)
                    )
                    queue.append(target)
        if stopped_at is not None:
            message = (
                f"stopped after {limits.MAX_CATALOG_FILES:,} files: a catalog is read up to that many, "
                "and the files from here on were not read"
            )
            problems.append(Problem(stopped_at, 1, message, "location"))
        self.stats.ignored = len(ignored)
        return files, ignored, tree, problems

    def _reader(self, cache: ParseCache) -> Callable[[str, str, int], ParsedFile]:
        """``read_one(path, root, how)``: a file from the cache if unchanged, parsed otherwise, refused if it must be.

        Made once per load: it runs for every file of the catalog, and imports inside it would run as often.
        """
        from .file_access import RefusedRead, checked_stat
        from .parsed_file import parse_file, unreadable_file

        stats, cached_parse, limit = self.stats, cache.get, limits.MAX_CATALOG_FILE_BYTES

        def read_one(path: str, root: str, how: int) -> ParsedFile:
            try:
                stat = checked_stat(path, None if how == _NAMED else root, limit, parent_inside=how == _INSIDE)
            except RefusedRead as refused:
                return unreadable_file(path, str(refused))
            stats.files += 1
            parsed = cached_parse(path, stat)
            if parsed is not None:
                stats.cached += 1
                return parsed
            stats.parsed += 1
            return parse_file(path, stat, root)

        return read_one

    @staticmethod
    def _location_targets(
        parsed: ParsedFile, root: str, tree: ScannedTree, problems: list[Problem]
    ) -> list[tuple[str, int]]:
        """The files a file's Location entities name inside ``root``, each with how far it is checked."""
        found: list[tuple[str, int]] = []
        for document in parsed.documents:
            data = document.data
            if document.problems or document.key is None or data.get("kind") != "Location":
                continue
            spec = data.get("spec") or {}
            targets = ([spec["target"]] if spec.get("target") else []) + list(spec.get("targets") or [])
            for target in targets:
                matches, messages = _follow_target(target, spec, os.path.dirname(parsed.path), root, tree)
                problems += [Problem(parsed.path, document.line, m, "location", document.key) for m in messages]
                found += matches
        return found


def _follow_target(
    target: str, spec: dict, base_dir: str, root: str, tree: ScannedTree
) -> tuple[list[tuple[str, int]], list[str]]:
    """``(files with how far each is checked, problems)`` for one Location target."""
    from .confined_glob import OutsideRoot

    location_type = spec.get("type", "file")
    if location_type != "file" or "://" in target:
        return [], [
            f"Location target {target} (type {location_type}) is not read by a local catalog; "
            "only file targets are followed"
        ]
    if "\0" in target:
        return [], [f"Location target {target!r} holds a null byte"]
    pattern = os.path.normpath(os.path.join(base_dir, target))
    try:
        result = tree.match(pattern, root)
    except OutsideRoot:
        return [], [f"Location target {target} is outside the catalog root {root}; only files under it are read"]
    messages = []
    if result.truncated:
        messages.append(f"Location target {target} stopped after {limits.MAX_GLOB_FILES:,} files (one glob's most)")
    if result.out_of_folders:
        messages.append(
            f"Location target {target} was cut short: the catalog's globs listed "
            f"{limits.MAX_GLOB_FOLDERS:,} folders, the most they may"
        )
    elif not result.matches and spec.get("presence", "required") == "required":
        messages.append(f"Location target {target} matched no files")
    how = _INSIDE if glob.has_magic(pattern) else _UNCHECKED
    return [(match, how) for match in result.matches], messages

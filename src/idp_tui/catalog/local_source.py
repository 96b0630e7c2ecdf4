"""A catalog read from local YAML files: a file, or a directory of them, following Location entities.

Directories are searched recursively for ``*.yaml``/``*.yml``, skipping hidden folders, ``node_modules``
and template ``skeleton`` folders (their ``catalog-info.yaml`` files are templates, not entities). A file
found that way counts only if it looks like a catalog file (a built-in kind or a Backstage apiVersion), so
OpenAPI specs, Kubernetes manifests and mkdocs.yml beside the descriptors are not reported as bad entities;
files named explicitly or reached through a Location are always checked in full.
Location targets are resolved relative to the file that declares them, globs included; each file is
read once however many Locations point at it, so Location cycles end.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .discovery import ScannedTree
from .entity import Entity, SourceLocation
from .model import Catalog
from .problems import Problem

if TYPE_CHECKING:
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


@dataclass
class LoadStats:
    files: int = 0
    parsed: int = 0
    cached: int = 0
    ignored: int = 0


class LocalCatalogSource:
    """Reads a catalog from local paths. Implements the ``CatalogSource`` protocol."""

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
        self.optional_roots = [os.path.abspath(os.fspath(p)) for p in optional_paths]
        self.use_cache = use_cache
        self.cache_dir = cache_dir
        self.stats = LoadStats()

    @property
    def label(self) -> str:
        return ", ".join(self.roots)

    def load(self) -> Catalog:
        """Read every file reachable from the roots. Bad files become problems; nothing raises."""
        # Imported here: the YAML parser and validators load in the worker that reads the catalog,
        # not on the TUI's start-up path.
        from .parse_cache import ParseCache

        cache = ParseCache.for_roots(self.roots, self.cache_dir) if self.use_cache else ParseCache(None)
        with gc_paused():
            cache.load()
            files, set_aside, tree, problems = self._read_all(cache)
            accepted = []
            for parsed in files.values():
                problems += parsed.problems
                for document in parsed.documents:
                    if document.problems:
                        problems += document.problems
                    elif document.key is not None:
                        entity = Entity(document.data, document.key, SourceLocation(parsed.path, document.line))
                        accepted.append((entity, document.relations))
            catalog = Catalog.build(accepted, problems, self.label)
        if self.stats.parsed or tree.changed:
            cache.save([*files.values(), *set_aside.values()], tree.listings)
        return catalog

    def _read_all(
        self, cache: ParseCache
    ) -> tuple[dict[str, ParsedFile], dict[str, ParsedFile], ScannedTree, list[Problem]]:
        """Read every file: ``(catalog files, scanned files set aside, the scan, problems)``."""
        files: dict[str, ParsedFile] = {}
        problems: list[Problem] = []
        tree = ScannedTree(previous=cache.directories)
        queue: deque[str] = deque()
        explicit: set[str] = set()  # named, or reached through a Location: always checked in full
        for root in self.roots + [r for r in self.optional_roots if os.path.exists(r)]:
            if os.path.isdir(root):
                queue.extend(tree.scan(root))
            elif os.path.exists(root):
                queue.append(root)
                explicit.add(root)
            else:
                problems.append(Problem(root, 1, "no such file or directory", "location"))
        queued = set(queue)
        ignored: dict[str, ParsedFile] = {}
        while queue:
            path = queue.popleft()
            parsed = self._read_one(path, cache)
            if path not in explicit and not parsed.looks_like_catalog_file():
                ignored[path] = parsed
                continue
            files[path] = parsed
            for target in self._location_targets(parsed, tree, problems):
                explicit.add(target)
                if target in ignored:  # scanned and set aside, but a Location names it
                    files[target] = ignored.pop(target)
                elif target not in queued:
                    queued.add(target)
                    queue.append(target)
        self.stats.ignored = len(ignored)
        return files, ignored, tree, problems

    def _read_one(self, path: str, cache: ParseCache) -> ParsedFile:
        from .parsed_file import ParsedFile, parse_file

        try:
            stat = os.stat(path)
        except OSError as error:
            return ParsedFile(path, 0, 0, problems=[Problem(path, 1, f"cannot read file: {error.strerror}", "yaml")])
        self.stats.files += 1
        parsed = cache.get(path, stat)
        if parsed is not None:
            self.stats.cached += 1
            return parsed
        self.stats.parsed += 1
        return parse_file(path, stat)

    @staticmethod
    def _location_targets(parsed: ParsedFile, tree: ScannedTree, problems: list[Problem]) -> list[str]:
        found: list[str] = []
        for document in parsed.documents:
            data = document.data
            if document.problems or document.key is None or data.get("kind") != "Location":
                continue
            spec = data.get("spec") or {}
            targets = ([spec["target"]] if spec.get("target") else []) + list(spec.get("targets") or [])
            location_type = spec.get("type", "file")
            for target in targets:
                where = (parsed.path, document.line)
                if location_type != "file" or "://" in target:
                    problems.append(
                        Problem(
                            *where,
                            f"Location target {target} (type {location_type}) is not read by a "
                            "local catalog; only file targets are followed",
                            "location",
                            document.key,
                        )
                    )
                    continue
                pattern = os.path.normpath(os.path.join(os.path.dirname(parsed.path), target))
                matches = tree.glob(pattern)
                if not matches and spec.get("presence", "required") == "required":
                    problems.append(
                        Problem(*where, f"Location target {target} matched no files", "location", document.key)
                    )
                found += matches
        return found

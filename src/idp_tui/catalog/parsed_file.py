"""One catalog file read, validated and ready to cache: documents, verdicts, problems, dependencies."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import limits
from .entity import KNOWN_KINDS
from .problems import Problem

BACKSTAGE_API_GROUPS = ("backstage.io/", "scaffolder.backstage.io/")


class ParsedDocument(NamedTuple):
    """A document of a file with its verdict (a named tuple: the cache holds tens of thousands).

    ``key`` is ``None`` when the document is not an entity at all; ``problems`` empty means accepted.
    """

    line: int
    data: Any
    key: str | None
    relations: list[tuple[str, str]]
    problems: list[Problem]


_document = ParsedDocument._make
_problem = Problem._make


@dataclass(slots=True)
class ParsedFile:
    """One catalog file as read: its documents with their verdicts, and what the catalog and the cache need.

    ``mtime_ns`` and ``size`` are the file's when read (the cache compares them); ``problems`` are the
    file's own (bad YAML, unreadable file), the documents carry theirs.
    """

    path: str
    mtime_ns: int
    size: int
    documents: list[ParsedDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Files read through $text/$json/$yaml placeholders: (path, mtime_ns, size) when read.
    dependencies: list[tuple[str, int, int]] = field(default_factory=list)
    mentions_backstage: bool = False
    # Not read at all (outside the root, not a regular file, too large, not UTF-8): always reported.
    unreadable: bool = False
    # Nodes added by aliases and bytes included by placeholders: counted against the catalog's budgets.
    alias_nodes: int = 0
    included_bytes: int = 0

    def to_cache(self) -> tuple:
        """Plain tuples and lists only: what ``marshal`` can store."""
        documents = [(d.line, d.data, d.key, d.relations, [tuple(p) for p in d.problems]) for d in self.documents]
        return (
            self.mtime_ns,
            self.size,
            documents,
            [tuple(p) for p in self.problems],
            self.dependencies,
            self.mentions_backstage,
            self.unreadable,
            self.alias_nodes,
            self.included_bytes,
        )

    @classmethod
    def from_cache(cls, path: str, values: tuple) -> ParsedFile:
        """Rebuild a file from the tuple :meth:`to_cache` made.

        Raises:
            TypeError: ``values`` is not such a tuple (the caller then parses the file again).
            ValueError: ``values`` has the wrong number of items (likewise).
        """
        (mtime_ns, size, documents, problems, dependencies, mentions_backstage, unreadable, alias_nodes,
         included_bytes) = values  # fmt: skip
        # Read on every start for every file of the catalog: a document without problems is its cached tuple as is.
        return cls(
            path,
            mtime_ns,
            size,
            [
                _document(cached) if not cached[4] else ParsedDocument(*cached[:4], [_problem(p) for p in cached[4]])
                for cached in documents
            ],
            [_problem(p) for p in problems] if problems else [],
            dependencies,
            mentions_backstage,
            unreadable,
            alias_nodes,
            included_bytes,
        )

    def looks_like_catalog_file(self) -> bool:
        """Whether a file found by scanning a directory is meant for the catalog.

        True when a document has a built-in kind or a Backstage apiVersion, when the file could not
        be parsed but mentions backstage.io (a broken descriptor must still be reported), or when it could
        not be read at all (a FIFO, a symlink out of the root or a UTF-16 file must not vanish in silence).
        """
        if self.unreadable:
            return True
        for document in self.documents:
            data = document.data
            if isinstance(data, dict) and (
                data.get("kind") in KNOWN_KINDS or str(data.get("apiVersion", "")).startswith(BACKSTAGE_API_GROUPS)
            ):
                return True
        return self.mentions_backstage and not self.documents

    def is_fresh(self, stat: os.stat_result) -> bool:
        """Whether the file (now ``stat``) and every file its placeholders included are unchanged since read.

        Unchanged means the same mtime and size; a dependency that is gone or cannot be checked makes it stale.
        """
        if (self.mtime_ns, self.size) != (stat.st_mtime_ns, stat.st_size):
            return False
        for dep_path, mtime_ns, size in self.dependencies:
            try:
                dep = os.stat(dep_path)
            except (OSError, ValueError):
                return False
            if (dep.st_mtime_ns, dep.st_size) != (mtime_ns, size):
                return False
        return True


def unreadable_file(path: str, reason: str) -> ParsedFile:
    """A file that was not read, with the problem saying why (it is never cached with content)."""
    return ParsedFile(path, 0, 0, problems=[Problem(path, 1, f"cannot read file: {reason}", "yaml")], unreadable=True)


def parse_file(path: str, stat: os.stat_result, root: str | None = None) -> ParsedFile:
    """Read, parse and validate every document of one catalog file. Never raises for bad content.

    Args:
        path: the file, already accepted by ``file_access.checked_stat``.
        stat: what that check returned (the file read must still be that file).
        root: the resolved catalog root placeholders must stay in; by default the file's own folder.
    """
    # Imported here: the YAML parser and the validators (~40 ms) serve files that changed; a warm start whose
    # files are all unchanged reads the parse cache without them.
    from .file_access import RefusedRead, read_checked
    from .placeholders import resolve_placeholders
    from .validation import validate_entity
    from .yaml_docs import field_line, load_stream

    parsed = ParsedFile(path, stat.st_mtime_ns, stat.st_size)
    try:
        text = read_checked(path, stat, limits.MAX_CATALOG_FILE_BYTES).decode("utf-8")
    except RefusedRead as error:
        return unreadable_file(path, str(error))
    except UnicodeDecodeError:
        parsed.problems.append(Problem(path, 1, "cannot read file: not UTF-8 text", "yaml"))
        parsed.unreadable = True  # cached as such: the file is not decoded again until it changes
        return parsed
    parsed.mentions_backstage = "backstage.io" in text
    loaded = load_stream(text)
    parsed.alias_nodes = loaded.alias_nodes
    parsed.problems += [Problem(path, e.line, e.message, "yaml") for e in loaded.errors]
    may_have_placeholders = "$text" in text or "$json" in text or "$yaml" in text
    if may_have_placeholders:
        base_dir = os.path.dirname(path)
        root = root or os.path.realpath(base_dir)
    for document in loaded.documents:
        data = document.data
        if may_have_placeholders:
            left = limits.MAX_INCLUDED_BYTES_PER_FILE - parsed.included_bytes
            data, dependencies, placeholder_errors, included = resolve_placeholders(data, base_dir, root, left)
            parsed.dependencies += dependencies
            parsed.included_bytes += included
            for where, message in placeholder_errors:
                line = field_line(text, document.line, where)
                parsed.problems.append(Problem(path, line, message, "placeholder"))
        verdict = validate_entity(data)
        problems = [
            Problem(path, field_line(text, document.line, field_path), message, rule, verdict.key)
            for field_path, rule, message in verdict.problems
        ]
        parsed.documents.append(ParsedDocument(document.line, data, verdict.key, verdict.relations, problems))
    return parsed

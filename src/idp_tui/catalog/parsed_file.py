"""One catalog file read, validated and ready to cache: documents, verdicts, problems, dependencies."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .entity import KNOWN_KINDS
from .placeholders import resolve_placeholders
from .problems import Problem
from .validation import validate_entity
from .yaml_docs import field_line, load_documents

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


@dataclass(slots=True)
class ParsedFile:
    path: str
    mtime_ns: int
    size: int
    documents: list[ParsedDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Files read through $text/$json/$yaml placeholders: (path, mtime_ns, size) when read.
    dependencies: list[tuple[str, int, int]] = field(default_factory=list)
    mentions_backstage: bool = False

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
        )

    @classmethod
    def from_cache(cls, path: str, values: tuple) -> ParsedFile:
        mtime_ns, size, documents, problems, dependencies, mentions_backstage = values
        return cls(
            path,
            mtime_ns,
            size,
            [
                ParsedDocument(line, data, key, relations, [Problem._make(p) for p in doc_problems])
                for line, data, key, relations, doc_problems in documents
            ],
            [Problem._make(p) for p in problems],
            dependencies,
            mentions_backstage,
        )

    def looks_like_catalog_file(self) -> bool:
        """Whether a file found by scanning a directory is meant for the catalog.

        True when a document has a built-in kind or a Backstage apiVersion, or when the file could not
        be parsed but mentions backstage.io (a broken descriptor must still be reported).
        """
        for document in self.documents:
            data = document.data
            if isinstance(data, dict) and (
                data.get("kind") in KNOWN_KINDS or str(data.get("apiVersion", "")).startswith(BACKSTAGE_API_GROUPS)
            ):
                return True
        return self.mentions_backstage and not self.documents

    def is_fresh(self, stat: os.stat_result) -> bool:
        if (self.mtime_ns, self.size) != (stat.st_mtime_ns, stat.st_size):
            return False
        for dep_path, mtime_ns, size in self.dependencies:
            try:
                dep = os.stat(dep_path)
            except OSError:
                return False
            if (dep.st_mtime_ns, dep.st_size) != (mtime_ns, size):
                return False
        return True


def parse_file(path: str, stat: os.stat_result) -> ParsedFile:
    """Read, parse and validate every document of one catalog file. Never raises for bad content."""
    parsed = ParsedFile(path, stat.st_mtime_ns, stat.st_size)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        parsed.problems.append(Problem(path, 1, f"cannot read file: {_reason(error)}", "yaml"))
        return parsed
    parsed.mentions_backstage = "backstage.io" in text
    documents, yaml_errors = load_documents(text)
    parsed.problems += [Problem(path, e.line, e.message, "yaml") for e in yaml_errors]
    may_have_placeholders = "$text" in text or "$json" in text or "$yaml" in text
    for document in documents:
        data = document.data
        if may_have_placeholders:
            data, dependencies, placeholder_errors = resolve_placeholders(data, os.path.dirname(path))
            parsed.dependencies += dependencies
            for message in placeholder_errors:
                parsed.problems.append(Problem(path, document.line, message, "placeholder"))
        verdict = validate_entity(data)
        problems = [
            Problem(path, field_line(text, document.line, field_path), message, rule, verdict.key)
            for field_path, rule, message in verdict.problems
        ]
        parsed.documents.append(ParsedDocument(document.line, data, verdict.key, verdict.relations, problems))
    return parsed


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return error.strerror or str(error) if isinstance(error, OSError) else str(error)

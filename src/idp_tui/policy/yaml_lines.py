"""YAML documents with the line of every field, for reporting a policy problem where it is written.

The data comes from the catalog's loader (``idp_tui.catalog.yaml_docs``: YAML 1.2 core schema, JSON-shaped,
budgets on aliases and nesting); the lines come from composing the same text once more, which costs little on
policy files and nothing on the documents being evaluated (those need only each document's line).
"""

from __future__ import annotations

from typing import Any

import yaml

from ..catalog.yaml_docs import load_documents

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 100
MAX_NODES = 200_000


def field_lines(text: str) -> dict[int, dict[tuple, int]]:
    """``{document start line: {field path: line}}``; a key's own line for a mapping entry."""
    found: dict[int, dict[tuple, int]] = {}
    budget = [MAX_NODES]
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[tuple, int] = {}
            _walk(node, (), lines, set(), budget)
            found[node.start_mark.line + 1] = lines
    except yaml.YAMLError:
        pass  # the documents before the error keep their lines; the loader reports the error itself
    finally:
        loader.dispose()
    return found


def _walk(node, path: tuple, lines: dict[tuple, int], seen: set[int], budget: list[int]) -> None:
    if len(path) > MAX_DEPTH or id(node) in seen or budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(node, yaml.MappingNode):
        seen.add(id(node))
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, key.value)
                lines.setdefault(child, key.start_mark.line + 1)
                _walk(value, child, lines, seen, budget)
    elif isinstance(node, yaml.SequenceNode):
        seen.add(id(node))
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, seen, budget)


def documents_with_lines(text: str) -> tuple[list[tuple[int, Any, dict[tuple, int]]], list[tuple[int, str]]]:
    """``([(line, data, field lines)], [(line, error)])`` for every non-empty document of a YAML stream."""
    documents, errors = load_documents(text)
    lines = field_lines(text) if documents else {}
    return (
        [(document.line, document.data, lines.get(document.line, {})) for document in documents],
        [(error.line, error.message) for error in errors],
    )

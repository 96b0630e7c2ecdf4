"""Reading catalog YAML: every document with its line, with libyaml's C loader when available.

Scalars resolve as in YAML 1.2's core schema, which is what Backstage's YAML parser uses: dates stay
strings, ``yes``/``no``/``on``/``off`` stay strings and ``017`` is seventeen. A syntax error costs only
the document it is in: the other documents of the file are still read.

Parsing YAML is most of the cost of opening a large catalog, so the loader keeps libyaml's parser and
composer but resolves and constructs the plain data a catalog holds (mappings, sequences, core-schema
scalars, anchors, merge keys) on a direct path: PyYAML's generic constructor, built for arbitrary
Python objects, takes twice as long. Any other tag goes through PyYAML's safe constructor as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:
    from yaml import CSafeLoader as _BaseLoader

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    HAVE_LIBYAML = False

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_CORE_SCHEMA = [
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+0123456789.",
    ),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
]


def _core_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _core_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith("inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    return float(lowered)


_SCALARS = {
    _INT: _core_int,
    _FLOAT: _core_float,
    _BOOL: lambda text: text in ("true", "True", "TRUE"),
    _NULL: lambda text: None,
}


class CatalogLoader(_BaseLoader):
    """A safe loader with YAML 1.2 core-schema scalars that records where each document starts."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.document_lines: list[int] = []

    def resolve(self, kind, value, implicit):  # noqa: D102 - called by the composer for every node
        if kind is ScalarNode:
            if implicit[0]:
                if value == "":
                    return _NULL
                for tag, regexp in self.yaml_implicit_resolvers.get(value[0], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def construct_document(self, node):  # noqa: D102 - records the line, then builds the data
        self.document_lines.append(node.start_mark.line + 1)
        try:
            return self._build(node, {})
        except RecursionError:
            raise ConstructorError(None, None, "the document is nested too deeply", node.start_mark) from None

    def _build(self, node, built: dict):
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            scalar = _SCALARS.get(tag)
            return scalar(node.value) if scalar is not None else self.construct_object(node, deep=True)
        # Aliases are the same node object: build it once, so both places share one value.
        done = built.get(id(node))
        if done is not None:
            return done
        if kind is MappingNode and tag == _MAP:
            if any(key.tag == _MERGE for key, _ in node.value):
                self.flatten_mapping(node)
            mapping: dict = {}
            built[id(node)] = mapping
            for key_node, value_node in node.value:
                # Plain string keys and values are the common case: no call for them.
                key = (
                    key_node.value
                    if key_node.tag == _STR and key_node.__class__ is ScalarNode
                    else (self._build(key_node, built))
                )
                value = (
                    value_node.value
                    if value_node.tag == _STR and value_node.__class__ is ScalarNode
                    else (self._build(value_node, built))
                )
                try:
                    mapping[key] = value
                except TypeError:
                    raise ConstructorError(
                        "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                    ) from None
            return mapping
        if kind is SequenceNode and tag == _SEQ:
            sequence: list = []
            built[id(node)] = sequence
            for item in node.value:
                sequence.append(
                    item.value if item.tag == _STR and item.__class__ is ScalarNode else self._build(item, built)
                )
            return sequence
        return self.construct_object(node, deep=True)

    # The composer calls these for every node to support path resolvers, which a catalog never uses;
    # C built-ins that accept the same arguments cost a fraction of a Python no-op method.
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)


# Keep the merge key (<<) resolver of the base loader; replace the YAML 1.1 scalar resolvers.
for _first, _resolvers in _BaseLoader.yaml_implicit_resolvers.items():
    kept = [(tag, regexp) for tag, regexp in _resolvers if tag not in (_BOOL, _INT, _FLOAT, _NULL)]
    kept = [(tag, regexp) for tag, regexp in kept if tag != "tag:yaml.org,2002:timestamp"]
    if kept:
        CatalogLoader.yaml_implicit_resolvers[_first] = kept
for _tag, _regexp, _firsts in _CORE_SCHEMA:
    CatalogLoader.add_implicit_resolver(_tag, _regexp, list(_firsts))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a file: the 1-based line it starts on and its parsed data."""

    line: int
    data: Any


@dataclass(frozen=True, slots=True)
class YamlError:
    line: int
    message: str


_DOCUMENT_BOUNDARY = re.compile(r"^(?:---|\.\.\.)(?=\s|$)", re.MULTILINE)


def load_documents(text: str) -> tuple[list[YamlDocument], list[YamlError]]:
    """Parse every document of a YAML stream; empty documents are skipped."""
    try:
        return _load_stream(text, 0), []
    except yaml.YAMLError:
        pass
    # Parse document by document, so one broken document does not hide the others.
    documents: list[YamlDocument] = []
    errors: list[YamlError] = []
    for offset, chunk in split_documents(text):
        try:
            documents += _load_stream(chunk, offset)
        except yaml.YAMLError as error:
            errors.append(_describe(error, offset))
    return documents, errors


def _load_stream(text: str, line_offset: int) -> list[YamlDocument]:
    loader = CatalogLoader(text)
    try:
        datas = []
        while loader.check_data():
            datas.append(loader.get_data())
    finally:
        loader.dispose()
    lines = loader.document_lines
    return [YamlDocument(line + line_offset, data) for line, data in zip(lines, datas, strict=True) if data is not None]


def split_documents(text: str) -> list[tuple[int, str]]:
    """Split a stream at ``---``/``...`` lines: ``(lines before the chunk, chunk text)`` pairs."""
    starts = [0] + [match.start() for match in _DOCUMENT_BOUNDARY.finditer(text) if match.start() > 0]
    chunks = []
    for begin, end in zip(starts, starts[1:] + [len(text)], strict=True):
        chunks.append((text.count("\n", 0, begin), text[begin:end]))
    return chunks


def _describe(error: yaml.YAMLError, line_offset: int) -> YamlError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = (mark.line + 1 + line_offset) if mark is not None else line_offset + 1
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    column = f", column {mark.column + 1}" if mark is not None else ""
    detail = f"{problem} ({context})" if context else problem
    return YamlError(line, f"YAML error: {detail}{column}")


def field_line(text: str, document_line: int, path: tuple[Any, ...]) -> int:
    """The line of the field at ``path`` in the document starting at ``document_line``.

    Walks as far down ``path`` as the document goes: a missing field points at its parent.
    """
    chunks = split_documents(text)
    offset, chunk = next(((o, c) for o, c in reversed(chunks) if o < document_line), chunks[0])
    try:
        nodes = list(yaml.compose_all(chunk, Loader=CatalogLoader))
    except yaml.YAMLError:
        return document_line
    node = next((n for n in nodes if n is not None and n.start_mark.line + 1 + offset >= document_line), None)
    line = document_line
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1 + offset, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1 + offset
        else:
            break
    return line

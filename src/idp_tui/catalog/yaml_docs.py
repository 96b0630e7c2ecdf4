"""Reading catalog YAML: every document with its line, with libyaml's C loader when available.

Scalars resolve as in YAML 1.2's core schema, which is what Backstage's YAML parser uses: dates stay
strings, ``yes``/``no``/``on``/``off`` stay strings and ``017`` is seventeen. A syntax error costs only
the document it is in: the other documents of the file are still read.

Parsing YAML is most of the cost of opening a large catalog, so the loader keeps libyaml's parser and
composer but resolves and constructs the plain data a catalog holds (mappings, sequences, core-schema
scalars, anchors) on a direct path: PyYAML's generic constructor, built for arbitrary Python objects,
takes twice as long.

``<<`` is an ordinary key, as in YAML 1.2 and in Backstage's parser (the ``yaml`` package, which the catalog
runs without its YAML 1.1 ``merge`` option): ``spec: {<<: *base, owner: a}`` is a spec with the two keys
``<<`` and ``owner``, so what ``*base`` holds is not applied. Only a key with an explicit ``!!merge`` tag
merges (that package does it too): its own keys win, then the sources in the order written.

A catalog is written by other people, and what is read must print as JSON: the loader accepts only what JSON
holds (string keys, finite numbers, integers JSON carries exactly, no cycles, at most
``limits.MAX_NESTING_DEPTH`` levels) and refuses any other tag (``!!binary``, ``!!timestamp``, ``!!set``...),
duplicate keys (as Backstage's parser does), documents whose aliases would expand beyond
``limits.MAX_EXPANDED_NODES`` and documents of more than ``limits.MAX_DOCUMENT_NODES`` nodes (refused as they are
composed). Each refusal is a YAML error at its line that costs only its own document.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import limits

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


# Longer than any integer within MAX_SAFE_INTEGER can be written (0o and 20 octal digits): refused unread,
# so a 5,000-digit number never reaches int(), whose digit limit raises, or str() when printed.
_MAX_INT_TEXT = 24
_TOO_LARGE = f"is an integer beyond ±{limits.MAX_SAFE_INTEGER:,} (what JSON carries exactly): quote it to keep text"


def _core_int(text: str) -> int:
    if len(text) > _MAX_INT_TEXT:
        raise ValueError(_TOO_LARGE)
    try:
        if text.startswith("0o"):
            value = int(text[2:], 8)
        elif text.startswith("0x"):
            value = int(text[2:], 16)
        else:
            value = int(text, 10)
    except ValueError:
        raise ValueError("is not an integer") from None
    if not -limits.MAX_SAFE_INTEGER <= value <= limits.MAX_SAFE_INTEGER:
        raise ValueError(_TOO_LARGE)
    return value


def _core_float(text: str) -> float:
    lowered = text.lower()
    try:
        value = float(lowered.replace(".inf", "inf").replace(".nan", "nan"))
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(value):
        raise ValueError("is not a finite number (JSON has no NaN or infinity)")
    return value


_SCALARS = {
    _INT: _core_int,
    _FLOAT: _core_float,
    _BOOL: lambda text: text in ("true", "True", "TRUE"),
    _NULL: lambda text: None,
}


def _shown(text: str, width: int = 40) -> str:
    """A scalar as quoted in a message: long ones cut (a 5,000-digit number is not worth repeating)."""
    return text if len(text) <= width else f"{text[:width]}… ({len(text):,} characters)"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _refuse(message: str, node) -> ConstructorError:
    return ConstructorError(None, None, message, node.start_mark)


@dataclass(slots=True)
class SharedBudget:
    """What several files read together may still add, charged as each document is built: the nodes their aliases
    add, and the collections' entries. The policies' reader keeps one across a check's files: each file is bounded
    on its own, but 17 files of 8 MiB of ``[],`` held 47 million lists (4.7 GB)."""

    alias_nodes: int
    entries: int


class CatalogLoader(_BaseLoader):
    """A safe loader with YAML 1.2 core-schema scalars that records where each document starts.

    ``alias_budget`` is ``[nodes this stream's documents may still expand to, nodes added by aliases so far]``;
    ``None`` when the text cannot hold an alias (no ``&`` or no ``*``), which spares counting for almost every
    file.
    """

    yaml_implicit_resolvers: dict = {}
    find_merge_keys = False  # KubectlViewLoader's: the building below notes each document's first << key
    notes_yaml11 = False  # KubectlViewLoader's: resolve notes a plain scalar YAML 1.1 reads otherwise

    def __init__(self, stream: str, alias_budget: list[int] | None = None, shared: SharedBudget | None = None) -> None:
        super().__init__(stream)
        self.document_lines: list[int] = []
        self.alias_budget = alias_budget
        self.shared = shared
        # With find_merge_keys, the line of each document's first << key (None: it has none), beside
        # document_lines; _merge_key_line is the document being built's.
        self.merge_key_lines: list[int | None] = []
        self._merge_key_line: int | None = None
        self._nodes_left = limits.MAX_DOCUMENT_NODES  # in the document being composed (see resolve)
        self._maybe_yaml11 = False  # with notes_yaml11: the document being composed may hold such a scalar

    def resolve(self, kind, value, implicit):
        """A node's tag: core-schema for a plain scalar, ``str`` for a quoted one, ``seq`` or ``map`` otherwise.

        The composer calls it for every node, so it is kept short; it also counts the document's nodes, so a
        document past ``limits.MAX_DOCUMENT_NODES`` is refused while it is composed, not once it is whole.

        Raises:
            yaml.YAMLError: the document holds more nodes than that.
        """
        self._nodes_left -= 1
        if self._nodes_left < 0:
            raise yaml.YAMLError(
                f"the document holds more than {limits.MAX_DOCUMENT_NODES:,} values, lists and maps: idp-tui "
                "reads no larger document"
            )
        if kind is ScalarNode:
            if implicit[0]:
                tag, yaml11_otherwise = _PLAIN_SCALARS.get(value) or _plain_scalar(value)
                if yaml11_otherwise and self.notes_yaml11:
                    self._maybe_yaml11 = True  # a key or a value: construct_document looks which
                return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def construct_document(self, node):
        """Build one document's data, recording the line it starts on and charging its aliases to ``alias_budget``.

        Raises:
            ConstructorError: its aliases expand past the budget, or it is nested too deeply.
        """
        self.document_lines.append(node.start_mark.line + 1)
        self._nodes_left = limits.MAX_DOCUMENT_NODES  # the next document's count starts here
        try:
            if self.alias_budget is not None:
                total, added = self._expanded_size(node, self.alias_budget[0])
                if self.shared is not None:
                    if added > self.shared.alias_nodes:
                        raise _refuse(
                            f"its aliases would add more than the {self.shared.alias_nodes:,} nodes left for aliases "
                            "among the files read together",
                            node,
                        )
                    self.shared.alias_nodes -= added
                self.alias_budget[0] -= total
                self.alias_budget[1] += added
            self._merge_key_line = None
            data = self._build(node, {})
            self.merge_key_lines.append(self._merge_key_line)
            return data
        except RecursionError:
            raise _refuse("the document is nested too deeply", node) from None

    def _expanded_size(self, root, budget: int) -> tuple[int, int]:
        """The nodes ``root`` makes with every alias expanded (a string weighs one per 16 characters), and
        how many of them the aliases added.

        libyaml composes an alias as the very node it names, so a nine-level "billion laughs" is a few dozen
        nodes here and hundreds of millions once printed; a node is counted once and its size reused, which
        keeps the count linear while the total it adds up may be astronomical.

        Raises:
            ConstructorError: the size passes ``budget``, the nesting ``limits.MAX_NESTING_DEPTH``, or a
                collection contains itself through an alias.
        """
        sizes: dict[int, int] = {}
        heights: dict[int, int] = {}
        scalars: set[int] = set()
        added = 0

        def size(node) -> int:
            nonlocal added
            if node.__class__ is ScalarNode:
                weight = 1 + (len(node.value) >> 4)
                if id(node) in scalars:
                    added += weight
                scalars.add(id(node))
                return weight
            known = sizes.get(id(node))
            if known is not None:
                if known < 0:
                    raise _refuse("an alias refers to a collection it is inside (a recursive structure)", node)
                added += known
                return known
            sizes[id(node)] = -1  # being counted: meeting it again below is a cycle
            total = 1
            height = 0  # an alias can nest a shallow collection deep: its depth is counted here too
            children = [child for pair in node.value for child in pair] if node.__class__ is MappingNode else node.value
            for child in children:
                total += size(child)
                if child.__class__ is not ScalarNode and heights[id(child)] > height:
                    height = heights[id(child)]
            if total > budget:
                raise _refuse(f"aliases expand this to more than {limits.MAX_EXPANDED_NODES:,} nodes", node)
            if height >= limits.MAX_NESTING_DEPTH:
                raise _refuse(f"the document is nested deeper than {limits.MAX_NESTING_DEPTH} levels", node)
            sizes[id(node)] = total
            heights[id(node)] = height + 1
            return total

        return size(root), added

    def _build(self, node, built: dict, depth: int = 1):
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            scalar = _SCALARS.get(tag)
            if scalar is None:
                raise self._unsupported(node)
            try:
                return scalar(node.value)
            except ValueError as error:
                raise _refuse(f"{_short_tag(tag)} {_shown(node.value)} {error}", node) from None
        # Aliases are the same node object: build it once, so both places share one value.
        done = built.get(id(node))
        if done is not None:
            return done
        if depth > limits.MAX_NESTING_DEPTH:
            raise _refuse(f"the document is nested deeper than {limits.MAX_NESTING_DEPTH} levels", node)
        if self.shared is not None:
            self._charge(node)
        if kind is MappingNode and tag == _MAP:
            pairs = node.value
            mapping: dict = {}
            built[id(node)] = mapping
            for key_node, value_node in pairs:
                # Plain string keys and values are the common case: no call for them.
                if key_node.tag == _STR and key_node.__class__ is ScalarNode:
                    key = key_node.value
                    if key == "<<" and self.find_merge_keys:
                        self._note_merge_key(key_node)
                elif key_node.tag == _MERGE:  # only an explicit !!merge tag: a plain << is a string
                    return self._build_merged(node, built, depth)
                else:
                    key = self._key(key_node, built, depth)
                mapping[key] = (
                    value_node.value
                    if value_node.tag == _STR and value_node.__class__ is ScalarNode
                    else self._build(value_node, built, depth + 1)
                )
            if len(mapping) != len(pairs):  # one comparison per mapping finds a repeated key
                raise self._duplicate(pairs)
            return mapping
        if kind is SequenceNode and tag == _SEQ:
            sequence: list = []
            built[id(node)] = sequence
            for item in node.value:
                sequence.append(
                    item.value
                    if item.tag == _STR and item.__class__ is ScalarNode
                    else self._build(item, built, depth + 1)
                )
            return sequence
        raise self._unsupported(node)

    def _build_merged(self, node, built: dict, depth: int) -> dict:
        """A mapping with explicit ``!!merge`` keys, merged as Backstage's parser merges: a key of the mapping's
        own wins wherever it is written, then the first source that has the key. Its own keys must be unique."""
        mapping: dict = {}
        built[id(node)] = mapping
        own: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                if self.find_merge_keys:
                    self._note_merge_key(key_node)
                sources = value_node.value if value_node.__class__ is SequenceNode else (value_node,)
                for source in sources:
                    if source.__class__ is not MappingNode:
                        raise _refuse("Merge sources must be maps or map aliases", source)
                    for key, value in self._build(source, built, depth + 1).items():
                        if key not in mapping:
                            mapping[key] = value
                continue
            key = self._key(key_node, built, depth)
            if key == "<<" and self.find_merge_keys:
                self._note_merge_key(key_node)
            if key in own:
                raise _refuse(f'Map keys must be unique: "{_shown(key)}" is repeated', key_node)
            own.add(key)
            mapping[key] = self._build(value_node, built, depth + 1)
        return mapping

    def _charge(self, node) -> None:
        """Charge a collection's entries to the shared budget before they are built."""
        self.shared.entries -= len(node.value)
        if self.shared.entries < 0:
            raise _refuse("the files read together hold more YAML entries than idp-tui reads at once", node)

    def _note_merge_key(self, node) -> None:
        """Remember the document's first ``<<`` key, whatever its style or tag: go-yaml (kubectl's reader) merges a
        plain one, one tagged ``!`` even when quoted, and an explicit ``!!merge`` with the later key winning."""
        if self._merge_key_line is None:
            self._merge_key_line = node.start_mark.line + 1

    def _key(self, node, built: dict, depth: int) -> str:
        key = self._build(node, built, depth + 1)
        if key.__class__ is not str:
            if node.__class__ is ScalarNode:
                raise _refuse(f"a mapping key must be a string: {_shown(node.value)} is not one (quote it)", node)
            what = "a mapping" if node.__class__ is MappingNode else "a sequence"
            raise _refuse(f"a mapping key must be a string, not {what}", node)
        return key

    @staticmethod
    def _duplicate(pairs) -> ConstructorError:
        seen: set = set()
        for key_node, _ in pairs:
            key = (key_node.tag, key_node.value) if key_node.__class__ is ScalarNode else id(key_node)
            if key in seen:
                return _refuse(f'Map keys must be unique: "{_shown(key_node.value)}" is repeated', key_node)
            seen.add(key)
        return _refuse("Map keys must be unique", pairs[0][0])

    @staticmethod
    def _unsupported(node) -> ConstructorError:
        return _refuse(
            f"the tag {_short_tag(node.tag)} is not supported: a catalog holds strings, numbers, booleans, "
            "nulls, sequences and mappings (YAML 1.2's core schema, as JSON)",
            node,
        )

    # The composer calls these for every node to support path resolvers, which a catalog never uses;
    # C built-ins that accept the same arguments cost a fraction of a Python no-op method.
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)


# Only YAML 1.2's core schema: none of the base loader's YAML 1.1 resolvers (its "<<" merge key, "=", yes/no,
# timestamps), so a plain "<<" is a string like any other key.
for _tag, _regexp, _firsts in _CORE_SCHEMA:
    CatalogLoader.add_implicit_resolver(_tag, _regexp, list(_firsts))

# Plain scalars that kubectl's reader (go-yaml v2, YAML 1.1) resolves otherwise than YAML 1.2's core schema: its
# booleans (`yes`, `off`, `y`...), which are text here, and numbers with underscores, binary (`0b1`) or a leading
# zero (`010` is eight), which are text here or another number.
_YAML11_WORDS = frozenset(
    {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}
)
_NUMBER_STARTS = frozenset("+-.0123456789")
_YAML11_NUMBER = re.compile(
    r"[-+]?(?:0b[01_]+|0[0-7_]+|0x[0-9a-fA-F]*_[0-9a-fA-F_]*|[0-9.]*_[0-9_.]*(?:[eE][-+]?[0-9]+)?)"
)


def _yaml11_otherwise(value: str) -> bool:
    """Whether YAML 1.1 resolves this plain scalar to another value than YAML 1.2's core schema does."""
    return value in _YAML11_WORDS or (value[:1] in _NUMBER_STARTS and _YAML11_NUMBER.fullmatch(value) is not None)


# Each plain scalar's tag, and whether YAML 1.1 reads it otherwise, by its text: the same keys and words recur in
# every file (`name`, `app.kubernetes.io/name`, `true`), and a lookup costs a fraction of the regular expressions
# (a Deployment's file was read 20% faster). Short texts only, and a bounded number: the files are other people's.
_PLAIN_SCALARS: dict[str, tuple[str, bool]] = {}
_PLAIN_SCALARS_KEPT = 4096
_PLAIN_SCALAR_KEPT_CHARS = 64


def _plain_scalar(value: str) -> tuple[str, bool]:
    """A plain scalar's core-schema tag, and whether YAML 1.1 resolves it to another value (remembered)."""
    tag = _NULL if value == "" else _STR
    for resolver_tag, regexp in CatalogLoader.yaml_implicit_resolvers.get(value[:1], ()):
        if regexp.match(value):
            tag = resolver_tag
            break
    resolved = (tag, _yaml11_otherwise(value))
    if len(value) <= _PLAIN_SCALAR_KEPT_CHARS and len(_PLAIN_SCALARS) < _PLAIN_SCALARS_KEPT:
        _PLAIN_SCALARS[value] = resolved
    return resolved


class KubectlViewLoader(CatalogLoader):
    """:class:`CatalogLoader` that also notes, per document, what kubectl would read otherwise: the first ``<<``
    key (``merge_key_lines``) and the first plain scalar value YAML 1.1 resolves to another value
    (``yaml11_scalars``). A key is not one: an unknown field is dropped by the API server either way, and a
    workflow's ``on:`` key is everywhere. The catalog's loader is left as it is: ``resolve`` runs for every node."""

    find_merge_keys = True
    notes_yaml11 = True

    def __init__(self, stream: str, alias_budget: list[int] | None = None, shared: SharedBudget | None = None) -> None:
        super().__init__(stream, alias_budget, shared)
        self.yaml11_scalars: list[str | None] = []  # beside document_lines

    def construct_document(self, node):
        # The composer resolved this document's scalars before it is built: what was noted is its own.
        scalar = _first_yaml11_value(node) if self._maybe_yaml11 else None
        self._maybe_yaml11 = False
        data = super().construct_document(node)
        self.yaml11_scalars.append(scalar)
        return data


def _first_yaml11_value(root) -> str | None:
    """The first plain scalar under ``root``, other than a mapping's key, that YAML 1.1 reads otherwise."""
    pending, seen = [root], set()
    while pending:
        node = pending.pop()
        if id(node) in seen:  # an alias: the same node again
            continue
        seen.add(id(node))
        if node.__class__ is ScalarNode:
            if not node.style and _yaml11_otherwise(node.value):
                return node.value
        elif node.__class__ is MappingNode:
            pending += [value for _, value in reversed(node.value)]
        else:
            pending += reversed(node.value)
    return None


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a file: the 1-based line it starts on and its parsed data; when asked for, the line of its
    first ``<<`` key (a merge key to kubectl's YAML 1.1 reader, merged otherwise or a plain key here)."""

    line: int
    data: Any
    merge_key_line: int | None = None
    yaml11_scalar: str | None = None  # the first plain scalar YAML 1.1 reads otherwise (see KubectlViewLoader)


@dataclass(frozen=True, slots=True)
class YamlError:
    """An error reading a YAML stream: the 1-based line it is on and the message to show."""

    line: int
    message: str


_DOCUMENT_BOUNDARY = re.compile(r"^(?:---|\.\.\.)(?=\s|$)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class LoadedStream:
    """A YAML stream read: its documents, the errors met, and the nodes its aliases added (0: none)."""

    documents: list[YamlDocument]
    errors: list[YamlError]
    alias_nodes: int = 0
    rest_line: int | None = None  # where the documents past ``max_documents`` start (they are not read)


def load_documents(text: str) -> tuple[list[YamlDocument], list[YamlError]]:
    """Parse every document of a YAML stream; empty documents are skipped. Never raises for bad content."""
    loaded = load_stream(text)
    return loaded.documents, loaded.errors


def may_alias(text: str | bytes) -> bool:
    """Whether aliases could expand ``text`` (or its UTF-8): only a text with both an anchor and an alias mark can."""
    anchor, alias = ("&", "*") if isinstance(text, str) else (b"&", b"*")
    return anchor in text and alias in text


def load_stream(
    text: str, shared: SharedBudget | None = None, *, kubectl_view: bool = False, max_documents: int | None = None
) -> LoadedStream:
    """:func:`load_documents`, also telling how many nodes the documents' aliases added.

    Args:
        shared: what this file may add, with the others read with it: a document that would take it past is
            refused before it is built (and what it charged stays charged).
        kubectl_view: note what kubectl's YAML 1.1 reader reads otherwise in each document (``merge_key_line``,
            ``yaml11_scalar``; see :class:`KubectlViewLoader`).
        max_documents: read no more documents than this (``rest_line`` says where the others start). Counted as
            the parser finds them: a line break may be a lone CR, so the documents are more than ``---`` lines.
    """
    aliased = may_alias(text)  # every other file skips the count
    budget = [limits.MAX_EXPANDED_NODES, 0] if aliased else None  # one budget for the whole file
    options = (shared, kubectl_view)
    left_before = (shared.alias_nodes, shared.entries) if shared is not None else None
    try:
        documents, rest_line = _load_stream(text, 0, budget, *options, max_documents)
        return LoadedStream(documents, [], budget[1] if budget else 0, rest_line)
    except yaml.YAMLError as error:
        if shared is not None:  # read again below: charged once
            shared.alias_nodes, shared.entries = left_before
        chunks = split_documents(text)
        if len(chunks) == 1:  # one document: reading it again would only meet the same error, as slowly
            return LoadedStream([], [_describe(error, 0)])
    # Parse document by document, so one broken document does not hide the others.
    documents: list[YamlDocument] = []
    errors: list[YamlError] = []
    budget = [limits.MAX_EXPANDED_NODES, 0] if aliased else None
    rest_line = None
    read = 0
    for offset, chunk in chunks:
        left = None if max_documents is None else max_documents - read
        if left is not None and left <= 0:
            rest_line = offset + 1
            break
        try:
            found, rest_line = _load_stream(chunk, offset, budget, *options, left)
            documents += found
            read += max(1, len(found))  # an empty chunk is a document read too
        except yaml.YAMLError as error:
            errors.append(_describe(error, offset))
            read += 1
        if rest_line is not None:
            break
    return LoadedStream(documents, errors, budget[1] if budget else 0, rest_line)


def _load_stream(
    text: str,
    line_offset: int,
    alias_budget: list[int] | None,
    shared: SharedBudget | None = None,
    kubectl_view: bool = False,
    max_documents: int | None = None,
) -> tuple[list[YamlDocument], int | None]:
    """The documents of ``text`` (at most ``max_documents``), and the line where those left unread start."""
    loader = (KubectlViewLoader if kubectl_view else CatalogLoader)(text, alias_budget, shared)
    rest_line = None
    try:
        datas = []
        while loader.check_data():
            if max_documents is not None and len(datas) >= max_documents:
                rest_line = loader.peek_event().start_mark.line + 1 + line_offset
                break
            datas.append(loader.get_data())
    finally:
        loader.dispose()
    scalars = loader.yaml11_scalars if kubectl_view else [None] * len(datas)
    noted = zip(loader.document_lines, datas, loader.merge_key_lines, scalars, strict=True)
    return [
        YamlDocument(line + line_offset, data, merge_line + line_offset if merge_line else None, scalar)
        for line, data, merge_line, scalar in noted
        if data is not None
    ], rest_line


def split_documents(text: str) -> list[tuple[int, str]]:
    """Split a stream at ``---``/``...`` lines: ``(lines before the chunk, chunk text)`` pairs."""
    starts = [0] + [match.start() for match in _DOCUMENT_BOUNDARY.finditer(text) if match.start() > 0]
    chunks = []
    lines = 0
    # Lines counted from one start to the next: a file of many documents is split in one pass, not one per chunk.
    for previous, begin, end in zip([0, *starts], starts, starts[1:] + [len(text)], strict=False):
        lines += text.count("\n", previous, begin)
        chunks.append((lines, text[begin:end]))
    return chunks


def first_documents(text: str, limit: int) -> tuple[str, int | None]:
    """``text`` cut after its first ``limit`` documents, and the line where the rest starts (None when there is
    no more than that): a reader that parses a file's documents whole bounds its work with it."""
    if text.count("---") + text.count("...") < limit:  # fewer markers than documents allowed: nothing to cut
        return text, None
    chunks = split_documents(text)  # (lines before the chunk, chunk): consecutive, from the start of the text
    if len(chunks) <= limit:
        return text, None
    end = sum(len(chunk) for _, chunk in chunks[:limit])
    return text[:end], chunks[limit][0] + 1


@lru_cache(maxsize=1)
def _split_for_lookup(text: str) -> tuple[list[int], list[tuple[int, str]]]:
    """The chunks of a text and their line offsets, kept while its problems are placed one by one (a file of
    thousands of invalid documents would otherwise be split again for each problem)."""
    chunks = split_documents(text)
    return [offset for offset, _ in chunks], chunks


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
    offsets, chunks = _split_for_lookup(text)
    offset, chunk = chunks[max(bisect_left(offsets, document_line) - 1, 0)]
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

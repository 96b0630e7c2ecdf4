"""The user's keymap: ``<config dir>/keymap.yaml`` maps binding ids to keys (``home.search: ctrl+f``).

Every problem is reported as ``FILE:LINE: id: message`` (unknown ids, keys Textual cannot bind, two bindings
on one key in one place), never as a traceback; the valid entries still apply, through Textual's own keymap
(``App.set_keymap``), so the footer, the ``?`` screen and the command palette all show the remapped keys.

This module reads and checks the file against plain values: the places where bindings are active
(:class:`Scope`) and a function that parses a key (:data:`KeyParser`). Both come from the UI
(``idp_tui.screens.bindings`` finds them in the app's classes and in Textual's key names), so this module
imports neither Textual nor the app, and the UI imports it, never the other way round.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import config_path
from .quoting import name_text

KEYMAP_FILE = "keymap.yaml"


@dataclass(frozen=True)
class BoundKey:
    """One binding as one place sees it: its id (None for Textual's own), action and default keys."""

    id: str | None
    action: str
    keys: tuple[str, ...]
    description: str = ""

    @property
    def name(self) -> str:
        return self.id or self.action


@dataclass(frozen=True)
class Scope:
    """Where a set of bindings is active together: a screen with the app's bindings, a modal, or a widget."""

    name: str
    bindings: tuple[BoundKey, ...]


# Comma-separated keys as written -> (the keys in Textual's names, None), or ((), why they cannot be bound).
KeyParser = Callable[[str | None], tuple[tuple[str, ...], str | None]]


@dataclass(frozen=True)
class KeymapResult:
    """The entries that can be applied (binding id -> normalised keys) and one line per problem."""

    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def keymap_path(environ: Mapping[str, str] | None = None) -> Path:
    """``keymap.yaml`` beside the config file (``~/.config/idp-tui/keymap.yaml`` by default)."""
    return config_path(environ).parent / KEYMAP_FILE


def binding_ids(scopes: Iterable[Scope]) -> dict[str, tuple[str, ...]]:
    """Every binding id in ``scopes`` with its default keys (the registry a keymap is checked against)."""
    found: dict[str, tuple[str, ...]] = {}
    for scope in scopes:
        for bound in scope.bindings:
            if bound.id is not None:
                found.setdefault(bound.id, bound.keys)
    return dict(sorted(found.items()))


def read_keymap(path: Path, scopes: list[Scope], parse_keys: KeyParser) -> KeymapResult:
    """Read and check the keymap file; a missing file is an empty keymap. Never raises for a bad file.

    Args:
        path: the keymap file (:func:`keymap_path`).
        scopes: where the app's bindings are active, as the UI found them.
        parse_keys: the UI's parser for one entry's keys.
    """
    from .yaml_files import FileProblem, read_text

    if not path.exists():
        return KeymapResult()
    try:
        text = read_text(path)
    except FileProblem as problem:
        return KeymapResult(problems=[problem.where(path)])
    return check_keymap(text, path, scopes, parse_keys)


def check_keymap(text: str, path: Path | str, scopes: list[Scope], parse_keys: KeyParser) -> KeymapResult:
    """Validate a keymap's text against the app's bindings; the applicable entries and every problem, in file order."""
    entries, problems = _read_entries(text, str(path))
    known = binding_ids(scopes)
    candidates: dict[str, tuple[int, tuple[str, ...]]] = {}
    for binding_id, line, value in entries:
        where = f"{path}:{line}: {name_text(binding_id, 'binding id')}: "
        if binding_id in candidates:
            problems.append((line, f"{where}duplicate binding id (first at line {candidates[binding_id][0]})"))
            continue
        if binding_id not in known:
            problems.append((line, where + "unknown binding id" + did_you_mean(binding_id, list(known))))
            continue
        keys, key_problem = parse_keys(value)
        if key_problem:
            problems.append((line, where + key_problem))
            continue
        candidates[binding_id] = (line, keys)
    for binding_id, line, message in _drop_conflicts(candidates, scopes):
        problems.append((line, f"{path}:{line}: {name_text(binding_id, 'binding id')}: {message}"))
    keymap = {binding_id: ",".join(keys) for binding_id, (_, keys) in candidates.items()}
    return KeymapResult(keymap, [message for _, message in sorted(problems, key=lambda problem: problem[0])])


def _drop_conflicts(
    candidates: dict[str, tuple[int, tuple[str, ...]]], scopes: list[Scope]
) -> list[tuple[str, int, str]]:
    """Remove entries whose keys are taken in some place, until none are; what was removed and why.

    A remapped binding loses to a default that stays, and to an entry earlier in the file; removing an entry can
    free a key for another, hence the loop.
    """
    reported: list[tuple[str, int, str]] = []
    while True:
        clash = _first_conflict(candidates, scopes)
        if clash is None:
            return reported
        binding_id, message = clash
        reported.append((binding_id, candidates.pop(binding_id)[0], message))


def _first_conflict(candidates: dict[str, tuple[int, tuple[str, ...]]], scopes: list[Scope]) -> tuple[str, str] | None:
    order = {binding_id: line for binding_id, (line, _) in candidates.items()}
    found: list[tuple[int, str, str]] = []
    for scope in scopes:
        owners: dict[str, list[BoundKey]] = {}
        for bound in scope.bindings:
            keys = candidates[bound.id][1] if bound.id in candidates else bound.keys
            for key in keys:
                if all(other.name != bound.name for other in owners.get(key, [])):
                    owners.setdefault(key, []).append(bound)
        for key, bound in owners.items():
            remapped = [b for b in bound if b.id in candidates and key in candidates[b.id][1]]
            # The same action under two names (Textual's ctrl+q and our q both quit) is no conflict.
            if not remapped or len({b.action for b in bound}) < 2:
                continue
            loser = max(remapped, key=lambda b: order[b.id])
            others = [b.name for b in bound if b is not loser]
            message = f"{json.dumps(key)} is already bound to {', '.join(others)} on {scope.name}"
            found.append((order[loser.id], loser.id, message))
    if not found:
        return None
    _, binding_id, message = max(found)  # drop the latest entry first: earlier lines win
    return binding_id, message


def _read_entries(text: str, path: str) -> tuple[list[tuple[str, int, str | None]], list[tuple[int, str]]]:
    """``(id, line, keys text)`` per entry of the YAML mapping, and the problems of its shape."""
    import yaml

    from .yaml_files import FileProblem, compose

    try:
        root = compose(text)
    except FileProblem as problem:
        return [], [(problem.line or 0, problem.where(path))]
    if root is None or root.tag == "tag:yaml.org,2002:null":
        return [], []
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1
        return [], [(line, f"{path}:{line}: must be a mapping of binding ids to keys, e.g. home.search: ctrl+f")]
    entries: list[tuple[str, int, str | None]] = []
    problems: list[tuple[int, str]] = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not key_node.value:
            problems.append((line, f"{path}:{line}: a binding id must be a string such as home.search"))
            continue
        # The raw text, not the YAML value: ``5`` is the key 5, not a number.
        plain = isinstance(value_node, yaml.ScalarNode) and value_node.tag != "tag:yaml.org,2002:null"
        entries.append((key_node.value, line, value_node.value if plain else None))
    return entries, problems


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean "x"?)`` for the choice closest to ``word``, or "" when none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {json.dumps(close[0])}?)" if close else ""

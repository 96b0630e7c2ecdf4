"""User palettes: YAML files in ``<config dir>/themes/*.yaml``, checked before they become Textual themes.

A palette with a mistake is left out and each mistake is reported as ``FILE:LINE: key: message``, so a typo in
one colour points at its line instead of failing the start-up or silently showing another theme.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.color import Color, ColorParseError
from textual.theme import Theme

from idp_tui.quoting import described, name_text, quotable
from idp_tui.yaml_files import scalar_value

if TYPE_CHECKING:
    import yaml

COLOUR_KEYS = (
    "primary", "secondary", "accent", "foreground", "background", "surface", "panel",
    "success", "warning", "error", "boost",
)  # fmt: skip
KNOWN_KEYS = ("name", *COLOUR_KEYS, "dark")


Names = set[str] | frozenset[str]


def load_user_palettes(directory: Path, reserved: Names = frozenset()) -> tuple[list[Theme], list[str]]:
    """Every valid palette under ``directory`` (sorted by file name) and the problems of the others.

    Args:
        directory: the folder holding ``*.yaml`` palettes; a missing folder holds none.
        reserved: theme names a palette may not take (the built-in ones).
    """
    themes: list[Theme] = []
    problems: list[str] = []
    try:
        paths = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    except OSError:
        return themes, problems
    from idp_tui.yaml_files import FileProblem, read_text

    for path in paths:
        try:
            text = read_text(path)
        except FileProblem as problem:
            problems.append(f"{path}:{problem.line or 1}: {problem.message}")
            continue
        theme, found = parse_palette(text, str(path), reserved | {theme.name for theme in themes})
        problems.extend(found)
        if theme is not None:
            themes.append(theme)
    return themes, problems


def parse_palette(text: str, source: str, reserved: Names = frozenset()) -> tuple[Theme | None, list[str]]:
    """One palette's theme (None if it has any problem) and its problems, each ``SOURCE:LINE: key: message``."""
    import yaml  # here, not at the top: with no palettes, the first frame does not wait for PyYAML

    from idp_tui.yaml_files import FileProblem, compose

    try:
        root = compose(text, invalid="not valid YAML")
    except FileProblem as problem:
        return None, [f"{source}:{problem.line or 1}: {problem.message}"]
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        return None, [f"{source}:{line}: a palette is a mapping of keys such as name: and primary:"]
    values: dict[str, object] = {}
    problems: list[str] = []
    seen: set[str] = set()
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(f"{source}:{line}: ?: a key must be a plain name such as primary")
            continue
        key = key_node.value
        problem = _check(key, value_node, reserved)
        seen.add(key)
        if problem:
            problems.append(f"{source}:{line}: {name_text(key)}: {problem}")
        elif key in values:
            problems.append(f"{source}:{line}: {key}: given twice")
        else:
            values[key] = value_node.value if key != "dark" else scalar_value(value_node)
    for required in ("name", "primary"):
        if required not in seen:
            problems.append(f"{source}:{root.start_mark.line + 1}: {required}: required")
    if problems:
        return None, problems
    return Theme(**values), []  # type: ignore[arg-type] - every key and value was checked above


def _check(key: str, node: yaml.Node, reserved: Names) -> str | None:
    """What is wrong with one ``key: value`` (None if nothing)."""
    import yaml

    if key not in KNOWN_KEYS:
        return f"unknown key (known keys: {', '.join(KNOWN_KEYS)})"
    if key == "dark":
        # Constructed, not compared: ``!!bool maybe`` carries the bool tag but is no bool.
        if node.tag != "tag:yaml.org,2002:bool" or not isinstance(scalar_value(node), bool):
            return "must be true or false"
        return None
    if node.tag == "tag:yaml.org,2002:null":
        # The usual slip: an unquoted "#1F5FAD" is a YAML comment, which leaves the value empty.
        return 'is empty (quote colours that start with #: "#1F5FAD")'
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
        return "must be text" if key == "name" else 'must be a colour such as "#1F5FAD", "rgb(31,95,173)" or "blue"'
    if key == "name":
        if not node.value.isprintable():
            # The name is shown in the command palette and in messages: no control characters or escapes.
            return "must be printable text"
        return f"{node.value!r} is a built-in theme; choose another name" if node.value in reserved else None
    try:
        Color.parse(node.value)
    except ColorParseError:
        shown = repr(node.value) if quotable(node.value) else described(node.value)
        return f'{shown} is not a colour (use "#1F5FAD", "rgb(31,95,173)", "hsl(213,70%,40%)" or "blue")'
    return None

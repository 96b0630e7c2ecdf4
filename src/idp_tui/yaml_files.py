"""Reading the small YAML files people write by hand (config, keymap, palettes) without ever raising a traceback.

Whatever is at the path — a FIFO, ``/dev/zero``, a 2 GB log, a binary, Latin-1 text, ``[[[[…`` ten thousand deep,
an alias bomb, a tag PyYAML cannot construct — becomes a :class:`FileProblem` with the line it is on, which the
caller reports as ``FILE:LINE: message``. Only composing is done here (nodes keep their lines; aliases are shared
nodes, never expanded); scalars are constructed one at a time with :func:`scalar_value`.

PyYAML is imported inside the functions: the TUI's first frame does not wait for it when no such file exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .bounded_read import RefusedRead, read_regular_file

# Hand-written settings are a few KiB; a file a thousand times larger is a mistake (or an attack), not a config.
MAX_BYTES = 1024 * 1024
NULL_TAG = "tag:yaml.org,2002:null"


class FileProblem(Exception):
    """A file that cannot be used: ``line`` (1-based, None when the whole file is concerned) and ``message``."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message

    def where(self, path: Path | str) -> str:
        """``PATH:LINE: message`` (``PATH: message`` without a line)."""
        return f"{path}:{self.line}: {self.message}" if self.line else f"{path}: {self.message}"


class Unreadable:
    """A scalar YAML cannot construct (``!!float abc``, ``!!timestamp 2001-13-99``, an unknown tag)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        return f"Unreadable({self.tag!r})"


def read_text(path: Path | str, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``.

    Raises:
        FileProblem: not a regular file, unreadable, too large, or not UTF-8 (with the line of the first bad byte).
    """
    try:
        data, _ = read_regular_file(path, max_bytes)
    except RefusedRead as refused:
        if refused.kind == "too-large":
            raise FileProblem(None, f"too large (more than {max_bytes // 1024} KiB)") from None
        raise FileProblem(None, f"cannot be read ({refused})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileProblem(line, f"not UTF-8 text (byte 0x{data[error.start]:02x})") from None


def compose(text: str, invalid: str = "invalid YAML") -> Any:
    """The root node of ``text`` (None for an empty document).

    Args:
        text: the file's text.
        invalid: how a message about a syntax error starts (each kind of file keeps its own wording).

    Raises:
        FileProblem: invalid YAML (with its line), nesting too deep, or more than one document.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise FileProblem(line, f"{invalid}: {error.problem or error.context}") from None
    except yaml.reader.ReaderError as error:
        # A character YAML refuses (NUL, other controls): libyaml gives its position, not its line.
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "\0")
        raise FileProblem(line, f"{invalid}: character 0x{code:02x} is not allowed ({error.reason})") from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise FileProblem(None, f"{invalid}: {first}") from None
    except RecursionError:
        # The pure-Python composer recurses per level; libyaml stops at its own depth limit (a MarkedYAMLError).
        raise FileProblem(None, f"{invalid}: nested too deeply") from None


def scalar_value(node: Any) -> Any:
    """The Python value of a scalar node, or :class:`Unreadable` when its tag cannot be constructed from it."""
    from yaml.constructor import SafeConstructor

    try:
        return SafeConstructor().construct_object(node)
    except Exception:  # noqa: BLE001 - PyYAML's constructors raise KeyError, ValueError, binascii.Error...: all mean "cannot"
        return Unreadable(node.tag)


def short_tag(tag: str) -> str:
    """``!!float`` for ``tag:yaml.org,2002:float``; other tags as written."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def is_null(node: Any) -> bool:
    return getattr(node, "tag", None) == NULL_TAG

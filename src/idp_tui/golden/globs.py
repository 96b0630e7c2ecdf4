"""Glob patterns as Backstage's globby/micromatch reads them (``**``, ``*``, ``?``, ``[...]``, ``{a,b}``, dot files).

Patterns come from templates, written by someone else: ``*a*a*a...b`` backtracks for ages on a long name. They are
matched by the ``regex`` module with a timeout, and a pattern that runs out of time is an error, not a hang.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex

# Seconds one glob may take to match one path.
GLOB_TIMEOUT_S = 0.25


class GlobError(ValueError):
    """A glob pattern that cannot be used: malformed, or too slow to match (a pathological pattern)."""


GlobTimeout = GlobError  # the name callers catch for the slow case


class Glob:
    """A compiled glob: ``fullmatch(path)`` with a time limit."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str, compiled: regex.Pattern) -> None:
        self.pattern = pattern
        self._compiled = compiled

    def fullmatch(self, path: str) -> bool:
        """Whether the whole ``path`` matches.

        Raises:
            GlobTimeout: matching took longer than :data:`GLOB_TIMEOUT_S`.
        """
        try:
            return self._compiled.fullmatch(path, timeout=GLOB_TIMEOUT_S) is not None
        except TimeoutError:
            raise GlobError(
                f"pattern {self.pattern[:80]!r} is too complex to match {path[:80]!r} within {GLOB_TIMEOUT_S:g} s"
            ) from None


def has_magic(pattern: str) -> bool:
    """Whether ``pattern`` has a glob character (``*``, ``?``, ``[`` or ``{``), else it names one path."""
    return any(ch in pattern for ch in "*?[{")


@lru_cache(maxsize=64)
def glob_regex(pattern: str) -> Glob:
    """A matcher for a globby/micromatch-style pattern: ``**``, ``*``, ``?``, ``[...]``, ``{a,b}``; dot files match."""
    try:
        return Glob(pattern, regex.compile(_translate(pattern)))
    except regex.error as error:
        raise GlobError(f"pattern {pattern!r} is not a valid glob: {error}") from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/"):
            end = i + 2
            if end == n:
                out.append(".*")
                i = end
                continue
            if pattern[end] == "/":
                out.append("(?:.*/)?")
                i = end + 1
                continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 2)
            if close == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : close]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                out.append(("[^/" if negate else "[") + body.replace("\\", "\\\\") + "]")
                i = close
        elif ch == "{":
            close, options = _brace(pattern, i)
            if close == -1:
                out.append(re.escape(ch))
            else:
                out.append("(?:" + "|".join(_translate(option) for option in options) + ")")
                i = close
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _brace(pattern: str, start: int) -> tuple[int, list[str]]:
    """``(index of the matching }, the comma-separated options)`` for the brace at ``start``, or ``(-1, [])``."""
    depth, options, begin = 0, [], start + 1
    for index in range(start, len(pattern)):
        ch = pattern[index]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                options.append(pattern[begin:index])
                return (index, options) if len(options) > 1 else (-1, [])
        elif ch == "," and depth == 1:
            options.append(pattern[begin:index])
            begin = index + 1
    return -1, []

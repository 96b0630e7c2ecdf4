"""Small wording helpers for counts shown to people."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """``1 entity``, ``2 entities``, ``1,024 problems``."""
    if number == 1:
        word = noun
    elif noun.endswith("y") and noun[-2:-1] not in "aeiou":
        word = noun[:-1] + "ies"
    else:
        word = noun + "s"
    return f"{number:,} {word}"


def age_words(seconds: float) -> str:
    """How long ago, coarsely: ``45 s``, ``12 min``, ``3 h``, ``2 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"

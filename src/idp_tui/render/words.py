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

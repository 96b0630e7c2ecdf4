"""Problems found while reading a catalog: bad YAML, invalid entities, duplicates, dead Location targets."""

from __future__ import annotations

from typing import NamedTuple

#: The rule of a problem a policy found (a catalog guardrail): the entity is kept, unlike the other problems'.
GUARDRAIL_RULE = "guardrail"


class Problem(NamedTuple):
    """One problem, pinned to a file and line so an editor can jump to it.

    A named tuple: a large catalog's problems are cached and read back by the thousand.

    Attributes:
        path: the file the problem is in.
        line: 1-based line of the offending field (or of the document when no field is to blame).
        message: what is wrong, in the words Backstage's catalog uses.
        rule: a short stable identifier of the check (``yaml``, ``envelope``, ``policy``, ``kind``,
            ``relation``, ``duplicate``, ``location``, ``placeholder``; ``guardrail`` for a policy's verdict, which
            the session adds), for scripts.
        entity: the entity's ref when it could be read, else ``None``.
    """

    path: str
    line: int
    message: str
    rule: str
    entity: str | None = None

    def to_json(self) -> dict:
        """The problem as a JSON object: ``path``, ``line``, ``message``, ``rule`` and ``entity``."""
        return self._asdict()

    def __str__(self) -> str:
        prefix = f"{self.path}:{self.line}: "
        return prefix + (f"{self.entity}: {self.message}" if self.entity else self.message)

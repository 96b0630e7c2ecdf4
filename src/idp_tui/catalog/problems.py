"""Problems found while reading a catalog: bad YAML, invalid entities, duplicates, dead Location targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, pinned to a file and line so an editor can jump to it.

    Attributes:
        path: the file the problem is in.
        line: 1-based line of the offending field (or of the document when no field is to blame).
        message: what is wrong, in the words Backstage's catalog uses.
        rule: a short stable identifier of the check (``yaml``, ``envelope``, ``policy``, ``kind``,
            ``relation``, ``duplicate``, ``location``), for scripts.
        entity: the entity's ref when it could be read, else ``None``.
    """

    path: str
    line: int
    message: str
    rule: str
    entity: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        prefix = f"{self.path}:{self.line}: "
        return prefix + (f"{self.entity}: {self.message}" if self.entity else self.message)

    @classmethod
    def from_tuple(cls, values: tuple) -> Problem:
        return cls(*values)

    def as_tuple(self) -> tuple:
        return (self.path, self.line, self.message, self.rule, self.entity)

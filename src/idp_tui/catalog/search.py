"""Incremental, typo-tolerant search over the catalog, fast enough to run on every keystroke.

Entities are held in name order, each with a precomputed lower-case haystack. A query ranks results
in tiers, best first, keeping name order inside a tier:

1. the name or title equals the query;
2. the name or title starts with it;
3. the name or title contains it;
4. another field contains it (description, tags, owner, system, type);
5. a word of the name, title, tags, owner or system is within one typo of it (two for long queries).

Typing more narrows the previous results instead of scanning everything again. Several words must
all match; each word's tier counts and the worst decides.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

from .entity import Entity
from .refs import split_key

_WORD_SEPARATORS = str.maketrans({c: " " for c in "-_./:@,;()[]{}\"'"})
_TYPO_MIN_LENGTH = 4
_TWO_TYPOS_MIN_LENGTH = 8


def _sort_key(entity: Entity) -> tuple[str, str, str]:
    metadata = entity.raw["metadata"]
    return (metadata["name"].lower(), entity.raw["kind"], metadata.get("namespace") or "")


def _short_ref(key: str | None) -> str:
    return split_key(key)[2] if key else ""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Entity positions (into :attr:`SearchIndex.entities`) in rank order, and how many matched exactly."""

    query: str
    positions: list[int]
    exact_count: int


class SearchIndex:
    """An in-memory index over a list of entities."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        # Built on every start of a 50,000-entity catalog: read the raw descriptors directly.
        self.entities: list[Entity] = sorted(entities, key=_sort_key)
        self.names: list[str] = []
        self.name_titles: list[str] = []
        self.haystacks: list[str] = []
        self.exact: dict[str, list[int]] = {}
        for position, entity in enumerate(self.entities):
            raw = entity.raw
            metadata = raw["metadata"]
            spec = raw.get("spec") or {}
            name = metadata["name"].lower()
            title = (metadata.get("title") or "").lower()
            self.names.append(name)
            self.name_titles.append(f"{name}\n{title}" if title else name)
            fields = [
                name,
                title,
                metadata.get("description") or "",
                " ".join(metadata.get("tags") or ()),
                spec.get("owner") or "",
                spec.get("system") or "",
                spec.get("type") or "",
                raw["kind"],
            ]
            self.haystacks.append("\n".join(f if type(f) is str else "" for f in fields).lower())
            self.exact.setdefault(name, []).append(position)
            if title and title != name:
                self.exact.setdefault(title, []).append(position)
        self._sorted_titles: list[tuple[str, int]] | None = None
        self._words: _WordIndex | None = None
        self._previous: tuple[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.entities)

    def search(self, query: str, within: Sequence[int] | None = None) -> SearchResult:
        """Rank the entities matching ``query``; ``within`` restricts the search to those positions."""
        terms = query.lower().split()
        if not terms:
            positions = list(within) if within is not None else list(range(len(self.entities)))
            return SearchResult(query, positions, len(positions))
        if len(terms) == 1:
            return self._search_term(terms[0], within, query)
        ranked: dict[int, int] | None = None
        for term in terms:
            tiers = self._tiers(term, within if ranked is None else list(ranked))
            if ranked is None:
                ranked = tiers
            else:
                ranked = {p: max(t, tiers[p]) for p, t in ranked.items() if p in tiers}
        assert ranked is not None
        ordered = sorted(ranked, key=lambda p: (ranked[p], p))
        exact = sum(1 for p in ordered if ranked[p] < 4)
        return SearchResult(query, ordered, exact)

    def _search_term(self, term: str, within: Sequence[int] | None, query: str) -> SearchResult:
        candidates = self._narrowed(term, within)
        if candidates is None:
            candidates = range(len(self.haystacks))
        haystacks, name_titles = self.haystacks, self.name_titles
        # One pass splits the hits: matched in the name or title, or only in another field.
        in_name: list[int] = []
        elsewhere: list[int] = []
        add_name, add_elsewhere = in_name.append, elsewhere.append
        for p in candidates:
            if term in name_titles[p]:
                add_name(p)
            elif term in haystacks[p]:
                add_elsewhere(p)
        if within is None:
            # Both runs are ascending, so this sort is a cheap merge; it keeps "elsewhere" in name order.
            self._previous = (term, sorted(in_name + elsewhere))
        exact = set(self.exact.get(term, ()))
        prefix = self._prefix_positions(term)
        if within is not None:
            allowed = set(in_name)
            exact &= allowed
            prefix &= allowed
        top = exact | prefix
        positions = sorted(exact)
        positions += sorted(prefix - exact)
        positions += [p for p in in_name if p not in top] if top else in_name
        positions += elsewhere
        exact_count = len(positions)
        if len(term) >= _TYPO_MIN_LENGTH:
            matched = set(positions)
            allowed_typos = None if within is None else set(within)
            positions += [
                p
                for p in self._typo_positions(term)
                if p not in matched and (allowed_typos is None or p in allowed_typos)
            ]
        return SearchResult(query, positions, exact_count)

    def _tiers(self, term: str, within: Sequence[int] | None) -> dict[int, int]:
        result = self._search_term(term, within, term)
        exact = set(self.exact.get(term, ()))
        prefix = self._prefix_positions(term)
        tiers: dict[int, int] = {}
        for rank, position in enumerate(result.positions):
            if rank >= result.exact_count:
                tiers[position] = 5
            elif position in exact:
                tiers[position] = 1
            elif position in prefix:
                tiers[position] = 2
            elif term in self.name_titles[position]:
                tiers[position] = 3
            else:
                tiers[position] = 4
        return tiers

    def _narrowed(self, term: str, within: Sequence[int] | None) -> Sequence[int] | None:
        """Reuse the previous keystroke's hits when this term extends it (``pay`` -> ``paym``)."""
        if within is not None:
            return within
        if self._previous is not None and term.startswith(self._previous[0]):
            return self._previous[1]
        return None

    def _prefix_positions(self, term: str) -> set[int]:
        """Positions whose name or title starts with ``term`` (names are sorted, so this is a range)."""
        names = self.names
        start = bisect_left(names, term)
        end = start
        while end < len(names) and names[end].startswith(term):
            end += 1
        found = set(range(start, end))
        titles = self._titles_sorted()
        start = bisect_left(titles, (term, -1))
        while start < len(titles) and titles[start][0].startswith(term):
            found.add(titles[start][1])
            start += 1
        return found

    def _titles_sorted(self) -> list[tuple[str, int]]:
        if self._sorted_titles is None:
            self._sorted_titles = sorted(
                (e.title.lower(), p) for p, e in enumerate(self.entities) if e.title
            )
        return self._sorted_titles

    def _typo_positions(self, term: str) -> list[int]:
        """Entities matching ``term`` with typos; a term like ``paymnet-procesor`` must match word by word."""
        if self._words is None:
            self._words = _WordIndex(self.entities)
        words = term.translate(_WORD_SEPARATORS).split()
        if len(words) <= 1:
            return self._words.near(term)
        ranked: list[int] | None = None
        for word in words:
            if len(word) >= _TYPO_MIN_LENGTH:
                near = self._words.near(word)
            else:
                near = [p for p, hay in enumerate(self.haystacks) if word in hay]
            if ranked is None:
                ranked = near  # the first word decides the order
            else:
                keep = set(near)
                ranked = [p for p in ranked if p in keep]
        return ranked or []


class _WordIndex:
    """Words of names, titles, tags, owners and systems, for matching a query with a typo in it.

    The name's first word ranks first, then other words of the name or title, then the other fields;
    closer spellings first within each.
    """

    def __init__(self, entities: Sequence[Entity]) -> None:
        postings: dict[str, list[tuple[int, int]]] = {}
        for position, entity in enumerate(entities):
            spec = entity.spec
            fields = (
                f"{entity.name} {entity.title or ''}",
                " ".join(
                    (
                        " ".join(entity.tags),
                        _short_ref(entity.owner_key) if spec.get("owner") else "",
                        _short_ref(entity.system_key) if spec.get("system") else "",
                    )
                ),
            )
            seen: set[str] = set()
            for field_number, text in enumerate(fields):
                for word_number, word in enumerate(text.lower().translate(_WORD_SEPARATORS).split()):
                    if len(word) >= _TYPO_MIN_LENGTH - 1 and word not in seen:
                        seen.add(word)
                        weight = 2 if field_number else min(word_number, 1)
                        postings.setdefault(word, []).append((position, weight))
        self.postings = postings
        self.words = sorted(postings)
        self._truncated: dict[int, list[str]] = {}

    def _prefixes(self, length: int) -> list[str]:
        prefixes = self._truncated.get(length)
        if prefixes is None:
            prefixes = self._truncated[length] = [word[:length] for word in self.words]
        return prefixes

    def near(self, term: str) -> list[int]:
        """Positions with a word whose beginning is within the allowed typos of ``term``, best first."""
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        typos = 2 if len(term) >= _TWO_TYPOS_MIN_LENGTH else 1
        distances: dict[int, int] = {}
        # A typo can drop, add or change letters, so compare with word beginnings a little shorter or longer.
        for length in range(len(term) - typos, len(term) + typos + 1):
            matches = process.extract(
                term,
                self._prefixes(length),
                scorer=DamerauLevenshtein.distance,
                score_cutoff=typos,
                limit=None,
            )
            for _, distance, index in matches:
                distances[index] = min(distance, distances.get(index, distance))
        best: dict[int, tuple[int, int]] = {}
        for index, distance in distances.items():
            for position, weight in self.postings[self.words[index]]:
                rank = (weight, distance)
                if rank < best.get(position, (9, 9)):
                    best[position] = rank
        return sorted(best, key=lambda position: (best[position], position))

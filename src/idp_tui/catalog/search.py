"""Incremental, typo-tolerant search over the catalog, fast enough to run on every keystroke.

Entities are held in name order, each with a precomputed lower-case haystack. A query ranks results
in tiers, best first, keeping name order inside a tier:

1. the name or title equals the query;
2. the name or title starts with it;
3. the name or title contains it (for queries of three letters or more);
4. another field contains it (description, tags, owner, system, type);
5. a word of the name, title, tags, owner or system is within one typo of it (two for long queries).

Results are produced lazily in that order, so :meth:`SearchIndex.search_page` answers a keystroke
with the first screenful after scanning only as much as it needs; :meth:`SearchIndex.search` gives
the whole list. Typing more narrows the previous complete result instead of scanning everything
again. ``within`` (the positions a facet filter lets through) must be in ascending order. Several
words must all match; each word's tier counts and the worst decides.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from .entity import Entity
from .typos import TYPO_MIN_LENGTH, TypoIndex, words_of

# One or two letters occur in nearly every name: below this, "contains" does not rank by field.
_NAME_TIER_MIN_LENGTH = 3
_CHUNK = 2048
_LAST = "\U0010ffff"
PAGE_SIZE = 200


def _contains(sorted_positions: Sequence[int], position: int) -> bool:
    index = bisect_left(sorted_positions, position)
    return index < len(sorted_positions) and sorted_positions[index] == position


def _sort_key(entity: Entity) -> tuple[str, str, str]:
    metadata = entity.raw["metadata"]
    return (metadata["name"].lower(), entity.raw["kind"], metadata.get("namespace") or "")


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Entity positions (into :attr:`SearchIndex.entities`) in rank order.

    ``exact_count`` leading positions matched as typed (the rest with typos); ``complete`` is False
    for a first page that more results follow.
    """

    query: str
    positions: list[int]
    exact_count: int
    complete: bool = True


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
        self._typos: TypoIndex | None = None
        self._prepare_lock = threading.Lock()
        self._previous: tuple[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.entities)

    def prepare(self) -> None:
        """Build what the first typo-tolerant query needs (call from a background worker).

        A search that needs it sooner waits for the build in progress instead of starting another.
        """
        with self._prepare_lock:
            self._titles_sorted()
            if self._typos is None:
                self._typos = TypoIndex(self.entities)

    # -- queries ----------------------------------------------------------------------------------

    def search(self, query: str, within: Sequence[int] | None = None) -> SearchResult:
        """Rank every entity matching ``query``; ``within`` restricts the search to those positions."""
        terms = query.lower().split()
        if not terms:
            positions = list(within) if within is not None else list(range(len(self.entities)))
            return SearchResult(query, positions, len(positions))
        if len(terms) > 1:
            return self._search_words(terms, within, query)
        term = terms[0]
        positions = list(self._matches(term, within))
        exact_count = len(positions)
        positions += self._typo_tail(term, within, positions)
        return SearchResult(query, positions, exact_count)

    def search_page(self, query: str, within: Sequence[int] | None = None, limit: int = PAGE_SIZE) -> SearchResult:
        """The first ``limit`` results of :meth:`search`, found by scanning only as far as needed."""
        terms = query.lower().split()
        if len(terms) != 1:
            return self.search(query, within)
        term = terms[0]
        page = list(islice(self._matches(term, within), limit))
        if len(page) == limit:
            return SearchResult(query, page, limit, complete=False)
        return SearchResult(query, page + self._typo_tail(term, within, page), len(page))

    # -- ranking ----------------------------------------------------------------------------------

    def _matches(self, term: str, within: Sequence[int] | None) -> Iterator[int]:
        """Positions whose haystack contains ``term``, in tier order (exact, prefix, name, elsewhere)."""
        candidates = self._narrowed(term, within)
        start, end = self._name_prefix_range(term)
        if candidates is None:
            count = len(self.haystacks)
            in_range: Sequence[int] = range(start, end)
            rest: list[Sequence[int]] = [range(0, start), range(end, count)]
        else:
            low, high = bisect_left(candidates, start), bisect_left(candidates, end)
            in_range = candidates[low:high]
            rest = [candidates[:low], candidates[high:]]

        def allowed(position: int) -> bool:
            return candidates is None or _contains(candidates, position)

        exact = sorted(p for p in self.exact.get(term, ()) if allowed(p))
        by_title = [p for p in self._title_prefix_positions(term) if not start <= p < end and allowed(p)]
        yield from exact
        yield from sorted({*in_range, *by_title}.difference(exact))
        # Exact and title matches outside the name range were given already: skip them below.
        outside = set(exact).union(by_title).difference(range(start, end))
        hits = [*in_range, *outside]
        haystacks, name_titles = self.haystacks, self.name_titles
        by_name = len(term) >= _NAME_TIER_MIN_LENGTH
        elsewhere: list[int] = []
        for part in rest:
            for offset in range(0, len(part), _CHUNK):
                found = [p for p in part[offset : offset + _CHUNK] if term in haystacks[p]]
                if outside:
                    found = [p for p in found if p not in outside]
                hits += found
                if not by_name:
                    yield from found
                    continue
                in_name = [p for p in found if term in name_titles[p]]
                yield from in_name
                if len(in_name) != len(found):
                    named = set(in_name)
                    elsewhere += [p for p in found if p not in named]
        yield from elsewhere
        if within is None:
            self._previous = (term, sorted(hits))

    def _narrowed(self, term: str, within: Sequence[int] | None) -> Sequence[int] | None:
        """Reuse the previous complete search when this term extends it (``pay`` -> ``paym``)."""
        if within is not None:
            return within
        previous = self._previous
        if previous is not None and term.startswith(previous[0]):
            return previous[1]
        return None

    def _typo_tail(self, term: str, within: Sequence[int] | None, matched: Sequence[int]) -> list[int]:
        """Typo matches not already among ``matched`` (none for short terms)."""
        if len(term) < TYPO_MIN_LENGTH:
            return []
        seen = set(matched)
        allowed = None if within is None else set(within)
        return [p for p in self._typo_positions(term) if p not in seen and (allowed is None or p in allowed)]

    def _typo_positions(self, term: str) -> list[int]:
        """Entities matching ``term`` with typos; a term like ``paymnet-procesor`` must match word by word."""
        self.prepare()
        assert self._typos is not None
        words = words_of(term)
        if len(words) <= 1:
            return self._typos.near(term)
        ranked: list[int] | None = None
        for word in words:
            if len(word) >= TYPO_MIN_LENGTH:
                near = self._typos.near(word)
            else:
                near = [p for p, hay in enumerate(self.haystacks) if word in hay]
            if ranked is None:
                ranked = near  # the first word decides the order
            else:
                keep = set(near)
                ranked = [p for p in ranked if p in keep]
        return ranked or []

    def _search_words(self, terms: list[str], within: Sequence[int] | None, query: str) -> SearchResult:
        ranked: dict[int, int] | None = None
        for term in terms:
            tiers = self._tiers(term, within if ranked is None else sorted(ranked))
            ranked = tiers if ranked is None else {p: max(t, tiers[p]) for p, t in ranked.items() if p in tiers}
        assert ranked is not None
        ordered = sorted(ranked, key=lambda p: (ranked[p], p))
        return SearchResult(query, ordered, sum(1 for p in ordered if ranked[p] < 5))

    def _tiers(self, term: str, within: Sequence[int] | None) -> dict[int, int]:
        """Each matching position's tier (1 best, 5 by typo) for one word of a several-word query."""
        matches = list(self._matches(term, within))
        exact = set(self.exact.get(term, ()))
        start, end = self._name_prefix_range(term)
        prefix = {*range(start, end), *self._title_prefix_positions(term)}
        tiers = {p: 5 for p in self._typo_tail(term, within, matches)}
        for position in matches:
            if position in exact:
                tiers[position] = 1
            elif position in prefix:
                tiers[position] = 2
            elif term in self.name_titles[position]:
                tiers[position] = 3
            else:
                tiers[position] = 4
        return tiers

    def _name_prefix_range(self, term: str) -> tuple[int, int]:
        """``[start, end)``: the positions whose name starts with ``term`` (names are sorted)."""
        start = bisect_left(self.names, term)
        return start, bisect_left(self.names, term + _LAST, start)

    def _title_prefix_positions(self, term: str) -> list[int]:
        titles = self._titles_sorted()
        start = bisect_left(titles, (term, -1))
        end = bisect_left(titles, (term + _LAST, -1), start)
        return [position for _, position in titles[start:end]]

    def _titles_sorted(self) -> list[tuple[str, int]]:
        if self._sorted_titles is None:
            self._sorted_titles = sorted(
                (title, position)
                for position, title in enumerate(nt.partition("\n")[2] for nt in self.name_titles)
                if title
            )
        return self._sorted_titles

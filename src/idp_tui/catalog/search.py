"""Incremental, typo-tolerant search over the catalog, fast enough to run on every keystroke.

Entities are held in name order, each with a precomputed lower-case haystack. A query ranks results
in tiers, best first, keeping name order inside a tier:

1. the name or title equals the query;
2. the name or title starts with it;
3. the name or title contains it (for queries of three letters or more);
4. another field contains it (description, tags, owner, system, type);
5. a word of the name, title, tags, owner or system is within one typo of it (two for long queries).

Results are produced lazily in that order, so :meth:`SearchIndex.search_page` answers a keystroke
with the first screenful after finding only as much as it needs; :meth:`SearchIndex.search` gives
the whole list. Once :meth:`SearchIndex.prepare` has built the word index (``search_words``), a
term's matches come from the words that contain it, not from reading every entity's text; before
that, or when reading is cheaper, the text is scanned, and typing more narrows the previous complete
result instead of scanning everything again. Both ways give the same results in the same order.
``within`` (the positions a facet filter lets through) must be in ascending order. Several words
must all match; each word's tier counts and the worst decides.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from .entity import Entity
from .search_words import Hits, WordIndex
from .typos import TYPO_MIN_LENGTH, TypoIndex, words_of

# One or two letters occur in nearly every name: below this, "contains" does not rank by field.
_NAME_TIER_MIN_LENGTH = 3
_CHUNK = 2048
_LAST = "\U0010ffff"
PAGE_SIZE = 200
# Up to this many candidates (a facet filter, the previous keystroke's matches), reading their text is cheaper
# than asking the word index.
_SCAN_MAX = 3000


def _contains(sorted_positions: Sequence[int], position: int) -> bool:
    index = bisect_left(sorted_positions, position)
    return index < len(sorted_positions) and sorted_positions[index] == position


def _texts(entities: Sequence[Entity], names: Sequence[str]) -> tuple[list[str], list[str], dict[str, list[int]]]:
    """``(name_titles, haystacks, exact)`` of :class:`SearchIndex` for entities in its order."""
    name_titles: list[str] = []
    haystacks: list[str] = []
    exact: dict[str, list[int]] = {}
    for position, entity in enumerate(entities):
        raw = entity.raw
        metadata = raw["metadata"]
        spec = raw.get("spec") or {}
        name = names[position]
        title = (metadata.get("title") or "").lower()
        name_titles.append(f"{name}\n{title}" if title else name)
        fields = (
            name,
            title,
            metadata.get("description") or "",
            " ".join(metadata.get("tags") or ()),
            spec.get("owner") or "",
            spec.get("system") or "",
            spec.get("type") or "",
            raw["kind"],
        )
        haystacks.append("\n".join([f if type(f) is str else "" for f in fields]).lower())
        held = exact.get(name)
        if held is None:
            exact[name] = [position]
        else:
            held.append(position)
        if title and title != name:
            exact.setdefault(title, []).append(position)
    return name_titles, haystacks, exact


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
    """An in-memory index over a list of entities.

    Made on every start (50,000 entities on a large catalog) before the list can be shown: only the name order
    is made here. The lower-case texts a query reads are made by :meth:`prepare` in the background, or by the
    first search that comes sooner.
    """

    def __init__(self, entities: Sequence[Entity]) -> None:
        entities = list(entities)
        names: list[str] = []
        keys: list[str] = []
        for entity in entities:  # the raw descriptors directly: no accessor calls per entity
            raw = entity.raw
            metadata = raw["metadata"]
            name = metadata["name"].lower()
            names.append(name)
            # One string per entity sorts faster than a tuple; NUL sorts before any character of a name.
            keys.append(f"{name}\0{raw['kind']}\0{metadata.get('namespace') or ''}")
        order = sorted(range(len(entities)), key=keys.__getitem__)
        self.entities: list[Entity] = [entities[i] for i in order]
        self.names: list[str] = [names[i] for i in order]
        self._texts: tuple[list[str], list[str], dict[str, list[int]]] | None = None
        self._texts_lock = threading.Lock()
        self._sorted_titles: list[tuple[str, int]] | None = None
        self._typos: TypoIndex | None = None
        self._words: WordIndex | None = None
        self._prepare_lock = threading.Lock()
        self._words_lock = threading.Lock()
        self._previous: tuple[str, Sequence[int]] | None = None

    @property
    def name_titles(self) -> list[str]:
        """Per position, the lower-case name, and the title on a second line when there is one."""
        return (self._texts or self._make_texts())[0]

    @property
    def haystacks(self) -> list[str]:
        """Per position, every field a query looks in, lower-case, one a line."""
        return (self._texts or self._make_texts())[1]

    @property
    def exact(self) -> dict[str, list[int]]:
        """The positions of each lower-case name and title."""
        return (self._texts or self._make_texts())[2]

    def _make_texts(self) -> tuple[list[str], list[str], dict[str, list[int]]]:
        with self._texts_lock:
            if self._texts is None:
                self._texts = _texts(self.entities, self.names)
            return self._texts

    def __len__(self) -> int:
        return len(self.entities)

    def prepare(self) -> None:
        """Build the typo index, then the word index (call from a background worker).

        A typo-tolerant search that needs the typo index sooner waits for the build in progress instead of
        starting another; searches never wait for the word index (they scan until it is there).
        """
        self._make_texts()
        self._prepare_typos()
        with self._words_lock:
            if self._words is None:
                self._words = WordIndex(self.name_titles, self.haystacks)

    def _prepare_typos(self) -> None:
        with self._prepare_lock:
            self._titles_sorted()
            if self._typos is None:
                self._typos = TypoIndex(self.entities)

    def forget_previous(self) -> None:
        """Start the next search afresh rather than narrowing the last one (what a new query in a benchmark does)."""
        self._previous = None

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
        positions, matched = self._ranked(term, within)
        exact_count = len(positions)
        positions += self._typo_tail(term, within, matched)
        return SearchResult(query, positions, exact_count)

    def search_page(self, query: str, within: Sequence[int] | None = None, limit: int = PAGE_SIZE) -> SearchResult:
        """The first ``limit`` results of :meth:`search`, found by scanning only as far as needed."""
        terms = query.lower().split()
        if len(terms) != 1:
            return self.search(query, within)
        term = terms[0]
        hits = self._index_hits(term, within)
        if hits is None:
            page = list(islice(self._matches(term, within), limit))
        else:
            page = []
            for tier in self._indexed_tiers(term, within, hits):
                page += tier
                if len(page) >= limit:
                    break
            del page[limit:]
        if len(page) == limit:
            return SearchResult(query, page, limit, complete=False)
        return SearchResult(query, page + self._typo_tail(term, within, page), len(page))

    # -- ranking ----------------------------------------------------------------------------------

    def _ranked(self, term: str, within: Sequence[int] | None) -> tuple[list[int], Collection[int]]:
        """Every position matching ``term`` as typed, in rank order, and the same positions as a collection to
        test membership in (for the typo tail)."""
        hits = self._index_hits(term, within)
        if hits is None:
            positions = list(self._matches(term, within))
            return positions, positions
        positions = [p for tier in self._indexed_tiers(term, within, hits) for p in tier]
        if within is None:
            self._previous = (term, hits.anywhere)
        return positions, positions

    def _index_hits(self, term: str, within: Sequence[int] | None) -> Hits | None:
        """The word index's matches for ``term``, or None where scanning the text is the way (no index yet, a
        few hundred candidates to read, a term the index cannot answer)."""
        words = self._words
        if words is None:
            return None
        candidates = self._narrowed(term, within)
        if candidates is not None and len(candidates) <= _SCAN_MAX:
            return None
        return words.hits(term, self.haystacks, self.name_titles)

    def _indexed_tiers(self, term: str, within: Sequence[int] | None, hits: Hits) -> Iterator[list[int]]:
        """The tiers of :meth:`_matches` (exact, prefix, name, elsewhere), each made when it is asked for."""
        allowed = None if within is None else set(within)
        exact = sorted(p for p in self.exact.get(term, ()) if allowed is None or p in allowed)
        yield exact
        start, end = self._name_prefix_range(term)
        given = set(range(start, end))
        given.update(self._title_prefix_positions(term))
        given.difference_update(exact)
        if allowed is not None:
            given.intersection_update(allowed)
        yield sorted(given)
        given.update(exact)
        if len(term) >= _NAME_TIER_MIN_LENGTH:
            in_names = [p for p in hits.names if p not in given and (allowed is None or p in allowed)]
            yield in_names
            given.update(in_names)
        yield [p for p in hits.anywhere if p not in given and (allowed is None or p in allowed)]

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

    def _typo_tail(self, term: str, within: Sequence[int] | None, matched: Collection[int]) -> list[int]:
        """Typo matches not already among ``matched`` (none for short terms)."""
        if len(term) < TYPO_MIN_LENGTH:
            return []
        seen = matched if isinstance(matched, set) else set(matched)
        allowed = None if within is None else set(within)
        return [p for p in self._typo_positions(term) if p not in seen and (allowed is None or p in allowed)]

    def _typo_positions(self, term: str) -> list[int]:
        """Entities matching ``term`` with typos; a term like ``paymnet-procesor`` must match word by word."""
        self._prepare_typos()
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
        hits = self._index_hits(term, within)
        if hits is None:
            matches = list(self._matches(term, within))
        else:
            matches = [p for tier in self._indexed_tiers(term, within, hits) for p in tier]
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

"""Which entities hold which words: the complete result of a search without reading every entity's text.

A substring search reads every haystack: about 9 MB of text at 50,000 entities, 8-10 ms per keystroke however
few entities match. Words are far fewer than entities (a few tens of thousands, shared by many entities), so
the index keeps, for every word of the names and titles and for every word of the whole haystack, the sorted
positions holding it. A term without separators occurs only inside words, so the entities containing it are
exactly those holding a word that contains it: scanning the short list of distinct words replaces scanning
the text. A term with separators (``cart-sync``) takes the entities holding one of its pieces as candidates and
checks each of those against the text.

Built once per catalog in the background (:meth:`SearchIndex.prepare`); until then, and wherever the text scan
is cheaper (a term that matches most of the catalog, a few hundred candidates to narrow), searches scan.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

# Splitting at these (and at whitespace) keeps words short and shared; any set gives the same results.
SEPARATORS = "-_./:@,;()[]{}\"'!?#&*+=<>|\\~`$%^"
_SPLIT = str.maketrans({c: " " for c in SEPARATORS})
# A term shorter than this is in most entities: reading every text answers it sooner than merging word lists.
MIN_TERM = 3
_MOST_WORDS = 4000


def pieces_of(term: str) -> list[str]:
    """The parts of ``term`` between separators (``["cart", "sync"]`` for ``cart-sync``)."""
    return term.translate(_SPLIT).split()


class WordPostings:
    """The words of a list of texts, each with the ascending positions of the texts holding it."""

    def __init__(self, texts: Sequence[str]) -> None:
        postings: dict[str, list[int]] = {}
        get = postings.get
        split = _SPLIT
        for position, text in enumerate(texts):
            for word in set(text.translate(split).split()):
                held = get(word)
                if held is None:
                    postings[word] = [position]
                else:
                    held.append(position)
        self.postings = postings
        self.words = sorted(postings)
        # One string of every word, one a line: a word containing a term is found by str.find, in C.
        self._joined = "\n".join(self.words)
        starts, offset = [], 0
        for word in self.words:
            starts.append(offset)
            offset += len(word) + 1
        self._starts = starts

    def containing(self, piece: str, most: int = _MOST_WORDS) -> list[list[int]] | None:
        """The position lists of every word that contains ``piece`` (which holds no separator or whitespace);
        None when more than ``most`` words do (reading the texts is then cheaper than merging their lists)."""
        joined, starts, words, postings = self._joined, self._starts, self.words, self.postings
        found: list[list[int]] = []
        at = joined.find(piece)
        while at != -1:
            if len(found) >= most:
                return None
            index = bisect_right(starts, at) - 1
            found.append(postings[words[index]])
            if index + 1 >= len(starts):
                break
            at = joined.find(piece, starts[index + 1])  # on to the next word
        return found


def union(lists: list[list[int]]) -> list[int]:
    """The ascending positions in any of ``lists`` (each ascending). A single list is returned as it is: never
    change what this returns."""
    if len(lists) == 1:
        return lists[0]
    merged: set[int] = set()
    for held in lists:
        merged.update(held)
    return sorted(merged)


class WordIndex:
    """Word postings for the names and titles, and for the whole haystack, of a :class:`SearchIndex`."""

    def __init__(self, name_titles: Sequence[str], haystacks: Sequence[str]) -> None:
        self.count = len(haystacks)
        self.names = WordPostings(name_titles)
        self.anywhere = WordPostings(haystacks)

    def hits(self, term: str, haystacks: Sequence[str], name_titles: Sequence[str]) -> Hits | None:
        """The positions whose name or title, and whose haystack, contain ``term``; None when scanning the text is
        the better way (a term of separators only, or one so common that most entities hold it)."""
        pieces = pieces_of(term)
        longest = max(pieces, key=len, default="")
        if len(longest) < MIN_TERM:
            return None
        if longest == term:
            anywhere = self.anywhere.containing(term)
            if anywhere is None or sum(map(len, anywhere)) > 2 * self.count:  # merging costs more than reading
                return None
            return Hits(lambda _: union(self.names.containing(term, len(self.names.words)) or []),
                        lambda _: union(anywhere))  # fmt: skip
        # Separators in the term: the entities holding its longest piece, each checked against the text.
        candidates = self.anywhere.containing(longest)
        if candidates is None or sum(map(len, candidates)) > 2 * self.count:
            return None
        return Hits(
            lambda hits: [p for p in hits.anywhere if term in name_titles[p]],
            lambda _: [p for p in union(candidates) if term in haystacks[p]],
        )


class Hits:
    """A term's matches, each list made on first use: ``names`` (ascending positions whose name or title contains
    it) and ``anywhere`` (those whose haystack does)."""

    __slots__ = ("_anywhere", "_make_anywhere", "_make_names", "_names")

    def __init__(self, make_names: Callable[[Hits], list[int]], make_anywhere: Callable[[Hits], list[int]]) -> None:
        self._make_names, self._make_anywhere = make_names, make_anywhere
        self._names: list[int] | None = None
        self._anywhere: list[int] | None = None

    @property
    def names(self) -> list[int]:
        if self._names is None:
            self._names = self._make_names(self)
        return self._names

    @property
    def anywhere(self) -> list[int]:
        if self._anywhere is None:
            self._anywhere = self._make_anywhere(self)
        return self._anywhere

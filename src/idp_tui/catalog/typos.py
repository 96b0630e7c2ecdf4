"""Typo tolerance: the words of names, titles, tags, owners and systems, matched within an edit or two.

Built once per catalog, off the UI thread (see :meth:`SearchIndex.prepare`); a query compares only with
the distinct words (a few thousand in a large catalog), using rapidfuzz's Damerau-Levenshtein distance.
"""

from __future__ import annotations

from collections.abc import Sequence

from .entity import Entity

WORD_SEPARATORS = str.maketrans({c: " " for c in "-_./:@,;()[]{}\"'"})
TYPO_MIN_LENGTH = 4
TWO_TYPOS_MIN_LENGTH = 8
# Words of entity refs ("group:default/team-a") that say nothing about the entity.
_NOISE = {"group", "user", "default", "component", "system", "resource", "domain"}


def words_of(text: str) -> list[str]:
    """The lowercase words of ``text``, split at whitespace and the punctuation of names and refs (``-_./:@``...)."""
    return text.lower().translate(WORD_SEPARATORS).split()


class TypoIndex:
    """Which entity positions have which words, ranked by where the word is.

    The name's first word ranks first, then the other words of the name or title, then tags, owner and
    system; closer spellings first within each. Numbers are not words here: "42" has no typos.
    """

    def __init__(self, entities: Sequence[Entity]) -> None:
        # word -> positions by weight: (first word of the name, other name/title words, other fields)
        postings: dict[str, tuple[list[int], list[int], list[int]]] = {}
        for position, entity in enumerate(entities):
            raw = entity.raw
            metadata = raw["metadata"]
            spec = raw.get("spec") or {}
            seen: set[str] = set()
            name_words = words_of(f"{metadata['name']} {metadata.get('title') or ''}")
            other_words = words_of(
                " ".join(
                    value
                    for value in (*(metadata.get("tags") or ()), spec.get("owner"), spec.get("system"))
                    if isinstance(value, str)
                )
            )
            for number, word in enumerate(name_words + other_words):
                if len(word) < TYPO_MIN_LENGTH - 1 or word in seen or word.isdigit() or word in _NOISE:
                    continue
                seen.add(word)
                weight = 0 if number == 0 else 1 if number < len(name_words) else 2
                lists = postings.get(word)
                if lists is None:
                    postings[word] = lists = ([], [], [])
                lists[weight].append(position)
        self.postings = postings
        self.words = sorted(postings)
        # Words by their first and by their second letter: one typo leaves one of a term's first two
        # letters where it was, or moves it by one, so only these buckets need comparing.
        self._by_letter: dict[tuple[int, str], list[int]] = {}
        for index, word in enumerate(self.words):
            for slot in (0, 1):
                self._by_letter.setdefault((slot, word[slot]), []).append(index)
        # Word beginnings to compare, by (a term's first two letters, length): typing on reuses them.
        self._compared: dict[tuple[str, int, bool], tuple[list[int], list[str]]] = {}
        import rapidfuzz.process  # noqa: F401 - here, in the background build, not on the first keystroke with a typo

    def _candidates(self, term: str) -> list[int]:
        found: set[int] = set()
        for slot in (0, 1):
            for letter in term[:2]:
                found.update(self._by_letter.get((slot, letter), ()))
        return sorted(found)

    def _beginnings(self, term: str, length: int, shortest: bool) -> tuple[list[int], list[str]]:
        """The candidate words for ``term`` and their first ``length`` letters.

        Past the shortest length compared, a word shorter than ``length`` is left out: its beginning is the whole
        word, compared already.
        """
        key = (term[:2], length, shortest)
        found = self._compared.get(key)
        if found is None:
            words = self.words
            candidates = [i for i in self._candidates(term) if shortest or len(words[i]) >= length]
            found = (candidates, [words[i][:length] for i in candidates])
            if len(self._compared) >= 256:
                self._compared.clear()
            self._compared[key] = found
        return found

    def near(self, term: str) -> list[int]:
        """Positions with a word whose beginning is within the allowed typos of ``term``, best first."""
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        typos = 2 if len(term) >= TWO_TYPOS_MIN_LENGTH else 1
        distances: dict[int, int] = {}
        # A typo can drop, add or change letters, so compare with word beginnings a little shorter or longer.
        shortest = len(term) - typos
        for length in range(shortest, len(term) + typos + 1):
            candidates, prefixes = self._beginnings(term, length, length == shortest)
            matches = process.extract(
                term, prefixes, scorer=DamerauLevenshtein.distance, score_cutoff=typos, limit=None
            )
            for _, distance, found in matches:
                index = candidates[found]
                distances[index] = min(distance, distances.get(index, distance))
        by_distance: dict[int, list[str]] = {}
        for index, distance in distances.items():
            by_distance.setdefault(distance, []).append(self.words[index])
        ranked: list[int] = []
        given: set[int] = set()
        for weight in (0, 1, 2):
            for distance in sorted(by_distance):
                found_here = set().union(*(self.postings[word][weight] for word in by_distance[distance]))
                found_here -= given
                ranked += sorted(found_here)
                given |= found_here
        return ranked

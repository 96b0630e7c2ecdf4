"""Search: exact and prefix matches first, typos tolerated, incremental narrowing never changes results."""

import random

import pytest

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.search import SearchIndex


def _entity(name, kind="Component", title=None, description="", tags=(), owner="team-a", system=None):
    metadata = {"name": name, "description": description, "tags": list(tags)}
    if title:
        metadata["title"] = title
    spec = {"type": "service", "lifecycle": "production", "owner": owner}
    if system:
        spec["system"] = system
    raw = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}
    return Entity(raw, f"{kind}:default/{name}".lower())


@pytest.fixture
def index():
    return SearchIndex(
        [
            _entity("legacy-payment-gateway", description="old"),
            _entity("payment", kind="System"),
            _entity("payment-processor", title="Payment Processor", tags=["pci-dss"]),
            _entity("checkout-web", description="Talks to the payment processor"),
            _entity("payments-db", kind="Resource"),
            _entity("order-service", owner="team-payments"),
            _entity("ledger", tags=["payments"]),
            _entity("inventory-service", system="warehouse"),
        ]
    )


WORDS = ["pay", "order", "ledger", "risk", "search", "cart", "user", "auth", "edge", "mail"]


def _random_entities(seed: int, count: int, *, titled: bool = False) -> list[Entity]:
    rng = random.Random(seed)
    return [
        _entity(
            f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}",
            title=f"{rng.choice(WORDS).title()} {i}" if titled else None,
            description=" ".join(rng.sample(WORDS, 3)),
            tags=rng.sample(WORDS, 2),
        )
        for i in range(count)
    ]


def _names(index, query, **kwargs):
    return [index.entities[p].name for p in index.search(query, **kwargs).positions]


def test_exact_then_prefix_then_name_substring_then_other_fields(index):
    assert _names(index, "payment") == [
        "payment",  # exact name
        "payment-processor",  # name starts with the query (name order within a tier)
        "payments-db",
        "legacy-payment-gateway",  # name contains it
        "checkout-web",  # only the description mentions it
        "ledger",  # a tag
        "order-service",  # the owner
    ]


def test_titles_count_like_names(index):
    assert _names(index, "payment processor")[0] == "payment-processor"
    assert _names(index, "processor") == ["payment-processor", "checkout-web"]


def test_small_typos_are_tolerated_and_ranked_after_exact_matches(index):
    assert _names(index, "paymnet") == [
        "payment",
        "payment-processor",
        "payments-db",
        "legacy-payment-gateway",
        "ledger",
        "order-service",
    ]
    result = index.search("procesor")
    assert result.exact_count == 0
    assert [index.entities[p].name for p in result.positions] == ["payment-processor"]
    assert _names(index, "inventroy") == ["inventory-service"]  # transposed letters
    assert _names(index, "warehose") == ["inventory-service"]  # the system, misspelt


def test_short_queries_are_not_fuzzy(index):
    assert _names(index, "zzz") == []
    assert _names(index, "led") == ["ledger"]


def test_every_word_must_match(index):
    assert _names(index, "payment pci") == ["payment-processor"]
    assert _names(index, "service warehouse") == ["inventory-service"]
    assert _names(index, "payment nothing") == []


def test_within_restricts_results(index):
    components = [p for p, e in enumerate(index.entities) if e.kind == "Component"]
    assert _names(index, "payment", within=components) == [
        "payment-processor",
        "legacy-payment-gateway",
        "checkout-web",
        "ledger",
        "order-service",
    ]


def test_typing_incrementally_gives_the_same_results_as_searching_afresh():
    entities = _random_entities(7, 400)
    incremental = SearchIndex(entities)
    for query in ["paymen", "ordr-ca", "risk ca"]:
        for end in range(1, len(query) + 1):
            typed = incremental.search(query[:end]).positions
            fresh = SearchIndex(entities).search(query[:end]).positions
            assert typed == fresh, query[:end]


def test_empty_query_lists_everything_in_name_order(index):
    names = _names(index, "  ")
    assert names == sorted(names) and len(names) == 8


def test_a_first_page_is_the_start_of_the_full_result():
    entities = _random_entities(11, 600, titled=True)
    index = SearchIndex(entities)
    filtered = [p for p in range(len(entities)) if p % 3]
    for query in ["p", "pa", "pay", "order", "ordr", "led", "ledger-o", "user ca", "zzz", "mail"]:
        for within in (None, filtered):
            full = SearchIndex(entities).search(query, within=within)
            page = index.search_page(query, within=within, limit=25)
            if page.complete:  # nothing more to find: the page is the whole result, typos included
                assert page.positions == full.positions and page.exact_count == full.exact_count, query
            else:
                assert page.positions == full.positions[:25], (query, within is None)


# -- the word index: the same results, without reading every entity's text ---------------------------------------

VOCABULARY = ["payment", "pay", "ledger", "order", "risk", "cart", "sync", "edge", "mail", "user", "set", "settle"]


def _catalog_entities(seed: int, count: int) -> list[Entity]:
    """Names with separators and numbers, titles, descriptions, tags and owners from a shared vocabulary."""
    rng = random.Random(seed)
    entities = []
    for i in range(count):
        words = rng.sample(VOCABULARY, 3)
        entities.append(
            _entity(
                f"{words[0]}-{words[1]}.{rng.choice(['api', 'svc', 'db'])}-{i}",
                kind=rng.choice(["Component", "API", "Resource", "System"]),
                title=f"{words[2].title()} {rng.choice(VOCABULARY)}" if i % 3 else None,
                description=" ".join(rng.sample(VOCABULARY, 4)) + f" v{i % 7}",
                tags=rng.sample(VOCABULARY, 2),
                owner=f"team-{rng.choice(VOCABULARY)}",
                system=rng.choice(VOCABULARY) if i % 2 else None,
            )
        )
    return entities


def _expected(index: SearchIndex, term: str) -> list[int]:
    """The ranking the module documents, computed the slow way: tier, then name order inside a tier."""
    ranked = []
    for position, entity in enumerate(index.entities):
        name, title = entity.name.lower(), (entity.title or "").lower()
        if term not in index.haystacks[position]:
            continue
        if term in (name, title):
            tier = 1
        elif name.startswith(term) or title.startswith(term):
            tier = 2
        elif len(term) >= 3 and (term in name or term in title):
            tier = 3
        else:
            tier = 4
        ranked.append((tier, position))
    return [position for _, position in sorted(ranked)]


def _queries(entities: list[Entity], seed: int) -> list[str]:
    rng = random.Random(seed)
    queries = {word[:end] for word in VOCABULARY + ["paymnet", "ledgr", "cart-sync", "team-pay"] for end in range(1, 9)}
    for _ in range(150):  # pieces of real names and descriptions: separators, digits, word boundaries
        entity = rng.choice(entities)
        text = rng.choice([entity.name, entity.description])
        start = rng.randrange(len(text))
        queries.add(text[start : start + rng.randint(1, 9)].strip().lower() or "a")
    return sorted(queries | {"-", ".api-", "zzz", "pay ledger", "set 3", "order-sync api"})


def test_the_word_index_ranks_every_query_as_reading_the_text_does():
    entities = _catalog_entities(5, 1500)
    scanning, indexed = SearchIndex(entities), SearchIndex(entities)
    indexed.prepare()  # builds the word index: searches now come from it
    filtered = [p for p in range(len(entities)) if p % 4]
    for query in _queries(entities, 9):
        for within in (None, filtered):
            scanning.forget_previous()
            indexed.forget_previous()
            expected = scanning.search(query, within=within)
            found = indexed.search(query, within=within)
            assert (found.positions, found.exact_count) == (expected.positions, expected.exact_count), query
            if " " not in query.strip():
                term = query.strip()
                allowed = None if within is None else set(within)
                assert found.positions[: found.exact_count] == [
                    p for p in _expected(indexed, term) if allowed is None or p in allowed
                ], query
            page = indexed.search_page(query, within=within, limit=40)
            assert page.positions == found.positions[: len(page.positions)], query
            assert page.complete or len(page.positions) == 40


class _CountingList(list):
    """A list that counts the items read from it."""

    reads = 0

    def __getitem__(self, index):
        type(self).reads += 1
        return super().__getitem__(index)


def test_a_prepared_index_answers_the_complete_list_without_reading_every_entity():
    entities = _catalog_entities(6, 3000)
    index = SearchIndex(entities)
    index.prepare()
    name_titles, haystacks, exact = index._make_texts()
    index._texts = (_CountingList(name_titles), _CountingList(haystacks), exact)
    _CountingList.reads = 0
    result = index.search("sync")
    assert result.exact_count > 300  # a common word...
    assert _CountingList.reads < len(entities) // 10  # ...found from the words that hold it, not from the texts


def test_narrowing_as_one_types_and_deletes_always_gives_the_fresh_result():
    entities = _catalog_entities(8, 1200)
    for prepared in (False, True):
        typing = SearchIndex(entities)
        if prepared:
            typing.prepare()
        # Letters typed, then deleted, then a different letter: each must forget what it narrowed from.
        typed = ["s", "se", "set", "sett", "settl", "sett", "set", "se", "sy", "syn", "sync", "syn", "sy", "s", ""]
        for query in typed:
            fresh = SearchIndex(entities)
            assert typing.search(query).positions == fresh.search(query).positions, (prepared, query)
            page = typing.search_page(query, limit=30)
            assert page.positions == fresh.search(query).positions[: len(page.positions)], (prepared, query)
            assert page.complete or len(page.positions) == 30

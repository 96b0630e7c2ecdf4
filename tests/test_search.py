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

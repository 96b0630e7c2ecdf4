"""The Backstage catalog source against a local fake of the catalog REST API (shapes recorded from a real backend)."""

from __future__ import annotations

import json
import logging
import socket
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backstage_server import BackstageServer, FakeBackstage, generated_entities

from idp_tui.backstage.catalog_cache import CACHE_FORMAT, cache_file_for, save_items
from idp_tui.backstage.catalog_source import LIST_FIELDS, BackstageCatalogSource
from idp_tui.backstage.http import BackstageError, BackstageHttp
from idp_tui.paths import cache_home

TOKEN = "test-token"


@pytest.fixture
def fake(recorded_entities) -> FakeBackstage:
    return FakeBackstage(recorded_entities, token=TOKEN)


@pytest.fixture
def server(fake) -> Iterator[BackstageServer]:
    with BackstageServer(fake) as running:
        yield running


def client(url: str, token: str | None = TOKEN, **options) -> BackstageHttp:
    options.setdefault("backoff", 0.01)
    return BackstageHttp(url, (lambda: token) if token is not None else None, **options)


def source(url: str, token: str | None = TOKEN, *, http_options: dict | None = None, **options):
    return BackstageCatalogSource(client(url, token, **(http_options or {})), **options)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- paging and projection --------------------------------------------------------------------------------------------
def test_load_follows_cursors_sending_only_cursor_limit_and_fields_after_the_first_page():
    fake = FakeBackstage(generated_entities(2450, owners=50), token=TOKEN)  # 2,500 entities
    with BackstageServer(fake) as running:
        catalog = source(running.url).load()

    assert len(catalog) == 2500
    assert catalog.get("component:default/service-02449") is not None
    pages = fake.requests_to("/entities/by-query")
    assert len(pages) == 3
    first, *rest = pages
    assert first.query == {"limit": ["1000"], "fields": [",".join(LIST_FIELDS)]}
    for page in rest:
        assert set(page.query) == {"cursor", "limit", "fields"}
        assert page.query["limit"] == ["1000"]
    assert rest[0].query["cursor"] != rest[1].query["cursor"]


def test_fields_projection_is_sent_and_only_projected_fields_arrive():
    fake = FakeBackstage(generated_entities(10, owners=2), token=TOKEN)
    with BackstageServer(fake) as running:
        catalog = source(running.url).load()

    (request,) = fake.requests_to("/entities/by-query")
    assert request.query["fields"] == [",".join(LIST_FIELDS)]
    entity = catalog.get("component:default/service-00003")
    assert entity.spec["owner"] == "group:default/team-1"
    assert entity.owner_key == "group:default/team-1"
    assert entity.description.startswith("Generated service")
    assert "secretInternals" not in entity.spec  # not in LIST_FIELDS, so never sent


def test_relations_come_from_backstage_in_both_directions(server):
    catalog = source(server.url, page_size=7).load()

    assert len(catalog) == 38
    assert "component:default/deploy-bot" in catalog.related("group:default/platform-team", "ownerOf")
    assert catalog.related("component:default/deploy-bot", "ownedBy") == ["group:default/platform-team"]
    assert catalog.related("component:default/ledger-exporter", "dependsOn") == ["resource:default/payments-db"]
    # Relations live in the catalog, not inside the entity, and are not doubled by a second inversion.
    owns = [pair for pair in catalog.relations["group:default/platform-team"] if pair[0] == "ownerOf"]
    assert len(owns) == len(set(owns))
    assert "relations" not in catalog.get("component:default/deploy-bot").raw
    assert catalog.label == server.url


def test_items_without_kind_or_name_become_problems_not_crashes(recorded_entities):
    broken = [{"apiVersion": "backstage.io/v1alpha1", "metadata": {"name": "no-kind"}}]
    broken.append({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"title": "No name"}})
    fake = FakeBackstage(recorded_entities + broken, token=TOKEN)
    with BackstageServer(fake) as running:
        catalog = source(running.url).load()

    assert len(catalog) == 38
    assert len(catalog.problems) == 2
    assert all("no kind or metadata.name" in problem.message for problem in catalog.problems)
    assert all("/entities/by-uid/" in problem.path for problem in catalog.problems)


def test_a_cursor_handed_back_twice_stops_with_a_protocol_error():
    page = {"items": [], "totalItems": 1, "pageInfo": {"nextCursor": "c2FtZQ=="}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=page))
    catalog_source = BackstageCatalogSource(BackstageHttp("http://backstage.test", None, transport=transport))

    with pytest.raises(BackstageError) as caught:
        catalog_source.load()
    assert caught.value.kind == "protocol"


# -- by-name, by-refs, facets -----------------------------------------------------------------------------------------
def test_entity_reads_the_full_entity_by_name(server, fake):
    entity = source(server.url).entity("Component:default/payment-processor")

    assert entity.key == "component:default/payment-processor"
    assert entity.title == "Payment Processor"
    assert any(r["type"] == "ownedBy" for r in entity.raw["relations"])
    assert fake.requests[-1].path == "/api/catalog/entities/by-name/Component/default/payment-processor"


def test_entity_not_found_says_backstages_message_and_url_encodes_the_name(server, fake):
    with pytest.raises(BackstageError) as caught:
        source(server.url).entity("component:default/no such")

    assert caught.value.kind == "not-found"
    assert "No entity named 'no such' found, with kind 'component' in namespace 'default'" in str(caught.value)
    assert fake.requests[-1].path == "/api/catalog/entities/by-name/component/default/no%20such"


def test_by_refs_batches_keeps_order_and_nulls_and_sends_fields_in_the_body():
    fake = FakeBackstage(generated_entities(440, owners=1), token=TOKEN)
    keys = [f"component:default/service-{i:05d}" for i in range(440)]
    for position in range(0, 450, 45):  # ten refs to entities that do not exist, spread over every batch
        keys.insert(position, f"component:default/missing-{position}")
    with BackstageServer(fake) as running:
        results = source(running.url, batch_size=200).by_refs(keys, fields=["kind", "metadata.name"])

    posts = fake.requests_to("/entities/by-refs")
    assert [len(post.body["entityRefs"]) for post in posts] == [200, 200, 50]
    assert all(post.method == "POST" and post.query == {} for post in posts)
    assert all(post.body["fields"] == ["kind", "metadata.name"] for post in posts)
    assert len(results) == 450
    for key, result in zip(keys, results, strict=True):
        if "missing" in key:
            assert result is None
        else:
            assert result == {"kind": "Component", "metadata": {"name": key.rpartition("/")[2]}}


def test_by_refs_is_retried_like_a_read(server, fake):
    fake.fail_next(503)
    results = source(server.url).by_refs(["component:default/payment-processor"])

    assert results[0]["metadata"]["title"] == "Payment Processor"
    assert len(fake.requests_to("/entities/by-refs")) == 2


def test_facets_count_values_and_pass_the_filter(server, fake):
    catalog_source = source(server.url)
    facets = catalog_source.facets(["kind", "spec.lifecycle"])
    filtered = catalog_source.facets(["spec.type"], filter="kind=component")

    assert ("Component", 13) in facets["kind"]
    assert facets["spec.lifecycle"] == [("deprecated", 1), ("experimental", 4), ("production", 11)]
    assert ("service", 8) in filtered["spec.type"]
    assert fake.requests[-1].query == {"facet": ["spec.type"], "filter": ["kind=component"]}


# -- failures in words, retries -----------------------------------------------------------------------------------
def test_missing_token_is_a_401_in_words(server):
    with pytest.raises(BackstageError) as caught:
        source(server.url, token=None).load()
    assert caught.value.kind == "auth"
    assert "token missing or rejected" in str(caught.value) and "Missing credentials" in str(caught.value)


def test_wrong_token_is_a_401_in_words(server):
    with pytest.raises(BackstageError) as caught:
        source(server.url, token="not-the-token").load()
    assert caught.value.kind == "auth"
    assert "Illegal token" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [(403, "forbidden", "not allowed"), (400, "input", "rejected the request"), (500, "server", "failed while")],
)
def test_http_errors_are_said_in_words_and_not_retried(server, fake, status, kind, words):
    fake.fail_next(status, count=5, message="injected by the test")
    with pytest.raises(BackstageError) as caught:
        source(server.url).load()

    assert caught.value.kind == kind
    assert words in str(caught.value) and "injected by the test" in str(caught.value)
    assert len(fake.requests) == 1


def test_a_slow_backend_is_a_timeout_in_words(server, fake):
    fake.delay_next(1.0)
    with pytest.raises(BackstageError) as caught:
        source(server.url, http_options={"timeout": 0.2, "retries": 0}).load()
    assert caught.value.kind == "timeout"
    assert "did not answer within 0.2s" in str(caught.value)


def test_an_unreachable_backend_is_said_in_words():
    url = closed_port_url()
    with pytest.raises(BackstageError) as caught:
        source(url, http_options={"retries": 1}).load()
    assert caught.value.kind == "unreachable"
    assert f"could not reach Backstage at {url}" in str(caught.value)


def test_a_connection_dropped_mid_response_is_retried_then_reported(server, fake):
    fake.drop_next(1)
    assert len(source(server.url).load()) == 38  # one drop: the retry succeeds

    fake.drop_next(5)
    with pytest.raises(BackstageError) as caught:
        source(server.url, http_options={"retries": 1}).load()
    assert caught.value.kind == "unreachable"


def test_503_twice_then_success_loads_the_catalog(server, fake):
    fake.fail_next(503, count=2)
    catalog = source(server.url).load()

    assert len(catalog) == 38
    assert len(fake.requests_to("/entities/by-query")) == 3  # two refused, then the single page


# -- cache and offline ------------------------------------------------------------------------------------------------
def test_load_writes_the_cache_and_load_cached_returns_it_with_its_age(server, fake, tmp_path):
    cache = tmp_path / "catalog.json"
    before = time.time()
    fresh = source(server.url, cache_file=cache).load()

    cached, saved_at = source(server.url, cache_file=cache).load_cached()
    assert before <= saved_at <= time.time()
    assert [e.key for e in cached.entities] == [e.key for e in fresh.entities]
    assert cached.related("group:default/platform-team", "ownerOf") == fresh.related(
        "group:default/platform-team", "ownerOf"
    )
    assert cached.get("component:default/payment-processor").title == "Payment Processor"


def test_offline_load_serves_the_cache_without_a_single_request(server, fake, tmp_path):
    cache = tmp_path / "catalog.json"
    source(server.url, cache_file=cache).load()
    fake.requests.clear()

    catalog = source(server.url, cache_file=cache, offline=True).load()
    assert len(catalog) == 38
    assert fake.requests == []


def test_offline_without_a_cache_says_so_and_sends_nothing(server, fake, tmp_path):
    with pytest.raises(BackstageError) as caught:
        source(server.url, cache_file=tmp_path / "none.json", offline=True).load()
    assert caught.value.kind == "unreachable"
    assert "offline" in str(caught.value) and server.url in str(caught.value)
    assert fake.requests == []


def test_a_failed_load_raises_and_leaves_the_cache_alone(server, fake, tmp_path):
    cache = tmp_path / "catalog.json"
    source(server.url, cache_file=cache).load()
    before = cache.read_bytes()
    fake.fail_next(500)

    with pytest.raises(BackstageError):
        source(server.url, cache_file=cache).load()
    assert cache.read_bytes() == before
    assert source(server.url, cache_file=cache).load_cached() is not None


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xffnot json",
        b'{"format": 1, "url": "',
        json.dumps({"format": CACHE_FORMAT + 1, "url": "U", "savedAt": 1.0, "items": []}).encode(),
        json.dumps({"format": CACHE_FORMAT, "url": "http://elsewhere", "savedAt": 1.0, "items": []}).encode(),
        json.dumps({"format": CACHE_FORMAT, "url": "U", "savedAt": "yesterday", "items": []}).encode(),
        json.dumps([1, 2, 3]).encode(),
    ],
)
def test_unusable_cache_is_none_never_an_exception(tmp_path, content):
    cache = tmp_path / "catalog.json"
    cache.write_bytes(content.replace(b'"U"', b'"http://backstage.test"'))
    catalog_source = source("http://backstage.test", cache_file=cache)
    assert catalog_source.load_cached() is None


def test_cache_entries_with_bad_items_are_loaded_as_problems(tmp_path):
    cache = tmp_path / "catalog.json"
    save_items(cache, "http://backstage.test", [{"kind": "Component", "metadata": {"name": "ok"}}, 42])
    catalog, _ = source("http://backstage.test", cache_file=cache).load_cached()
    assert [e.key for e in catalog.entities] == ["component:default/ok"]
    assert len(catalog.problems) == 1


def test_cache_file_is_per_profile_and_url_under_the_cache_home():
    path = cache_file_for("https://backstage.example.com", "prod")

    assert path.parent == cache_home() / "backstage"
    assert path.suffix == ".json" and len(path.stem) == 16
    assert path == cache_file_for("https://backstage.example.com", "prod")
    assert path != cache_file_for("https://backstage.example.com", "staging")
    assert path != cache_file_for("https://other.example.com", "prod")
    assert cache_file_for("u", "p", Path("/x")).parent == Path("/x/backstage")


# -- the token never leaks --------------------------------------------------------------------------------------------
def test_the_token_appears_in_no_error_repr_log_output_or_cache(tmp_path, recorded_entities, capsys, caplog):
    secret = "s3cr3t-Token-Value-9f8e7d"
    caplog.set_level(logging.DEBUG)
    fake = FakeBackstage(recorded_entities, token=secret)
    texts: list[str] = []
    with BackstageServer(fake) as running:
        good = source(running.url, token=secret, cache_file=tmp_path / "c.json")
        good.load()
        good.by_refs(["component:default/payment-processor"])
        texts += [repr(good), repr(good.http), str(good.label)]
        fake.delay_next(1.0)  # for the first failing attempt: a timeout
        failing = [
            lambda: source(running.url, token=secret, http_options={"timeout": 0.2, "retries": 0}).load(),
            lambda: source(running.url, token=secret + "-wrong").load(),
            lambda: good.entity("component:default/missing"),
        ]
        for attempt in failing:
            with pytest.raises(BackstageError) as caught:
                attempt()
            texts += [str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value))]
    with pytest.raises(BackstageError) as caught:
        source(closed_port_url(), token=secret, http_options={"retries": 0}).load()
    texts += [str(caught.value), "".join(traceback.format_exception(caught.value))]

    assert any(r.headers.get("Authorization") == f"Bearer {secret}" for r in fake.requests)  # it was really sent
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text, (tmp_path / "c.json").read_text()]
    assert caplog.records  # httpx did log the requests; none of it may carry the token
    for text in texts:
        assert secret not in text

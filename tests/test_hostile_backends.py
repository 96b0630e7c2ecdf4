"""Hostile and broken backends, met through the real ``idp-tui`` in a resource-limited child (tests/hostile.py).

Each backend here is a raw-socket server (tests/hostile_server.py) doing what an attacker or a broken proxy does:
pages that never end, a body that never ends or inflates to a gigabyte, one byte or one header line every two
seconds, Retry-After: 30, HTML where JSON belongs, JSON nested 100,000 deep, entities of the wrong shape. The
command must finish within its budgets, say what happened in one ``idp-tui: …`` line, exit 2 for a backend that
failed, and never print a traceback or a credential.
"""

from __future__ import annotations

import itertools
import json
import socket
import textwrap
import time
from pathlib import Path

import pytest
from hostile import Outcome, run_idp_tui
from hostile_server import (
    HostileServer,
    Request,
    Wire,
    deeply_nested,
    endless_chunks,
    gzip_bomb,
    slow_body,
    slow_headers,
)

TOKEN = "hostile-test-token-7f3a9c"
DEADLINE = 3  # IDP_TUI_HTTP_DEADLINE for these runs: budgets are checked in seconds, not half-minutes


def entity(name: str, **extra) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"},
        **extra,
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.mkdir()
    return {"XDG_CONFIG_HOME": str(config), "BACKSTAGE_TOKEN": TOKEN, "IDP_TUI_HTTP_DEADLINE": str(DEADLINE)}


def list_catalog(url: str, env: dict[str, str], *extra: str) -> Outcome:
    return run_idp_tui("--catalog", url, "catalog", "list", *extra, env=env, wall_s=60)


def error_lines(outcome: Outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if line.startswith("idp-tui: ")]


def assert_backend_failure(outcome: Outcome, *words: str) -> str:
    """Exit 2, no traceback, and one ``idp-tui:`` line holding every one of ``words``; returns that line."""
    outcome.assert_no_traceback()
    assert outcome.returncode == 2, outcome.output[-2000:]
    lines = [line for line in error_lines(outcome) if all(word in line for word in words)]
    assert len(lines) == 1, outcome.stderr[-2000:]
    return lines[0]


def by_query(handler):
    """A Backstage whose ``by-query`` answers as ``handler(request, wire)`` does."""

    def serve(request: Request, wire: Wire) -> None:
        if request.path == "/api/catalog/entities/by-query":
            handler(request, wire)
        else:
            wire.answer(404, b"")

    return serve


# -- paging that never ends ---------------------------------------------------------------------------------------------
def test_cursors_that_never_end_stop_at_the_page_cap(env):
    counter = itertools.count()

    def page(request: Request, wire: Wire) -> None:
        number = next(counter)
        wire.json({"items": [entity(f"svc-{number}")], "pageInfo": {"nextCursor": f"cursor-{number}"}})

    with HostileServer(by_query(page)) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "kept sending pages", "stopped after 1,000 pages")
    assert len(server.requests) == 1000


def test_the_same_page_again_and_again_is_refused(env):
    counter = itertools.count()

    def page(request: Request, wire: Wire) -> None:
        wire.json({"items": [entity("a"), entity("b")], "pageInfo": {"nextCursor": f"cursor-{next(counter)}"}})

    with HostileServer(by_query(page)) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "the same page 3 times in a row")
    assert len(server.requests) == 3


def test_empty_pages_that_name_a_next_page_are_refused(env):
    counter = itertools.count()

    def page(request: Request, wire: Wire) -> None:
        wire.json({"items": [], "pageInfo": {"nextCursor": f"cursor-{next(counter)}"}})

    with HostileServer(by_query(page)) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "5 empty pages in a row")


# -- bodies that never end, inflate or crawl ----------------------------------------------------------------------------
def test_an_endless_chunked_body_stops_at_the_size_cap(env):
    with HostileServer(by_query(lambda request, wire: endless_chunks(wire))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "Backstage sent an answer larger than 64 MiB while reading the catalog")


def test_a_gzip_bomb_stops_at_the_size_cap_after_decompression(env):
    bomb = gzip_bomb(decoded_mib=1024)  # ~1 MiB on the wire, 1 GiB inflated: over the child's whole memory
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
    with HostileServer(by_query(lambda request, wire: wire.answer(200, bomb, headers))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "larger than 64 MiB")


def test_one_byte_every_two_seconds_meets_the_total_deadline(env):
    body = json.dumps({"items": [entity("slow")], "pageInfo": {}}).encode()
    started = time.monotonic()
    with HostileServer(by_query(lambda request, wire: slow_body(wire, body, every=2.0))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, f"did not finish answering within {DEADLINE} s while reading the catalog")
    assert time.monotonic() - started < 25  # one attempt: a deadline spent is not retried
    assert len(server.requests) == 1


def test_one_header_line_every_two_seconds_meets_the_total_deadline(env):
    started = time.monotonic()
    with HostileServer(by_query(lambda request, wire: slow_headers(wire, every=2.0))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, f"did not finish answering within {DEADLINE} s")
    assert time.monotonic() - started < 25


# -- rate limits ----------------------------------------------------------------------------------------------------------
def test_retry_after_30_fails_at_once_saying_when_to_retry(env):
    rate_limited = lambda request, wire: wire.json({}, 429, [("Retry-After", "30")])  # noqa: E731
    started = time.monotonic()
    with HostileServer(by_query(rate_limited)) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "Backstage rate limited (429) while reading the catalog: retry in 30 s")
    assert time.monotonic() - started < 20  # not 3 x 30 s in silence
    assert len(server.requests) == 1  # waiting less than asked would only earn another 429


def test_a_short_retry_after_is_waited_for_and_said_on_stderr(env):
    counter = itertools.count()

    def page(request: Request, wire: Wire) -> None:
        if next(counter) == 0:
            wire.json({}, 429, [("Retry-After", "2")])
        else:
            wire.json({"items": [entity("after-the-wait")], "pageInfo": {}})

    with HostileServer(by_query(page)) as server:
        outcome = list_catalog(server.url, env)
    outcome.assert_no_traceback()
    assert outcome.returncode == 0, outcome.output[-2000:]
    assert error_lines(outcome) == ["idp-tui: Backstage rate limited (429): waiting 2 s before retrying"]
    assert "after-the-wait" in outcome.stdout


# -- answers of the wrong shape -------------------------------------------------------------------------------------------
def test_deeply_nested_json_is_a_protocol_error(env):
    headers = [("Content-Type", "application/json")]
    with HostileServer(by_query(lambda request, wire: wire.answer(200, deeply_nested(), headers))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, "Backstage sent JSON nested deeper than 64 levels while reading the catalog")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html><body>Sign in</body></html>", "not JSON (HTML or XML)"),
        (b'{"items": [{"kind": "Comp', "not JSON (cut off)"),
        (b"", "not JSON (empty)"),
    ],
)
def test_a_page_that_is_not_a_catalog_page_is_said_in_words(env, body, words):
    with HostileServer(by_query(lambda request, wire: wire.answer(200, body))) as server:
        outcome = list_catalog(server.url, env)
    assert_backend_failure(outcome, words)


def test_entities_of_the_wrong_shape_are_left_out_and_the_rest_listed(env):
    without_api_version = entity("no-api-version")
    del without_api_version["apiVersion"]
    items = [
        entity("good-one"),
        without_api_version,
        "just a string",
        [1, 2],
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": ["not", "a", "dict"]},
        entity("bad-tags", metadata={"name": "bad-tags", "tags": {"a": 1}}),
        entity("bad-annotations", metadata={"name": "bad-annotations", "annotations": ["x"]}),
        entity("good-two", relations="not a list"),
        entity("good-three", relations=[1, {"type": 2}, {"type": "ownedBy", "targetRef": "::"}]),
    ]
    page = {"items": items, "pageInfo": {}}
    with HostileServer(by_query(lambda request, wire: wire.json(page))) as server:
        listed = list_catalog(server.url, env, "--json")
    listed.assert_no_traceback()
    assert listed.returncode == 0, listed.output[-2000:]
    names = [item["metadata"]["name"] for item in json.loads(listed.stdout)]
    assert sorted(names) == ["good-one", "good-three", "good-two"]
    assert "idp-tui: 6 problems in the catalog" in listed.stderr


# -- credentials never said ---------------------------------------------------------------------------------------------
def test_a_password_in_the_catalog_url_is_never_said(env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = list_catalog(f"http://admin:pa55-w0rd-xyz@127.0.0.1:{port}/", env)
    line = assert_backend_failure(outcome, "could not reach Backstage at http://***@127.0.0.1")
    assert "pa55-w0rd-xyz" not in outcome.output and "admin" not in line


def test_a_backstage_message_quoting_the_token_is_masked(env):
    envelope = {"error": {"name": "AuthenticationError", "message": f"Illegal token {TOKEN} for this backend"}}
    with HostileServer(by_query(lambda request, wire: wire.json(envelope, 401))) as server:
        outcome = list_catalog(server.url, env)
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was really sent
    assert_backend_failure(outcome, "token missing or rejected", "Illegal token *** for this backend")
    assert TOKEN not in outcome.output


# -- Vault ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def service_catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog-info.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: payments
              annotations:
                vault.io/secrets-path: secret/team-a/payments
                pagerduty.com/service-id: PSVC1
                opsgenie.com/team: team-a
            spec:
              type: service
              lifecycle: production
              owner: group:team-a
            """
        )
    )
    return folder


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!doctype html><html><body>Corporate proxy login</body></html>", "not JSON (HTML)"),
        (b'{"request_id": "1", "data": {"keys": ["db-pass', "not JSON (cut-off JSON)"),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper than 64 levels"),
        (b'["a", "list"]', "not a JSON object"),
        (b'{"data": ["a", "list"]}', "cannot read"),
    ],
)
def test_a_vault_answering_200_with_something_else_is_said_in_words(env, service_catalog, body, words):
    vault_token = "hvs.hostile-vault-token-123"

    def vault(request: Request, wire: Wire) -> None:
        wire.answer(200, body, [("Content-Type", "application/json")])

    with HostileServer(vault) as server:
        outcome = run_idp_tui(
            "--catalog",
            str(service_catalog),
            "secrets",
            "payments",
            env={**env, "VAULT_ADDR": server.url, "VAULT_TOKEN": vault_token},
            wall_s=60,
        )
    assert_backend_failure(outcome, f"Vault at {server.url} sent", words)
    assert vault_token not in outcome.output


# -- PagerDuty and Opsgenie ----------------------------------------------------------------------------------------------
def who(service_catalog: Path, env: dict[str, str], **backends: str) -> Outcome:
    return run_idp_tui("--catalog", str(service_catalog), "who", "payments", env={**env, **backends}, wall_s=60)


SERVICE = {
    "service": {
        "id": "PSVC1",
        "name": "Payments",
        "escalation_policy": {"id": "PPOL1", "name": "Payments", "escalation_rules": []},
    }
}


def test_pagerduty_paging_more_true_forever_is_stopped_and_said(env, service_catalog):
    counter = itertools.count()

    def pagerduty(request: Request, wire: Wire) -> None:
        if request.path == "/services/PSVC1":
            wire.json(SERVICE)
            return
        number = next(counter)
        user = {"id": f"U{number}", "name": f"Person {number}"}
        oncall = {"escalation_level": 1, "user": user, "start": None, "end": None}
        wire.json({"oncalls": [oncall], "more": True, "offset": number, "limit": 100})

    with HostileServer(pagerduty) as server:
        outcome = who(service_catalog, env, PAGERDUTY_TOKEN="pd-token-123", IDP_TUI_PAGERDUTY_URL=server.url)
    outcome.assert_no_traceback()
    assert "PagerDuty kept paging /oncalls past 50 pages of 100; stopped" in outcome.stdout
    # Fifty pages of on-calls and no more; incidents and changes are still asked, each on its own.
    assert len(server.requests_to("/oncalls")) == 50


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>maintenance</html>", "PagerDuty sent an answer that is not JSON (HTML or XML) for /services/PSVC1"),
        (b'["a"]', "PagerDuty sent an answer that is not an object for /services/PSVC1"),
        (b'{"service": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested deeper than 64 levels"),
        (b'{"service": {"id": "PSVC1", "num_pending_incidents": 1e400}}', "the number 1e400 is past what a JSON"),
        (b'{"service": {"id": "PSVC1", "escalation_policy": NaN}}', "not JSON (NaN is not JSON) for /services/PSVC1"),
        (b'{"service": {"id": "PSVC1", "escalation_policy": ["x"]}}', "PagerDuty sent a response this client cannot"),
    ],
)
def test_a_hostile_pagerduty_body_is_said_in_words(env, service_catalog, body, words):
    with HostileServer(lambda request, wire: wire.answer(200, body)) as server:
        outcome = who(service_catalog, env, PAGERDUTY_TOKEN="pd-token-123", IDP_TUI_PAGERDUTY_URL=server.url)
    outcome.assert_no_traceback()
    assert outcome.returncode == 0  # as today: who answers, with the provider's failure in the report
    assert words in outcome.stdout


def test_a_pagerduty_body_that_never_ends_stops_at_the_cap(env, service_catalog):
    with HostileServer(lambda request, wire: endless_chunks(wire)) as server:
        outcome = who(service_catalog, env, PAGERDUTY_TOKEN="pd-token-123", IDP_TUI_PAGERDUTY_URL=server.url)
    outcome.assert_no_traceback()
    assert "PagerDuty sent an answer larger than 8 MiB for /services/PSVC1" in outcome.stdout


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>login</html>", "Opsgenie sent an answer that is not JSON (HTML or XML) for /v2/escalations"),
        (b'{"data": "not a list"}', "Opsgenie sent a response this client cannot read"),
    ],
)
def test_a_hostile_opsgenie_body_is_said_in_words(env, service_catalog, body, words):
    with HostileServer(lambda request, wire: wire.answer(200, body)) as server:
        outcome = who(service_catalog, env, OPSGENIE_API_KEY="og-key-123", IDP_TUI_OPSGENIE_URL=server.url)
    outcome.assert_no_traceback()
    assert words in outcome.stdout


def test_an_opsgenie_crawling_one_header_line_every_two_seconds_meets_the_deadline(env, service_catalog):
    started = time.monotonic()
    with HostileServer(lambda request, wire: slow_headers(wire, every=2.0)) as server:
        outcome = who(service_catalog, env, OPSGENIE_API_KEY="og-key-123", IDP_TUI_OPSGENIE_URL=server.url)
    outcome.assert_no_traceback()
    assert f"Opsgenie did not finish answering within {DEADLINE} s" in outcome.stdout
    assert time.monotonic() - started < 25

"""The shared HTTP budgets (idp_tui.http_budget) and how each client uses them, against real hostile sockets.

The command-level runs are in test_hostile_backends.py; here each budget is checked on its own, with small
deadlines and caps, so a regression points at the piece that broke.
"""

from __future__ import annotations

import email.utils
import gzip
import itertools
import json
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from datetime import UTC, datetime

import httpx
import pytest
from hostile_server import HostileServer, Request, Wire, endless_chunks, gzip_bomb, slow_body, slow_headers

from idp_tui import http_budget as budget
from idp_tui.backstage import catalog_source
from idp_tui.backstage.catalog_cache import cache_file_for, load_items, save_items
from idp_tui.backstage.catalog_source import BackstageCatalogSource, build_catalog
from idp_tui.backstage.http import BackstageError, BackstageHttp
from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner
from idp_tui.backstage.scaffolder_forms import template_from_schema
from idp_tui.backstage.sse import SseLimitError, bounded_lines
from idp_tui.oncall.opsgenie import OpsgenieSource
from idp_tui.oncall.pagerduty import PagerDutySource, _retry_after
from idp_tui.secrets.models import SecretsError
from idp_tui.secrets.vault import VaultSecretStore


def budgeted_client(**options) -> httpx.Client:
    client = httpx.Client(**options)
    assert budget.install_deadlines(client) == 1
    return client


def get_within(url: str, deadline: budget.Deadline | float, *, max_bytes: int = budget.MIB, timeout: float = 5.0):
    """``GET url`` through a budgeted client: the response and its body, read by ``deadline``."""
    if not isinstance(deadline, budget.Deadline):
        deadline = budget.Deadline(deadline)
    with budgeted_client(timeout=timeout) as client:
        return budget.send_within(client, client.build_request("GET", url), deadline, max_bytes=max_bytes)


# -- the deadline ---------------------------------------------------------------------------------------------------------
def test_the_deadline_covers_headers_that_arrive_one_line_at_a_time():
    deadline = budget.Deadline(1.0)
    with HostileServer(lambda request, wire: slow_headers(wire, every=0.3)) as server:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            get_within(server.url, deadline, timeout=5.0)  # each line comes well within the 5 s read timeout
    assert 0.9 < time.monotonic() - started < 2.5
    assert deadline.passed


def test_the_deadline_covers_a_body_that_arrives_one_byte_at_a_time():
    with HostileServer(lambda request, wire: slow_body(wire, b'{"a": 1234567890}', every=0.3)) as server:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            get_within(server.url, 1.0)
    assert time.monotonic() - started < 2.5


def test_a_read_timeout_inside_the_deadline_is_not_the_deadline():
    deadline = budget.Deadline(30.0)
    with (
        HostileServer(lambda request, wire: wire.stopping.wait(3)) as server,
        pytest.raises(httpx.TimeoutException),
    ):
        get_within(server.url, deadline, timeout=0.3)
    assert not deadline.passed  # the caller words this one "did not answer within 0.3s"


def test_outside_a_deadline_scope_the_backend_changes_nothing():
    with HostileServer(lambda request, wire: wire.json({"ok": True})) as server, budgeted_client() as client:
        assert client.get(server.url).json() == {"ok": True}


# -- size and encodings ---------------------------------------------------------------------------------------------------
def test_a_gzip_bomb_is_refused_at_the_cap_without_inflating_it():
    bomb = gzip_bomb(decoded_mib=512)
    headers = [("Content-Encoding", "gzip")]
    with HostileServer(lambda request, wire: wire.answer(200, bomb, headers)) as server:
        tracemalloc.start()
        try:
            with pytest.raises(budget.BodyError, match="larger than 4 MiB") as caught:
                get_within(server.url, 10.0, max_bytes=4 * budget.MIB)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert caught.value.kind == "too-large"
    assert peak < 32 * budget.MIB


def test_a_bomb_inside_a_bomb_is_refused_at_the_cap():
    inner = gzip_bomb(decoded_mib=256)
    outer = gzip.compress(inner)
    headers = [("Content-Encoding", "gzip, gzip")]
    with (
        HostileServer(lambda request, wire: wire.answer(200, outer, headers)) as server,
        pytest.raises(budget.BodyError, match="larger than 4 MiB"),
    ):
        get_within(server.url, 10.0, max_bytes=4 * budget.MIB)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
def test_the_codings_servers_use_are_decoded(coding, encode):
    payload = json.dumps({"items": list(range(50_000))}).encode()
    answer = encode(payload)
    with HostileServer(lambda request, wire: wire.answer(200, answer, [("Content-Encoding", coding)])) as server:
        _, body = get_within(server.url, 10.0)
    assert body == payload


@pytest.mark.parametrize(
    ("coding", "words"),
    [("br", "an encoding idp-tui does not read \\(br\\)"), ("gzip, gzip, gzip, gzip", "encoded 4 times over")],
)
def test_codings_idp_tui_does_not_undo_are_refused_in_words(coding, words):
    with (
        HostileServer(lambda request, wire: wire.answer(200, b"x", [("Content-Encoding", coding)])) as server,
        pytest.raises(budget.BodyError, match=words) as caught,
    ):
        get_within(server.url, 5.0)
    assert caught.value.kind == "encoding"


def test_an_endless_body_is_refused_at_the_cap():
    with (
        HostileServer(lambda request, wire: endless_chunks(wire)) as server,
        pytest.raises(budget.BodyError, match="larger than 2 MiB"),
    ):
        get_within(server.url, 10.0, max_bytes=2 * budget.MIB)


# -- JSON ------------------------------------------------------------------------------------------------------------------
def nested(depth: int) -> bytes:
    return b'{"a": ' * (depth - 1) + b"[]" + b"}" * (depth - 1)


def test_json_up_to_the_depth_cap_is_read_and_one_level_more_is_refused():
    assert budget.loads_bounded(nested(64)) is not None
    with pytest.raises(budget.BodyError, match="nested deeper than 64 levels") as caught:
        budget.loads_bounded(nested(65))
    assert caught.value.kind == "too-deep"


def test_brackets_and_escaped_quotes_inside_strings_do_not_count():
    text = json.dumps({"a": "[[[[{{{{", "b": ['\\"]]]]', '"[', "\\\\"], "c": "}}}}]]]]"}).encode()
    assert budget.loads_bounded(text, max_depth=2)["a"] == "[[[[{{{{"


def test_an_unclosed_deep_document_is_still_an_error_in_words():
    with pytest.raises(budget.BodyError) as caught:
        budget.loads_bounded(b"[" * 100_000)
    assert caught.value.kind in ("too-deep", "not-json")


def test_too_many_values_are_refused_before_they_are_built():
    with pytest.raises(budget.BodyError, match="more than 1,000 values"):
        budget.loads_bounded(json.dumps(["ab"] * 1001).encode(), max_values=1000)
    with pytest.raises(budget.BodyError, match="more than 1,000 values"):
        budget.loads_bounded(json.dumps([{}] * 1001).encode(), max_values=1000)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"<html></html>", "HTML or XML"), (b'{"a": [1, ', "cut off"), (b'{"a": "b', "cut off")],
)
def test_not_json_says_what_it_looks_like(data, reason):
    with pytest.raises(budget.BodyError, match=f"not JSON \\({reason}\\)"):
        budget.loads_bounded(data)


# -- Retry-After ----------------------------------------------------------------------------------------------------------
def test_retry_after_reads_seconds_and_http_dates():
    now = time.time()
    in_20_s = email.utils.format_datetime(datetime.fromtimestamp(now + 20, UTC), usegmt=True)
    assert budget.retry_after_seconds("30") == 30
    assert budget.retry_after_seconds(" 2.5 ") == 2.5
    assert budget.retry_after_seconds("-4") == 0
    assert 18 < budget.retry_after_seconds(in_20_s, now=lambda: now) <= 20
    assert budget.retry_after_seconds("soon") is None
    assert budget.retry_after_seconds("nan") is None
    assert budget.retry_after_seconds(None) is None


def test_retry_waits_are_capped_per_wait_and_in_total_and_said():
    said: list[str] = []
    slept: list[float] = []
    waits = budget.RetryWaits()
    assert waits.allows(10) and not waits.allows(10.5)
    waits.wait(8, said.append, "X rate limited (429)", sleep=slept.append)
    waits.wait(0.4, said.append, "X", sleep=slept.append)  # a short back-off: not worth a line
    assert waits.allows(10) and not waits.allows(12)  # 8.4 waited of 20
    assert said == ["X rate limited (429): waiting 8 s before retrying"]
    assert slept == [8, 0.4]


def mock_backstage(answers, **options) -> tuple[BackstageHttp, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    replies = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(replies)

    transport = httpx.MockTransport(handler)
    return BackstageHttp("http://backstage.test", lambda: "tok-12345", transport=transport, **options), seen


def test_backstage_honours_retry_after_up_to_20_s_in_all_then_says_when_to_retry(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("idp_tui.backstage.http.time.sleep", slept.append)
    said: list[str] = []
    limited = httpx.Response(429, headers={"Retry-After": "8"})
    http, seen = mock_backstage([limited] * 4, on_wait=said.append)
    with pytest.raises(BackstageError) as caught:
        http.get_json("/api/catalog/entities", what="reading the catalog")
    assert caught.value.kind == "rate-limited"
    assert str(caught.value) == "Backstage rate limited (429) while reading the catalog: retry in 8 s"
    assert slept == [8, 8] and len(seen) == 3
    assert said == ["Backstage rate limited (429): waiting 8 s before retrying"] * 2


def test_backstage_says_a_503_wait_and_carries_on(monkeypatch):
    monkeypatch.setattr("idp_tui.backstage.http.time.sleep", lambda seconds: None)
    said: list[str] = []
    answers = [httpx.Response(503, headers={"Retry-After": "5"}), httpx.Response(200, json={"ok": 1})]
    http, _ = mock_backstage(answers, on_wait=said.append)
    assert http.get_json("/x", what="reading") == {"ok": 1}
    assert said == ["Backstage unavailable (503): waiting 5 s before retrying"]


def test_pagerduty_waits_for_its_own_ratelimit_reset_header():
    assert _retry_after(httpx.Response(429, headers={"ratelimit-reset": "7"})) == 7
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "3", "ratelimit-reset": "7"})) == 3
    assert _retry_after(httpx.Response(429)) == 1


def test_opsgenie_says_when_to_retry_instead_of_waiting_long():
    limited = lambda request, wire: wire.json({}, 429, [("Retry-After", "30")])  # noqa: E731
    with HostileServer(limited) as server:
        report = OpsgenieSource(lambda: "key", server.url).report_for({"opsgenie.com/team": "a"})
    assert report.error == "Opsgenie: rate limited (429); retry in 30 s"
    assert len(server.requests) == 1


# -- paging ----------------------------------------------------------------------------------------------------------------
def paging_source(pages, **options) -> BackstageCatalogSource:
    counter = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages(next(counter)))

    http = BackstageHttp("http://backstage.test", None, transport=httpx.MockTransport(handler))
    return BackstageCatalogSource(http, **options)


def item(name: str) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": name}}


def test_catalog_paging_stops_at_its_page_cap():
    pages = lambda n: {"items": [item(f"s{n}")], "pageInfo": {"nextCursor": f"c{n}"}}  # noqa: E731
    with pytest.raises(BackstageError, match="stopped after 7 pages \\(7 entities\\)") as caught:
        paging_source(pages, max_pages=7).load()
    assert caught.value.kind == "protocol"


def test_catalog_paging_stops_at_its_entity_cap(monkeypatch):
    monkeypatch.setattr(catalog_source, "MAX_CATALOG_ENTITIES", 25)
    pages = lambda n: {"items": [item(f"s{n}-{i}") for i in range(10)], "pageInfo": {"nextCursor": f"c{n}"}}  # noqa: E731
    with pytest.raises(BackstageError, match="more than 25 entities .* \\(stopped after 3 pages\\)"):
        paging_source(pages).load()


def test_a_page_cursor_the_size_of_a_page_is_refused():
    pages = lambda n: {"items": [item(f"s{n}")], "pageInfo": {"nextCursor": "c" * 100_000}}  # noqa: E731
    with pytest.raises(BackstageError, match="a page cursor of 100,000 characters"):
        paging_source(pages).load()


def test_a_hundred_bad_items_are_problems_and_the_rest_one_more():
    catalog = build_catalog([item("good"), *range(150)], "http://backstage.test")
    assert [e.name for e in catalog.entities] == ["good"]
    assert len(catalog.problems) == 101
    assert catalog.problems[0].message == "catalog item 2 is a number, not an object; it was left out"
    assert catalog.problems[-1].message == "50 more catalog items were left out as well"


# -- credentials ----------------------------------------------------------------------------------------------------------
def test_a_password_in_the_backstage_url_stays_out_of_labels_reprs_and_the_cache(tmp_path):
    url = "https://robot:hunter2-secret@backstage.example.com"
    http = BackstageHttp(url, None)
    source = BackstageCatalogSource(http, cache_file=tmp_path / "c.json")
    assert source.label == "https://***@backstage.example.com"
    assert "hunter2" not in repr(http) + repr(source)
    assert cache_file_for(url, "prod") == cache_file_for("https://***@backstage.example.com", "prod")
    save_items(tmp_path / "c.json", url, [item("a")])
    assert "hunter2" not in (tmp_path / "c.json").read_text()
    assert load_items(tmp_path / "c.json", url) is not None


def test_a_url_without_a_password_keeps_the_cache_file_it_always_had():
    import hashlib

    url = "https://backstage.example.com"
    old_name = hashlib.sha1(("prod" + url).encode()).hexdigest()[:16]  # noqa: S324 - the name before redaction
    assert cache_file_for(url, "prod").stem == old_name


def test_the_budget_module_keeps_httpx_off_the_start_up_path():
    script = "import sys, idp_tui.session, idp_tui.backstage.http, idp_tui.http_budget; print('httpx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


# -- the scaffolder's event stream ----------------------------------------------------------------------------------------
def test_lines_split_across_chunks_keep_their_crlf_and_events():
    chunks = [b"data: a\r", b"\n\r", b"\nevent: x\rdata: \xc3", b"\xa9\n\n"]
    lines = list(bounded_lines(chunks, max_line=100, max_event=100, max_total=1000))
    assert lines == ["data: a", "", "event: x", "data: \u00e9", ""]


@pytest.mark.parametrize(
    ("chunks", "words"),
    [
        ([b"x" * 60], "line longer than"),
        ([b"data: 1234567890\n"] * 10, "event longer than"),
        ([b"data: 1\n\n"] * 200, "more than"),
    ],
)
def test_event_stream_caps_are_said(chunks, words):
    with pytest.raises(SseLimitError, match=words):
        list(bounded_lines(chunks, max_line=50, max_event=100, max_total=1000))


def scaffolder(stream_handler, **options) -> tuple[BackstageTaskRunner, HostileServer]:
    def serve(request: Request, wire: Wire) -> None:
        if request.method == "POST" and request.path == "/api/scaffolder/v2/tasks":
            wire.json({"id": "task-1"}, 201)
        elif request.path.endswith("/eventstream"):
            stream_handler(request, wire)
        elif request.path == "/api/scaffolder/v2/tasks/task-1":
            wire.json({"id": "task-1", "status": "processing", "spec": {"steps": []}})
        else:
            wire.answer(404, b"")

    server = HostileServer(serve)
    http = BackstageHttp(server.url, lambda: "tok-12345", timeout=5, retries=0, **options)
    return BackstageTaskRunner(BackstageScaffolder(http), reconnects=1, backoff=0.01, cancel_grace=1), server


SSE_HEAD = [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")]


def test_an_event_stream_line_that_never_ends_fails_the_run_in_words():
    def endless_line(request: Request, wire: Wire) -> None:
        wire.head(200, SSE_HEAD)
        wire.chunk(b"data: ")
        while wire.chunk(b"x" * 65536):
            pass

    runner, server = scaffolder(endless_line)
    with server:
        result = runner.run(template_from_schema("t", {"steps": []}), {})
    assert result.status == "failed"
    assert "Backstage sent an event-stream line longer than 1 MiB while following task task-1" in result.error


def test_an_event_stream_that_trickles_without_a_line_counts_as_quiet():
    opened: list[float] = []

    def trickle(request: Request, wire: Wire) -> None:
        opened.append(time.monotonic())
        wire.head(200, SSE_HEAD)
        while wire.chunk(b"x") and not wire.stopping.wait(0.2):
            pass

    runner, server = scaffolder(trickle, stream_idle=1.0)
    cancel = threading.Event()
    with server:
        runner_thread = threading.Thread(
            target=lambda: runner.run(template_from_schema("t", {"steps": []}), {}, cancel=cancel)
        )
        runner_thread.start()
        deadline = time.monotonic() + 10
        while len(opened) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        cancel.set()
        runner_thread.join(timeout=10)
    assert len(opened) >= 3  # each trickling stream was given up after its idle second and reopened
    assert opened[2] - opened[1] < 3


# -- PagerDuty and Vault --------------------------------------------------------------------------------------------------
def test_pagerduty_refuses_the_same_page_over_and_over():
    def pagerduty(request: Request, wire: Wire) -> None:
        if request.path == "/services/PSVC1":
            wire.json({"service": {"id": "PSVC1", "escalation_policy": {"id": "P1", "escalation_rules": []}}})
        else:
            wire.json({"oncalls": [{"escalation_level": 1, "user": {"id": "U1"}}], "more": True})

    with HostileServer(pagerduty) as server:
        report = PagerDutySource(lambda: "tok", server.url).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert report.error == "PagerDuty sent the same page of /oncalls 3 times in a row; stopped"


def vault_store(url: str) -> VaultSecretStore:
    return VaultSecretStore(url, token_provider=lambda: "hvs.vault-token-98765", timeout=5)


def test_a_vault_body_that_never_ends_stops_at_its_cap():
    with (
        HostileServer(lambda request, wire: endless_chunks(wire)) as server,
        pytest.raises(SecretsError, match="sent an answer larger than 8 MiB on auth/token/lookup-self"),
    ):
        vault_store(server.url).list_secrets("team/app")


def test_a_vault_body_that_crawls_meets_the_deadline(monkeypatch):
    monkeypatch.setenv(budget.DEADLINE_ENV, "1")
    with HostileServer(lambda request, wire: slow_body(wire, b'{"data": {}}' * 4, every=0.3)) as server:
        started = time.monotonic()
        with pytest.raises(SecretsError, match="took longer than 1 s to arrive"):
            vault_store(server.url).list_secrets("team/app")
    assert time.monotonic() - started < 4


def test_vault_quoting_the_token_in_its_errors_is_masked():
    errors = {"errors": ["permission denied for token hvs.vault-token-98765"]}
    with (
        HostileServer(lambda request, wire: wire.json(errors, 500)) as server,
        pytest.raises(SecretsError) as caught,
    ):
        vault_store(server.url).list_secrets("team/app")
    assert "hvs.vault-token-98765" not in str(caught.value)
    assert "permission denied for token ***" in str(caught.value)


# -- the TUI says a wait -------------------------------------------------------------------------------------------------
async def test_the_tui_shows_a_rate_limit_wait_as_a_notification(monkeypatch):
    from test_tui import SIZE, _until

    from idp_tui.app import IdpApp
    from idp_tui.config import load_config, resolve_profile
    from idp_tui.session import Session

    counter = itertools.count()

    def backstage(request: Request, wire: Wire) -> None:
        if request.path != "/api/catalog/entities/by-query":
            wire.answer(404, b"")
        elif next(counter) == 0:
            wire.json({}, 429, [("Retry-After", "1")])
        else:
            wire.json({"items": [item("after-the-wait")], "pageInfo": {}})

    monkeypatch.setenv("IDP_TUI_CONFIG", "/nonexistent/idp-tui.yaml")
    monkeypatch.setenv("BACKSTAGE_TOKEN", "tok-12345")
    with HostileServer(backstage) as server:
        app = IdpApp(Session.from_profile(resolve_profile(load_config(), catalog=server.url)))
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: app.catalog is not None and len(app.catalog) == 1)
            said = [str(note.message) for note in app._notifications]
    assert "Backstage rate limited (429): waiting 1 s before retrying" in said

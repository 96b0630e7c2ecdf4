"""idp-tui against a Backstage URL, end to end: headless commands with BACKSTAGE_TOKEN and no config file, the TUI
opening on its cached copy at once (marked with its age) and keeping it when the refresh fails, --offline."""

from __future__ import annotations

import json

import pytest
from backstage_server import BackstageServer, FakeBackstage
from test_tui import SIZE, _loaded, _text, _until

from idp_tui.app import IdpApp
from idp_tui.cli import main
from idp_tui.config import load_config, resolve_profile
from idp_tui.session import Session

TOKEN = "bs-secret-token-7"


@pytest.fixture
def backstage(recorded_entities, monkeypatch):
    fake = FakeBackstage(recorded_entities, token=TOKEN)
    monkeypatch.setenv("BACKSTAGE_TOKEN", TOKEN)
    monkeypatch.setenv("IDP_TUI_CONFIG", "/nonexistent/idp-tui.yaml")  # no config file: flags and env only
    with BackstageServer(fake) as server:
        yield fake, server.url


def session(url: str, **flags):
    profile = resolve_profile(load_config(), catalog=url, **flags)
    return Session.from_profile(profile)


def test_headless_commands_need_only_the_url_and_backstage_token(backstage, capsys):
    fake, url = backstage
    assert main(["--catalog", url, "catalog", "list", "--json", "--kind", "Component"]) == 0
    names = {item["metadata"]["name"] for item in json.loads(capsys.readouterr().out)}
    assert "payment-processor" in names
    queries = fake.requests_to("/entities/by-query")
    assert queries and all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in queries)
    assert main(["--catalog", url, "who", "payment-processor", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["owner"]["ref"].startswith("group:default/")
    assert answer["error"].startswith("No on-call provider configured")


def test_a_rejected_token_is_one_line_without_the_token(backstage, capsys, monkeypatch):
    _, url = backstage
    monkeypatch.setenv("BACKSTAGE_TOKEN", "wrong-" + TOKEN)
    assert main(["--catalog", url, "catalog", "list", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("idp-tui: Backstage: token missing or rejected while")
    assert err.count("\n") == 1 and TOKEN not in err


async def test_the_tui_opens_on_the_cache_and_keeps_it_when_the_refresh_fails(backstage):
    fake, url = backstage
    first = IdpApp(session(url))
    async with first.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: first.catalog is not None and len(first.catalog) == len(fake.entities))
    fake.fail_next(503, count=50)  # Backstage is down for the second start
    second = IdpApp(session(url))
    async with second.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        top = second.screen.query_one("#top-bar")
        await _until(pilot, lambda: "refresh failed" in _text(top), timeout=20)
        assert len(second.catalog) == len(fake.entities)  # the cached copy, usable
        assert any("Refresh failed" in str(n.message) for n in second._notifications)


async def test_offline_sends_nothing_and_says_so(backstage):
    fake, url = backstage
    online = IdpApp(session(url))
    async with online.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: online.catalog is not None)
    asked = len(fake.requests)
    offline = IdpApp(session(url, offline=True))
    async with offline.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: offline.catalog is not None)
        assert "offline: cached" in _text(offline.screen.query_one("#top-bar"))
    assert len(fake.requests) == asked


async def test_opening_an_entity_reads_it_whole_and_fetches_unknown_relation_targets(backstage):
    from idp_tui.screens.entity import EntityScreen

    fake, url = backstage
    app = IdpApp(session(url))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _until(pilot, lambda: app.catalog is not None and len(app.catalog) == len(fake.entities))
        listed = app.catalog.find("payment-processor")
        assert "etag" not in listed.metadata  # the list is a projection
        owner = listed.owner_key
        del app.catalog.by_key[owner]  # as if the cached list predates the owner
        app.push_screen(EntityScreen(listed))
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen) and "etag" in app.screen.entity.metadata)
        await _until(pilot, lambda: app.catalog.get(owner) is not None)
        [by_refs] = fake.requests_to("/entities/by-refs")
        assert owner in by_refs.body["entityRefs"]
        assert fake.requests_to("/entities/by-name/component/default/payment-processor")

"""``s`` on an entity in the demo: its keys from the demo Vault through hvac, `y` copies a `vault kv get` command,
no secret value is ever requested, and the screen and the command say that the demo Vault answered."""

from __future__ import annotations

import json

from idp_tui.screens.secrets import SecretsScreen
from test_tui import SIZE, _loaded, _search, _until

from idp_tui.app import IdpApp
from idp_tui.cli import main
from idp_tui.session import Session


def value_reads(requests) -> list[str]:
    return [r.path for r in requests if r.method == "GET" and "/data/" in f"/{r.path}"]


async def test_s_lists_keys_and_readers_and_copies_a_kv_get_command():
    app = IdpApp(Session.for_catalog())
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await _search(pilot, "payment-processor")
        await pilot.press("enter", "s")
        await _until(pilot, lambda: isinstance(app.screen, SecretsScreen) and app.screen.answered, timeout=20)
        text = "\n".join(line.text.plain for line in app.screen.lines)
        assert "Vault path secret/team-payments/payment-processor" in text
        assert "Answered by the demo Vault" in text and "demo Vault" in app.screen.title_text.plain
        for key in ("database-url", "stripe-api-key", "webhook-signing-secret"):
            assert key in text
        assert "team-payments-payment-processor" in text
        await pilot.press("y")
        assert app.clipboard == "vault kv get -mount=secret team-payments/payment-processor/database-url"
        demo = app.session.demo_vault
        assert demo.requests and value_reads(demo.requests) == []
        await pilot.press("q")


def test_secrets_command_prints_metadata_only(capsys):
    assert main(["secrets", "payment-processor", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["demo"] is True  # no Vault named: the demo Vault answered, and says so
    keys = {key["name"]: key for key in listing["keys"]}
    assert set(keys) == {"database-url", "stripe-api-key", "webhook-signing-secret"}
    assert keys["database-url"]["versions"] == 3 and keys["database-url"]["updated"]
    assert "value" not in json.dumps(listing).lower().replace("values", "")
    assert listing["readers"] == ["team-payments-payment-processor"]


def test_secrets_command_says_the_demo_vault_answered(capsys):
    assert main(["secrets", "payment-processor"]) == 0
    out = capsys.readouterr().out
    assert "Answered by the demo Vault" in out and "database-url" in out

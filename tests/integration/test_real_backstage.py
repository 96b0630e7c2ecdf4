"""idp-tui against a real Backstage backend (catalog + scaffolder). Not part of the default suite: it needs Node.

    /work/shared/backstage-harness/start.sh      # or any Backstage with the harness catalog and templates
    IDP_TUI_BACKSTAGE_URL=http://127.0.0.1:7007 IDP_TUI_BACKSTAGE_TOKEN=idp-tui-harness-static-token \\
        .venv/bin/python -m pytest tests/integration

Every test drives the program the way a person does (the headless commands, or the runner the TUI uses), with the
token only in the environment, and checks that the token never shows.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest

from idp_tui.cli import main

URL = os.environ.get("IDP_TUI_BACKSTAGE_URL")
TOKEN = os.environ.get("IDP_TUI_BACKSTAGE_TOKEN")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN), reason="set IDP_TUI_BACKSTAGE_URL and IDP_TUI_BACKSTAGE_TOKEN to a running Backstage"
)


@pytest.fixture(autouse=True)
def token_in_env(monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", TOKEN or "")
    monkeypatch.setenv("IDP_TUI_CONFIG", "/nonexistent/idp-tui.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--catalog", URL, *argv])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


def test_the_whole_catalog_pages_through_by_query(capsys):
    import httpx

    total = httpx.get(
        f"{URL}/api/catalog/entities/by-query", params={"limit": 1}, headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()["totalItems"]
    code, out, _ = run(capsys, "catalog", "list", "--json")
    assert code == 0 and len(json.loads(out)) == total


def test_an_entity_its_owner_and_relations(capsys):
    code, out, _ = run(capsys, "catalog", "show", "payment-processor", "--json")
    entity = json.loads(out)
    assert code == 0 and entity["spec"]["owner"]
    assert any(relation["type"] == "ownedBy" for relation in entity["relations"])
    code, out, _ = run(capsys, "who", "payment-processor", "--json")
    assert code == 0 and json.loads(out)["owner"]["ref"].startswith("group:")


def test_a_golden_path_runs_on_the_scaffolder_and_reports_its_links(capsys):
    name = f"it-{uuid.uuid4().hex[:8]}"
    code, out, _ = run(
        capsys,
        "scaffold",
        "python-service",
        "--json",
        "--set",
        f"name={name}",
        "--set",
        "owner=group:default/platform-team",
        "--set",
        "namespace=apps",
        "--set",
        "lifecycle=experimental",
    )
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed"
    assert any(name in (link.get("url") or "") for link in result["output"]["links"])


def test_rejected_values_come_back_on_their_fields():
    from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner
    from idp_tui.backstage.scaffolder_forms import template_from_schema
    from idp_tui.config import TokenSource
    from idp_tui.session import Session

    session = Session.for_catalog(URL)
    scaffolder = BackstageScaffolder(session.backstage)
    template = template_from_schema("python-service", scaffolder.parameter_schema("template:default/python-service"))
    result = BackstageTaskRunner(scaffolder).run(template, {"name": "Bad Name!", "owner": "group:default/x"})
    assert result.status == "failed" and "name" in result.field_errors
    assert TokenSource("env", "BACKSTAGE_TOKEN").describe() == "env BACKSTAGE_TOKEN (set)"


def test_a_slow_task_is_cancelled():
    from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner
    from idp_tui.backstage.scaffolder_forms import template_from_schema
    from idp_tui.session import Session

    session = Session.for_catalog(URL)
    scaffolder = BackstageScaffolder(session.backstage)
    key = "template:default/harness-diagnostics"
    template = template_from_schema(scaffolder.template_entity(key), scaffolder.parameter_schema(key))
    cancel = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if "Diagnostics run" in event.message:
            cancel.set()

    result = BackstageTaskRunner(scaffolder).run(
        template, {"outcome": "succeed", "waitSeconds": 60}, on_event=on_event, cancel=cancel
    )
    assert result.status == "failed" and result.cancelled


def test_a_wrong_token_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", "not-the-token")
    code, out, err = run(capsys, "catalog", "list")
    assert code == 2 and out == ""
    assert err == "idp-tui: Backstage: token missing or rejected while reading the catalog (401: Illegal token)\n"


def test_offline_uses_the_cache_only(capsys, monkeypatch):
    assert run(capsys, "catalog", "list", "--json")[0] == 0
    monkeypatch.setenv("BACKSTAGE_TOKEN", "not-the-token")  # any request would now fail
    code, out, _ = run(capsys, "--offline", "catalog", "list", "--json")
    assert code == 0 and json.loads(out)

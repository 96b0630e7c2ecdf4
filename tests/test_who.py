"""``idp-tui who``: owner, the whole ladder now and next, incidents and blast radius, from a ref, a PagerDuty
service id or a workload; with the demo rotations and with PagerDuty (a local fake of its REST API)."""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

import pytest
from pagerduty_server import PagerDutyServer
from test_opsgenie import KEY as OPSGENIE_KEY
from test_opsgenie import opsgenie  # noqa: F401 - the local Opsgenie fixture
from test_pagerduty import TOKEN, build_fake

from idp_tui.cli import main

GAP = "2026-11-24T03:00Z"  # inside the demo's nightly level-1 gap on payments


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_json_has_the_documented_shape_and_the_gap_falls_through(capsys):
    code, out, _ = run(capsys, "who", "payment-processor", "--json", "--at", GAP)
    assert code == 0
    answer = json.loads(out)
    assert answer["entity"] == "component:default/payment-processor"
    owner = answer["owner"]
    assert (owner["ref"], owner["name"], owner["email"]) == (
        "group:default/team-payments",
        "Payments",
        "team-payments@myorg.example",
    )
    assert {"ref": "user:default/priya.raman", "name": "Priya Raman", "email": "priya.raman@myorg.example"} in owner[
        "members"
    ]
    # Level 1 is in its nightly gap: level 2 and the permanent level 3 answer; level 1 returns at 08:00.
    assert answer["gaps"] == [1]
    assert [(o["level"], o["user"]["name"], o["end"]) for o in answer["oncall"]] == [
        (2, "Priya Raman", "2026-11-24T17:00:00+00:00"),
        (3, "Maria Okafor", None),
    ]
    assert answer["oncall"][0]["user"]["email"] == "priya.raman@myorg.example"
    assert (answer["next"][0]["level"], answer["next"][0]["user"]["name"], answer["next"][0]["start"]) == (
        1,
        "Tomas Berg",
        "2026-11-24T08:00:00+00:00",
    )
    assert {i["status"] for i in answer["incidents"]} == {"triggered", "acknowledged"}
    assert {"title": "Runbook", "url": "https://wiki.myorg.example/runbooks/payment-processor"} in answer["links"]
    dependents = {d["ref"]: d["owner"] for d in answer["dependents"]}
    assert dependents["component:default/order-service"] == "group:default/team-checkout"
    checkout = next(t for t in answer["teams"] if t["owner"] == "group:default/team-checkout")
    assert checkout["oncall"] and checkout["oncall"][0]["user"]["name"]


@pytest.fixture
def utc(monkeypatch):
    """Handoff times are shown in the local zone: pin it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_text_answer_reads_top_down(capsys, monkeypatch, utc):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run(capsys, "who", "payment-processor", "--at", GAP)
    assert code == 0
    order = [out.index(word) for word in ("ON CALL", "OWNER", "BLAST RADIUS")]
    assert order == sorted(order)
    assert "L1  — nobody on call now: pages fall through to the next level" in out
    assert "L2  Priya Raman  until Tue 17:00 (in 14h)" in out
    assert "next Tomas Berg  from Tue 08:00 (in 5h)" in out
    assert "Checkout  group:team-checkout  on call:" in out


def test_from_a_pagerduty_service_id_and_from_a_workload_name(capsys):
    code, out, _ = run(capsys, "who", "P7XK2MD", "--json")
    assert code == 0
    answer = json.loads(out)
    assert (answer["entity"], answer["found_from"]) == ("component:default/order-service", "PagerDuty service P7XK2MD")
    code, out, _ = run(capsys, "who", "checkout-platform/order-api", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["entity"] == "component:default/order-service"
    assert answer["found_from"].startswith("checkout-platform/order-api on demo-")


def test_unknown_names_are_one_line_errors(capsys):
    assert run(capsys, "who", "component:nope")[2] == "idp-tui: no entity 'component:nope' in the catalog\n"
    code, _, err = run(capsys, "who", "no-such-thing-anywhere")
    assert code == 1 and "no entity, PagerDuty service, pod or workload named" in err


PD_CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-pay}
spec: {type: team, children: [], profile: {email: pay@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payment-processor, annotations: {pagerduty.com/service-id: PSVC1}}
spec: {type: service, lifecycle: production, owner: team-pay}
"""


@pytest.fixture
def pagerduty(write_catalog, monkeypatch):
    """A catalog whose payment-processor is a service on a local PagerDuty; ``.fake`` records the requests."""
    fake = build_fake()
    with PagerDutyServer(fake) as server:
        monkeypatch.setenv("IDP_TUI_PAGERDUTY_URL", server.url)
        yield SimpleNamespace(catalog=str(write_catalog({"catalog-info.yaml": PD_CATALOG})), fake=fake)


def test_a_real_catalog_asks_pagerduty_with_the_token_from_the_environment(capsys, monkeypatch, pagerduty):
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    code, out, _ = run(
        capsys, "--catalog", pagerduty.catalog, "who", "payment-processor", "--json", "--at", "2026-11-24T12:00Z"
    )
    assert code == 0
    answer = json.loads(out)
    assert (answer["provider"], answer["policy"], answer["error"]) == ("PagerDuty", "Payments ladder", None)
    assert answer["gaps"] == [1]
    assert {o["user"]["name"] for o in answer["oncall"]} == {"Carol", "Erin", "Grace"}
    assert [i["title"] for i in answer["incidents"]] == ["Card auth failing", "Slow refunds"]


def test_a_rejected_token_still_shows_the_owner_and_never_the_token(capsys, monkeypatch, pagerduty):
    monkeypatch.setenv("PAGERDUTY_TOKEN_COMMAND", f"{sys.executable} -c \"print('wrong-{TOKEN}')\"")
    code, out, err = run(capsys, "--catalog", pagerduty.catalog, "who", "payment-processor")
    assert code == 0
    assert "! PagerDuty: PagerDuty token missing or rejected" in out
    assert "pay@example.com" in out  # ownership comes from the catalog, whatever the provider says
    assert TOKEN not in out + err


def test_no_provider_configured_is_said(capsys, monkeypatch, pagerduty):
    monkeypatch.delenv("PAGERDUTY_TOKEN", raising=False)
    code, out, _ = run(capsys, "--catalog", pagerduty.catalog, "who", "payment-processor", "--json")
    assert code == 0
    assert json.loads(out)["error"].startswith("No on-call provider configured: set PAGERDUTY_TOKEN")


def test_team_and_mine(capsys, monkeypatch):
    code, out, _ = run(capsys, "team", "engineering", "--json")
    owned = {item["ref"]: item["owner"] for item in json.loads(out)["owned"]}
    assert owned["component:default/payment-processor"] == "group:default/team-payments"
    monkeypatch.setenv("USER", "tomas.berg")
    code, out, _ = run(capsys, "mine", "--json")
    mine = json.loads(out)
    assert (code, mine["user"], mine["groups"]) == (0, "user:default/tomas.berg", ["group:default/team-payments"])
    code, out, _ = run(capsys, "--user", "user:sofia.marin", "mine", "--json")
    assert "component:default/order-service" in {item["ref"] for item in json.loads(out)["owned"]}
    monkeypatch.setenv("USER", "root")
    code, _, err = run(capsys, "mine")
    assert code == 1 and "no catalog User matches 'root'" in err


def test_opsgenie_answers_for_a_team_annotation(capsys, monkeypatch, write_catalog, opsgenie):  # noqa: F811
    catalog = write_catalog(
        {"c.yaml": PD_CATALOG.replace("pagerduty.com/service-id: PSVC1", "opsgenie.com/team: payments")}
    )
    monkeypatch.delenv("PAGERDUTY_TOKEN", raising=False)
    monkeypatch.setenv("OPSGENIE_API_KEY", OPSGENIE_KEY)
    monkeypatch.setenv("IDP_TUI_OPSGENIE_URL", opsgenie.base_url)
    code, out, err = run(
        capsys, "--catalog", str(catalog), "who", "payment-processor", "--json", "--at", "2026-11-24T10:00Z"
    )
    answer = json.loads(out)
    assert (code, answer["provider"], answer["gaps"]) == (0, "Opsgenie", [1])
    assert [o["user"]["email"] for o in answer["oncall"]][0] == "cho@acme.example"
    assert OPSGENIE_KEY not in out + err


def test_asking_again_within_a_minute_is_answered_from_the_cache(monkeypatch, pagerduty):
    from idp_tui.oncall.who import who
    from idp_tui.session import Session

    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    session = Session.for_catalog(pagerduty.catalog)
    catalog = session.catalog_source.load()
    providers = session.oncall(catalog)
    first = who(catalog, catalog.find("payment-processor"), providers)
    asked = len(pagerduty.fake.requests)
    again = who(catalog, catalog.find("payment-processor"), providers)
    assert asked > 0 and len(pagerduty.fake.requests) == asked
    assert again.report == first.report and again.report.provider == "PagerDuty"


def test_a_profile_names_the_provider_and_its_token_source(capsys, monkeypatch, tmp_path, pagerduty):
    config = tmp_path / "config.yaml"
    config.write_text(
        "default_profile: work\nprofiles:\n  work:\n"
        f"    catalog: {pagerduty.catalog}\n"
        f"    oncall: {{provider: pagerduty, token: {{env: PD_FROM_PROFILE}}, url: '{pagerduty.fake.url}'}}\n"
    )
    monkeypatch.setenv("IDP_TUI_CONFIG", str(config))
    monkeypatch.delenv("PAGERDUTY_TOKEN", raising=False)
    monkeypatch.setenv("PD_FROM_PROFILE", TOKEN)
    code, out, _ = run(capsys, "who", "payment-processor", "--json", "--at", "2026-11-24T12:00Z")
    answer = json.loads(out)
    assert (code, answer["provider"], answer["error"]) == (0, "PagerDuty", None)
    monkeypatch.setenv("PD_FROM_PROFILE", "")
    code, out, _ = run(capsys, "who", "payment-processor", "--json", "--at", "2026-11-24T12:00Z")
    assert "PD_FROM_PROFILE" in json.loads(out)["error"] and TOKEN not in out


def test_the_demo_rotation_is_never_silent(capsys, monkeypatch):
    # JSON: "demo" is true whenever the bundled demo rotations answered, for the entity and for each touched team.
    code, out, _ = run(capsys, "who", "payment-processor", "--json", "--at", GAP)
    answer = json.loads(out)
    assert (code, answer["demo"], answer["errors"]) == (0, True, {})
    assert answer["teams"] and all(team["demo"] is True and team["error"] is None for team in answer["teams"])
    # Text: the ladder says it is a demo rotation, and so does the blast radius's on-call.
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, "who", "payment-processor")
    assert "demo on-call: a demo rotation" in out and "ON CALL FROM THE DEMO ROTATION" in out
    # team and mine ask no on-call provider: no demo rotation answered them.
    assert json.loads(run(capsys, "team", "engineering", "--json")[1])["demo"] is False


def test_at_is_said_and_open_incidents_are_the_ones_open_now(capsys, monkeypatch, utc):
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, "who", "payment-processor", "--at", GAP)
    assert code == 0 and "as of Tue 24 Nov 2026 03:00 UTC, the time asked for" in out
    assert "OPEN INCIDENTS NOW (" in out


def test_a_blast_radius_that_fails_is_said_and_the_rest_still_answers(capsys, monkeypatch):
    def broken(catalog, key):
        raise RuntimeError("relations could not be followed")

    monkeypatch.setattr("idp_tui.oncall.who.blast_radius", broken)
    code, out, _ = run(capsys, "who", "payment-processor", "--json", "--at", GAP)
    answer = json.loads(out)
    why = "could not work out what depends on payment-processor: relations could not be followed"
    assert (code, answer["errors"], answer["dependents"], answer["teams"]) == (0, {"dependents": why}, [], [])
    assert answer["gaps"] == [1] and answer["oncall"] and answer["owner"]["ref"] == "group:default/team-payments"
    monkeypatch.setenv("COLUMNS", "160")
    assert f"! {why}" in run(capsys, "who", "payment-processor")[1]

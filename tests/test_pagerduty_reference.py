"""PagerDutySource against a PagerDuty written from the API reference (tests/pagerduty_reference.py).

The expected answers below are worked out by hand from the reference's semantics and the scenario's schedules, as
someone reading PagerDuty's documentation would, never from the client's code:

- GET /oncalls: an on-call is returned when its shift overlaps [since, until]; both default to the current time.
- GET /incidents: without date_range=all only incidents of the last month are listed.
- GET /services/{id}/change_events: since/until are UTC written YYYY-MM-DDThh:mm:ssZ, else 400.
- 429: ratelimit-reset says how many seconds to wait.

The scenario (all times UTC; 2026-11-02 is a Monday, NOW is Tuesday 2026-11-24 12:00):
- "Primary" (level 1): one layer, weekly turns from Monday 2026-11-02 08:00, users Ann, Ben, Cat in that order,
  restricted daily to 08:00-24:00, so nobody is on it from midnight to 08:00. Turns: Ann 11-02, Ben 11-09, Cat 11-16,
  Ann 11-23, Ben 11-30 (each from 08:00). Each day's on-call is 08:00 to the next midnight.
- "Secondary" (level 2): Layer 1 daily turns at 17:00 from 2026-11-02 17:00, Dan then Eve (Dan on even turns: the
  turn starting day D at 17:00 is number D - 2 of November). Layer 2 above it: Fay, restricted weekly to Saturday
  00:00 for 48 hours, so Fay holds every weekend and Layer 1 shows through the rest of the week.
- Level 3: Gus, placed on the rule directly: a permanent on-call.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pagerduty_reference import Layer, ReferencePagerDuty, ReferencePagerDutyServer, Restriction, Schedule

from idp_tui.cli import main
from idp_tui.oncall.models import CHANGES, INCIDENTS, LADDER
from idp_tui.oncall.pagerduty import PagerDutySource

TOKEN = "pd-reference-token-4711"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SERVICE = {"pagerduty.com/service-id": "PSVC"}
Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def build(now: datetime = NOW) -> ReferencePagerDuty:
    pd = ReferencePagerDuty(token=TOKEN, now=now)
    for uid, name in [("PANN", "Ann"), ("PBEN", "Ben"), ("PCAT", "Cat"), ("PDAN", "Dan")]:
        pd.add_user(uid, name)
    for uid, name in [("PEVE", "Eve"), ("PFAY", "Fay"), ("PGUS", "Gus")]:
        pd.add_user(uid, name)
    weekly, daily = 7 * 86400, 86400
    pd.schedules["PPRIM"] = Schedule(
        "PPRIM",
        "Primary",
        [
            Layer(
                ["PANN", "PBEN", "PCAT"],
                rotation_virtual_start=at(11, 2, 8),
                rotation_turn_length_seconds=weekly,
                start=at(11, 2, 8),
                restrictions=[Restriction("daily_restriction", "08:00:00", 16 * 3600)],
            )
        ],
    )
    pd.schedules["PSEC"] = Schedule(
        "PSEC",
        "Secondary",
        [
            Layer(
                ["PDAN", "PEVE"],
                rotation_virtual_start=at(11, 2, 17),
                rotation_turn_length_seconds=daily,
                start=at(11, 2, 17),
            ),
            Layer(
                ["PFAY"],
                rotation_virtual_start=at(11, 2, 0),
                rotation_turn_length_seconds=weekly,
                start=at(11, 2, 0),
                restrictions=[Restriction("weekly_restriction", "00:00:00", 2 * daily, start_day_of_week=6)],
            ),
        ],
    )
    pd.policies["PEP"] = {"name": "Payments ladder", "rules": [(30, ["PPRIM"]), (15, ["PSEC"]), (10, ["PGUS"])]}
    pd.services["PSVC"] = {"name": "payments", "policy": "PEP", "integration_key": "key-payments"}
    return pd


@pytest.fixture
def pd():
    data = build()
    with ReferencePagerDutyServer(data):
        yield data


def source(pd: ReferencePagerDuty, clock: datetime = NOW, **options) -> PagerDutySource:
    return PagerDutySource(lambda: TOKEN, pd.url, clock=lambda: clock, **options)


def ladder(report) -> dict[int, tuple[list, list]]:
    """{level: ([(name, start, end) now], [(name, start) next])}."""
    return {
        level.level: (
            [(s.responder.name, s.start, s.end) for s in level.now],
            [(s.responder.name, s.start) for s in level.next],
        )
        for level in report.levels
    }


# -- the reference server itself, against the reference's words --------------------------------------------------------
def test_the_reference_server_answers_oncalls_by_overlap_as_documented(pd):
    headers = {"Authorization": f"Token token={TOKEN}"}
    with httpx.Client(base_url=pd.url, headers=headers) as client:
        # since = until = 12:00: only the shifts running then; Ann's started at 08:00, before `since`, and is kept.
        body = client.get("/oncalls", params={"since": "2026-11-24T12:00:00Z", "until": "2026-11-24T12:00:00Z"}).json()
        assert [(o["escalation_level"], o["user"]["summary"]) for o in body["oncalls"]] == [
            (1, "Ann"),
            (2, "Eve"),
            (3, "Gus"),
        ]
        assert body["oncalls"][0]["start"] == "2026-11-24T03:00:00-05:00"  # rendered in the account's time zone
        # No since/until: "Defaults to current time" - the same answer.
        assert client.get("/oncalls").json()["oncalls"] == body["oncalls"]
        # earliest=true over two days: one entry per (policy, level, user).
        window = {"since": "2026-11-24T12:00:00Z", "until": "2026-11-26T12:00:00Z", "earliest": "true"}
        users = [
            (o["escalation_level"], o["user"]["summary"])
            for o in client.get("/oncalls", params=window).json()["oncalls"]
        ]
        assert users == [(1, "Ann"), (2, "Eve"), (2, "Dan"), (3, "Gus")]
        # until before since, and change events asked with an offset rather than Z, are refused.
        assert (
            client.get(
                "/oncalls", params={"since": "2026-11-24T12:00:00Z", "until": "2026-11-23T12:00:00Z"}
            ).status_code
            == 400
        )
        offset = client.get("/services/PSVC/change_events", params={"since": "2026-11-24T12:00:00+00:00"})
        assert offset.status_code == 400 and "YYYY-MM-DDThh:mm:ssZ" in offset.json()["error"]["errors"][0]


# -- who is on call at T --------------------------------------------------------------------------------------------------
def test_now_is_answered_with_the_providers_default_time(pd):
    report = source(pd).report_for(SERVICE)
    assert report.error is None and report.section_errors == ()
    assert ladder(report) == {
        # Ann's turn (from 11-23), inside the 08:00-24:00 restriction; her next on-call is tomorrow 08:00.
        1: ([("Ann", at(11, 24, 8), at(11, 25, 0))], [("Ann", at(11, 25, 8))]),
        # Layer 1's turn from 11-23 17:00 is number 21: Eve. Dan takes over at 17:00.
        2: ([("Eve", at(11, 23, 17), at(11, 24, 17))], [("Dan", at(11, 24, 17))]),
        3: ([("Gus", None, None)], []),
    }


def test_a_past_moment_is_asked_as_since_equals_until_and_gets_that_days_people(pd):
    t = at(11, 12, 12)  # Thursday of Ben's week; Layer 1's turn from 11-11 17:00 is number 9: Eve
    report = source(pd).report_for(SERVICE, now=t)
    assert ladder(report)[1] == ([("Ben", at(11, 12, 8), at(11, 13, 0))], [("Ben", at(11, 13, 8))])
    assert ladder(report)[2] == ([("Eve", at(11, 11, 17), at(11, 12, 17))], [("Dan", at(11, 12, 17))])
    asked = [r for r in pd.requests if r.path == "/oncalls"]
    assert asked[0].query["since"] == asked[0].query["until"] == ["2026-11-12T12:00:00Z"]
    assert asked[1].query["since"] == ["2026-11-12T12:00:00Z"] and asked[1].query["until"] == ["2026-11-26T12:00:00Z"]


def test_a_future_moment_gets_the_rota_then(pd):
    t = at(12, 2, 12)  # Wednesday of Ben's next week; Layer 1's turn from 12-01 17:00 is number 29: Eve
    report = source(pd).report_for(SERVICE, now=t)
    assert ladder(report)[1] == ([("Ben", at(12, 2, 8), at(12, 3, 0))], [("Ben", at(12, 3, 8))])
    assert ladder(report)[2] == ([("Eve", at(12, 1, 17), at(12, 2, 17))], [("Dan", at(12, 2, 17))])
    assert not report.levels[0].is_gap


def test_a_shift_that_started_after_now_and_runs_across_t_is_on_call_at_t(pd):
    # Thursday 10:00: Ann's Thursday on-call began at 08:00 and Eve's turn at Wednesday 17:00, both after NOW.
    report = source(pd).report_for(SERVICE, now=at(11, 26, 10))
    assert ladder(report)[1][0] == [("Ann", at(11, 26, 8), at(11, 27, 0))]
    assert ladder(report)[2][0] == [("Eve", at(11, 25, 17), at(11, 26, 17))]
    assert [level.level for level in report.levels if level.is_gap] == []


def test_a_higher_layer_holds_the_weekend_and_the_lower_one_shows_through_after(pd):
    # Saturday noon: Fay (Layer 2, above) holds Saturday 00:00 to Monday 00:00; then Layer 1's turn number 27,
    # Eve's from Sunday 17:00, shows through from Monday 00:00 until 17:00.
    report = source(pd).report_for(SERVICE, now=at(11, 28, 12))
    assert ladder(report)[2] == ([("Fay", at(11, 28, 0), at(11, 30, 0))], [("Eve", at(11, 30, 0))])
    assert report.levels[1].next[0].end == at(11, 30, 17)


def test_a_gap_at_t_but_not_now(pd):
    src = source(pd)
    assert not src.report_for(SERVICE).levels[0].is_gap  # Ann, now
    level1 = src.report_for(SERVICE, now=at(11, 25, 3)).levels[0]  # 03:00 is outside 08:00-24:00
    assert level1.is_gap and [(s.responder.name, s.start) for s in level1.next] == [("Ann", at(11, 25, 8))]


def test_a_gap_now_but_not_at_t():
    night = at(11, 24, 3)
    pd = build(now=night)
    with ReferencePagerDutyServer(pd):
        src = source(pd, clock=night)
        assert src.report_for(SERVICE).levels[0].is_gap  # now is 03:00: nobody on Primary
        later = src.report_for(SERVICE, now=at(11, 24, 12)).levels[0]
        assert [(s.responder.name, s.end) for s in later.now] == [("Ann", at(11, 25, 0))]


# -- incidents and changes ----------------------------------------------------------------------------------------------
def test_open_incidents_of_any_age_are_listed(pd):
    pd.add_incident("QOLD", "Settlement drift", "acknowledged", "PSVC", NOW - timedelta(days=40))
    pd.add_incident("QNEW", "Card auth failing", "triggered", "PSVC", NOW - timedelta(hours=2))
    pd.add_incident("QDONE", "Old outage", "resolved", "PSVC", NOW - timedelta(days=5))
    report = source(pd).report_for(SERVICE)
    # Without date_range=all the 40-day-old one would be outside the default one-month window.
    assert [(i.id, i.status) for i in report.incidents] == [("QOLD", "acknowledged"), ("QNEW", "triggered")]
    asked = next(r for r in pd.requests if r.path == "/incidents")
    assert asked.query["date_range"] == ["all"] and asked.query["statuses[]"] == ["triggered", "acknowledged"]


def test_change_events_are_asked_with_z_times_for_the_week_before(pd):
    pd.add_change("PSVC", "C1", "Deploy v1.3", NOW - timedelta(hours=1))
    pd.add_change("PSVC", "C2", "Deploy v1.2", NOW - timedelta(days=3))
    pd.add_change("PSVC", "C3", "Deploy v1.1", NOW - timedelta(days=10))
    report = source(pd).report_for(SERVICE)
    assert report.section_error(CHANGES) is None
    assert [c.summary for c in report.changes] == ["Deploy v1.3", "Deploy v1.2"]
    asked = next(r for r in pd.requests if r.path == "/services/PSVC/change_events")
    assert Z.match(asked.query["since"][0]) and Z.match(asked.query["until"][0])
    assert asked.query["until"] == ["2026-11-24T12:00:00Z"] and "%2B" not in asked.raw_query


@pytest.mark.parametrize(
    ("status", "message", "said"),
    [
        (400, "Invalid Input Provided", "PagerDuty refused the query for incidents (400: Invalid Input Provided)"),
        (403, "Access Denied", "PagerDuty token is not allowed to read incidents (403)"),
    ],
)
def test_a_failing_incidents_call_keeps_the_ladder_and_says_which_section_failed(pd, status, message, said):
    pd.fail["/incidents"] = (status, message)
    pd.add_change("PSVC", "C1", "Deploy v1.3", NOW - timedelta(hours=1))
    report = source(pd).report_for(SERVICE)
    assert report.error is None and len(report.levels) == 3 and report.levels[0].now[0].responder.name == "Ann"
    assert report.section_error(INCIDENTS) == said
    assert report.section_error(LADDER) is None and [c.summary for c in report.changes] == ["Deploy v1.3"]


def test_a_failing_oncalls_call_keeps_incidents_and_says_the_ladder_failed(pd):
    pd.fail["/oncalls"] = (403, "Access Denied")
    pd.add_incident("QNEW", "Card auth failing", "triggered", "PSVC", NOW - timedelta(hours=2))
    report = source(pd).report_for(SERVICE)
    assert report.error == "PagerDuty token is not allowed to read on-calls (403)" and report.levels == ()
    assert [i.id for i in report.incidents] == ["QNEW"] and report.section_error(INCIDENTS) is None


# -- rate limits and paging -------------------------------------------------------------------------------------------
def test_ratelimit_reset_alone_is_honoured(pd):
    pd.rate_limited, pd.ratelimit_reset = 1, 1
    started = time.monotonic()
    report = source(pd).report_for(SERVICE)
    assert report.error is None and len(report.levels) == 3
    assert time.monotonic() - started >= 1.0
    assert [r.path for r in pd.requests[:2]] == ["/services/PSVC", "/services/PSVC"]


def test_reaching_the_paging_cap_is_stated_for_that_section_only(pd):
    pd.max_limit = 1  # the server hands out one item per page, whatever the client asks
    for number in range(60):
        pd.add_incident(f"Q{number}", f"Alert {number}", "triggered", "PSVC", NOW - timedelta(minutes=number))
    report = source(pd).report_for(SERVICE)
    assert len(report.incidents) == 50
    assert report.section_error(INCIDENTS) == (
        "PagerDuty kept paging /incidents past 50 pages of 1; stopped; showing the first 50"
    )
    assert report.error is None and ladder(report)[1][0] == [("Ann", at(11, 24, 8), at(11, 25, 0))]


def test_an_oncall_listing_past_the_cap_fails_the_ladder_in_words(pd):
    pd.max_limit = 1
    pd.add_incident("QNEW", "Card auth failing", "triggered", "PSVC", NOW - timedelta(hours=2))
    # Forty days ahead hold more than 50 on-calls (one per day on Primary, one per day on Secondary).
    report = source(pd, next_horizon_days=40).report_for(SERVICE)
    assert report.error == "PagerDuty kept paging /oncalls past 50 pages of 1; stopped"
    assert [i.id for i in report.incidents] == ["QNEW"]


# -- the command ----------------------------------------------------------------------------------------------------------
CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-pay}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payments, annotations: {pagerduty.com/service-id: PSVC}}
spec: {type: service, lifecycle: production, owner: team-pay}
"""


def test_who_at_json_carries_each_sections_error_and_says_it_is_not_the_demo(pd, capsys, monkeypatch, write_catalog):
    pd.fail["/incidents"] = (403, "Access Denied")
    catalog = write_catalog({"catalog-info.yaml": CATALOG})
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    monkeypatch.setenv("IDP_TUI_PAGERDUTY_URL", pd.url)
    code = main(["--catalog", str(catalog), "who", "payments", "--json", "--at", "2026-11-12T12:00Z"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0 and answer["demo"] is False and answer["error"] is None
    assert answer["errors"] == {"incidents": "PagerDuty token is not allowed to read incidents (403)"}
    assert [(o["level"], o["user"]["name"]) for o in answer["oncall"]] == [(1, "Ben"), (2, "Eve"), (3, "Gus")]
    assert answer["gaps"] == [] and answer["incidents"] == []
    code = main(["--catalog", str(catalog), "who", "payments", "--at", "2026-11-12T12:00Z"])
    out = capsys.readouterr().out
    assert "! Open incidents unknown: PagerDuty token is not allowed to read incidents (403)" in out
    assert "Ben" in out and TOKEN not in out

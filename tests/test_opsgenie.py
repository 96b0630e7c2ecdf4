"""Opsgenie through its REST API on a local server: the team's escalation as a ladder, now and next, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opsgenie_server import FakeOpsgenie, period

from idp_tui.oncall.opsgenie import OpsgenieSource

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
KEY = "og-secret-key-123"


@pytest.fixture
def opsgenie():
    fake = FakeOpsgenie()
    fake.schedules = [
        {"id": "s1", "name": "payments-primary", "ownerTeam": {"id": "t1", "name": "payments"}, "enabled": True},
        {"id": "s2", "name": "payments-secondary", "ownerTeam": {"id": "t1", "name": "payments"}, "enabled": True},
    ]
    fake.escalations = [
        {
            "id": "e1",
            "name": "payments_escalation",
            "ownerTeam": {"id": "t1", "name": "payments"},
            "rules": [
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 0, "timeUnit": "minutes"},
                    "recipient": {"type": "schedule", "id": "s1", "name": "payments-primary"},
                },
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 15, "timeUnit": "minutes"},
                    "recipient": {"type": "schedule", "id": "s2", "name": "payments-secondary"},
                },
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 30, "timeUnit": "minutes"},
                    "recipient": {"type": "user", "id": "u9", "username": "cto@acme.example"},
                },
            ],
        }
    ]
    fake.timelines = {
        "s1": [
            period("2026-11-23T08:00:00Z", "2026-11-24T08:00:00Z", "ana@acme.example"),
            # 08:00-12:00 on the 24th is not covered: a gap on level 1.
            period("2026-11-24T12:00:00Z", "2026-11-25T08:00:00Z", "ben@acme.example"),
        ],
        "s2": [
            period("2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", "cho@acme.example"),
            period("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "dev@acme.example"),
        ],
    }
    fake.start()
    yield fake
    fake.stop()


def source(fake: FakeOpsgenie, **options) -> OpsgenieSource:
    return OpsgenieSource(lambda: KEY, fake.base_url, **options)


def test_the_escalation_is_the_ladder_with_a_gap_falling_through(opsgenie):
    report = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert report.error is None and report.policy == "payments_escalation"
    level1, level2, level3 = report.levels
    assert level1.is_gap and [s.responder.name for s in level1.next] == ["ben@acme.example"]
    assert level1.next[0].start == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert [s.responder.email for s in level2.now] == ["cho@acme.example"] and level2.escalation_delay_minutes == 15
    assert level2.next[0].responder.name == "dev@acme.example"
    assert level2.next[0].start == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert level3.now[0].responder.name == "cto@acme.example" and level3.now[0].start is None  # permanent


def test_the_key_is_sent_as_genie_key_and_never_shown(opsgenie):
    source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert {r["headers"]["Authorization"] for r in opsgenie.requests} == {f"GenieKey {KEY}"}
    opsgenie.status = 401
    report = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert report.error == "Opsgenie: API key missing or rejected (401)"
    assert KEY not in repr(report) and KEY not in repr(source(opsgenie))


def test_a_slow_opsgenie_is_an_error_quickly(opsgenie):
    opsgenie.delay = 2
    report = source(opsgenie, timeout=0.3).report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert report.error == "Opsgenie did not answer within 0.3s"


def test_answers_are_cached_briefly(opsgenie):
    og = source(opsgenie, cache_seconds=60)
    og.report_for({"opsgenie.com/team": "payments"}, now=NOW)
    asked = len(opsgenie.requests)
    og.report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert len(opsgenie.requests) == asked


def test_a_team_without_escalation_gets_a_level_per_schedule(opsgenie):
    opsgenie.escalations = []
    report = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=NOW)
    assert [level.level for level in report.levels] == [1, 2]


def test_entities_without_the_annotation_are_not_opsgenies(opsgenie):
    assert source(opsgenie).report_for({}, now=NOW) is None


# -- the moment asked: Opsgenie's `date` ---------------------------------------------------------------------------------
# From the Who-is-on-call API: GET /v2/schedules/{id}/on-calls "retrieve[s the] on-call participants", its `date` "Default
# date is the moment of the time that request is received"; from the Schedule API: the timeline's `date`, `interval`
# and `intervalUnit` (days, weeks, months). Times are sent as yyyy-MM-dd'T'HH:mm:ssZ, in UTC with a Z (a `+` would
# need escaping). The expected people below are read off the fixture's periods by hand.
Z_DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def more_of_payments_primary(opsgenie: FakeOpsgenie) -> None:
    opsgenie.now = NOW  # Opsgenie's own clock: Tuesday 10:00, inside level 1's gap
    opsgenie.timelines["s1"] += [
        period("2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z", "cy@acme.example"),
        period("2026-11-26T08:00:00Z", "2026-11-27T08:00:00Z", "ana@acme.example"),
    ]


def test_another_moment_is_asked_with_the_date_parameter(opsgenie):
    import re

    more_of_payments_primary(opsgenie)
    t = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # ana's shift began at 08:00, after Opsgenie's now, and runs past T
    report = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=t)
    level1, level2, _ = report.levels
    assert [(s.responder.name, s.start, s.end) for s in level1.now] == [
        ("ana@acme.example", datetime(2026, 11, 26, 8, 0, tzinfo=UTC), datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    ]
    assert level1.next == ()  # nothing after ana within the periods the fixture knows
    assert [s.responder.name for s in level2.now] == ["cho@acme.example"]
    on_calls = [r for r in opsgenie.requests if r["path"].endswith("/on-calls")]
    timelines = [r for r in opsgenie.requests if r["path"].endswith("/timeline")]
    assert len(on_calls) == len(timelines) == 2  # each schedule: who is on call at T, and the timeline from T
    assert {r["query"]["date"] for r in on_calls + timelines} == {"2026-11-26T10:00:00Z"}
    assert all(re.match(Z_DATE, r["query"]["date"]) and r["query"]["flat"] == "true" for r in on_calls)


def test_a_past_moment_gets_that_moments_people_and_next(opsgenie):
    more_of_payments_primary(opsgenie)
    t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # ana on level 1 until 24th 08:00; then the gap, then ben at 12:00
    level1 = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=t).levels[0]
    assert [(s.responder.name, s.end) for s in level1.now] == [
        ("ana@acme.example", datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    ]
    assert [(s.responder.name, s.start) for s in level1.next] == [
        ("ben@acme.example", datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    ]


def test_a_shift_opsgenie_cuts_at_its_now_is_one_shift(opsgenie):
    # Opsgenie splits a running period where its current time falls (a "historical" piece, then the rest).
    opsgenie.now, opsgenie.split = NOW, True
    t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    level2 = source(opsgenie).report_for({"opsgenie.com/team": "payments"}, now=t).levels[1]
    assert [(s.responder.name, s.end) for s in level2.now] == [
        ("cho@acme.example", datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    ]
    assert [(s.responder.name, s.start) for s in level2.next] == [
        ("dev@acme.example", datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    ]


def test_now_and_another_moment_are_not_one_cached_answer(opsgenie):
    more_of_payments_primary(opsgenie)
    og = source(opsgenie, cache_seconds=60, wall_clock=lambda: NOW)
    assert og.report_for({"opsgenie.com/team": "payments"}).levels[0].is_gap  # now: the 08:00-12:00 gap
    later = og.report_for({"opsgenie.com/team": "payments"}, now=datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    assert [s.responder.name for s in later.levels[0].now] == ["ana@acme.example"]

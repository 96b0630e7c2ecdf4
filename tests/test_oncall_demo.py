"""The demo's on-call rotations at fixed clock times: weekly and daily handoffs, the nightly level-1 gap, permanent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.oncall.demo import DemoOnCallSource
from idp_tui.resources import demo_catalog_path

PAYMENTS = {"pagerduty.com/service-id": "P1A2B3C"}


@pytest.fixture(scope="module")
def source():
    return DemoOnCallSource(LocalCatalogSource([demo_catalog_path()], use_cache=False).load())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def names(shifts) -> list[str]:
    return [shift.responder.name for shift in shifts]


def test_just_before_the_weekly_handoff_the_current_shift_ends_at_it(source):
    level1 = source.report_for(PAYMENTS, now=at(23, 8, 59)).levels[0]
    assert "Alice" in names(level1.now)[0] and level1.now[0].end == at(23, 9)
    assert "Tomas" in names(level1.next)[0] and level1.next[0].start == at(23, 9)


def test_just_after_the_handoff_the_next_person_is_on_call(source):
    level1 = source.report_for(PAYMENTS, now=at(23, 9, 0)).levels[0]
    assert "Tomas" in names(level1.now)[0]


def test_inside_the_nightly_gap_level_1_is_empty_and_level_2_answers(source):
    report = source.report_for(PAYMENTS, now=at(24, 3))
    level1, level2, level3 = report.levels
    assert level1.is_gap
    assert "Tomas" in names(level1.next)[0] and level1.next[0].start == at(24, 8)
    assert "Priya" in names(level2.now)[0] and level2.now[0].end == at(24, 17)
    assert "Alice" in names(level2.next)[0]  # the daily handoff at 17:00
    assert level3.now and level3.now[0].start is None and "Maria" in names(level3.now)[0]  # permanent


def test_open_incidents_and_emails_from_the_catalog(source):
    report = source.report_for(PAYMENTS, now=at(24, 10))
    assert {incident.status for incident in report.incidents} == {"triggered", "acknowledged"}
    assert all(shift.responder.email for level in report.levels for shift in level.now)


def test_every_demo_report_says_it_is_the_demo(source):
    report = source.report_for(PAYMENTS, now=at(24, 10))
    assert report.demo is True and any("demo rotation" in note for note in report.notes)
    assert source.report_for_team("team-payments", now=at(24, 10)).demo is True


def test_entities_without_a_demo_service_have_no_report(source):
    assert source.report_for({}, now=at(24, 10)) is None

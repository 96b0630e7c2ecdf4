"""PagerDutySource against a local fake of the REST API v2: ladder, next, paging, incidents, errors, cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pagerduty_server import FakePagerDuty, PagerDutyServer

from idp_tui.oncall.pagerduty import PagerDutySource

TOKEN = "u+s3cr3t-T0KEN-value"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def build_fake() -> FakePagerDuty:
    fake = FakePagerDuty(token=TOKEN, now=NOW)
    for uid, name in [("UA", "Alice"), ("UB", "Bob"), ("UC", "Carol"), ("UD", "Dave"), ("UE", "Erin")]:
        fake.add_user(uid, name)
    fake.add_user("UF", "Frank")
    fake.add_user("UG", "Grace")
    fake.schedules.update({"S1": "Primary", "S2A": "Secondary EU", "S2B": "Secondary US"})
    fake.add_policy("EP1", "Payments ladder", [(30, ["S1"]), (15, ["S2A", "S2B"]), (10, ["UG"])])
    fake.add_service("PSVC1", "payment-processor", "EP1", integration_key="abc123integrationkey")
    # Level 1: Alice's shift ended at 09:00 and Bob only starts at 18:00, so level 1 is a gap now.
    fake.add_oncall("EP1", 1, "UA", "S1", at(23, 9), at(24, 9))
    fake.add_oncall("EP1", 1, "UB", "S1", at(24, 18), at(25, 18))
    # Level 2: two schedules, each with its own handoff.
    fake.add_oncall("EP1", 2, "UC", "S2A", at(24, 9), at(25, 9))
    fake.add_oncall("EP1", 2, "UD", "S2A", at(25, 9), at(26, 9))
    fake.add_oncall("EP1", 2, "UE", "S2B", at(20, 0), at(27, 0))
    fake.add_oncall("EP1", 2, "UF", "S2B", at(27, 0), at(28, 0))
    # Level 3: Grace is placed on the level directly: a permanent on-call.
    fake.add_oncall("EP1", 3, "UG", None)
    fake.incidents = [
        _incident("Q1", "Card auth failing", "triggered", "PSVC1"),
        _incident("Q2", "Slow refunds", "acknowledged", "PSVC1"),
        _incident("Q3", "Old outage", "resolved", "PSVC1"),
    ]
    fake.change_events["PSVC1"] = [
        {
            "id": "CE1",
            "type": "change_event",
            "summary": "Deploy payment-processor v1.2",
            "timestamp": "2026-11-24T10:00:00Z",
            "source": "github-actions",
            "links": [{"href": "https://github.com/acme/pay/actions/1", "text": "run"}],
            "services": [{"id": "PSVC1", "type": "service_reference"}],
        },
        {
            "id": "CE2",
            "type": "change_event",
            "summary": "Deploy payment-processor v1.3",
            "timestamp": "2026-11-24T11:00:00Z",
            "source": "github-actions",
            "links": [],
            "services": [{"id": "PSVC1", "type": "service_reference"}],
        },
    ]
    return fake


def _incident(iid: str, title: str, status: str, service: str) -> dict:
    return {
        "id": iid,
        "type": "incident",
        "summary": f"[#{iid}] {title}",
        "title": title,
        "status": status,
        "urgency": "high",
        "created_at": "2026-11-24T11:30:00Z",
        "html_url": f"https://acme.pagerduty.com/incidents/{iid}",
        "service": {"id": service, "type": "service_reference", "summary": "payment-processor"},
        "assignments": [
            {"at": "2026-11-24T11:30:00Z", "assignee": {"id": "UC", "type": "user_reference", "summary": "Carol"}}
        ],
    }


@pytest.fixture
def fake():
    data = build_fake()
    with PagerDutyServer(data):
        yield data


def source(fake: FakePagerDuty, **kwargs) -> PagerDutySource:
    kwargs.setdefault("clock", lambda: NOW)
    return PagerDutySource(lambda: TOKEN, fake.url, **kwargs)


def test_full_ladder_now_and_next(fake):
    report = source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert report.error is None
    assert (report.service, report.policy) == ("payment-processor", "Payments ladder")
    level1, level2, level3 = report.levels
    # Level 1 is a gap: pages fall through to level 2; Bob takes over at 18:00.
    assert level1.is_gap and level1.escalation_delay_minutes == 30
    assert [(s.responder.name, s.start) for s in level1.next] == [("Bob", at(24, 18))]
    # Level 2 has both schedules now, each with its own next responder and handoff time.
    assert {(s.responder.name, s.schedule, s.end) for s in level2.now} == {
        ("Carol", "Secondary EU", at(25, 9)),
        ("Erin", "Secondary US", at(27, 0)),
    }
    assert [(s.responder.name, s.schedule, s.start) for s in level2.next] == [
        ("Dave", "Secondary EU", at(25, 9)),
        ("Frank", "Secondary US", at(27, 0)),
    ]
    assert level2.now[0].responder.email.endswith("@example.com")
    # Level 3: permanent, no start/end, nobody "next".
    (grace,) = level3.now
    assert (grace.responder.name, grace.schedule, grace.start, grace.end) == ("Grace", None, None, None)
    assert level3.next == () and level3.escalation_delay_minutes == 10


def test_documented_headers_and_query(fake):
    source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    first = fake.requests[0]
    assert first.path == "/services/PSVC1" and first.query["include[]"] == ["escalation_policies"]
    assert first.headers["Authorization"] == f"Token token={TOKEN}"
    assert first.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    oncalls = [r for r in fake.requests if r.path == "/oncalls"]
    assert oncalls[0].query["escalation_policy_ids[]"] == ["EP1"]
    assert oncalls[0].query["include[]"] == ["users"] and oncalls[0].query["time_zone"] == ["UTC"]
    assert "since" in oncalls[-1].query and "until" in oncalls[-1].query


def test_paging_follows_more(fake):
    fake.page_size = 2
    for i in range(3):  # more permanent on-calls on level 3: seven current on-calls in all
        fake.add_user(f"UX{i}", f"Extra {i}")
        fake.add_oncall("EP1", 3, f"UX{i}", None)
    report = source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert len(report.levels[2].now) == 4
    now_offsets = [r.query["offset"][0] for r in fake.requests if r.path == "/oncalls" and "since" not in r.query]
    assert now_offsets == ["0", "2", "4"]


def test_integration_key_resolution(fake):
    fake.page_size = 1
    fake.policies["EP2"] = fake.policies["EP1"]
    fake.add_service("PSVC0", "other", "EP2", integration_key="nope")
    fake.services = {"PSVC0": fake.services.pop("PSVC0"), **fake.services}  # the match is on the second page
    report = source(fake).report_for({"pagerduty.com/integration-key": "abc123integrationkey"})
    assert report.error is None and report.service == "payment-processor" and len(report.levels) == 3
    assert any(r.path == "/services" and r.query["include[]"] == ["integrations"] for r in fake.requests)
    missing = source(fake).report_for({"pagerduty.com/integration-key": "unknown"})
    assert "integration key" in missing.error


def test_incidents_and_change_events(fake):
    report = source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert [(i.id, i.status) for i in report.incidents] == [("Q1", "triggered"), ("Q2", "acknowledged")]
    assert report.incidents[0].assignees == ("Carol",) and report.incidents[0].url.endswith("/Q1")
    assert [c.summary for c in report.changes] == ["Deploy payment-processor v1.3", "Deploy payment-processor v1.2"]
    assert report.changes[1].url == "https://github.com/acme/pay/actions/1"


def test_no_annotation_means_no_report(fake):
    assert source(fake).report_for({"github.com/project-slug": "acme/pay"}) is None


def test_429_retry_after_then_success(fake):
    fake.rate_limits_left, fake.retry_after = 1, 1
    started = time.monotonic()
    report = source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert report.error is None and len(report.levels) == 3
    assert time.monotonic() - started >= 1.0
    assert [r.path for r in fake.requests[:2]] == ["/services/PSVC1", "/services/PSVC1"]


def test_429_beyond_budget_reports_rate_limited(fake):
    fake.rate_limits_left, fake.retry_after = 5, 30
    report = source(fake).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert report.error == "PagerDuty rate limited, retry in 30s"
    assert len(fake.requests) == 1


def test_401_is_clear_and_hides_the_token(fake):
    src = PagerDutySource(lambda: "wrong-" + TOKEN, fake.url, clock=lambda: NOW)
    report = src.report_for({"pagerduty.com/service-id": "PSVC1"})
    assert "token missing or rejected" in report.error
    assert TOKEN not in repr(report) and TOKEN not in repr(src)


def test_404_names_the_service(fake):
    report = source(fake).report_for({"pagerduty.com/service-id": "PNOPE"})
    assert report.error == "no PagerDuty service PNOPE"


def test_timeout_errors_quickly(fake):
    fake.delay = 1.0
    started = time.monotonic()
    report = source(fake, timeout=0.3).report_for({"pagerduty.com/service-id": "PSVC1"})
    assert report.error == "PagerDuty did not answer within 0.3s"
    assert time.monotonic() - started < 0.9


def test_cache_reuses_report_then_expires(fake):
    clock = [NOW]
    src = source(fake, clock=lambda: clock[0], cache_seconds=60)
    first = src.report_for({"pagerduty.com/service-id": "PSVC1"})
    count = len(fake.requests)
    clock[0] = NOW + timedelta(seconds=30)
    assert src.report_for({"pagerduty.com/service-id": "PSVC1"}) is first
    assert len(fake.requests) == count
    clock[0] = NOW + timedelta(seconds=61)
    src.report_for({"pagerduty.com/service-id": "PSVC1"})
    assert len(fake.requests) > count


def test_failing_token_command_is_reported_without_its_output(fake):
    def token_command() -> str:
        raise RuntimeError(f"token command printed {TOKEN} and exited 1")

    report = PagerDutySource(token_command, fake.url, clock=lambda: NOW).report_for(
        {"pagerduty.com/service-id": "PSVC1"}
    )
    assert "token missing or rejected" in report.error and TOKEN not in report.error
    assert fake.requests == []

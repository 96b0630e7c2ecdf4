"""The demo on-call provider: rotations from ``demo_catalog/oncall.yaml``, computed from the current time.

It sits behind the same :class:`OnCallSource` Protocol as PagerDuty and Opsgenie, so the demo shows a real ladder
(several levels, handoff times, a level-1 gap that falls through) without any account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from idp_tui.catalog.model import Catalog
from idp_tui.catalog.refs import EntityRefError, parse_ref
from idp_tui.resources import demo_catalog_path

from .models import ChangeEvent, EscalationLevel, Incident, OnCallReport, OnCallShift, OnCallSource, Responder

PAGERDUTY_SERVICE = "pagerduty.com/service-id"
OPSGENIE_TEAM = "opsgenie.com/team"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = timedelta(days=1)
# Said wherever the demo rotations answer, so nobody mistakes them for a real rota.
DEMO_NOTE = "demo on-call: a demo rotation from the clock; nobody is really paged."
# Bounds the walk over gaps so a malformed file cannot loop forever.
MAX_SEGMENTS = 64


def _clock_time(text: str) -> timedelta:
    hours, minutes = str(text).split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


@dataclass(frozen=True)
class Rotation:
    """One schedule: who holds it between handoffs, minus daily gaps. All times UTC."""

    name: str
    users: tuple[str, ...]
    anchor: datetime  # the first handoff; users[0] holds the schedule from here
    period: timedelta
    gaps: tuple[tuple[timedelta, timedelta], ...] = ()  # daily (from, to) offsets from midnight; may wrap midnight

    @classmethod
    def from_yaml(cls, data: dict[str, Any], epoch: date) -> Rotation:
        """A schedule of the demo's on-call file, its handoffs counted from ``epoch`` (a date, UTC).

        ``rotation`` is ``daily`` or ``weekly`` (the default, handing off on ``weekday``), at ``time``
        (``HH:MM``); ``gaps`` are daily ``from``/``to`` times when nobody holds it.

        Raises:
            KeyError: the schedule has no ``users``.
            ValueError: a time is not ``HH:MM``, or ``weekday`` is not a day's name.
        """
        start = datetime.combine(epoch, time(), tzinfo=UTC) + _clock_time(data.get("time", "00:00"))
        if data.get("rotation", "weekly") == "daily":
            period = DAY
        else:
            period = 7 * DAY
            start += ((WEEKDAYS.index(data.get("weekday", "monday").lower()) - epoch.weekday()) % 7) * DAY
        gaps = tuple((_clock_time(gap["from"]), _clock_time(gap["to"])) for gap in data.get("gaps") or ())
        return cls(data.get("name", ""), tuple(data["users"]), start, period, gaps)

    def _in_gap(self, moment: datetime) -> bool:
        offset = moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return any(
            (start <= offset < end) if start < end else (offset >= start or offset < end) for start, end in self.gaps
        )

    def _boundaries_around(self, moment: datetime) -> tuple[datetime, datetime]:
        """The last change of hands at or before ``moment`` and the first one after it (handoffs and gap edges)."""
        index = (moment - self.anchor) // self.period
        before = self.anchor + index * self.period
        after = before + self.period
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in (midnight - DAY, midnight, midnight + DAY):
            for edge in (offset for gap in self.gaps for offset in gap):
                candidate = day + edge
                if before < candidate <= moment:
                    before = candidate
                elif moment < candidate < after:
                    after = candidate
        return before, after

    def holder(self, moment: datetime) -> str | None:
        """Who holds the schedule at ``moment``; None inside a gap."""
        if self._in_gap(moment):
            return None
        return self.users[((moment - self.anchor) // self.period) % len(self.users)]

    def segment(self, moment: datetime) -> tuple[str | None, datetime, datetime]:
        """``(holder, start, end)`` of the shift (or gap) around ``moment``.

        A one-person rotation still hands off to the same person at each handoff: shifts are not merged, so the
        ladder shows a bounded shift and a "next" rather than an end years away.
        """
        start, end = self._boundaries_around(moment)
        return self.holder(moment), start, end

    def next_holder(self, after: datetime) -> tuple[str, datetime, datetime] | None:
        """The first stretch with someone on call starting at or after ``after`` (gaps are skipped)."""
        moment = after
        for _ in range(MAX_SEGMENTS):
            holder, _, end = self.segment(moment)
            if holder is not None:
                return holder, moment, end
            moment = end
        return None


class DemoOnCallSource(OnCallSource):
    """On-call answers from the bundled demo rotations.

    Args:
        catalog: the catalog whose Users give responders their display names and emails.
        path: the rotations file (``demo_catalog/oncall.yaml`` by default).
        clock: returns the current time (tests pass a fixed one); defaults to the wall clock in UTC.
    """

    name = "Demo on-call"
    supports_team_report = True  # the rotations file names each team's policy

    def __init__(
        self, catalog: Catalog | None, path: Path | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.catalog = catalog
        self.path = path or demo_catalog_path() / "oncall.yaml"
        self.clock = clock or (lambda: datetime.now(UTC))
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        # Parsed once per source: the file never changes while the program runs.
        if self._data is None:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ten times faster
            data = yaml.load(self.path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - a safe loader
            epoch = date.fromisoformat(str(data.get("epoch", "2026-01-05")))
            data["rotations"] = {
                key: Rotation.from_yaml(value, epoch) for key, value in (data.get("schedules") or {}).items()
            }
            self._data = data
        return self._data

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        """The ladder for the demo service named by ``pagerduty.com/service-id`` (or ``opsgenie.com/team``)."""
        now = now or self.clock()
        try:
            data = self._load()
            service_id = annotations.get(PAGERDUTY_SERVICE)
            service = (data.get("services") or {}).get(service_id) if service_id else None
            if service is not None:
                return self._report(data, service["policy"], now, service_id, service.get("name"))
            team = annotations.get(OPSGENIE_TEAM)
            policy = self._policy_of_team(data, team) if team else None
            return self._report(data, policy, now, None, team) if policy else None
        except (OSError, yaml.YAMLError, KeyError, ValueError, TypeError) as error:
            return OnCallReport(
                self.name, annotations.get(PAGERDUTY_SERVICE), error=f"Demo rotations: {error}", demo=True
            )

    def report_for_team(self, team: str, *, now: datetime | None = None) -> OnCallReport | None:
        """The escalation policy of a catalog Group by name (what an entity without its own service falls back to)."""
        try:
            policy = self._policy_of_team(self._load(), team)
            return self._report(self._load(), policy, now or self.clock(), None, None) if policy else None
        except (OSError, yaml.YAMLError, KeyError, ValueError, TypeError) as error:
            return OnCallReport(self.name, team, error=f"Demo rotations: {error}", demo=True)

    @staticmethod
    def _policy_of_team(data: dict[str, Any], team: str) -> str | None:
        return next((key for key, policy in (data.get("policies") or {}).items() if policy.get("team") == team), None)

    def _report(
        self, data: dict[str, Any], policy_key: str, now: datetime, service_id: str | None, service_name: str | None
    ) -> OnCallReport:
        policy = data["policies"][policy_key]
        levels = tuple(
            self._level(data, number, level, now) for number, level in enumerate(policy.get("levels") or (), 1)
        )
        incidents = tuple(
            Incident(
                id=item["id"],
                title=item["title"],
                status=item["status"],
                urgency=item.get("urgency"),
                created=now - timedelta(minutes=item.get("minutes_ago", 0)),
                assignees=tuple(self._responder(name).name for name in item.get("assignees") or ()),
            )
            for item in data.get("incidents") or ()
            if service_id is not None and item.get("service") == service_id
        )
        changes = tuple(
            ChangeEvent(item["summary"], now - timedelta(minutes=item.get("minutes_ago", 0)), item.get("source"))
            for item in data.get("changes") or ()
            if service_id is not None and item.get("service") == service_id
        )
        return OnCallReport(
            provider=self.name,
            service=service_name,
            policy=policy.get("name", policy_key),
            levels=levels,
            incidents=incidents,
            changes=changes,
            fetched_at=now,
            notes=(DEMO_NOTE,),
            demo=True,
        )

    def _level(self, data: dict[str, Any], number: int, level: dict[str, Any], now: datetime) -> EscalationLevel:
        current: list[OnCallShift] = []
        upcoming: list[OnCallShift] = []
        for schedule_key in level.get("schedules") or ():
            rotation: Rotation = data["rotations"][schedule_key]
            holder, start, end = rotation.segment(now)
            if holder is not None:
                current.append(OnCallShift(number, self._responder(holder), rotation.name, start, end))
            following = rotation.next_holder(end)
            if following is not None:
                name, next_start, next_end = following
                upcoming.append(OnCallShift(number, self._responder(name), rotation.name, next_start, next_end))
        current += [
            OnCallShift(number, self._responder(name), None, None, None) for name in level.get("permanent") or ()
        ]
        return EscalationLevel(number, tuple(current), tuple(upcoming), level.get("delay"))

    def _responder(self, user_name: str) -> Responder:
        """A catalog User as a responder: display name and email from the catalog, the ref as the id."""
        try:
            key = parse_ref(user_name, "User").key
        except EntityRefError:
            return Responder(user_name)
        user = self.catalog.get(key) if self.catalog is not None else None
        if user is None:
            return Responder(user_name, id=key)
        return Responder(user.display_name, user.email or None, id=key)

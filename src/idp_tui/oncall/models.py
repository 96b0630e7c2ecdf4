"""The on-call ladder as every provider reports it (PagerDuty, Opsgenie, the demo rotations)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# The parts of a report that are fetched, and can fail, on their own.
LADDER = "ladder"
INCIDENTS = "incidents"
CHANGES = "changes"


@dataclass(frozen=True)
class Responder:
    """A person who can be paged."""

    name: str
    email: str | None = None
    # The provider's own id and a link to the person's page there, when it has them.
    id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class OnCallShift:
    """Someone on call at one escalation level, through one schedule, from ``start`` to ``end``.

    ``start`` and ``end`` are None for a permanent on-call (PagerDuty's ``start: null``): someone placed directly on
    the level, not through a schedule.
    """

    level: int
    responder: Responder
    schedule: str | None
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class EscalationLevel:
    """One rung of the ladder: who is on call now and who takes over next (with when)."""

    level: int
    now: tuple[OnCallShift, ...]
    next: tuple[OnCallShift, ...] = ()
    # The level escalates after this many minutes without acknowledgement.
    escalation_delay_minutes: int | None = None

    @property
    def is_gap(self) -> bool:
        """Nobody is on call at this level right now: pages fall through to the next level."""
        return not self.now


@dataclass(frozen=True)
class Incident:
    """An incident on the service, as the provider reports it.

    ``status`` is ``triggered``, ``acknowledged`` or ``resolved``; ``assignees`` are the people's names.
    """

    id: str
    title: str
    status: str  # triggered | acknowledged | resolved
    urgency: str | None
    created: datetime | None
    url: str | None = None
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeEvent:
    """A recent change to the service (a deploy, a config change): what, when, what sent it, and a link."""

    summary: str
    timestamp: datetime | None
    source: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class OnCallReport:
    """What a provider says about one service.

    ``error`` is set (and ``levels`` empty) when the provider could not tell who is on call. Each section (the
    ladder, incidents, changes) is fetched on its own: ``section_errors`` says which could not be read and why,
    while the others are still answered. ``demo`` is True when the bundled demo rotations answered.
    """

    provider: str
    service: str | None
    service_url: str | None = None
    policy: str | None = None
    levels: tuple[EscalationLevel, ...] = ()
    incidents: tuple[Incident, ...] = ()
    changes: tuple[ChangeEvent, ...] = ()
    error: str | None = None
    fetched_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # ((section, why), ...): e.g. ("incidents", "PagerDuty token is not allowed to read incidents (403)").
    section_errors: tuple[tuple[str, str], ...] = ()
    demo: bool = False

    def section_error(self, section: str) -> str | None:
        """Why ``section`` (LADDER, INCIDENTS or CHANGES) could not be read; None when it was."""
        found = dict(self.section_errors).get(section)
        if found is None and section == LADDER:
            return self.error
        return found


class OnCallSource(Protocol):
    """An on-call provider (PagerDuty, Opsgenie, the demo rotations), or several asked in turn.

    Implementations never raise for provider errors: they return a report with ``error`` (or ``section_errors``),
    worded for the user. Providers subclass this class to say they implement it; what they do not declare keeps
    the defaults here.
    """

    #: The provider's name, said in views ("PagerDuty").
    name: str
    #: ``report_for_team(team)`` knows a team's ladder by the team's name alone (for groups without annotations).
    supports_team_report: bool = False

    @abstractmethod
    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        """The on-call report for an entity with these annotations; None if the entity names no service here."""

    def report_for_team(self, team: str, *, now: datetime | None = None) -> OnCallReport | None:
        """The provider's own idea of a team's ladder (see ``supports_team_report``); None when it has none."""
        return None

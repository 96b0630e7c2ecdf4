"""The whole answer to "who owns this and who is on call": owner card, ladder, incidents and blast radius.

One function builds it for both ``idp-tui who`` and the TUI's Ownership and On-call view; ``answer_json`` is the
headless command's documented JSON shape. Each section (ladder, incidents, changes, dependents) stands on its own:
one that could not be read is said, with why, next to the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..catalog.entity import Entity
from ..catalog.links import entity_links
from ..catalog.model import Catalog
from .blast_radius import Dependent, blast_radius, by_owner
from .models import CHANGES, INCIDENTS, LADDER, OnCallReport, OnCallShift, Responder
from .ownership import OwnerCard, owner_card
from .providers import NO_PROVIDER, OnCallProviders


@dataclass(frozen=True)
class TeamImpact:
    """One owning team in the blast radius: its dependents and who is on call for it."""

    owner_key: str | None
    owner: Entity | None
    dependents: tuple[Dependent, ...]
    report: OnCallReport | None

    def primary(self) -> tuple[OnCallShift, ...]:
        """Whoever answers a page for this team now: the first level with someone on it."""
        if self.report is None:
            return ()
        return next((level.now for level in self.report.levels if level.now), ())


@dataclass(frozen=True)
class WhoAnswer:
    """Who owns an entity and who is on call for it, as ``who`` builds it.

    ``card`` is the owner, ``report`` the ladder (``missing`` says why there is none), ``dependents`` the
    blast radius and ``teams`` the teams owning those dependents, each with its on-call; ``now`` is the
    moment answered for (``asked``: one given with ``--at``).
    """

    entity: Entity
    card: OwnerCard
    report: OnCallReport | None
    # Why there is no report, when there is none (no provider, no service on the entity or its teams).
    missing: str | None
    dependents: tuple[Dependent, ...]
    teams: tuple[TeamImpact, ...]
    now: datetime
    # How the entity was found when it was not named directly ("pod payments/payment-processor-7d9 on demo-eu").
    found_from: str | None = None
    # Why the blast radius could not be worked out (the rest of the answer stands).
    dependents_error: str | None = None
    # A moment was asked for (``--at``): ``now`` is that moment, not the current time.
    asked: bool = False

    @property
    def demo(self) -> bool:
        """The demo rotations answered some part of this (the entity's ladder or a touched team's)."""
        reports = [self.report, *(team.report for team in self.teams)]
        return any(report is not None and report.demo for report in reports)

    def errors(self) -> dict[str, str]:
        """Each section that could not be read, with why: ``ladder``, ``incidents``, ``changes``, ``dependents``."""
        found: dict[str, str] = {}
        if self.report is not None:
            for section in (LADDER, INCIDENTS, CHANGES):
                why = self.report.section_error(section)
                if why:
                    found[section] = why
        # A touched team's on-call that could not be read is part of the dependents section.
        unknown = [(team.owner_key, team.report.error) for team in self.teams if team.report and team.report.error]
        if self.dependents_error:
            found["dependents"] = self.dependents_error
        elif unknown:
            found["dependents"] = "; ".join(f"on call unknown for {owner}: {why}" for owner, why in unknown)
        return found


def who(
    catalog: Catalog,
    entity: Entity,
    providers: OnCallProviders,
    at: datetime | None = None,
    *,
    found_from: str | None = None,
    with_team_oncall: bool = True,
) -> WhoAnswer:
    """Ask the providers about ``entity`` and each team its failure would touch, now or ``at`` another time.

    Providers report their own failures inside the report, so the ownership part is always complete. "Now" is
    left to the providers' clocks (``at`` None), so their short-lived caches answer repeated questions.
    """
    now = at or datetime.now(UTC)
    report = providers.report_for_entity(catalog, entity, now=at)
    missing = None
    if report is None:
        missing = NO_PROVIDER if not providers.configured else f"No on-call service for {entity.name} or its owners"
    dependents: tuple[Dependent, ...] = ()
    dependents_error = None
    try:
        dependents = tuple(blast_radius(catalog, entity.key))
    except Exception as problem:  # noqa: BLE001 - the blast radius fails alone; owner and ladder still answer
        dependents_error = f"could not work out what depends on {entity.name}: {problem or type(problem).__name__}"
    teams = []
    for owner_key, members in by_owner(list(dependents)).items():
        owner = catalog.get(owner_key) if owner_key else None
        team_report = None
        if with_team_oncall and owner is not None:
            team_report = providers.report_for_entity(catalog, owner, now=at)
        teams.append(TeamImpact(owner_key, owner, tuple(members), team_report))
    card = owner_card(catalog, entity)
    return WhoAnswer(
        entity, card, report, missing, dependents, tuple(teams), now, found_from, dependents_error, at is not None
    )


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _person(responder: Responder) -> dict[str, Any]:
    return {"name": responder.name, "email": responder.email, "id": responder.id}


def _shift_json(shift: OnCallShift) -> dict[str, Any]:
    return {
        "level": shift.level,
        "user": _person(shift.responder),
        "schedule": shift.schedule,
        "start": _when(shift.start),
        "end": _when(shift.end),
    }


def _entity_brief(entity: Entity) -> dict[str, Any]:
    return {"ref": entity.key, "name": entity.display_name, "email": entity.email or None}


def answer_json(answer: WhoAnswer) -> dict[str, Any]:
    """The ``idp-tui who --json`` document."""
    card = answer.card
    owner: dict[str, Any] | None = None
    if card.owner_key is not None:
        owner = {"ref": card.owner_key, "name": None, "email": None, "members": [], "found": card.owner is not None}
        if card.owner is not None:
            owner.update(_entity_brief(card.owner))
            owner["members"] = [_entity_brief(member) for member in card.members]
            owner["parents"] = [parent.key for parent in card.parents]
            owner["contacts"] = [{"title": c.title, "value": c.value, "url": c.url} for c in card.contacts]
    report = answer.report
    levels = report.levels if report else ()
    return {
        "entity": answer.entity.key,
        "found_from": answer.found_from,
        "owner": owner,
        "provider": report.provider if report else None,
        "service": report.service if report else None,
        "policy": report.policy if report else None,
        "error": report.error if report else answer.missing,
        # Per section (ladder, incidents, changes, dependents): only those that could not be read, with why.
        "errors": answer.errors(),
        # True when the bundled demo rotations answered: nobody is really paged.
        "demo": answer.demo,
        "notes": list(report.notes) if report else [],
        "oncall": [_shift_json(shift) for level in levels for shift in level.now],
        "next": [_shift_json(shift) for level in levels for shift in level.next],
        "gaps": [level.level for level in levels if level.is_gap],
        "incidents": [
            {
                "id": incident.id,
                "title": incident.title,
                "status": incident.status,
                "urgency": incident.urgency,
                "created": _when(incident.created),
                "url": incident.url,
                "assignees": list(incident.assignees),
            }
            for incident in (report.incidents if report else ())
        ],
        "changes": [
            {"summary": change.summary, "timestamp": _when(change.timestamp), "source": change.source}
            for change in (report.changes if report else ())
        ],
        "links": [{"title": link.title, "url": link.url} for link in entity_links(answer.entity)],
        "dependents": [
            {"ref": d.key, "owner": d.owner_key, "depth": d.depth, "via": d.via, "from": d.parent}
            for d in answer.dependents
        ],
        "teams": [
            {
                "owner": team.owner_key,
                "links": [{"title": link.title, "url": link.url} for link in entity_links(team.owner or answer.entity)],
                "dependents": [d.key for d in team.dependents],
                "oncall": [_shift_json(shift) for shift in team.primary()],
                "error": team.report.error if team.report else None,
                "demo": bool(team.report and team.report.demo),
            }
            for team in answer.teams
        ],
        "at": answer.now.isoformat(),
    }

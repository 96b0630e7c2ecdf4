"""A session's on-call providers asked as one, and how an entity without its own service finds its team's ladder.

Which providers those are (the demo rotations, PagerDuty, Opsgenie) is the session's choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ..catalog.entity import Entity
from ..catalog.model import Catalog
from .models import OnCallReport, OnCallSource
from .ownership import groups_of, owner_key_of, parent_chain

NO_PROVIDER = (
    "No on-call provider configured: set PAGERDUTY_TOKEN (or PAGERDUTY_TOKEN_COMMAND) or OPSGENIE_API_KEY "
    "(or OPSGENIE_API_KEY_COMMAND)"
)


class OnCallProviders(OnCallSource):
    """Every configured provider, asked in turn: the first that knows the entity's service answers."""

    name = "On-call"
    supports_team_report = True  # when one of them does

    def __init__(self, sources: Sequence[OnCallSource]) -> None:
        self.sources = tuple(sources)

    @property
    def configured(self) -> bool:
        """Whether there is any provider to ask."""
        return bool(self.sources)

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        """The first provider's report for these annotations; ``None`` when none knows the service."""
        for source in self.sources:
            report = source.report_for(annotations, now=now)
            if report is not None:
                return report
        return None

    def report_for_team(self, team: str, *, now: datetime | None = None) -> OnCallReport | None:
        """A provider's own idea of a team's policy (the demo's), for groups that carry no annotation."""
        for source in self.sources:
            report = source.report_for_team(team, now=now) if source.supports_team_report else None
            if report is not None:
                return report
        return None

    def report_for_entity(
        self, catalog: Catalog, entity: Entity, *, now: datetime | None = None
    ) -> OnCallReport | None:
        """The entity's own service; else its owning group's, or the nearest parent group's, with a note saying so."""
        report = self.report_for(entity.annotations, now=now)
        if report is not None:
            return report
        owner_key = owner_key_of(entity)
        owner = catalog.get(owner_key) if owner_key else None
        if owner is None:
            return None
        # A person (or something a person owns) is covered by their first group's ladder.
        teams = [owner] if owner.kind == "Group" else [g for g in map(catalog.get, groups_of(catalog, owner.key)) if g]
        if not teams:
            return None
        for group in [teams[0], *parent_chain(catalog, teams[0].key)]:
            report = self.report_for(group.annotations, now=now) or self.report_for_team(group.name, now=now)
            if report is not None:
                if group is entity:
                    return report
                note = f"No on-call service on {entity.name}: this is the ladder of {group.ref.humanize()}."
                return replace(report, notes=(*report.notes, note))
        return None

"""The Ownership and On-call view (``o``) and the team view, as lists of lines.

Ownership and the blast radius come from the catalog and show at once; the providers are asked in a thread
worker (PagerDuty may take seconds, or fail), and their answer replaces the "asking" line when it comes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from rich.text import Text

from idp_tui.catalog.entity import Entity
from idp_tui.oncall.ownership import mine, owned_by, owner_card
from idp_tui.oncall.providers import OnCallProviders
from idp_tui.oncall.who import WhoAnswer, who
from idp_tui.render.lines import Line
from idp_tui.render.oncall import team_lines, who_lines

from .lines import LinesScreen


class OnCallScreen(LinesScreen):
    """Who owns an entity, the whole escalation ladder now and next, incidents, and whom its failure touches."""

    def __init__(self, entity: Entity) -> None:
        title = Text.assemble(("Ownership & on-call  ", "bold"), (entity.ref.humanize(), ""))
        super().__init__(entity, title)
        self.entity = entity
        self.answer: WhoAnswer | None = None

    def first_lines(self) -> list[Line]:
        # The catalog's part, shown at once; the on-call part says it is being asked.
        answer = who(self.catalog, self.entity, OnCallProviders([]), with_team_oncall=False)
        source = " and ".join(source.name for source in self.providers.sources) or "the on-call provider"
        return who_lines(replace(answer, missing=f"Asking {source}…"), full_urls=False)

    def answer_lines(self) -> list[Line]:
        self.answer = who(self.catalog, self.entity, self.providers)
        return who_lines(self.answer, full_urls=False)


class TeamScreen(LinesScreen):
    """What a group owns with its sub-teams', each with health hints, and who is on call for the group."""

    def __init__(self, owner: Entity) -> None:
        super().__init__(owner, Text.assemble(("Team  ", "bold"), (owner.ref.humanize(), "")))
        self.owner = owner

    def owned(self) -> list[tuple[Entity, str]]:
        """A group's with its sub-teams'; for a person ("mine"), what they and their groups own."""
        if self.owner.kind == "User":
            return list(mine(self.catalog, self.owner).owned)
        return owned_by(self.catalog, self.owner.key)

    def _lines(self, team_report, reports) -> list[Line]:
        owned = self.owned()
        card = owner_card(self.catalog, self.owner)
        return team_lines(self.owner, card, team_report, owned, reports, datetime.now(UTC))

    def first_lines(self) -> list[Line]:
        return self._lines(None, {})

    def answer_lines(self) -> list[Line]:
        providers = self.providers  # asked about "now" on their own clocks, so their caches answer a refresh
        team_report = providers.report_for_entity(self.catalog, self.owner)
        reports = {entity.key: providers.report_for(entity.annotations) for entity, _ in self.owned()}
        return self._lines(team_report, reports)

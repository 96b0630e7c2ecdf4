"""Which on-call providers a session asks, and how an entity without its own service finds its team's ladder.

The demo uses the bundled rotations. Elsewhere PagerDuty and Opsgenie are asked when their tokens are set:
``PAGERDUTY_TOKEN`` (or ``PAGERDUTY_TOKEN_COMMAND``) and ``OPSGENIE_API_KEY`` (or ``OPSGENIE_API_KEY_COMMAND``);
``IDP_TUI_PAGERDUTY_URL`` and ``IDP_TUI_OPSGENIE_URL`` point them at another API root.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..catalog.entity import Entity
from ..catalog.model import Catalog
from ..config import OnCallSettings
from ..tokens import env_token_provider
from .models import OnCallReport, OnCallSource
from .ownership import groups_of, owner_key_of, parent_chain

if TYPE_CHECKING:
    from ..platform import Platform

Notice = Callable[[str], None]

NO_PROVIDER = (
    "No on-call provider configured: set PAGERDUTY_TOKEN (or PAGERDUTY_TOKEN_COMMAND) or OPSGENIE_API_KEY "
    "(or OPSGENIE_API_KEY_COMMAND)"
)


class OnCallProviders:
    """Every configured provider, asked in turn: the first that knows the entity's service answers."""

    name = "On-call"

    def __init__(self, sources: Sequence[OnCallSource]) -> None:
        self.sources = tuple(sources)

    @property
    def configured(self) -> bool:
        return bool(self.sources)

    def report_for(self, annotations: dict[str, str], *, now: datetime | None = None) -> OnCallReport | None:
        for source in self.sources:
            report = source.report_for(annotations, now=now)
            if report is not None:
                return report
        return None

    def report_for_team(self, team: str, *, now: datetime | None = None) -> OnCallReport | None:
        """A provider's own idea of a team's policy (the demo's), for groups that carry no annotation."""
        for source in self.sources:
            by_team = getattr(source, "report_for_team", None)
            report = by_team(team, now=now) if by_team else None
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


def oncall_providers(platform: Platform, catalog: Catalog) -> OnCallProviders:
    """The providers for this session: the profile's when it names one; else the demo rotations in the demo, and
    elsewhere every provider whose token is set in the environment."""
    profile = platform.profile
    notices = platform.notices  # a rate limit's wait is said: stderr in commands, a notification in the TUI
    if profile is not None and profile.origin.get("oncall", "default") != "default":
        return OnCallProviders(_configured(profile.oncall, catalog, notices))
    if platform.is_demo:
        return OnCallProviders(_configured(OnCallSettings("demo"), catalog, notices))
    sources: list[OnCallSource] = []
    pagerduty_token = env_token_provider("PAGERDUTY_TOKEN", "PagerDuty")
    if pagerduty_token is not None:
        from .pagerduty import PagerDutySource

        url = os.environ.get("IDP_TUI_PAGERDUTY_URL") or "https://api.pagerduty.com"
        sources.append(PagerDutySource(pagerduty_token, url, on_wait=notices))
    opsgenie_key = env_token_provider("OPSGENIE_API_KEY", "Opsgenie")
    if opsgenie_key is not None:
        from .opsgenie import OpsgenieSource

        url = os.environ.get("IDP_TUI_OPSGENIE_URL") or "https://api.opsgenie.com"
        sources.append(OpsgenieSource(opsgenie_key, url, on_wait=notices))
    return OnCallProviders(sources)


def _configured(settings: OnCallSettings, catalog: Catalog, notices: Notice | None = None) -> list[OnCallSource]:
    """The one provider a profile names (``none``: no provider)."""
    if settings.provider == "demo":
        from .demo import DemoOnCallSource

        return [DemoOnCallSource(catalog)]
    if settings.provider == "pagerduty" and settings.token is not None:
        from .pagerduty import PagerDutySource

        url = settings.url or "https://api.pagerduty.com"
        return [PagerDutySource(settings.token.provider("PagerDuty"), url, on_wait=notices)]
    if settings.provider == "opsgenie" and settings.token is not None:
        from .opsgenie import OpsgenieSource

        url = settings.url or "https://api.opsgenie.com"
        return [OpsgenieSource(settings.token.provider("Opsgenie"), url, on_wait=notices)]
    return []

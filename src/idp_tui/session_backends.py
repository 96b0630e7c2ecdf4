"""How the session builds a backend it has chosen: a Backstage's catalog and HTTP client, an on-call provider.

Only :mod:`idp_tui.session` imports this (an import-linter contract says so): the session decides which backend
serves a capability, and calls here to construct it from the profile's settings. Like the session, this imports
nothing heavy at module level (httpx, the providers' clients): each backend's module is imported when it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .notices import Notices

if TYPE_CHECKING:
    from .backstage.catalog_source import BackstageCatalogSource
    from .backstage.http import BackstageHttp
    from .catalog.model import Catalog
    from .config_model import Profile
    from .oncall.models import OnCallSource

ONCALL_PROVIDER_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}  # as token errors name them
PAGERDUTY_API = "https://api.pagerduty.com"
OPSGENIE_API = "https://api.opsgenie.com"


def backstage_backends(
    url: str, profile: Profile | None, *, use_cache: bool, cache_dir: Path | None
) -> tuple[BackstageCatalogSource, BackstageHttp, Notices]:
    """A Backstage's catalog source (cached on disk per profile for an instant start), the HTTP client it and the
    scaffolder share, and the notices that client's "waiting before retrying" goes to.

    Args:
        url: The Backstage's base URL.
        profile: The profile naming it (its token, name and offline flag); None when given directly (a flag, a test).
        use_cache: Whether the catalog is cached on disk.
        cache_dir: Where the cache is kept (None: the user's cache directory).
    """
    from .backstage.catalog_cache import cache_file_for
    from .backstage.catalog_source import BackstageCatalogSource
    from .backstage.http import BackstageHttp
    from .config_model import DEFAULT_BACKSTAGE_TOKEN, TokenSource

    token = profile.token if profile is not None and profile.token else TokenSource("env", DEFAULT_BACKSTAGE_TOKEN)
    notices = Notices()
    http = BackstageHttp(url, token.provider("Backstage"), on_wait=notices)
    profile_name = profile.name if profile is not None else "flag"
    cache_file = cache_file_for(url, profile_name, cache_dir) if use_cache else None
    offline = profile is not None and profile.offline
    return BackstageCatalogSource(http, cache_file=cache_file, offline=offline), http, notices


def oncall_source(
    provider: str,
    token: Callable[[], str] | None,
    url: str | None,
    catalog: Catalog,
    on_wait: Notices,
) -> list[OnCallSource]:
    """The one on-call provider named (``none``, or one without a token: no provider).

    Args:
        provider: ``demo``, ``pagerduty``, ``opsgenie`` or ``none``.
        token: Gives the provider's token when asked (None: no token is set).
        url: Another API root (None: the provider's own).
        catalog: The catalog responders are resolved through.
        on_wait: Told of a rate limit's wait (stderr in commands, a notification in the TUI).
    """
    if provider == "demo":
        from .oncall.demo import DemoOnCallSource

        return [DemoOnCallSource(catalog)]
    if provider == "pagerduty" and token is not None:
        from .oncall.pagerduty import PagerDutySource

        return [PagerDutySource(token, url or PAGERDUTY_API, on_wait=on_wait)]
    if provider == "opsgenie" and token is not None:
        from .oncall.opsgenie import OpsgenieSource

        return [OpsgenieSource(token, url or OPSGENIE_API, on_wait=on_wait)]
    return []

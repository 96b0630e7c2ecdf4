"""Wires the active backends: which catalog source, where golden paths publish (later clusters, on-call, secrets)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .catalog.local_source import LocalCatalogSource
from .catalog.protocols import CatalogSource
from .notices import Notices
from .paths import state_home
from .redaction import redact_url
from .resources import demo_catalog_path

if TYPE_CHECKING:
    from .backstage.http import BackstageHttp
    from .config import Profile


@dataclass(frozen=True)
class Platform:
    """The backends one session talks to."""

    catalog_source: CatalogSource
    is_demo: bool
    name: str
    # Where files derived from the catalog are kept (None: the user's cache directory);
    # use_cache False means nothing is read from there or written there.
    cache_dir: Path | None = None
    use_cache: bool = True
    # Where this user's own things live: registered entities, local repositories, remembered answers.
    state_dir: Path | None = None
    # Golden paths publish local git repositories under here.
    publish_root: Path | None = None
    # Nothing that changes a cluster (restart, scale, delete) is sent; it cannot be turned off in the session.
    read_only: bool = False
    # The catalog User this person is (a ref, from --user or IDP_TUI_USER); None: matched from $USER.
    user: str | None = None
    # Only the cached copy of a remote catalog is used; nothing is requested.
    offline: bool = False
    # The configuration profile this session was built from (None: built directly, as tests do).
    profile: Profile | None = None
    # A Backstage this session talks to (its catalog and, by default, its scaffolder), when the catalog is a URL.
    backstage: BackstageHttp | None = None
    # Where the backends' "waiting before retrying" notices go: stderr in commands, notifications in the TUI.
    notices: Notices = field(default_factory=Notices, compare=False)

    def cluster_access(self):
        """The clusters this platform reads: the demo cluster, or the profile's kubeconfig and contexts."""
        from .kube.clusters import ClusterAccess

        profile = self.profile
        kubeconfig = str(profile.kube_config) if profile is not None and profile.kube_config else None
        contexts = list(profile.kube_contexts) if profile is not None and profile.kube_contexts else None
        return ClusterAccess(demo=self.is_demo, kubeconfig=kubeconfig, contexts=contexts)

    @property
    def runs_on_backstage(self) -> bool:
        """Golden paths run on the Backstage scaffolder (not the local runner)."""
        if self.backstage is None:
            return False
        return self.profile is None or self.profile.scaffolder == "backstage"

    @property
    def user_state(self) -> Path:
        return self.state_dir or state_home()

    @property
    def registry_dir(self) -> Path:
        """Entities registered by golden paths for this catalog; read as part of the catalog."""
        return registry_dir(self.user_state, self.name, self.is_demo)

    @property
    def repositories(self) -> Path:
        return self.publish_root or self.user_state / "repositories"


class PlatformError(ValueError):
    """Options that cannot make a working platform (said in one line to the user)."""


def registry_dir(state: Path, name: str, is_demo: bool) -> Path:
    # One registry per catalog, so services created on the demo do not appear in a real catalog.
    folder = "demo" if is_demo else hashlib.sha1(os.path.abspath(name).encode()).hexdigest()[:12]
    return state / "registered" / folder


def build_platform(
    catalog: str | None = None,
    *,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    state_dir: Path | None = None,
    publish_root: Path | None = None,
    read_only: bool = False,
    user: str | None = None,
) -> Platform:
    """The platform for the given options: ``catalog`` is a local path or a Backstage URL; none means the demo.

    Raises:
        PlatformError: the catalog path does not exist.
    """
    if catalog is not None and catalog.startswith(("http://", "https://")):
        platform = _backstage_platform(catalog, None, use_cache=use_cache, cache_dir=cache_dir)
        return replace(platform, state_dir=state_dir, read_only=read_only, user=user)
    if catalog is not None and not Path(catalog).exists():
        raise PlatformError(f"catalog {catalog}: no such file or directory")
    paths = [demo_catalog_path()] if catalog is None else [catalog]
    name = "demo" if catalog is None else catalog
    registry = registry_dir(state_dir or state_home(), name, catalog is None)
    source = LocalCatalogSource(paths, use_cache=use_cache, cache_dir=cache_dir, optional_paths=[registry])
    return Platform(
        source,
        is_demo=catalog is None,
        name=name,
        cache_dir=cache_dir,
        use_cache=use_cache,
        state_dir=state_dir,
        publish_root=publish_root,
        read_only=read_only,
        user=user,
    )


def platform_for_profile(profile: Profile, *, use_cache: bool = True) -> Platform:
    """The platform a configuration profile describes (``idp-tui`` with its flags, environment and config file)."""
    if profile.catalog_is_url:
        platform = _backstage_platform(profile.catalog, profile, use_cache=use_cache, cache_dir=None)
    else:
        platform = build_platform(None if profile.is_demo else profile.catalog, use_cache=use_cache)
    return replace(platform, profile=profile, offline=profile.offline, read_only=profile.read_only, user=profile.user)


def _backstage_platform(url: str, profile: Profile | None, *, use_cache: bool, cache_dir: Path | None) -> Platform:
    """A Backstage's catalog (cached on disk per profile for an instant start) and its scaffolder."""
    from .backstage.catalog_cache import cache_file_for
    from .backstage.catalog_source import BackstageCatalogSource
    from .backstage.http import BackstageHttp
    from .config import TokenSource

    token = profile.token if profile is not None and profile.token else TokenSource("env", "BACKSTAGE_TOKEN")
    notices = Notices()
    http = BackstageHttp(url, token.provider("Backstage"), on_wait=notices)
    profile_name = profile.name if profile is not None else "flag"
    cache_file = cache_file_for(url, profile_name, cache_dir) if use_cache else None
    offline = profile is not None and profile.offline
    source = BackstageCatalogSource(http, cache_file=cache_file, offline=offline)
    name = redact_url(url)  # said in messages and titles: never a password from the URL
    return Platform(
        source, is_demo=False, name=name, cache_dir=cache_dir, use_cache=use_cache, backstage=http, notices=notices
    )

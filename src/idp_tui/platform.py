"""Wires the active backends: which catalog source, where golden paths publish (later clusters, on-call, secrets)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .catalog.local_source import LocalCatalogSource
from .catalog.protocols import CatalogSource
from .paths import state_home
from .resources import demo_catalog_path


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

    @property
    def demo_store(self) -> Path | None:
        """The demo secret store that stands in for Vault (demo only)."""
        return self.user_state / "demo-vault" if self.is_demo else None


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
    """The platform for the given options: ``catalog`` is a local path; none means the bundled demo.

    Raises:
        PlatformError: the catalog path does not exist.
    """
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

"""Shared fixtures: temporary catalogs, an isolated cache directory, the recorded Backstage data."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from vault_servers import _bao_vault, bao_server, vault  # noqa: F401 - the Vault contract's fixtures (bao and demo)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own XDG cache directory, so no test reads another's parsed-catalog cache."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # State (registered entities, published repositories, remembered answers) is per test too.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
    # A Vault named in the developer's shell would win over the demo Vault: no test reaches it unasked.
    for name in ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    return cache


@pytest.fixture
def write_catalog(tmp_path: Path):
    """Write ``{relative path: yaml text}`` under a temporary directory and return the directory."""

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return tmp_path

    return write


@pytest.fixture(scope="session")
def harness_catalog_dir() -> Path:
    return FIXTURES / "harness_catalog"


@pytest.fixture(scope="session")
def recorded_entities() -> list[dict]:
    return json.loads((FIXTURES / "recorded" / "06-catalog-entities-legacy.json").read_text())

"""Files that ship inside the package (the demo catalog, themes), found the same way in every install."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def demo_catalog_path() -> Path:
    """The bundled demo organisation's directory."""
    return Path(str(files("idp_tui.demo_catalog")))


def theme_file(name: str) -> Path:
    """A stylesheet from the themes package."""
    return Path(str(files("idp_tui.themes") / name))

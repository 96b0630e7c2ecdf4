"""TechDocs next to an entity's descriptor: ``backstage.io/techdocs-ref: dir:.`` and an mkdocs site.

The annotation, ``mkdocs.yml`` and its ``nav`` are written by other people: the site must lie in the folder of
the entity's descriptor, its pages in the site's docs folder (symlinks resolved), and pages are read as
catalog files are (regular files only, without blocking, up to a size cap).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from . import limits
from .entity import Entity
from .file_access import checked_stat, read_checked, resolves_within

TECHDOCS_REF = "backstage.io/techdocs-ref"


@dataclass(frozen=True, slots=True)
class DocPage:
    """A TechDocs page: its title (after the nav sections it sits in, ``Guides › Setup``) and its file's path."""

    title: str
    path: str


@dataclass(frozen=True)
class TechDocs:
    """An entity's documentation site, or why there is none (``problem`` set, ``pages`` empty)."""

    pages: list[DocPage] = field(default_factory=list)
    problem: str | None = None


def find_techdocs(entity: Entity) -> TechDocs:
    """Locate the Markdown pages of an entity's TechDocs (mkdocs ``nav`` order when there is one)."""
    ref = entity.annotations.get(TECHDOCS_REF)
    if not ref:
        return TechDocs(problem=f"No TechDocs: the entity has no {TECHDOCS_REF} annotation.")
    if not ref.startswith("dir:") or entity.source is None:
        return TechDocs(problem=f"TechDocs at {ref} are not local; idp-tui reads dir: references next to the file.")
    entity_dir = os.path.dirname(entity.source.path)
    site_dir = os.path.normpath(os.path.join(entity_dir, ref[4:] or "."))
    if not resolves_within(site_dir, os.path.realpath(entity_dir)):
        return TechDocs(problem=f"TechDocs at {ref} are outside the folder of the entity's descriptor; not read.")
    config = _read_mkdocs(site_dir)
    docs_dir = os.path.normpath(os.path.join(site_dir, str(config.get("docs_dir") or "docs")))
    if not resolves_within(docs_dir, os.path.realpath(site_dir)):
        return TechDocs(problem=f"The docs folder {docs_dir} is outside the TechDocs site; not read.")
    if not os.path.isdir(docs_dir):
        return TechDocs(problem=f"No docs folder at {docs_dir}.")
    docs_real = os.path.realpath(docs_dir)
    pages = _nav_pages(config.get("nav"), docs_dir) or _folder_pages(docs_dir)
    pages = [page for page in pages if resolves_within(page.path, docs_real)]
    if not pages:
        return TechDocs(problem=f"No Markdown pages in {docs_dir}.")
    return TechDocs(pages)


def read_page(page: DocPage) -> str:
    """A page's Markdown.

    Raises:
        OSError: not a regular file, larger than the cap, or unreadable.
        UnicodeDecodeError: not UTF-8 text.
    """
    checked = checked_stat(page.path, None, limits.MAX_CATALOG_FILE_BYTES)
    return read_checked(page.path, checked, limits.MAX_CATALOG_FILE_BYTES).decode("utf-8")


def _read_mkdocs(site_dir: str) -> dict[str, Any]:
    for name in ("mkdocs.yml", "mkdocs.yaml"):
        path = os.path.join(site_dir, name)
        if not os.path.isfile(path) or not resolves_within(path, os.path.realpath(site_dir)):
            continue
        from .yaml_docs import load_documents

        try:
            checked = checked_stat(path, None, limits.MAX_CATALOG_FILE_BYTES)
            text = read_checked(path, checked, limits.MAX_CATALOG_FILE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return {}
        documents, _ = load_documents(text)
        if documents and isinstance(documents[0].data, dict):
            return documents[0].data
    return {}


def _nav_pages(nav: Any, docs_dir: str) -> list[DocPage]:
    pages: list[DocPage] = []

    def walk(items: Any, prefix: str) -> None:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str):
                pages.append(DocPage(prefix + _title_from_file(item), os.path.join(docs_dir, item)))
            elif isinstance(item, dict):
                for title, target in item.items():
                    if isinstance(target, str) and target.endswith(".md"):
                        pages.append(DocPage(prefix + str(title), os.path.join(docs_dir, target)))
                    elif isinstance(target, list):
                        walk(target, f"{prefix}{title} › ")

    walk(nav, "")
    return [page for page in pages if os.path.isfile(page.path)]


def _folder_pages(docs_dir: str) -> list[DocPage]:
    found = []
    for current, dirnames, filenames in os.walk(docs_dir):
        dirnames.sort()
        for filename in sorted(filenames):
            if filename.endswith(".md"):
                found.append(os.path.join(current, filename))
    found.sort(key=lambda path: (os.path.basename(path) != "index.md", path))
    return [DocPage(_title_from_file(os.path.relpath(path, docs_dir)), path) for path in found]


def _title_from_file(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return "Overview" if stem == "index" else stem.replace("-", " ").replace("_", " ").capitalize()

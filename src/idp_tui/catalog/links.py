"""The web links an entity carries: its well-known annotations' (repository, source, view/edit) and its ``links``.

Catalog knowledge, shared by the on-call answer (``who --json``) and the views that print links.
"""

from __future__ import annotations

from dataclasses import dataclass

from .annotations import describe_annotations
from .entity import Entity


@dataclass(frozen=True)
class Link:
    """A web link to show: its title (an annotation's label, else the link's title or its URL) and its URL."""

    title: str
    url: str


def entity_links(entity: Entity) -> list[Link]:
    """Every web link an entity carries: its annotations' (repository, source, view/edit) and its ``links``."""
    known, _ = describe_annotations(entity.annotations)
    links = [Link(info.label, info.url) for info in known if info.url]
    for item in entity.links:
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url:
            links.append(Link(str(item.get("title") or url), url))
    return links

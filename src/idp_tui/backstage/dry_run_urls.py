"""A catalog template's fetch URLs, resolved for a dry run the way a task resolves them.

A task resolves a fetch step's relative ``url`` (``./skeleton``) against the template's own location (the scaffolder's
``getEntityBaseUrl``: the ``backstage.io/source-location`` annotation, else ``backstage.io/managed-by-location``). A
dry run resolves it against its scratch folder instead, which holds only the files sent with it: a template read from
the catalog has none to send, so each fetch failed with ENOENT and no policy could ever be checked. Sent with its
relative URLs made absolute, the template's dry run fetches the very files a task would, through the server's own
URL readers (its integrations and ``backend.reading.allow`` decide what may be read, as for the task).

A template whose location is a ``file:`` path on the server cannot be helped: no reader serves ``file:`` URLs
(``NotAllowedError``). Such a step is named, so that when the dry run fails (ENOENT) the reason can be said.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

FETCH_ACTIONS = frozenset({"fetch:plain", "fetch:plain:file", "fetch:template", "fetch:template:file"})
SOURCE_LOCATION = "backstage.io/source-location"
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"


def entity_base_url(entity: dict[str, Any]) -> str | None:
    """The URL a task resolves the template's relative URLs against (``getEntityBaseUrl``), or None."""
    metadata = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
    location = annotations.get(SOURCE_LOCATION) or annotations.get(MANAGED_BY_LOCATION)
    if not isinstance(location, str):
        return None
    kind, _, target = location.partition(":")
    if kind == "url":
        return target
    return f"file://{target}" if kind == "file" else None


def _resolved(url: str, base: str) -> str | None:
    """``url`` against ``base`` as Backstage's ``defaultScmResolveUrl`` does for a relative path (the URL
    constructor, the base's query kept); None where that is not what the server would do."""
    base_parts = urlsplit(base)
    if base_parts.scheme not in ("http", "https") or url.startswith("/"):
        return None  # a file: location, or a path from the repository root (each integration finds that root)
    if "path" in parse_qs(base_parts.query):
        return None  # Azure DevOps keeps the file's path in the query: its integration resolves it its own way
    resolved = urlsplit(urljoin(base, url))
    return resolved._replace(query=base_parts.query).geturl()


def with_fetch_urls_resolved(entity: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``entity`` whose fetch steps' relative URLs are absolute, and a sentence for each step whose URL
    could not be made so (the dry run would fail on it), saying why."""
    base = entity_base_url(entity)
    resolved_entity = copy.deepcopy(entity)
    spec = resolved_entity.get("spec") if isinstance(resolved_entity.get("spec"), dict) else {}
    unreachable: list[str] = []
    for step in spec.get("steps") if isinstance(spec.get("steps"), list) else []:
        inputs = step.get("input") if isinstance(step, dict) else None
        fetches = isinstance(inputs, dict) and isinstance(step.get("action"), str) and step["action"] in FETCH_ACTIONS
        url = inputs.get("url") if fetches else None
        if not isinstance(url, str) or urlsplit(url).scheme or url.lstrip().startswith("${{"):
            continue  # absolute already, or only known once the values are in
        absolute = _resolved(url, base) if base else None
        if absolute is not None:
            inputs["url"] = absolute
            continue
        fetching = f"step {step.get('id')} fetches {url}"
        if base is None:
            unreachable.append(f"{fetching}, and the template's location is not known")
        elif base.startswith("file:"):
            unreachable.append(f"{fetching} from the Backstage server's own files ({base})")
        else:
            unreachable.append(f"{fetching} relative to {base}, which only the server's integration for that host "
                               "resolves")  # fmt: skip
    return resolved_entity, unreachable

"""A real Backstage's catalog as a :class:`~idp_tui.catalog.protocols.CatalogSource`, over its REST API.

The whole catalog is read with ``GET /entities/by-query`` (cursor paging, a ``fields`` projection so 50,000 entities
do not drag their full specs along) and cached on disk; single entities, batches of refs and facet counts are asked
for when a screen needs them. Relations come from Backstage itself, which already lists both directions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..catalog.entity import Entity
from ..catalog.model import Catalog
from ..catalog.problems import Problem
from ..catalog.refs import EntityRef, EntityRefError, entity_key, parse_ref, ref_key
from . import catalog_cache
from .http import BackstageError, BackstageHttp

CATALOG_API = "/api/catalog"

# What the list views, search, facets and relation browsing need; the full entity is fetched on demand (entity()).
LIST_FIELDS: tuple[str, ...] = (
    "kind",
    "apiVersion",
    "metadata.name",
    "metadata.namespace",
    "metadata.title",
    "metadata.description",
    "metadata.tags",
    "metadata.labels",
    "metadata.annotations",
    "metadata.links",
    "metadata.uid",
    "spec.type",
    "spec.lifecycle",
    "spec.owner",
    "spec.system",
    "spec.profile",
    "spec.parent",
    "spec.children",
    "spec.members",
    "spec.memberOf",
    "spec.domain",
    "spec.providesApis",
    "spec.consumesApis",
    "spec.dependsOn",
    "spec.subcomponentOf",
    "relations",
)


class BackstageCatalogSource:
    """The catalog of one Backstage backend.

    Args:
        http: the client for the backend (token, retries and error wording live there).
        cache_file: where the last successful load is kept (see :func:`catalog_cache.cache_file_for`); None: no cache.
        offline: serve only the cached catalog and send no request.
        page_size: entities per ``by-query`` page.
        batch_size: refs per ``by-refs`` request.
    """

    def __init__(
        self,
        http: BackstageHttp,
        *,
        cache_file: Path | None = None,
        offline: bool = False,
        page_size: int = 1000,
        batch_size: int = 200,
    ) -> None:
        if page_size < 1 or batch_size < 1:
            raise ValueError("page_size and batch_size must be positive")
        self.http = http
        self.cache_file = cache_file
        self.offline = offline
        self.page_size = page_size
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"BackstageCatalogSource({self.label!r}, offline={self.offline})"

    @property
    def label(self) -> str:
        return self.http.base_url

    # -- the whole catalog -------------------------------------------------------------------------------------------
    def load(self) -> Catalog:
        """Read the whole catalog (or, offline, the cached one) and refresh the cache.

        Raises:
            BackstageError: the backend could not be read; a cached copy is *not* substituted here, so the caller
                can say the data is stale (see :meth:`load_cached`). Offline without a cache: kind ``unreachable``.
        """
        if self.offline:
            cached = self.load_cached()
            if cached is None:
                raise BackstageError(
                    f"offline mode: there is no cached catalog for {self.label} (load it once while online)",
                    kind="unreachable",
                )
            return cached[0]
        items = self.fetch_items()
        if self.cache_file is not None:
            catalog_cache.save_items(self.cache_file, self.label, items)
        return build_catalog(items, self.label)

    def load_cached(self) -> tuple[Catalog, float] | None:
        """The cached catalog and the epoch seconds it was saved at; None when there is none usable. Never raises."""
        if self.cache_file is None:
            return None
        loaded = catalog_cache.load_items(self.cache_file, self.label)
        if loaded is None:
            return None
        items, saved_at = loaded
        try:
            return build_catalog(items, self.label), saved_at
        except Exception:  # noqa: BLE001 - a cache someone edited by hand must not stop the program
            return None

    def fetch_items(self) -> list[dict[str, Any]]:
        """Every entity, projected to :data:`LIST_FIELDS`, following ``pageInfo.nextCursor`` to the end."""
        fields = ",".join(LIST_FIELDS)
        params: list[tuple[str, Any]] = [("limit", self.page_size), ("fields", fields)]
        items: list[dict[str, Any]] = []
        seen_cursors: set[str] = set()
        while True:
            page = self.http.get_json(f"{CATALOG_API}/entities/by-query", what="reading the catalog", params=params)
            page_items, cursor = _page_parts(page)
            items += page_items
            if cursor is None:
                return items
            if cursor in seen_cursors:  # a backend that hands the same cursor back would page forever
                raise BackstageError("Backstage repeated a page cursor while reading the catalog", kind="protocol")
            seen_cursors.add(cursor)
            # The cursor carries the query (Backstage ignores `filter` once a cursor is sent); `fields` does not.
            params = [("cursor", cursor), ("limit", self.page_size), ("fields", fields)]

    # -- on demand ---------------------------------------------------------------------------------------------------
    def entity(self, key: str) -> Entity:
        """The full entity (every field, relations included) for a key or ref such as ``component:default/foo``.

        Raises:
            BackstageError: kind ``not-found`` with Backstage's own message when there is no such entity.
        """
        ref = _parse_full_ref(key)
        path = "/".join(quote(part, safe="") for part in (ref.kind, ref.namespace, ref.name))
        raw = self.http.get_json(f"{CATALOG_API}/entities/by-name/{path}", what=f"reading {ref.key}")
        if not isinstance(raw, dict):
            raise BackstageError(f"Backstage sent an entity that is not an object for {ref.key}", kind="protocol")
        return Entity(raw, _item_key(raw) or ref.key)

    def by_refs(self, keys: list[str], fields: list[str] | None = None) -> list[dict[str, Any] | None]:
        """Entities for many refs, in the order asked, None where Backstage has no such entity.

        Sent as ``POST /entities/by-refs`` in batches of ``batch_size``; ``fields`` goes in the body (Backstage
        rejects it as a query parameter).
        """
        results: list[dict[str, Any] | None] = []
        for start in range(0, len(keys), self.batch_size):
            batch = [_canonical(key) for key in keys[start : start + self.batch_size]]
            body: dict[str, Any] = {"entityRefs": batch}
            if fields is not None:
                body["fields"] = list(fields)
            # by-refs only reads, so it is safe to retry like a GET.
            answer = self.http.post_json(
                f"{CATALOG_API}/entities/by-refs", body, what="reading entities by ref", idempotent=True
            )
            items = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(items, list) or len(items) != len(batch):
                raise BackstageError("Backstage answered by-refs with a different number of items", kind="protocol")
            results += items
        return results

    def facets(self, names: list[str], filter: str | None = None) -> dict[str, list[tuple[str, int]]]:
        """Value counts per facet (``kind``, ``spec.lifecycle``, ``metadata.tags``...), optionally for a filter."""
        if not names:
            return {}  # Backstage answers 400 when no facet is asked for
        params: list[tuple[str, str]] = [("facet", name) for name in names]
        if filter:
            params.append(("filter", filter))
        answer = self.http.get_json(f"{CATALOG_API}/entity-facets", what="reading facets", params=params)
        facets = answer.get("facets") if isinstance(answer, dict) else None
        if not isinstance(facets, dict):
            raise BackstageError("Backstage sent entity facets without a `facets` object", kind="protocol")
        return {name: _facet_counts(facets.get(name)) for name in names}


def _page_parts(page: Any) -> tuple[list[dict[str, Any]], str | None]:
    """``(items, next cursor)`` of a by-query page, checking the shape Backstage documents."""
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise BackstageError("Backstage sent a catalog page without an `items` list", kind="protocol")
    page_info = page.get("pageInfo")
    cursor = page_info.get("nextCursor") if isinstance(page_info, dict) else None
    return items, cursor if isinstance(cursor, str) and cursor else None


def _facet_counts(entries: Any) -> list[tuple[str, int]]:
    """``[(value, count)]`` from Backstage's ``[{value, count}]``, skipping anything else."""
    counts: list[tuple[str, int]] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("count"), int):
            counts.append((str(entry.get("value")), entry["count"]))
    return counts


def _parse_full_ref(key: str) -> EntityRef:
    try:
        return parse_ref(key.strip(), "Component")
    except EntityRefError as error:
        raise BackstageError(str(error), kind="input") from None


def _canonical(key: str) -> str:
    """``kind:namespace/name`` for by-refs (which needs the kind); anything unreadable is sent as is for Backstage
    to judge."""
    try:
        return ref_key(key)
    except EntityRefError:
        return key


# -- building the catalog --------------------------------------------------------------------------------------------
def build_catalog(items: list[Any], label: str) -> Catalog:
    """A :class:`Catalog` from by-query items, using Backstage's relations as given (both directions are in them).

    Takes ownership of ``items``: each item's ``relations`` list is moved out of the entity into the catalog's
    relation map (saving a copy of 50,000 dicts). Items that are not entities become problems; a key met twice
    (possible when the catalog changes while it is being paged) keeps its first entity.
    """
    entities: list[Entity] = []
    relations: dict[str, list[tuple[str, str]]] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        key = _item_key(item)
        if key is None:
            problems.append(_bad_item(label, index, item))
            continue
        if key in relations:
            continue
        relations[key] = _item_relations(item.pop("relations", None))
        entities.append(Entity(item, key))
    return Catalog(entities, relations, problems, label)


def _item_key(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    kind, metadata = item.get("kind"), item.get("metadata")
    if not isinstance(kind, str) or not kind or not isinstance(metadata, dict):
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name or not (namespace is None or isinstance(namespace, str)):
        return None
    return entity_key(kind, namespace, name)


def _item_relations(raw: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        return pairs
    for relation in raw:
        if not isinstance(relation, dict):
            continue
        rel_type, target = relation.get("type"), relation.get("targetRef")
        if not isinstance(rel_type, str) or not isinstance(target, str):
            continue
        try:
            pairs.append((rel_type, ref_key(target)))  # memoised: targets repeat across thousands of entities
        except EntityRefError:
            continue
    return pairs


def _bad_item(label: str, index: int, item: Any) -> Problem:
    """A problem pointing at the item's by-uid URL when it has a uid, else at the catalog."""
    metadata = item.get("metadata") if isinstance(item, dict) else None
    uid = metadata.get("uid") if isinstance(metadata, dict) else None
    where = f"{label}{CATALOG_API}/entities/by-uid/{uid}" if isinstance(uid, str) and uid else label
    return Problem(where, 0, f"catalog item {index + 1} has no kind or metadata.name; it was left out", "envelope")

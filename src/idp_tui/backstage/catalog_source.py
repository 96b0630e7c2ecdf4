"""A real Backstage's catalog as a :class:`~idp_tui.catalog.protocols.CatalogSource`, over its REST API.

The whole catalog is read with ``GET /entities/by-query`` (cursor paging, a ``fields`` projection so 50,000 entities
do not drag their full specs along) and cached on disk; single entities, batches of refs and facet counts are asked
for when a screen needs them. Relations come from Backstage itself, which already lists both directions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..catalog.entity import Entity
from ..catalog.model import Catalog
from ..catalog.problems import Problem
from ..catalog.protocols import CatalogSource
from ..catalog.refs import EntityRef, EntityRefError, entity_key, parse_ref, ref_key
from ..http_budget import MAX_CATALOG_PAGE_BYTES
from . import catalog_cache
from .http import BackstageError, BackstageHttp

CATALOG_API = "/api/catalog"

# Paging budgets: a backend whose cursors never end, or that hands back the same or empty pages, is stopped and
# said to be broken. 250,000 entities is five times the catalog idp-tui is designed and measured for (50,000).
MAX_CATALOG_PAGES = 1_000
MAX_CATALOG_ENTITIES = 250_000
MAX_SAME_PAGES = 3  # the same page this many times in a row
MAX_EMPTY_PAGES = 5  # empty pages that still name a next page, in a row
MAX_CURSOR_LENGTH = 16 * 1024  # Backstage's cursors are a few hundred characters of base64
# Items left out are each a problem up to this many; the rest are counted in one more.
MAX_ITEM_PROBLEMS = 100

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
# What a relation target needs to be listed by name and title (entities_by_refs).
# apiVersion too: build_catalog leaves out items without one.
REF_FIELDS: tuple[str, ...] = (
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.title",
    "spec.type",
    "spec.owner",
)


class BackstageCatalogSource(CatalogSource):
    """The catalog of one Backstage backend: listed as projections, looked up whole on demand, cached on disk.

    Args:
        http: the client for the backend (token, retries and error wording live there).
        cache_file: where the last successful load is kept (see :func:`catalog_cache.cache_file_for`); None: no cache.
        offline: serve only the cached catalog and send no request.
        page_size: entities per ``by-query`` page.
        batch_size: refs per ``by-refs`` request.
        max_pages: the most ``by-query`` pages read before the backend's paging is called broken.
    """

    supports_entity_lookup = True
    supports_cached_copy = True

    def __init__(
        self,
        http: BackstageHttp,
        *,
        cache_file: Path | None = None,
        offline: bool = False,
        page_size: int = 1000,
        batch_size: int = 200,
        max_pages: int = MAX_CATALOG_PAGES,
    ) -> None:
        if page_size < 1 or batch_size < 1:
            raise ValueError("page_size and batch_size must be positive")
        self.http = http
        self.cache_file = cache_file
        self.offline = offline
        self.page_size = page_size
        self.batch_size = batch_size
        self.max_pages = max_pages

    def __repr__(self) -> str:
        return f"BackstageCatalogSource({self.label!r}, offline={self.offline})"

    @property
    def label(self) -> str:
        """The backend's URL as shown (never with a password from it); it also names the cache."""
        return self.http.display_url  # shown, cached and hashed: never a password from the URL

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
            # Items without an apiVersion are left out here (a problem below); the cache keeps only the others.
            kept = [item for item in items if not isinstance(item, dict) or _has_api_version(item)]
            catalog_cache.save_items(self.cache_file, self.label, kept)
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
            # An item in our own cache that lacks an apiVersion was written by hand: shown with an empty one.
            return build_catalog(items, self.label, missing_api_version=""), saved_at
        except Exception:  # noqa: BLE001 - a cache someone edited by hand must not stop the program
            return None

    def fetch_items(self) -> list[dict[str, Any]]:
        """Every entity, projected to :data:`LIST_FIELDS`, following ``pageInfo.nextCursor`` to the end.

        Raises:
            BackstageError: kind ``protocol`` when the paging never ends: a cursor handed back twice, the same page
                three times in a row, five empty pages in a row that still name a next one, more than
                ``max_pages`` pages or more than 250,000 entities.
        """
        fields = ",".join(LIST_FIELDS)
        params: list[tuple[str, Any]] = [("limit", self.page_size), ("fields", fields)]
        items: list[dict[str, Any]] = []
        paging = _PagingGuard()
        for number in range(1, self.max_pages + 1):
            page = self.http.get_json(
                f"{CATALOG_API}/entities/by-query",
                what="reading the catalog",
                params=params,
                max_bytes=MAX_CATALOG_PAGE_BYTES,
            )
            page_items, cursor = _page_parts(page)
            items += page_items
            if len(items) > MAX_CATALOG_ENTITIES:
                raise BackstageError(
                    f"Backstage sent more than {MAX_CATALOG_ENTITIES:,} entities while reading the catalog, more "
                    f"than idp-tui reads (stopped after {number:,} pages)",
                    kind="protocol",
                )
            if cursor is None:
                return items
            paging.check(page_items, cursor)
            # The cursor carries the query (Backstage ignores `filter` once a cursor is sent); `fields` does not.
            params = [("cursor", cursor), ("limit", self.page_size), ("fields", fields)]
        raise BackstageError(
            f"Backstage kept sending pages while reading the catalog: stopped after {self.max_pages:,} pages "
            f"({len(items):,} entities); its paging looks broken",
            kind="protocol",
        )

    # -- on demand ---------------------------------------------------------------------------------------------------
    def entity(self, key: str) -> Entity:
        """The full entity (every field, relations included) for a key or ref such as ``component:default/foo``.

        Raises:
            BackstageError: kind ``not-found`` with Backstage's own message when there is no such entity.
        """
        ref = _parse_full_ref(key)
        path = "/".join(quote(part, safe="") for part in (ref.kind, ref.namespace, ref.name))
        raw = self.http.get_json(f"{CATALOG_API}/entities/by-name/{path}", what=f"reading {ref.key}")
        key, problem = check_item(raw)
        if problem is not None:
            raise BackstageError(f"Backstage sent an entity for {ref.key} that {problem}", kind="protocol")
        return Entity(raw, key or ref.key)

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

    def entities_by_refs(self, keys: list[str]) -> list[Entity]:
        """The entities these refs name, projected to :data:`REF_FIELDS`; refs Backstage does not know are left out.

        Raises:
            BackstageError: Backstage could not be asked.
        """
        found = [item for item in self.by_refs(keys, fields=list(REF_FIELDS)) if item] if keys else []
        return build_catalog(found, self.label).entities

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


def _page_parts(page: Any) -> tuple[list[Any], str | None]:
    """``(items, next cursor)`` of a by-query page, checking the shape Backstage documents."""
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise BackstageError("Backstage sent a catalog page without an `items` list", kind="protocol")
    page_info = page.get("pageInfo")
    cursor = page_info.get("nextCursor") if isinstance(page_info, dict) else None
    return items, cursor if isinstance(cursor, str) and cursor else None


class _PagingGuard:
    """Notices paging that goes round in circles: repeated cursors, the same page again, empty pages."""

    def __init__(self) -> None:
        self.cursors: set[bytes] = set()  # digests: a hostile cursor may be long
        self.last_page: bytes | None = None
        self.same = 1
        self.empty = 0

    def check(self, items: list[Any], cursor: str) -> None:
        if len(cursor) > MAX_CURSOR_LENGTH:
            text = f"Backstage sent a page cursor of {len(cursor):,} characters while reading the catalog"
            raise BackstageError(text, kind="protocol")
        digest = hashlib.sha1(cursor.encode("utf-8", "surrogatepass")).digest()  # noqa: S324 - not security
        if digest in self.cursors:  # a backend that hands the same cursor back would page forever
            raise BackstageError("Backstage repeated a page cursor while reading the catalog", kind="protocol")
        self.cursors.add(digest)
        self.empty = 0 if items else self.empty + 1
        if self.empty >= MAX_EMPTY_PAGES:
            raise BackstageError(
                f"Backstage sent {self.empty} empty pages in a row while reading the catalog, each naming a next "
                "page; its paging looks broken",
                kind="protocol",
            )
        page = _page_digest(items) if items else None
        self.same = self.same + 1 if page is not None and page == self.last_page else 1
        self.last_page = page
        if self.same >= MAX_SAME_PAGES:
            raise BackstageError(
                f"Backstage sent the same page {self.same} times in a row while reading the catalog (its cursors "
                "do not move on)",
                kind="protocol",
            )


def _page_digest(items: list[Any]) -> bytes:
    """What tells one page from the next: its length and its first and last items."""
    ends = json.dumps([len(items), items[0], items[-1]], sort_keys=True, default=str).encode()
    return hashlib.sha1(ends).digest()  # noqa: S324 - not security


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
def build_catalog(items: list[Any], label: str, *, missing_api_version: str | None = None) -> Catalog:
    """A :class:`Catalog` from by-query items, using Backstage's relations as given (both directions are in them).

    Takes ownership of ``items``: each item's ``relations`` list is moved out of the entity into the catalog's
    relation map (saving a copy of 50,000 dicts). Items that are not entities (see :func:`check_item`) are left
    out as problems, the rest still listed; a key met twice (possible when the catalog changes while it is being
    paged) keeps its first entity. With ``missing_api_version`` an item without an apiVersion gets that one
    instead of being left out.
    """
    entities: list[Entity] = []
    relations: dict[str, list[tuple[str, str]]] = {}
    problems: list[Problem] = []
    left_out = 0
    for index, item in enumerate(items):
        if missing_api_version is not None and isinstance(item, dict) and not _has_api_version(item):
            item["apiVersion"] = missing_api_version
        key, problem = check_item(item, require_api_version=missing_api_version is None)
        if problem is not None:
            left_out += 1
            if left_out <= MAX_ITEM_PROBLEMS:
                problems.append(_bad_item(label, index, item, key, problem))
            continue
        if key in relations:
            continue
        relations[key] = _item_relations(item.pop("relations", None))
        entities.append(Entity(item, key))
    if left_out > MAX_ITEM_PROBLEMS:
        more = left_out - MAX_ITEM_PROBLEMS
        problems.append(Problem(label, 0, f"{more:,} more catalog items were left out as well", "envelope"))
    return Catalog(entities, relations, problems, label)


def check_item(item: Any, *, require_api_version: bool = True) -> tuple[str | None, str | None]:
    """``(key, None)`` for an item the catalog can hold, else ``(key if known, what is wrong in words)``.

    Checks what the entity's accessors and every view rely on: the envelope (apiVersion, kind, metadata.name)
    and the types of the metadata fields that are shown (a local catalog gets the same from schema validation).
    """
    if not isinstance(item, dict):
        return None, f"is {_json_type(item)}, not an object"
    kind, metadata = item.get("kind"), item.get("metadata")
    if not isinstance(kind, str) or not kind or not isinstance(metadata, dict):
        return None, "has no kind or metadata.name"
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name or not (namespace is None or isinstance(namespace, str)):
        return None, "has no kind or metadata.name"
    key = entity_key(kind, namespace, name)
    if require_api_version and not _has_api_version(item):
        return key, "has no apiVersion"
    problem = _metadata_problem(metadata)
    if problem is None and not isinstance(item.get("spec") or {}, dict):
        problem = "has a spec that is not an object"
    return key, problem


def _has_api_version(item: dict[str, Any]) -> bool:
    api_version = item.get("apiVersion")
    return isinstance(api_version, str) and bool(api_version)


def _metadata_problem(metadata: dict[str, Any]) -> str | None:
    # "".join() is the quick test that every element is a string (it raises TypeError otherwise): this runs for
    # each of 50,000 entities on every load.
    for field in ("title", "description"):
        if not isinstance(metadata.get(field) or "", str):
            return f"has a metadata.{field} that is not a string"
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not _all_strings(tags):
        return "has metadata.tags that are not a list of strings"
    for field in ("labels", "annotations"):
        values = metadata.get(field) or {}
        if not isinstance(values, dict) or not _all_strings(values.values()):
            return f"has metadata.{field} that are not a map of strings"
    links = metadata.get("links")
    if links and (
        not isinstance(links, list)
        or not all(isinstance(link, dict) and isinstance(link.get("url"), str) for link in links)
    ):
        return "has metadata.links that are not a list of {url, title}"
    return None


def _all_strings(values: Any) -> bool:
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"


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


def _bad_item(label: str, index: int, item: Any, key: str | None, problem: str) -> Problem:
    """A problem pointing at the item's by-uid URL when it has a uid, else at the catalog."""
    metadata = item.get("metadata") if isinstance(item, dict) else None
    uid = metadata.get("uid") if isinstance(metadata, dict) else None
    where = f"{label}{CATALOG_API}/entities/by-uid/{quote(uid, safe='')}" if isinstance(uid, str) and uid else label
    return Problem(where, 0, f"catalog item {index + 1} {problem}; it was left out", "envelope", key)

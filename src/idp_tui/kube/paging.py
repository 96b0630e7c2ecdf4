"""Paged lists with a budget: ``limit``/``continue`` as client-go's pager does, never trusting the server to end.

A list is read in pages of :data:`PAGE_SIZE`; every page after the first carries the ``continue`` token the one
before gave, and the list's resourceVersion is the first page's (the API server serves every page of one list at
that version, so the watch that follows starts from it). A server that names the same next page twice, sends more
than :data:`MAX_OBJECTS` objects or :data:`MAX_PAGES` pages, or takes longer than the list's deadline is stopped
with a :class:`ListBudgetExceeded` naming what it did; the caller reports it as that cluster's error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..strict_json import loads_strict
from .errors import ClusterError

PAGE_SIZE = 500
MAX_OBJECTS = 50_000  # the most objects of one kind kept for one entity on one cluster
MAX_PAGES = 2 * MAX_OBJECTS // PAGE_SIZE  # room for short pages, but not for a server that never ends
LIST_DEADLINE = 120.0  # seconds for every page of one list together (each page also has its own timeout)


class ListBudgetExceeded(ClusterError):
    """A list that would not end, or holds more than idp-tui keeps; ``str()`` is one line for the user."""


class TooManyObjects(ListBudgetExceeded):
    """More objects match than idp-tui keeps for one entity (:data:`MAX_OBJECTS`)."""


def too_many(what: str, limit: int = MAX_OBJECTS) -> TooManyObjects:
    """The error for more than ``limit`` objects of ``what``, saying how to narrow the selection."""
    return TooManyObjects(
        f"too many objects: more than {limit:,} {what} match; narrow the entity's selection "
        "(backstage.io/kubernetes-label-selector, backstage.io/kubernetes-namespace)"
    )


def list_all(
    call: Callable[..., Any],
    what: str,
    *,
    page_size: int = PAGE_SIZE,
    max_objects: int = MAX_OBJECTS,
    max_pages: int = MAX_PAGES,
    deadline: float = LIST_DEADLINE,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Every object of one list, read page by page; ``{"items": [...], "metadata": {"resourceVersion": ...}}``.

    Args:
        call: One list request: called with ``limit`` and, after the first page, ``_continue``; returns a response
            whose ``.data`` is the list's JSON (the official client's ``_preload_content=False``).
        what: What is listed, in messages (``pods``).
        page_size: Objects asked for per page.
        max_objects: More than this many objects is :class:`TooManyObjects`.
        max_pages: More than this many pages is :class:`ListBudgetExceeded`.
        deadline: Seconds for all pages together.
        clock: Monotonic clock (injectable for tests).

    Raises:
        ListBudgetExceeded: the same continue token twice, too many pages or objects, or past the deadline.
        Exception: whatever ``call`` raises (the client's ApiException, connection errors), unchanged.
    """
    items: list[dict[str, Any]] = []
    version = ""
    token: str | None = None
    seen: set[str] = set()
    ends = clock() + deadline
    for page in range(max_pages):
        options: dict[str, Any] = {"limit": page_size}
        if token:
            options["_continue"] = token
        body = loads_strict(call(**options).data)
        metadata = body.get("metadata") or {}
        if page == 0:
            version = metadata.get("resourceVersion", "")
        items.extend(body.get("items") or [])
        if len(items) > max_objects:
            raise too_many(what, max_objects)
        token = metadata.get("continue") or None
        if token is None:
            return {"items": items, "metadata": {"resourceVersion": version}}
        if token in seen:
            raise ListBudgetExceeded(
                f"the API server named the same next page twice listing {what} (continue token repeated); stopped"
            )
        seen.add(token)
        if clock() > ends:
            raise ListBudgetExceeded(f"listing {what} took more than {deadline:.0f} s ({page + 1} pages); stopped")
    raise ListBudgetExceeded(f"listing {what} did not end after {max_pages} pages; stopped")

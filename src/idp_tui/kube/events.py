"""Events about an entity's workloads, ReplicaSets and pods: which matter, and in which order.

Both event shapes are read: ``v1`` Events (``involvedObject``, ``message``, ``count``, ``lastTimestamp``) and
``events.k8s.io/v1`` Events (``regarding``, ``note``, ``series``/``deprecatedCount``, ``eventTime``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (RFC 3339 string, or a datetime from the typed client) as an aware datetime, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as shown to a person: ``object`` is ``Kind/name``, e.g. ``Pod/web-7d9c-abcde``."""

    type: str
    reason: str
    message: str
    object: str
    count: int
    last_seen: datetime | None

    @property
    def is_warning(self) -> bool:
        """Whether the event is of type ``Warning``."""
        return self.type == "Warning"


def is_warning(event: Mapping[str, Any] | EventRow) -> bool:
    """Whether an event (raw dict or ``EventRow``) is of type ``Warning``, the only non-Normal type Kubernetes has."""
    if isinstance(event, EventRow):
        return event.is_warning
    return event.get("type") == "Warning"


def involved_object(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object an event is about, whichever API group the event came from."""
    return event.get("involvedObject") or event.get("regarding") or {}


def event_last_seen(event: Mapping[str, Any]) -> datetime | None:
    """When the event was last observed, using the first timestamp the recording component filled in."""
    series = event.get("series") or {}
    metadata = event.get("metadata") or {}
    for value in (
        event.get("lastTimestamp"),
        event.get("deprecatedLastTimestamp"),
        series.get("lastObservedTime"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        event.get("deprecatedFirstTimestamp"),
        metadata.get("creationTimestamp"),
    ):
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return None


def _count(event: Mapping[str, Any]) -> int:
    series = event.get("series") or {}
    for value in (event.get("count"), series.get("count"), event.get("deprecatedCount")):
        if value:
            return int(value)
    return 1


def _object_key(obj: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    metadata = obj.get("metadata") or {}
    return obj.get("kind"), metadata.get("namespace"), metadata.get("name")


def event_row(event: Mapping[str, Any]) -> EventRow:
    """The display row for one raw event."""
    involved = involved_object(event)
    return EventRow(
        type=event.get("type") or "Normal",
        reason=event.get("reason") or "",
        message=(event.get("message") or event.get("note") or "").strip(),
        object=f"{involved.get('kind', '')}/{involved.get('name', '')}",
        count=_count(event),
        last_seen=event_last_seen(event),
    )


def is_about(event: Mapping[str, Any], obj: Mapping[str, Any], kind: str | None = None) -> bool:
    """Whether ``event`` concerns ``obj``: the same uid when both have one, else the same kind, namespace and name.

    ``kind`` names the object's kind when it came from a list response (which omits it); without any kind the
    namespace and name must still match.
    """
    involved = involved_object(event)
    metadata = obj.get("metadata") or {}
    if involved.get("uid") and metadata.get("uid"):
        return involved["uid"] == metadata["uid"]
    obj_kind, namespace, name = _object_key(obj)
    obj_kind = kind or obj_kind
    if obj_kind and involved.get("kind") != obj_kind:
        return False
    return involved.get("name") == name and (namespace is None or involved.get("namespace") in (None, namespace))


def relevant_events(
    events: Iterable[Mapping[str, Any]],
    objects: Iterable[Mapping[str, Any]],
    *,
    row: Callable[[Mapping[str, Any]], EventRow] = event_row,
) -> list[EventRow]:
    """The events about any of ``objects`` (workloads, ReplicaSets, pods), Warning first, then newest first.

    Args:
        events: Raw events (``v1`` or ``events.k8s.io/v1``), e.g. every event of the namespace.
        objects: The entity's objects as the API returns them.
        row: Makes an event's row (a watched view passes one that keeps the rows of events it saw before).

    Returns:
        Display rows; events without any timestamp sort last within their type.
    """
    targets = list(objects)
    uids = {(obj.get("metadata") or {}).get("uid") for obj in targets} - {None, ""}
    rows = []
    for event in events:
        uid = involved_object(event).get("uid")
        if (uid and uid in uids) or any(is_about(event, obj) for obj in targets):
            rows.append(row(event))
    oldest = datetime.min.replace(tzinfo=UTC)
    # Two stable sorts: newest first, then warnings ahead of everything else.
    rows.sort(key=lambda row: row.last_seen or oldest, reverse=True)
    rows.sort(key=lambda row: not row.is_warning)
    return rows

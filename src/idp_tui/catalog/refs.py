"""Entity references: ``[<kind>:][<namespace>/]<name>``, parsed and compared the way Backstage does.

Backstage compares refs case-insensitively and stores them as ``kind:namespace/name`` in lower case;
the canonical string form is what the rest of idp-tui uses as a dictionary key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache

DEFAULT_NAMESPACE = "default"


class EntityRefError(ValueError):
    """A reference string that cannot be read as ``[<kind>:][<namespace>/]<name>``."""


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A fully qualified reference to an entity, keeping the spelling it was written with."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """The canonical lower-case form used for lookups (``component:default/foo``)."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    def __str__(self) -> str:
        return self.key

    def humanize(self, default_kind: str | None = None) -> str:
        """A short form for display: the kind and default namespace are left out when implied."""
        text = self.name if self.namespace.lower() == DEFAULT_NAMESPACE else f"{self.namespace}/{self.name}"
        if default_kind is None or default_kind.lower() != self.kind.lower():
            text = f"{self.kind.lower()}:{text}"
        return text


def _split(ref: str) -> tuple[str | None, str | None, str]:
    # Mirrors Backstage's parser: a colon only separates the kind when it comes before any slash.
    colon = ref.find(":")
    slash = ref.find("/")
    if slash != -1 and slash < colon:
        colon = -1
    kind = ref[:colon] if colon != -1 else None
    namespace = ref[colon + 1 : slash] if slash != -1 else None
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise EntityRefError(
            f"Entity reference {json.dumps(ref, ensure_ascii=False)} was not on the form [<kind>:][<namespace>/]<name>"
        )
    return kind, namespace, name


@lru_cache(maxsize=65536)
def parse_ref(ref: str, default_kind: str | None = None, default_namespace: str | None = None) -> EntityRef:
    """Parse an entity reference, filling in Backstage's defaults.

    Args:
        ref: ``[<kind>:][<namespace>/]<name>``.
        default_kind: kind to use when the ref names none (e.g. ``Group`` for ``spec.owner``).
        default_namespace: namespace to use when the ref names none; ``default`` when not given.

    Raises:
        EntityRefError: empty parts, or no kind and no default kind.
    """
    if not isinstance(ref, str) or not ref:
        raise EntityRefError("Entity reference must not be empty")
    kind, namespace, name = _split(ref)
    kind = kind or default_kind
    if not kind:
        raise EntityRefError(
            f"Entity reference {json.dumps(ref, ensure_ascii=False)} had missing or empty kind "
            '(e.g. did not start with "component:" or similar)'
        )
    return EntityRef(kind, namespace or default_namespace or DEFAULT_NAMESPACE, name)


@cache
def ref_key(ref: str, default_kind: str | None = None, default_namespace: str | None = None) -> str:
    """The canonical lookup key of a reference string (see :func:`parse_ref`).

    Memoised on its own: a cold load resolves hundreds of thousands of relation targets.
    """
    return parse_ref(ref, default_kind, default_namespace).key


def entity_key(kind: str, namespace: str | None, name: str) -> str:
    """The canonical key of an entity from its own kind, namespace and name."""
    return f"{kind}:{namespace or DEFAULT_NAMESPACE}/{name}".lower()


def split_key(key: str) -> tuple[str, str, str]:
    """Split a canonical key back into ``(kind, namespace, name)``."""
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return kind, namespace, name

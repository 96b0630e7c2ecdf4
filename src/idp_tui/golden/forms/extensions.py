"""Backstage's scaffolder field extensions: catalog-backed choices, repository locations, entity names and tags.

What each picker offers and stores follows Backstage's components: EntityPicker and OwnerPicker store the full
entity ref (``group:default/team-payments``) and label it the short way (``humanizeEntityRef``); OwnedEntityPicker
stores the short form itself; MyGroupsPicker stores the full ref of one of the user's groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idp_tui.catalog.refs import DEFAULT_NAMESPACE, EntityRefError, parse_ref
from idp_tui.catalog.relations import MEMBER_OF, OWNED_BY
from idp_tui.catalog.validation.field_formats import is_object_name, is_tag

from .model import Choice, Field
from .repo_url import compose_repo_url, repo_url_problems, split_repo_url

if TYPE_CHECKING:
    from idp_tui.catalog.entity import Entity
    from idp_tui.catalog.model import Catalog

ENTITY_NAME_MESSAGE = (
    "Must start and end with an alphanumeric character, and contain only alphanumeric characters, hyphens, "
    "underscores, and periods. Maximum length is 63 characters."
)
TAG_MESSAGE = "must be sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"


@dataclass(frozen=True, slots=True)
class ExtensionChoices:
    """What a picker offers, and whether a value outside the list may be typed (``allowArbitraryValues``)."""

    choices: tuple[Choice, ...] = ()
    allow_arbitrary: bool = True


# -- entity refs --------------------------------------------------------------------------------------------------


def stringify_entity_ref(kind: str, namespace: str | None, name: str) -> str:
    """``stringifyEntityRef``: kind and namespace in lower case, the name as written."""
    return f"{kind.lower()}:{(namespace or DEFAULT_NAMESPACE).lower()}/{name}"


def humanize_entity_ref(
    kind: str,
    namespace: str | None,
    name: str,
    *,
    default_kind: str | None = None,
    default_namespace: str | None = None,
) -> str:
    """``humanizeEntityRef``: the kind left out when it is ``default_kind``, the namespace when it is the default.

    With ``default_namespace`` given, only that namespace is left out (``default`` is then shown).
    """
    namespace = namespace or DEFAULT_NAMESPACE
    omit_namespace = namespace == default_namespace if default_namespace is not None else namespace == DEFAULT_NAMESPACE
    kind_part = "" if default_kind and default_kind.lower() == kind.lower() else f"{kind.lower()}:"
    return f"{kind_part}{'' if omit_namespace else namespace + '/'}{name}"


def _entity_ref(entity: Entity) -> str:
    return stringify_entity_ref(entity.kind, entity.namespace, entity.name)


def _humanized(entity: Entity, options: dict[str, Any]) -> str:
    return humanize_entity_ref(
        entity.kind,
        entity.namespace,
        entity.name,
        default_kind=_text_option(options, "defaultKind"),
        default_namespace=_text_option(options, "defaultNamespace"),
    )


def entity_value_from_text(text: str, choices: ExtensionChoices, options: dict[str, Any]) -> str | None:
    """The value an entity picker stores for typed text.

    A choice's label or value picks that choice; so does the bare name of exactly one choice (a terminal has no
    dropdown to click). Other text is kept only when arbitrary values are allowed, completed with ``defaultKind``
    and ``defaultNamespace`` into a full ref as Backstage does on blur (left as typed when it names no kind).
    """
    typed = text.strip()
    if not typed:
        return None
    lowered = typed.lower()
    for choice in choices.choices:
        if lowered in (choice.label.lower(), str(choice.value).lower()):
            return choice.value
    by_name = [c for c in choices.choices if str(c.value).rpartition("/")[2].lower() == lowered]
    if len(by_name) == 1:
        return by_name[0].value
    if not choices.allow_arbitrary:
        return None
    try:
        ref = parse_ref(typed, _text_option(options, "defaultKind"), _text_option(options, "defaultNamespace"))
    except EntityRefError:
        return typed
    return stringify_entity_ref(ref.kind, ref.namespace, ref.name)


# -- catalog filters ----------------------------------------------------------------------------------------------


def catalog_filters(options: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``catalogFilter`` (one filter or a list, any of which may match), else the legacy ``allowedKinds``."""
    raw = options.get("catalogFilter") or ({"kind": options["allowedKinds"]} if options.get("allowedKinds") else None)
    if not raw:
        return None
    filters = raw if isinstance(raw, list) else [raw]
    return [f for f in filters if isinstance(f, dict)]


def matches_filter(entity: Entity, catalog: Catalog, entity_filter: dict[str, Any]) -> bool:
    """Whether an entity passes one catalog filter: every key matches one of its values, case-insensitively.

    ``{exists: true}`` asks only that the key is there; ``{exists: false}`` and ``{}`` filter nothing, as in
    Backstage's EntityPicker.
    """
    for key, expected in entity_filter.items():
        if isinstance(expected, dict):
            if expected.get("exists") and not any(True for _ in _values(entity, catalog, key)):
                return False
            continue
        wanted = {str(value).lower() for value in (expected if isinstance(expected, list) else [expected])}
        if not any(value.lower() in wanted for value in _values(entity, catalog, key)):
            return False
    return True


def _values(entity: Entity, catalog: Catalog, key: str) -> Iterator[str]:
    """The entity's values for a filter key (``kind``, ``spec.type``, ``metadata.tags``, ``relations.ownedBy``)."""
    lowered = key.lower()
    if lowered == "kind":
        yield entity.kind
        return
    if lowered == "metadata.namespace":
        yield entity.namespace
        return
    if lowered.startswith("relations."):
        relation = lowered[len("relations.") :]
        yield from (target for rel_type, target in catalog.relation_pairs(entity.key) if rel_type.lower() == relation)
        return
    yield from _lookup(entity.raw, key.split("."))


def _lookup(node: Any, parts: list[str]) -> Iterator[str]:
    if not parts:
        if isinstance(node, list):
            for item in node:
                yield from _lookup(item, parts)
        elif isinstance(node, bool):
            yield "true" if node else "false"
        elif isinstance(node, (str, int, float)):
            yield str(node)
        return
    if isinstance(node, list):
        for item in node:
            yield from _lookup(item, parts)
        return
    if not isinstance(node, dict):
        return
    keys = {str(k).lower(): k for k in node}
    # Keys may hold dots themselves (annotations such as backstage.io/techdocs-ref): try the longest first.
    for size in range(len(parts), 0, -1):
        actual = keys.get(".".join(parts[:size]).lower())
        if actual is not None:
            yield from _lookup(node[actual], parts[size:])


# -- choices ------------------------------------------------------------------------------------------------------


def field_choices(field: Field, catalog: Catalog | None, *, user_ref: str | None) -> ExtensionChoices:
    """What a catalog-backed field offers (an empty list, free text allowed, for fields that are not pickers).

    Args:
        field: an ``OwnerPicker``, ``EntityPicker``, ``OwnedEntityPicker``, ``MyGroupsPicker`` or
            ``EntityTagsPicker`` field.
        catalog: the loaded catalog (``None`` while it loads: no choices yet).
        user_ref: the signed-in user's entity ref (``user:default/jane``), for the pickers about "my" things.
    """
    options = dict(field.options)
    allow = options.get("allowArbitraryValues", True) is not False
    if catalog is None:
        return ExtensionChoices((), field.extension != "MyGroupsPicker" and allow)
    extension = field.extension
    if extension == "OwnerPicker":
        options["catalogFilter"] = options.get("catalogFilter") or {
            "kind": options.get("allowedKinds") or ["Group", "User"]
        }
        options["defaultKind"] = "Group"
        return _entity_choices(catalog, options, allow)
    if extension == "EntityPicker":
        return _entity_choices(catalog, options, allow)
    if extension == "OwnedEntityPicker":
        return _owned_entity_choices(catalog, options, user_ref, allow)
    if extension == "MyGroupsPicker":
        return ExtensionChoices(_my_groups(catalog, user_ref), allow_arbitrary=False)
    if extension == "EntityTagsPicker":
        return ExtensionChoices(_tag_choices(catalog, options), allow_arbitrary=True)
    return ExtensionChoices()


def _entity_choices(catalog: Catalog, options: dict[str, Any], allow: bool) -> ExtensionChoices:
    filters = catalog_filters(options)
    entities = [e for e in catalog.entities if filters is None or any(matches_filter(e, catalog, f) for f in filters)]
    choices = sorted((Choice(_entity_ref(e), _humanized(e, options)) for e in entities), key=lambda c: c.label)
    return ExtensionChoices(tuple(choices), allow)


def ownership_refs(catalog: Catalog, user_ref: str | None) -> list[str]:
    """The refs a user owns through: the user and the groups it is a member of (Backstage's ``ownershipEntityRefs``)."""
    if not user_ref:
        return []
    try:
        user_key = parse_ref(user_ref, "User").key
    except EntityRefError:
        return []
    return [user_key, *catalog.related(user_key, MEMBER_OF)]


def _owned_entity_choices(
    catalog: Catalog, options: dict[str, Any], user_ref: str | None, allow: bool
) -> ExtensionChoices:
    owners = set(ownership_refs(catalog, user_ref))
    kinds = {kind.lower() for kind in _strings(options.get("allowedKinds"))}
    labels = sorted(
        {
            _humanized(e, options)
            for e in catalog.entities
            if (not kinds or e.kind.lower() in kinds) and owners.intersection(catalog.related(e.key, OWNED_BY))
        }
    )
    # OwnedEntityPicker stores what it shows: the short ref.
    return ExtensionChoices(tuple(Choice(label, label) for label in labels), allow)


def _my_groups(catalog: Catalog, user_ref: str | None) -> tuple[Choice, ...]:
    # Relations are recorded both ways, so a group's spec.members shows here as the user's memberOf too.
    groups = [catalog.get(key) for key in ownership_refs(catalog, user_ref)[1:]]
    return tuple(Choice(_entity_ref(g), g.display_name) for g in groups if g is not None and g.kind == "Group")


def _tag_choices(catalog: Catalog, options: dict[str, Any]) -> tuple[Choice, ...]:
    kinds = {kind.lower() for kind in _strings(options.get("kinds"))}
    counts: Counter[str] = Counter()
    for entity in catalog.entities:
        if not kinds or entity.kind.lower() in kinds:
            counts.update(tag for tag in set(entity.tags) if isinstance(tag, str))
    if options.get("showCounts"):
        ordered = sorted(counts, key=lambda tag: (-counts[tag], tag))
        return tuple(Choice(tag, f"{tag} ({counts[tag]})") for tag in ordered)
    return tuple(Choice(tag, tag) for tag in sorted(counts))


def _text_option(options: dict[str, Any], key: str) -> str | None:
    value = options.get(key)
    return value if isinstance(value, str) and value else None


def _strings(value: Any) -> list[str]:
    """The strings of a template's list option (a malformed option lists nothing)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


# -- names and tags -----------------------------------------------------------------------------------------------


def entity_name_problems(value: Any, field: Field | None = None) -> list[str]:
    """EntityNamePicker's check: a valid Backstage entity name (the catalog's own rule)."""
    return [] if isinstance(value, str) and is_object_name(value) else [ENTITY_NAME_MESSAGE]


def normalise_tag(text: str) -> str:
    """A typed tag as EntityTagsPicker keeps it: trimmed and in lower case."""
    return text.strip().lower()


def tags_problems(value: Any, field: Field | None = None) -> list[str]:
    """Tags that the catalog would refuse, by name."""
    if not isinstance(value, list):
        return []
    return [f"Tag {tag!r} {TAG_MESSAGE}" for tag in value if not (isinstance(tag, str) and is_tag(tag))]


__all__ = [
    "EXTENSION_VALIDATORS",
    "ExtensionChoices",
    "compose_repo_url",
    "entity_name_problems",
    "entity_value_from_text",
    "field_choices",
    "humanize_entity_ref",
    "normalise_tag",
    "repo_url_problems",
    "split_repo_url",
    "stringify_entity_ref",
    "tags_problems",
]

# Field extension name -> check of a present value; each answers a list of messages.
EXTENSION_VALIDATORS = {
    "EntityNamePicker": entity_name_problems,
    "RepoUrlPicker": repo_url_problems,
    "EntityTagsPicker": tags_problems,
}

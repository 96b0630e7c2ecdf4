"""Who owns what, from the catalog alone: owner cards, what a team owns (with its sub-teams), and "mine".

Pure functions over a loaded :class:`Catalog`; the on-call providers add the ladder on top.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..catalog.entity import Entity
from ..catalog.model import Catalog
from ..catalog.refs import EntityRefError, parse_ref
from ..catalog.relations import CHILD_OF, HAS_MEMBER, MEMBER_OF, OWNER_OF, PARENT_OF

# Annotations that name a chat channel or contact, shown with the owner's links.
CONTACT_ANNOTATIONS = {
    "slack.com/channel": "Slack",
    "slack.com/channel-name": "Slack",
    "msteams.microsoft.com/channel": "Teams",
    "opsgenie.com/team": "Opsgenie team",
    "pagerduty.com/service-id": "PagerDuty service",
}
# The org chart is walked with a bound, so a cyclic parent chain cannot loop forever.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Contact:
    """One way to reach an owner: an email, a chat channel, a page on the web."""

    title: str
    value: str
    url: str | None = None


@dataclass(frozen=True)
class OwnerCard:
    """An entity's owner resolved: the owning Group or User (None when it is not in the catalog), its parent
    chain up to the top of the org chart, its members, and how to reach it."""

    owner_key: str | None
    owner: Entity | None
    parents: tuple[Entity, ...]
    members: tuple[Entity, ...]
    member_keys: tuple[str, ...]
    contacts: tuple[Contact, ...]
    # For a User owner: the groups they belong to.
    groups: tuple[Entity, ...] = ()


def owner_key_of(entity: Entity) -> str | None:
    """The key of whoever owns ``entity``; a Group or User stands for itself."""
    if entity.kind in ("Group", "User"):
        return entity.key
    return entity.owner_key if entity.spec.get("owner") else None


def parent_chain(catalog: Catalog, group_key: str) -> list[Entity]:
    """The group's parent, its parent's parent, ... up to the department (the group itself not included)."""
    chain: list[Entity] = []
    seen = {group_key}
    current = group_key
    for _ in range(MAX_DEPTH):
        parents = catalog.related(current, CHILD_OF)
        parent = catalog.get(parents[0]) if parents else None
        if parent is None or parent.key in seen:
            break
        seen.add(parent.key)
        chain.append(parent)
        current = parent.key
    return chain


def contacts_of(entity: Entity) -> list[Contact]:
    """Email, chat channels from annotations, and the entity's links (Slack, runbooks, wikis)."""
    contacts: list[Contact] = []
    if entity.email:
        contacts.append(Contact("Email", entity.email, f"mailto:{entity.email}"))
    annotations: Mapping[str, str] = entity.annotations
    for key, title in CONTACT_ANNOTATIONS.items():
        value = annotations.get(key)
        if value:
            contacts.append(Contact(title, str(value)))
    for link in entity.links:
        url = link.get("url") if isinstance(link, dict) else None
        if isinstance(url, str) and url:
            contacts.append(Contact(str(link.get("title") or "Link"), url, url))
    return contacts


def owner_card(catalog: Catalog, entity: Entity) -> OwnerCard:
    """Resolve who owns ``entity``: the group (or user), its parent chain, its members and its contacts."""
    owner_key = owner_key_of(entity)
    owner = catalog.get(owner_key) if owner_key else None
    if owner is None:
        return OwnerCard(owner_key, None, (), (), (), ())
    member_keys = tuple(catalog.related(owner.key, HAS_MEMBER))
    members = tuple(member for member in map(catalog.get, member_keys) if member is not None)
    groups = tuple(group for group in map(catalog.get, groups_of(catalog, owner.key)) if group is not None)
    parents = tuple(parent_chain(catalog, owner.key))
    return OwnerCard(owner.key, owner, parents, members, member_keys, tuple(contacts_of(owner)), groups)


def sub_groups(catalog: Catalog, group_key: str) -> list[str]:
    """The group and every group below it (children, their children, ...), breadth first, each once."""
    found = [group_key]
    seen = {group_key}
    for key in found:
        for child in catalog.related(key, PARENT_OF):
            if child not in seen and len(found) < 10_000:
                seen.add(child)
                found.append(child)
    return found


def owned_by(catalog: Catalog, owner_key: str, *, transitive: bool = True) -> list[tuple[Entity, str]]:
    """``(entity, owning group key)`` for what ``owner_key`` owns; with ``transitive``, its sub-teams' too.

    Sorted by kind then name, so the same catalog always lists the same way.
    """
    owners = sub_groups(catalog, owner_key) if transitive else [owner_key]
    owned: dict[str, tuple[Entity, str]] = {}
    for owner in owners:
        for key in catalog.related(owner, OWNER_OF):
            entity = catalog.get(key)
            if entity is not None and key not in owned:
                owned[key] = (entity, owner)
    return sorted(owned.values(), key=lambda item: (item[0].kind, item[0].name))


def groups_of(catalog: Catalog, user_key: str) -> list[str]:
    """The groups a user is a member of (declared from either side: ``memberOf`` or the group's ``members``)."""
    return catalog.related(user_key, MEMBER_OF)


def resolve_user(catalog: Catalog, explicit: str | None, login: str | None) -> Entity | None:
    """The catalog User this person is: ``explicit`` (a ref, from the profile or ``--user``), else the login name
    matched to a User's name or to the local part of a User's email."""
    if explicit:
        try:
            return catalog.get(parse_ref(explicit, "User").key)
        except EntityRefError:
            return None
    if not login:
        return None
    login = login.lower()
    users = [entity for entity in catalog.entities if entity.kind == "User"]
    for user in users:
        if user.name.lower() == login:
            return user
    for user in users:
        if user.email and user.email.lower().split("@")[0] == login:
            return user
    return None


@dataclass(frozen=True)
class Mine:
    """What "mine" means for one person: their groups and what those groups (and sub-teams) own."""

    user: Entity
    groups: tuple[str, ...]
    owned: tuple[tuple[Entity, str], ...]

    def entities(self) -> Iterator[Entity]:
        """The entities owned, without the group that owns each."""
        return (entity for entity, _ in self.owned)


def mine(catalog: Catalog, user: Entity) -> Mine:
    """What ``user`` and the groups they are in (with those groups' sub-teams) own.

    Each entity once, with the first owner found (the user, then each group in order), sorted by kind
    then name.
    """
    groups = groups_of(catalog, user.key)
    owned: dict[str, tuple[Entity, str]] = {}
    for owner in [user.key, *groups]:
        for entity, group in owned_by(catalog, owner):
            owned.setdefault(entity.key, (entity, group))
    return Mine(user, tuple(groups), tuple(sorted(owned.values(), key=lambda item: (item[0].kind, item[0].name))))

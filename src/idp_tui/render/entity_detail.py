"""An entity explained for people: overview, relations and ownership as rich renderables."""

from __future__ import annotations

from rich.console import Group as RenderGroup
from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..catalog.annotations import describe_annotations
from ..catalog.entity import Entity
from ..catalog.model import Catalog
from ..catalog.refs import parse_ref
from ..catalog.relations import CHILD_OF, MEMBER_OF, RELATION_TITLES, Relation
from ..oncall.ownership import owner_card
from ..safe_text import clean


def _line(text: object) -> str:
    """Catalog text as one printable line: titles, facts and labels are written by other people."""
    return clean(str(text), one_line=True)


def _cell(text: object) -> Text:
    """Catalog text for a table cell: a ``Text``, because a ``str`` cell is read as Rich markup (``[/x]`` raises)."""
    return Text(_line(text))


def ref_label(key: str, catalog: Catalog) -> str:
    """A relation target as a person reads it: ``kind:name``, title added, marked when missing."""
    ref = parse_ref(key)
    entity = catalog.get(key)
    text = _line(ref.humanize())
    if entity is None:
        return f"{text}  (missing)"
    if entity.title and entity.title != entity.name:
        return f"{text} — {_line(entity.title)}"
    return text


def _field_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _link_text(text: str, url: str | None) -> Text:
    # A Style object, not "link URL": a URL with a space in it would be parsed as more style words (and raise).
    return Text(text, style=Style(link=url) if url else "")


def overview(entity: Entity, catalog: Catalog) -> RenderableType:
    """Description, core facts, tags, labels, links and annotations of an entity."""
    parts: list[RenderableType] = []
    heading = Text(_line(entity.display_name), style="bold")
    heading.append(_line(f"  {entity.kind.lower()}:{entity.namespace}/{entity.name}"), style="dim")
    parts.append(heading)
    if entity.description:
        parts.append(Text(clean(entity.description)))
    facts = _field_table()
    spec = entity.spec
    for label, value in (
        ("Type", entity.spec_type),
        ("Lifecycle", entity.lifecycle),
        ("Owner", ref_label(entity.owner_key, catalog) if spec.get("owner") else ""),
        ("System", ref_label(entity.system_key, catalog) if spec.get("system") else ""),
        ("Email", entity.email),
        ("Member of", ", ".join(ref_label(k, catalog) for k in catalog.related(entity.key, MEMBER_OF))),
        ("Parent", ", ".join(ref_label(k, catalog) for k in catalog.related(entity.key, CHILD_OF))),
        ("Namespace", entity.namespace),
        ("Tags", ", ".join(entity.tags)),
    ):
        if value:
            facts.add_row(label, _cell(value))
    for key, value in entity.labels.items():
        facts.add_row(_cell(f"Label {key}"), _cell(value))
    parts.append(facts)
    if entity.links:
        links = _field_table()
        for link in entity.links:
            url = _line(link.get("url", ""))
            links.add_row(_cell(link.get("title") or url), _link_text(url, url))
        parts += [Text("Links", style="bold underline"), links]
    annotations = dict(entity.annotations)
    if entity.source is not None:
        annotations.setdefault("backstage.io/managed-by-location", f"file:{entity.source}")
    known, other = describe_annotations(annotations)
    if known or other:
        table = _field_table()
        for info in known:
            table.add_row(info.label, _link_text(info.text, info.url))
        for key, value in other:
            table.add_row(Text(key), Text(value))
        parts += [Text("Annotations", style="bold underline"), table]
    return RenderGroup(*_spaced(parts))


def _spaced(parts: list[RenderableType]) -> list[RenderableType]:
    spaced: list[RenderableType] = []
    for part in parts:
        if spaced:
            spaced.append(Text(""))
        spaced.append(part)
    return spaced


def relations_table(catalog: Catalog, key: str) -> RenderableType:
    """Relations grouped by type; missing targets are marked."""
    groups = catalog.grouped_relations(key)
    if not groups:
        return Text("No relations.", style="dim")
    table = _field_table()
    for relation_type, relations in groups:
        for index, relation in enumerate(relations):
            label = RELATION_TITLES.get(relation_type, relation_type) if index == 0 else ""
            style = "dim italic" if relation.missing else ""
            table.add_row(label, Text(ref_label(relation.target, catalog), style=style))
    return table


def owner_renderable(catalog: Catalog, entity: Entity) -> RenderableType:
    """The owner card: name, email, chat links, parent chain up to the department, members with emails."""
    card = owner_card(catalog, entity)
    if card.owner_key is None:
        return Text("No owner declared (spec.owner is empty).", style="dim")
    if card.owner is None:
        return Text(f"Owner {ref_label(card.owner_key, catalog)}: not in the catalog.", style="italic")
    owner = card.owner
    facts = _field_table()
    facts.add_row("Owner", _cell(f"{owner.display_name}  ({owner.ref.humanize()})"))
    if owner.spec_type:
        facts.add_row("Type", _cell(owner.spec_type))
    for contact in card.contacts:
        facts.add_row(_cell(contact.title), _link_text(_line(contact.value), contact.url))
    if card.parents:
        chain = " › ".join(_line(p.display_name) for p in reversed(card.parents))
        facts.add_row("Part of", Text(chain))
    parts: list[RenderableType] = [facts]
    if card.member_keys:
        members = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
        members.add_column("Member")
        members.add_column("Email")
        for key in card.member_keys:
            member = catalog.get(key)
            if member is None:
                members.add_row(Text(ref_label(key, catalog), style="dim italic"), "")
                continue
            members.add_row(_cell(member.display_name), _cell(member.email))
        parts.append(members)
    elif owner.kind == "Group":
        parts.append(Text("No members listed.", style="dim"))
    return RenderGroup(*_spaced(parts))


def relation_rows(catalog: Catalog, key: str) -> list[tuple[str, Relation]]:
    """``(group heading, relation)`` rows in display order, for navigable relation lists."""
    rows: list[tuple[str, Relation]] = []
    for relation_type, relations in catalog.grouped_relations(key):
        rows += [(RELATION_TITLES.get(relation_type, relation_type), relation) for relation in relations]
    return rows

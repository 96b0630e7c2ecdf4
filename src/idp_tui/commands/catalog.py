"""``idp-tui catalog list`` and ``idp-tui catalog show``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..render.words import count
from .output import console, error, print_json

if TYPE_CHECKING:  # the parser is built for every command: what only a handler needs is imported there
    from ..catalog.model import Catalog
    from ..session import Session


def add_parsers(subparsers) -> None:
    catalog = subparsers.add_parser("catalog", help="list and show catalog entities")
    actions = catalog.add_subparsers(dest="catalog_command", metavar="{list,show}", required=True)
    listing = actions.add_parser("list", help="list entities, optionally filtered and searched")
    listing.add_argument("--kind", help="only this kind (Component, API, Group, ...)")
    listing.add_argument("--type", dest="spec_type", help="only this spec.type (service, website, ...)")
    listing.add_argument("--owner", help="only entities owned by this ref (team-a, group:team-a, user:jdoe)")
    listing.add_argument("--lifecycle", help="only this lifecycle (production, experimental, ...)")
    listing.add_argument("--tag", help="only entities with this tag")
    listing.add_argument("--namespace", help="only this namespace")
    listing.add_argument("--search", metavar="TEXT", help="rank by a search, as the TUI's / does")
    listing.add_argument("--json", action="store_true", help="print the entities as Backstage JSON")
    listing.set_defaults(handler=list_command)
    show = actions.add_parser("show", help="show one entity with its relations and owner")
    show.add_argument("ref", help="[kind:][namespace/]name, e.g. component:payment-processor")
    show.add_argument("--json", action="store_true", help="print the entity as Backstage JSON")
    show.set_defaults(handler=show_command)


def _load(session: Session) -> Catalog:
    catalog = session.catalog_source.load()
    if catalog.problems:
        skipped = count(len(catalog.problems), "problem")
        error(f"{skipped} in the catalog (those entities were skipped); `idp-tui validate` lists them")
    return catalog


def list_command(args: argparse.Namespace, session: Session) -> int:
    catalog = _load(session)
    from ..catalog.facets import EntityFilter
    from ..catalog.search import SearchIndex

    entity_filter = EntityFilter(
        kind=args.kind,
        type=args.spec_type,
        owner=args.owner,
        lifecycle=args.lifecycle,
        tag=args.tag,
        namespace=args.namespace,
    )
    index = SearchIndex(catalog.entities)
    positions = [p for p, entity in enumerate(index.entities) if entity_filter.matches(entity)]
    if args.search:
        positions = index.search(args.search, within=positions).positions
    entities = [index.entities[p] for p in positions]
    if args.json:
        print_json([entity.to_json(catalog.relation_pairs(entity.key)) for entity in entities])
        return 0
    from ..render.tables import entity_table

    out = console(table=True)
    out.print(entity_table(entities))
    sys.stderr.write(f"{len(entities)} of {len(catalog)} entities\n")
    return 0


def show_command(args: argparse.Namespace, session: Session) -> int:
    catalog = _load(session)
    entity = catalog.find(args.ref)
    if entity is None:
        error(f'no entity "{args.ref}" in {session.name} catalog (try `idp-tui catalog list --search ...`)')
        return 1
    if args.json:
        print_json(entity.to_json(catalog.relation_pairs(entity.key)))
        return 0
    from rich.rule import Rule

    from ..render.entity_detail import overview, owner_renderable, relations_table

    out = console()
    out.print(overview(entity, catalog))
    out.print(Rule("Relations", align="left"))
    out.print(relations_table(catalog, entity.key))
    out.print(Rule("Owner", align="left"))
    out.print(owner_renderable(catalog, entity))
    return 0

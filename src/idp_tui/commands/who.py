"""``idp-tui who``, ``idp-tui team`` and ``idp-tui mine``: ownership, the on-call ladder and the blast radius.

``who`` imports neither textual nor kubernetes unless the name given has to be looked up on the clusters.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from typing import TYPE_CHECKING

from ..catalog.entity import Entity
from .output import console, error, print_json

if TYPE_CHECKING:
    from ..session import Session


def _at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-28T22:00Z)") from None
    return moment if moment.tzinfo else moment.astimezone()


def add_parsers(subparsers) -> None:
    who = subparsers.add_parser(
        "who", help="who owns an entity, who is on call for it (every level, now and next), and whom an outage touches"
    )
    who.add_argument(
        "target",
        metavar="REF_OR_POD_OR_PD_SERVICE",
        help="an entity ref (payment-processor), a PagerDuty service id (P1A2B3C), or a pod or workload "
        "([cluster:][namespace/]name, as pasted from kubectl)",
    )
    who.add_argument("--at", type=_at, metavar="TIME", help="who is on call at this time instead of now (ISO 8601)")
    who.add_argument("--json", action="store_true", help="print the answer as JSON")
    who.set_defaults(handler=who_command)
    team = subparsers.add_parser("team", help="what a group owns, with its sub-teams'")
    team.add_argument("group", help="a Group (team-payments, group:default/team-payments) or a User")
    team.add_argument("--json", action="store_true", help="print the list as JSON")
    team.set_defaults(handler=team_command)
    mine = subparsers.add_parser("mine", help="your groups and what they own (you: --user, else $USER)")
    mine.add_argument("--json", action="store_true", help="print the list as JSON")
    mine.set_defaults(handler=mine_command)


def who_command(args: argparse.Namespace, session: Session) -> int:
    from ..oncall.reverse import lookup
    from ..oncall.who import answer_json, who

    catalog = session.catalog_source.load()
    try:
        # Only a pod or workload name is looked up on the clusters (the demo cluster starts then).
        found = lookup(args.target, catalog, session.workload_source)
    except Exception as problem:  # noqa: BLE001 - a cluster that cannot be read is said in one line
        from ..kube.errors import describe_api_error

        error(f"could not look {args.target!r} up on the clusters: {describe_api_error(problem, 'pods')}")
        return 2
    if found.entity is None:
        error(found.problem or f"nothing found for {args.target!r}")
        return 1
    answer = who(catalog, found.entity, session.oncall(catalog), args.at, found_from=found.found_from)
    if args.json:
        print_json(answer_json(answer))
        return 0
    from ..render.oncall import who_lines

    out = console()
    for line in who_lines(answer):
        out.print(line.text)
    return 0


def _owned_json(owned: list[tuple[Entity, str]]) -> list[dict[str, str]]:
    return [
        {
            "ref": entity.key,
            "kind": entity.kind,
            "type": entity.spec_type,
            "lifecycle": entity.lifecycle,
            "owner": group,
        }
        for entity, group in owned
    ]


def _print_owned(title: str, owned: list[tuple[Entity, str]]) -> None:
    from rich.table import Table

    out = console(table=True)
    out.print(title)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Entity", "Kind", "Type", "Lifecycle", "Owner"):
        table.add_column(column)
    for entity, group in owned:
        table.add_row(entity.ref.humanize(), entity.kind, entity.spec_type, entity.lifecycle, group)
    out.print(table)


def team_command(args: argparse.Namespace, session: Session) -> int:
    from ..catalog.refs import EntityRefError, parse_ref
    from ..oncall.ownership import owned_by

    catalog = session.catalog_source.load()
    try:
        group = catalog.get(parse_ref(args.group, "Group").key) or catalog.find(args.group)
    except EntityRefError as problem:
        error(str(problem))
        return 1
    if group is None or group.kind not in ("Group", "User"):
        error(f"no group or user {args.group!r} in the catalog")
        return 1
    owned = owned_by(catalog, group.key)
    if args.json:
        # "demo": whether the demo on-call rotations answered; this listing asks no on-call provider.
        print_json({"owner": group.key, "owned": _owned_json(owned), "demo": False})
    else:
        _print_owned(f"{group.display_name} ({group.ref.humanize()}) and its sub-teams own:", owned)
    return 0


def mine_command(args: argparse.Namespace, session: Session) -> int:
    from ..oncall.ownership import mine, resolve_user

    catalog = session.catalog_source.load()
    user = resolve_user(catalog, session.user, os.environ.get("USER") or os.environ.get("LOGNAME"))
    if user is None:
        who_is_it = session.user or os.environ.get("USER") or "you"
        error(f"no catalog User matches {who_is_it!r}: pass --user user:NAME (or set IDP_TUI_USER)")
        return 1
    found = mine(catalog, user)
    if args.json:
        owned = _owned_json(list(found.owned))
        print_json({"user": user.key, "groups": list(found.groups), "owned": owned, "demo": False})
    else:
        groups = ", ".join(found.groups) or "no groups"
        _print_owned(f"{user.display_name} ({user.ref.humanize()}), member of {groups}; owned:", list(found.owned))
    return 0

"""``idp-tui secrets REF``: which secrets a service has in Vault (keys, versions, times, readers), never values.

When the demo Vault answers (no Vault named, on the demo catalog), the output says so: a line in text and
``"demo": true`` in JSON (``false`` otherwise).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .output import console, error, print_json

if TYPE_CHECKING:
    from ..session import Session


def add_parser(subparsers) -> None:
    secrets = subparsers.add_parser("secrets", help="an entity's secrets in Vault: keys and metadata, never values")
    secrets.add_argument("ref", help="[kind:][namespace/]name, e.g. payment-processor")
    secrets.add_argument("--json", action="store_true", help="print the keys and metadata as JSON")
    secrets.set_defaults(handler=secrets_command)


def secrets_command(args: argparse.Namespace, session: Session) -> int:
    from ..render.secrets import listing_json, secrets_lines
    from ..secrets.entity_path import secrets_path
    from ..secrets.models import SecretsError

    catalog = session.catalog_source.load()
    entity = catalog.find(args.ref)
    if entity is None:
        error(f"no entity {args.ref!r} in the catalog")
        return 1
    where = secrets_path(entity)
    listing, problem = None, None
    demo = session.secrets_are_demo
    if where is not None:
        try:
            listing = session.secret_store().list_secrets(where.path, mount=where.mount)
        except SecretsError as failure:
            problem = str(failure)
    if args.json:
        print_json(listing_json(entity, where, listing, problem, demo=demo))
    else:
        out = console()
        for line in secrets_lines(entity, where, listing, problem, demo=demo):
            out.print(line.text)
    if problem is not None and not args.json:
        error(problem)
    return 2 if problem is not None else (1 if where is None else 0)

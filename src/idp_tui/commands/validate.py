"""``idp-tui validate PATH...``: check catalog files the way the Backstage catalog would."""

from __future__ import annotations

import argparse
import sys

from ..catalog.local_source import LocalCatalogSource
from ..render.words import count
from .output import display_path, print_json


def add_parser(subparsers) -> None:
    validate = subparsers.add_parser(
        "validate", help="check catalog files (YAML, envelope, policies, kind schemas, refs, duplicates)"
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="a catalog file or a directory of them")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    validate.set_defaults(handler=validate_command, needs_platform=False)


def validate_command(args: argparse.Namespace, platform=None) -> int:
    source = LocalCatalogSource(args.paths, use_cache=False)
    catalog = source.load()
    problems = [
        p._replace(path=display_path(p.path))
        for p in sorted(catalog.problems, key=lambda p: (p.path, p.line, p.message))
    ]
    if args.json:
        print_json([problem.to_json() for problem in problems])
    else:
        sys.stdout.writelines(f"{problem}\n" for problem in problems)
    files = source.stats.files
    summary = f"{count(len(problems), 'problem')}; {count(len(catalog), 'valid entity')} in {count(files, 'file')}"
    if not args.json:
        sys.stderr.write(summary + "\n")
    return 1 if problems else 0

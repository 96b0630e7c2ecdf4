"""``idp-tui validate PATH...``: check catalog files the way the Backstage catalog would."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..catalog.local_source import LocalCatalogSource
from ..catalog.model import Catalog
from ..catalog.problems import Problem
from ..render.words import count
from .output import display_path, print_json, write_lines


def add_parser(subparsers) -> None:
    validate = subparsers.add_parser(
        "validate", help="check catalog files (YAML, envelope, policies, kind schemas, refs, duplicates)"
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="a catalog file or a directory of them")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    validate.set_defaults(handler=validate_command, needs_platform=False)


def _template_problems(catalog: Catalog) -> list[Problem]:
    """What Backstage would only find when the template runs: bad step ids, actions, form schemas, ``${{ }}``."""
    templates = [e for e in catalog.entities if e.kind == "Template" and e.source is not None]
    if not templates:
        return []
    from ..catalog.yaml_docs import field_line
    from ..golden.actions import builtin_actions
    from ..golden.template_checks import template_problems

    known = set(builtin_actions())
    problems = []
    for entity in templates:
        found = template_problems(entity.raw, known)
        if not found:
            continue
        text = Path(entity.source.path).read_text(encoding="utf-8")
        for field_path, message in found:
            line = field_line(text, entity.source.line, field_path)
            problems.append(Problem(entity.source.path, line, message, "template", entity.key))
    return problems


def validate_command(args: argparse.Namespace, platform=None) -> int:
    source = LocalCatalogSource(args.paths, use_cache=False)
    catalog = source.load()
    found = catalog.problems + _template_problems(catalog)
    problems = [p._replace(path=display_path(p.path)) for p in sorted(found, key=lambda p: (p.path, p.line, p.message))]
    if args.json:
        print_json([problem.to_json() for problem in problems])
    else:
        # A problem quotes the file's own text (a bad value, a key): no escape sequence of it reaches the terminal.
        write_lines(str(problem) for problem in problems)
    files = source.stats.files
    summary = f"{count(len(problems), 'problem')}; {count(len(catalog), 'valid entity')} in {count(files, 'file')}"
    if not args.json:
        sys.stderr.write(summary + "\n")
    return 1 if problems else 0

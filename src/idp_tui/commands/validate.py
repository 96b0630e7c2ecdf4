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
    validate.add_argument("--json", action="store_true", help="print the problems and warnings as a JSON list")
    validate.set_defaults(handler=validate_command, needs_session=False)


def _template_findings(catalog: Catalog) -> tuple[list[Problem], list[Problem]]:
    """What Backstage would only find when the template runs: bad step ids, actions, form schemas, ``${{ }}``.

    Returns ``(problems, warnings)``: an action idp-tui lacks is a warning, since Backstage's catalog accepts the
    template and a scaffolder with that action runs it.
    """
    templates = [e for e in catalog.entities if e.kind == "Template" and e.source is not None]
    if not templates:
        return [], []
    from ..catalog.yaml_docs import field_line
    from ..golden.actions import builtin_actions
    from ..golden.template_checks import template_problems

    known = set(builtin_actions())
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for entity in templates:
        found = template_problems(entity.raw, known)
        if not found:
            continue
        text = Path(entity.source.path).read_text(encoding="utf-8")
        for finding in found:
            line = field_line(text, entity.source.line, finding.path)
            problem = Problem(entity.source.path, line, finding.message, "template", entity.key)
            (warnings if finding.warning else problems).append(problem)
    return problems, warnings


def validate_command(args: argparse.Namespace, session=None) -> int:
    source = LocalCatalogSource(args.paths, use_cache=False)
    catalog = source.load()
    template_problems, warnings = _template_findings(catalog)
    problems = catalog.problems + template_problems
    # One list in file and line order, each finding marked: warnings alone never make the exit status 1.
    findings = sorted(
        [(problem._replace(path=display_path(problem.path)), "error") for problem in problems]
        + [(warning._replace(path=display_path(warning.path)), "warning") for warning in warnings],
        key=lambda item: (item[0].path, item[0].line, item[0].message),
    )
    if args.json:
        print_json([{**problem.to_json(), "severity": severity} for problem, severity in findings])
    else:
        # A problem quotes the file's own text (a bad value, a key): no escape sequence of it reaches the terminal.
        write_lines(_line(problem, severity) for problem, severity in findings)
    files = source.stats.files
    summary = f"{count(len(problems), 'problem')}"
    if warnings:
        summary += f", {count(len(warnings), 'warning')}"
    summary += f"; {count(len(catalog), 'valid entity')} in {count(files, 'file')}"
    if not args.json:
        sys.stderr.write(summary + "\n")
    return 1 if problems else 0


def _line(problem: Problem, severity: str) -> str:
    """``file:line: entity: message``; a warning says so after the entity."""
    if severity == "error":
        return str(problem)
    return str(problem._replace(message=f"warning: {problem.message}"))

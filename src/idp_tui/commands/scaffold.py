"""``idp-tui scaffold TEMPLATE_REF``: run a golden path without the TUI (or preview it with ``--dry-run``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safe_text import clean
from .output import error, print_json
from .policy_options import add_policy_options

EXIT_STEP_FAILED = 1
EXIT_BAD_VALUES = 2
EXIT_REFUSED = 2  # as for a usage error: the command cannot do what was asked in this mode
READ_ONLY_REFUSAL = (
    "read-only mode is on (--read-only, IDP_TUI_READ_ONLY or the profile): not running the golden path; "
    "--dry-run previews it"
)


def add_parser(subparsers) -> None:
    scaffold = subparsers.add_parser(
        "scaffold",
        help="run a golden-path template (or preview it with --dry-run)",
        description="Fill a Backstage template's form from --set/--values (defaults for the rest) and run it locally.",
    )
    scaffold.add_argument("template", metavar="TEMPLATE_REF", help="template:[namespace/]name, or just the name")
    scaffold.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE", help="one value (repeatable)"
    )
    scaffold.add_argument("--values", metavar="FILE", help="a YAML file of values")
    scaffold.add_argument("--dry-run", action="store_true", help="show the steps and files without writing anything")
    scaffold.add_argument("--output", metavar="DIR", help="also write the task's final workspace to DIR")
    scaffold.add_argument("--publish-root", metavar="DIR", help="where local publishing creates repositories")
    add_policy_options(
        scaffold,
        "also check what the run produces against these policies (Rego, ValidatingAdmissionPolicy, OPA bundle; "
        "repeatable; added to the profile's)",
        from_profile=True,
    )
    scaffold.add_argument("--json", action="store_true", help="print the result as JSON")
    scaffold.set_defaults(handler=scaffold_command)


if TYPE_CHECKING:  # the parser is built for every command: what only a handler needs is imported there
    from ..catalog.model import Catalog
    from ..golden.events import TaskEvent, TaskResult
    from ..golden.guardrails import GuardrailReport
    from ..golden.template import Template
    from ..session import Session


def find_template(catalog: Catalog, ref: str) -> Template | None:
    """The template a person means by ``ref`` (``template:x``, ``default/x`` or ``x``)."""
    from ..catalog.refs import EntityRefError, parse_ref

    try:
        entity = catalog.get(parse_ref(ref.strip(), "Template").key)
    except EntityRefError:
        return None
    from ..golden.template import Template

    return Template.from_entity(entity) if entity is not None and entity.kind == "Template" else None


def scaffold_command(args, session: Session) -> int:
    from ..golden.values import ValuesError, read_values

    if session.read_only and not args.dry_run:
        # Refused before the catalog is even read: nothing runs, nothing is half-done.
        if args.json:
            print_json({"status": "refused", "error": READ_ONLY_REFUSAL})
        error(READ_ONLY_REFUSAL)
        return EXIT_REFUSED
    catalog = session.catalog_source.load()
    template = find_template(catalog, args.template)
    if template is None:
        error(f"no template {args.template!r} in the catalog (`idp-tui catalog list --kind Template` lists them)")
        return EXIT_BAD_VALUES
    publish_root = Path(args.publish_root).absolute() if args.publish_root else None
    runner = session.template_runner(catalog, publish_root=publish_root)
    template = runner.ready(template)  # on Backstage: the form its scaffolder serves
    try:
        values = read_values(template, args.values, args.assignments)
    except ValuesError as problem:
        if args.json:
            print_json({"status": "invalid", "errors": problem.lines})
        for line in problem.lines:
            error(line)
        return EXIT_BAD_VALUES
    from ..golden.user import current_user

    result = runner.run(
        template,
        values,
        dry_run=args.dry_run,
        user=current_user(catalog),
        on_event=None if args.json else _print_event,
        output_dir=Path(args.output) if args.output else None,
    )
    if result.status == "completed" and not args.dry_run:
        from ..golden.state import remember_answers

        remember_answers(template, values, session.user_state)
    _report(result, args)
    return 0 if result.status == "completed" else EXIT_STEP_FAILED


def _print_event(event: TaskEvent) -> None:
    if event.status in ("processing", "completed", "failed", "skipped") and event.step_id:
        mark = {"processing": "▸", "completed": "✓", "failed": "✗", "skipped": "–"}[event.status]
        print(clean(f"{mark} [{event.step_id}] {event.message}"), flush=True)
    elif event.type == "log" and event.step_id:
        print(clean(f"    {event.message}"), flush=True)  # a step's log may hold any escape sequence


def _report(result: TaskResult, args) -> None:
    if args.json:
        payload: dict[str, Any] = result.to_json()
        if args.dry_run:
            payload["plan"] = [{"id": s.id, "action": s.action, "input": s.input} for s in result.steps]
            payload["files"] = [{"path": path, "content": _text(content)} for path, content in result.files.items()]
            payload["files"] += [{"path": path, "symlink": target} for path, target in result.symlinks.items()]
        print_json(payload)
        return
    if args.dry_run and (result.files or result.symlinks):  # a dry run a policy blocked shows its files too
        print("\nFiles the template would produce:")
        for path, content in result.files.items():
            print(clean(f"  {path}  ({len(content)} bytes)", one_line=True))
        for path, target in result.symlinks.items():
            print(clean(f"  {path} -> {target}", one_line=True))
    if result.guardrails is not None:
        _print_guardrails(result.guardrails)
    if result.status != "completed":
        error(result.error or "the task failed")
        return
    for line in result.created:
        print(clean(f"created {line}", one_line=True))
    for link in result.links:
        target = link.get("url") or link.get("entityRef")
        if target:  # a dry run leaves the outputs of skipped steps (publish, register) empty
            print(clean(f"{link.get('title') or target}: {target}", one_line=True))
    for item in result.text:
        print(clean(f"\n{item.get('title') or ''}\n{item.get('content') or ''}".rstrip()))
    sys.stdout.flush()


def _print_guardrails(report: GuardrailReport) -> None:
    """The policies' verdicts: ``file:line: DENY policy: message`` each (policy authors wrote the messages)."""
    print(f"\n{report.summary()}")
    for line in report.lines():
        print(clean(f"  {line}", one_line=True))


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary, {len(content)} bytes>"

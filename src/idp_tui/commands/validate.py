"""``idp-tui validate PATH...``: check catalog files the way the Backstage catalog would; with ``--policy``, also
judge manifests and catalog files against Rego and ValidatingAdmissionPolicy guardrails.

With ``--policy`` both checks run on the same paths and answer together (one list, one exit status): adding the
policies never drops the catalog's own checks. A manifest named explicitly is judged by the policies only (the
catalog's validation would call a Deployment an unknown kind); in a folder, the catalog reads the files that look
like catalog files, as it always does, and the policies read every YAML and JSON file.
"""

from __future__ import annotations

import argparse
import math
import os
import posixpath
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog.local_source import LocalCatalogSource
from ..catalog.model import Catalog
from ..catalog.problems import Problem
from ..render.words import count
from .output import display_path, error, print_json, write_lines
from .policy_options import add_policy_options, chosen_packages

if TYPE_CHECKING:
    from ..policy.models import InputProblem, PolicyEvaluation, PolicyResult

FORMATS = ("text", "json", "sarif")
CATALOG_ENGINE = "backstage"  # the catalog's own validation, as its findings appear beside the policies'
CATALOG_SNIFF_BYTES = 8 * 1024 * 1024
NO_POLICY = "no policy to apply: the --policy paths hold no Rego rule and no bound ValidatingAdmissionPolicy"


def add_parser(subparsers) -> None:
    validate = subparsers.add_parser(
        "validate",
        help="check catalog files (YAML, envelope, policies, kind schemas, refs, duplicates); with --policy, also "
        "manifests against Rego and ValidatingAdmissionPolicies",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="a catalog file, a manifest or a directory of them")
    validate.add_argument(
        "--json", dest="format", action="store_const", const="json", help="print the findings as a JSON list"
    )
    validate.add_argument(
        "--format", choices=FORMATS, help="text (default), json, or sarif (SARIF 2.1.0, for CI code scanning)"
    )
    add_policy_options(
        validate,
        "also evaluate every YAML/JSON document against these policies: Rego (conftest's deny/warn rules, package "
        "main; package catalog for catalog entities), ValidatingAdmissionPolicies, OPA bundles (repeatable)",
        from_profile=False,
    )
    validate.add_argument("--fail-on-warn", action="store_true", help="exit 1 on warnings too")
    validate.add_argument(
        "--time-budget",
        type=_seconds,
        metavar="SECONDS",
        # The number is policy.models.DEFAULT_TIME_BUDGET's, written out: the policy package loads only with --policy.
        help="with --policy, the time reading and judging may take in all (default 300); what is left then is said "
        "not judged",
    )
    validate.add_argument(
        "--fail-on-problem",
        action="store_true",
        help="with --policy, exit 1 when a policy is broken or could not judge a document (cannot evaluate, failed "
        "at run time, ran out of time), or a chosen Rego package is missing: nothing goes unjudged in silence",
    )
    validate.set_defaults(handler=validate_command, needs_session=False)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse's ``type``)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"not a number of seconds above 0: {text!r}")
    return seconds


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


class CatalogCheck:
    """The catalog's own validation of some paths: findings in file and line order, each marked error or warning."""

    def __init__(self, paths: list[str]) -> None:
        source = LocalCatalogSource(paths, use_cache=False)
        catalog = source.load()
        template_problems, self.warnings = _template_findings(catalog)
        self.problems = catalog.problems + template_problems
        self.findings: list[tuple[Problem, str]] = sorted(
            [(problem._replace(path=display_path(problem.path)), "error") for problem in self.problems]
            + [(warning._replace(path=display_path(warning.path)), "warning") for warning in self.warnings],
            key=lambda item: (item[0].path, item[0].line, item[0].message),
        )
        self.entities = len(catalog)
        self.files = source.stats.files

    def summary(self) -> str:
        summary = count(len(self.problems), "problem")
        if self.warnings:
            summary += f", {count(len(self.warnings), 'warning')}"
        return summary + f"; {count(self.entities, 'valid entity')} in {count(self.files, 'file')}"

    def results(self) -> list[PolicyResult]:
        """The findings as verdicts of the ``backstage`` engine, for the JSON and SARIF lists."""
        from ..policy.models import PolicyResult

        return [
            PolicyResult(
                problem.path, problem.line, -1, "", "", f"{CATALOG_ENGINE}.{problem.rule}", CATALOG_ENGINE,
                "deny" if severity == "error" else "warn", problem.message,
            )
            for problem, severity in self.findings
        ]  # fmt: skip


def validate_command(args: argparse.Namespace, session=None) -> int:
    output = args.format or "text"
    if args.policies:
        return _with_policies(args, output)
    check = CatalogCheck(args.paths)
    if output == "json":
        print_json([{**problem.to_json(), "severity": severity} for problem, severity in check.findings])
    elif output == "sarif":
        from ..policy.sarif import to_sarif

        print_json(to_sarif(check.results()))
    else:
        # A problem quotes the file's own text (a bad value, a key): no escape sequence of it reaches the terminal.
        write_lines(_line(problem, severity) for problem, severity in check.findings)
        sys.stderr.write(check.summary() + "\n")
    return 1 if check.problems or (args.fail_on_warn and check.warnings) else 0


def _line(problem: Problem, severity: str) -> str:
    """``file:line: entity: message``; a warning says so after the entity."""
    if severity == "error":
        return str(problem)
    return str(problem._replace(message=f"warning: {problem.message}"))


# -- with --policy -------------------------------------------------------------------------------------------------


def _looks_like_catalog_file(path: str) -> bool:
    """Whether the catalog's own checks apply to ``path``, decided as its directory scan decides: a folder (the
    catalog picks its files in it), or a file with a document of a catalog kind or a Backstage apiVersion, or one
    that does not parse but names ``backstage.io``. A file that cannot be read is left to the policies' reader,
    which says why."""
    if os.path.isdir(path):
        return True
    from ..bounded_read import read_regular_file
    from ..catalog.entity import KNOWN_KINDS
    from ..catalog.parsed_file import BACKSTAGE_API_GROUPS
    from ..catalog.yaml_docs import first_documents, load_documents
    from ..policy.reading import MAX_DOCUMENTS_PER_FILE

    try:
        text = read_regular_file(path, CATALOG_SNIFF_BYTES)[0].decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # The documents the policies read (a file of 900,000 was parsed whole here first: 18 s).
    documents, _ = load_documents(first_documents(text, MAX_DOCUMENTS_PER_FILE)[0])
    for document in documents:
        data = document.data if isinstance(document.data, dict) else {}
        if data.get("kind") in KNOWN_KINDS or str(data.get("apiVersion", "")).startswith(BACKSTAGE_API_GROUPS):
            return True
    return not documents and "backstage.io" in text


def _evaluate(args: argparse.Namespace) -> tuple[PolicyEvaluation, Any]:
    """Load the policies (each broken one said once, on stderr) and evaluate the paths."""
    from ..golden.helm import helm_only_on_disk
    from ..policy.evaluate import evaluate_files
    from ..policy.loading import load_policies
    from ..policy.text import format_problem, packages_not_found_lines

    manifest_packages, entity_packages = chosen_packages(args)
    policy_set = load_policies(
        args.policies, rego_namespace=manifest_packages or "main", catalog_namespace=entity_packages or "catalog"
    )
    try:
        # Broken policies, then those met while evaluating (one too slow on a document): each said once.
        for problem in policy_set.problems:
            error(format_problem(problem))
        for line in packages_not_found_lines(policy_set):
            error(line)
        if policy_set.is_empty:
            error(NO_POLICY)
        # A chart's templates are not YAML until Helm renders them: what it renders is judged instead.
        evaluation = evaluate_files(policy_set, args.paths, time_budget=args.time_budget, skip=helm_only_on_disk)
        evaluation = _joined(evaluation, _tool_builds(policy_set, args.paths, args.time_budget))
        loaded = set(policy_set.problems)
        for problem in evaluation.problems:
            if problem not in loaded:
                error(format_problem(problem))
    finally:
        policy_set.close()
    return evaluation, policy_set


def _tool_builds(policy_set, paths: list[str], time_budget: float | None) -> PolicyEvaluation:
    """What kustomize, Jsonnet and Helm build from their sources under ``paths`` (a folder, or a source's own
    folder), judged as a golden path's are (``kustomize build FOLDER``, ``jsonnet FILE``, ``helm template
    CHART``); a source that cannot be built is not judged (an input problem: the exit status is 1)."""
    from ..golden.deploy_tools import build_tool_sources
    from ..policy.evaluate import evaluate_texts
    from ..policy.models import InputProblem, PolicyEvaluation

    trees, problems = [], []
    for folder in dict.fromkeys(_tool_folder(path) for path in paths):
        if folder is None:
            continue
        try:
            files = _read_tool_folder(folder)
        except OSError as refused:
            problems.append(InputProblem(display_path(folder), 1, f"not built: {refused}"))
            continue
        if files is not None:
            shown = display_path(folder)
            trees.append(("" if shown == "." else shown, files))
    names = [posixpath.join(where, name) for where, files in trees for name in files]
    builds = build_tool_sources(names, lambda: trees)
    built = evaluate_texts(policy_set, builds.manifests, time_budget=time_budget) if builds.manifests else None
    problems += [InputProblem(file, 1, f"not judged: {why}") for file, why in builds.unjudged]
    return _joined(built or PolicyEvaluation(), PolicyEvaluation(input_problems=tuple(problems)))


def _read_tool_folder(folder: str) -> dict[str, bytes] | None:
    """The files of ``folder`` a tool builds from (None when it holds no source). A chart's folder is read as
    Helm reads it, as a golden path's files are: its hidden files and links inside it too.

    Raises:
        OSError: the folder could not be read within the budgets (said in the message).
    """
    from ..golden.build_sandbox import read_folder
    from ..golden.deploy_tools import is_tool_source
    from ..golden.guardrails import GuardrailError, read_tree
    from ..golden.helm import CHART_FILE

    if not os.path.isfile(os.path.join(folder, CHART_FILE)):
        return read_folder(Path(folder), is_tool_source)
    try:
        return read_tree(Path(folder))
    except GuardrailError as refused:
        raise OSError(str(refused)) from None


def _tool_folder(path: str) -> str | None:
    """The folder whose tools' sources are built for ``path``: the chart it is in or is (its templates are judged
    only as Helm renders them, and any of its files can be a values file), itself (a folder), a source's own
    folder; None for another file."""
    from ..golden.deploy_tools import is_tool_source
    from ..golden.helm import chart_holding

    chart = chart_holding(path)
    if chart is not None:  # a template, a values file: what the chart renders with them is judged
        return os.path.relpath(chart)
    if os.path.isdir(path):
        return path
    return os.path.dirname(path) or "." if is_tool_source(path) else None


def _at_source(result: PolicyResult) -> PolicyResult:
    """A verdict on what a tool built, located at the file it built it from (code scanning shows results only on
    the repository's files), the built document's place said in the message."""
    from ..golden.helm import CHART_FILE, PACKAGED_SUFFIXES
    from ..golden.helm_renders import BUILT_PREFIX as HELM
    from ..golden.helm_renders import source_of
    from ..golden.jsonnet import BUILT_PREFIX as JSONNET
    from ..golden.kustomize import BUILT_PREFIX as KUSTOMIZE
    from ..golden.kustomize import KUSTOMIZATION_NAMES

    if result.file.startswith(JSONNET):
        source = result.file.removeprefix(JSONNET)
    elif result.file.startswith(HELM):
        chart = source_of(result.file)
        packaged = chart.endswith(PACKAGED_SUFFIXES) and os.path.isfile(chart)
        source = chart if packaged else os.path.join(chart, CHART_FILE)
    elif result.file.startswith(KUSTOMIZE):
        folder = result.file.removeprefix(KUSTOMIZE)
        source = next(
            (path for name in KUSTOMIZATION_NAMES if os.path.isfile(path := os.path.join(folder, name))),
            os.path.join(folder, KUSTOMIZATION_NAMES[0]),
        )
    else:
        return result
    built = f"in what `{result.file}` builds, line {result.line}"
    return replace(result, file=source, line=1, message=f"{result.message} ({built})")


def _joined(first: PolicyEvaluation, second: PolicyEvaluation) -> PolicyEvaluation:
    """Two evaluations as one (each problem once)."""
    return replace(
        first,
        results=(*first.results, *second.results),
        problems=tuple(dict.fromkeys((*first.problems, *second.problems))),
        input_problems=(*first.input_problems, *second.input_problems),
        documents=first.documents + second.documents,
    )


def _with_policies(args: argparse.Namespace, output: str) -> int:
    from ..golden.helm import helm_only_on_disk

    # A chart's template names backstage.io in its labels, but is not YAML until Helm renders it.
    catalog_paths = [path for path in args.paths if _looks_like_catalog_file(path) and not helm_only_on_disk(path)]
    check = CatalogCheck(catalog_paths) if catalog_paths else None
    evaluation, policy_set = _evaluate(args)
    results = [_displayed(result) for result in evaluation.results]
    # A file both readers could not parse is said once, by the catalog (in Backstage's words); only by an error of
    # its own: a warning at the same line (an action idp-tui lacks) fails nothing.
    errors = [problem for problem, severity in check.findings if severity == "error"] if check else []
    said = {(problem.path, problem.line) for problem in errors}
    unread = [
        replace(problem, file=display_path(problem.file))
        for problem in evaluation.input_problems
        if (display_path(problem.file), problem.line) not in said
    ]
    # One list in file and line order (each document's verdicts in the order they were found).
    every = sorted([*(check.results() if check else []), *results], key=lambda result: (result.file, result.line))
    if output == "json":
        print_json([_result_json(result) for result in every])
        _say_unread(unread)
    elif output == "sarif":
        from ..policy.sarif import to_sarif

        located = [_at_source(result) for result in every]
        print_json(to_sarif(located, evaluation.problems, policy_set=policy_set, input_problems=unread))
    else:
        write_lines(line for _, line in sorted(_text_lines(check, results, unread)))
        summary = f"{check.summary()}; " if check else ""
        sys.stderr.write(summary + _policy_summary(evaluation) + "\n")
    warned = evaluation.warned or bool(check and check.warnings)
    # A --policy path that is not there, or policies that judge nothing, would let every check pass unjudged.
    missing = bool(policy_set.missing_sources)
    failed = evaluation.denied or bool(unread) or bool(check and check.problems) or missing or policy_set.is_empty
    unjudged = bool(evaluation.problems or policy_set.packages_not_found())
    return 1 if failed or (args.fail_on_warn and warned) or (args.fail_on_problem and unjudged) else 0


def _displayed(result: PolicyResult) -> PolicyResult:
    return replace(result, file=display_path(result.file))


def _text_lines(
    check: CatalogCheck | None, results: list[PolicyResult], unread: list[InputProblem]
) -> list[tuple[tuple[str, int], str]]:
    """Every finding as ``((file, line), text)``, to be sorted into one list."""
    from ..policy.text import format_input_problem, format_result

    lines = (
        [((problem.path, problem.line), _line(problem, severity)) for problem, severity in check.findings]
        if check
        else []
    )
    lines += [((result.file, result.line), format_result(result)) for result in results]
    lines += [((problem.file, problem.line), format_input_problem(problem)) for problem in unread]
    return lines


def _say_unread(unread: list[InputProblem]) -> None:
    from ..policy.text import format_input_problem

    for problem in unread:
        error(format_input_problem(problem))


def _result_json(result: PolicyResult) -> dict[str, Any]:
    """``{file, line, document, kind, name, policy, engine, action, message}`` (and ``reason`` when a
    ValidatingAdmissionPolicy gave one); ``document`` is null for the catalog's own findings."""
    item: dict[str, Any] = {
        "file": result.file,
        "line": result.line,
        "document": result.document_index if result.document_index >= 0 else None,
        "kind": result.kind,
        "name": result.name,
        "policy": result.policy,
        "engine": result.engine,
        "action": result.action,
        "message": result.message,
    }
    if result.reason:
        item["reason"] = result.reason
    return item


def _policy_summary(evaluation: PolicyEvaluation) -> str:
    actions = Counter(result.action for result in evaluation.results)
    summary = f"policies: {actions['deny']} denied, {count(actions['warn'], 'warning')}"
    if actions["audit"]:
        summary += f", {actions['audit']} audited"
    if actions["exception"]:
        summary += f", {actions['exception']} excepted"
    return summary + f" in {count(evaluation.documents, 'document')}"

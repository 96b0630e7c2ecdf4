"""A policy set as the other domains see it: golden-path guardrails and catalog problems.

An adapter: the session hands :class:`PolicyGuardrails` to the template runners (they know only
:class:`~idp_tui.golden.guardrails.Guardrails`), and puts :func:`catalog_guardrail_problems` among the catalog's
problems (the catalog package never imports this one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..catalog.problems import GUARDRAIL_RULE, Problem
from ..golden.guardrails import GuardrailError, GuardrailFinding, GuardrailReport
from .models import PolicyEvaluation, PolicySet
from .text import format_input_problem, format_problem

MANAGED_BY = "backstage.io/managed-by-location"
PREFIXES = {
    "warn": "warning: ",
    "audit": "audit: ",
    "exception": "excepted: ",
}  # a deny is a problem like any other: no prefix


def unjudged_lines(evaluation: PolicyEvaluation, policy_set: PolicySet) -> list[str]:
    """The problems met evaluating (a policy too slow on a document, failing on it...), as lines: the policy set's
    own load problems are left out, since whoever loaded it said them once already."""
    loaded = set(policy_set.problems)
    return [format_problem(problem) for problem in evaluation.problems if problem not in loaded]


class PolicyGuardrails:
    """:class:`~idp_tui.golden.guardrails.Guardrails` backed by a policy set, loaded on the first check.

    Args:
        policy_set: makes (or returns the already loaded) policy set; None when there are no policies.
    """

    def __init__(self, policy_set: Callable[[], PolicySet | None]) -> None:
        self._policy_set = policy_set

    def check(self, files: Mapping[str, bytes]) -> GuardrailReport:
        """Every document of ``files`` evaluated by the manifest and catalog packages and the admission policies.

        Raises:
            GuardrailError: the policies could not be loaded or evaluated at all.
        """
        from .evaluate import evaluate_texts
        from .parallel import start_spare

        try:
            policy_set = self._policy_set()
            if policy_set is None:
                return GuardrailReport(files=len(files))
            # A golden path is checked again and again (each preview, then the run): once a second worker has
            # started, where there are two cores, the Rego rules and the admission policies run side by side.
            start_spare(policy_set)
            evaluation = evaluate_texts(policy_set, files)
        except Exception as error:  # noqa: BLE001 - any failure of the engines stops the run, in words
            raise GuardrailError(f"the policies could not be evaluated: {type(error).__name__}: {error}") from None
        findings = tuple(
            GuardrailFinding(r.file, r.line, r.action, r.policy, r.message, r.engine, r.kind, r.name)
            for r in evaluation.results
        )
        # Whatever could not be read blocks the run, as conftest fails on a file it cannot parse: kubectl reads more
        # than YAML 1.2 (UTF-16, a JSON stream, text after a bad document, YAML 1.1's merge keys), so a file the
        # policies could not read may still be applied unjudged.
        unread = tuple(format_input_problem(problem) for problem in evaluation.input_problems)
        unjudged = (*unjudged_lines(evaluation, policy_set), *unread)
        return GuardrailReport(findings, evaluation.documents, len(files), unjudged)


def _where(entity: Any) -> tuple[str, int]:
    source = getattr(entity, "source", None)
    if source is not None and getattr(source, "path", ""):
        return source.path, source.line
    # A remote catalog's entity: where Backstage read it from, else its ref.
    annotations = (entity.raw.get("metadata") or {}).get("annotations") or {}
    location = annotations.get(MANAGED_BY) if isinstance(annotations, dict) else None
    return (location if isinstance(location, str) and location else entity.key), 1


def catalog_guardrail_problems(policy_set: PolicySet, entities: Iterable[Any]) -> list[Problem]:
    """What the catalog packages' Rego rules (``catalog`` by default) say about ``entities``, as catalog problems:
    ``file:line: entity: <policy>: <message>`` (``warning: `` before a warning), rule ``guardrail``.

    Args:
        policy_set: the session's policies.
        entities: catalog entities (``raw``, ``key``, ``source`` with ``path`` and ``line``, or None).
    """
    from .evaluate import evaluate_entities

    catalog_packages = policy_set.catalog_namespaces
    if not any("*" in catalog_packages or rule.package in catalog_packages for rule in policy_set.rego_rules):
        return []  # nothing would speak: no worker is asked
    # Several entities can share a place (a multi-document file; every entity a remote location provided): the
    # n-th entity of a place is the document whose index evaluate_entities gives it, so each verdict names its own.
    by_document: dict[tuple[str, int], str] = {}
    per_file: dict[str, int] = {}
    documents = []
    for entity in entities:
        file, line = _where(entity)
        index = per_file.get(file, 0)
        per_file[file] = index + 1
        by_document[(file, index)] = entity.key
        documents.append((file, line, entity.raw))
    evaluation = evaluate_entities(policy_set, documents)
    problems = []
    for result in evaluation.results:
        if result.action == "exception":
            continue  # the policy itself excepts the entity: not a problem of the catalog
        message = f"{PREFIXES.get(result.action, '')}{result.policy}: {result.message}"
        entity_key = by_document.get((result.file, result.document_index))
        problems.append(Problem(result.file, result.line, message, GUARDRAIL_RULE, entity_key))
    return problems

"""Policy verdicts and problems as lines of text: ``file:line: DENY policy: message``.

Messages are written by policy authors, so each line is cleaned of escape sequences and control characters
(``safe_text.clean``) before a terminal sees it.
"""

from __future__ import annotations

from ..safe_text import clean
from .models import InputProblem, PolicyProblem, PolicyResult, PolicySet


def format_result(result: PolicyResult) -> str:
    """``deploy.yaml:12: DENY main.deny_latest_tag: container app uses :latest``."""
    return clean(
        f"{result.file}:{result.line}: {result.action.upper()} {result.policy}: {result.message}", one_line=True
    )


def format_problem(problem: PolicyProblem) -> str:
    """``policies/limits.yaml:14: policy require-limits: spec.validations[0].expression: invalid CEL: …``."""
    who = f"policy {problem.policy}" if problem.policy else "policy"
    return clean(f"{problem.file}:{problem.line}: {who}: {problem.message}", one_line=True)


def format_input_problem(problem: InputProblem) -> str:
    """``deploy.yaml:3: invalid YAML: …``."""
    return clean(f"{problem.file}:{problem.line}: {problem.message}", one_line=True)


def packages_not_found_lines(policy_set: PolicySet) -> list[str]:
    """``no Rego package k8s among the policies (they declare main, catalog): its rules judge nothing``, one for
    each chosen package that no policy declares."""
    declared = sorted({module.package for module in policy_set.rego_modules})
    having = f"they declare {', '.join(declared)}" if declared else "no Rego module loads"
    return [
        clean(f"no Rego package {package} among the policies ({having}): nothing is judged by it", one_line=True)
        for package in policy_set.packages_not_found()
    ]

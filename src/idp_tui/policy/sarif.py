"""Policy verdicts as SARIF 2.1.0, the format CI code scanning (GitHub, GitLab, Azure DevOps) shows inline.

One run, tool ``idp-tui``: a rule per policy, a result per verdict (deny: ``error``, warn: ``warning``, audit:
``note``) located at the document's first line, with paths relative to ``base`` (the current directory by default)
under the ``%SRCROOT%`` base id, as code scanning expects. Broken policies are the run's tool configuration
notifications, located at the policy file. Checked against the OASIS JSON schema in the tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import idp_tui

from .models import InputProblem, PolicyProblem, PolicyResult, PolicySet

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"deny": "error", "warn": "warning", "audit": "note", "exception": "note"}
SRCROOT = "%SRCROOT%"
ENGINE_WORDS = {"rego": "Rego rule", "vap": "ValidatingAdmissionPolicy", "backstage": "Backstage catalog rule"}


def _location(file: str, line: int, base: str) -> dict[str, Any]:
    bundle_member = ""
    if "!/" in file:
        file, bundle_member = file.split("!/", 1)
    absolute = os.path.abspath(file)
    relative = os.path.relpath(absolute, base)
    if relative.startswith(os.pardir + os.sep) or relative == os.pardir or os.path.isabs(relative):
        artifact: dict[str, Any] = {"uri": Path(absolute).as_uri()}
    else:
        # A name that is not UTF-8 reaches Python with its bytes as surrogates: they are percent-encoded as bytes.
        uri = quote(relative.replace(os.sep, "/"), safe="/", errors="surrogateescape")
        artifact = {"uri": uri, "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact, "region": {"startLine": max(1, int(line))}}
    location: dict[str, Any] = {"physicalLocation": physical}
    if bundle_member:
        location["message"] = {"text": f"in the bundle, at {bundle_member}"}
    return location


def _rule_level(result: PolicyResult) -> str:
    """The level of the rule that gave ``result``: an excepted result is a note, but its rule denies or warns."""
    if result.action != "exception":
        return LEVELS[result.action]
    return LEVELS["warn" if result.policy.rsplit(".", 1)[-1].startswith("warn") else "deny"]


def _rule_descriptions(policy_set: PolicySet | None) -> dict[str, str]:
    if policy_set is None:
        return {}
    described = {rule.policy: f"Rego rule {rule.policy} ({rule.file}:{rule.line})" for rule in policy_set.rego_rules}
    for policy in policy_set.policies:
        described[policy.name] = f"ValidatingAdmissionPolicy {policy.name} ({policy.file}:{policy.line})"
    return described


def to_sarif(
    results: list[PolicyResult] | tuple[PolicyResult, ...],
    problems: list[PolicyProblem] | tuple[PolicyProblem, ...] = (),
    *,
    base: str | os.PathLike | None = None,
    policy_set: PolicySet | None = None,
    input_problems: list[InputProblem] | tuple[InputProblem, ...] = (),
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of ``results`` and ``problems``.

    Args:
        results: the verdicts.
        problems: broken or unevaluable policies (tool configuration notifications).
        base: the folder paths are made relative to (``%SRCROOT%``); the current directory by default.
        policy_set: when given, each rule says where the policy is defined.
        input_problems: files that could not be read or parsed (tool execution notifications).
    """
    base = os.path.abspath(os.fspath(base) if base is not None else os.getcwd())
    descriptions = _rule_descriptions(policy_set)
    rules: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        if result.policy not in index_of:
            index_of[result.policy] = len(rules)
            engine = ENGINE_WORDS.get(result.engine, result.engine)
            rules.append(
                {
                    "id": result.policy,
                    "shortDescription": {"text": descriptions.get(result.policy, f"{engine} {result.policy}")},
                    "defaultConfiguration": {"level": _rule_level(result)},
                    "properties": {"engine": result.engine},
                }
            )
        properties: dict[str, Any] = {
            "engine": result.engine,
            "action": result.action,
            "kind": result.kind,
            "name": result.name,
        }
        if result.document_index >= 0:
            properties["document"] = result.document_index
        if result.reason:
            properties["reason"] = result.reason
        sarif_result = {
            "ruleId": result.policy,
            "ruleIndex": index_of[result.policy],
            "level": LEVELS[result.action],
            "message": {"text": result.message or f"{result.policy} failed"},
            "locations": [_location(result.file, result.line, base)],
            "properties": properties,
        }
        if result.action == "exception":  # excepted by the policy's own exception rule: code scanning hides it
            sarif_result["suppressions"] = [{"kind": "inSource", "justification": "a conftest exception rule"}]
        sarif_results.append(sarif_result)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{problem.policy}: {problem.message}" if problem.policy else problem.message},
            "locations": [_location(problem.file, problem.line, base)],
        }
        for problem in problems
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "idp-tui",
                "version": idp_tui.__version__,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path(base).as_uri().rstrip("/") + "/"}},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": notifications,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": problem.message},
                        "locations": [_location(problem.file, problem.line, base)],
                    }
                    for problem in input_problems
                ],
            }
        ],
        "results": sarif_results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}

"""Policy-as-code guardrails: Rego (regopy, conftest's conventions) and Kubernetes ValidatingAdmissionPolicies
(CEL), evaluated on rendered manifests and catalog entities in a bounded worker process.

    policy_set = load_policies(["policies/"])            # problems: policy_set.problems
    evaluation = evaluate_files(policy_set, ["out/"])    # evaluation.results, .problems, .exit_status()
    policy_set.close()

The names below are imported on first use, so importing the package costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "PolicyResult": "models",
    "PolicyProblem": "models",
    "InputProblem": "models",
    "PolicySet": "models",
    "PolicyEvaluation": "models",
    "load_policies": "loading",
    "evaluate_documents": "evaluate",
    "evaluate_files": "evaluate",
    "evaluate_entities": "evaluate",
    "evaluate_rendered": "evaluate",
    "evaluate_texts": "evaluate",
    "read_documents": "evaluate",
    "read_texts": "evaluate",
    "PolicyGuardrails": "guardrails",
    "catalog_guardrail_problems": "guardrails",
    "to_sarif": "sarif",
    "format_result": "text",
    "format_problem": "text",
    "format_input_problem": "text",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)

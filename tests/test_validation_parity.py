"""Parity of ``validate_entity`` with a real Backstage catalog.

``fixtures/validation_cases.yaml`` holds entities together with what a real Backstage backend
(@backstage/plugin-catalog-backend 4.0.5 with the scaffolder entity model, the idp-tui harness) answered
for each of them on ``POST /api/catalog/validate-entity``. It was recorded on 2026-11-24 by
``fixtures/record_validation_cases.py``; this test needs no network and only reads that file.

For every case it checks that the verdict is the same, and for rejected entities that one of our
problems belongs to the stage Backstage failed at and carries Backstage's core message (Backstage
stops at its first error; we report every problem, so one of ours has to match that first one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from idp_tui.catalog.validation import Verdict, validate_entity

FIXTURE = Path(__file__).parent / "fixtures" / "validation_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))

_CAUSE = re.compile(r"; caused by (?:Type)?Error: ")
_LEARN_MORE = " To learn more about catalog file format"
_AJV_TAIL = re.compile(r" - \w+: .*$", re.DOTALL)
_NOT_RECOGNISED = "No processor recognized"


def expected_rule(message: str) -> str:
    """Our rule for the stage Backstage's error comes from, told by its message prefix."""
    if message.startswith("Policy check failed"):
        return "policy"
    if "threw an error while validating" in message or message.startswith(_NOT_RECOGNISED):
        return "kind"
    if "threw an error while postprocessing" in message:
        return "relation"
    return "envelope"


def core_message(message: str) -> str:
    """The part of a Backstage error our message must contain (no wrapper, ajv tail or docs link)."""
    if message.startswith(_NOT_RECOGNISED):
        return message[: message.index(" apiVersion") + len(" apiVersion")]
    core = _CAUSE.split(message, maxsplit=1)[-1].split(_LEARN_MORE)[0]
    if expected_rule(message) in ("envelope", "kind"):  # ajv-thrown: drop its " - param: value" tail
        core = _AJV_TAIL.sub("", core)
    return core


def describe(verdict: Verdict) -> str:
    """Our problems, one a line, for assertion messages."""
    lines = (f"  [{rule}] {'.'.join(map(str, path))}: {message}" for path, rule, message in verdict.problems)
    return "\n".join(lines)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_same_verdict_as_backstage(case: dict[str, Any]) -> None:
    verdict = validate_entity(case["entity"])
    accepted = case["backstage"]["status"] == 200
    errors = case["backstage"]["errors"]
    assert verdict.ok == accepted, f"Backstage says {errors or 'OK'}; we found:\n{describe(verdict)}"
    if accepted:
        return

    first = errors[0]
    rule, core = expected_rule(first), core_message(first)
    messages = [message for _, problem_rule, message in verdict.problems if problem_rule == rule]
    assert messages, f"expected a {rule!r} problem for {first!r}; we found:\n{describe(verdict)}"
    assert any(core in message for message in messages), (
        f"no {rule!r} message contains {core!r}; we found:\n{describe(verdict)}"
    )

"""Parity of ``validate_entity`` with a real Backstage catalog.

``fixtures/validation_cases.yaml`` holds entities together with what a real Backstage backend
(@backstage/plugin-catalog-backend 4.0.5 with the scaffolder entity model, the idp-tui harness) answered
for each of them on ``POST /api/catalog/validate-entity``. It was recorded on 2026-11-24 by
``fixtures/record_validation_cases.py``; this test needs no network and only reads that file.

For every case it checks that the verdict is the same, and for rejected entities that one of our
problems belongs to the stage Backstage failed at and carries Backstage's core message (Backstage
stops at its first error; we report every problem, so one of ours has to match that first one).

``fixtures/yaml_file_cases.yaml`` holds catalog files as YAML text (repeated keys, ``<<`` merge keys, a
template with actions idp-tui lacks) with what the same backend made of each when it read the file from a
``url`` Location (``fixtures/record_yaml_file_cases.py``): the error, or the entities it read, and which of
them it listed once the location was registered. Each file is read by idp-tui's local catalog and checked
by ``idp-tui validate``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.refs import entity_key
from idp_tui.catalog.validation import Verdict, validate_entity
from idp_tui.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "validation_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
FILE_FIXTURE = Path(__file__).parent / "fixtures" / "yaml_file_cases.yaml"
FILE_CASES: list[dict[str, Any]] = yaml.safe_load(FILE_FIXTURE.read_text(encoding="utf-8"))

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


TEMPLATES_ACCEPTED = [
    case
    for case in CASES
    if case["backstage"]["status"] == 200 and isinstance(case["entity"], dict) and case["entity"]["kind"] == "Template"
]


@pytest.mark.parametrize("case", TEMPLATES_ACCEPTED, ids=[case["id"] for case in TEMPLATES_ACCEPTED])
def test_a_template_backstage_accepts_has_at_most_warnings(case: dict[str, Any]) -> None:
    """``validate`` runs template checks beyond the catalog's: none of them may fail a template Backstage accepts
    (an action idp-tui lacks is a warning: a Backstage scaffolder that has it runs the step)."""
    from idp_tui.golden.actions import builtin_actions
    from idp_tui.golden.template_checks import template_problems

    found = template_problems(case["entity"], set(builtin_actions()))
    assert all(problem.warning for problem in found), found
    unknown = {step.get("action") for step in case["entity"]["spec"]["steps"]} - set(builtin_actions())
    assert len(found) == len(unknown)


_YAML_ERROR = re.compile(r"YAMLParseError: (?P<message>[^\n]+) at line (?P<line>\d+), column (?P<column>\d+)")
_UNREADABLE = "Error: Unable to read url, "  # the yaml package threw while building the data (a bad !!merge)
_ERROR_CLASS = re.compile(r"^(?:Input|Type)?Error: ")


def _check_file_error(first: str, problems: list) -> None:
    """One of our problems is Backstage's first error: a YAML error at the same line and column, or the same
    validation message at the same stage."""
    found = "\n".join(f"  [{p.rule}] {p.line}: {p.message}" for p in problems)
    yaml_error = _YAML_ERROR.search(first)
    if yaml_error:
        line, column = int(yaml_error["line"]), yaml_error["column"]
        assert any(
            p.rule == "yaml"
            and p.line == line
            and yaml_error["message"] in p.message
            and f"column {column}" in p.message
            for p in problems
        ), f"expected a YAML problem at {line}:{column} saying {yaml_error['message']!r}; we found:\n{found}"
        return
    if first.startswith(_UNREADABLE):
        core = first[len(_UNREADABLE) :]
        assert any(p.rule == "yaml" and core in p.message for p in problems), f"no {core!r} in:\n{found}"
        return
    message = _ERROR_CLASS.sub("", first)
    rule, core = expected_rule(message), core_message(message)
    assert any(p.rule == rule and core in p.message for p in problems), f"no [{rule}] {core!r} in:\n{found}"


@pytest.mark.parametrize("case", FILE_CASES, ids=[case["id"] for case in FILE_CASES])
def test_same_verdict_as_backstage_reading_the_file(case: dict[str, Any], tmp_path: Path, capsys) -> None:
    path = tmp_path / "catalog-info.yaml"
    path.write_text(case["yaml"], encoding="utf-8")
    catalog = LocalCatalogSource([path], use_cache=False).load()
    recorded = case["backstage"]
    accepted = recorded["status"] != 400

    assert (not catalog.problems) == accepted, f"Backstage says {recorded['errors'] or 'OK'}; we: {catalog.problems}"
    if accepted:
        # The data is what Backstage's YAML reader made of the file: a plain << stays a key.
        ours = {entity.key: entity.raw for entity in catalog.entities}
        for theirs in recorded["entities"]:
            metadata = theirs["metadata"]
            raw = ours[entity_key(theirs["kind"], metadata["namespace"], metadata["name"])]
            assert dict(raw, metadata={"namespace": "default", **raw["metadata"]}) == theirs
    else:
        _check_file_error(recorded["errors"][0], catalog.problems)

    listed = sorted(entity.key for entity in catalog.entities)
    registered = case["registered"]["entities"]
    if accepted or case["yaml"].count("\n---\n") == 0:
        assert listed == registered
    else:
        # Backstage's file reader drops every document of a file it cannot parse; idp-tui keeps the
        # other documents and reports the broken one (README "Hostile input").
        assert set(registered) <= set(listed)

    # The command a user runs: exit status 1 exactly when Backstage refuses the file.
    status = main(["validate", "--json", str(path)])
    findings = json.loads(capsys.readouterr().out)
    assert status == (0 if accepted else 1), findings
    assert all(finding["severity"] == "warning" for finding in findings) == accepted

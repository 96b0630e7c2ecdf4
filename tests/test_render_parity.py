"""Parity of the template engine's dry run with a real Backstage scaffolder.

``fixtures/scaffolder_cases_recorded.json`` holds, for every case of ``fixtures/scaffolder_cases.yaml``, the
dry-run request (a Template, its values and uploaded files) and what a real Backstage backend
(plugin-scaffolder-backend 4.3.0, which renders ``${{ }}`` with nunjitsu 0.7.0) answered on
``POST /api/scaffolder/v2/dry-run``. It was recorded by ``fixtures/record_scaffolder_cases.py``;
this test needs no network and only reads that file.

For each case ``dry_run_template`` must give the same rendered ``spec.output`` (JSON values with their
types: ``5`` is not ``"5"``, ``false`` is not ``0``, an absent key is not ``null``), the same workspace
files byte for byte and the same executable bits. Where Backstage refused the request we must fail
too; the message is compared only for cases marked ``match_message`` (Backstage's own wording for
path escapes and invalid inputs, which idp-tui reproduces), not for template-engine diagnostics.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from idp_tui.golden.dry_run import dry_run_template

FIXTURE = Path(__file__).parent / "fixtures" / "scaffolder_cases_recorded.json"
RECORDING: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = RECORDING["cases"]


def typed(value: Any) -> Any:
    """``value`` with JSON types made explicit, so that ``True != 1`` and ``1 == 1.0`` (one JSON number)."""
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", [typed(item) for item in value])
    if isinstance(value, dict):
        return ("object", {key: typed(item) for key, item in value.items()})
    return ("unexpected", repr(value))


def file_bytes(item: dict[str, Any]) -> bytes:
    return base64.b64decode(item["base64"]) if "base64" in item else item["text"].encode("utf-8")


def request_of(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    request = case["request"]
    values = RECORDING["shared_values"] if request.get("shared_values") else request["values"]
    files = {path: file_bytes(item) for path, item in request["files"].items()}
    return request["template"], json.loads(json.dumps(values)), files


# Where idp-tui's Jinja2-based engine knowingly differs from Backstage's nunjitsu; each must still fail
# (strict), so a fix is noticed and the entry removed.
KNOWN_DIFFERENCES = {
    "value-literal-capital-true": "Jinja2 reads True as a literal; nunjucks reads it as an undefined variable",
    "context-steps-count": "Backstage's dry run adds a hidden step of its own to `steps`",
    "filter-replace-regex": "nunjucks regex literals (r/.../g) do not parse in Jinja2",
    "method-slice-string": "Jinja2 slices strings itself, before the sandbox sees the slice",
    "op-loose-equal": "JavaScript's loose equality (1 == '1') is not reproduced in comparisons",
}


def _marked(case: dict[str, Any]):
    reason = KNOWN_DIFFERENCES.get(case["id"])
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_marked(case) for case in CASES])
def test_same_dry_run_as_backstage(case: dict[str, Any]) -> None:
    template, values, files = request_of(case)
    result = dry_run_template(template, values, files)
    expected = case["response"]

    if expected["status"] != 200:
        message = expected["error"]["message"]
        assert result.error is not None, f"Backstage failed ({expected['status']}: {message}); we succeeded"
        if case.get("match_message"):
            assert message in result.error
        return

    assert result.error is None, f"Backstage succeeded; we failed with {result.error!r}"
    assert typed(result.output) == typed(expected["output"])
    expected_files = {item["path"]: file_bytes(item) for item in expected.get("files", [])}
    assert result.files == expected_files
    assert result.executables == {item["path"] for item in expected.get("files", []) if item["executable"]}

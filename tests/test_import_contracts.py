"""The layers of DESIGN.md hold: import-linter's contracts (pyproject.toml) pass, and screens never probe the app."""

from __future__ import annotations

import re
from pathlib import Path

from lint_imports import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    result = lint_imports([])
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_the_contracts_see_the_screens(tmp_path):
    # Plain lint-imports in this checkout reads src/idp_tui alone: a contract on a screen would hold vacuously.
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["idp_tui"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "a contract the home screen breaks"\n'
        'type = "forbidden"\n'
        'source_modules = ["idp_tui.screens.home"]\n'
        'forbidden_modules = ["idp_tui.widgets.entity_list"]\n'
    )
    result = lint_imports([str(config)])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "idp_tui.screens.home -> idp_tui.widgets.entity_list" in result.stdout, result.stdout


def test_screens_reach_the_app_only_through_its_declared_host():
    # screens/host.py types what a screen may ask of the app; probing it with getattr would hide a missing method.
    probes = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "screens").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\b(getattr|hasattr)\(\s*self\.app\b", line)
    ]
    assert probes == []

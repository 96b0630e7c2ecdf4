"""Check the import contracts (``[tool.importlinter]`` in pyproject.toml) over idp_tui laid out as it installs.

    .venv/bin/python tests/lint_imports.py            # any option of ``lint-imports`` may follow

Why not plain ``lint-imports``: import-linter's graph (grimp) reads a package from the one folder
``importlib`` names for it, and in this checkout that is ``src/idp_tui``: ``idp_tui.screens`` and
``idp_tui.themes`` live in top-level folders (pyproject's ``package-dir``), so plain ``lint-imports`` would never
see a screen. This lays the package out in a temporary folder as a wheel does (symlinks, following
``package-dir``), puts that folder first on ``PYTHONPATH`` and runs ``lint-imports`` there, without a cache.
The exit status is lint-imports' own: 0 when every contract is kept.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage_package(into: Path, root: Path = ROOT) -> None:
    """Lay the package out under ``into`` as an install does: each ``package-dir`` folder at its package's path."""
    mapping: dict[str, str] = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    # Parents before children: a subpackage's link goes inside its parent's staged folder.
    for package, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        target = into.joinpath(*package.split("."))
        source = root / folder
        if target.parent != into and not target.parent.is_dir():
            raise SystemExit(f"pyproject.toml: package-dir maps {package} but not its parent package")
        if target.parent == into:
            # The top package is a real folder of links, so its subpackages from elsewhere can sit beside them.
            target.mkdir()
            for child in source.iterdir():
                if child.name != "__pycache__":
                    (target / child.name).symlink_to(child, target_is_directory=child.is_dir())
        else:
            target.symlink_to(source, target_is_directory=True)


def lint_imports(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` (from this interpreter's environment) on the staged package; its output and status."""
    with tempfile.TemporaryDirectory(prefix="idp-tui-imports-") as folder:
        stage_package(Path(folder))
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")])),
        }
        command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
        return subprocess.run(
            [*command, "--no-cache", "--no-logo", *arguments],
            cwd=ROOT,  # where pyproject.toml holds the contracts
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )


def main() -> int:
    result = lint_imports(sys.argv[1:])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

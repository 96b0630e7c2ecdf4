"""Packaging: a regular (non-editable) install works from any directory, with screens, themes and demo."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {
    "idp_tui": "src/idp_tui",
    "idp_tui.screens": "screens",
    "idp_tui.themes": "themes",
    "idp_tui.demo_catalog": "demo_catalog",
}


def test_every_package_folder_is_listed_in_pyproject():
    """An explicit packages list drops a forgotten subpackage from the wheel only: keep them in step."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == PACKAGE_DIRS
    found = set()
    for package, folder in PACKAGE_DIRS.items():
        # Below demo_catalog everything is data (skeletons hold __init__.py files of the services they create).
        inits = [ROOT / folder / "__init__.py"] if folder == "demo_catalog" else (ROOT / folder).rglob("__init__.py")
        for init in inits:
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *relative.parts]))
    assert set(config["packages"]) == found


def _copy_sources(destination: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")
    for name in ("pyproject.toml", "README.md", "src", "screens", "themes", "demo_catalog"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with idp-tui installed from a built wheel; dependencies come from this environment."""
    work = tmp_path_factory.mktemp("packaging")
    sources, wheels, venv = work / "src", work / "wheels", work / "venv"
    sources.mkdir()
    _copy_sources(sources)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(sources),
        ],
        check=True,
        timeout=300,
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("idp_tui-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Let the new venv see this environment's third-party packages (textual, rich, ...) without downloads.
    Path(site_packages, "outer-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IDP_TUI_CATALOG")}
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_every_demo_file_is_in_the_install(installed):
    """Nested data (template skeletons, docs, API specs) must ship, dotfiles included."""
    purelib = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shipped = Path(purelib) / "idp_tui" / "demo_catalog"

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    assert files(ROOT / "demo_catalog") == files(shipped)


def test_installed_command_lists_the_demo_from_another_directory(installed, tmp_path):
    result = _run(installed, str(installed / "bin" / "idp-tui"), "catalog", "list", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entities = json.loads(result.stdout)
    assert len(entities) >= 60
    processor = next(e for e in entities if e["metadata"]["name"] == "payment-processor")
    location = processor["metadata"]["annotations"]["backstage.io/managed-by-location"]
    assert str(installed) in location and "demo_catalog" in location  # read from the install, not the checkout


def test_installed_tui_finds_its_screens_and_themes(installed, tmp_path):
    script = textwrap.dedent(
        """
        import asyncio, idp_tui
        from idp_tui.app import IdpApp
        from idp_tui.session import Session
        from idp_tui.widgets.entity_list import EntityList

        async def main():
            app = IdpApp(Session.for_catalog())
            async with app.run_test(size=(80, 24)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    if app.screen.query(EntityList) and app.screen.query_one(EntityList).entities:
                        break
                print(idp_tui.__file__, len(app.screen.query_one(EntityList).entities))

        asyncio.run(main())
        """
    )
    result = _run(installed, str(installed / "bin" / "python"), "-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    location, count = result.stdout.split()
    assert location.startswith(str(installed)) and int(count) >= 60

"""Golden-path benchmarks, as ratios against a baseline measured in the same run.

    .venv/bin/python tests/benchmarks/golden.py [--json FILE]

- fetch:template of a generated 1,000-file skeleton (target: under 1 s), against copying the same tree with
  shutil.copytree (the floor for any skeleton renderer: it reads and writes the same bytes).
- Opening a 30-field, three-page form (TemplateFormScreen) until its first page is on screen, against a screen
  of 30 plain Inputs (what any form needs to mount), both under the Pilot at 80x24.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

SKELETON_FILES = 1000
TARGET_FETCH_S = 1.0


def make_skeleton(root: Path, files: int) -> None:
    """Files spread over 50 directories, each with a few expressions in its name and content."""
    for index in range(files):
        folder = root / f"pkg{index % 50}" / "${{ values.name }}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"# {index}.{line}: ${{{{ values.name }}}} owned by ${{{{ values.owner }}}}\n" for line in range(20)
        )
        body += "{% if values.metrics %}metrics: true\n{% endif %}"
        (folder / f"file{index}_${{{{ values.name }}}}.py").write_text(body)


def bench_fetch(repeats: int) -> dict:
    from idp_tui.golden.actions.base import ActionContext, RunSettings
    from idp_tui.golden.actions.fetch import FetchTemplate

    work = Path(tempfile.mkdtemp(prefix="idp-tui-bench-golden-"))
    try:
        make_skeleton(work / "template" / "skeleton", SKELETON_FILES)
        settings = RunSettings(work / "repos", work / "registry")
        baseline, ours = [], []
        for attempt in range(repeats):
            copy_target = work / f"copy{attempt}"
            started = time.perf_counter()
            shutil.copytree(work / "template" / "skeleton", copy_target)
            baseline.append(time.perf_counter() - started)
            workspace = work / f"ws{attempt}"
            workspace.mkdir()
            ctx = ActionContext(
                input={"url": "./skeleton", "values": {"name": "svc", "owner": "team-a", "metrics": True}},
                workspace=workspace,
                template_dir=work / "template",
                settings=settings,
                step_id="fetch",
                log=lambda message: None,
            )
            started = time.perf_counter()
            FetchTemplate().run(ctx)
            ours.append(time.perf_counter() - started)
            written = sum(1 for path in workspace.rglob("*") if path.is_file())
            assert written == SKELETON_FILES, written
        return {
            "files": SKELETON_FILES,
            "baseline_s": statistics.median(baseline),
            "ours_s": statistics.median(ours),
            "ratio": statistics.median(ours) / statistics.median(baseline),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def thirty_field_pages() -> list[dict]:
    pages = []
    for page in range(3):
        properties = {}
        for field in range(10):
            name = f"p{page}f{field}"
            kind = field % 5
            if kind == 0:
                properties[name] = {"title": f"Text {name}", "type": "string", "maxLength": 40}
            elif kind == 1:
                properties[name] = {"title": f"Count {name}", "type": "integer", "minimum": 0}
            elif kind == 2:
                properties[name] = {"title": f"Flag {name}", "type": "boolean"}
            elif kind == 3:
                properties[name] = {"title": f"Choice {name}", "type": "string", "enum": ["a", "b", "c"]}
            else:
                properties[name] = {"title": f"Notes {name}", "type": "string", "ui:widget": "textarea"}
        pages.append({"title": f"Page {page + 1}", "properties": properties, "required": [f"p{page}f0"]})
    return pages


async def _open_form(kind: str) -> float:
    from idp_tui.screens.template_form import TemplateFormScreen
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.screen import Screen
    from textual.widgets import Input, Label

    from idp_tui.catalog.model import Catalog
    from idp_tui.golden.forms import build_form, initial_values

    class PlainForm(Screen):
        def compose(self):
            with VerticalScroll():
                for index in range(30):
                    yield Label(f"Field {index}")
                    yield Input(placeholder="value")

    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        started = time.perf_counter()
        if kind == "baseline":
            await app.push_screen(PlainForm())
        else:
            form = build_form(thirty_field_pages(), title="Thirty fields")
            await app.push_screen(TemplateFormScreen(form, "Thirty fields", Catalog(), None, initial_values(form)))
        await pilot.pause()
        return time.perf_counter() - started


def bench_form(repeats: int) -> dict:
    baseline, ours = [], []
    for _ in range(repeats):
        baseline.append(asyncio.run(_open_form("baseline")))
        ours.append(asyncio.run(_open_form("ours")))
    return {
        "baseline_s": statistics.median(baseline),
        "ours_s": statistics.median(ours),
        "ratio": statistics.median(ours) / statistics.median(baseline),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    results = {"fetch_template": bench_fetch(args.repeats), "form_open": bench_form(args.repeats)}
    fetch, form = results["fetch_template"], results["form_open"]
    verdict = "ok" if fetch["ours_s"] < TARGET_FETCH_S else "over target"
    print(f"{'benchmark':34} {'ours':>9} {'baseline':>9} {'ratio':>7}  target")
    print(
        f"{'fetch:template, 1,000 files':34} {fetch['ours_s']:8.3f}s {fetch['baseline_s']:8.3f}s "
        f"{fetch['ratio']:6.1f}x  < {TARGET_FETCH_S:.0f} s ({verdict}); baseline: shutil.copytree"
    )
    print(
        f"{'open a 30-field 3-page form':34} {form['ours_s']:8.3f}s {form['baseline_s']:8.3f}s "
        f"{form['ratio']:6.2f}x  baseline: a screen of 30 plain Inputs"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()

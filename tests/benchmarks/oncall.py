"""How fast "who is on call" answers, as ratios against baselines measured in the same run.

    .venv/bin/python tests/benchmarks/oncall.py [--repeats 7]

1. ``idp-tui who payment-processor --json`` on the demo (a fresh process each time, parsed-catalog cache warm),
   against ``python -c "import yaml, httpx"``: the imports any such command needs before it can do anything.
   Target: under 1.5x.
2. In the TUI (Pilot, 80x24): ``o`` on payment-processor until the whole view, ladder included, is on screen,
   against the same TUI's ``Enter`` to open the entity screen (a catalog-only view), in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pilot_timing import time_key_on_entity

PYTHON = sys.executable
KEY = "component:default/payment-processor"
IDP_TUI = [str(Path(PYTHON).parent / "idp-tui")]  # the installed command, as people run it


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_who(repeats: int) -> dict:
    who = [*IDP_TUI, "who", "payment-processor", "--json"]
    _wall(who)  # fills the parsed-catalog cache, as any earlier run has
    ours, baseline = [], []
    for _ in range(repeats):
        baseline.append(_wall([PYTHON, "-c", "import yaml, httpx"]))
        ours.append(_wall(who))
    return {"ours_s": statistics.median(ours), "baseline_s": statistics.median(baseline)}


def bench_tui(repeats: int) -> dict:
    from idp_tui.screens.entity import EntityScreen
    from idp_tui.screens.oncall import OnCallScreen

    from idp_tui.app import IdpApp
    from idp_tui.session import Session

    def answered(screen) -> bool:
        return isinstance(screen, OnCallScreen) and screen.answered

    def entity_shown(screen) -> bool:
        return isinstance(screen, EntityScreen) and screen.is_mounted

    cache = Path(tempfile.mkdtemp())
    ours, baseline = [], []
    for _ in range(repeats):
        baseline.append(
            asyncio.run(time_key_on_entity(IdpApp(Session.for_catalog(cache_dir=cache)), "enter", entity_shown, KEY))
        )
        ours.append(asyncio.run(time_key_on_entity(IdpApp(Session.for_catalog(cache_dir=cache)), "o", answered, KEY)))
    return {"ours_s": statistics.median(ours), "baseline_s": statistics.median(baseline)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    who = bench_who(args.repeats)
    print(
        f"who payment-processor --json: {who['ours_s'] * 1000:.0f} ms; baseline (import yaml, httpx): "
        f"{who['baseline_s'] * 1000:.0f} ms; ratio {who['ours_s'] / who['baseline_s']:.2f}x (target < 1.5x)"
    )
    tui = bench_tui(args.repeats)
    print(
        f"o to complete view: {tui['ours_s'] * 1000:.0f} ms; baseline (Enter to the entity screen): "
        f"{tui['baseline_s'] * 1000:.0f} ms; ratio {tui['ours_s'] / tui['baseline_s']:.2f}x"
    )


if __name__ == "__main__":
    main()

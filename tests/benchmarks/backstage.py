"""idp-tui on a Backstage with 50,000 entities and 20 ms per request, in a real pseudo-terminal.

    .venv/bin/python tests/benchmarks/backstage.py [--entities 50000] [--latency 0.02] [--repeats 3]

A local fake of Backstage's catalog API (tests/backstage_server.py) serves the entities on 127.0.0.1 with the
latency added to every request. Measured, each as the median of the repeats:
- cold: ``idp-tui --catalog URL`` with an empty cache, until the complete list is on screen ("N shown").
  Target: under 5 s.
- from the cache: the same command again, until the first rows are drawn, against the demo's first frame measured
  the same way in the same run. Target: within 1.3x of the demo's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from backstage_server import BackstageServer, FakeBackstage, generated_entities  # noqa: E402
from terminal import TerminalRun  # noqa: E402

PYTHON = sys.executable
TOKEN = "benchmark-token"


def _until(argv: list[str], env: dict[str, str], marker: bytes, timeout: float = 120) -> float:
    with TerminalRun(argv, env=env) as run:
        return run.wait_for(marker, timeout=timeout)


def bench(entities: int, latency: float, repeats: int) -> dict:
    fake = FakeBackstage(generated_entities(entities), token=TOKEN, latency=latency)
    with BackstageServer(fake) as server:
        command = [PYTHON, "-m", "idp_tui", "--catalog", server.url]
        cold, warm, demo = [], [], []
        for _ in range(repeats):
            env = {"XDG_CACHE_HOME": tempfile.mkdtemp(prefix="idp-bench-cache-"), "BACKSTAGE_TOKEN": TOKEN}
            cold.append(_until(command, env, f"{len(fake.entities):,} shown".encode()))
            # The list is sorted by name: the first generated service is the first row.
            warm.append(_until(command, env, b"service-00000"))
            demo_env = {"XDG_CACHE_HOME": env["XDG_CACHE_HOME"]}
            _until([PYTHON, "-m", "idp_tui"], demo_env, b" shown")  # the demo's caches in place, as for the URL
            demo.append(_until([PYTHON, "-m", "idp_tui"], demo_env, b"alice.nguyen"))
    return {
        "cold_s": statistics.median(cold),
        "warm_first_frame_s": statistics.median(warm),
        "demo_first_frame_s": statistics.median(demo),
        "requests": len(fake.requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = bench(args.entities, args.latency, args.repeats)
    ratio = result["warm_first_frame_s"] / result["demo_first_frame_s"]
    print(f"{args.entities:,} entities, {args.latency * 1000:.0f} ms per request")
    print(f"cold start to the complete list: {result['cold_s']:.2f} s (target < 5 s)")
    print(
        f"from the cache, first frame with rows: {result['warm_first_frame_s']:.3f} s; demo's first frame: "
        f"{result['demo_first_frame_s']:.3f} s; ratio {ratio:.2f}x (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()

"""idp-tui's benchmarks. Every figure is a ratio against a baseline measured in the same run.

    .venv/bin/python tests/benchmarks/run.py            # 10,000 and 50,000 generated entities (~5 minutes)
    .venv/bin/python tests/benchmarks/run.py --quick    # 2,000 entities, for a quick look

Printed with their targets: a cold and a warm load of the catalog, search per keystroke (the first page and
the complete list, 1, 3 and 6 letters typed), the TUI's first frame with rows, bytes sent per cursor move and
per search keystroke at 80x24, and ``who --json``. (``tests/benchmarks/ssh_bytes.py`` counts the bytes per
keystroke again over a real SSH session.)

Generated catalogs and caches live in --workdir (default: a folder in the system's temp directory,
reused between runs so catalogs are generated once). Results are printed as a table and, with
--json FILE, written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_catalog import generate  # noqa: E402
from terminal import TerminalRun, bytes_per_key  # noqa: E402

PYTHON = sys.executable
DOWN = b"\x1b[B"
TARGETS = {
    "cold load": "<= 1.2x CSafeLoader parse",
    "warm start": "<= 1.15x json.loads",
    "search page": "first page p95 <= 5 ms",
    "search complete": "complete list p95 <= 10 ms",
    "first frame (demo)": "<= 1.3x hello",
    "first frame (warm 50k)": "<= 2.0x hello",
    "bytes per cursor move": "<= 300 bytes",
    "bytes per search keystroke": "<= 1,500 bytes",
    "who --json": "<= 1.1x import yaml, httpx",
}
SEARCH_KEYS = b"/payment"  # "/" to the search box, then a word letter by letter


def worker(*args: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [PYTHON, str(HERE / "workers.py"), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(result.stdout.splitlines()[-1])


def catalog_dir(workdir: Path, size: int) -> Path:
    path = workdir / f"catalog-{size}"
    marker = path / ".generated"
    if not marker.exists():
        print(f"  generating {size:,} entities in {path} …", flush=True)
        counts = generate(size, path)
        marker.write_text(json.dumps(counts))
    return path


def median_of(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs)


def bench_cold(workdir: Path, directory: Path, repeats: int) -> dict:
    """Cold: an empty cache, so every file is parsed, validated, cached and indexed."""
    baseline, ours = [], []
    for _ in range(repeats):  # alternate, so both see the same machine
        baseline.append(worker("parse", str(directory)))
        cache = Path(tempfile.mkdtemp(dir=workdir, prefix="cold-cache-"))
        ours.append(worker("load", str(directory), str(cache)))
        shutil.rmtree(cache)
    return {
        "baseline_s": median_of(baseline),
        "ours_s": median_of(ours),
        "ratio": median_of(ours) / median_of(baseline),
        "entities": ours[0]["entities"],
        "files": baseline[0]["files"],
        "load_s": median_of(ours, "load"),
        "index_s": median_of(ours, "index"),
    }


def bench_warm(workdir: Path, directory: Path, repeats: int) -> dict:
    """Warm: files unchanged since the last load; the parsed cache is read instead."""
    cache = workdir / f"warm-cache-{directory.name}"
    first = worker("load", str(directory), str(cache))
    entities_json = workdir / f"{directory.name}.json"
    if not entities_json.exists():
        subprocess.run(
            [PYTHON, "-m", "idp_tui", "--catalog", str(directory), "catalog", "list", "--json"],
            stdout=entities_json.open("w"),
            stderr=subprocess.DEVNULL,
            check=True,
            env={**os.environ, "XDG_CACHE_HOME": str(cache.parent / "cli-cache")},
        )
    baseline, ours = [], []
    for _ in range(repeats):
        baseline.append(worker("json", str(entities_json)))
        ours.append(worker("load", str(directory), str(cache)))
    assert all(run["parsed_files"] == 0 for run in ours), "the warm runs parsed files again"
    return {
        "baseline_s": median_of(baseline),
        "ours_s": median_of(ours),
        "ratio": median_of(ours) / median_of(baseline),
        "entities": first["entities"],
        "background_s": median_of(ours, "background"),
    }


def bench_search(workdir: Path, directory: Path) -> dict:
    cache = workdir / f"warm-cache-{directory.name}"
    return worker("search", str(directory), str(cache))


def _first_frame(argv: list[str], marker: bytes, env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with TerminalRun(argv, env=env) as run:
            times.append(run.wait_for(marker))
    return statistics.median(times)


def _first_name(directory: Path | None, env: dict[str, str]) -> bytes:
    """The entity the list starts with (idp-tui's default order), to recognise a frame with rows."""
    command = [PYTHON, "-m", "idp_tui", "catalog", "list", "--json"]
    if directory is not None:
        command[3:3] = ["--catalog", str(directory)]
    entities = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **env}).stdout
    )
    first = min((e["metadata"]["name"].lower(), e["kind"]) for e in entities)[0]
    return first[:16].encode()  # a long name is cut short in its column


def _open_once(argv: list[str], env: dict[str, str]) -> None:
    """Run the TUI until its catalog is read, so the caches a user would have are in place."""
    with TerminalRun(argv, env=env) as run:
        run.wait_for(b" shown", timeout=120)
        time.sleep(1.0)  # the first page is saved just after


def bench_first_frame(workdir: Path, big: Path | None, repeats: int) -> dict:
    env = {"XDG_CACHE_HOME": str(workdir / "tui-cache")}
    hello = [PYTHON, str(HERE / "apps" / "hello.py")]
    demo = [PYTHON, "-m", "idp_tui"]
    results: dict[str, float] = {}
    _open_once(demo, env)
    demo_name = _first_name(None, env)
    targets = [("demo", demo, demo_name)]
    if big is not None:
        large = [PYTHON, "-m", "idp_tui", "--catalog", str(big)]
        _open_once(large, env)
        targets.append((f"warm {big.name}", large, _first_name(big, env)))
    hello_times, times = [], {label: [] for label, _, _ in targets}
    loaded = {label: [] for label, _, _ in targets}
    for _ in range(repeats):
        hello_times.append(_first_frame(hello, b"hello", env, 1))
        for label, argv, marker in targets:
            with TerminalRun(argv, env=env) as run:
                times[label].append(run.wait_for(marker))
                loaded[label].append(run.wait_for(b" shown", timeout=120))
    results["hello_s"] = statistics.median(hello_times)
    for label in times:
        results[f"{label}_s"] = statistics.median(times[label])
        results[f"{label}_ratio"] = results[f"{label}_s"] / results["hello_s"]
        results[f"{label}_loaded_s"] = statistics.median(loaded[label])
    return results


def bench_bytes(workdir: Path, directory: Path, presses: int) -> dict:
    """Bytes sent to an 80x24, 256-colour terminal per cursor move, idp-tui against DataTable.

    The first ``presses`` moves stay within the screen; the next ``presses`` scroll the list by a row
    each, which repaints every row in both widgets (reported apart).
    """
    env = {"XDG_CACHE_HOME": str(workdir / "tui-cache")}
    ours = [PYTHON, "-m", "idp_tui", "--catalog", str(directory)]
    with TerminalRun(ours, env=env) as run:
        run.wait_for(b" shown", timeout=120)
        our_counts = bytes_per_key(run, b"j", presses)
        run.send(b"j" * 30)  # past the last row on screen: from here each move scrolls
        our_scrolling = bytes_per_key(run, b"j", presses)
    rows_file = workdir / f"{directory.name}-rows.json"
    if not rows_file.exists():
        from idp_tui.catalog.local_source import LocalCatalogSource
        from idp_tui.catalog.search import SearchIndex
        from idp_tui.render.entity_rows import entity_cells

        catalog = LocalCatalogSource([directory], cache_dir=workdir / "rows-cache").load()
        index = SearchIndex(catalog.entities)
        rows_file.write_text(json.dumps([list(entity_cells(e)) for e in index.entities[:1000]]))
    table = [PYTHON, str(HERE / "apps" / "datatable.py"), str(rows_file)]
    with TerminalRun(table, env=env) as run:
        run.wait_for(b"KIND", timeout=60)
        table_counts = bytes_per_key(run, DOWN, presses)
        run.send(DOWN * 30)
        table_scrolling = bytes_per_key(run, DOWN, presses)
    ours_mean, table_mean = statistics.mean(our_counts), statistics.mean(table_counts)
    return {
        "ours": ours_mean,
        "ours_max": max(our_counts),
        "datatable": table_mean,
        "ratio": ours_mean / table_mean,
        "ours_scrolling": statistics.mean(our_scrolling),
        "datatable_scrolling": statistics.mean(table_scrolling),
    }


def bench_search_bytes(workdir: Path, repeats: int) -> dict:
    """Bytes sent to an 80x24, 256-colour terminal per key of ``/payment`` typed on the demo's home screen."""
    env = {"XDG_CACHE_HOME": str(workdir / "tui-cache")}
    means, per_key = [], []
    for _ in range(repeats):
        with TerminalRun([PYTHON, "-m", "idp_tui"], env=env) as run:
            run.wait_for(b" shown", timeout=120)
            run.quiet(0.5)
            counts = []
            for key in SEARCH_KEYS:
                run.send(bytes([key]))
                counts.append(run.quiet(0.3))
        means.append(statistics.mean(counts))
        per_key.append(counts)
    return {"mean": statistics.median(means), "per_key": per_key[means.index(statistics.median(means))]}


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **env})
    return time.perf_counter() - started


def bench_who(workdir: Path, repeats: int) -> dict:
    """``idp-tui who payment-processor --json`` on the demo (parsed-catalog cache warm) against the imports any such
    command needs first, ``python -c "import yaml, httpx"``."""
    env = {"XDG_CACHE_HOME": str(workdir / "tui-cache")}
    who = [PYTHON, "-m", "idp_tui", "who", "payment-processor", "--json"]
    _wall(who, env)  # fills the parsed-catalog cache, as any earlier run has
    ours, baseline = [], []
    for _ in range(repeats):
        baseline.append(_wall([PYTHON, "-c", "import yaml, httpx"], env))
        ours.append(_wall(who, env))
    ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
    return {"ours_s": ours_s, "baseline_s": baseline_s, "ratio": ours_s / baseline_s}


def report(results: dict) -> None:
    print()
    print(f"{'benchmark':44} {'idp-tui':>10} {'baseline':>10} {'ratio':>7}  target")
    for size, cold in results.get("cold", {}).items():
        print(
            f"{'cold load, ' + size + ' entities (vs CSafeLoader parse)':44} {cold['ours_s']:9.2f}s "
            f"{cold['baseline_s']:9.2f}s {cold['ratio']:6.2f}x  {TARGETS['cold load']}"
        )
    for size, warm in results.get("warm", {}).items():
        print(
            f"{'warm start, ' + size + ' entities (vs json.loads)':44} {warm['ours_s']:9.2f}s "
            f"{warm['baseline_s']:9.2f}s {warm['ratio']:6.2f}x  {TARGETS['warm start']}"
        )
        print(f"{'  ... then in the background (relations, indexes)':44} {warm['background_s']:9.2f}s")
    for size, search in results.get("search", {}).items():
        for length, figures in search.items():
            targeted = length in ("3", "6")  # the figures; one letter is printed for the record
            label = f"search p95, {length}-char, {size} (first page)"
            print(
                f"{label:44} {figures['page_p95'] * 1000:8.2f}ms {figures['scan_p95'] * 1000:8.2f}ms "
                f"{figures['page_p95'] / figures['scan_p95']:6.2f}x  {TARGETS['search page'] if targeted else ''}"
            )
            label = f"search p95, {length}-char, {size} (complete)"
            print(
                f"{label:44} {figures['full_p95'] * 1000:8.2f}ms {figures['scan_p95'] * 1000:8.2f}ms "
                f"{figures['full_p95'] / figures['scan_p95']:6.2f}x  {TARGETS['search complete'] if targeted else ''}"
            )
    if results.get("search"):
        print(f"{'  (baseline: a bare substring scan of the names)':44}")
    frame = results.get("first_frame")
    if frame:
        for key in frame:
            if key.endswith("_ratio"):
                label = key[: -len("_ratio")]
                target = TARGETS["first frame (demo)" if label == "demo" else "first frame (warm 50k)"]
                print(
                    f"{'first frame with rows, ' + label + ' (vs hello)':44} {frame[label + '_s']:9.3f}s "
                    f"{frame['hello_s']:9.3f}s {frame[key]:6.2f}x  {target}"
                )
                print(f"{'  ... whole catalog read, ' + label:44} {frame[label + '_loaded_s']:9.3f}s")
    moves = results.get("bytes")
    if moves:
        print(
            f"{'bytes per cursor move, 80x24 256 colours':44} {moves['ours']:10.0f} {moves['datatable']:10.0f} "
            f"{moves['ratio']:6.2f}x  {TARGETS['bytes per cursor move']} (baseline: DataTable)"
        )
        scrolling = moves["ours_scrolling"] / moves["datatable_scrolling"]
        print(
            f"{'  ... moves that scroll the list by a row':44} {moves['ours_scrolling']:10.0f} "
            f"{moves['datatable_scrolling']:10.0f} {scrolling:6.2f}x"
        )
    keys = results.get("search_bytes")
    if keys:
        print(
            f"{'bytes per search keystroke, 80x24 (demo)':44} {keys['mean']:10.0f} {'':>10} {'':>7}  "
            f"{TARGETS['bytes per search keystroke']} ({SEARCH_KEYS.decode()}: {keys['per_key']})"
        )
    who = results.get("who")
    if who:
        print(
            f"{'who --json (vs import yaml, httpx)':44} {who['ours_s']:9.3f}s {who['baseline_s']:9.3f}s "
            f"{who['ratio']:6.2f}x  {TARGETS['who --json']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entities and fewer repeats")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "idp-tui-benchmarks")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--only", choices=["load", "tui"], help="run only the catalog or only the TUI benchmarks")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold loads (most of the run's time)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [2000] if args.quick else [10000, 50000]
    repeats = 2 if args.quick else 3
    results: dict = {"cold": {}, "warm": {}, "search": {}}
    directories = {size: catalog_dir(args.workdir, size) for size in sizes}
    for size, directory in directories.items() if args.only != "tui" else ():
        label = f"{size // 1000}k"
        print(f"measuring {label} …", flush=True)
        if not args.no_cold:
            results["cold"][label] = bench_cold(args.workdir, directory, repeats)
        results["warm"][label] = bench_warm(args.workdir, directory, repeats + 2)
        results["search"][label] = bench_search(args.workdir, directory)
    if args.only != "load":
        print("measuring the TUI …", flush=True)
        results["first_frame"] = bench_first_frame(args.workdir, directories[sizes[-1]], 5 if args.quick else 7)
        results["bytes"] = bench_bytes(args.workdir, directories[sizes[0]], 12)
        results["search_bytes"] = bench_search_bytes(args.workdir, 3)
        results["who"] = bench_who(args.workdir, 5 if args.quick else 9)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

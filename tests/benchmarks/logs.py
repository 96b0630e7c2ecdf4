"""Lines per second a log widget absorbs from a fast stream, the longest event-loop stall, and memory after N lines.

    /work/venv/bin/python tests/benchmarks/logs.py [--lines 1000000] [--batch 1000]

Both widgets run in a headless app at 80x24 and are fed the same way the log screen feeds its view: a producer
thread posts one message per batch and backs off while more than a few batches are unabsorbed (so the UI is never flooded).
Ours is ``LogView`` (default 50,000-line buffer, six sources); the baseline, in the same run, is Textual's ``Log``
with the same ``max_lines``, given the same lines already formatted as ``source text`` strings in the producer
thread (which favours it: ``LogView`` formats only the visible rows, at render time). Stall: the largest lateness of a
10 ms asyncio sleep while absorbing. Memory: RSS growth from start, sampled at 20% and at the end of the stream; a
bounded buffer shows (nearly) the same figure at both points.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import threading
import time

SOURCES = [
    ("settlement-worker-7d9f-" + suffix, "app") for suffix in ("abcde", "fghij", "klmno", "pqrst", "uvwxy", "z0123")
]
TEXTS = [
    '{"level": "info", "ts": "2026-11-24T17:13:43.831Z", "msg": "settlement batch processed", "items": %d}',
    "2026-11-24T17:13:44.111Z INFO  request completed status=200 path=/v1/profile duration_ms=%d",
    "2026-11-24T17:13:44.296Z ERROR upstream request failed error=context deadline exceeded attempt=%d",
]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(widget_kind: str, total: int, batch_size: int) -> dict[str, float]:
    from textual.app import App, ComposeResult
    from textual.message import Message
    from textual.widgets import Log

    from idp_tui.kube.logs import LogLine
    from idp_tui.widgets.log_view import LogView

    class Batch(Message):
        def __init__(self, lines: list) -> None:
            super().__init__()
            self.lines = lines

    class Bench(App):
        def compose(self) -> ComposeResult:
            yield LogView() if widget_kind == "LogView" else Log(max_lines=50_000)

        def on_batch(self, message: Batch) -> None:
            widget = self.query_one(LogView if widget_kind == "LogView" else Log)
            if widget_kind == "LogView":
                widget.append(message.lines)
            else:
                widget.write_lines(message.lines)
            self.absorbed += len(message.lines)
            self.batches_absorbed += 1

    def produce(app: Bench, done: threading.Event) -> None:
        sent = posted = 0
        while sent < total:
            count = min(batch_size, total - sent)
            if widget_kind == "LogView":
                lines = [LogLine("demo-eu", *SOURCES[n % 6], TEXTS[n % 3] % n) for n in range(sent, sent + count)]
            else:
                lines = [f"{SOURCES[n % 6][0]}/app {TEXTS[n % 3] % n}" for n in range(sent, sent + count)]
            # Counted by hand: a message posted from a thread is only queued (and counted by message_queue_size)
            # once the event loop runs, so a flooded loop would look idle.
            while posted - app.batches_absorbed > 4:
                time.sleep(0.002)
            posted += 1
            app.post_message(Batch(lines))
            sent += count
        done.set()

    result: dict[str, float] = {}

    async def main() -> None:
        app = Bench()
        app.absorbed = 0
        app.batches_absorbed = 0
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            gc.collect()
            base = rss_mb()
            stalls: list[float] = []
            done = threading.Event()
            started = time.perf_counter()
            producer = threading.Thread(target=produce, args=(app, done), daemon=True)
            producer.start()
            sample_at, early = total // 5, None
            while app.absorbed < total:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                stalls.append(time.perf_counter() - before - 0.01)
                if early is None and app.absorbed >= sample_at:
                    early = rss_mb() - base
            await pilot.pause()  # the last frame drawn
            elapsed = time.perf_counter() - started
            result.update(
                lines_per_s=total / elapsed,
                max_stall_ms=max(stalls) * 1000,
                rss_early_mb=early or 0.0,
                rss_end_mb=rss_mb() - base,
            )

    asyncio.run(main())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--one", choices=("Log", "LogView"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.lines, args.batch)))
        return
    # Each widget in a fresh process, so neither inherits the other's heap (RSS never shrinks).
    baseline, ours = (
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--one", kind, "--lines", str(args.lines), "--batch", str(args.batch)],
                check=True, capture_output=True, text=True,
            ).stdout.splitlines()[-1]
        )
        for kind in ("Log", "LogView")
    )  # fmt: skip
    print(f"{args.lines:,} lines in batches of {args.batch:,}, 80x24, max_lines 50,000")
    print(f"{'':26}{'LogView':>12}{'Log (base)':>12}{'ratio':>8}")
    for key, label in (
        ("lines_per_s", "lines/s"),
        ("max_stall_ms", "longest stall (ms)"),
        ("rss_early_mb", "RSS +MB at 20%"),
        ("rss_end_mb", "RSS +MB at end"),
    ):
        ratio = ours[key] / baseline[key] if baseline[key] else float("nan")
        print(f"{label:26}{ours[key]:>12,.1f}{baseline[key]:>12,.1f}{ratio:>7.2f}x")
    verdict = ours["lines_per_s"] >= 50_000 and ours["max_stall_ms"] <= 100
    print(f"targets (>= 50,000 lines/s, no stall over 100 ms): {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()

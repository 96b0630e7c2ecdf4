"""Logs an on-call engineer can read at 80 columns (issue 17, part 7): on the demo cluster through the real client,
settlement-worker's JSON lines shown as time, level (symbol and word) and message with their fields folded, never
as raw braces; short pod prefixes with a legend; the raw toggle; ``≥ warn``; ``idp-tui logs --output`` and
``--level``."""

from __future__ import annotations

import json

from idp_tui.screens.logs import LogScreen
from screen_cells import screen_text
from test_log_view import ScreenApp, shown
from test_tui import SIZE, _until

from idp_tui.cli import main


async def test_settlement_worker_logs_at_80_columns_show_level_and_message_without_braces():
    app = ScreenApp()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.view.row_count > 20, 15)
        screen, view = app.screen, app.screen.view
        view.set_paused(True)  # a still screen to read
        await pilot.pause()
        text = screen_text(app)
        legend = str(screen.query_one("#logs-legend").render())
        # Below the title, status and legend; above the footer.
        body = [line for line in text.splitlines()[2:-2] if line.strip() not in legend]
        assert not any('{"level"' in line or '"msg":' in line for line in body)
        words = ("INFO", "WARN", "ERROR", "DEBUG", "FATAL")
        read = [line for line in body if any(f" {word}" in line for word in words)]
        assert len(read) >= 5
        assert any("settlement batch processed" in line or "request completed" in line for line in read)
        assert all(len(line) <= 80 for line in text.splitlines())
        # The pod prefix is what tells the pods apart (the random suffix), and the legend names the pod.
        pods = {line[1] for line in view.lines if not isinstance(line, str)}
        for pod in pods:
            suffix = pod.rsplit("-", 1)[1]
            assert f"{suffix}={pod}" in legend
            assert pod not in "\n".join(body)  # 34 characters no longer start every line
        view.set_paused(False)

        # ≥ warn: the key cycles the floor (every line, ≥ info, ≥ warn, ≥ error); the status says it.
        await pilot.press("l", "l")
        assert view.min_level is not None and view.min_level.word == "warn"
        assert "≥ warn" in str(screen.query_one("#logs-status").render())
        kept = shown(view)
        assert kept and all(" WARN " in row or " ERROR " in row or " FATAL " in row for row in kept[:50])

        # The raw toggle: the lines as the container wrote them.
        await pilot.press("r")
        assert view.raw and any(row.lstrip().startswith('{"level"') for row in shown(view))
        await pilot.press("r", "l", "l")
        assert not view.raw and view.min_level is None


def test_logs_output_json_one_object_per_line_with_the_issue_keys(capsys):
    assert main(["logs", "settlement-worker", "--tail", "20", "--output", "json", "--context", "demo-eu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out
    records = [json.loads(line) for line in out]
    for record in records:
        assert {"pod", "container", "cluster", "time", "level", "message", "fields"} <= set(record)
        assert record["cluster"] == "demo-eu" and record["pod"].startswith("settlement-worker-")
    assert any(r["level"] == "info" and r["message"] == "settlement batch processed" for r in records)
    assert any("trace_id" in r["fields"] for r in records)


def test_logs_output_pretty_and_level(capsys):
    argv = ["logs", "settlement-worker", "--tail", "60", "--context", "demo-eu", "--color", "never"]
    assert main([*argv, "--output", "pretty", "--level", "warn"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines and all(("▲ WARN" in line or "✖ ERROR" in line or "■ FATAL" in line) for line in lines)
    assert not any(line.split(" ", 1)[1].lstrip().startswith("{") for line in lines)
    assert all(not line.startswith("settlement-worker-") for line in lines)  # the short prefix
    assert "pods: " in captured.err and "=settlement-worker-" in captured.err  # the legend, on stderr
    assert main([*argv, "--level", "loud"]) == 2
    assert "--level" in capsys.readouterr().err


def test_logs_level_takes_the_names_loggers_use(capsys):
    argv = ["logs", "settlement-worker", "--tail", "60", "--context", "demo-eu", "--color", "never", "-o", "pretty"]
    for word in ("err", "W", "crit", "≥warn"):
        assert main([*argv, "--level", word]) == 0, word
        lines = capsys.readouterr().out.splitlines()
        assert all(("▲ WARN" in line or "✖ ERROR" in line or "■ FATAL" in line) for line in lines)
    assert main([*argv, "--level", "≥loud"]) == 2
    err = capsys.readouterr().err
    assert "--level" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2

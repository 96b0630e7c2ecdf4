"""The log view (buffer, pause, filters, search, save, JSON) and the log screen at 80x24 on the demo cluster."""

from __future__ import annotations

import json

from idp_tui.screens.logs import LogScreen
from test_tui import SIZE, _until
from textual.app import App, ComposeResult

from idp_tui.kube.log_format import assign_colours
from idp_tui.kube.log_lines import Level
from idp_tui.kube.log_stream import LogTarget
from idp_tui.kube.logs import LogLine
from idp_tui.session import Session
from idp_tui.widgets import log_view as log_view_module
from idp_tui.widgets import log_view_cache
from idp_tui.widgets.log_view import SOURCE_STYLES, LogView


def lines(count: int, pod: str = "api-1", start: int = 0) -> list[LogLine]:
    return [LogLine("demo-eu", pod, "app", f"line {start + n} request ok") for n in range(count)]


class ViewApp(App):
    def __init__(self, max_lines: int = 50_000) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogView(max_lines=self.max_lines)


def shown(view: LogView) -> list[str]:
    return [view.row_text(index) for index in range(view.row_count)]


async def test_the_buffer_is_bounded_and_keeps_the_newest_lines():
    app = ViewApp(max_lines=100)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        for batch in range(5):
            view.append(lines(70, start=batch * 70))
        await pilot.pause()
        assert len(view.lines) == 100 and view.row_count == 100
        assert shown(view)[0] == "line 250 request ok" and shown(view)[-1] == "line 349 request ok"
        assert view.scroll_y == view.max_scroll_y  # following: the newest line is on screen


async def test_pause_keeps_buffering_but_the_view_does_not_move():
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        view.append(lines(50))
        await pilot.pause()
        before = view.scroll_y
        view.set_paused(True)
        view.append(lines(1234, start=50))
        await pilot.pause()
        assert len(view.lines) == 1284 and view.row_count == 50 and view.scroll_y == before
        assert "PAUSED — 1,234 new lines" in view.render_line(view.scrollable_content_region.height - 1).text
        view.set_paused(False)
        await pilot.pause()
        assert view.row_count == 1284 and shown(view)[-1] == "line 1283 request ok"


async def test_a_long_pause_keeps_only_what_the_buffer_holds():
    app = ViewApp(max_lines=100)
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        view.append(lines(10))
        view.set_paused(True)
        view.append(lines(150, start=10))
        assert view.new_while_paused == 150 and len(view.lines) == 100
        view.set_paused(False)
        assert view.row_count == 100 and shown(view)[0] == "line 60 request ok"


async def test_include_and_exclude_filters_are_reversible():
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        view.append([LogLine("c", "p", "app", text) for text in ("GET /health", "GET /cart", "POST /cart", "boom")])
        view.set_filters(include="cart", exclude="POST")
        assert shown(view) == ["GET /cart"]
        view.append([LogLine("c", "p", "app", "DELETE /cart")])
        assert shown(view) == ["GET /cart", "DELETE /cart"]
        view.set_filters()
        assert len(shown(view)) == 5


async def test_search_highlights_and_n_jumps_between_matches():
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        view.append(lines(100))
        assert view.search("LINE 7 ") == 1
        assert view.search("line 5") == 11  # line 5, 50..59
        last = view.match_row
        assert shown(view)[last] == "line 59 request ok"
        assert view.next_match(1) and shown(view)[view.match_row] == "line 5 request ok"  # wraps
        assert view.next_match(-1) and view.match_row == last
        strip = view.render_line(view.match_row - int(view.scroll_y))
        highlighted = [segment.text for segment in strip if segment.style and segment.style.reverse]
        assert highlighted == ["line 5"]
        assert not view.following  # jumping to a match stops following


async def test_json_pretty_print_and_timestamps_toggle():
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        record = {"level": "info", "msg": "paid"}
        view.append([LogLine("c", "p", "app", "2026-01-02T03:04:05.123Z " + json.dumps(record)), "stream error"])
        # Read by default (issue 17): time, level as symbol and word, message; the raw toggle shows it as written.
        assert shown(view)[0] == "03:04:05.123 ● INFO  paid"
        view.toggle_raw()
        assert shown(view)[0].startswith("{")
        view.toggle_json()
        assert shown(view)[:4] == ["{", '  "level": "info",', '  "msg": "paid"', "}"]
        view.toggle_timestamps()
        view.toggle_json()
        assert shown(view)[0].startswith("2026-01-02T03:04:05.123Z {")


async def test_save_writes_every_buffered_line_unfiltered_with_its_source(tmp_path):
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        view.append(lines(3, pod="api-1") + lines(2, pod="api-2") + ["demo-us api-3/app: forbidden"])
        view.set_filters(include="nothing-matches")
        assert view.save(tmp_path / "out" / "x.log") == 6
        saved = (tmp_path / "out" / "x.log").read_text().splitlines()
        assert saved[0] == "demo-eu api-1/app line 0 request ok" and saved[-1] == "! demo-us api-3/app: forbidden"


# -- the screen, on the demo cluster ----------------------------------------------------------------


class ScreenApp(App):
    def __init__(self, target: str | None = None) -> None:
        super().__init__()
        self.target = target
        self.session = Session.for_catalog()

    def on_mount(self) -> None:
        target = LogTarget(
            "backstage.io/kubernetes-id=settlement-worker", clusters=("demo-eu",), pods_named=self.target
        )
        screen = LogScreen(self.session, "component:settlement-worker", target)
        self.push_screen(screen)

    def on_unmount(self) -> None:
        self.session.close()  # the demo cluster the screen's tails started


async def test_log_screen_previous_logs_search_pause_and_save():
    app = ScreenApp()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.view.row_count > 0, 15)
        screen = app.screen
        view = screen.view
        status = str(screen.query_one("#logs-status").render())
        assert "demo cluster" in status and "follow on" in status

        await pilot.press("p")
        await _until(pilot, lambda: any("exiting" in text for text in shown(view)), 15)
        assert any(isinstance(line, str) and "not found" in line for line in view.lines)  # the healthy pod: said

        await pilot.press("slash", *"exiting", "enter")
        await _until(pilot, lambda: view.match_row >= 0)
        assert "exiting" in shown(view)[view.match_row].lower()
        assert "search" in str(screen.query_one("#logs-status").render())

        await pilot.press("p")  # back to the running containers, followed, so lines keep arriving while paused
        await _until(pilot, lambda: view.row_count > 0 and screen.options.follow and not screen.options.previous)
        await pilot.press("space")
        assert view.paused
        await _until(pilot, lambda: view.new_while_paused > 0, 15)
        assert (
            f"PAUSED — {view.new_while_paused:,} new lines"
            in view.render_line(view.scrollable_content_region.height - 1).text
        )

        await pilot.press("s")
        await _until(pilot, lambda: screen.saved_path is not None)
        with open(screen.saved_path, encoding="utf-8") as saved:
            saved_lines = saved.read().splitlines()
        assert len(saved_lines) == screen.saved_lines >= view.row_count  # every buffered line, not just the shown
        assert saved_lines[0].startswith("demo-eu settlement-worker-")
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, LogScreen))


async def test_a_hostile_line_never_breaks_the_view():
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        view.append(
            [
                LogLine("c", "p", "app", "9999-12-31T23:59:59-05:00 ERROR boom"),
                LogLine("c", "p", "app", '{"level":"warn","msg":"late","time":"0001-01-01T00:00:00+05:00"}'),
                LogLine("c", "p", "app", '{"msg":"x","n":1e999}'),
            ]
        )
        await pilot.pause()
        assert shown(view)[0].endswith("✖ ERROR boom") and "▲ WARN  late" in shown(view)[1]
        assert "boom" in view.render_line(0).text
        view.set_min_level(Level.WARN)
        assert view.row_count == 2


async def test_pod_colours_do_not_depend_on_the_order_pods_joined():
    pods = ["checkout-web-7d4b9c6f5-x2kqp", "checkout-web-7d4b9c6f5-b4t6n", "checkout-worker-6c8f7d9b4-k8s2p"]
    colours = []
    for order in (pods, list(reversed(pods))):
        app = ViewApp()
        async with app.run_test(size=SIZE):
            view = app.query_one(LogView)
            for pod in order:
                view.append([LogLine("c", pod, "app", "hello")])
            colours.append(dict(view._pods))
    assert colours[0] == colours[1] == assign_colours(pods, SOURCE_STYLES)


async def test_level_key_and_search_on_a_full_buffer_do_not_stall_the_screen(monkeypatch):
    # 50,000 buffered lines read once (while the stream is quiet): changing the floor or searching reads no line
    # again; before, each press re-read every line on the event loop (0.6 s for a floor, 2.6 s for a search).
    texts = [
        '{"level": "info", "ts": "2026-11-24T17:13:43.831Z", "msg": "settlement batch processed", "items": %d}',
        "2026-11-24T17:13:44.111Z INFO  request completed status=200 path=/v1/profile duration_ms=%d",
        "2026-11-24T17:13:44.296Z ERROR upstream request failed error=context deadline exceeded attempt=%d",
    ]
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        for start in range(0, 50_000, 1000):
            view.append([LogLine("c", f"api-{n % 6}", "app", texts[n % 3] % n) for n in range(start, start + 1000)])
        await _until(pilot, lambda: view._cache.warm_from == len(view.lines), 60)
        reads = []
        real_parse = log_view_cache.parse_line
        # Every place a line is read: the per-line cache, and the view's own (cached) reading of the visible rows.
        monkeypatch.setattr(log_view_cache, "parse_line", lambda text: reads.append(text) or real_parse(text))
        monkeypatch.setattr(log_view_module, "parsed", lambda text: reads.append(text) or real_parse(text))
        for action in (
            lambda: view.set_min_level(Level.WARN),
            lambda: view.set_min_level(Level.INFO),
            lambda: view.search("deadline"),
            lambda: view.search("no such text"),
            lambda: view.set_min_level(None),
        ):
            action()
            await pilot.pause()
        assert view.row_count == 50_000 and view.search("DEADLINE") == 16_666
        # No press re-read the buffer: at most the rows on screen were parsed again, never the 50,000 lines.
        assert len(reads) <= 5 * SIZE[1], len(reads)

"""A log view for very fast multi-source streams, built on Textual's line API.

Lines read at 80 columns by default ("pretty"): JSON and logfmt lines become time, level (symbol and word, so it
reads without colour) and message with the other fields folded and dimmed, and each pod's prefix is shortened to
what tells the pods apart (a legend says which pod each stands for, and each pod keeps its colour, as stern
does). The raw toggle shows the lines as written. A level filter (``≥ warn``) works beside the include and exclude
regexes, and keeps an error's stack trace with it.

Appending a batch only extends a bounded ring buffer and an index of the rows to show; styling happens in
``render_line`` for the handful of visible rows, so absorbing lines costs the same whatever the styling. Each
buffered line is read (parsed) at most once for its level and once per layout for its searchable text, both kept
beside it (:mod:`.log_view_cache`), so the level key and search look up what is already there.
Cleaning too: a log line may hold any escape sequence (``ESC ] 52`` writes the reader's clipboard), and the rows
are Segments built here, past Textual's control-code stripping, so each shown row is cleaned as it is rendered
(colours from the log are not kept in the TUI).
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..kube.log_format import Span, assign_colours, format_pretty, legend, plain_text, pod_prefixes, source_label
from ..kube.log_lines import Level, LevelFilter, ParsedLine
from ..kube.logs import LogLine
from ..safe_text import clean
from .log_row_text import TIMESTAMP, highlighted, highlighted_text, parsed, pretty_json, raw_row_text
from .log_view_cache import CONTINUES, LEVEL_OF, UNREAD, WARM_EVERY, Entry, LineCache

# Buffered lines are Entry tuples of strings: unlike LogLine objects they drop out of the garbage collector's
# tracking, so a full buffer adds nothing to each collection's work (with 50,000 LogLines held, collections alone
# caused 60-80 ms stalls).

SOURCE_STYLES = 6


class LogView(ScrollView, can_focus=True):
    """Lines of many pods and containers, each source with its own prefix style; follows, pauses, filters, searches."""

    DEFAULT_CSS = """
    LogView { height: 1fr; background: $surface; color: $foreground; }
    LogView > .log-view--source-0 { color: $primary; text-style: bold; }
    LogView > .log-view--source-1 { color: $secondary; }
    LogView > .log-view--source-2 { color: $accent; text-style: bold; }
    LogView > .log-view--source-3 { color: $success; }
    LogView > .log-view--source-4 { color: $warning; text-style: bold; }
    LogView > .log-view--source-5 { color: $text-muted; }
    LogView > .log-view--error { color: $error; text-style: bold; }
    LogView > .log-view--match { text-style: reverse; }
    LogView > .log-view--bar { background: $warning; color: $text; text-style: bold reverse; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--field { color: $text-muted; text-style: dim; }
    LogView > .log-view--fatal { color: $error; text-style: bold reverse; }
    LogView > .log-view--warn { color: $warning; text-style: bold; }
    LogView > .log-view--info { color: $success; }
    LogView > .log-view--debug { color: $text-muted; }
    """

    COMPONENT_CLASSES = {
        *(f"log-view--source-{index}" for index in range(SOURCE_STYLES)),
        "log-view--error",
        "log-view--match",
        "log-view--bar",
        "log-view--time",
        "log-view--field",
        "log-view--fatal",
        "log-view--warn",
        "log-view--info",
        "log-view--debug",
    }

    class PodsChanged(Message):
        """New pods joined: the short prefixes (and so the legend) changed."""

        def __init__(self, view: LogView, legend: list[str]) -> None:
            super().__init__()
            self.view = view
            self.legend = legend

        @property
        def control(self) -> LogView:
            """The view whose pods changed."""
            return self.view

    BINDINGS = [
        Binding("up,k", "scroll_back(1)", "Up", show=False, id="logview.up"),
        Binding("down,j", "scroll_on(1)", "Down", show=False, id="logview.down"),
        Binding("pageup", "scroll_back(-1)", "Page up", show=False, id="logview.page_up"),
        Binding("pagedown", "scroll_on(-1)", "Page down", show=False, id="logview.page_down"),
        Binding("home,g", "first", "First", show=False, id="logview.first"),
        Binding("end,G", "follow", "Follow", show=False, id="logview.follow"),
        Binding("left", "scroll_left", "Left", show=False, id="logview.left"),
        Binding("right", "scroll_right", "Right", show=False, id="logview.right"),
    ]

    def __init__(self, *, max_lines: int = 50_000, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.max_lines = max_lines
        self.lines: deque[Entry] = deque()
        # Sequence number of ``lines[0]``: rows refer to lines by sequence so dropping old lines never renumbers them.
        self._first_seq = 0
        self._rows: deque[tuple[int, int]] = deque()
        self._sources: dict[str, int] = {}
        self._width = 1
        self.following = True
        self.paused = False
        self.new_while_paused = 0
        self.include: re.Pattern[str] | None = None
        self.exclude: re.Pattern[str] | None = None
        self.show_timestamps = False
        self.json_pretty = False
        self.show_cluster = False
        self.search_pattern: re.Pattern[str] | None = None
        self._match = -1
        self._end_pending = False
        # Pretty (parsed, short prefixes) or raw (as written); the minimum level shown (None: every line).
        self.raw = False
        self.show_times = True
        self.min_level: Level | None = None
        self._level_filter: LevelFilter | None = None
        self._pods: dict[str, int] = {}  # pod -> colour (log_format.assign_colours: the same in every view)
        self._short: dict[str, str] = {}
        self._prefix_width = 0
        # Beside each buffered line: its level code and its row text, read once (and ahead while the stream is quiet).
        self._cache = LineCache(self.lines, self._line_text)

    def on_mount(self) -> None:
        self.set_interval(WARM_EVERY, self._read_ahead)

    # -- data -------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def append(self, lines: list[LogLine | str]) -> None:
        """Add a batch (``str`` items are stream errors); the oldest lines go once ``max_lines`` is exceeded."""
        seq = self._first_seq + len(self.lines)
        lines = [
            (line.cluster, line.pod, line.container, line.text) if isinstance(line, LogLine) else line for line in lines
        ]
        pods = self._pods
        joined = {line[1] for line in lines if not isinstance(line, str) and line[1] not in pods}
        if joined:
            self._pods_joined(joined)
        self.lines.extend(lines)
        self._cache.added(len(lines))
        if self.paused:
            self.new_while_paused += len(lines)
        else:
            self._index(seq, lines)
        self._trim()
        self._changed()

    def _pods_joined(self, joined: set[str]) -> None:
        self._pods = assign_colours(joined, SOURCE_STYLES, self._pods)  # a pod keeps its colour when others join
        self._short = pod_prefixes(self._pods)
        self._prefix_width = max((len(short) for short in self._short.values()), default=0)
        self.post_message(self.PodsChanged(self, self.legend_lines()))

    def legend_lines(self, width: int = 80) -> list[str]:
        """Which pod each short prefix stands for (nothing when none was shortened)."""
        return legend(self._short, width)

    def _index(self, seq: int, lines) -> None:
        rows = self._rows
        wants, pretty = self._wants, self.json_pretty
        levels = self._level_filter
        codes, read, first = self._cache.levels, self._cache.read, self._first_seq
        for line in lines:
            text = line if isinstance(line, str) else line[3]
            if levels is not None and not isinstance(line, str):
                code = codes[seq - first]
                if code == UNREAD:
                    code = read(seq - first)
                if not levels.keep_level(LEVEL_OF[code], code == CONTINUES, (line[1], line[2])):
                    seq += 1
                    continue
            if wants(text):
                expanded = pretty_json(TIMESTAMP.sub("", text, count=1)) if pretty else None
                if expanded is None:
                    rows.append((seq, 0))
                    self._width = max(self._width, len(text) + 40)
                else:
                    rows.extend((seq, sub) for sub in range(len(expanded)))
            seq += 1

    def _read_ahead(self) -> None:
        """A timer tick: read buffered lines ahead of need (row texts too when each line is one row)."""
        key = self._layout_key() if not self.json_pretty else None
        self._cache.read_ahead(key, text_needs_parse=not self.raw)

    def _trim(self) -> None:
        excess = len(self.lines) - self.max_lines
        if excess <= 0:
            return
        if excess > self.max_lines // 2:
            # A huge batch: rebuild instead of popping one by one.
            kept = list(self.lines)[excess:]
            self.lines.clear()
            self.lines.extend(kept)
        else:
            popleft = self.lines.popleft
            for _ in range(excess):
                popleft()
        self._cache.dropped(excess)
        self._first_seq += excess
        rows, first, dropped = self._rows, self._first_seq, 0
        while rows and rows[0][0] < first:
            rows.popleft()
            dropped += 1
        if dropped and not self.following and not self.paused:
            # Keep the lines the reader is looking at in place while older ones leave the buffer.
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self._match = -1 if self._match < dropped else self._match - dropped

    def _wants(self, text: str) -> bool:
        if self.include is not None and not self.include.search(text):
            return False
        return not (self.exclude is not None and self.exclude.search(text))

    def refilter(self) -> None:
        """Rebuild the shown rows from every buffered line (after a filter or display toggle changed)."""
        self._level_filter = LevelFilter(self.min_level) if self.min_level is not None else None
        self._rows.clear()
        self._width = 1
        self._index(self._first_seq, self.lines)
        self._match = -1
        self._changed()

    def set_filters(self, include: str | None = None, exclude: str | None = None) -> None:
        """Regular expressions on the line text; raises ``re.error`` for an invalid one, keeping the old filters."""
        compiled = (re.compile(include) if include else None, re.compile(exclude) if exclude else None)
        self.include, self.exclude = compiled
        self.refilter()

    def set_min_level(self, level: Level | None) -> None:
        """Show only lines at ``level`` or above (with the stack traces that follow them); None shows every line."""
        self.min_level = level
        self.refilter()

    def toggle_raw(self) -> None:
        """Lines as written, or read into time, level, message and fields."""
        self.raw = not self.raw
        self.refresh()

    def clear(self) -> None:
        self.lines.clear()
        self._cache.clear()
        self._rows.clear()
        self._first_seq, self.new_while_paused, self._match = 0, 0, -1
        self._changed()

    def _changed(self) -> None:
        self.virtual_size = Size(self._width, len(self._rows) + (1 if self.paused else 0))
        if self.following and not self.paused:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            if not self._end_pending:
                # The first scrollbar appearing re-lays the view out and can undo the immediate scroll: repeat once.
                self._end_pending = True
                self.call_after_refresh(self._scroll_end_later)
        self.refresh()

    def _scroll_end_later(self) -> None:
        self._end_pending = False
        if self.following and not self.paused:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    # -- pause, follow, toggles -------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Paused: lines are still buffered, but the view stays where it is and a bar counts them."""
        if paused == self.paused:
            return
        pending, self.paused = self.new_while_paused, paused
        if not paused:
            self.new_while_paused = 0
            # Lines that arrived while paused and were already pushed out of the buffer are gone: skip them.
            start = max(0, len(self.lines) - pending)
            self._index(self._first_seq + start, [self.lines[index] for index in range(start, len(self.lines))])
        self._changed()

    def toggle_timestamps(self) -> None:
        """Raw: the kubelet's timestamp before each line. Pretty: each line's own time column."""
        if self.raw:
            self.show_timestamps = not self.show_timestamps
        else:
            self.show_times = not self.show_times
        self.refresh()

    def toggle_json(self) -> None:
        self.json_pretty = not self.json_pretty
        self.refilter()

    def action_follow(self) -> None:
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_first(self) -> None:
        self.following = False
        self.scroll_home(animate=False)

    def action_scroll_back(self, rows: int) -> None:
        self.following = False
        self.scroll_to(y=self.scroll_y - (rows if rows > 0 else self.size.height), animate=False)

    def action_scroll_on(self, rows: int) -> None:
        self.scroll_to(y=self.scroll_y + (rows if rows > 0 else self.size.height), animate=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    # -- search -----------------------------------------------------------------------------------

    def search(self, text: str) -> int:
        """Highlight ``text`` (case-insensitive, literal) and jump to its last match; returns how many rows match."""
        self.search_pattern = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._match = len(self._rows)
        pattern = self.search_pattern
        found = sum(1 for row in self.row_texts() if pattern.search(row)) if pattern is not None else 0
        if found:
            self.next_match(-1)
        self.refresh()
        return found

    def next_match(self, step: int = 1) -> bool:
        """Move to the next (``step`` 1) or previous (-1) matching row, wrapping around; False when none."""
        count = len(self._rows)
        if self.search_pattern is None or not count:
            return False
        index, texts, pattern = self._match, self.row_texts(), self.search_pattern
        for _ in range(count):
            index = (index + step) % count
            if pattern.search(texts[index]):
                self._match = index
                self.following = False
                self.scroll_to(y=max(0, index - self.size.height // 2), animate=False, immediate=True)
                self.refresh()
                return True
        return False

    @property
    def match_row(self) -> int:
        return self._match

    # -- rendering --------------------------------------------------------------------------------

    def prefix(self, line: tuple[str, str, str, str]) -> str:
        cluster, pod, container, _ = line
        if not self.raw:  # what tells the pods apart, padded so the columns after it line up
            source = source_label(self._short.get(pod, pod), pod, container).ljust(self._prefix_width)
        else:  # at 80 columns every cell counts: a pod named after its container (the usual case) says both
            source = source_label(pod, pod, container)
        return clean(f"{cluster} {source} " if self.show_cluster else f"{source} ", one_line=True)

    def _layout_key(self) -> tuple:
        """What a one-row line's text depends on besides the line (JSON pretty-printing aside)."""
        return (self.raw, self.show_timestamps, self.show_times, self.show_cluster, self.size.width, self._prefix_width)

    def row_text(self, index: int) -> str:
        """The text of a shown row without its prefix, as displayed (raw, timestamps and JSON toggles applied).

        Cleaned: no escape sequence or control character, tabs as spaces (a tab has no width in a Segment).
        """
        if self.json_pretty:
            return clean(self._raw_row_text(index), one_line=True)
        self._cache.use_layout(self._layout_key())
        return self._cache.text(self._rows[index][0] - self._first_seq)

    def row_texts(self) -> list[str]:
        """:meth:`row_text` of every shown row, in order (what search looks through; read once per layout)."""
        if self.json_pretty:
            return [clean(self._raw_row_text(index), one_line=True) for index in range(len(self._rows))]
        cache = self._cache
        cache.use_layout(self._layout_key())
        # Inline rather than cache.text per row: search runs this over every shown row (50,000 of them).
        texts, make, first, shown = cache.texts, self._line_text, self._first_seq, []
        for seq, _ in self._rows:
            text = texts[seq - first]
            if text is None:
                text = texts[seq - first] = make(seq - first, None)
            shown.append(text)
        return shown

    def _line_text(self, offset: int, parsed_line: ParsedLine | None = None) -> str:
        """The row text of the one-row line at buffer ``offset`` under the current layout."""
        line = self.lines[offset]
        if isinstance(line, str) or self.raw:
            text = line if isinstance(line, str) else line[3]
            return clean(text if self.show_timestamps else TIMESTAMP.sub("", text, count=1), one_line=True)
        return plain_text(self._pretty_spans(line, parsed_line))

    def _pretty_spans(self, line: tuple[str, str, str, str], parsed_line: ParsedLine | None = None) -> list[Span]:
        width = max(20, self.size.width - len(self.prefix(line)))
        return format_pretty(parsed_line or parsed(line[3]), width, show_time=self.show_times)

    def _pretty_text(self, index: int) -> Text | None:
        """The row read into columns (time, level, message, fields), or None when it is shown as written."""
        if self.raw or self.json_pretty:
            return None
        seq, _ = self._rows[index]
        line = self.lines[seq - self._first_seq]
        if isinstance(line, str):
            return None
        spans = self._pretty_spans(line)
        text = Text()
        for span in spans:
            text.append(span.text, self._span_style(span.style))
        return text

    def _span_style(self, name: str) -> Style | None:
        if not name or name == "log.message":
            return None
        if name.startswith("log.level."):
            return self.get_component_rich_style(
                f"log-view--{name.removeprefix('log.level.').replace('trace', 'debug')}"
            )
        if name == "log.time":
            return self.get_component_rich_style("log-view--time")
        return self.get_component_rich_style("log-view--field")

    def _raw_row_text(self, index: int) -> str:
        seq, sub = self._rows[index]
        line = self.lines[seq - self._first_seq]
        text = line if isinstance(line, str) else line[3]
        return raw_row_text(text, sub, show_timestamps=self.show_timestamps, json_pretty=self.json_pretty)

    def render_line(self, y: int) -> Strip:
        try:
            return self._render_line(y)
        except Exception:  # noqa: BLE001 - no line's content may break the view: it is shown as written, cleaned
            width = self.size.width
            index = int(self.scroll_y) + y
            if index >= len(self._rows):
                return Strip.blank(width, self.rich_style)
            line = self.lines[self._rows[index][0] - self._first_seq]
            text = clean(line if isinstance(line, str) else line[3], one_line=True)
            return Strip([Segment(text, self.rich_style)]).crop(0, width).extend_cell_length(width, self.rich_style)

    def _render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.paused and y == self.scrollable_content_region.height - 1:
            bar = f" PAUSED — {self.new_while_paused:,} new lines (space resumes)"
            return Strip([Segment(bar.ljust(width)[:width], self.get_component_rich_style("log-view--bar"))])
        index = int(self.scroll_y) + y
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        seq, sub = self._rows[index]
        line = self.lines[seq - self._first_seq]
        base = self.rich_style
        if not isinstance(line, str):
            number = self._pods.get(line[1], 0)  # one colour per pod, kept while it is tailed
            prefix = self.prefix(line) if sub == 0 else " " * len(self.prefix(line))
            segments = [Segment(prefix, base + self.get_component_rich_style(f"log-view--source-{number}"))]
            text_style = base
        else:
            segments = [Segment("! ", base + self.get_component_rich_style("log-view--error"))]
            text_style = base + self.get_component_rich_style("log-view--error")
        pretty = self._pretty_text(index) if not isinstance(line, str) else None
        if pretty is not None:
            match_style = self._match_style(index == self._match)
            segments.extend(highlighted_text(pretty, self.search_pattern, base, match_style, self.app.console))
        else:
            match_style = text_style + self._match_style(index == self._match)
            segments.extend(highlighted(self.row_text(index), self.search_pattern, text_style, match_style))
        strip = Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.extend_cell_length(width, base)

    def _match_style(self, current: bool) -> Style:
        style = self.get_component_rich_style("log-view--match")
        return style + Style(bold=True, underline=True) if current else style

    # -- saving -----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> int:
        """Write every buffered line (unfiltered, with its source prefix) to ``path``; returns the number written."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for line in self.lines:
                out.write(f"! {line}\n" if isinstance(line, str) else "{} {}/{} {}\n".format(*line))
        return len(self.lines)

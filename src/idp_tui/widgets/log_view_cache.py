"""What a log view has read of each buffered line, kept beside it so no line is read twice.

Two readings per line: its level (for the level filter, which also keeps a stack trace with the error above it)
and its row text under the current layout (what search looks through). Both are made lazily, when a filter or a
search first needs them, and while the stream is quiet :meth:`LineCache.read_ahead` makes them a few milliseconds
at a time, so changing the level floor or searching 50,000 lines looks up what is already there instead of parsing
every line on the event loop.

Both are kept as a ``bytearray`` and a list of strings: objects the garbage collector does not track, so a full
buffer adds nothing to each collection's work. Nothing here imports Textual: the view owns the timer and says how a
row's text is made.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ..kube.log_lines import Level, ParsedLine, continues, parse_line

# A buffered line: (cluster, pod, container, text), or a stream error as a plain string.
Entry = tuple[str, str, str, str] | str
# Makes the row text of the one-row line at a buffer offset, from its reading when one was just made.
LineText = Callable[[int, ParsedLine | None], str]

# A buffered line's level code: a Level's value, or one of these.
UNREAD = 255  # not read yet
UNLEVELLED = 6  # no level
CONTINUES = 7  # no level, and reads like the rest of the entry above it (a stack frame)
LEVEL_OF = (*Level, None, None)  # level code -> Level (or None)
# Reading ahead while the stream is quiet: this many seconds of work every WARM_EVERY seconds.
WARM_BUDGET = 0.008
WARM_EVERY = 0.05


class LineCache:
    """Each buffered line's level code and row text, index for index with the view's buffer.

    Args:
        lines: The view's buffer (the same deque for the view's life: it is cleared and extended, never replaced).
        line_text: Makes a one-row line's text under the current layout (see :attr:`text_key`).
    """

    def __init__(self, lines: deque[Entry], line_text: LineText) -> None:
        self.lines = lines
        self.line_text = line_text
        self.levels = bytearray()  # a level code per line, UNREAD until read
        self.texts: list[str | None] = []  # a list: search reads it at random, and trimming is one memmove
        # The layout the texts were made under (None: none made yet); a new layout makes them all again.
        self.text_key: tuple | None = None
        self.appended = False  # lines arrived since the last read-ahead tick
        self.warm_from = 0  # buffer offset the read-ahead resumes at

    def added(self, count: int) -> None:
        """``count`` lines were appended to the buffer, all unread."""
        self.levels.extend(bytes((UNREAD,)) * count)
        self.texts.extend([None] * count)
        self.appended = True

    def dropped(self, count: int) -> None:
        """The oldest ``count`` lines left the buffer."""
        del self.levels[:count]
        del self.texts[:count]
        self.warm_from = max(0, self.warm_from - count)

    def clear(self) -> None:
        """The buffer was emptied."""
        self.levels.clear()
        self.texts.clear()
        self.warm_from = 0

    def read(self, offset: int, parsed_line: ParsedLine | None = None) -> int:
        """Read the buffered line at ``offset`` once: its level code is kept beside it (and returned)."""
        if parsed_line is None:
            parsed_line = parse_line(self.lines[offset][3])
        level = parsed_line.level
        code = level.value if level is not None else CONTINUES if continues(parsed_line) else UNLEVELLED
        self.levels[offset] = code
        return code

    def use_layout(self, key: tuple) -> None:
        """Row texts are wanted under layout ``key``: when it changed, every text is made again (lazily)."""
        if key != self.text_key:
            self.text_key = key
            self.texts = [None] * len(self.lines)
            self.warm_from = 0

    def text(self, offset: int) -> str:
        """The row text of the one-row line at ``offset`` under the layout :meth:`use_layout` last named."""
        text = self.texts[offset]
        if text is None:
            text = self.texts[offset] = self.line_text(offset, None)
        return text

    def read_ahead(self, key: tuple | None, text_needs_parse: bool) -> None:
        """While no lines arrive, read buffered lines ahead of need, a few milliseconds a tick.

        Args:
            key: The current layout, when lines are shown one row each (their texts are made too); None otherwise.
            text_needs_parse: Making a row text reads the line (pretty), so one parse serves both readings.
        """
        if self.appended:  # the stream is busy: reading now would compete with it
            self.appended = False
            return
        if key is not None:
            self.use_layout(key)
        lines, codes, texts = self.lines, self.levels, self.texts
        offset, end = self.warm_from, len(lines)
        deadline = time.perf_counter() + WARM_BUDGET
        while offset < end:
            if offset % 32 == 0 and time.perf_counter() > deadline:
                break
            line = lines[offset]
            if not isinstance(line, str):
                unread, untexted = codes[offset] == UNREAD, key is not None and texts[offset] is None
                parsed_line = parse_line(line[3]) if unread or (untexted and text_needs_parse) else None
                if unread:
                    self.read(offset, parsed_line)
                if untexted:
                    texts[offset] = self.line_text(offset, parsed_line)
            offset += 1
        self.warm_from = offset

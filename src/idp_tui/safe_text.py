"""Text from catalogs, templates, backends and logs made safe to put on a terminal.

A catalog entry, a template or a backend's answer is written by other people. A title holding ``ESC ] 52``
writes to the reader's clipboard, ``ESC [ 2 J`` clears their screen, ``ESC ] 0`` retitles their window, and
C1 controls (``U+009B`` is a one-character CSI) do the same on terminals that honour them. Every string from
those sources passes through :func:`clean` before a headless command prints it or the TUI draws it. Escape
sequences are removed whole (not just their ``ESC``, which would leave ``]52;c;…`` behind), other control
characters are dropped, and the bidirectional overrides that make text read differently from what it is
("Trojan source") are dropped too. idp-tui's own OSC 8 links and OSC 52 copies are made after cleaning, so
they are unaffected.

This module imports nothing but ``re``: the domain, the commands and the widgets all use it.
"""

from __future__ import annotations

import re

# ESC-introduced sequences, as ECMA-48 defines them (and as terminals parse them):
#   CSI  ESC [ params intermediates final      (also the 8-bit CSI U+009B)
#   OSC  ESC ] ... BEL or ST                   (also U+009D); an unterminated one runs to the end
#   DCS, SOS, PM, APC: ESC P/X/^/_ ... ST      (also U+0090, U+0098, U+009E, U+009F)
#   any other ESC + one character (ESC c resets the terminal, ESC 7/8 save/restore the cursor)
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])(?:[^\x07\x1b\x9c]*)(?:\x07|\x1b\\|\x9c|$)"
_OTHER_ESCAPE = r"\x1b[ -/]*[0-~]?"
_SEQUENCE = re.compile(f"{_STRING}|{_CSI}|{_OTHER_ESCAPE}")
_SGR = re.compile(r"(?:\x1b\[|\x9b)[0-9;:]*m")

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional embeddings, overrides and
# isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI).
_CONTROLS = "".join(chr(c) for c in [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)])
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Lone surrogates: JSON may hold them ("\ud800"), UTF-8 cannot, and a terminal write would raise on one. Each
# becomes U+FFFD, as Go's JSON decoder (Kubernetes, Backstage's clients) reads it: the reader sees that something
# was there.
_SURROGATE = re.compile("[\ud800-\udfff]")
_DROP_MULTILINE = {ord(ch): None for ch in _CONTROLS + _BIDI}
_DROP_ONE_LINE = {**_DROP_MULTILINE, ord("\n"): " ", ord("\t"): " "}
# The characters whose presence means there is anything to do (the fast path skips clean strings).
_UNSAFE = re.compile(f"[{re.escape(_CONTROLS + _BIDI)}\n\t]")
_UNSAFE_MULTILINE = re.compile(f"[{re.escape(_CONTROLS + _BIDI)}]")


def clean(text: str, *, one_line: bool = False) -> str:
    """``text`` without escape sequences or control characters.

    Args:
        text: a string from a catalog, template, backend or log.
        one_line: also turn newlines and tabs into spaces (table cells, list rows, one-line messages).

    Returns:
        The printable text; an already clean string is returned as it is, without copying.
    """
    if not isinstance(text, str):
        text = str(text)
    # Surrogates are looked for apart, and only in text beyond ASCII: a range of them in the patterns above would
    # cost every start-up a third of a millisecond compiling them.
    surrogates = not text.isascii() and _SURROGATE.search(text) is not None
    if not surrogates and (_UNSAFE if one_line else _UNSAFE_MULTILINE).search(text) is None:
        return text
    without_sequences = _SEQUENCE.sub("", text) if ("\x1b" in text or _has_c1_introducer(text)) else text
    cleaned = without_sequences.translate(_DROP_ONE_LINE if one_line else _DROP_MULTILINE)
    return _SURROGATE.sub("\ufffd", cleaned) if surrogates else cleaned


def clean_keep_colours(text: str) -> str:
    """``text`` keeping only its SGR colour sequences (``ESC [ … m``): for log lines shown with ``--color``.

    Every other sequence and control character is removed, as by :func:`clean`.
    """
    if "\x1b" not in text and "\x9b" not in text:
        return clean(text)
    kept: list[str] = []
    position = 0
    for match in _SGR.finditer(text):
        kept.append(clean(text[position : match.start()]))
        sequence = match.group(0)
        kept.append("\x1b[" + (sequence[2:] if sequence.startswith("\x1b[") else sequence[1:]))
        position = match.end()
    kept.append(clean(text[position:]))
    return "".join(kept)


def _has_c1_introducer(text: str) -> bool:
    return any(ch in text for ch in "\x90\x98\x9b\x9d\x9e\x9f")


def install_terminal_filter() -> None:
    """Make Rich's ``Text`` and Textual's ``Content`` drop every control character, not only their five.

    Defence in depth for the TUI and the commands: the render layer cleans what it takes from catalogs and
    backends with :func:`clean`, and any string that reaches a ``Text`` or ``Content`` some other way still
    loses its control characters (an ``ESC`` without which no sequence can act). Both libraries strip
    control codes through one module-level translation table, meant as their single list of codes that
    break output; this adds the rest of C0, DEL and C1 to it. Idempotent.
    """
    import rich.control

    tables = [rich.control._CONTROL_STRIP_TRANSLATE]
    try:
        import sys

        content = sys.modules.get("textual.content")
        if content is not None:
            tables.append(content._CONTROL_STRIP_TRANSLATE)
    except AttributeError:  # pragma: no cover - another Textual layout: Rich's table still applies
        pass
    for table in tables:
        # The bidi overrides too: they are not controls to Rich or Textual, so nothing else would drop them there.
        table.update({ord(ch): None for ch in _CONTROLS + _BIDI if ch not in "\t\n"})
        table.update(dict.fromkeys(range(0xD800, 0xE000), "\ufffd"))  # see _SURROGATE

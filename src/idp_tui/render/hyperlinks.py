"""Links a terminal can act on: OSC 8 hyperlinks and OSC 52 clipboard copies (both work over SSH and in tmux).

idp-tui never launches a browser: a bastion has no display. A link is printed so the terminal can open it, and
can be copied to the clipboard of the machine the person sits at. Which links an entity carries is catalog
knowledge (:mod:`idp_tui.catalog.links`).
"""

from __future__ import annotations

import base64

ESC = "\x1b"
BEL = "\x07"
ST = f"{ESC}\\"


def osc8(text: str, url: str) -> str:
    """``text`` as a terminal hyperlink to ``url`` (terminals without OSC 8 show just the text)."""
    safe = "".join(ch for ch in url if ch.isprintable() and ch not in "\x1b\x07")
    return f"{ESC}]8;;{safe}{ST}{text}{ESC}]8;;{ST}"


def osc52(text: str, *, inside_tmux: bool = False) -> bytes:
    """The bytes that put ``text`` on the local clipboard; inside tmux, wrapped so tmux passes them through."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"{ESC}]52;c;{payload}{BEL}"
    if inside_tmux:
        # tmux's DCS passthrough: every ESC of the inner sequence is doubled.
        sequence = f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"
    return sequence.encode("ascii")

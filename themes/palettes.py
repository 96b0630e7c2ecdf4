"""idp-tui's built-in colour themes, as Textual themes.

Every colour the program shows comes from these variables (the stylesheets name ``$primary``, ``$error``...),
so a theme is the only place a colour is written. Each palette keeps ordinary text at 4.5:1 or better against
its backgrounds (7:1 in the high-contrast theme); ``tests/test_themes.py`` measures every rendered cell.
"""

from __future__ import annotations

from textual.theme import Theme

DEFAULT_THEME = "idp-dark"

IDP_DARK = Theme(
    name="idp-dark",
    primary="#4F9CEB",
    secondary="#2F6DB5",
    accent="#F2A93B",
    warning="#F2C14E",
    error="#F0707A",
    success="#5CC98A",
    foreground="#E4E6EB",
    background="#15171C",
    surface="#1C1F26",
    panel="#262A33",
    dark=True,
    variables={
        # Textual's muted text (60% foreground) falls under 4.5:1 on the panels; this grey keeps it readable.
        "text-muted": "#A9AEB8",
        "text-disabled": "#8D939E",  # placeholders: faint, yet 4.5:1 on the input's background
        "footer-key-foreground": "#7DB8F5",
        "block-cursor-background": "#2F6DB5",
        "block-cursor-foreground": "#FFFFFF",
    },
)

IDP_LIGHT = Theme(
    name="idp-light",
    primary="#1F5FAD",
    secondary="#3B7DD8",
    accent="#A35200",
    warning="#8A5A00",
    error="#B3261E",
    success="#1E7B3A",
    foreground="#1B1D22",
    background="#F7F7F9",
    surface="#FFFFFF",
    panel="#E3E6EC",
    dark=False,
    variables={
        "text-muted": "#50555F",
        "text-disabled": "#6B7079",
        "footer-key-foreground": "#1F5FAD",
        "block-cursor-background": "#1F5FAD",
        "block-cursor-foreground": "#FFFFFF",
    },
)

# Pure black and white with saturated accents: for low vision, bright rooms and poor projectors.
IDP_HIGH_CONTRAST = Theme(
    name="idp-high-contrast",
    primary="#FFD60A",
    secondary="#6CB4FF",
    accent="#FFD60A",
    warning="#FFD60A",
    error="#FF7B7B",
    success="#5CFF8A",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    dark=True,
    text_alpha=1.0,
    variables={
        "text-muted": "#E0E0E0",
        "text-disabled": "#C8C8C8",
        "footer-key-foreground": "#FFD60A",
        "block-cursor-background": "#FFD60A",
        "block-cursor-foreground": "#000000",
        "block-cursor-blurred-background": "#FFFFFF",
        "block-cursor-blurred-foreground": "#000000",
        "border": "#FFD60A",
        "border-blurred": "#FFFFFF",
    },
)

# Only the terminal's own 16 colours: what the user's palette says "blue" is, is what they see. Right for
# terminals without 256 colours and for people who tuned their palette for their eyes.
IDP_ANSI16 = Theme(
    name="idp-ansi16",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    accent="ansi_magenta",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        # Textual's own stylesheets ask for these two in ANSI themes.
        "ansi-background": "ansi_default",
        "ansi-foreground": "ansi_default",
        # A focused field is not tinted: text on a full ANSI blue is unreadable in many palettes (2.6:1 in
        # Monokai); the reversed cursor shows focus instead.
        "primary-muted": "ansi_default",
        "border": "ansi_blue",
        "border-blurred": "ansi_bright_black",
        # The cursor row is reversed rather than painted: readable in any palette.
        "block-cursor-foreground": "ansi_default",
        "block-cursor-background": "ansi_default",
        "block-cursor-text-style": "reverse bold",
        "block-cursor-blurred-foreground": "ansi_default",
        "block-cursor-blurred-background": "ansi_default",
        "block-cursor-blurred-text-style": "underline",
        "footer-key-foreground": "ansi_default",
        "footer-foreground": "ansi_default",
        "footer-background": "ansi_default",
        "footer-description-foreground": "ansi_default",
        "input-cursor-background": "ansi_default",
        "input-cursor-foreground": "ansi_default",
        "input-cursor-text-style": "reverse",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
    },
)

BUILTIN_THEMES: dict[str, Theme] = {theme.name: theme for theme in (IDP_DARK, IDP_LIGHT, IDP_HIGH_CONTRAST, IDP_ANSI16)}

# Under NO_COLOR every colour is dropped, so position must be told by text style: the cursor row is reversed
# (bold when focused) and the unfocused one underlined, in whichever theme is chosen.
NO_COLOR_VARIABLES: dict[str, str] = {
    "block-cursor-text-style": "reverse bold",
    "block-cursor-blurred-text-style": "reverse",
    "input-cursor-text-style": "reverse",
}

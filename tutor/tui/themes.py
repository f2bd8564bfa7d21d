"""Themes: Textual's own, plus a high-contrast one that reads on a projector.

The grids follow the theme: when the high-contrast theme is active, `TutorApp.high_contrast`
is True and the visualizer draws its grids with `GridView(high_contrast=True)` (black to
white with one blue/red accent), so nothing depends on a colour a projector washes out.
"""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = "tutor-high-contrast"
DEFAULT_THEME = "textual-dark"

# Pure black and white with saturated accents: a projector washes out mid-tones and
# dark greys, so every colour here is either full brightness or black.
HIGH_CONTRAST_THEME = Theme(
    name=HIGH_CONTRAST,
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffaa00",
    error="#ff3333",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    boost="#222222",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
    variables={
        "border": "#ffffff",
        "border-blurred": "#bbbbbb",
        "footer-key-foreground": "#ffff00",
        "footer-description-foreground": "#ffffff",
        "footer-background": "#000000",
        "input-cursor-background": "#ffff00",
        "input-selection-background": "#ffff00 60%",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "markdown-h1-color": "#ffff00",
        "markdown-h2-color": "#ffff00",
        "markdown-h3-color": "#00ffff",
        "scrollbar": "#bbbbbb",
        "scrollbar-hover": "#ffffff",
        "scrollbar-active": "#ffff00",
    },
)

THEMES = (HIGH_CONTRAST_THEME,)


def is_high_contrast(theme_name: str) -> bool:
    return theme_name == HIGH_CONTRAST

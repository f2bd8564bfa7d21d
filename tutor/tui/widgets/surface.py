"""The 2-D surface view as a Textual widget: a thin wrapper around tutor.views.surface.

It holds no maths and draws nothing of its own: the view composes the runs' current state
at the widget's size. A step changes few lines (the status, the cells the paths moved
through, the panel's numbers), so the widget keeps each line's strip and repaints only the
lines whose text changed; the contour chart itself is cached by the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from rich.text import Text
from textual.events import Resize
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tutor.engine import Run
from tutor.views.surface import surface_view


class SurfaceView(Widget):
    """Contours, every run's path and per-axis g, v and step for two-parameter problems."""

    DEFAULT_CSS = """
    SurfaceView {
        width: 1fr;
        height: 1fr;
        min-height: 12;
    }
    """

    def __init__(
        self,
        runs: Sequence[Run],
        *,
        high_contrast: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.runs = list(runs)
        self.high_contrast = high_contrast
        self.highlight: tuple[str, ...] = ()
        self.phases: list[Mapping[str, np.ndarray] | None] | None = None
        self.note = ""
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._drawn_for: tuple[object, ...] | None = None  # size, theme: a change redraws every line

    def show(
        self,
        runs: Sequence[Run] | None = None,
        highlight: Sequence[str] = (),
        phases: Sequence[Mapping[str, np.ndarray] | None] | None = None,
        note: str = "",
    ) -> None:
        """Redraw for the runs' current step (or new runs), with a narrated phase's arrays if given;
        `note` (e.g. which keys change the problem) ends the status line."""
        if runs is not None:
            self.runs = list(runs)
        self.highlight = tuple(highlight)
        self.phases = list(phases) if phases is not None else None
        self.note = note
        self._update_lines()

    def on_resize(self, event: Resize) -> None:
        self._update_lines()

    def lines(self) -> list[str]:
        """What the widget shows, as plain text (for tests and the curious)."""
        return [line.plain for line in self._lines]

    def _update_lines(self) -> None:
        width, height = self.size
        if width <= 0 or height <= 0 or not self.runs:
            return
        text = surface_view(
            self.runs,
            max(width, 20),
            max(height, 8),
            colour=True,
            high_contrast=self.high_contrast,
            highlight=self.highlight,
            phases=self.phases,
            note=self.note,
        )
        lines = list(text.split("\n", allow_blank=True))[:height]
        old, self._lines = self._lines, lines
        drawn_for = (width, height, self.high_contrast, self.rich_style)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._strips.clear()
            self.refresh()
            return
        for y in range(max(len(old), len(lines))):
            if y >= len(old) or y >= len(lines) or old[y] != lines[y]:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            width = self.size.width
            style = self.rich_style
            if y < len(self._lines):
                line = self._lines[y]
                strip = Strip(list(line.render(self.app.console)), line.cell_len)
                strip = strip.crop_extend(0, width, style).apply_style(style)
            else:
                strip = Strip.blank(width, style)
            self._strips[y] = strip
        return strip

"""The 2-D surface view as a Textual widget: a thin wrapper around tutor.views.surface.

It holds no maths and no drawing of its own: `render` asks the view for the runs' current
state at the widget's size. The contour chart is cached by the view, so a step costs only
the paths and the per-axis panel.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from rich.console import RenderableType
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

    def show(
        self,
        runs: Sequence[Run] | None = None,
        highlight: Sequence[str] = (),
        phases: Sequence[Mapping[str, np.ndarray] | None] | None = None,
    ) -> None:
        """Redraw for the runs' current step (or new runs), with a narrated phase's arrays if given."""
        if runs is not None:
            self.runs = list(runs)
        self.highlight = tuple(highlight)
        self.phases = list(phases) if phases is not None else None
        self.refresh()

    def render(self) -> RenderableType:
        width, height = self.size
        return surface_view(
            self.runs,
            max(width, 20),
            max(height, 8),
            colour=True,
            high_contrast=self.high_contrast,
            highlight=self.highlight,
            phases=self.phases,
        )

"""The 2-D surface view as a Textual widget: a thin wrapper around tutor.views.surface.

It holds no maths and draws nothing of its own: the view composes the frame's runs at the
widget's size. A step changes few lines (the status, the cells the paths moved through, the
panel's numbers), and the line-diff base repaints only those; the contour chart itself is
cached by the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import var

from tutor.engine import Hyperparameters, Record, Run
from tutor.engine.phases import Phase
from tutor.tui.widgets.panels import TextLinesPanel
from tutor.views.surface import surface_view


@dataclass(frozen=True)
class SurfaceFrame:
    """Every run at its record; mid-update, the `narrated` run shows `phase`'s arrays; `note` ends the status."""

    runs: tuple[Run, ...]
    records: tuple[Record, ...]  # the runs' current ones: a step is a new frame
    hps: tuple[Hyperparameters, ...]  # the runs' own (the key names them): an edit is a new frame
    phase: Phase | None = None
    narrated: int = 0
    high_contrast: bool = False
    note: str = ""


class SurfaceView(TextLinesPanel):
    """Contours, every run's path and per-axis g, v and step for two-parameter problems."""

    DEFAULT_CSS = """
    SurfaceView {
        width: 1fr;
        height: 1fr;
        min-height: 12;
    }
    """

    frame: var[SurfaceFrame | None] = var(None, init=False)

    def lines(self) -> list[str]:
        """What the widget shows, as plain text (for tests and the curious)."""
        return [line.plain for line in self._texts]

    def text_lines(self, frame: SurfaceFrame | None, width: int, height: int) -> Sequence[Text]:
        if frame is None or width <= 0 or height <= 0:
            return ()
        phase = frame.phase
        text = surface_view(
            frame.runs,
            max(width, 20),
            max(height, 8),
            colour=True,
            high_contrast=frame.high_contrast,
            highlight=(phase.highlight,) if phase is not None else (),
            phases=[phase.arrays if phase is not None and i == frame.narrated else None for i in range(len(frame.runs))],
            note=frame.note,
        )
        return list(text.split("\n", allow_blank=True))[:height]

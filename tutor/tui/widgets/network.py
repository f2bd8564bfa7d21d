"""The digits network's panel: layer bars, a heat map of the layer under the cursor, test digits (tutor.views.network)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import var

from tutor.engine import Record, Run
from tutor.engine.digits import as_network
from tutor.tui.widgets.panels import TextLinesPanel
from tutor.views.network import network_lines

RESERVED_ROWS = 13  # status, narration, controls, footer, a loss chart of 6 rows and, when narrow, the inspector under it


@dataclass(frozen=True)
class NetworkFrame:
    run: Run
    record: Record  # the run's current one, or a narrated phase's half-updated arrays: a step is a new frame
    quantity: str  # W, g, v or the step size
    cursor: int
    running: bool = False  # in run mode the test loss is every 10th step's (judging 360 images costs)


class NetworkPanel(TextLinesPanel, can_focus=True):
    """Draws the frame it is given, at its size."""

    frame: var[NetworkFrame | None] = var(None, init=False)
    _measured: tuple[NetworkFrame, int, Sequence[Text]] | None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As tall as it has lines for, leaving RESERVED_ROWS of the screen to the rest (the loss chart among them)."""
        lines = self.text_lines(self.frame, width, max(viewport.height - RESERVED_ROWS, 4))
        if self.frame is not None:
            self._measured = (self.frame, width, lines)
        return len(lines)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: LRUCache[tuple[NetworkFrame, int, int], Sequence[Text]] = LRUCache(4)  # the frame drawn ahead, too
        # The lines the layout measured the panel's height by: drawn as they are at that height, not drawn again.
        self._measured = None

    def text_lines(self, frame: NetworkFrame | None, width: int, height: int) -> Sequence[Text]:
        """The frame's lines, drawn once per size: the frame drawn ahead (the next step's) is then a lookup."""
        if frame is None or width <= 0:
            return ()
        lines = self._drawn.get((frame, width, height))
        if lines is None and self._measured is not None:
            measured_frame, measured_width, measured = self._measured
            if measured_frame is frame and measured_width == width and len(measured) == height:
                lines = measured
        if lines is None:
            layer = as_network(frame.run.problem).layer_of(frame.cursor)
            lines = network_lines(frame.run, layer, frame.quantity, frame.cursor, width, height, frame.running, frame.record)
            self._drawn.set((frame, width, height), lines)
        return lines

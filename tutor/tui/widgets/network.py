"""The digits network's panel: layer bars, a heat map of the layer under the cursor, test digits (tutor.views.network)."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size

from tutor.engine import Run
from tutor.engine.digits import as_network
from tutor.tui.widgets.panels import TextLinesPanel
from tutor.views.network import network_lines

RESERVED_ROWS = 13  # status, narration, controls, footer, a loss chart of 6 rows and, when narrow, the inspector under it


class NetworkPanel(TextLinesPanel, can_focus=True):
    """Told what to show with `show`; draws at its size when next painted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Run, str, int, bool] | None = None
        self._key: tuple | None = None

    def show(self, run: Run, quantity: str, cursor: int, running: bool = False) -> None:
        self._shown = (run, quantity, cursor, running)
        if (id(run), id(run.current), quantity, cursor, running) != self._key:
            self.redraw()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As tall as it has lines for, leaving RESERVED_ROWS of the screen to the rest (the loss chart among them)."""
        return len(self.text_lines(width, max(viewport.height - RESERVED_ROWS, 4)))

    def text_lines(self, width: int, height: int) -> list[Text]:
        if self._shown is None or width <= 0:
            return []
        run, quantity, cursor, running = self._shown
        self._key = (id(run), id(run.current), quantity, cursor, running)
        layer = as_network(run.problem).layer_of(cursor)
        return network_lines(run, layer, quantity, cursor, width, height, running)

"""The baseline: a bare Textual app with one text widget, importing numpy and plotext as tutor does.

`space` counts a step, `q` quits. The benchmark compares tutor's launch and key latency with this.
"""

from __future__ import annotations

import numpy  # noqa: F401  (imported for its start-up cost, as tutor imports it)
import plotext  # noqa: F401
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static


class BareApp(App[None]):
    BINDINGS = [Binding("space", "step", "Step"), Binding("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.step = 0

    def compose(self) -> ComposeResult:
        yield Static("update 0", id="counter")

    def action_step(self) -> None:
        self.step += 1
        self.query_one("#counter", Static).update(f"update {self.step}")


if __name__ == "__main__":
    BareApp().run()

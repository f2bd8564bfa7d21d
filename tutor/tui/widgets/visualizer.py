"""The step visualizer: grids, loss chart, status, inspector and narrated phases for one or more runs.

Placeholder published early so the app can code against the contract; the full widget follows.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tutor.engine import Run
from tutor.views.status import status_line

VIEWS = ("matrix", "chain", "surface", "race")


class Visualizer(Widget, can_focus=True):
    """Steps one run, or several together (compare mode, the race), and shows what happens inside."""

    BINDINGS = [
        Binding("space", "step", "Step"),
        Binding("b", "back", "Back"),
    ]

    step: reactive[int] = reactive(0, init=False)

    class Stepped(Message):
        """Posted after each change of the shown step (lesson screens save progress with it)."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(
        self, runs: list[Run], view: str = "matrix", hidden: frozenset[str] = frozenset(), *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        if not runs:
            raise ValueError("the visualizer needs at least one run")
        self.runs = list(runs)
        self.view = view if view in VIEWS else "matrix"
        self.hidden = frozenset(hidden)
        self.selected = 0

    @property
    def run(self) -> Run:
        return self.runs[self.selected]

    def compose(self) -> ComposeResult:
        yield Static(status_line(self.run), id="status")

    def watch_step(self, step: int) -> None:
        for run in self.runs:
            run.goto(step)
        self.query_one("#status", Static).update(status_line(self.run))
        self.post_message(self.Stepped(step))

    def action_step(self) -> None:
        self.step += 1

    def action_back(self) -> None:
        self.step = max(0, self.step - 1)

    def state(self) -> dict[str, Any]:
        """What a share code needs: problem spec, optimizer keys, hyperparameters, step, view, hidden panels."""
        return {
            "problem": self.run.problem.spec(),
            "optimizers": [run.optimizer.key for run in self.runs],
            "hp": self.run.hp.as_dict(),
            "step": self.step,
            "view": self.view,
            "hidden": sorted(self.hidden),
        }

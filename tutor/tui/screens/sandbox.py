"""The sandbox: the visualizer alone, for free play and classroom demos."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen

from tutor.engine import Run
from tutor.tui.widgets.footer import KeyFooter
from tutor.tui.widgets.visualizer import Visualizer


class SandboxScreen(Screen):
    """One visualizer filling the screen, with the keys in the footer (unless a teacher hid it)."""

    AUTO_FOCUS = "#grids"  # focused as the screen starts, before the first frame (not one frame after)

    def __init__(
        self,
        runs: list[Run],
        view: str = "matrix",
        hidden: frozenset[str] = frozenset(),
        start_step: int = 0,
        cursor: int = 0,
        selected: int = 0,
        speed: int | None = None,
    ) -> None:
        super().__init__()
        self.runs = runs
        self.view = view
        self.hidden = frozenset(hidden)
        self.start_step = start_step
        self.shown = {"cursor": cursor, "selected": selected} | ({"speed": speed} if speed else {})  # a share code's

    def compose(self) -> ComposeResult:
        visualizer = Visualizer(self.runs, self.view, self.hidden, id="visualizer")
        for name, value in self.shown.items():  # before the first frame, which draws them
            visualizer.set_reactive(getattr(Visualizer, name), value)
        yield visualizer
        if "footer" not in self.hidden:
            yield KeyFooter()

    def on_mount(self) -> None:
        if self.focused is None or not self.focused.display:  # hidden grids (the network, the surface, --hide grids)
            self.set_focus(self.query_one(Visualizer))  # the keys are the visualizer's, and its focus shows
        if self.start_step:
            self.query_one(Visualizer).go_to_step(self.start_step)

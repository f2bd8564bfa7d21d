"""The step visualizer: grids, loss chart, status, inspector and narrated phases for one or more runs.

Only the visualizer steps the runs. Its state lives in vars (`step`, `cursor`, `selected`,
`running`, `speed`, `hidden`, `grid_page`); every watcher ends in `_show`, which hands each
panel one frozen frame of what to show, and a panel redraws only when its frame changed.
Once a frame is on screen, the next step's records are computed (`Run.record_at`, the run
does not move) and its chart and grids drawn ahead while the app is idle, so a step forward
mostly costs a lookup. An engine fault while stepping is reported once, the steps computed
so far are kept, and the app goes on. No maths here: the engine steps, tutor.views draws.

Which widgets a problem gets is its own type's `view` ("matrix", "chain", "surface": see
docs/architecture.md); this module composes each.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any, cast

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from tutor.crash import fault_notice
from tutor.engine import Hyperparameters, Record, Run
from tutor.engine.cost import update_cost
from tutor.engine.digits import as_network
from tutor.engine.phases import Phase, narrated_update
from tutor.engine.problems import ACTIVATIONS, DeepChain, Valley
from tutor.engine.run import MAX_STEPS
from tutor.tui.widgets.panels import (
    ChartFrame,
    ControlsBar,
    GridsFrame,
    GridsPanel,
    Inspector,
    LayerChart,
    LayerFrame,
    LossChart,
    NarrationBar,
    StatusLine,
)
from tutor.views.format import hyper, significant
from tutor.views.inspector import element_update, phase_update
from tutor.views.status import divergence_message, status_line
from tutor.views.visualizer import phase_record

# What a teacher can hide (`--hide`, share codes, the palette): the panels, then the keys, then the footer.
PANELS = (
    "grids",
    "x",
    "product",
    "grad",
    "mean_square",
    "effective_step",
    "momentum",
    "legend",
    "chart",
    "inspector",
    "status",
    "narration",
    "controls",
)
CONTROLS = ("edit", "run", "jump", "phases")
HIDEABLE = (*PANELS, *CONTROLS, "footer")  # the footer is the screen's: SandboxScreen leaves it out
# The palette offers the big pieces; --hide takes any name above.
PALETTE_PANELS = ("grids", "chart", "inspector", "narration", "controls", "status", "legend")
# Steps per second in run mode; `+`/`-` move along this list.
SPEEDS = (1, 2, 5, 10, 20, 30, 60, 120, 300)
DEFAULT_SPEED = 10
# ~0.1 s of engine work, in updates of the seed matrix (tutor/engine/cost.py: one of the matrix is 0.51 there,
# the digits network about 100): more, and they are computed behind a progress bar
UPDATES_AT_ONCE = 1500
FIRST_PREFETCH_DELAY = 0.15  # s after start-up: the first frame and the footer are on screen by then
TICKS_PER_SECOND = 30  # faster speeds take several steps per tick: one screen update per tick
# Weight scales `<`/`>` step through: around 1, where gradients neither vanish nor explode.
CHAIN_SCALES = (0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0)
CHAIN_DEPTHS = (1, 100)
# Hidden names that switch a control off (panels are hidden by their own names, see panels.GRID_PANELS).
CONTROL_ACTIONS = {"edit": ("edit",), "run": ("run", "faster", "slower"), "jump": ("jump",), "phases": ("next_phase",)}
CHAIN_ACTIONS = ("deeper", "shallower", "scale_up", "scale_down", "activation")
VALLEY_ACTIONS = ("turn", "condition")  # `(` `)` turn the valley, `{` `}` its condition
# Below these the layout goes compact: one row of grids, the inspector under the chart.
WIDE_ENOUGH = 110
TALL_ENOUGH = 34
# Wide and this tall (the sandbox at 120x40): three rows of grids, two a row (seven-character cells keep two
# significant digits, so three no longer fit 120 columns), and the chart under them.
ROOMY = 38
# Shorter than this (a lesson's lower pane at 80x24), a row of grids would push the chart the lesson talks about
# off the screen: the grids and the inspector fold into one line, and `m` (or hiding the chart, or `t`) brings
# them back.
FOLD_GRIDS_BELOW = 20


# A narrated phase's record is drawn from one frame to the next: made once per phase.
_phase_record = lru_cache(maxsize=4)(phase_record)


def _update(panel: Static, text: Text) -> None:
    """Show `text`; lay the screen out again only if the panel may need another height (that costs more)."""
    old = panel.content
    if isinstance(old, Text) and old == text:
        return  # unchanged: no repaint
    width = max(panel.content_size.width, 1)
    same_shape = isinstance(old, Text) and [len(line) // width for line in old.plain.split("\n")] == [
        len(line) // width for line in text.plain.split("\n")
    ]
    panel.update(text, layout=not same_shape)


class Visualizer(Widget, can_focus=True):
    """Steps one run, or several together (compare mode, the race), and shows what happens inside.

    `hidden` names panels and controls a teacher hides for a demo: grids ("grids" for all, or
    one of x, product, grad, mean_square, effective_step, momentum), "legend", "chart",
    "inspector", "status", "narration", "controls", and the keys "edit", "run", "jump", "phases".
    """

    BINDINGS = [
        Binding("space", "step", "Update"),
        Binding("b", "back", "Back"),
        Binding("n", "next_phase", "Phase"),
        Binding("r", "run", "Run/pause"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("g", "jump", "Jump"),
        Binding("0", "reset", "Reset"),
        Binding("e", "edit", "Edit"),
        Binding("o", "next_run", "Next run"),
        Binding("m", "more_grids", "More grids"),
        Binding("left_square_bracket", "shallower", "Fewer layers", key_display="["),
        Binding("right_square_bracket", "deeper", "More layers", key_display="]"),
        Binding("less_than_sign,w", "scale_down", "Weight-", key_display="<"),
        Binding("greater_than_sign,W", "scale_up", "Weight+", key_display=">"),
        Binding("a", "activation", "Activation"),
        # The network's keys are named on its heat map's title line.
        Binding("comma", "layer(-1)", "Layer-", key_display=",", show=False),
        Binding("full_stop", "layer(1)", "Layer+", key_display=".", show=False),
        Binding("s", "share", "Share"),  # last: the footer shows it beside the app's keys
        # The valley's keys are named on the surface view's status line: the footer is full.
        Binding("left_parenthesis", "turn(-15)", "Angle-", key_display="(", show=False),
        Binding("right_parenthesis", "turn(15)", "Angle+", key_display=")", show=False),
        Binding("left_curly_bracket", "condition(0.5)", "Condition-", key_display="{", show=False),
        Binding("right_curly_bracket", "condition(2)", "Condition+", key_display="}", show=False),
        Binding("up,k", "move(-1, 0)", "Up", show=False),
        Binding("down,j", "move(1, 0)", "Down", show=False),
        Binding("left,h", "move(0, -1)", "Left", show=False),
        Binding("right,l", "move(0, 1)", "Right", show=False),
    ]

    # vars, not reactives: the visualizer draws nothing itself, its panels redraw from the frames.
    step: var[int] = var(0, init=False)
    """The step on screen; every run stands at it (setting it computes the records up to it)."""
    cursor: var[int] = var(0, init=False)
    """Flat index of the inspected element."""
    selected: var[int] = var(0, init=False)
    """Which run the grids, inspector and status show (compare mode cycles it with `o`)."""
    running: var[bool] = var(False, init=False)
    speed: var[int] = var(DEFAULT_SPEED, init=False)
    """Steps per second in run mode."""
    hidden: var[frozenset[str]] = var(frozenset(), init=False)
    grid_page: var[int] = var(0, init=False)
    """Which page of grids is asked for (`m`), when they do not all fit."""
    caption: var[str] = var("", init=False)
    """A lesson's tour stop: its caption, shown above the status line (empty: no caption line)."""
    quantity: var[str] = var("W", init=False)
    """What the network's heat map shows (`m` cycles it)."""

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
        self.view = view  # the lesson's name for its layout ("race" too): share codes keep it
        self.set_reactive(Visualizer.hidden, frozenset(hidden))
        self.set_reactive(Visualizer.step, self.runs[0].step)
        self.phases: list[Phase] = []
        self.phase_index = -1
        self._timer: Timer | None = None
        self._warned: set[int] = set()  # runs whose divergence already paused run mode
        self._applicable: tuple[object, ...] = ()  # what decided the footer's keys last time
        self._grid_rows = 2  # rows of grids that fit the screen's height
        self._short_of_room = False  # grids and a chart do not both fit the height: the grids fold
        self._unfolded = False  # the learner asked for the grids all the same (`m`)
        self._folded_shown = False  # whether the panels on screen are folded
        self._prefetch_pending = False
        self._prefetched_once = False
        self._run_started, self._run_taken = 0.0, 0  # run mode's clock and the steps it has taken
        self._last_due = 1  # steps the last tick took: more than one when frames come late

    # --- composition ----------------------------------------------------------------

    @property
    def run(self) -> Run:
        """The run the grids show."""
        return self.runs[self.selected]

    def compose(self) -> ComposeResult:
        # Before the panels are mounted: set in on_mount, the class restyled every panel again (~30 ms of a first paint).
        self.set_class(self.is_chain, "-chain")
        yield Static("", id="caption", markup=False)
        yield StatusLine(id="status")
        yield NarrationBar(id="narration")
        yield ControlsBar(id="controls")
        yield GridsPanel(id="grids")
        if self.is_network:
            from tutor.tui.widgets.network import NetworkPanel  # lazy: the matrix view starts without it

            yield NetworkPanel(id="network")
        if self.is_surface:
            from tutor.tui.widgets.surface import SurfaceView  # lazy: the matrix view starts without it

            yield SurfaceView(id="surface")
        with Horizontal(id="bottom"):
            yield LayerChart(id="layers")
            yield LossChart(id="chart")
            yield Inspector(id="inspector")

    def on_mount(self) -> None:
        self.query_one("#caption").display = False
        self._apply_hidden()
        if hasattr(self.app, "high_contrast"):  # TutorApp's; a test's bare app may not have it
            self.watch(self.app, "high_contrast", lambda _: self._show(), init=False)
        self._show()

    def on_resize(self, event: Resize) -> None:
        compact_width = event.size.width < WIDE_ENOUGH
        compact_height = event.size.height < TALL_ENOUGH  # one row of grids, and rows saved for the chart
        self.set_class(compact_width, "-narrow")
        self.set_class(compact_height, "-short")
        self._grid_rows = 1 if compact_height else 3 if event.size.height >= ROOMY and not compact_width else 2
        self._short_of_room = event.size.height < FOLD_GRIDS_BELOW
        self._show()

    @property
    def is_chain(self) -> bool:
        return self.run.problem.view == "chain"

    @property
    def is_network(self) -> bool:
        return self.run.problem.view == "network"  # the digits network: its own panel instead of the grids

    @property
    def high_contrast(self) -> bool:
        return bool(getattr(self.app, "high_contrast", False))

    def _apply_hidden(self) -> None:
        hidden = self.hidden
        for name in ("grids", "chart", "inspector", "status", "narration", "controls"):
            self.query_one(f"#{name}").display = name not in hidden
        self._folded_shown = self.grids_folded
        if self._folded_shown:  # the grids' panel says where they went; the inspector's lines give the chart room
            self.query_one("#inspector").display = False
        if self.is_network:  # "grids" hides the network's panel, which stands in for them
            self.query_one("#grids").display = False
            self.query_one("#network").display = "grids" not in hidden
            self.query_one(f"#{name}").display = name not in hidden
        self.query_one("#layers").display = self.is_chain
        if self.is_surface:  # the surface view has its own status, per-axis numbers and paths
            for name in ("status", "grids", "bottom"):
                self.query_one(f"#{name}").display = False
        focused = self.screen.focused if self.is_attached else None
        if focused is not None and self in focused.ancestors and not focused.display:
            self.focus()  # the hidden panel had the focus: the keys stay with the visualizer
        self.refresh_bindings()

    def watch_hidden(self) -> None:
        self._apply_hidden()
        self._show()

    # --- what the panels show -------------------------------------------------------

    def _phase(self) -> Phase | None:
        return self.phases[self.phase_index] if 0 <= self.phase_index < len(self.phases) else None

    def _mid_update_phase(self) -> Phase | None:
        """The narrated phase whose arrays the grids show; None when no update is half done
        (the last phase is the engine's next record, and the step is taken)."""
        phase = self._phase()
        return phase if phase is not None and self.phase_index < len(self.phases) - 1 else None

    def _inspector_lines(self) -> list[str]:
        """Mid-update the narrated arithmetic so far; otherwise the last whole update's."""
        if self._mid_update_phase() is not None:
            return phase_update(self.run, self.phases, self.phase_index, self.cursor)
        return element_update(self.run, self.cursor)

    def _grids_frame(self) -> GridsFrame:
        run, phase, mid = self.run, self._phase(), self._mid_update_phase()
        return GridsFrame(
            run,
            _phase_record(run, mid) if mid is not None else run.current,
            self.cursor,
            (phase.highlight,) if phase is not None else (),
            self.high_contrast,
            self.hidden,
            self._grid_rows,
            self.grid_page,
            self.grids_folded,
        )

    @property
    def grids_folded(self) -> bool:
        """The grids stand aside for the chart: too short for both, the chart shown, and not asked for (`m`)."""
        return self._short_of_room and "chart" not in self.hidden and not self._unfolded

    def _chart_frame(self, records: list[Record]) -> ChartFrame:
        return ChartFrame(tuple(self.runs), tuple(records), self.high_contrast)

    def _show(self) -> None:
        """Hand every panel its frame for the state on screen (a panel whose frame is unchanged draws nothing)."""
        if not self.children:  # not composed yet: on_mount shows
            return
        if self.grids_folded != self._folded_shown:
            self._apply_hidden()  # the inspector folds with the grids
        run = self.run
        if self.is_network:
            from tutor.tui.widgets.network import NetworkFrame, NetworkPanel

            mid = self._mid_update_phase()  # mid-update the panel shows the phase's arrays, as the grids do
            record = _phase_record(run, mid) if mid is not None else run.current
            self.query_one(NetworkPanel).frame = NetworkFrame(run, record, self.quantity, self.cursor, self.running)
        else:
            self.query_one(GridsPanel).frame = self._grids_frame()
        self.query_one(LossChart).frame = self._chart_frame([run.current for run in self.runs])
        self.query_one(LayerChart).frame = LayerFrame(run, run.current) if self.is_chain else None
        _update(self.query_one(StatusLine), status_line(run))
        _update(self.query_one(Inspector), Text("\n".join(self._inspector_lines())))
        self._show_narration()
        self._show_controls()
        self._update_footer()
        if self.is_surface:
            self._show_surface()
        if not self._prefetch_pending:
            self._prefetch_pending = True
            if self._prefetched_once:
                self.call_after_refresh(self._prefetch)
            else:  # the first one loads plotext (~25 ms): the footer's first build goes first
                self.set_timer(FIRST_PREFETCH_DELAY, self._prefetch)

    def _prefetch(self) -> None:
        """Once the screen is painted, compute the step ahead (the runs stay where they are) and draw its
        chart and grids while the learner reads this one. A fault here is left for the step to report."""
        self._prefetch_pending = False
        self._prefetched_once = True
        if not self.is_attached:
            return
        ahead = max(1, math.ceil(self.speed / TICKS_PER_SECOND)) if self.running else 1
        try:
            records = [run.record_at(self.step + ahead) for run in self.runs]
        except Exception:  # noqa: BLE001 (the engine's fault, met again and reported if the learner steps there)
            return
        if self.running and self._last_due > ahead:  # frames late (the network): the next is not the one drawn ahead
            return
        self.query_one(LossChart).warm(self._chart_frame(records))
        if self._mid_update_phase() is not None:
            return
        if not self.is_network:
            self.query_one(GridsPanel).warm(replace(self._grids_frame(), record=records[self.selected]))
        elif ahead == 1:  # its bars are of the update from the step on screen to the one ahead
            from tutor.tui.widgets.network import NetworkFrame, NetworkPanel

            frame = NetworkFrame(self.run, records[self.selected], self.quantity, self.cursor, self.running)
            self.query_one(NetworkPanel).warm(frame)

    def _update_footer(self) -> None:
        """Refresh the footer's keys only when which keys apply has changed: rebuilding it costs a frame."""
        applicable = (self.step > 0, self.running, self.query_one(GridsPanel).pages > 1, self.is_chain, self.hidden)
        if applicable != self._applicable:
            self._applicable = applicable
            self.refresh_bindings()

    # --- the 2-D surface (valley, rosenbrock) ------------------------------------------

    @property
    def is_surface(self) -> bool:
        return self.run.problem.view == "surface"  # a two-parameter surface: valley, rosenbrock

    @property
    def is_valley(self) -> bool:
        return isinstance(self.run.problem, Valley)

    def _show_surface(self) -> None:
        """Paths and per-axis numbers; mid-update, the selected run shows the phase's arrays."""
        from tutor.tui.widgets.surface import SurfaceFrame, SurfaceView

        self.query_one(SurfaceView).frame = SurfaceFrame(
            tuple(self.runs),
            tuple(run.current for run in self.runs),
            tuple(run.hp for run in self.runs),
            self._mid_update_phase(),
            self.selected,
            self.high_contrast,
            "( ) turn the valley  { } its condition" if self.is_valley else "",
        )

    def _show_narration(self, note: str | None = None) -> None:
        phase = self._phase()
        if note is not None:
            text = Text(note, style="bold")
        elif phase is not None:
            text = Text.assemble((f"phase {self.phase_index + 1}/{len(self.phases)} {phase.name}: ", "bold"), phase.narration)
        elif "phases" in self.hidden:
            text = Text("")
        else:
            text = Text("n: take the next update apart phase by phase   space: the whole update", style="dim")
        _update(self.query_one(NarrationBar), text)

    def _controls_text(self, hints: bool, speed: bool = True) -> Text:
        """Speed, each run's loss (named by its label, as the status line and the chart do), the chain's shape.
        Without `speed` only the run state's sign is left, so that every run's loss fits, as the chart's legend
        names every run."""
        text = Text()
        if speed:
            text.append("▶ running " if self.running else "‖ paused ", style="bold")  # the space inside: see status_line
            per_second = f" update{'s' if self.speed != 1 else ''}/s (+/-)" if hints else "/s"
            text.append(f"{self.speed}{per_second}")
        else:
            text.append("▶" if self.running else "‖", style="bold")
        if len(self.runs) > 1:
            text.append(("   n narrates: " if self.is_surface else "   grids: ") if hints else " ")  # surface: no grids
            for index, run in enumerate(self.runs):
                style = "bold reverse" if index == self.selected else "dim"
                text.append(
                    f" {run.optimizer.label} {significant(run.current.loss, 4)} ", style=style
                )  # 4 digits, zeros kept: the race is close
            if hints:
                text.append(" (o: next run)", style="dim")
        if self.is_chain:
            problem = self._chain
            text.append(f"   {problem.depth} {problem.activation} layers, weight {problem.scale:g}  ([ ] < > a)")
        return text

    def _show_controls(self) -> None:
        text, width = self._controls_text(hints=True), self.size.width - 2  # the bar's padding
        if 0 < width < text.cell_len:  # 80 columns: the runs' names before the key hints
            text = self._controls_text(hints=False)
        if 0 < width < text.cell_len and len(self.runs) > 1:  # three runs beside a lesson's text: every loss, no speed
            text = self._controls_text(hints=False, speed=False)
        _update(self.query_one(ControlsBar), text)

    # --- reactive state -------------------------------------------------------------

    def validate_step(self, step: int) -> int:
        """The step asked for, within 0..MAX_STEPS, once every run's records up to it are computed; an
        engine fault stops at the last step all runs reached (reported once, the steps so far kept)."""
        target = max(0, min(int(step), MAX_STEPS))
        try:
            for run in self.runs:
                run.record_at(target)
        except Exception as error:  # noqa: BLE001 (any engine fault: the learner keeps the app)
            reached = min(len(run.records) - 1 for run in self.runs)
            self.running = False
            self.app.notify(fault_notice(error, f"Stopped at update {reached}"), severity="error")
            return reached
        return target

    def watch_step(self, step: int) -> None:
        for run in self.runs:
            run.goto(step)  # computed by validate_step: only moves
        if self.phase_index != len(self.phases) - 1:  # a finished narration stays readable
            self._clear_phases()
        self._show()
        self.post_message(self.Stepped(step))

    def watch_cursor(self, cursor: int) -> None:
        if self._mid_update_phase() is not None:  # narrate the newly chosen element
            self.phases = narrated_update(self.run, cursor)
        self._show()

    def watch_selected(self) -> None:
        self._clear_phases()
        self._show()

    def watch_caption(self, caption: str) -> None:
        panel = self.query_one("#caption", Static)
        panel.update(caption)
        panel.display = bool(caption)

    def watch_grid_page(self) -> None:
        self._show()

    def watch_quantity(self) -> None:
        self._show()

    def watch_speed(self) -> None:
        if self.running:
            self._start_timer()
        self._show()

    def watch_running(self, running: bool) -> None:
        if running:
            self._warned = {i for i, run in enumerate(self.runs) if divergence_message(run)}
            self._start_timer()
        elif self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._show()

    def _clear_phases(self) -> None:
        self.phases, self.phase_index = [], -1

    # --- run mode -------------------------------------------------------------------

    def _start_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._run_started, self._run_taken = time.monotonic(), 0
        self._timer = self.set_interval(1 / min(self.speed, TICKS_PER_SECOND), self._tick)

    def _tick(self) -> None:
        if not self.running:  # a tick queued before the timer stopped (a fault just paused run mode)
            return
        # Steps due by the clock, not one per tick: a late frame is made up, so the speed shown is the speed run.
        due = int((time.monotonic() - self._run_started) * self.speed) - self._run_taken
        if due <= 0:
            return
        self._run_taken += due
        self._last_due = due
        self.step += due
        if self.step >= MAX_STEPS:  # no run goes further: say so, rather than "running" on the spot
            self.running = False
            self._show_narration(f"Stopped at update {self.step}, the most a run takes: b goes back, 0 starts again.")
            return
        diverging = [i for i, run in enumerate(self.runs) if i not in self._warned and divergence_message(run)]
        if diverging:
            self.running = False
            names = ", ".join(self.runs[i].optimizer.label for i in diverging)
            self._show_narration(f"Paused at update {self.step}: {names} is diverging. Read the warning, then b to go back.")

    # --- actions --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        for control, actions in CONTROL_ACTIONS.items():
            if action in actions and control in self.hidden:
                return False
        if action == "back":
            return self.step > 0
        if action == "next_run":
            return len(self.runs) > 1
        if action == "more_grids":
            return self.is_network or self.grids_folded or (bool(self.children) and self.query_one(GridsPanel).pages > 1)
        if action == "layer":
            return self.is_network
        if action in CHAIN_ACTIONS:
            return self.is_chain
        if action in VALLEY_ACTIONS:
            return self.is_valley
        return True

    def action_step(self) -> None:
        """One whole update (in mid-phase: finish the update)."""
        self._clear_phases()
        self.step += 1

    def action_back(self) -> None:
        self._clear_phases()
        self.step -= 1

    def action_reset(self) -> None:
        self.running = False
        self._clear_phases()
        self.step = 0
        self._show()  # at step 0 already, mid-update: the phases are gone

    def action_run(self) -> None:
        self._clear_phases()
        self.running = not self.running

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def action_next_phase(self) -> None:
        """Advance one phase of the update; the last phase completes it (the same as one step)."""
        self.running = False
        if not self.phases or self.phase_index >= len(self.phases) - 1:
            self.phases, self.phase_index = narrated_update(self.run, self.cursor), 0
        else:
            self.phase_index += 1
        if self.phase_index == len(self.phases) - 1:
            self.step += 1  # the engine's own step: bit for bit the phase's arrays
        self._show()

    def action_next_run(self) -> None:
        self.selected = (self.selected + 1) % len(self.runs)

    def action_more_grids(self) -> None:
        if self.is_network:  # the heat map's next quantity: W, g, v, step size
            from tutor.views.network import QUANTITIES

            self.quantity = QUANTITIES[(QUANTITIES.index(self.quantity) + 1) % len(QUANTITIES)]
            return
        panel = self.query_one(GridsPanel)
        if self._short_of_room and (self.grids_folded or panel.page == panel.pages - 1):
            # Folded for the chart: `m` shows the grids (the chart goes below), page by page, then folds them again.
            self._unfolded = not self._unfolded
            self.grid_page = 0
            self._show()
            self.refresh_bindings()
            return
        self.grid_page = panel.page + 1

    def action_layer(self, delta: int) -> None:
        """The network's previous or next layer: the cursor goes to the same place in its W, clipped."""
        network = as_network(self.run.problem)  # the layer keys are enabled only on the network
        layers = network.layers
        here = network.layer_of(self.cursor)
        old, new = layers[here], layers[max(0, min(here + delta, len(layers) - 1))]
        row, column = divmod(max(self.cursor - old.weights.start, 0), old.outputs)
        self.cursor = new.weights.start + min(row, new.inputs - 1) * new.outputs + min(column, new.outputs - 1)

    def _move_in_network(self, units: int, inputs: int) -> None:
        """Arrows on the heat map: up and down change the unit (W's column), left and right the input (W's row)."""
        problem = as_network(self.run.problem)
        layer = problem.layers[problem.layer_of(self.cursor)]
        row, column = divmod(
            min(max(self.cursor - layer.weights.start, 0), layer.weights.stop - layer.weights.start - 1), layer.outputs
        )
        row = max(0, min(row + inputs, layer.inputs - 1))
        column = max(0, min(column + units, layer.outputs - 1))
        self.cursor = layer.weights.start + row * layer.outputs + column

    def action_move(self, rows: int, columns: int) -> None:
        if self.is_network:
            self._move_in_network(rows, columns)
            return
        shape = self.run.current.x.shape
        width = shape[1] if len(shape) == 2 else min(5, shape[0])
        size = self.run.current.x.size
        row, column = divmod(self.cursor, width)
        row = max(0, min(row + rows, (size - 1) // width))
        column = max(0, min(column + columns, width - 1))
        self.cursor = min(row * width + column, size - 1)

    def on_grids_panel_cell_clicked(self, message: GridsPanel.CellClicked) -> None:
        self.cursor = message.flat_index

    def action_jump(self) -> None:
        from tutor.tui.screens.edit import JumpScreen

        self.running = False
        self.app.push_screen(JumpScreen(self.step), self._jump_by)

    def _jump_by(self, steps: int | None) -> None:
        if steps:
            self._clear_phases()
            self.go_to_step(self.step + steps)

    def go_to_step(self, target: int) -> None:
        """Show step `target`: at once when its records take up to ~0.1 s to compute, else
        through a progress dialog that computes them in a thread (escape stops it early)."""
        target = max(0, min(target, MAX_STEPS))
        # weighed in seed-matrix updates (tutor/engine/cost.py): one of the digits network's costs about a hundred
        if sum(run.updates_to(target) * update_cost(run.problem) for run in self.runs) <= UPDATES_AT_ONCE:
            self.step = target
            return
        from tutor.tui.screens.edit import ComputingScreen

        self.running = False
        self.app.push_screen(ComputingScreen(self.runs, target), self._arrive)

    def go_to_stop(self, runs: list[Run], step: int, cursor: int | None, phases: list[Phase], phase_index: int) -> None:
        """A lesson script's stop (tutor.views.tour): its runs at `step`, the cursor on its element and, if it
        names one, the narrated phase `phase_index` of the update after it (the last phase takes the step)."""
        self.running = False
        self._clear_phases()
        if runs is not self.runs:  # the stop's own problem or hyperparameters
            self.runs = runs
            self.set_reactive(Visualizer.selected, 0)
            self.set_class(self.is_chain, "-chain")
            self._apply_hidden()
        self.step = step
        if cursor is not None:
            self.cursor = cursor
        if phases:
            self.phases, self.phase_index = phases, phase_index
            if phase_index == len(phases) - 1:
                self.step = step + 1  # the engine's own step: bit for bit the phase's arrays
        self._show()

    def _arrive(self, reached: int | None) -> None:
        if reached is not None:
            self.step = reached

    def action_edit(self) -> None:
        from tutor.tui.screens.edit import EditScreen

        self.running = False
        names = [name for name in Hyperparameters.NAMES if any(name in run.optimizer.uses for run in self.runs)]
        if "lr" in names:  # the lr schedule goes with the lr (rprop's steps do not read it)
            names.append("lr_halving")
        labels = tuple(run.optimizer.label for run in self.runs)
        self.app.push_screen(EditScreen(self.run.hp, names, self.step, labels), self.apply_hyperparameters)

    def apply_hyperparameters(self, hp: Hyperparameters | None) -> None:
        """Use `hp`'s changed values from the current step on, in every run (the future is recomputed)."""
        if hp is None:
            return
        changed = {name: getattr(hp, name) for name in Hyperparameters.NAMES if getattr(hp, name) != getattr(self.run.hp, name)}
        if not changed:
            return
        for run in self.runs:
            run.set_hyperparameters(replace(run.hp, **changed))
        self._clear_phases()
        self._show()
        said = ", ".join(f"{name}={hyper(value)}" for name, value in changed.items())
        self._show_narration(f"{said} from update {self.step} on; the updates after it will be recomputed.")

    # --- the deep chain -------------------------------------------------------------

    def _rebuild(self, **change: Any) -> None:
        """A new chain problem: every run starts again from step 0."""
        problem = replace(self.run.problem, **change)
        self.running = False
        self._clear_phases()
        self.runs = [Run.create(problem, run.optimizer, run.hp) for run in self.runs]
        self.cursor = min(self.cursor, problem.start().size - 1)
        was = self.step
        self.step = 0
        self._show()  # new runs at step 0: the step may not have changed
        left = f" (it was at update {was})" if was else ""
        self._show_narration(f"A new problem, {problem.title()}: every run starts again at update 0{left}.")

    @property
    def _chain(self) -> DeepChain:
        return cast(DeepChain, self.run.problem)  # the chain keys are enabled only while is_chain

    def action_deeper(self) -> None:
        self._rebuild(depth=min(self._chain.depth + 1, CHAIN_DEPTHS[1]))

    def action_shallower(self) -> None:
        self._rebuild(depth=max(self._chain.depth - 1, CHAIN_DEPTHS[0]))

    def action_scale_up(self) -> None:
        scale = self._chain.scale
        self._rebuild(scale=next((s for s in CHAIN_SCALES if s > scale + 1e-12), CHAIN_SCALES[-1]))

    def action_scale_down(self) -> None:
        scale = self._chain.scale
        self._rebuild(scale=next((s for s in reversed(CHAIN_SCALES) if s < scale - 1e-12), CHAIN_SCALES[0]))

    def action_activation(self) -> None:
        current = ACTIVATIONS.index(self._chain.activation)
        self._rebuild(activation=ACTIVATIONS[(current + 1) % len(ACTIVATIONS)])

    # --- the valley ------------------------------------------------------------------

    @property
    def _valley(self) -> Valley:
        return cast(Valley, self.run.problem)  # the valley keys are enabled only on a valley

    def action_turn(self, degrees: float) -> None:
        """Turn the valley's floor by `degrees` (kept in -180..180): every run starts again."""
        self._rebuild(angle=(self._valley.angle + degrees + 180.0) % 360.0 - 180.0)

    def action_condition(self, factor: float) -> None:
        """Make the valley `factor` times steeper across (condition K kept in 1..1000)."""
        self._rebuild(condition=min(max(self._valley.condition * factor, 1.0), 1000.0))

    # --- sharing and hiding (the palette offers these too) ------------------------------

    def action_share(self) -> None:
        from tutor.share import ShareCodeError, encode
        from tutor.tui.screens.dialogs import ShareCodeScreen

        try:
            code = encode(self.state())
        except ShareCodeError as error:
            self.notify(str(error), title="Share code", severity="error")
            return
        self.app.push_screen(ShareCodeScreen(code, f"tutor sandbox --state {code}"))

    def action_toggle_panel(self, panel: str) -> None:
        self.hidden = self.hidden ^ {panel}

    def system_commands(self) -> Iterator[SystemCommand]:
        """The palette's commands for this visualizer: its share code, and each big panel hidden or shown."""
        yield SystemCommand("Show share code", "A short code for the exact moment on screen", self.action_share)
        for panel in PALETTE_PANELS:
            yield SystemCommand(
                f"{'Show' if panel in self.hidden else 'Hide'} panel: {panel}",
                "Hide or show a part of the visualizer (for a demo)",
                partial(self.action_toggle_panel, panel),
            )

    def state(self) -> dict[str, Any]:
        """What a share code needs: the runs (with their edit history) and what the screen shows of them."""
        from tutor.share import state_of

        return state_of(self.runs, self.step, self.view, self.hidden, self.cursor, self.selected, self.speed)

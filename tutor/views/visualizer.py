"""The step visualizer's content, composed from one or more runs.

Both the Textual screens and the headless snapshots call these functions, so the two
show the same grids, chart and status for the same state.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tutor.engine import Record, Run
from tutor.engine.digits import Digits, as_network
from tutor.engine.history import Summary
from tutor.engine.phases import Phase
from tutor.engine.problems import LayeredProblem
from tutor.views.chart import Series, log_bar_chart, loss_chart, waiting_chart
from tutor.views.format import idle_mask, number
from tutor.views.grid import GridView
from tutor.views.inspector import element_update
from tutor.views.status import status_line


def quantity_grids(
    run: Run,
    cursor: int | None = None,
    highlight: Sequence[str] = (),
    colour: bool = True,
    high_contrast: bool = False,
    record: Record | None = None,
    compact: bool = False,
) -> list[GridView]:
    """Grids for x, AX (matrix problem), the gradient, v, the effective step and momentum.

    `highlight` names the quantities the current narration phase changes ("x", "grad",
    "mean_square", "effective_step", "momentum"); `record` replaces the run's current
    record (a narrated phase's arrays mid-update); `compact` narrows the cells.
    """
    record = record or run.current
    shape = record.x.shape
    common: dict[str, Any] = dict(cursor=cursor, colour=colour, high_contrast=high_contrast, compact=compact)
    grids = [GridView("x", record.x, "signed", highlight="x" in highlight, **common)]
    product = getattr(run.problem, "product", None)
    if product is not None:
        grids.append(GridView("AX (goal: I)", product(record.x), "signed", **common))
    none_yet = record.grad is None  # update 0: "—" in every cell, not zeros beside the chain's non-zero bars
    grids.append(
        GridView(
            "gradient g",
            np.zeros(shape) if record.grad is None else record.grad,
            "signed",
            highlight="grad" in highlight,
            subtitle="(none yet)" if none_yet else "",
            absent=none_yet,
            **common,
        )
    )
    idle = idle_mask(record.mean_square, shape)
    if record.mean_square is not None:
        grids.append(
            GridView("mean square v", record.mean_square, "log", idle=idle, highlight="mean_square" in highlight, **common)
        )
    step_title = "step size lr/(sqrt(v)+eps)" if record.mean_square is not None else "step size (lr everywhere)"
    step_idle = idle
    if record.effective_step is run.current.effective_step and record.mean_square is not run.current.mean_square:
        # Mid-update, before the "step" phase: the steps are still those of the old v, so a cell whose
        # v has just become non-zero holds lr/eps, not a step. It stays idle until its step is computed.
        step_idle = idle | idle_mask(run.current.mean_square, shape)
    grids.append(
        GridView(step_title, record.effective_step, "log", idle=step_idle, highlight="effective_step" in highlight, **common)
    )
    if record.momentum is not None:
        grids.append(GridView("momentum m", record.momentum, "signed", highlight="momentum" in highlight, **common))
    return grids


def grid_rows(grids: Sequence[GridView], width: int, gap: int = 2) -> RenderableType:
    """Lay grids side by side, as many per row as `width` allows."""
    table = Table.grid(padding=(0, gap))
    if not grids:
        return table
    widest = max(g.measure_width() for g in grids)
    per_row = max(1, (width + gap) // (widest + gap))
    for _ in range(min(per_row, len(grids))):
        table.add_column(width=widest)
    rows: list[list[RenderableType]] = []
    for start in range(0, len(grids), per_row):
        row: list[RenderableType] = list(grids[start : start + per_row])
        row += [Text("")] * (min(per_row, len(grids)) - len(row))
        rows.append(row)
    for index, row in enumerate(rows):
        if index:
            table.add_row(*([Text("")] * len(row)))
        table.add_row(*row)
    return table


def run_chart(
    runs: Sequence[Run],
    width: int,
    height: int,
    colour: bool = True,
    high_contrast: bool = False,
    steps: Sequence[int] | None = None,
) -> Text:
    """The runs' losses in one chart, each up to its step in `steps` (its current step if None);
    at step 0, where each run is a single point, a prompt to step instead."""
    steps = [run.step for run in runs] if steps is None else steps
    if all(step == 0 for step in steps):
        return waiting_chart(width, height, "The loss curve starts at the first update: press space.")
    series = [
        Series(run.optimizer.label, [run.records.loss(k) for k in range(step + 1)]) for run, step in zip(runs, steps, strict=True)
    ]
    if runs[0].problem.view == "network" and len(runs) <= 2:  # a network: its test loss beside the batch loss
        series += [test_loss_series(run, step) for run, step in zip(runs, steps, strict=True)]
    return loss_chart(series, width, height, colour=colour, high_contrast=high_contrast)


TEST_POINTS = 30  # at most this many test-loss points on a chart: judging 360 test digits costs ~10 updates each


def test_loss_series(run: Run, last: int | None = None) -> Series:
    """The test loss at up to TEST_POINTS evenly spaced steps up to `last` (the current one if None): every 10th,
    or multiples of 64 for long runs (those records are kept whole, so no update is recomputed for them)."""
    last = run.step if last is None else last
    stride = 10 if last <= 10 * TEST_POINTS else 64 * math.ceil(last / (64 * TEST_POINTS))
    steps = list(range(0, last + 1, stride))
    network = as_network(run.problem)
    return Series(f"{run.optimizer.label} test", [_test_loss(run, network, step) for step in steps], steps)


# Each charted step's test loss, asked for again on every frame: by record (no digest of its parameters), and
# for a record not kept whole by the id of its Summary (held here, so the id stays its own), which would
# otherwise recompute its stretch from a checkpoint every time.
_RECORD_TEST_LOSS: weakref.WeakKeyDictionary[Record, float] = weakref.WeakKeyDictionary()
_SUMMARIZED_TEST_LOSS: dict[int, tuple[Summary, float]] = {}
MAX_SUMMARIZED = 20_000


def _test_loss(run: Run, network: Digits, step: int) -> float:
    entry = run.records.entry(step)
    if not isinstance(entry, Summary):
        loss = _RECORD_TEST_LOSS.get(entry)
        if loss is None:
            loss = _RECORD_TEST_LOSS[entry] = network.evaluate(entry.x)[0]
        return loss
    known = _SUMMARIZED_TEST_LOSS.get(id(entry))
    if known is None or known[0] is not entry:
        if len(_SUMMARIZED_TEST_LOSS) >= MAX_SUMMARIZED:
            _SUMMARIZED_TEST_LOSS.clear()
        known = _SUMMARIZED_TEST_LOSS[id(entry)] = (entry, network.evaluate(run.records[step].x)[0])
    return known[1]


def snapshot(
    run: Run,
    width: int,
    cursor: int | None = None,
    colour: bool = False,
    chart_height: int = 14,
) -> Group:
    """Everything the step visualizer shows for one run: status, grids, inspector and chart."""
    parts: list[RenderableType] = [status_line(run, colour=colour), Text("")]
    parts.append(grid_rows(quantity_grids(run, cursor=cursor, colour=colour), width))
    if cursor is not None:
        parts.append(Text(""))
        parts.append(Text("inspector", style="bold"))
        parts.extend(Text(line) for line in element_update(run, cursor))
    if run.step > 0:  # at step 0 the chart would be a single dot
        parts.append(Text(""))
        parts.append(run_chart([run], width, chart_height, colour=colour))
    return Group(*parts)


def phase_record(run: Run, phase: Phase) -> Record:
    """The run's current record with a narrated phase's half-updated arrays (what the grids show mid-update)."""
    current = run.current
    arrays = phase.arrays
    return replace(
        current,
        x=arrays["x"],
        grad=arrays.get("grad", current.grad),
        effective_step=arrays["effective_step"],
        buffers={name: arrays[name] for name in current.buffers if name in arrays},
    )


def layer_chart(run: Run, width: int, height: int, colour: bool = True, record: Record | None = None) -> Text:
    """A deep chain's per-layer |gradient| at `record`'s x (the current one if None) as log-scale bars,
    under a line with the first and last layer's values and their ratio."""
    if not isinstance(run.problem, LayeredProblem):
        raise ValueError(f"the chain view draws layered problems (deep-chain), not {run.problem.kind}")
    magnitudes = run.problem.layer_gradients((record or run.current).x)
    first, last = float(magnitudes[0]), float(magnitudes[-1])
    ratio = number(first / last) if last else ("inf" if first else "-")
    parts = [
        Text.assemble("|g| ", ("layer 1 ", "bold"), number(first)),
        Text.assemble(("layer ", "bold"), (f"{len(magnitudes)} ", "bold"), number(last)),
        Text.assemble(("first/last ", "bold"), ratio),
    ]
    heading = [parts[0]]  # as many parts per line as `width` holds, so none is cut off in a narrow panel
    for part in parts[1:]:
        if heading[-1].cell_len + 2 + part.cell_len <= width:
            heading[-1] = Text.assemble(heading[-1], "  ", part)
        else:
            heading.append(Text.assemble("    ", part))
    labels = [str(k + 1) for k in range(len(magnitudes))]
    # The gradient at this x, which the next update uses (the grid's gradient g is the last update's: none at update 0).
    titles = ("|gradient| per layer at this x, for the next update (log scale)", "|gradient| per layer at this x (log)")
    title = next((title for title in titles if len(title) <= width - 4), "|gradient| at this x")  # the panel holds no longer one
    if not np.any(magnitudes):
        title = "|gradient| per layer: all 0, nothing left to learn"
    bars = log_bar_chart(labels, magnitudes, max(width, 20), max(height - len(heading), 6), title, colour=colour)
    return Text("\n").join([*heading, bars])

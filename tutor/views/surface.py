"""The 2-D surface view: contour lines of the loss, each optimizer's path, and per-axis numbers.

The contour chart (plotext, through views/chart.py) is built once per problem, view and
size and kept; a step only draws the paths over a copy of its text, so stepping costs
little. Beside the plot, per optimizer and per axis: the gradient, the mean square v and
the effective step lr/(sqrt(v)+eps), as numbers and as log-scale bars.

`surface_view` is the one composition: the TUI's widget and the headless snapshot
(`surface_snapshot`) both call it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tutor.engine import Run
from tutor.engine.paths import Bounds, contour_cells, contour_levels, points, view_bounds
from tutor.engine.problems import Problem
from tutor.views import format as fmt
from tutor.views.chart import CONTOUR_MARKER, HIGH_CONTRAST_COLOURS, SERIES_COLOURS, ContourCanvas, contour_chart
from tutor.views.status import divergence_message

# Per optimizer, in run order: the trail of its path and its current point.
TRAIL_MARKERS = ("•", "▪", "▴", "◦", "×")
HEAD_MARKERS = ("●", "■", "▲", "◉", "✖")
MINIMUM_MARKER = "+"
CONTOUR_COLOUR = "#5f6b7a"
HIGH_CONTRAST_CONTOUR_COLOUR = "#b0b0b0"  # a dim grey vanishes on a projector
MINIMUM_COLOUR = "#d4a017"
# The panel's quantities: the record's field, its column heading.
QUANTITIES = (("grad", "grad g"), ("mean_square", "mean sq v"), ("effective_step", "lr/(√v+ε)"))
BAR_BLOCKS = " ▏▎▍▌▋▊▉█"
# Side by side (plot | panel), or the panel under the plot: see layout().
SIDE_BY_SIDE_WIDTH = 72
MIN_SIDE_PLOT_WIDTH = 48
MIN_STACKED_PLOT_HEIGHT = 14
GAP = 2


@dataclass(frozen=True)
class Layout:
    plot_width: int
    plot_height: int
    panel_width: int
    side_by_side: bool


def layout(width: int, height: int, runs: int) -> Layout:
    """How a width x height area is shared between the plot and the per-axis panel.

    Side by side while the plot keeps a useful width; else the panel goes under the plot
    if the plot keeps a useful height there (a lesson's narrow, tall column); else side by
    side anyway, down to SIDE_BY_SIDE_WIDTH.
    """
    panel_lines = 1 + 4 * runs
    panel = max(40, min(52, int(width * 0.42)))
    stacked_height = height - panel_lines - 1
    if width - panel - GAP >= MIN_SIDE_PLOT_WIDTH or (width >= SIDE_BY_SIDE_WIDTH and stacked_height < MIN_STACKED_PLOT_HEIGHT):
        return Layout(width - panel - GAP, max(height, 8), panel, True)
    return Layout(width, max(stacked_height, 8), width, False)


@lru_cache(maxsize=32)
def contour_canvas(problem: Problem, bounds: Bounds, width: int, height: int) -> ContourCanvas:
    """The contour chart for `problem` over `bounds` at `width` x `height`, computed once and kept.

    Problems are frozen dataclasses, so equal parameters share a cache entry; paths are never
    part of the key, so stepping does not recompute it.
    """
    levels = contour_levels(problem, bounds)
    return contour_chart(
        bounds,
        width,
        height,
        lambda columns, rows: contour_cells(problem, bounds, columns, rows, levels),
    )


def _cell_coordinates(xy: np.ndarray, bounds: Bounds, canvas: ContourCanvas) -> np.ndarray:
    """(column, row) of each point as floats, row 0 at the top (plotext's placement)."""
    columns = (xy[:, 0] - bounds.x_min) / (bounds.x_max - bounds.x_min) * (canvas.columns - 1)
    rows = (bounds.y_max - xy[:, 1]) / (bounds.y_max - bounds.y_min) * (canvas.rows - 1)
    return np.stack([columns, rows], axis=1)


def _trail_cells(cells: np.ndarray, canvas: ContourCanvas) -> list[tuple[int, int]]:
    """The character cells the straight segments between consecutive points pass through,
    inside the plot area (a segment running off the plot is cut at its edge)."""
    if len(cells) == 0:
        return []
    if len(cells) == 1:
        sampled = cells
    else:
        start, delta = cells[:-1], np.diff(cells, axis=0)
        limit = 2 * (canvas.columns + canvas.rows)  # enough samples for any segment across the plot
        with np.errstate(invalid="ignore"):
            counts = np.clip(np.ceil(np.abs(delta).max(axis=1)), 1, limit).astype(int)
        ends = np.cumsum(counts)
        segment = np.repeat(np.arange(len(counts)), counts)
        t = (np.arange(ends[-1]) - np.repeat(ends - counts, counts)) / np.repeat(counts, counts)
        sampled = np.concatenate([start[segment] + delta[segment] * t[:, None], cells[-1:]])
    rounded = np.floor(sampled + 0.5)
    inside = (rounded[:, 0] >= 0) & (rounded[:, 0] < canvas.columns) & (rounded[:, 1] >= 0) & (rounded[:, 1] < canvas.rows)
    kept = rounded[inside].astype(int)
    return [(int(c), int(r)) for c, r in dict.fromkeys(map(tuple, kept))]


def _finite_path(run: Run, head: np.ndarray | None = None) -> np.ndarray:
    """The run's points up to the step on screen (and a narrated phase's x), up to the first non-finite one."""
    xy = points(run.records[: run.index + 1])
    if head is not None:
        xy = np.concatenate([xy, np.asarray(head, dtype=float).reshape(1, -1)])
    finite = np.all(np.isfinite(xy), axis=1)
    if not finite.all():
        xy = xy[: int(np.argmin(finite))]
    return xy


def plot_text(
    runs: Sequence[Run],
    width: int,
    height: int,
    colour: bool = True,
    high_contrast: bool = False,
    heads: Sequence[np.ndarray | None] | None = None,
) -> tuple[list[Text], list[str]]:
    """The contour chart with every run's path drawn over it, and warnings about clipped paths.

    `heads` (one per run, or None) is where a narrated update has moved x before the step completes.
    """
    problem = runs[0].problem
    heads = list(heads) if heads is not None else [None] * len(runs)
    paths = [_finite_path(run, head) for run, head in zip(runs, heads, strict=True)]
    bounds, _ = view_bounds(problem, paths)
    canvas = contour_canvas(problem, bounds, width, height)
    text_lines = list(canvas.lines)
    while text_lines and not text_lines[-1].strip():
        text_lines.pop()
    rows = [list(line.ljust(width)[:width]) for line in text_lines]
    styles: list[list[str | None]] = [[None] * len(row) for row in rows]
    colours = HIGH_CONTRAST_COLOURS if high_contrast else SERIES_COLOURS

    def put(column: int, row: int, char: str, style: str | None) -> None:
        r, c = canvas.top + row, canvas.left + column
        if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
            rows[r][c] = char
            styles[r][c] = style

    contour_colour = HIGH_CONTRAST_CONTOUR_COLOUR if high_contrast else CONTOUR_COLOUR
    for r in range(canvas.rows):
        for c in range(canvas.columns):
            if rows[canvas.top + r][canvas.left + c] == CONTOUR_MARKER:
                styles[canvas.top + r][canvas.left + c] = contour_colour
    minimum = getattr(problem, "minimum", None)
    if minimum is not None:
        column, row = np.floor(_cell_coordinates(np.asarray(minimum(), float).reshape(1, 2), bounds, canvas)[0] + 0.5)
        if 0 <= column < canvas.columns and 0 <= row < canvas.rows:
            put(int(column), int(row), MINIMUM_MARKER, f"bold {MINIMUM_COLOUR}")
    warnings = []
    head_cells = []
    for index, (run, xy) in enumerate(zip(runs, paths, strict=True)):
        colour_name = colours[index % len(colours)]
        cells = _cell_coordinates(xy, bounds, canvas)
        for column, row in _trail_cells(cells, canvas):
            put(column, row, TRAIL_MARKERS[index % len(TRAIL_MARKERS)], colour_name)
        if len(cells):
            last = cells[-1]
            edge = np.clip(np.floor(last + 0.5), 0, [canvas.columns - 1, canvas.rows - 1]).astype(int)
            head_cells.append((int(edge[0]), int(edge[1]), HEAD_MARKERS[index % len(HEAD_MARKERS)], f"bold {colour_name}"))
            if not bounds.contains(xy[-1]):
                warnings.append(f"{run.optimizer.label}'s path left the view: drawn clipped at the edge")
    for column, row, char, style in head_cells:  # current points on top of every trail
        put(column, row, char, style)
    lines = []
    for chars, line_styles in zip(rows, styles, strict=True):
        text = Text("".join(chars).rstrip(), no_wrap=True, overflow="crop")
        if colour:
            _apply_styles(text, line_styles)
        lines.append(text)
    return lines, warnings


def _apply_styles(text: Text, styles: Sequence[str | None]) -> None:
    """Style runs of equal style in one line (far fewer spans than one per character)."""
    start, current = 0, None
    length = len(text.plain)
    for i, style in enumerate(list(styles[:length]) + [None]):
        if style != current:
            if current is not None:
                text.stylize(current, start, i)
            start, current = i, style


def _bar(value: float, low: float, high: float, width: int) -> str:
    """A block bar whose length grows with log10|value| between the decades `low` and `high`."""
    if width <= 0 or not np.isfinite(value) or value == 0:
        return " " * max(width, 0)
    share = (math.log10(abs(value)) - low + 1) / (high - low + 1)
    eighths = int(round(min(max(share, 0.0), 1.0) * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BAR_BLOCKS[part] if part else "")).ljust(width)


def _decades(values: Sequence[float]) -> tuple[float, float]:
    """The whole decades spanned by the non-zero finite magnitudes in `values`."""
    logs = [math.log10(abs(v)) for v in values if np.isfinite(v) and v != 0]
    if not logs:
        return 0.0, 1.0
    return float(math.floor(min(logs))), float(max(math.ceil(max(logs)), math.floor(min(logs)) + 1))


def _arrays(run: Run, phase: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray | None]:
    """The quantities the panel shows: the record on screen, or a narrated phase's arrays."""
    record = run.current
    shown: dict[str, np.ndarray | None] = {
        "grad": record.grad,
        "mean_square": record.mean_square,
        "effective_step": record.effective_step,
    }
    if phase is not None:
        shown.update({k: v for k, v in phase.items() if k in shown})
    return shown


def _step_idle(run: Run, arrays: Mapping[str, np.ndarray | None]) -> np.ndarray | bool:
    """Axes whose lr/(sqrt(v)+eps) is not a step: v is 0, or (mid-update, before the "step" phase)
    the steps shown are still those of the old v, which was 0 there. False when v is not kept."""
    if arrays["mean_square"] is None:
        return False
    idle = np.asarray(arrays["mean_square"] == 0)
    if arrays["effective_step"] is run.current.effective_step and run.current.mean_square is not None:
        idle = idle | (run.current.mean_square == 0)
    return idle


def axis_panel(
    runs: Sequence[Run],
    width: int,
    colour: bool = True,
    high_contrast: bool = False,
    highlight: Sequence[str] = (),
    phases: Sequence[Mapping[str, np.ndarray] | None] | None = None,
) -> list[Text]:
    """Per optimizer, one row per axis: g, v and lr/(sqrt(v)+eps) as numbers and log-scale bars.

    Bars of one quantity share a scale across runs and axes, so a longer bar is a larger
    value wherever it is. v = 0 (no gradient seen yet) shows as idle, as on the grids.
    """
    phases = list(phases) if phases is not None else [None] * len(runs)
    shown = [_arrays(run, phase) for run, phase in zip(runs, phases, strict=True)]
    step_idles = [_step_idle(run, arrays) for run, arrays in zip(runs, shown, strict=True)]
    number_width = 8 if width >= 48 else 7
    bar_width = max((width - 4 - 3 * (number_width + 2)) // 3, 1)
    column = number_width + 1 + bar_width + 1
    scales = {}
    for key, _ in QUANTITIES:
        values: list[float] = []
        for arrays, step_idle in zip(shown, step_idles, strict=True):
            shown_values = arrays[key]
            if shown_values is None:
                continue
            kept = np.ravel(shown_values)
            if key == "effective_step" and arrays["mean_square"] is not None:
                kept = kept[~np.ravel(step_idle)]  # an idle axis's lr/eps is not a step
            values.extend(float(v) for v in kept)
        scales[key] = _decades(values)
    colours = HIGH_CONTRAST_COLOURS if high_contrast else SERIES_COLOURS
    heading = Text("    ")
    for key, quantity_title in QUANTITIES:
        style = "reverse" if colour and key in highlight else ("bold" if colour else "")
        heading.append(quantity_title.ljust(column)[:column], style=style)
    lines = [heading]
    for index, (run, arrays) in enumerate(zip(runs, shown, strict=True)):
        lines.append(Text(""))
        colour_name = colours[index % len(colours)]
        title = Text()
        title.append(
            f"{HEAD_MARKERS[index % len(HEAD_MARKERS)]} {TRAIL_MARKERS[index % len(TRAIL_MARKERS)]} ",
            style=f"bold {colour_name}" if colour else "",
        )
        title.append(f"{run.optimizer.label}  ", style="bold" if colour else "")  # gaps inside: see status_line
        title.append(f"loss {fmt.number(run.current.loss, 3)}")
        used = fmt.used_hyperparameters(tuple(name for name in run.optimizer.uses if name != "eps"), run.hp)
        if title.cell_len + 2 + len(used) <= width:  # the hyperparameters only where they fit whole
            title.append("  ")
            title.append(used, style="dim" if colour else "")
        lines.append(title)
        idle = arrays["mean_square"] is not None and np.asarray(arrays["mean_square"] == 0)
        step_idle = step_idles[index]
        for axis, name in enumerate(("x", "y")):
            row = Text(f"  {name} ")
            for key, _ in QUANTITIES:
                value = arrays[key]
                if value is None:
                    cell = ("—" if key == "mean_square" else "none yet" if key == "grad" else "").ljust(column)
                    row.append(cell[:column], style="dim" if colour else "")
                    continue
                v = float(np.ravel(value)[axis])
                shown_idle = step_idle if key == "effective_step" else idle
                if key != "grad" and shown_idle is not False and np.ravel(shown_idle)[axis]:
                    row.append(fmt.IDLE.ljust(column), style="dim" if colour else "")
                    continue
                text = fmt.cell(v, number_width, 3)  # wider than number_width where two digits need it:
                wider = max(len(text) - number_width, 0)  # its bar gives way, so the next column stays put
                row.append(text.rjust(number_width) + " ")
                row.append(_bar(v, *scales[key], bar_width - wider) + " ", style=colour_name if colour else "")
            lines.append(row)
    for line in lines:
        line.truncate(width)
    return lines


def surface_status(
    runs: Sequence[Run], colour: bool = True, extra: Sequence[str] = (), note: str = "", width: int | None = None
) -> list[Text]:
    """`update 12  valley: ...` (and `note`, on a line of its own when both do not fit in `width`), then
    every divergence or clipping warning, one per line."""
    first = Text()
    first.append(f"update {runs[0].current.step}  ", style="bold" if colour else "")
    first.append(runs[0].problem.title())
    lines = [first]
    if note:
        shown_note = Text(note, style="dim" if colour else "")
        if width is None or first.cell_len + 3 + shown_note.cell_len <= width:
            first.append("   ")
            first.append_text(shown_note)
        else:  # 80 columns: the valley's keys go below rather than cut off
            lines.append(shown_note)
    for run in runs:
        message = divergence_message(run)
        if message:
            prefix = f"{run.optimizer.label}: " if len(runs) > 1 else ""
            lines.append(Text(prefix + message, style="bold red" if colour else ""))
    for warning in extra:
        lines.append(Text(warning, style="yellow" if colour else ""))
    return lines


def _key_line(runs: Sequence[Run], colour: bool, high_contrast: bool = False) -> Text:
    problem = runs[0].problem
    bounds, _ = view_bounds(problem)
    levels = contour_levels(problem, bounds)
    text = Text()
    contour_colour = HIGH_CONTRAST_CONTOUR_COLOUR if high_contrast else CONTOUR_COLOUR
    text.append(CONTOUR_MARKER, style=contour_colour if colour else "")
    text.append(" loss = " + ", ".join(fmt.number(level, 2) for level in levels[::-1]) + "   ")
    text.append(MINIMUM_MARKER, style=f"bold {MINIMUM_COLOUR}" if colour else "")
    text.append(" minimum")
    return text


def surface_view(
    runs: Sequence[Run],
    width: int,
    height: int,
    colour: bool = True,
    high_contrast: bool = False,
    highlight: Sequence[str] = (),
    phases: Sequence[Mapping[str, np.ndarray] | None] | None = None,
    note: str = "",
) -> Text:
    """Status, the contour plot with every path, the per-axis panel and a key, in width x height.

    `phases` (one per run, or None) are a narrated update's arrays (x, grad, mean_square,
    effective_step) to show before the step completes; `highlight` names the quantities it
    changed; `note` ends the status line.
    """
    if not runs:
        raise ValueError("the surface view needs at least one run")
    if runs[0].problem.view != "surface":
        raise ValueError(f"the surface view draws two-parameter problems (valley, rosenbrock), not {runs[0].problem.kind}")
    phases = list(phases) if phases is not None else [None] * len(runs)
    heads = [phase.get("x") if phase is not None else None for phase in phases]
    plan = layout(width, height, len(runs))
    probe_lines = len(surface_status(runs, colour, (), note, width))
    plot_height = max(plan.plot_height - probe_lines - 1, 8)
    plot, warnings = plot_text(runs, plan.plot_width, plot_height, colour, high_contrast, heads)
    status = surface_status(runs, colour, warnings, note, width)
    panel = axis_panel(runs, plan.panel_width, colour, high_contrast, highlight, phases)
    body: list[Text] = []
    if plan.side_by_side:
        for index in range(max(len(plot), len(panel))):
            line = plot[index].copy() if index < len(plot) else Text()
            if index < len(panel):
                line.pad_right(plan.plot_width + GAP - line.cell_len)
                line.append_text(panel[index])
            body.append(line)
    else:
        body = plot + [Text("")] + panel
    lines = status + body + [_key_line(runs, colour, high_contrast)]
    for line in lines:
        line.truncate(width)
    out = Text("\n", no_wrap=True, overflow="crop").join(lines[: max(height, len(status) + 1)])
    out.no_wrap = True
    out.overflow = "crop"
    return out


def surface_snapshot(runs: list[Run], width: int, height: int, colour: bool) -> RenderableType:
    """The surface view as the headless snapshot prints it (the same composition as the TUI)."""
    return surface_view(runs, width, height, colour=colour)

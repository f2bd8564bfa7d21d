"""The digits network drawn in text: per-layer log-scale bars, a heat map of one layer, test digits and guesses.

- Layer bars: per layer, the gradient's RMS, sqrt(v), the median step size and the update-to-weight
  ratio log10(std(dW) / std(W)) (digits.layer_statistics), each as a bar on a log scale.
- Heat map: the selected layer's W, gradient, v or step size, one cell per weight, two weights per
  character (half blocks); rows are the layer's units, columns its inputs. The cursor is a flat
  index into the parameters, as everywhere else, so the inspector reads the weight under it.
- Digits: a few test images (8x8, half blocks) with the network's guess at this step.
"""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style
from rich.text import Text

from tutor.engine import Record, Run
from tutor.engine.digits import Digits, Layer, layer_statistics, load_digits, split
from tutor.views import format as fmt

QUANTITIES = ("W", "grad", "mean_square", "effective_step")
QUANTITY_LABELS = {"W": "weights W", "grad": "gradient g", "mean_square": "mean square v", "effective_step": "step size"}
SHOWN_DIGITS = 4  # test images drawn
DIGITS_WIDTH = 44  # columns the digits take beside the heat map
DIGITS_BESIDE = 64 + 2 + DIGITS_WIDTH  # narrower: the heat map alone, and the test numbers under it
BAR = 10  # cells per bar
# Decades each bar spans (log10 of the lowest and highest value drawn).
BAR_RANGES = {"grad": (-8.0, 0.0), "sqrt_v": (-8.0, 0.0), "step": (-5.0, 3.0), "ratio": (-8.0, 0.0)}


def _bar(value: float | None, span: tuple[float, float], style: str, cells: int) -> Text:
    if value is None or not math.isfinite(value) or value <= 0:
        return Text("·".ljust(cells), style="dim")
    low, high = span
    filled = (min(max(math.log10(value), low), high) - low) / (high - low) * cells
    whole = int(filled)
    text = "█" * whole + ("▌" if filled - whole >= 0.5 else "")
    return Text(text.ljust(cells), style=style)


def layer_bars(run: Run, record: Record, selected: int, width: int = 100) -> list[Text]:
    """A header and one line per layer: name, then each quantity as a bar (log scale) and its number."""
    problem: Digits = run.problem  # type: ignore[assignment]
    cells = max(3, min(BAR, (width - 7 - 4 * 12) // 4))
    names = ("gradient RMS", "sqrt(v) RMS", "median step", "log10 std(dW)/std(W)")
    header = Text("layer  " + "".join(name.ljust(cells + 12) for name in names).rstrip(), style="bold")
    if record.step == 0:
        return [header, Text("(no update yet: step once with space)", style="dim")]
    before = run.records[record.step - 1].x
    lines = [header]
    for index, stats in enumerate(layer_statistics(problem, before, record)):
        line = Text(f"{'▶' if index == selected else ' '}{stats.name:>4}  ", style="bold" if index == selected else "")
        line.append_text(_bar(stats.grad_rms, BAR_RANGES["grad"], "cyan", cells))
        line.append(f" {fmt.number(stats.grad_rms, 2):<10} ")
        line.append_text(_bar(stats.sqrt_v_rms, BAR_RANGES["sqrt_v"], "green", cells))
        line.append(f" {'-' if stats.sqrt_v_rms is None else fmt.number(stats.sqrt_v_rms, 2):<10} ")
        line.append_text(_bar(stats.step_size, BAR_RANGES["step"], "yellow", cells))
        line.append(f" {fmt.number(stats.step_size, 2):<10} ")
        ratio = 10.0**stats.update_ratio if math.isfinite(stats.update_ratio) else None
        line.append_text(_bar(ratio, BAR_RANGES["ratio"], "magenta", cells))
        line.append(f" {stats.update_ratio:.2f}" if math.isfinite(stats.update_ratio) else " -")
        lines.append(line)
    return lines


def _values(record: Record, layer: Layer, quantity: str) -> np.ndarray | None:
    flat = {"W": record.x, "grad": record.grad, "effective_step": record.effective_step}.get(
        quantity, record.buffers.get(quantity)
    )
    return None if flat is None else layer.W(flat)


def _colour(value: float, scale: float, signed: bool, low: float, high: float) -> str:
    """A diverging blue-white-red colour for signed values, a dark-to-yellow one for log-scale positive values."""
    if not math.isfinite(value):
        return "rgb(255,0,255)"
    if signed:
        t = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
        if t >= 0:
            return f"rgb(255,{int(255 * (1 - t))},{int(255 * (1 - t))})"
        return f"rgb({int(255 * (1 + t))},{int(255 * (1 + t))},255)"
    t = 0.0 if value <= 0 or high <= low else (min(max(math.log10(value), low), high) - low) / (high - low)
    return f"rgb({int(40 + 215 * t)},{int(20 + 200 * t)},{int(80 * (1 - t))})"


def heat_map(run: Run, record: Record, layer_index: int, quantity: str, cursor: int, width: int, height: int) -> list[Text]:
    """The selected layer's quantity, rows = units (outputs), columns = inputs, two rows per line."""
    problem: Digits = run.problem  # type: ignore[assignment]
    layer = problem.layers[layer_index]
    values = _values(record, layer, quantity)
    title = Text(
        f"layer {layer.name}: {QUANTITY_LABELS[quantity]} ({layer.inputs} inputs across x {layer.outputs} units down)",
        style="bold",
    )
    title.append("   , . layer  m quantity  arrows move", style="dim")
    if values is None:
        return [title, Text(f"({QUANTITY_LABELS[quantity]}: none at this step for {run.optimizer.label})", style="dim")]
    grid = values.T  # rows: units, columns: inputs
    finite = grid[np.isfinite(grid)]
    signed = quantity in ("W", "grad")
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    positive = finite[finite > 0]
    low, high = (float(np.log10(positive.min())), float(np.log10(positive.max()))) if positive.size else (0.0, 1.0)
    cursor_row = cursor_column = -1
    if layer.weights.start <= cursor < layer.weights.stop:
        cursor_column, cursor_row = divmod(cursor - layer.weights.start, layer.outputs)
    columns = min(grid.shape[1], max(width - DIGITS_WIDTH - 2 if width >= DIGITS_BESIDE else width, 1))
    lines = [title]
    for top in range(0, grid.shape[0], 2):
        if len(lines) >= height:
            break
        line = Text()
        for column in range(columns):
            upper = _colour(float(grid[top, column]), scale, signed, low, high)
            lower = _colour(float(grid[top + 1, column]), scale, signed, low, high) if top + 1 < grid.shape[0] else "black"
            if column == cursor_column and cursor_row in (top, top + 1):
                line.append(
                    "◆" if cursor_row == top else "◇", style=Style.parse(f"bold black on {upper if cursor_row == top else lower}")
                )
            else:
                line.append("▀", style=Style.parse(f"{upper} on {lower}"))
        lines.append(line)
    scale_text = (
        f"colour: -{fmt.number(scale, 2)} blue .. 0 white .. +{fmt.number(scale, 2)} red"
        if signed
        else (f"colour: log scale, 1e{low:.1f} dark .. 1e{high:.1f} yellow")
    )
    lines.append(Text(scale_text, style="dim"))
    return lines


def digit_lines(run: Run, record: Record) -> list[Text]:
    """The first test images, 8x8 in half blocks, each with the network's guess and the right answer."""
    problem: Digits = run.problem  # type: ignore[assignment]
    pixels, labels = load_digits()
    _, test = split()
    rows = test[:SHOWN_DIGITS]
    guesses = problem.predictions(record.x, rows)
    lines = [Text() for _ in range(4)]
    for row in rows:
        image = pixels[row].reshape(8, 8)
        for line_index in range(4):
            for column in range(8):
                upper, lower = image[2 * line_index, column], image[2 * line_index + 1, column]
                grey = lambda v: f"rgb({int(255 * v)},{int(255 * v)},{int(255 * v)})"  # noqa: E731
                lines[line_index].append("▀", style=Style.parse(f"{grey(upper)} on {grey(lower)}"))
            lines[line_index].append("  ")
    verdict = Text()
    for row, guess in zip(rows, guesses, strict=True):
        right = int(guess) == int(labels[row])
        verdict.append(f"{int(guess)} {'✓' if right else '✗'}".ljust(10), style="green" if right else "red")
    loss, accuracy = problem.evaluate(record.x)
    summary = Text(f"test loss {fmt.number(loss, 4)}  accuracy {accuracy:.1%} (360 test digits)", style="bold")
    return [*lines, verdict, summary]


def network_lines(run: Run, layer_index: int, quantity: str, cursor: int, width: int, height: int) -> list[Text]:
    """The whole panel in `height` lines: the layer bars, then the heat map with the test digits beside it
    (narrower than DIGITS_BESIDE columns: the heat map, then the test loss and accuracy in one line)."""
    record = run.current
    bars = layer_bars(run, record, layer_index, width)
    digits = digit_lines(run, record)
    heat = heat_map(run, record, layer_index, quantity, cursor, width, max(height - len(bars) - 1, 2))
    title, rows = heat[0], heat[1:]
    lines = [*bars, title]
    if width >= DIGITS_BESIDE:
        for i in range(max(len(rows), len(digits))):
            line = rows[i].copy() if i < len(rows) else Text()
            line.pad_right(max(width - DIGITS_WIDTH - line.cell_len, 1))
            if i < len(digits):
                line.append_text(digits[i])
            lines.append(line)
    else:
        lines += [*rows[: max(height - len(lines) - 1, 1)], digits[-1]]
    return lines[:height]

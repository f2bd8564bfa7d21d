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
from functools import cache, lru_cache

import numpy as np
from rich.style import Style
from rich.text import Span, Text

from tutor.engine import Record, Run
from tutor.engine.digits import Layer, as_network, layer_statistics, load_digits, split
from tutor.views import format as fmt

QUANTITIES = ("W", "grad", "mean_square", "effective_step")
QUANTITY_LABELS = {"W": "weights W", "grad": "gradient g", "mean_square": "mean square v", "effective_step": "step size"}
SHOWN_DIGITS = 4  # test images drawn
TEST_EVERY = 10  # in run mode the test loss and accuracy are those of every 10th step (judging 360 images takes time)
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


# The update-to-weight ratio's column heading, and a shorter one where the bars would get too short for it.
RATIO_NAMES = ("log10 std(dW)/std(W)", "log10 dW/W")
RATIO_NUMBER = 7  # " -12.34": the widest ratio a row prints after its bar


def _bar_layout(width: int) -> tuple[int, str]:
    """Cells per bar and the ratio's heading, so that the header and every row fit in `width` columns. Both start
    with 'layer  ' and three columns of a bar and its number (7 + 3 * (cells + 12)); then the header has the
    ratio's heading, a row its bar and number."""
    start = 7 + 3 * 12
    full, short = RATIO_NAMES
    cells = min(BAR, (width - start - RATIO_NUMBER) // 4, (width - start - len(full)) // 3)
    if cells >= 3:
        return cells, full
    return max(1, min(BAR, (width - start - RATIO_NUMBER) // 4, (width - start - len(short)) // 3)), short  # 60 columns: 1


def layer_bars(run: Run, record: Record, selected: int, width: int = 100, before: np.ndarray | None = None) -> list[Text]:
    """A header and one line per layer: name, then each quantity as a bar (log scale) and its number, for the
    update that took the parameters from `before` (the previous record's if None) to `record`."""
    problem = as_network(run.problem)
    cells, ratio_name = _bar_layout(width)
    step_size = "median step size" if cells + 12 > len("median step size") else "step size"  # a column is cells + 12 wide
    names = ("gradient RMS", "sqrt(v) RMS", step_size, ratio_name)
    header = Text("layer  " + "".join(name.ljust(cells + 12) for name in names).rstrip(), style="bold")
    if before is None:
        if record.step == 0:
            return [header, Text("(no update yet: press space for one)", style="dim")]
        before = run.records[record.step - 1].x
    lines = [header]
    for index, stats in enumerate(layer_statistics(problem, before, record)):
        line = Text(f"{'▶' if index == selected else ' '}{stats.name:>4}  ", style="bold" if index == selected else "")
        line.append_text(_bar(stats.grad_rms, BAR_RANGES["grad"], "cyan", cells))
        line.append(f" {fmt.significant(stats.grad_rms):<10} ")
        line.append_text(_bar(stats.sqrt_v_rms, BAR_RANGES["sqrt_v"], "green", cells))
        line.append(f" {'-' if stats.sqrt_v_rms is None else fmt.significant(stats.sqrt_v_rms):<10} ")
        line.append_text(_bar(stats.step_size, BAR_RANGES["step"], "yellow", cells))
        line.append(f" {fmt.significant(stats.step_size):<10} ")
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


LEVELS = 16  # colours per side of the heat map's scales: styles are made once per pair of levels


def _rgb(level: int, signed: bool) -> str:
    """Level -LEVELS..LEVELS (signed: blue, white, red) or 0..LEVELS (log scale: dark to yellow); None level: magenta."""
    if signed:
        t = level / LEVELS
        return (
            f"rgb(255,{int(255 * (1 - t))},{int(255 * (1 - t))})"
            if t >= 0
            else f"rgb({int(255 * (1 + t))},{int(255 * (1 + t))},255)"
        )
    t = level / LEVELS
    return f"rgb({int(40 + 215 * t)},{int(20 + 200 * t)},{int(80 * (1 - t))})"


@lru_cache(maxsize=4096)
def _cell_style(upper: int, lower: int, signed: bool, cursor: bool) -> Style:
    colour = {NOT_FINITE: "rgb(255,0,255)", NO_ROW: "black"}
    top, bottom = colour.get(upper) or _rgb(upper, signed), colour.get(lower) or _rgb(lower, signed)
    return Style.parse(f"bold black on {top}" if cursor else f"{top} on {bottom}")


NOT_FINITE, NO_ROW = 10_000, 10_001  # levels that are not on a scale


def _levels(grid: np.ndarray, signed: bool, scale: float, low: float, high: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        if signed:
            t = np.clip(grid / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(grid)
            levels = np.rint(t * LEVELS)
        else:
            span = high - low if high > low else 1.0
            t = np.where(grid > 0, (np.clip(np.log10(grid), low, high) - low) / span, 0.0)
            levels = np.rint(t * LEVELS)
    return np.where(np.isfinite(grid), np.nan_to_num(levels), NOT_FINITE).astype(int)


def _heat_map_title(layer: Layer, quantity: str, width: int) -> Text:
    """What the heat map shows and the keys that change it, in `width` columns: the longest wording that fits
    (which way the inputs and units run before the arrow keys' hint, the keys , . m before the layer's shape)."""
    label = f"layer {layer.name}: {QUANTITY_LABELS[quantity]}"
    across = f" ({layer.inputs} inputs across x {layer.outputs} units down)"
    shape = f" ({layer.inputs} inputs x {layer.outputs} units)"
    keys, short_keys = "   , . layer  m quantity  arrows move", "  , . layer  m quantity"
    wordings = [(across, keys), (across, short_keys), (shape, keys), (shape, short_keys), ("", short_keys), (shape, "")]
    shown, hint = next(((s, k) for s, k in wordings if len(label) + len(s) + len(k) <= width), ("", ""))
    title = Text(label + shown, style="bold")
    title.append(hint, style="dim")
    return title


def heat_map(run: Run, record: Record, layer_index: int, quantity: str, cursor: int, width: int, height: int) -> list[Text]:
    """The selected layer's quantity, rows = units (outputs), columns = inputs, two rows per line."""
    problem = as_network(run.problem)
    layer = problem.layers[layer_index]
    values = _values(record, layer, quantity)
    title = _heat_map_title(layer, quantity, width)
    if values is None:
        return [title, Text(f"({QUANTITY_LABELS[quantity]}: none at this update for {run.optimizer.label})", style="dim")]
    grid = values.T  # rows: units, columns: inputs
    finite = grid[np.isfinite(grid)]
    signed = quantity in ("W", "grad")
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    positive = finite[finite > 0]
    low, high = (float(np.log10(positive.min())), float(np.log10(positive.max()))) if positive.size else (0.0, 1.0)
    levels = _levels(grid, signed, scale, low, high).tolist()
    if len(levels) % 2:
        levels.append([NO_ROW] * grid.shape[1])
    cursor_row = cursor_column = -1
    if layer.weights.start <= cursor < layer.weights.stop:
        cursor_column, cursor_row = divmod(cursor - layer.weights.start, layer.outputs)
    columns = min(grid.shape[1], max(width - DIGITS_WIDTH - 2 if width >= DIGITS_BESIDE else width, 1))
    lines = [title]
    for top in range(0, len(levels), 2):
        if len(lines) >= height:
            break
        upper, lower = levels[top], levels[top + 1]
        chars = ["▀"] * columns
        spans = [Span(c, c + 1, _cell_style(upper[c], lower[c], signed, False)) for c in range(columns)]
        if 0 <= cursor_column < columns and cursor_row in (top, top + 1):
            level = (upper if cursor_row == top else lower)[cursor_column]
            chars[cursor_column] = "◆" if cursor_row == top else "◇"
            spans[cursor_column] = Span(cursor_column, cursor_column + 1, _cell_style(level, level, signed, True))
        lines.append(Text("".join(chars), spans=spans))
    scale_text = (
        f"colour: -{fmt.significant(scale)} blue .. 0 white .. +{fmt.significant(scale)} red"
        if signed
        else (f"colour: log scale, 1e{low:.1f} dark .. 1e{high:.1f} yellow")
    )
    lines.append(Text(scale_text, style="dim"))
    return lines


@lru_cache(maxsize=512)
def _grey_pair(upper: float, lower: float) -> Style:
    grey = lambda v: f"rgb({int(255 * v)},{int(255 * v)},{int(255 * v)})"  # noqa: E731
    return Style.parse(f"{grey(upper)} on {grey(lower)}")


def digit_lines(run: Run, record: Record, judged: Record | None = None, width: int | None = None) -> list[Text]:
    """The first test images, 8x8 in half blocks, each with the network's guess and the right answer, and the
    test loss and accuracy at `judged` (the record shown if None; run mode judges every TEST_EVERY steps), the
    latter in two lines where one is wider than `width`."""
    problem = as_network(run.problem)
    _, labels = load_digits()
    _, test = split()
    rows = test[:SHOWN_DIGITS]
    guesses = problem.predictions(record.x, rows)
    verdict = Text()
    for row, guess in zip(rows, guesses, strict=True):
        right = int(guess) == int(labels[row])
        verdict.append(f"{int(guess)} {'✓' if right else '✗'}".ljust(10), style="green" if right else "red")
    return [*(line.copy() for line in _digit_images()), verdict, *test_summary(run, record, judged, width)]


@cache
def _digit_images() -> tuple[Text, ...]:
    """The shown test images side by side, four lines of half blocks: the same on every frame, drawn once."""
    pixels, _ = load_digits()
    lines = [Text() for _ in range(4)]
    for row in split()[1][:SHOWN_DIGITS]:
        image = pixels[row].reshape(8, 8)
        for line_index in range(4):
            for column in range(8):
                upper, lower = image[2 * line_index, column], image[2 * line_index + 1, column]
                lines[line_index].append("▀", style=_grey_pair(float(upper), float(lower)))
            lines[line_index].append("  ")
    return tuple(lines)


def test_summary(run: Run, record: Record, judged: Record | None = None, width: int | None = None) -> list[Text]:
    """The test loss and accuracy at `judged` (the record shown if None), in one line, or two where it is wider
    than `width`."""
    judged = judged or record
    loss, accuracy = as_network(run.problem).evaluate(judged.x)
    numbers = f"test loss {fmt.number(loss, 4)}  accuracy {accuracy:.1%}"
    of = f"(360 test digits{'' if judged is record else f' at update {judged.step}'})"
    if width is not None and len(numbers) + 1 + len(of) > width:
        return [Text(numbers, style="bold"), Text(of, style="bold")]
    return [Text(f"{numbers} {of}", style="bold")]


def network_lines(
    run: Run,
    layer_index: int,
    quantity: str,
    cursor: int,
    width: int,
    height: int,
    running: bool = False,
    record: Record | None = None,
) -> list[Text]:
    """The whole panel in `height` lines: the layer bars, then the heat map with the test digits beside it
    (narrower than DIGITS_BESIDE columns: the heat map, then the test loss and accuracy in one line).
    `record` is the run's current one, or a narrated phase's half-updated arrays (`n`): then the bars
    are of the update under way, from the current record's parameters."""
    current = run.current
    record = record or current
    bars = layer_bars(run, record, layer_index, width, before=None if record is current else current.x)
    judged = run.records[record.step - record.step % TEST_EVERY] if running else record  # the test set costs ~10 updates
    digits = (
        digit_lines(run, record, judged, DIGITS_WIDTH) if width >= DIGITS_BESIDE else test_summary(run, record, judged, width)
    )
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
        lines += [*rows[: max(height - len(lines) - len(digits), 1)], *digits]
    return lines[:height]

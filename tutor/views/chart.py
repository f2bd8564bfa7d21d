"""Charts drawn with plotext. The only module of tutor that imports plotext.

Every chart is built as plain text (no escape codes) and coloured here by marker
character: far cheaper than parsing plotext's ANSI output, and the headless snapshot
gets the very same characters. Log axes are done by hand (log10 of the data on a
linear axis with 1e-k tick labels), which sidesteps plotext's log-scale crashes on
zero, negative, empty and infinite data.

plotext is imported by the first chart drawn, not with this module: its import (~25 ms,
it builds its docstrings at import) stays out of the app's first paint, which at step 0
has no chart to draw.
"""

from __future__ import annotations

import math
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from rich.style import Style
from rich.text import Text

# plotext keeps one global figure: one chart at a time.
_PLOTEXT_LOCK = threading.Lock()


@contextmanager
def _figure(width: int, height: int, title: str) -> Iterator[ModuleType]:
    """plotext's one global figure, cleared and sized, held for one chart: `with _figure(...) as plt`."""
    import plotext as plt

    with _PLOTEXT_LOCK:
        plt.clf()
        plt.limit_size(False, False)  # else plotext shrinks to the terminal (80x24 when piped)
        plt.theme("clear")
        plt.plotsize(width, height)
        plt.title(title)
        yield plt


# Markers in series order: each is a distinct character so plain text stays readable.
MARKERS = ("braille", "•", "▪", "◦", "·")
SERIES_COLOURS = ("#4a90d9", "#3cb44b", "#e6194b", "#f58231", "#911eb4")
HIGH_CONTRAST_COLOURS = ("#ffffff", "#ffff00", "#00ffff", "#ff00ff", "#00ff00")

# Below this many rows the loss chart drops its x label ("step") and says "by step" in its title.
ROOMY_HEIGHT = 10

# A loss this many times the largest finite start is drawn at the chart's top edge.
CLIP_FACTOR = 1e6


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]  # one value per step, from step 0 (or one per entry of `steps`)
    steps: Sequence[int] | None = None  # the steps of a sparse series (the digits network's test loss)


def _marker_char(marker: str) -> str | None:
    return None if marker == "braille" else marker


def _colour_text(lines: list[str], markers: Sequence[str], colours: Sequence[str], colour: bool) -> Text:
    text = Text("\n".join(lines))
    if not colour:
        return text
    char_colour = {}
    for marker, c in zip(markers, colours, strict=False):
        ch = _marker_char(marker)
        if ch is not None:
            char_colour[ch] = c
    braille_colour = next((c for m, c in zip(markers, colours, strict=False) if m == "braille"), None)
    offset = 0
    for line in lines:
        start = None
        current = None
        for i, ch in enumerate(line):
            style = char_colour.get(ch)
            if style is None and braille_colour and "\u2800" < ch <= "\u28ff":
                style = braille_colour
            if style != current:
                if current is not None and start is not None:
                    text.stylize(Style(color=current), offset + start, offset + i)
                start, current = i, style
        if current is not None and start is not None:
            text.stylize(Style(color=current), offset + start, offset + len(line))
        offset += len(line) + 1
    return text


def _decade_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick positions (log10 units) and labels such as 1e-3 for a log axis."""
    first, last = math.floor(low), math.ceil(high)
    decades = list(range(first, last + 1))
    step = max(1, math.ceil(len(decades) / 6))
    positions = [float(d) for d in decades[::step] if low - 1e-9 <= d <= high + 1e-9]
    if len(positions) < 2:  # less than a decade on screen: label the ends
        positions = [low, high] if high > low else [low]
    return positions, [_power_label(p) for p in positions]


def _power_label(exponent: float) -> str:
    if abs(exponent - round(exponent)) < 1e-9:
        e = int(round(exponent))
        return {0: "1", 1: "10", 2: "100"}.get(e, f"1e{e}")
    return f"{10**exponent:.2g}"


def _step_ticks(last: int, most: int = 6) -> list[int]:
    """Evenly spaced whole-number step ticks from 0: a spacing of 1, 2 or 5 times a power of ten,
    the smallest that keeps to `most` ticks (0 2 4 6 8, not 0 1 2 4 5 from rounding quarters)."""
    last = max(last, 1)
    spacing = 1
    while last // spacing + 1 > most:
        spacing = spacing * 5 // 2 if str(spacing)[0] == "2" else spacing * 2  # 1, 2, 5, 10, 20, 50, ...
    return list(range(0, last + 1, spacing))


def _downsample(xs: np.ndarray, ys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if xs.size <= limit:
        return xs, ys
    keep = np.unique(np.linspace(0, xs.size - 1, limit).round().astype(int))
    return xs[keep], ys[keep]


def loss_chart(
    series: Sequence[Series],
    width: int,
    height: int,
    title: str = "loss (log scale)",
    colour: bool = True,
    high_contrast: bool = False,
) -> Text:
    """Loss against step for one or more runs, on a log axis.

    Only finite, positive values are drawn; a loss above CLIP_FACTOR x the starting loss
    (a diverging run) is drawn at the top edge, and the title says it was clipped.
    """
    width, height = max(width, 20), max(height, 6)
    starts = [float(s.values[0]) for s in series if len(s.values) and np.isfinite(s.values[0]) and s.values[0] > 0]
    cap = math.log10(max(starts) * CLIP_FACTOR) if starts else 300.0
    prepared = []
    clipped = False
    for s in series:
        ys = np.asarray(s.values, dtype=float)
        xs = np.arange(ys.size, dtype=float) if s.steps is None else np.asarray(s.steps, dtype=float)
        with np.errstate(all="ignore"):
            logs = np.log10(ys)
        over = ~np.isfinite(ys) & ~np.isnan(ys) | (np.isfinite(logs) & (logs > cap))
        if over.any():
            clipped = True
            logs = np.where(over, cap, logs)
        keep = np.isfinite(logs)
        prepared.append((s.label, *_downsample(xs[keep], logs[keep], 2 * width)))
    points = [p for _, _, p in prepared if p.size]
    steps = max((len(s.values) for s in series if s.steps is None), default=1) - 1
    # A short chart gives the x label's row to the plot: the title names the axis instead.
    shown_title = title + (" by update" if height < ROOMY_HEIGHT else "")
    if clipped:  # plotext drops a title wider than the plot less 3 cells: the shorter note where the long one is
        notes = ("  (clipped: the loss ran off the top)", "  (clipped at the top)", " (clipped)")
        shown_title += next((note for note in notes if len(shown_title + note) <= width - 3), notes[-1])
    markers = MARKERS[: len(series)]
    colours = (HIGH_CONTRAST_COLOURS if high_contrast else SERIES_COLOURS)[: len(series)]
    legend = _legend([s.label for s in series], markers, width) if len(series) > 1 else None
    with _figure(width, height - (legend is not None), shown_title) as plt:
        if points:
            low = min(float(p.min()) for p in points)
            high = max(float(p.max()) for p in points)
            if high - low < 1e-9:
                low, high = low - 0.5, high + 0.5
            for (_label, xs, ys), marker in zip(prepared, markers, strict=False):
                if xs.size:
                    plt.plot(xs.tolist(), ys.tolist(), marker=marker)  # the legend goes above the plot
            positions, labels = _decade_ticks(low, high)
            rows = height - (legend is not None) - 5  # title, two borders, the x tick labels, the x label
            if rows < len(positions):
                # Two labels on one row: plotext would pick one by string-hash order, which
                # changes from run to run. Keep as many as there are rows, the top one first.
                positions, labels = positions[::-1][: max(rows, 1)][::-1], labels[::-1][: max(rows, 1)][::-1]
            plt.ylim(low, high)
            plt.yticks(positions, labels)
        else:
            plt.ylim(0, 1)
            plt.yticks([], [])
        plt.xlim(0, max(steps, 1))
        label_room = len(str(max(steps, 1))) + 3  # a label and the gap plotext needs between two
        ticks = _step_ticks(max(steps, 1), most=max(2, min(6, (width - 8) // label_room)))
        plt.xticks(ticks, [str(t) for t in ticks])
        if height >= ROOMY_HEIGHT:
            plt.xlabel("update")
        lines = plt.uncolorize(plt.build()).split("\n")
    if legend is not None:
        lines.insert(1, legend)  # under the title, outside the plot: it hides no step of any curve
    return _colour_text([line.rstrip() for line in lines], markers, colours, colour)


def _legend(labels: Sequence[str], markers: Sequence[str], width: int) -> str:
    """One line naming each series by its marker (braille for the first: its line is drawn in braille), centred."""
    entries = [f"{_marker_char(marker) or '⣿'} {label}" for label, marker in zip(labels, markers, strict=False)]
    return "  ".join(entries)[:width].center(width)


def waiting_chart(width: int, height: int, message: str, title: str = "loss (log scale)") -> Text:
    """A chart's place before there is a line to draw: its title, and `message` halfway down.

    No plotext: the app's first frame (step 0) shows this, and plotext loads after it."""
    width, height = max(width, 20), max(height, 3)
    lines = [title.center(width).rstrip()] + [""] * (height - 1)
    wrapped = textwrap.wrap(message, width)
    top = max(1, (height - len(wrapped)) // 2)
    for offset, line in enumerate(wrapped[: height - top]):
        lines[top + offset] = line.center(width).rstrip()
    text = Text("\n".join(lines))
    text.stylize("bold", 0, len(lines[0]))
    text.stylize("dim", len(lines[0]))
    return text


_EIGHTHS = " ▁▂▃▄▅▆▇█"  # a bar's top cell, in eighths of a row


def log_bar_chart(
    labels: Sequence[str],
    values: Sequence[float] | np.ndarray,
    width: int,
    height: int,
    title: str,
    colour: bool = True,
) -> Text:
    """Bars of |value| on a log axis (per-layer gradient magnitudes), drawn here rather than by plotext:
    plotext rounds its slots (gaps of 1 and 2 cells) and skips labels. Every bar gets a slot of the same width
    and the same gap to the next; every label is shown under its bar, or every k-th where they do not fit side by
    side. Zero, infinite and missing values leave their slot empty."""
    width, height = max(width, 20), max(height, 6)
    mags = np.abs(np.asarray(values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(mags)
    finite = logs[np.isfinite(logs)]
    rows = height - 3  # the title, the axis, the labels
    floor, top = (math.floor(float(finite.min())) - 1, math.ceil(float(finite.max()))) if finite.size else (0, 1)
    positions, tick_labels = _decade_ticks(floor, top) if finite.size else ([], [])
    axis_width = max((len(label) for label in tick_labels), default=0)
    columns = max(width - axis_width - 2, 1)
    labels = list(labels)
    if len(labels) > columns:  # more bars than cells (a 100-layer chain in a narrow panel): k layers a bar
        group = -(-len(labels) // columns)
        with np.errstate(all="ignore"):
            logs = np.array([_mean_of_finite(logs[k : k + group]) for k in range(0, len(logs), group)])
        labels = labels[::group]
        title = f"{title} ({group} layers a bar)"
    count = max(len(labels), 1)
    slot = max(1, columns // count)
    bar = slot - max(1, slot // 3) if slot > 1 else 1  # a gap of a third of the slot, at least one cell
    lead = (slot - bar + 1) // 2  # the gap split around the bar, so the first bar stands clear of the axis
    tick_rows: dict[int, str] = {}
    for position, tick in zip(positions, tick_labels, strict=True):
        # The row a bar of this value tops out in (the floor: the bottom row).
        row = min(rows - 1, max(0, rows - 1 - math.floor((position - floor) / (top - floor) * rows + 1e-9)))
        tick_rows.setdefault(row, tick)  # two ticks on one row (less than a row apart): the lower
    eighths = [round(float(v - floor) / (top - floor) * rows * 8) if np.isfinite(v) else 0 for v in logs]
    lines = [title.center(width).rstrip()]
    for row in range(rows):
        level = (rows - 1 - row) * 8  # eighths below this row
        cells = "".join((" " * lead + _EIGHTHS[min(8, max(0, filled - level))] * bar).ljust(slot) for filled in eighths)
        tick_label = tick_rows.get(row, "")
        lines.append(f"{tick_label:>{axis_width}}{'┤' if tick_label else '│'}{cells}".rstrip())
    lines.append(" " * axis_width + "└" + "─" * (slot * count))
    every = next(k for k in range(1, count + 1) if k * slot >= max(map(len, labels), default=1) + 1)
    label_line = [" "] * (axis_width + 1 + slot * count + max(map(len, labels), default=1))
    shown = list(range(0, len(labels), every))
    last = len(labels) - 1
    if shown and shown[-1] != last:  # the last bar (the layer the text talks about) has its label too
        if last - shown[-1] >= every:
            shown.append(last)
        elif len(shown) > 1:
            shown[-1] = last  # in place of the one before it: still `every` or more from the one before that
    for index in shown:
        centre = axis_width + 1 + index * slot + lead + (bar - 1) // 2
        text = labels[index]
        start = max(0, centre - (len(text) - 1) // 2)
        label_line[start : start + len(text)] = text
    lines.append("".join(label_line).rstrip())
    return _colour_bars(lines) if colour else Text("\n".join(lines))


def _mean_of_finite(logs: np.ndarray) -> float:
    """The mean of the finite log-magnitudes (a geometric mean of the values), -inf if none is finite."""
    finite = logs[np.isfinite(logs)]
    return float(finite.mean()) if finite.size else -math.inf


def _colour_bars(lines: list[str]) -> Text:
    """The bars' cells in the first series colour (the title, axis and labels as they are)."""
    text = Text("\n".join(lines))
    offset = len(lines[0]) + 1
    style = Style(color=SERIES_COLOURS[0])
    for line in lines[1:-2]:
        for start, end in _runs_of(line, set(_EIGHTHS[1:])):
            text.stylize(style, offset + start, offset + end)
        offset += len(line) + 1
    return text


def _runs_of(line: str, characters: set[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of `characters` in `line`."""
    start = None
    for index, character in enumerate(line + "\0"):
        if character in characters and start is None:
            start = index
        elif character not in characters and start is not None:
            yield start, index
            start = None


# --- the 2-D surface view's contour chart -------------------------------------------

CONTOUR_MARKER = "·"


@dataclass(frozen=True)
class ContourCanvas:
    """A contour chart as plain text, and where its plot area sits in it.

    `lines[top + r][left + c]` is the cell of plot-area row r (0 at the top) and column c;
    it shows the point x = x_min + c (x_max - x_min) / (columns - 1),
    y = y_max - r (y_max - y_min) / (rows - 1), which is how plotext places a point.
    """

    lines: tuple[str, ...]
    top: int
    left: int
    rows: int
    columns: int


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) inside [low, high]."""
    span = high - low
    if not span > 0:
        return [low]
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    ticks = [k * step for k in range(first, int(math.floor(high / step + 1e-9)) + 1)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def _frame_geometry(lines: list[str]) -> tuple[int, int, int, int]:
    """(top, left, rows, columns) of the plot area inside plotext's frame."""
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌")
    right = lines[top].index("┐")
    return top + 1, left + 1, bottom - top - 1, right - left - 1


def contour_chart(
    bounds: tuple[float, float, float, float],
    width: int,
    height: int,
    crossings: Callable[[int, int], np.ndarray],
    title: str = "",
) -> ContourCanvas:
    """Axes over `bounds` = (x_min, x_max, y_min, y_max) with contour points in plain text.

    `crossings(columns, rows)` returns a (rows, columns) bool array of the plot-area cells
    a contour crosses (row 0 at the top), at the plot area's own resolution; each is drawn
    as a light CONTOUR_MARKER point. Build it once per view and size and keep it: paths
    are drawn over the text by the caller (see ContourCanvas for the cell mapping).
    """
    x_min, x_max, y_min, y_max = bounds
    width, height = max(width, 24), max(height, 8)
    x_ticks, y_ticks = _nice_ticks(x_min, x_max), _nice_ticks(y_min, y_max)
    with _figure(width, height, title) as plt:
        plt.xlim(x_min, x_max)
        plt.ylim(y_min, y_max)
        # plotext draws ticks only for an axis with data: an invisible point gives it some.
        plt.scatter([x_min], [y_min], marker=" ")
        plt.xticks(x_ticks, [f"{t:g}" for t in x_ticks])
        plt.yticks(y_ticks, [f"{t:g}" for t in y_ticks])
        top, left, rows, columns = _frame_geometry(plt.uncolorize(plt.build()).split("\n"))
        cells = np.asarray(crossings(columns, rows), dtype=bool)
        r, c = np.nonzero(cells)
        if r.size:
            dx = (x_max - x_min) / max(columns - 1, 1)
            dy = (y_max - y_min) / max(rows - 1, 1)
            plt.scatter((x_min + c * dx).tolist(), (y_max - r * dy).tolist(), marker=CONTOUR_MARKER)
        lines = plt.uncolorize(plt.build()).split("\n")
    return ContourCanvas(tuple(line.rstrip("\n") for line in lines), top, left, rows, columns)

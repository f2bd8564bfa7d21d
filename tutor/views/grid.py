"""Colour-scaled grids of numbers: x, the gradient, v, the step size, momentum, AX."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar, Literal

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text

from tutor.views import format as fmt

Scale = Literal["signed", "log"]

# Sequential palette for log-scaled magnitudes (viridis, dark -> bright).
LOG_PALETTE = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")
# Diverging palette for signed values: blue (negative) .. grey (zero) .. red (positive).
SIGNED_PALETTE = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#3a3a3a", "#fddbc7", "#f4a582", "#d6604d", "#b2182b")
# High contrast: black and white with one accent, for projectors.
HIGH_CONTRAST_LOG = ("#000000", "#1a1a1a", "#333333", "#4d4d4d", "#808080", "#b3b3b3", "#d9d9d9", "#f0f0f0", "#ffffff")
HIGH_CONTRAST_SIGNED = ("#0000ff", "#0000ff", "#5555ff", "#aaaaff", "#000000", "#ffaaaa", "#ff5555", "#ff0000", "#ff0000")

# Seven characters hold two significant digits of any number a grid meets, negative ones too (-0.0090,
# -3.8e-6); a cell that needs more (-1.2e-10) widens every cell of its grid.
CELL_WIDTH = 7


def _foreground(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


@cache
def _cell_style(background: str) -> Style:
    """A cell's colours; cached, since parsing colours for every cell of every step adds up."""
    return Style(bgcolor=background, color=_foreground(background))


_PLAIN = Style()
_BOLD = Style(bold=True)
_IDLE_STYLE = Style(dim=True, italic=True)
ABSENT = "—"  # a cell of a quantity no update has computed yet (not 0: the value is not known)
_OVERFLOW_STYLE = Style(bold=True, color="red")
_CURSOR_STYLE = Style(reverse=True, bold=True)


@dataclass
class GridView:
    """One quantity as a grid of numbers, each cell coloured by value.

    `scale="log"` colours by log10(|value|) between the smallest and largest active
    cell (v and the step size span decades); `scale="signed"` colours by sign and size.
    Cells in `idle` show "idle" instead of a number: v is still 0 there.
    """

    title: str
    values: np.ndarray
    scale: Scale = "signed"
    idle: np.ndarray | None = None
    cursor: int | None = None  # flat index of the inspected element
    highlight: bool = False  # this quantity changes in the narrated phase on screen
    subtitle: str = ""  # dim, after the title: "(none yet)"
    absent: bool = False  # no values yet (the gradient before the first update): every cell shows ABSENT
    per_row: int = 5
    colour: bool = True
    high_contrast: bool = False
    show_legend: bool = True
    compact: bool = False  # cells one space apart (not two), the cursor marked by ▸ rather than brackets
    cell_width: int = CELL_WIDTH  # at least this wide (grids side by side share their cells' width)
    _texts: list[str] | None = field(default=None, init=False, repr=False)

    HEADER_LINES: ClassVar[int] = 1  # the title

    def _flat(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float).reshape(-1)

    def _columns(self) -> int:
        v = np.asarray(self.values)
        return v.shape[1] if v.ndim == 2 else min(self.per_row, max(v.size, 1))

    def _idle_flat(self) -> np.ndarray:
        flat = self._flat()
        if self.idle is None:
            return np.zeros(flat.shape, dtype=bool)
        return np.asarray(self.idle, dtype=bool).reshape(-1)

    def value_range(self) -> tuple[float, float]:
        """(low, high) the colours span: log10 magnitudes for log scale, max |value| for signed."""
        flat = self._flat()
        active = flat[~self._idle_flat() & np.isfinite(flat)]
        if self.scale == "log":
            active = np.abs(active[active != 0])
            if active.size == 0:
                return (0.0, 0.0)
            return (float(np.log10(active.min())), float(np.log10(active.max())))
        if active.size == 0:
            return (0.0, 0.0)
        return (0.0, float(np.abs(active).max()))

    def _palette(self) -> tuple[str, ...]:
        if self.scale == "log":
            return HIGH_CONTRAST_LOG if self.high_contrast else LOG_PALETTE
        return HIGH_CONTRAST_SIGNED if self.high_contrast else SIGNED_PALETTE

    def _colour_of(self, value: float, low: float, high: float) -> str | None:
        if not math.isfinite(value):
            return None
        palette = self._palette()
        if self.scale == "log":
            if value == 0:
                return None
            position = 0.5 if high <= low else (math.log10(abs(value)) - low) / (high - low)
            return palette[min(len(palette) - 1, max(0, round(position * (len(palette) - 1))))]
        if high == 0:
            return palette[len(palette) // 2]
        half = len(palette) // 2
        offset = round(abs(value) / high * half)
        return palette[half + offset if value > 0 else half - offset]

    def texts(self) -> list[str]:
        """Each cell's text, with two significant digits at least and three where they fit CELL_WIDTH."""
        if self._texts is None:
            idle = self._idle_flat()
            self._texts = [
                ABSENT if self.absent else fmt.IDLE if idle[k] else fmt.cell(v, self.cell_width)
                for k, v in enumerate(self._flat().tolist())
            ]
        return self._texts

    def needed_cell_width(self) -> int:
        """The width its cells need: `cell_width`, or more where a number's two digits need more."""
        return max(self.cell_width, *map(len, self.texts()))

    def _append_cell(self, row: Text, flat_index: int, value: float, idle: bool, low: float, high: float) -> None:
        """Append one cell to `row` (appending, not adding Texts: a grid redraws on every update)."""
        text = self.texts()[flat_index]
        idle = idle or self.absent  # drawn as an idle cell: dim, no colour
        style = _PLAIN
        if self.colour and not idle:
            bg = self._colour_of(value, low, high)
            if bg is not None:
                style = _cell_style(bg)
        if idle:
            style = _IDLE_STYLE
        if not math.isfinite(value) and not idle:
            style = _OVERFLOW_STYLE if self.colour else _BOLD
        label = text.rjust(self.needed_cell_width())
        cursor = flat_index == self.cursor
        if cursor:
            style = style + _CURSOR_STYLE
        if self.compact:
            row.append("▸" if cursor else " ", _BOLD if cursor else _PLAIN)
            row.append(label, style)
            return
        # Brackets mark the cursor even without colour (headless, NO_COLOR).
        row.append("[" if cursor else " ", _BOLD if cursor else _PLAIN)
        row.append(label, style)
        row.append("]" if cursor else " ", _BOLD if cursor else _PLAIN)

    def legend(self, value_range: tuple[float, float] | None = None) -> Text:
        if self.absent:
            return Text("no values yet", style="dim")
        low, high = value_range or self.value_range()
        if self.scale == "log":
            if high == low == 0:
                return Text("log scale: no values yet", style="dim")
            text = Text("log ")
            palette = self._palette()
            text.append(fmt.significant(10**low) + " ")
            for colour in palette:
                text.append("█" if self.colour else "", style=Style(color=colour) if self.colour else Style())
            if not self.colour:
                text.append("..")
            text.append(" " + fmt.significant(10**high))
            return text
        text = Text("")
        palette = self._palette()
        text.append(fmt.significant(-high) + " ")
        for colour in palette:
            text.append("█" if self.colour else "", style=Style(color=colour) if self.colour else Style())
        if not self.colour:
            text.append("..")
        text.append(" " + fmt.significant(high))
        return text

    def lines(self) -> list[Text]:
        flat = self._flat()
        idle = self._idle_flat()
        low, high = self.value_range()
        columns = self._columns()
        title = Text(self.title, style="bold reverse" if self.highlight else "bold")
        if self.highlight:
            title.append(" ◀", style="bold")
        if self.subtitle:
            title.append(" " + self.subtitle, style="dim")
        out = [title]  # HEADER_LINES lines above the cells
        for start in range(0, flat.size, columns):
            row = Text()
            for k in range(start, min(start + columns, flat.size)):
                self._append_cell(row, k, float(flat[k]), bool(idle[k]), low, high)
            out.append(row)
        if self.show_legend:
            out.append(self.legend((low, high)))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines()

    def width(self) -> int:
        return self._columns() * (self.needed_cell_width() + (1 if self.compact else 2))

    def measure_width(self) -> int:
        """The columns the grid needs: its cells, its title line or its legend, whichever is widest."""
        return max(self.width(), len(self.title) + 2 + (len(self.subtitle) + 1 if self.subtitle else 0), self.legend().cell_len)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self.measure_width()
        return Measurement(width, width)

"""The visualizer's panels: thin Textual wrappers that draw tutor.views renderables.

Each panel is given one frozen frame of what to show (its `frame` var) and draws nothing
else: the visualizer steps the runs and builds the frames. An equal frame draws nothing; a
new one repaints the lines that changed, at the size the panel has on screen. The grids and charts are many small coloured spans: they are drawn through
Textual's line API (Rich Text lines turned into strips once per change), which skips the
wrapping and markup work a Static would repeat on every paint.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tutor.engine import Record, Run
from tutor.views.grid import GridView
from tutor.views.visualizer import layer_chart, quantity_grids, run_chart

# Which hidden-panel name hides which grid (names as share codes spell them).
GRID_PANELS = {
    "x": "x",
    "AX (goal: I)": "product",
    "gradient g": "grad",
    "mean square v": "mean_square",
    "momentum m": "momentum",
}
GRID_GAP = 2
FOLDED_NOTE = "grids and inspector folded for the chart   m: show them"  # no `t` here: the sandbox has none


def _grid_panel_name(grid: GridView) -> str:
    return GRID_PANELS.get(grid.title, "effective_step")


@dataclass(frozen=True)
class GridLayout:
    """Where the grids on screen sit, so a click can find its cell."""

    shown: int  # grids drawn
    per_row: int
    column_width: int  # widest grid
    height: int  # lines of one grid
    columns: int  # cells per grid row
    cell_width: int


@dataclass(frozen=True)
class GridDrawing:
    lines: list[Text]
    layout: GridLayout | None
    pages: int
    page: int


class TextLinesPanel(Widget):
    """A panel drawn from Rich Text lines through the line API: the one line-diff base of the visualizer.

    Its input is one frozen `frame` (a var): a new frame redraws, and repaints only the lines that
    changed, so moving the cursor repaints two rows of each grid, not the panel; a new size or theme
    repaints all. `warm(frame)` cuts the strips of a frame drawn ahead (the next step's), so showing
    it later costs a lookup.
    """

    AHEAD_STRIPS = 400

    frame: var[Hashable | None] = var(None, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts: Sequence[Text] = ()
        self._strips: dict[int, Strip] = {}  # the lines on screen, by row
        self._drawn_for: tuple[Size, Style] | None = None  # (content size, base style) the strips were cut for
        self._ahead: LRUCache[tuple[Hashable, int], Strip] = LRUCache(self.AHEAD_STRIPS)

    def text_lines(self, frame: Any, width: int, height: int) -> Sequence[Text]:
        """The lines that show `frame` at this content size (subclasses draw here, cached)."""
        return ()

    def watch_frame(self) -> None:
        self.redraw()

    def redraw(self, layout: bool = False) -> None:
        size = self.content_size
        if layout or size.width <= 0 or size.height <= 0:
            self._drawn_for = None  # drawn when laid out
            self.refresh(layout=layout)
            return
        old, self._texts = self._texts, self.text_lines(self.frame, size.width, size.height)
        if (size, self.rich_style) != self._drawn_for:
            self._start_drawing(size)
            self.refresh()
            return
        top = self.styles.gutter.top
        for y in range(max(len(old), len(self._texts))):
            if y >= len(old) or y >= len(self._texts) or old[y] != self._texts[y]:
                self._strips.pop(y, None)
                self.refresh(Region(0, top + y, self.size.width, 1))

    def _start_drawing(self, size: Size) -> None:
        self._drawn_for = (size, self.rich_style)
        self._strips.clear()
        self._ahead.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_for = None  # a new theme or focus style: draw every line with it

    def render_line(self, y: int) -> Strip:
        size = self.content_size
        if self._drawn_for is None or self._drawn_for[0] != size:  # laid out anew since the last redraw
            self._texts = self.text_lines(self.frame, size.width, size.height)
            self._start_drawing(size)
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._texts):
                strip = self._ahead.get((self.frame, y)) or self._cut(self._texts[y])
            else:
                strip = Strip.blank(size.width, self.rich_style)
            self._strips[y] = strip
        return strip

    def _cut(self, line: Text) -> Strip:
        return Strip(_segments(line, self.rich_style, self.app.console), line.cell_len)

    def warm(self, frame: Hashable) -> None:
        """Draw `frame` ahead and cut its strips, if the panel is on screen at the size it was drawn for."""
        size = self.content_size
        if not self.display or self._drawn_for != (size, self.rich_style) or frame == self.frame:
            return
        for y, line in enumerate(self.text_lines(frame, size.width, size.height)):
            if self._ahead.get((frame, y)) is None:
                self._ahead.set((frame, y), self._cut(line))


def _segments(line: Text, base: Style, console: Console) -> list[Segment]:
    """`line` as segments over `base`. Grid and chart lines are runs of side-by-side spans, cut
    here directly (several times cheaper than Text.render); overlapping spans go through Rich."""
    spans = sorted(line.spans, key=attrgetter("start"))
    if line.style:
        base = base + console.get_style(line.style)
    text, position, segments = line.plain, 0, []
    for span in spans:
        if span.start < position:
            return [Segment(s.text, base + s.style if s.style else base) for s in line.render(console, end="")]
        if span.start > position:
            segments.append(Segment(text[position : span.start], base))
        style = span.style if isinstance(span.style, Style) else console.get_style(span.style)
        segments.append(Segment(text[span.start : span.end], base + style))
        position = span.end
    if position < len(text):
        segments.append(Segment(text[position:], base))
    return segments


# When the grids need several pages, the first shows what the optimizer does inside.
PAGE_PRIORITY = ("mean square", "step size lr/", "gradient", "momentum", "x", "AX")  # gd's "step size (lr everywhere)" last


def _page_priority(title: str) -> int:
    return next((i for i, prefix in enumerate(PAGE_PRIORITY) if title.startswith(prefix)), len(PAGE_PRIORITY))


@dataclass(frozen=True)
class GridsFrame:
    """What the grids show: `record` is the run's current one, a narrated phase's, or the next step's."""

    run: Run
    record: Record
    cursor: int = 0
    highlight: tuple[str, ...] = ()
    high_contrast: bool = False
    hidden: frozenset[str] = frozenset()
    max_rows: int = 2  # rows of grids that fit the screen's height
    page: int = 0  # asked for; shown modulo the pages there are
    folded: bool = False  # too short for grids and chart: one line says where the grids went


class GridsPanel(TextLinesPanel, can_focus=True):
    """The quantities as colour-scaled grids, a cursor on one element, one page at a time when space is short."""

    DRAWINGS = 8

    frame: var[GridsFrame | None] = var(None, init=False)

    class CellClicked(Message):
        def __init__(self, flat_index: int) -> None:
            super().__init__()
            self.flat_index = flat_index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawings: LRUCache[tuple[GridsFrame, int], GridDrawing] = LRUCache(self.DRAWINGS)

    def watch_frame(self) -> None:
        """Draw again; lay the screen out again only if the number of lines changed (that costs more)."""
        width = self.content_size.width
        self.redraw(layout=width <= 0 or len(self.text_lines(self.frame, width, 0)) != len(self._texts))

    def grids(self, frame: GridsFrame | None = None) -> list[GridView]:
        """The grids `frame` shows (the one on screen if None)."""
        frame = frame or self.frame
        if frame is None:
            return []
        grids = quantity_grids(
            frame.run,
            cursor=frame.cursor,
            highlight=frame.highlight,
            high_contrast=frame.high_contrast,
            record=frame.record,
            compact=True,
        )
        grids = [grid for grid in grids if _grid_panel_name(grid) not in frame.hidden]
        width = max((grid.needed_cell_width() for grid in grids), default=0)
        for grid in grids:
            grid.show_legend = "legend" not in frame.hidden
            grid.cell_width = width  # one cell width on screen: a click finds its cell in any grid
        return grids

    def drawing(self, frame: GridsFrame | None, width: int) -> GridDrawing:
        """`frame` drawn at `width` (kept: stepping back, or to a step drawn ahead, costs a lookup)."""
        if frame is None or width <= 0:
            return GridDrawing([], None, 1, 0)
        drawing = self._drawings.get((frame, width))
        if drawing is None:
            drawing = self._draw(frame, width)
            self._drawings.set((frame, width), drawing)
        return drawing

    @property
    def shown(self) -> GridDrawing:
        return self.drawing(self.frame, self.content_size.width)

    @property
    def pages(self) -> int:
        return self.shown.pages

    @property
    def page(self) -> int:
        return self.shown.page

    @property
    def layout_info(self) -> GridLayout | None:
        return self.shown.layout

    def _draw(self, frame: GridsFrame, width: int) -> GridDrawing:
        grids = self.grids(frame)
        if not grids:
            return GridDrawing([], None, 1, 0)
        if frame.folded:
            return GridDrawing([Text(FOLDED_NOTE, style="dim", no_wrap=True, overflow="ellipsis")], None, 1, 0)
        blocks = [grid.lines() for grid in grids]
        column_width = max(line.cell_len for block in blocks for line in block)
        per_row = max(1, (width + GRID_GAP) // (column_width + GRID_GAP))
        per_page = per_row * max(1, frame.max_rows)
        pages = -(-len(grids) // per_page)
        if pages > 1:  # not all fit: what RMSprop adds (v, the step) comes first, x and AX last
            order = sorted(range(len(grids)), key=lambda i: _page_priority(grids[i].title))
            grids, blocks = [grids[i] for i in order], [blocks[i] for i in order]
        page = frame.page % pages
        shown = grids[page * per_page : (page + 1) * per_page]
        blocks = blocks[page * per_page : (page + 1) * per_page]
        first = shown[0]
        layout = GridLayout(
            len(shown), per_row, column_width, len(blocks[0]), first._columns(), first.width() // first._columns()
        )
        gap = " " * GRID_GAP
        lines: list[Text] = []
        for start in range(0, len(blocks), per_row):
            if lines:
                lines.append(Text(""))
            row = blocks[start : start + per_row]
            for index in range(max(len(block) for block in row)):
                line = Text(no_wrap=True, overflow="crop")
                for column, block in enumerate(row):
                    part = block[index] if index < len(block) else Text("")
                    if column:
                        line.append(gap)
                    line.append_text(part)
                    if column < len(row) - 1:
                        line.append(" " * max(0, column_width - part.cell_len))
                lines.append(line)
        if pages > 1:
            first_shown = page * per_page + 1
            which = f"grid {first_shown}" if len(shown) == 1 else f"grids {first_shown}-{first_shown + len(shown) - 1}"
            lines.append(Text(f"{which} of {len(grids)}  (m: more grids)", style="dim"))
        return GridDrawing(lines, layout, pages, page)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.text_lines(self.frame, width, 0))

    def text_lines(self, frame: GridsFrame | None, width: int, height: int) -> Sequence[Text]:
        return self.drawing(frame, width).lines

    def cell_at(self, x: int, y: int) -> int | None:
        """The flat index of the element drawn at content offset (x, y), if any."""
        info = self.layout_info
        if info is None or self.frame is None:
            return None
        column, x_in = divmod(x, info.column_width + GRID_GAP)
        row, y_in = divmod(y, info.height + 1)
        if column >= info.per_row or row * info.per_row + column >= info.shown:
            return None
        cell_row, cell_column = y_in - GridView.HEADER_LINES, x_in // info.cell_width
        if cell_row < 0 or cell_column >= info.columns:
            return None
        flat = cell_row * info.columns + cell_column
        return flat if flat < self.frame.record.x.size else None

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        flat = self.cell_at(offset.x, offset.y)
        if flat is not None:
            self.post_message(self.CellClicked(flat))


@dataclass(frozen=True)
class ChartFrame:
    """Every run's loss up to its record's step (the records are the runs' current ones, or the next step's)."""

    runs: tuple[Run, ...]
    records: tuple[Record, ...]
    high_contrast: bool = False


class LossChart(TextLinesPanel, can_focus=True):
    """The loss against step (log scale) for every run, drawn by plotext only for a frame not drawn before.

    Charts already drawn are kept (stepping back costs nothing), and the visualizer draws the next
    step's chart ahead while the app is idle (`warm`), so a step forward usually finds its chart ready.
    """

    CACHE_SIZE = 64

    frame: var[ChartFrame | None] = var(None, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._charts: LRUCache[tuple[ChartFrame, int, int], list[Text]] = LRUCache(self.CACHE_SIZE)
        self.builds = 0  # how many times plotext ran (tests check the chart is not rebuilt needlessly)

    @property
    def high_contrast(self) -> bool:
        return self.frame is not None and self.frame.high_contrast

    def text_lines(self, frame: ChartFrame | None, width: int, height: int) -> Sequence[Text]:
        if frame is None or width <= 0 or height <= 0:
            return ()
        lines = self._charts.get((frame, width, height))
        if lines is None:
            steps = [record.step for record in frame.records]
            chart = run_chart(frame.runs, width, height, high_contrast=frame.high_contrast, steps=steps)
            lines = list(chart.split("\n"))
            self.builds += 1
            self._charts.set((frame, width, height), lines)
        return lines


@dataclass(frozen=True)
class LayerFrame:
    run: Run
    record: Record


class LayerChart(TextLinesPanel, can_focus=True):
    """The deep chain's per-layer gradient magnitudes as log-scale bars, with the first/last ratio."""

    frame: var[LayerFrame | None] = var(None, init=False)

    def text_lines(self, frame: LayerFrame | None, width: int, height: int) -> Sequence[Text]:
        if frame is None or width <= 0:
            return ()
        return list(layer_chart(frame.run, width, height, record=frame.record).split("\n"))


class Inspector(Static, can_focus=True):
    """One element's last update written out with its numbers (views.inspector)."""


class StatusLine(Static):
    """Step, loss, change of loss and the divergence warning (views.status)."""


class NarrationBar(Static):
    """The narrated phase on screen, or how to start one."""


class ControlsBar(Static):
    """Running or paused, the speed, which run the grids show."""

"""The visualizer's panels: thin Textual wrappers that draw tutor.views renderables.

Each panel is told what to show (`show(...)`) and draws when the screen is next painted,
so several changes within one frame cost one drawing, made at the size the panel has on
screen. The grids and charts are many small coloured spans: they are drawn through
Textual's line API (Rich Text lines turned into strips once per change), which skips the
wrapping and markup work a Static would repeat on every paint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
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
    """A panel drawn from Rich Text lines through the line API.

    `redraw()` draws the lines at once and repaints only the lines that changed, so moving
    the cursor repaints two rows of each grid, not the panel; a new size or theme repaints all.
    """

    STRIP_CACHE_SIZE = 400

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._drawn_for: tuple | None = None  # (content size, base style) the strips were made for
        # Strips by the Text they draw (kept, so its id stays its own): lines drawn ahead are cut once.
        self._line_strips: dict[int, tuple[Text, Strip]] = {}

    def text_lines(self, width: int, height: int) -> list[Text]:
        """The lines to show at this content size (subclasses draw here)."""
        return []

    def redraw(self, layout: bool = False) -> None:
        size = self.content_size
        if layout or size.width <= 0 or size.height <= 0:
            self._drawn_for = None  # drawn when laid out
            self.refresh(layout=layout)
            return
        old, self._texts = self._texts, self.text_lines(size.width, size.height)
        drawn_for = (size, self.rich_style)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._strips.clear()
            self._line_strips.clear()
            self.refresh()
            return
        top = self.styles.gutter.top
        for y in range(max(len(old), len(self._texts))):
            if y >= len(old) or y >= len(self._texts) or old[y] != self._texts[y]:
                self._strips.pop(y, None)
                self.refresh(Region(0, top + y, self.size.width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_for = None  # a new theme or focus style: draw every line with it

    def render_line(self, y: int) -> Strip:
        size = self.content_size
        if self._drawn_for is None or self._drawn_for[0] != size:  # laid out anew since the last redraw
            self._texts = self.text_lines(size.width, size.height)
            self._drawn_for = (size, self.rich_style)
            self._strips.clear()
            self._line_strips.clear()
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strip_for(self._texts[y]) if y < len(self._texts) else Strip.blank(size.width, self._drawn_for[1])
            self._strips[y] = strip
        return strip

    def _strip_for(self, line: Text) -> Strip:
        cached = self._line_strips.get(id(line))
        if cached is not None and cached[0] is line:
            return cached[1]
        assert self._drawn_for is not None
        strip = Strip(_segments(line, self._drawn_for[1], self.app.console), line.cell_len)
        if len(self._line_strips) >= self.STRIP_CACHE_SIZE:
            self._line_strips.clear()
        self._line_strips[id(line)] = (line, strip)
        return strip

    def warm(self, lines: list[Text]) -> None:
        """Cut the strips of lines drawn ahead, so showing them later costs no more than a lookup."""
        if self._drawn_for is not None and self._drawn_for[0] == self.content_size:
            for line in lines:
                self._strip_for(line)


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
PAGE_PRIORITY = ("mean square", "step lr/", "gradient", "momentum", "x", "AX")  # gd's "step (lr everywhere)" last


def _page_priority(title: str) -> int:
    return next((i for i, prefix in enumerate(PAGE_PRIORITY) if title.startswith(prefix)), len(PAGE_PRIORITY))


class GridsPanel(TextLinesPanel, can_focus=True):
    """The quantities as colour-scaled grids, a cursor on one element, one page at a time when space is short."""

    class CellClicked(Message):
        def __init__(self, flat_index: int) -> None:
            super().__init__()
            self.flat_index = flat_index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._run: Run | None = None
        self._record: Record | None = None
        self.cursor = 0
        self.highlight: Sequence[str] = ()
        self.hidden: frozenset[str] = frozenset()
        self.high_contrast = False
        self.max_rows = 2  # rows of grids that fit; the visualizer sets it from the screen height
        self.page = 0
        self.pages = 1
        self.layout_info: GridLayout | None = None
        self._lines: list[Text] = []
        self._lines_width = -1  # the width _lines were laid out for; -1: draw again
        self._drawings: OrderedDict[tuple, tuple[Record, GridDrawing]] = OrderedDict()

    def show(self, run: Run, record: Record | None, cursor: int, highlight: Sequence[str]) -> None:
        self._run, self._record, self.cursor, self.highlight = run, record, cursor, highlight
        self.redraw()

    def redraw(self, layout: bool = False) -> None:
        """Draw again; lay the screen out again only if the number of lines changed (that costs more)."""
        old_height = len(self._lines)
        self._lines_width = -1
        width = self.content_size.width
        self.clear_cached_dimensions()  # refresh() skips this before the panel is mounted
        super().redraw(layout=width <= 0 or len(self._lines_at(width)) != old_height)

    def grids(self, record: Record | None = None) -> list[GridView]:
        """The grids shown: for `record`, else the narrated phase's record, else the run's current one."""
        if self._run is None:
            return []
        grids = quantity_grids(
            self._run,
            cursor=self.cursor,
            highlight=self.highlight,
            high_contrast=self.high_contrast,
            record=record or self._record,
            compact=True,
        )
        for grid in grids:
            grid.show_legend = "legend" not in self.hidden
        return [grid for grid in grids if _grid_panel_name(grid) not in self.hidden]

    def _drawing_key(self, width: int, record: Record) -> tuple:
        return (
            id(self._run),
            id(record),
            self.cursor,
            tuple(self.highlight),
            self.high_contrast,
            self.hidden,
            self.max_rows,
            self.page,
            width,
        )

    def _drawing(self, width: int, record: Record | None) -> GridDrawing:
        """The grids at `width` for `record` (the run's current one if None), from the cache if drawn before."""
        if self._run is None:
            return GridDrawing([], None, 1, 0)
        record = record or self._run.current
        key = self._drawing_key(width, record)
        cached = self._drawings.get(key)
        if cached is not None and cached[0] is record:
            return cached[1]
        drawing = self._draw(width, record)
        self._drawings[key] = (record, drawing)
        if len(self._drawings) > 8:
            self._drawings.popitem(last=False)
        return drawing

    def _draw(self, width: int, record: Record) -> GridDrawing:
        grids = self.grids(record)
        if not grids or width <= 0:
            return GridDrawing([], None, 1, 0)
        blocks = [grid.lines() for grid in grids]
        column_width = max(line.cell_len for block in blocks for line in block)
        per_row = max(1, (width + GRID_GAP) // (column_width + GRID_GAP))
        per_page = per_row * max(1, self.max_rows)
        pages = -(-len(grids) // per_page)
        if pages > 1:  # not all fit: what RMSprop adds (v, the step) comes first, x and AX last
            order = sorted(range(len(grids)), key=lambda i: _page_priority(grids[i].title))
            grids, blocks = [grids[i] for i in order], [blocks[i] for i in order]
        page = self.page % pages
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
            note = f"grids {first_shown}-{first_shown + len(shown) - 1} of {len(grids)}  (m: more grids)"
            lines.append(Text(note, style="dim"))
        return GridDrawing(lines, layout, pages, page)

    def _lines_at(self, width: int) -> list[Text]:
        """The grids laid side by side in `width` columns, one Text per line (kept until the next redraw)."""
        if width != self._lines_width:
            self._lines_width = width
            drawing = self._drawing(width, self._record)
            self._lines, self.layout_info, self.pages, self.page = drawing.lines, drawing.layout, drawing.pages, drawing.page
        return self._lines

    def prefetch(self, steps: int) -> None:
        """Draw the grids `steps` ahead (if that step is computed), for the key that will likely come next."""
        run, width = self._run, self.content_size.width
        if run is None or self._record is not None or width <= 0 or not self.display:
            return
        index = run.index + steps
        if index < len(run.records):
            self.warm(self._drawing(width, run.records[index]).lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_at(width))

    def text_lines(self, width: int, height: int) -> list[Text]:
        return self._lines_at(width)

    def cell_at(self, x: int, y: int) -> int | None:
        """The flat index of the element drawn at content offset (x, y), if any."""
        info = self.layout_info
        if info is None:
            return None
        column, x_in = divmod(x, info.column_width + GRID_GAP)
        row, y_in = divmod(y, info.height + 1)
        if column >= info.per_row or row * info.per_row + column >= info.shown:
            return None
        cell_row, cell_column = y_in - GridView.HEADER_LINES, x_in // info.cell_width
        size = self._run.current.x.size if self._run is not None else 0
        if cell_row < 0 or cell_column >= info.columns:
            return None
        flat = cell_row * info.columns + cell_column
        return flat if flat < size else None

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        flat = self.cell_at(offset.x, offset.y)
        if flat is not None:
            self.post_message(self.CellClicked(flat))


class LossChart(TextLinesPanel, can_focus=True):
    """The loss against step (log scale) for every run, rebuilt only when its data or size changed.

    Charts already drawn are kept (stepping back costs nothing), and after each paint the
    chart of the next step is drawn ahead while the app is idle (`prefetch`), so a step
    forward usually finds its chart ready instead of running plotext inside the frame.
    """

    CACHE_SIZE = 64

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._runs: Sequence[Run] = ()
        self.high_contrast = False
        self._key: tuple | None = None
        self._cache: OrderedDict[tuple, tuple[tuple[Record, ...], list[Text]]] = OrderedDict()
        self.builds = 0  # how many times plotext ran (tests check the chart is not rebuilt needlessly)

    def data_key(self) -> tuple:
        return (tuple((id(run), run.index, id(run.current)) for run in self._runs), self.high_contrast)

    def show(self, runs: Sequence[Run]) -> None:
        self._runs = runs
        if self.data_key() != self._key:
            self.redraw()

    def _chart(self, width: int, height: int) -> list[Text]:
        key = (self.data_key(), width, height)
        records = tuple(run.current for run in self._runs)
        cached = self._cache.get(key)
        # The records are kept with the chart, so their ids cannot be reused while it is cached.
        if cached is not None and all(a is b for a, b in zip(cached[0], records, strict=False)):
            self._cache.move_to_end(key)
            return cached[1]
        lines = list(run_chart(self._runs, width, height, high_contrast=self.high_contrast).split("\n"))
        self.builds += 1
        self._cache[key] = (records, lines)
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return lines

    def text_lines(self, width: int, height: int) -> list[Text]:
        if not self._runs or width <= 0 or height <= 0:
            return []
        self._key = self.data_key()
        return self._chart(width, height)

    def prefetch(self, steps: int) -> None:
        """Draw the chart `steps` ahead of the runs' step, for the key that will likely come next."""
        size = self.content_size
        if not self._runs or steps <= 0 or size.width <= 0 or size.height <= 0 or not self.display:
            return
        here = [run.index for run in self._runs]
        try:
            for run, index in zip(self._runs, here, strict=False):
                run.goto(index + steps)
            self.warm(self._chart(size.width, size.height))
        finally:
            for run, index in zip(self._runs, here, strict=False):
                run.goto(index)


class LayerChart(TextLinesPanel, can_focus=True):
    """The deep chain's per-layer gradient magnitudes as log-scale bars, with the first/last ratio."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._run: Run | None = None
        self._key: tuple | None = None

    def show(self, run: Run) -> None:
        self._run = run
        if (id(run), id(run.current)) != self._key:
            self.redraw()

    def text_lines(self, width: int, height: int) -> list[Text]:
        run = self._run
        if run is None or not hasattr(run.problem, "layer_gradients") or width <= 0:
            return []
        self._key = (id(run), id(run.current))
        return list(layer_chart(run, width, height).split("\n"))


class Inspector(Static, can_focus=True):
    """One element's last update written out with its numbers (views.inspector)."""


class StatusLine(Static):
    """Step, loss, change of loss and the divergence warning (views.status)."""


class NarrationBar(Static):
    """The narrated phase on screen, or how to start one."""


class ControlsBar(Static):
    """Running or paused, the speed, which run the grids show."""

"""An optimizer's path across a two-parameter surface: its length, its speed, and a view of it.

numpy only, like the rest of the engine. The lessons (tutor/engine/experiments.py) and the
surface view both use these, so a number the text quotes is the number the picture shows:

- `steps_to(run, threshold)`: the first step whose loss is below `threshold` (e.g. 1e-3).
- `path_length_ratio(records)`: the length of the path through `records` over the straight
  distance from its first point to its last (1.0 = a straight line; a zigzag is larger).
- `view_bounds(problem, paths)`: the rectangle the surface view shows.
- `contour_cells(problem, bounds, columns, rows, levels)`: which character cells a contour
  line crosses, at a chart's resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from tutor.engine.problems import Problem, SurfaceProblem
from tutor.engine.run import Record, Run

# steps_to gives up after this many updates (the run keeps what it computed).
MAX_SEARCH_STEPS = 20_000
# The view grows by this factor, at most MAX_ZOOM_OUT times, to keep paths on screen.
ZOOM_FACTOR = 2.0
MAX_ZOOM_OUT = 3


# A learning rate at which a path visibly moves a step at a time on each surface, shared by
# every optimizer in compare mode (the seed's lr 0.001 barely moves on these surfaces).
# Valley: gradient descent converges below 2/K = 0.1 for K = 20 and zigzags at 0.09.
SURFACE_LEARNING_RATES = {"valley": 0.09, "rosenbrock": 0.002}


class Bounds(NamedTuple):
    """The rectangle a surface view shows, in the problem's coordinates."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def contains(self, point: Sequence[float]) -> bool:
        x, y = float(point[0]), float(point[1])
        return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max

    def scaled(self, factor: float) -> Bounds:
        """The same centre, `factor` times as wide and as tall."""
        cx, cy = (self.x_min + self.x_max) / 2, (self.y_min + self.y_max) / 2
        hx, hy = (self.x_max - self.x_min) / 2 * factor, (self.y_max - self.y_min) / 2 * factor
        return Bounds(cx - hx, cx + hx, cy - hy, cy + hy)


def points(records: Sequence[Record]) -> np.ndarray:
    """The path through `records` as an (n, 2) array of x."""
    return np.array([r.x for r in records], dtype=float).reshape(len(records), -1)


def path_length(records: Sequence[Record]) -> float:
    """Sum of the straight segments between consecutive points."""
    xy = points(records)
    if len(xy) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(xy, axis=0), axis=1).sum())


def path_length_ratio(records: Sequence[Record]) -> float:
    """Path length over the straight distance from the first point to the last.

    1.0 for a straight path; gradient descent zigzagging across a narrow valley gives
    several times that. nan when the path has not moved (or is not finite).
    """
    xy = points(records)
    if len(xy) < 2:
        return math.nan
    straight = float(np.linalg.norm(xy[-1] - xy[0]))
    if not math.isfinite(straight) or straight == 0:
        return math.nan
    return path_length(records) / straight


def steps_to(run: Run, threshold: float, max_steps: int = MAX_SEARCH_STEPS) -> int | None:
    """The first step whose loss is below `threshold`, or None if the run does not get there
    within `max_steps` updates (or diverges first).

    Computes forward as far as needed; the step on screen (`run.index`) is left as it was.
    """
    for record in run.records:
        if record.loss < threshold:
            return record.step
    index = run.index
    try:
        while len(run.records) - 1 < max_steps:
            record = run.goto(len(run.records))
            if record.loss < threshold:
                return record.step
            if record.diverged:
                return None
        return None
    finally:
        run.index = index


def base_bounds(problem: Problem) -> Bounds:
    """The view before any path has left it.

    Rosenbrock: the classic [-2, 2] x [-1, 3] around its curved valley. Otherwise a square
    centred on the minimum that holds the start with a margin, so the valley's ellipses sit
    in the middle.
    """
    if problem.kind == "rosenbrock":
        return Bounds(-2.0, 2.0, -1.0, 3.0)
    centre = np.asarray(getattr(problem, "minimum", lambda: np.zeros(2))(), dtype=float)
    start = np.asarray(problem.start(), dtype=float)
    half = 1.15 * float(np.max(np.abs(start - centre))) or 1.0
    cx, cy = float(centre[0]), float(centre[1])
    return Bounds(cx - half, cx + half, cy - half, cy + half)


def view_bounds(problem: Problem, paths: Iterable[np.ndarray] = ()) -> tuple[Bounds, bool]:
    """The view for `paths` and whether some finite point still lies outside it (clipped).

    The base view grows by ZOOM_FACTOR (up to MAX_ZOOM_OUT times) until every finite point
    fits: a few distinct views per problem, so a cached contour is rarely recomputed. A
    diverging path ends outside the largest view and is clipped at its edge.
    """
    bounds = base_bounds(problem)
    finite = [p[np.all(np.isfinite(p), axis=1)] for p in paths if len(p)]
    finite = [p for p in finite if len(p)]
    if not finite:
        return bounds, False
    xy = np.concatenate(finite)
    lo, hi = xy.min(axis=0), xy.max(axis=0)

    def fits(b: Bounds) -> bool:
        return b.x_min <= lo[0] and hi[0] <= b.x_max and b.y_min <= lo[1] and hi[1] <= b.y_max

    for _ in range(MAX_ZOOM_OUT):
        if fits(bounds):
            return bounds, False
        bounds = bounds.scaled(ZOOM_FACTOR)
    return bounds, not fits(bounds)


def contour_levels(problem: Problem, bounds: Bounds, count: int = 6) -> np.ndarray:
    """Log-spaced loss levels, from just above the minimum to the loss at the start.

    Half a decade apart where the range allows, at most `count` of them.
    """
    start_loss = float(problem.loss(np.asarray(problem.start(), dtype=float)))
    top = math.log10(max(start_loss, 1e-12))
    exponents = np.arange(math.floor(top * 2) / 2, top - 6.0, -0.5)[:count]
    return np.sort(10.0**exponents)


def contour_cells(problem: Problem, bounds: Bounds, columns: int, rows: int, levels: Sequence[float] | np.ndarray) -> np.ndarray:
    """A (rows, columns) bool array: True where a contour line at one of `levels` crosses a cell.

    Cell (r, c) is centred on x = x_min + c dx, y = y_max - r dy (row 0 at the top), with
    dx = (x_max - x_min) / (columns - 1), as plotext places a point. A cell is crossed when
    the loss at its four corners lies on both sides of a level (compared in log10, so
    the log-spaced levels are evenly resolved).
    """
    if not isinstance(problem, SurfaceProblem):
        raise ValueError(f"contours are drawn for two-parameter problems (valley, rosenbrock), not {problem.kind}")
    columns, rows = max(columns, 2), max(rows, 2)
    dx = (bounds.x_max - bounds.x_min) / (columns - 1)
    dy = (bounds.y_max - bounds.y_min) / (rows - 1)
    xs = bounds.x_min + (np.arange(columns + 1) - 0.5) * dx
    ys = bounds.y_max - (np.arange(rows + 1) - 0.5) * dy
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        corners = np.log10(np.maximum(problem.loss_grid(grid_x, grid_y), 1e-300))
    low = np.minimum.reduce([corners[:-1, :-1], corners[:-1, 1:], corners[1:, :-1], corners[1:, 1:]])
    high = np.maximum.reduce([corners[:-1, :-1], corners[:-1, 1:], corners[1:, :-1], corners[1:, 1:]])
    crossed = np.zeros((rows, columns), dtype=bool)
    for level in np.log10(np.asarray(levels, dtype=float)):
        crossed |= (low < level) & (level <= high)
    return crossed

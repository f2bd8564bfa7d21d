"""The 2-D surface view (tutor/views/surface.py): contours cached, paths where the engine put
them, per-axis numbers from the records, clipping, and byte-deterministic snapshots."""

import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from rich.console import Console

from tutor.engine import Hyperparameters, Rosenbrock, Run, Valley
from tutor.engine.paths import view_bounds
from tutor.views import format as fmt
from tutor.views import surface
from tutor.views.chart import CONTOUR_MARKER
from tutor.views.surface import HEAD_MARKERS, TRAIL_MARKERS, contour_canvas, plot_text, surface_snapshot, surface_view


def compare_runs(angle: float = 45.0, steps: int = 0) -> list[Run]:
    problem = Valley(20.0, angle)
    runs = [
        Run.create(problem, "gd", Hyperparameters(lr=0.09)),
        Run.create(problem, "rmsprop", Hyperparameters(lr=0.1)),
        Run.create(problem, "rmsprop-momentum", Hyperparameters(lr=0.1)),
    ]
    for run in runs:
        run.goto(steps)
    return runs


def plain(renderable, width: int) -> str:
    console = Console(width=width, color_system=None, record=True, file=open(os.devnull, "w"))
    console.print(renderable)
    return console.export_text()


@pytest.fixture(autouse=True)
def fresh_cache():
    contour_canvas.cache_clear()
    yield
    contour_canvas.cache_clear()


@pytest.fixture
def contour_calls(monkeypatch):
    calls = []
    original = surface.contour_chart

    def counting(*args, **kwargs):
        calls.append(args[1:3])
        return original(*args, **kwargs)

    monkeypatch.setattr(surface, "contour_chart", counting)
    return calls


def test_the_contour_is_computed_once_while_stepping(contour_calls):
    runs = compare_runs(45.0)
    for _ in range(60):
        for run in runs:
            run.forward()
        surface_view(runs, 120, 40)
    for _ in range(20):
        for run in runs:
            run.back()
        surface_view(runs, 120, 40)
    assert len(contour_calls) == 1
    surface_view(compare_runs(45.0, 3), 120, 40)  # new runs, same problem: same contour
    assert len(contour_calls) == 1
    surface_view(runs, 80, 24)  # a new size draws it again, once
    surface_view(runs, 80, 24)
    assert len(contour_calls) == 2
    surface_view(compare_runs(0.0), 80, 24)  # new parameters
    assert len(contour_calls) == 3


def cell_of(xy, bounds, canvas):
    """plotext's placement: floor(0.5 + (n - 1) * share), so a half rounds up."""
    column = math.floor(0.5 + (xy[0] - bounds.x_min) / (bounds.x_max - bounds.x_min) * (canvas.columns - 1))
    row = math.floor(0.5 + (bounds.y_max - xy[1]) / (bounds.y_max - bounds.y_min) * (canvas.rows - 1))
    return canvas.top + row, canvas.left + column


def test_each_current_point_is_drawn_where_the_engine_put_it():
    runs = compare_runs(0.0, 7)
    width, height = 70, 30
    lines, warnings = plot_text(runs, width, height, colour=False)
    bounds, _ = view_bounds(runs[0].problem, [np.array([r.x for r in run.records]) for run in runs])
    canvas = contour_canvas(runs[0].problem, bounds, width, height)
    assert not warnings
    for run in runs:
        row, column = cell_of(run.current.x, bounds, canvas)
        drawn = lines[row].plain[column]
        # Where two heads share a cell, the later run's marker is on top.
        later = max(i for i, r in enumerate(runs) if cell_of(r.current.x, bounds, canvas) == (row, column))
        assert drawn == HEAD_MARKERS[later]
    # The start (-3, 1) is on gradient descent's trail or under a head; the minimum is marked.
    text = "\n".join(line.plain for line in lines)
    assert TRAIL_MARKERS[0] in text and TRAIL_MARKERS[1] in text and CONTOUR_MARKER in text


def test_the_panel_shows_each_axis_numbers_from_the_record():
    runs = compare_runs(45.0, 5)
    text = plain(surface_snapshot(runs, 120, 40, colour=False), 120)
    for run in runs:
        assert run.optimizer.label in text
        record = run.current
        for axis in range(2):
            assert fmt.cell(record.grad[axis], 8, 3) in text
            assert fmt.cell(record.effective_step[axis], 8, 3) in text
            if record.mean_square is not None:
                assert fmt.cell(record.mean_square[axis], 8, 3) in text


def test_before_the_first_step_v_and_the_step_are_idle():
    runs = compare_runs(45.0, 0)
    text = plain(surface_snapshot(runs, 120, 40, colour=False), 120)
    rows = [line for line in text.splitlines() if "  x " in line or "  y " in line]
    assert len(rows) == 6
    assert sum(line.count(fmt.IDLE) for line in rows) == 8  # v and step on both axes, for both RMSprops
    assert all("none yet" in line for line in rows)


def test_a_larger_step_gets_a_longer_bar():
    run = Run.create(Valley(20.0, 0.0), "rmsprop", Hyperparameters(lr=0.1))
    run.goto(3)  # along x the gradient is small, so its step lr/sqrt(v) is the larger one
    assert run.current.effective_step[0] > 5 * run.current.effective_step[1]
    lines = surface.axis_panel([run], 50, colour=False)
    x_row = next(line.plain for line in lines if line.plain.startswith("  x "))
    y_row = next(line.plain for line in lines if line.plain.startswith("  y "))
    step_column = slice(len(x_row) - 16, len(x_row))
    assert x_row[step_column].count("█") > y_row[step_column].count("█")


def test_the_snapshot_is_byte_deterministic_and_independent_of_the_terminal():
    runs = compare_runs(45.0, 12)
    first = plain(surface_snapshot(runs, 100, 30, colour=False), 100)
    contour_canvas.cache_clear()
    assert plain(surface_snapshot(compare_runs(45.0, 12), 100, 30, colour=False), 100) == first
    script = (
        "import os, sys\n"
        "from rich.console import Console\n"
        "from tests.test_surface import compare_runs\n"
        "from tutor.views.surface import surface_snapshot\n"
        "c = Console(width=100, color_system=None, record=True, file=open(os.devnull, 'w'))\n"
        "c.print(surface_snapshot(compare_runs(45.0, 12), 100, 30, colour=False))\n"
        "sys.stdout.write(c.export_text())\n"
    )
    env = dict(os.environ, COLUMNS="40", LINES="10")  # plotext must not shrink to this terminal
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout == first
    assert len(first.splitlines()) <= 30 and max(len(line) for line in first.splitlines()) <= 100


def test_a_diverging_path_is_clipped_at_the_edge_with_a_warning():
    problem = Valley(20.0, 45.0)
    runs = [Run.create(problem, "gd", Hyperparameters(lr=0.2)), Run.create(problem, "rmsprop", Hyperparameters(lr=0.1))]
    for steps in (6, 30, 400):  # leaving the view, far outside it, overflowed to inf
        for run in runs:
            run.goto(steps)
        text = plain(surface_view(runs, 100, 30, colour=False), 100)
        assert "gradient descent's path left the view" in text or "DIVERGED" in text, steps
        assert "DIVERG" in text
        assert len(text.splitlines()) <= 30
    assert runs[0].current.diverged and "DIVERGED" in text
    bounds, clipped = view_bounds(problem, [np.array([r.x for r in runs[0].records[:7]])])
    assert clipped


def test_rosenbrock_and_a_narrow_terminal_stack_the_panel_under_the_plot():
    runs = [Run.create(Rosenbrock(), "rmsprop-momentum", Hyperparameters(lr=0.002))]
    runs[0].goto(100)
    text = plain(surface_view(runs, 60, 40, colour=False), 60)
    lines = text.splitlines()
    plot_end = max(i for i, line in enumerate(lines) if "┘" in line)
    assert any("rmsprop-momentum" in line for line in lines[plot_end:])
    assert max(len(line) for line in lines) <= 60 and len(lines) <= 40


def test_a_narrated_phase_moves_the_head_and_shows_its_arrays():
    runs = compare_runs(0.0, 4)
    rmsprop = runs[1]
    phase = {"x": np.array([0.0, 0.0]), "grad": np.array([123.0, -4.5]), "mean_square": rmsprop.current.mean_square}
    phases = [None, phase, None]
    text = plain(surface_view(runs, 120, 40, colour=False, highlight=("grad",), phases=phases), 120)
    assert "123" in text and "-4.5" in text
    lines, _ = plot_text(runs, 70, 36, colour=False, heads=[None, phase["x"], None])
    bounds, _ = view_bounds(runs[0].problem)
    row, column = cell_of(phase["x"], bounds, contour_canvas(runs[0].problem, bounds, 70, 36))
    assert lines[row].plain[column] == HEAD_MARKERS[1]  # on the minimum, where "+" was
    plain_lines, _ = plot_text(runs, 70, 36, colour=False)
    assert plain_lines[row].plain[column] == surface.MINIMUM_MARKER


def test_the_sandbox_on_a_surface_starts_with_a_learning_rate_that_moves_the_paths():
    from tutor.cli import build_parser, sandbox_setup

    def lrs(*argv):
        setup = sandbox_setup(build_parser().parse_args(["sandbox", *argv]))
        return setup.view, [run.hp.lr for run in setup.runs]

    assert lrs("--problem", "valley", "--angle", "45", "--compare") == ("surface", [0.09] * 3)
    assert lrs("--problem", "rosenbrock") == ("surface", [0.002])
    assert lrs("--problem", "valley", "--lr", "0.3") == ("surface", [0.3])
    assert lrs() == ("matrix", [0.001])  # the seed's default stays for the matrix


# --- in the app: `tutor sandbox --problem valley --angle 45 --compare` ---------------------


def sandbox_app(tmp_path, *arguments: str):
    from tutor.cli import build_parser, sandbox_setup
    from tutor.tui.app import make_app

    setup = sandbox_setup(build_parser().parse_args(["sandbox", *arguments]))
    return make_app(progress_path=tmp_path / "progress.json", sandbox=setup)


def shown(app) -> tuple[object, list[Run], str]:
    """The visualizer, its runs and what the surface widget shows, as plain text."""
    from tutor.tui.widgets.surface import SurfaceView
    from tutor.tui.widgets.visualizer import Visualizer

    vis = app.screen.query_one(Visualizer)
    widget = vis.query_one(SurfaceView)
    text = "\n".join(widget.render_line(y).text for y in range(widget.content_size.height))
    return vis, vis.runs, text


COMPARE = ("--problem", "valley", "--angle", "45", "--compare")


async def test_the_surface_view_steps_three_paths_together_and_back(tmp_path):
    app = sandbox_app(tmp_path, *COMPARE)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        vis, runs, start = shown(app)
        assert [run.optimizer.key for run in runs] == ["gd", "rmsprop", "rmsprop-momentum"]
        assert all(not vis.query_one(f"#{name}").display for name in ("grids", "bottom"))
        assert start.startswith("update 0  valley: condition 20, floor at 45 degrees")
        frames = [start]
        for step in (1, 2, 3):
            await pilot.press("space")
            await pilot.pause()
            vis, runs, text = shown(app)
            assert [run.step for run in runs] == [step] * 3
            assert text.startswith(f"update {step} ") and text != frames[-1]
            frames.append(text)
        note = "( ) turn the valley  { } its condition"
        expected = surface_view(runs, 120, len(frames[-1].splitlines()), colour=False, note=note).plain.splitlines()
        assert [line.rstrip() for line in frames[-1].splitlines()] == [line.rstrip() for line in expected]
        for run in runs:
            assert run.optimizer.label in frames[-1] and fmt.cell(run.current.grad[0], 8, 3) in frames[-1]
        await pilot.press("b")
        await pilot.pause()
        assert shown(app)[2] == frames[2]
        await pilot.press("0")
        await pilot.pause()
        assert shown(app)[2] == frames[0]


async def test_narrated_phases_show_the_selected_run_mid_update(tmp_path):
    app = sandbox_app(tmp_path, *COMPARE)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "o", "n")  # rmsprop selected; its first phase computes the gradient
        await pilot.pause()
        vis, runs, text = shown(app)
        assert vis.run is runs[1] and vis.phase_index == 0
        phase_grad = vis.phases[0].arrays["grad"]
        assert fmt.cell(phase_grad[0], 8, 3) in text and [run.step for run in runs] == [1, 1, 1]
        for _ in range(len(vis.phases) - 1):
            await pilot.press("n")
        await pilot.pause()
        assert [run.step for run in runs] == [2, 2, 2]
        assert np.array_equal(vis.phases[-1].arrays["x"], runs[1].current.x)


async def test_rosenbrock_single_run_at_80x24(tmp_path):
    app = sandbox_app(tmp_path, "--problem", "rosenbrock", "--optimizer", "rmsprop-momentum")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*["space"] * 10)
        await pilot.pause()
        vis, runs, text = shown(app)
        assert runs[0].step == 10 and "rosenbrock" in text and HEAD_MARKERS[0] in text
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_surface_snapshot_svg(snap_compare, tmp_path, size):
    """`tutor sandbox --problem valley --angle 45 --compare` after 6 steps: the dotted contour
    ellipses of a valley running at 45 degrees, the gold + at the minimum, three coloured paths
    (gradient descent • zigzagging across the valley, rmsprop ▪ and rmsprop-momentum ▴) with
    their current points ● ■ ▲; beside them per optimizer the x and y rows of grad g, v and
    lr/(√v+ε) with log bars; at the bottom the contour levels and the footer's keys."""
    assert snap_compare(sandbox_app(tmp_path, *COMPARE), press=["space"] * 6, terminal_size=size)


async def test_a_step_repaints_only_the_lines_that_changed(tmp_path):
    from tutor.tui.widgets.surface import SurfaceView

    app = sandbox_app(tmp_path, *COMPARE)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "space")
        await pilot.pause()
        widget = app.screen.query_one(SurfaceView)
        before = widget.lines()
        assert len(widget._strips) == len(before)  # every line drawn once
        frame = widget.frame
        for run in frame.runs:
            run.forward()
        # what the visualizer does after a step; the frame is not painted yet
        widget.frame = replace(frame, records=tuple(run.current for run in frame.runs))
        changed = [y for y, (old, new) in enumerate(zip(before, widget.lines(), strict=False)) if old != new]
        assert changed and changed[0] == 0  # the status line says the new step
        kept = set(widget._strips)
        assert not kept & set(changed)
        unchanged_frame = [y for y, line in enumerate(before) if "└" in line or line.startswith("· loss")]
        assert unchanged_frame and set(unchanged_frame) <= kept  # the axes and the key are not redrawn


def test_high_contrast_draws_brighter_contours_and_the_matrix_is_refused():
    runs = compare_runs(45.0, 3)
    console = Console(width=120, color_system="truecolor", file=open(os.devnull, "w"))

    def contour_colours(high_contrast: bool) -> set[str]:
        text = surface_view(runs, 120, 40, colour=True, high_contrast=high_contrast)
        return {
            segment.style.color.triplet.hex
            for segment in console.render(text)
            if segment.text and set(segment.text) == {CONTOUR_MARKER} and segment.style and segment.style.color
        }

    assert contour_colours(False) == {surface.CONTOUR_COLOUR}
    assert contour_colours(True) == {surface.HIGH_CONTRAST_CONTOUR_COLOUR}
    from tutor.engine import MatrixInverse

    with pytest.raises(ValueError, match="two-parameter problems"):
        surface_view([Run.create(MatrixInverse(), "gd")], 120, 40)


async def test_turning_the_valley_and_changing_its_condition_start_the_runs_again(tmp_path):
    app = sandbox_app(tmp_path, *COMPARE)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "space", "space", "right_parenthesis")
        await pilot.pause()
        vis, runs, text = shown(app)
        assert runs[0].problem == Valley(20.0, 60.0) and all(run.step == 0 for run in runs)
        assert [run.optimizer.key for run in runs] == ["gd", "rmsprop", "rmsprop-momentum"]
        assert [run.hp.lr for run in runs] == [0.09] * 3
        assert text.startswith("update 0  valley: condition 20, floor at 60 degrees")
        await pilot.press(*["left_parenthesis"] * 4, "left_curly_bracket", "space")
        await pilot.pause()
        vis, runs, text = shown(app)
        assert runs[0].problem == Valley(10.0, 0.0) and all(run.step == 1 for run in runs)
        assert text.startswith("update 1  valley: condition 10, floor at 0 degrees")
        assert vis.state()["problem"] == {"kind": "valley", "condition": 10.0, "angle": 0.0}
        enabled = {binding.action for _, binding, on, _ in app.screen.active_bindings.values() if on}
        assert {"turn(-15)", "condition(2)"} <= enabled
        assert "( ) turn the valley  { } its condition" in text.splitlines()[0]


async def test_the_valley_keys_do_nothing_on_rosenbrock(tmp_path):
    app = sandbox_app(tmp_path, "--problem", "rosenbrock")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "right_parenthesis", "right_curly_bracket")
        await pilot.pause()
        vis, runs, _ = shown(app)
        assert runs[0].problem.kind == "rosenbrock" and runs[0].step == 1


async def test_run_mode_and_the_editor_drive_the_surface_view(tmp_path):
    from tutor.tui.screens.edit import EditScreen

    app = sandbox_app(tmp_path, *COMPARE)
    async with app.run_test(size=(120, 40)) as pilot:
        vis, runs, _ = shown(app)
        await pilot.press("r", "plus", "plus")  # 30 updates/s
        for _ in range(400):
            if vis.step >= 5:
                break
            await pilot.pause(0.01)
        await pilot.press("r")
        await pilot.pause()
        stopped = vis.step
        assert stopped >= 5 and not vis.running
        assert shown(app)[2].startswith(f"update {stopped} ")
        await pilot.press("e")
        assert isinstance(app.screen, EditScreen)
        await pilot.press("0", ".", "0", "5", "enter")
        await pilot.pause()
        vis, runs, text = shown(app)
        assert [run.hp.lr for run in runs] == [0.05] * 3
        assert "lr=0.05" in text
        await pilot.press("space")
        await pilot.pause()
        expected = Run.create(Valley(20.0, 45.0), "rmsprop", Hyperparameters(lr=0.09))
        expected.goto(stopped)
        expected.set_hyperparameters(Hyperparameters(lr=0.05))
        expected.forward()
        assert np.array_equal(runs[1].current.x, expected.current.x)


def test_layout_puts_the_panel_beside_a_wide_plot_and_under_a_narrow_tall_one():
    assert surface.layout(120, 40, 3) == surface.Layout(68, 40, 50, True)
    assert surface.layout(100, 30, 3) == surface.Layout(56, 30, 42, True)  # the headless snapshot
    assert surface.layout(80, 19, 3).side_by_side  # the 80x24 sandbox: too short to stack
    assert surface.layout(72, 36, 1) == surface.Layout(72, 30, 72, False)  # a lesson's column
    assert not surface.layout(60, 40, 3).side_by_side

"""Two-parameter surfaces and the path metrics of tutor/engine/paths.py.

The valley and Rosenbrock against their closed forms for random parameters (tests/test_engine.py
checks a few fixed cases), traces against the update formulas written out here, and the
lesson's claim: RMSprop's path is straighter and shorter when the valley lies along an axis.
"""

import math

import numpy as np
import pytest

from tutor.engine import Hyperparameters, Rosenbrock, Run, Valley, make_problem
from tutor.engine.paths import (
    Bounds,
    base_bounds,
    contour_cells,
    contour_levels,
    path_length,
    path_length_ratio,
    points,
    steps_to,
    view_bounds,
)

RNG_SEED = 20261126
CASES = 20


def random_valleys() -> list[tuple[float, float, np.ndarray]]:
    rng = np.random.default_rng(RNG_SEED)
    return [(float(10 ** rng.uniform(0, 3)), float(rng.uniform(-180, 180)), rng.uniform(-4, 4, size=2)) for _ in range(CASES)]


def central_difference(problem, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros(2)
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        grad[i] = (problem.loss(x + step) - problem.loss(x - step)) / (2 * h)
    return grad


@pytest.mark.parametrize("condition, angle, x", random_valleys())
def test_valley_value_gradient_and_grid_match_the_closed_form(condition, angle, x):
    problem = Valley(condition, angle)
    a = math.radians(angle)
    u = x[0] * math.cos(a) + x[1] * math.sin(a)
    v = -x[0] * math.sin(a) + x[1] * math.cos(a)
    expected = 0.5 * (u**2 + condition * v**2)
    assert problem.loss(x) == pytest.approx(expected, rel=1e-12)
    # d/dx of 1/2(u^2 + K v^2) with du/dx = cos a, dv/dx = -sin a; d/dy: sin a, cos a.
    closed = np.array([u * math.cos(a) - condition * v * math.sin(a), u * math.sin(a) + condition * v * math.cos(a)])
    assert np.allclose(problem.grad(x), closed, rtol=1e-12, atol=1e-12)
    assert np.allclose(problem.grad(x), central_difference(problem, x), rtol=1e-5, atol=1e-6)
    grid = problem.loss_grid(np.array([[x[0], 0.0]]), np.array([[x[1], 0.0]]))
    assert grid[0, 0] == pytest.approx(expected, rel=1e-12) and grid[0, 1] == 0


def test_rosenbrock_gradient_and_grid_at_random_points():
    problem = Rosenbrock()
    rng = np.random.default_rng(RNG_SEED)
    for x in rng.uniform(-2, 2, size=(CASES, 2)):
        closed = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
        assert np.allclose(problem.grad(x), closed, rtol=1e-12)
        assert np.allclose(problem.grad(x), central_difference(problem, x), rtol=1e-5, atol=1e-4)
        assert problem.loss_grid(np.array([x[0]]), np.array([x[1]]))[0] == pytest.approx(problem.loss(x), rel=1e-12)


def formula_trace(problem, optimizer: str, hp: Hyperparameters, steps: int) -> list[np.ndarray]:
    """The update rules written out independently of tutor/engine/optimizers.py."""
    x = problem.start().astype(float)
    v = np.zeros(2)
    m = np.zeros(2)
    xs = []
    for _ in range(steps):
        g = problem.grad(x)
        if optimizer == "gd":
            x = x - hp.lr * g
        else:
            v = hp.decay * v + (1 - hp.decay) * g**2
            if optimizer == "rmsprop":
                x = x - hp.lr * g / (np.sqrt(v) + hp.eps)
            else:
                m = hp.mu * m + hp.lr * g / (np.sqrt(v) + hp.eps)
                x = x - m
        xs.append(x)
    return xs


def random_trace_cases() -> list[tuple[str, float, float, Hyperparameters]]:
    rng = np.random.default_rng(RNG_SEED + 1)
    cases = []
    for i in range(CASES):
        optimizer = ("gd", "rmsprop", "rmsprop-momentum")[i % 3]
        condition = float(10 ** rng.uniform(0, 2.5))
        angle = float(rng.uniform(-90, 90))
        lr = float(10 ** rng.uniform(-3, -0.5)) / (condition if optimizer == "gd" else 1)
        hp = Hyperparameters(
            lr=lr, decay=float(rng.uniform(0.5, 0.999)), eps=float(10 ** rng.uniform(-10, -4)), mu=float(rng.uniform(0, 0.95))
        )
        cases.append((optimizer, condition, angle, hp))
    return cases


@pytest.mark.parametrize("optimizer, condition, angle, hp", random_trace_cases())
def test_valley_traces_follow_the_formulas(optimizer, condition, angle, hp):
    problem = Valley(condition, angle)
    run = Run.create(problem, optimizer, hp)
    expected = formula_trace(problem, optimizer, hp, 60)
    run.goto(60)
    for record, x in zip(run.records[1:], expected, strict=True):
        assert np.allclose(record.x, x, rtol=1e-12, atol=1e-15), record.step
        assert record.loss == pytest.approx(problem.loss(x), rel=1e-12, abs=1e-300)
    if optimizer != "gd":
        last = run.records[-1]
        assert np.allclose(last.effective_step, hp.lr / (np.sqrt(last.mean_square) + hp.eps), rtol=1e-12)


def test_rosenbrock_trace_follows_the_formulas():
    hp = Hyperparameters(lr=0.01)
    run = Run.create(Rosenbrock(), "rmsprop", hp)
    run.goto(200)
    assert np.allclose(points(run.records[1:]), formula_trace(Rosenbrock(), "rmsprop", hp, 200), rtol=1e-12)


def metrics(angle: float, optimizer: str, lr: float) -> tuple[int, float]:
    run = Run.create(Valley(20.0, angle), optimizer, Hyperparameters(lr=lr))
    steps = steps_to(run, 1e-3)
    assert steps is not None
    return steps, path_length_ratio(run.records[: steps + 1])


@pytest.mark.parametrize(
    "optimizer, lr, steps, ratios",
    [("rmsprop", 0.1, (41, 80), (1.0492, 1.2825)), ("gd", 0.09, (45, 37), (3.1492, 8.1271))],
)
def test_the_valley_experiment_with_the_engine_numbers(optimizer, lr, steps, ratios):
    """Steps to loss < 1e-3 and path length over straight distance at angle 0 and 45 (K = 20)."""
    (steps_0, ratio_0), (steps_45, ratio_45) = metrics(0.0, optimizer, lr), metrics(45.0, optimizer, lr)
    assert (steps_0, steps_45) == steps
    assert (ratio_0, ratio_45) == pytest.approx(ratios, abs=1e-4)


def test_rmsprop_is_straighter_and_faster_when_the_valley_lies_along_an_axis():
    (steps_0, ratio_0), (steps_45, ratio_45) = metrics(0.0, "rmsprop", 0.1), metrics(45.0, "rmsprop", 0.1)
    assert ratio_0 < ratio_45 and steps_0 < steps_45
    # Gradient descent zigzags at either angle: both its paths are far longer than RMSprop's.
    assert min(metrics(0.0, "gd", 0.09)[1], metrics(45.0, "gd", 0.09)[1]) > 2 * ratio_45


def test_steps_to_leaves_the_shown_step_alone_and_gives_up_on_divergence():
    run = Run.create(Valley(), "rmsprop", Hyperparameters(lr=0.1))
    run.goto(5)
    assert steps_to(run, 1e-3) == 41
    assert run.index == 5
    assert steps_to(run, 1e-3) == 41  # found among the records already computed
    diverging = Run.create(Valley(), "gd", Hyperparameters(lr=1.0))
    assert steps_to(diverging, 1e-3, max_steps=2000) is None
    assert diverging.index == 0
    slow = Run.create(Valley(), "gd", Hyperparameters(lr=1e-4))
    assert steps_to(slow, 1e-3, max_steps=50) is None and len(slow.records) == 51


def test_path_length_of_a_straight_and_a_bent_path():
    problem = make_problem({"kind": "valley", "condition": 1.0})
    run = Run.create(problem, "gd", Hyperparameters(lr=0.1))  # K = 1: straight to the minimum
    run.goto(30)
    assert path_length_ratio(run.records) == pytest.approx(1.0, abs=1e-12)
    assert path_length(run.records[:1]) == 0 and math.isnan(path_length_ratio(run.records[:1]))
    bent = Run.create(Valley(20.0, 0.0), "gd", Hyperparameters(lr=0.09))
    bent.goto(2)
    xy = points(bent.records)
    by_hand = np.linalg.norm(xy[1] - xy[0]) + np.linalg.norm(xy[2] - xy[1])
    assert path_length(bent.records) == pytest.approx(by_hand, rel=1e-14)


def test_view_bounds_hold_start_and_minimum_and_grow_for_paths():
    for problem in (Valley(20.0, 0.0), Valley(5.0, 30.0), Rosenbrock()):
        bounds, clipped = view_bounds(problem)
        assert bounds == base_bounds(problem) and not clipped
        assert bounds.contains(problem.start()) and bounds.contains(problem.minimum())
    valley = Valley()
    base = base_bounds(valley)
    assert base == pytest.approx(Bounds(-3.45, 3.45, -3.45, 3.45), rel=1e-12)
    grown, clipped = view_bounds(valley, [np.array([[-3.0, 1.0], [5.0, 0.0]])])
    assert grown == base.scaled(2.0) and not clipped
    far, clipped = view_bounds(valley, [np.array([[-3.0, 1.0], [1e6, 0.0]])])
    assert clipped and far == base.scaled(8.0)
    overflowed, clipped = view_bounds(valley, [np.array([[-3.0, 1.0], [np.inf, np.nan]])])
    assert overflowed == base and not clipped  # non-finite points are not placed at all


def test_contour_levels_are_log_spaced_below_the_start():
    levels = contour_levels(Valley(20.0, 45.0), base_bounds(Valley(20.0, 45.0)))
    assert np.allclose(np.diff(np.log10(levels)), 0.5)
    assert levels[-1] <= Valley(20.0, 45.0).loss(np.array([-3.0, 1.0])) < levels[-1] * 10**0.5


def test_contour_cells_mark_where_a_level_crosses():
    problem = Valley(20.0, 0.0)
    bounds = Bounds(-4.0, 4.0, -2.0, 2.0)
    columns, rows = 81, 41  # cell centres every 0.1
    cells = contour_cells(problem, bounds, columns, rows, [2.0])
    # loss 2 on the x axis at x = +-2 (column 20 and 60 of row 20); at the centre nothing crosses.
    assert cells[20, 20] and cells[20, 60]
    assert not cells[20, 40] and not cells[0, 0] and not cells[20, 10]
    # The ellipse is symmetric about both axes.
    assert np.array_equal(cells, cells[::-1, :]) and np.array_equal(cells, cells[:, ::-1])
    # Every marked cell lies close to the level: within a cell's loss change of it.
    ys, xs = np.nonzero(cells)
    x = bounds.x_min + xs * 0.1
    y = bounds.y_max - ys * 0.1
    assert np.all(np.abs(problem.loss_grid(x, y) - 2.0) < 20 * 0.1 * 2.1)


def test_tutor_trace_exports_the_valley_and_rosenbrock_paths(capsys):
    import json

    from tutor.cli import main

    assert main(["trace", "--problem", "valley", "--condition", "5", "--angle", "30", "--lr", "0.1", "--steps", "4"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    hp = Hyperparameters(lr=0.1)
    expected = formula_trace(Valley(5.0, 30.0), "rmsprop", hp, 4)
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert np.allclose([row["x"] for row in rows], expected, rtol=1e-12)
    assert all(len(row["grad"]) == 2 and len(row["mean_square"]) == 2 and row["momentum"] is None for row in rows)
    assert main(["trace", "--problem", "rosenbrock", "--optimizer", "gd", "--steps", "2", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "step,loss,x,grad,mean_square,effective_step,momentum" and len(lines) == 3
    x1 = formula_trace(Rosenbrock(), "gd", Hyperparameters(), 1)[0]
    assert lines[1].startswith(f'1,{Rosenbrock().loss(x1)!r},"{json.dumps(x1.tolist())}"')
    with pytest.raises(SystemExit):
        main(["trace", "--problem", "rosenbrock", "--angle", "10"])
    assert "--angle belongs to --problem valley" in capsys.readouterr().err


def test_trace_and_sandbox_run_lesson_6s_turned_valley(capsys):
    """`--start-point turned` gives the command line the run lesson 6 shows (its start turned with the floor,
    lr 0.1): the same records as the lesson's problem, and the steps to 1e-3 the lesson quotes."""
    import json

    from tutor.cli import build_parser, main, sandbox_setup
    from tutor.course import facts

    options = ["--problem", "valley", "--angle", "45", "--start-point", "turned", "--lr", "0.1"]
    assert main(["trace", *options, "--steps", "60"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lesson = Run.create(
        make_problem({"kind": "valley", "angle": 45.0, "start_point": "turned"}), "rmsprop", Hyperparameters(lr=0.1)
    )
    lesson.goto(60)
    assert [row["x"] for row in rows] == [record.x.tolist() for record in lesson.records[1:]]
    first_below = next(row["step"] for row in rows if row["loss"] < 1e-3)
    assert first_below == facts.valley_steps(angle=45, optimizer="rmsprop", lr=0.1, start_point="turned") == 56
    # Without the option the start stays (-3, 1), a different problem at 45 degrees.
    assert main(["trace", "--problem", "valley", "--angle", "45", "--lr", "0.1", "--steps", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["x"] != rows[0]["x"]

    run = sandbox_setup(build_parser().parse_args(["sandbox", *options])).runs[0]
    assert run.problem.spec() == {"kind": "valley", "condition": 20.0, "angle": 45.0, "start_point": "turned"}
    assert run.hp.lr == 0.1 and run.current.x.tolist() == lesson.records[0].x.tolist()
    with pytest.raises(SystemExit):
        main(["trace", "--start-point", "turned"])
    assert "--start-point belongs to --problem valley, not matrix" in capsys.readouterr().err

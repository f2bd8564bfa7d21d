"""The engine against the seed's formulas (../shared/seed/rmsprop-blog-post.md)."""

import dataclasses

import numpy as np
import pytest

from tutor.engine import DeepChain, HyperparameterError, Hyperparameters, MatrixInverse, Rosenbrock, Run, Valley, make_problem
from tutor.engine.problems import SEED_A, ProblemError

# The seed's printed final losses after 300 steps.
SEED_GD = 0.5469198476714346
SEED_RMSPROP = 0.32394771623791685
SEED_MOMENTUM = 0.0006230388777262454


# The seed's code, copied as it is written, for step-by-step comparison.
def seed_F(x, A=SEED_A):
    residual = A @ x - np.eye(len(A), dtype=float)
    return np.sum(residual**2)


def seed_dF(x, A=SEED_A):
    return 2 * A.T @ (A @ x - np.eye(len(A), dtype=float))


def seed_gradient_descent(F, dF, x, steps=100, lr=0.001):
    loss, xs = [], []
    for _ in range(steps):
        dx = dF(x)
        x -= lr * dx
        loss.append(F(x))
        xs.append(x.copy())
    return xs, loss


def seed_rmsprop(F, dF, x, steps=100, lr=0.001, decay=0.9, eps=1e-8):
    loss, xs = [], []
    dx_mean_sqr = np.zeros(x.shape, dtype=float)
    for _ in range(steps):
        dx = dF(x)
        dx_mean_sqr = decay * dx_mean_sqr + (1 - decay) * dx**2
        x -= lr * dx / (np.sqrt(dx_mean_sqr) + eps)
        loss.append(F(x))
        xs.append(x.copy())
    return xs, loss


def seed_rmsprop_momentum(F, dF, x, steps=100, lr=0.001, decay=0.9, eps=1e-8, mu=0.9):
    loss, xs = [], []
    dx_mean_sqr = np.zeros(x.shape, dtype=float)
    momentum = np.zeros(x.shape, dtype=float)
    for _ in range(steps):
        dx = dF(x)
        dx_mean_sqr = decay * dx_mean_sqr + (1 - decay) * dx**2
        momentum = mu * momentum + lr * dx / (np.sqrt(dx_mean_sqr) + eps)
        x -= momentum
        loss.append(F(x))
        xs.append(x.copy())
    return xs, loss


def final_loss(optimizer: str, steps: int = 300) -> float:
    return Run.create(MatrixInverse(), optimizer).run_to(steps)[-1]


def test_gradient_descent_reproduces_the_seed():
    assert final_loss("gd") == pytest.approx(SEED_GD, rel=1e-9)


def test_rmsprop_momentum_reproduces_the_seed():
    assert final_loss("rmsprop-momentum") == pytest.approx(SEED_MOMENTUM, rel=1e-8)


def test_rmsprop_reproduces_the_seed_to_its_chaotic_limit():
    assert final_loss("rmsprop") == pytest.approx(SEED_RMSPROP, rel=1e-4)


def test_rmsprop_is_chaotic_at_1e_5():
    """Why the seed's RMSprop loss can only be matched to ~1e-5: a 1e-15 nudge of the start
    (far below any printed digit) moves the 300-step loss by more than 1e-5 relative,
    while gradient descent does not notice it."""

    def perturbed(optimizer):
        run = Run.create(MatrixInverse(), optimizer)
        run.records[0] = dataclasses.replace(run.records[0], x=run.records[0].x + 1e-15)
        return run.run_to(300)[-1]

    assert abs(perturbed("rmsprop") / final_loss("rmsprop") - 1) > 1e-5
    assert abs(perturbed("gd") / final_loss("gd") - 1) < 1e-12


@pytest.mark.parametrize(
    "optimizer, seed_fn, kwargs",
    [
        ("gd", seed_gradient_descent, {"lr": 0.002}),
        ("rmsprop", seed_rmsprop, {"lr": 0.01, "decay": 0.8, "eps": 1e-6}),
        ("rmsprop-momentum", seed_rmsprop_momentum, {"lr": 0.003, "decay": 0.95, "eps": 1e-4, "mu": 0.5}),
        ("rmsprop-momentum", seed_rmsprop_momentum, {}),
    ],
)
def test_every_step_equals_the_seed_formulas_bit_for_bit(optimizer, seed_fn, kwargs):
    xs, losses = seed_fn(seed_F, seed_dF, SEED_A * 0, steps=60, **kwargs)
    run = Run.create(MatrixInverse(), optimizer, Hyperparameters(**kwargs))
    for step in range(1, 61):
        record = run.forward()
        assert record.step == step
        assert record.loss == losses[step - 1]
        assert np.array_equal(record.x, xs[step - 1])


def test_record_fields_follow_the_formulas():
    hp = Hyperparameters(lr=0.002, decay=0.8, eps=1e-6, mu=0.7)
    run = Run.create(MatrixInverse(), "rmsprop-momentum", hp)
    first = run.forward()
    g = seed_dF(SEED_A * 0)
    v = (1 - 0.8) * g**2
    assert np.array_equal(first.grad, g)
    assert np.array_equal(first.mean_square, v)
    assert np.allclose(first.effective_step, 0.002 / (np.sqrt(v) + 1e-6), rtol=1e-15)
    assert np.allclose(first.momentum, 0.002 * g / (np.sqrt(v) + 1e-6), rtol=1e-15)
    assert first.loss == seed_F(first.x)


def test_gradient_descent_effective_step_is_lr_everywhere_and_has_no_buffers():
    record = Run.create(MatrixInverse(), "gd", Hyperparameters(lr=0.004)).forward(3)
    assert np.all(record.effective_step == 0.004)
    assert record.mean_square is None and record.momentum is None


def test_back_restores_the_exact_earlier_state():
    run = Run.create(MatrixInverse(), "rmsprop-momentum")
    states = [run.current]
    for _ in range(25):
        states.append(run.forward())
    for step in range(24, -1, -1):
        record = run.back()
        assert record.step == step
        assert np.array_equal(record.x, states[step].x)
        assert record.loss == states[step].loss
    assert run.back().step == 0  # back at step 0 stays at step 0
    again = run.forward(25)
    assert np.array_equal(again.x, states[25].x) and np.array_equal(again.momentum, states[25].momentum)


def test_new_hyperparameters_apply_from_the_current_step():
    run = Run.create(MatrixInverse(), "gd")
    run.goto(10)
    kept = run.records[10]
    run.set_hyperparameters(Hyperparameters(lr=0.002))
    assert len(run.records) == 11  # the future computed with the old lr is gone
    record = run.forward()
    assert np.array_equal(record.x, kept.x - 0.002 * seed_dF(kept.x))
    assert record.hp.lr == 0.002 and run.records[5].hp.lr == 0.001


def test_setting_the_same_values_again_after_going_back_drops_a_future_computed_with_others():
    """A learner sets lr 1 at step 3, steps into divergence, sets lr back to 0.001 at step 4, resets,
    goes to step 3 and sets lr 0.001 there: step 4 must be recomputed with 0.001, not replayed with 1."""
    run = Run.create(MatrixInverse(), "rmsprop-momentum")
    run.goto(3)
    run.set_hyperparameters(Hyperparameters(lr=1.0))
    run.forward()
    run.set_hyperparameters(Hyperparameters(lr=0.001))
    run.forward(5)
    run.goto(3)
    run.set_hyperparameters(Hyperparameters(lr=0.001))
    assert run.forward().hp.lr == 0.001
    clean = Run.create(MatrixInverse(), "rmsprop-momentum")
    assert np.array_equal(run.current.x, clean.goto(4).x)


def test_large_lr_diverges_without_raising():
    run = Run.create(MatrixInverse(), "gd", Hyperparameters(lr=0.05))
    run.goto(400)
    assert run.current.diverged
    first = run.first_divergent_step()
    assert first is not None and 1 < first < 400
    assert not run.records[first - 1].diverged


def test_gradient_descent_diverges_just_above_the_stable_lr():
    problem = MatrixInverse()
    limit = problem.stable_lr()
    assert limit == pytest.approx(1 / np.linalg.svd(SEED_A, compute_uv=False)[0] ** 2)
    below = Run.create(problem, "gd", Hyperparameters(lr=0.98 * limit)).run_to(2000)
    above = Run.create(problem, "gd", Hyperparameters(lr=1.02 * limit)).run_to(2000)
    assert below[-1] < below[0]
    assert above[-1] > 1e6 * above[0] or not np.isfinite(above[-1])


def test_diagonal_matrix_keeps_the_seed_singular_values():
    seed, diagonal = MatrixInverse(), MatrixInverse("diagonal")
    assert np.allclose(seed.singular_values(), diagonal.singular_values())
    assert np.count_nonzero(diagonal.A - np.diag(np.diag(diagonal.A))) == 0


def numeric_gradient(problem, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (problem.loss(x + e) - problem.loss(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu"])
def test_deep_chain_gradient_matches_finite_differences(activation):
    problem = DeepChain(depth=6, scale=0.9, activation=activation)
    x = np.linspace(0.1, 0.4, 6)
    assert np.allclose(problem.grad(x), numeric_gradient(problem, x), rtol=1e-5, atol=1e-9)


def test_deep_chain_linear_gradient_shrinks_by_the_weight_per_layer():
    g = DeepChain(depth=20, scale=0.5).layer_gradients()
    assert g[0] / g[-1] == pytest.approx(0.5**19, rel=1e-12)
    g = DeepChain(depth=10, scale=5.0, activation="relu").layer_gradients()
    assert np.allclose(g[:-1] / g[1:], 5.0)


def test_deep_chain_sigmoid_vanishes():
    g = DeepChain(depth=10, scale=1.0, activation="sigmoid").layer_gradients()
    assert g[0] / g[-1] < 0.25**9 * 1.01


@pytest.mark.parametrize("condition, angle", [(20.0, 0.0), (20.0, 45.0), (3.0, 17.0), (100.0, -60.0)])
def test_valley_matches_its_closed_form(condition, angle):
    problem = Valley(condition, angle)
    x = np.array([0.7, -1.3])
    a = np.radians(angle)
    u = x[0] * np.cos(a) + x[1] * np.sin(a)
    v = -x[0] * np.sin(a) + x[1] * np.cos(a)
    assert problem.loss(x) == pytest.approx(0.5 * (u**2 + condition * v**2), rel=1e-14)
    assert np.allclose(problem.grad(x), numeric_gradient(problem, x), rtol=1e-6)
    assert problem.loss(np.zeros(2)) == 0


@pytest.mark.parametrize("angle", [0.0, 45.0, -120.0, 17.5])
def test_a_turned_start_turns_with_the_valley(angle):
    """start_point "turned": the same problem seen from another side (same start loss, the path turned)."""
    turned, flat = Valley(20.0, angle, start_point="turned"), Valley(20.0, 0.0)
    a = np.radians(angle)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    assert np.allclose(turned.start(), rotation @ flat.start(), atol=1e-15)
    assert turned.loss(turned.start()) == pytest.approx(flat.loss(flat.start()), rel=1e-12)
    assert np.array_equal(Valley(20.0, angle).start(), [-3.0, 1.0])  # the default keeps its fixed start
    assert turned.spec()["start_point"] == "turned" and "start_point" not in Valley(20.0, angle).spec()
    assert make_problem(turned.spec()) == turned


def test_rosenbrock_gradient_and_minimum():
    problem = Rosenbrock()
    x = np.array([-1.2, 1.0])
    assert problem.loss(x) == pytest.approx(24.2)
    assert np.allclose(problem.grad(x), numeric_gradient(problem, x), rtol=1e-6)
    assert problem.loss(np.ones(2)) == 0 and np.array_equal(problem.grad(np.ones(2)), np.zeros(2))


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("lr", "abc", "lr must be a number"),
        ("lr", "-0.1", "lr must be > 0"),
        ("lr", "0", "lr must be > 0"),
        ("lr", "nan", "lr cannot be NaN"),
        ("lr", "inf", "lr must be finite"),
        ("lr", "1e400", "lr must be > 0 and <= 1000, not 1e400"),  # read as inf: refused as typed
        ("lr", "1e9", "lr must be > 0 and <= 1000"),
        ("decay", "1", "decay must be in [0, 1)"),
        ("decay", "-0.1", "decay must be in [0, 1)"),
        ("eps", "0", "eps must be > 0"),
        ("mu", "1.5", "mu must be in [0, 1)"),
        ("lr_halving", "-1", "lr_halving must be in [0, 1000000]"),
        ("lr", "", "lr is empty"),
        ("beta", "0.9", "unknown hyperparameter 'beta'"),
    ],
)
def test_bad_hyperparameters_are_refused_with_a_reason(name, value, reason):
    with pytest.raises(HyperparameterError, match=reason.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        Hyperparameters.validated(**{name: value})


def test_good_hyperparameters_parse():
    hp = Hyperparameters.validated(lr="0.01", decay="0.95", eps="1e-6", mu="0")
    assert hp == Hyperparameters(lr=0.01, decay=0.95, eps=1e-6, mu=0.0)
    assert Hyperparameters() == Hyperparameters(lr=1e-3, decay=0.9, eps=1e-8, mu=0.9)


@pytest.mark.parametrize(
    "spec, reason",
    [
        ({"kind": "cube"}, "unknown problem 'cube'"),
        ({"kind": "deep-chain", "depth": 0}, "depth must be a whole number"),
        ({"kind": "deep-chain", "activation": "swish"}, "unknown activation 'swish'"),
        ({"kind": "valley", "condition": 0.5}, "condition must be between"),
        ({"kind": "valley", "start_point": "middle"}, "unknown start_point 'middle'; known: fixed, turned"),
        ({"kind": "matrix", "variant": "random"}, "unknown matrix variant"),
        ({"kind": "rosenbrock", "angle": 3}, "has no parameter 'angle'"),
    ],
)
def test_bad_problems_are_refused_with_a_reason(spec, reason):
    with pytest.raises(ProblemError, match=reason):
        make_problem(spec)


def test_records_computed_elsewhere_append_as_if_stepped_here() -> None:
    """The computing dialog makes records in a thread with next_record and hands them over in batches."""
    here = Run.create(MatrixInverse(), "rmsprop-momentum")
    there = Run.create(MatrixInverse(), "rmsprop-momentum")
    batch, last = [], there.records[-1]
    for _ in range(40):
        last = there.next_record(last)
        batch.append(last)
    here.forward(10)  # ten of them are already here: skipped, not doubled
    here.append_computed(batch)
    assert len(here.records) == 41 and here.step == 10  # the step on screen did not move
    reference = Run.create(MatrixInverse(), "rmsprop-momentum")
    reference.goto(40)
    assert np.array_equal(here.records[40].x, reference.current.x) and here.records[40].loss == reference.current.loss
    with pytest.raises(ValueError, match="does not follow"):
        here.append_computed([Run.create(MatrixInverse(), "gd").goto(50)])


def test_a_decaying_lr_uses_lr_over_one_plus_t_over_the_halving():
    """lr_halving N: update t uses lr / (1 + (t - 1) / N); 0 (the default) is the constant lr, bit for bit."""
    plain = Run.create(MatrixInverse(), "rmsprop")
    plain.goto(50)
    zero = Run.create(MatrixInverse(), "rmsprop", Hyperparameters(lr_halving=0.0))
    zero.goto(50)
    assert all(np.array_equal(a.x, b.x) for a, b in zip(plain.records, zero.records, strict=True))
    gd = Run.create(MatrixInverse(), "gd", Hyperparameters(lr=0.001, lr_halving=10.0))
    gd.goto(21)
    for t in (1, 11, 21):
        before, after = gd.records[t - 1], gd.records[t]
        assert np.allclose(after.x - before.x, -0.001 / (1 + (t - 1) / 10.0) * after.grad, rtol=1e-12, atol=0)
    assert np.allclose(gd.records[11].effective_step, 0.0005)  # halved after 10 updates
    from tutor.engine.phases import update_phases

    rms = Run.create(MatrixInverse(), "rmsprop", Hyperparameters(lr_halving=5.0))
    rms.goto(8)
    phases = update_phases(rms.problem, rms.optimizer, rms.records[7], rms.hp)
    assert np.array_equal(phases[-1].arrays["x"], rms.records[8].x)  # the narration uses the schedule's lr too

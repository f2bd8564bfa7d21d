"""The lessons' experiments (tutor/engine/experiments.py) against closed forms and a few lines of numpy.

Each test recomputes a number the lessons quote without going through the experiment's
code path: a formula, the seed's own loop, or a hand-written simulation.
"""

import math

import numpy as np
import pytest

from tutor.engine import Hyperparameters, Run, make_problem
from tutor.engine import experiments as ex
from tutor.engine.problems import SEED_A, MiniBatchNoise, ProblemError


def seed_gd(A, steps, lr=0.001):
    x = A * 0
    losses = []
    for _ in range(steps):
        x = x - lr * 2 * A.T @ (A @ x - np.eye(len(A)))
        losses.append(float(np.sum((A @ x - np.eye(len(A))) ** 2)))
    return x, losses


def seed_rmsprop(A, steps, lr=0.001, decay=0.9, eps=1e-8):
    x = A * 0
    v = np.zeros(A.shape)
    losses = []
    for _ in range(steps):
        g = 2 * A.T @ (A @ x - np.eye(len(A)))
        v = decay * v + (1 - decay) * g**2
        x = x - lr * g / (np.sqrt(v) + eps)
        losses.append(float(np.sum((A @ x - np.eye(len(A))) ** 2)))
    return x, losses


# -- the deep chain ---------------------------------------------------------------------


@pytest.mark.parametrize("depth, scale", [(20, 0.5), (10, 0.5), (7, 1.5)])
def test_linear_chain_gradients_follow_the_closed_form(depth, scale):
    # h_depth = scale^depth at the start (biases 0, input 1); dF/db_k = 2 (h - 1) scale^(depth - k).
    h = scale**depth
    expected = np.abs([2 * (h - 1) * scale ** (depth - k) for k in range(1, depth + 1)])
    assert np.allclose(ex.chain_gradients(depth, scale, "linear"), expected, rtol=1e-12)
    assert ex.chain_ratio(depth, scale, "linear") == pytest.approx(scale ** (depth - 1), rel=1e-12)
    assert ex.chain_factor_per_layer(depth, scale, "linear") == pytest.approx(scale, rel=1e-12)


def test_depth_20_weight_half_is_exactly_two_to_the_minus_19():
    assert math.log2(ex.chain_ratio(20, 0.5, "linear")) == -19.0


def test_sigmoid_chain_against_finite_differences():
    chain = make_problem({"kind": "deep-chain", "depth": 10, "scale": 4.0, "activation": "sigmoid"})
    # The first layer's gradient is ~6e-14: far below what a finite difference of the loss resolves,
    # so check the last layers that way and the chain rule's product for the rest.
    x = chain.start()
    step = 1e-6
    for k in (9, 8):
        bump = np.zeros(10)
        bump[k] = step
        numeric = (chain.loss(x + bump) - chain.loss(x - bump)) / (2 * step)
        assert abs(numeric) == pytest.approx(ex.chain_gradients(10, 4.0, "sigmoid")[k], rel=1e-5)
    h = [1.0]
    for _ in range(10):
        h.append(1 / (1 + math.exp(-4.0 * h[-1])))
    slopes = [s * (1 - s) for s in h[1:]]
    upstream = 2 * (h[-1] - 1.0)
    by_hand = []
    for k in range(9, -1, -1):
        by_hand.append(abs(upstream * slopes[k]))
        upstream *= slopes[k] * 4.0
    assert np.allclose(ex.chain_gradients(10, 4.0, "sigmoid"), by_hand[::-1], rtol=1e-10)


def test_relu_with_weight_five_grows_five_times_per_layer():
    assert ex.chain_factor_per_layer(10, 5.0, "relu") == pytest.approx(5.0, rel=1e-12)


def test_chain_stable_lr_is_one_over_the_sum_of_squared_weights_powers():
    depth, scale = 20, 0.5
    closed = 1.0 / sum(scale ** (2 * j) for j in range(depth))
    assert ex.chain_stable_lr(depth, scale) == pytest.approx(closed, rel=1e-9)
    spec = {"kind": "deep-chain", "depth": depth, "scale": scale}
    below = Run.create(make_problem(spec), "gd", Hyperparameters(lr=0.95 * closed)).run_to(200)
    above = Run.create(make_problem(spec), "gd", Hyperparameters(lr=1.01 * closed)).run_to(200)
    assert below[-1] < 1e-6 and above[-1] > 1.0


def test_gradient_descent_moves_the_chain_biases_in_the_gradients_proportion():
    spec = {"kind": "deep-chain", "depth": 20, "scale": 0.5}
    moves = ex.element_moves(spec, "gd", 50, Hyperparameters(lr=0.5))
    # Every gradient is a multiple of c_k = 0.5^(20-k), so every step is too.
    assert moves[0] / moves[-1] == pytest.approx(0.5**19, rel=1e-9)


def test_first_rise_finds_the_first_loss_above_the_start():
    spec = {"kind": "deep-chain", "depth": 20, "scale": 0.5}
    assert ex.first_rise(spec, "gd", 50, Hyperparameters(lr=0.5)) is None
    losses = Run.create(make_problem(spec), "gd", Hyperparameters(lr=0.8)).run_to(50)
    rise = ex.first_rise(spec, "gd", 50, Hyperparameters(lr=0.8))
    assert losses[rise - 1] > 1.0 and all(loss <= 1.0 for loss in losses[: rise - 1])


# -- one update on the seed's matrix ------------------------------------------------------


def test_first_gradient_descent_step_is_two_lr_a_transpose():
    for element in [(0, 0), (0, 1), (3, 2)]:
        assert ex.record_value(None, "gd", 1, "grad", element) == -2 * SEED_A.T[element]
        assert ex.record_value(None, "gd", 1, "x", element) == pytest.approx(0.002 * SEED_A.T[element], rel=1e-12)


def test_rmsprop_v_after_two_steps_matches_the_formula():
    g1 = -2 * SEED_A.T
    x1 = -0.001 * g1 / (np.sqrt(0.1 * g1**2) + 1e-8)
    g2 = 2 * SEED_A.T @ (SEED_A @ x1 - np.eye(5))
    v2 = 0.9 * (0.1 * g1**2) + 0.1 * g2**2
    assert ex.record_value(None, "rmsprop", 2, "mean_square", (0, 0)) == pytest.approx(v2[0, 0], rel=1e-12)
    assert ex.record_value(None, "rmsprop", 2, "grad", (0, 0)) == pytest.approx(g2[0, 0], rel=1e-12)


def test_momentum_after_two_steps_and_its_scaled_gradient():
    hp = Hyperparameters()
    run = Run.create(make_problem({"kind": "matrix"}), "rmsprop-momentum", hp)
    first, second = run.forward(), run.forward()
    scaled = 0.001 * second.grad / (np.sqrt(second.mean_square) + 1e-8)
    assert ex.record_value(None, "rmsprop-momentum", 2, "scaled_grad", (0, 0)) == pytest.approx(scaled[0, 0], rel=1e-12)
    assert ex.record_value(None, "rmsprop-momentum", 2, "momentum", (0, 0)) == pytest.approx(
        0.9 * first.momentum[0, 0] + scaled[0, 0], rel=1e-12
    )


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_decay_where_the_gradient_is_not_zero():
    g = np.abs(2 * SEED_A.T)
    expected = np.where(g > 0, 0.001 * g / (np.sqrt(0.1) * g + 1e-8), 0.0)
    sizes = ex.element_moves(None, "rmsprop", 1)  # |x_1 - x_0|
    assert np.allclose(sizes, expected, rtol=1e-12, atol=0)
    assert np.allclose(sizes[g > 0], 0.001 / math.sqrt(0.1), rtol=1e-7)


def test_idle_elements_are_the_zeros_of_a_transposed():
    zeros = sorted(tuple(int(i) for i in index) for index in np.argwhere(SEED_A.T == 0))
    assert ex.idle_elements(None, "rmsprop", 1) == zeros
    assert ex.idle_elements(None, "gd", 1) == []  # gradient descent keeps no v


def test_product_after_300_steps_is_the_seeds_matrix():
    x, _ = seed_gd(SEED_A, 300)
    assert np.array_equal(np.round(ex.product_after("gd"), 2), np.round(SEED_A @ x, 2))


# -- axis-aligned and rotated --------------------------------------------------------------


def test_axis_gain_against_the_seeds_loops_on_both_matrices():
    diagonal = np.diag(np.linalg.svd(SEED_A, compute_uv=False))
    for loop, key in ((seed_gd, "gd"), (seed_rmsprop, "rmsprop")):
        seed_loss = loop(SEED_A, 300, lr=0.01 if key == "rmsprop" else 0.001)[1][-1]
        diagonal_loss = loop(diagonal, 300, lr=0.01 if key == "rmsprop" else 0.001)[1][-1]
        hp = Hyperparameters(lr=0.01 if key == "rmsprop" else 0.001)
        assert ex.axis_gain(key, 300, hp) == pytest.approx(seed_loss / diagonal_loss, rel=1e-6)
    # Gradient descent is blind to rotation: same loss on both, up to rounding.
    assert ex.axis_gain("gd", 300) == pytest.approx(1.0, abs=1e-12)


# -- the valley -------------------------------------------------------------------------------


def by_hand_valley(angle, lr, condition=20.0, decay=0.9, eps=1e-8, optimizer="rmsprop"):
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    rotation = np.array([[c, s], [-s, c]])  # (u, v) = rotation @ (x, y)
    hessian = rotation.T @ np.diag([1.0, condition]) @ rotation
    x = np.array([-3.0, 1.0])
    v = np.zeros(2)
    points = [x]
    step = 0
    while step < 10_000:
        step += 1
        g = hessian @ x
        if optimizer == "rmsprop":
            v = decay * v + (1 - decay) * g**2
            x = x - lr * g / (np.sqrt(v) + eps)
        else:
            x = x - lr * g
        points.append(x)
        if 0.5 * x @ hessian @ x < 1e-3:
            break
    points = np.array(points)
    length = np.sum(np.linalg.norm(np.diff(points, axis=0), axis=1))
    return step, length / np.linalg.norm(points[-1] - points[0])


@pytest.mark.parametrize(
    "angle, optimizer, lr", [(0, "rmsprop", 0.1), (45, "rmsprop", 0.1), (0, "gd", 0.09), (45, "gd", 0.09), (30, "rmsprop", 0.05)]
)
def test_valley_path_against_a_hand_written_loop(angle, optimizer, lr):
    steps, detour = ex.valley_path(angle, optimizer, Hyperparameters(lr=lr))
    expected_steps, expected_detour = by_hand_valley(angle, lr, optimizer=optimizer)
    assert steps == expected_steps
    assert detour == pytest.approx(expected_detour, rel=1e-9)


def test_valley_stable_lr_is_two_over_the_condition():
    assert ex.valley_stable_lr(20.0) == pytest.approx(0.1, rel=1e-12)
    assert ex.valley_stable_lr(50.0) == pytest.approx(0.04, rel=1e-12)


# -- the race ---------------------------------------------------------------------------------


def test_overtake_step_against_the_seeds_loops():
    gd = np.array([5.0] + seed_gd(SEED_A, 300)[1])
    rms = np.array([5.0] + seed_rmsprop(SEED_A, 300)[1])
    behind = [step for step in range(301) if not rms[step] < gd[step]]
    assert ex.overtake_step("rmsprop", "gd") == behind[-1] + 1
    assert all(rms[step] < gd[step] for step in range(behind[-1] + 1, 301))


def test_the_seed_is_reproduced_and_rmsprop_is_chaotic():
    assert ex.seed_disagreement("gd") < 1e-12
    assert ex.seed_disagreement("rmsprop-momentum") < 1e-9
    assert 1e-7 < ex.seed_disagreement("rmsprop") < 1e-4
    assert ex.nudged_change("rmsprop") > 1e-6
    assert ex.nudged_change("gd") < 1e-12


# -- mini-batches -------------------------------------------------------------------------------


def test_minibatch_problem_cycles_through_hintons_gradients():
    problem = MiniBatchNoise()
    cycle = [float(problem.batch_grad(np.zeros(1), step)[0]) for step in range(20)]
    assert cycle == ([0.01] * 9 + [pytest.approx(-0.09)]) * 2
    assert sum(cycle[:10]) == pytest.approx(0.0, abs=1e-15)
    assert problem.grad(np.array([2.0]))[0] == pytest.approx(0.002)
    assert problem.loss(np.array([2.0])) == pytest.approx(0.002)


def test_minibatch_problem_is_built_and_refused_like_the_others():
    assert make_problem({"kind": "minibatch", "period": 4.0, "size": 1}).spec() == {
        "kind": "minibatch",
        "size": 1.0,
        "period": 4,
        "curvature": 0.001,
    }
    with pytest.raises(ProblemError, match="period must be a whole number"):
        make_problem({"kind": "minibatch", "period": 1})
    with pytest.raises(ProblemError, match="size must be a finite number >= 0"):
        make_problem({"kind": "minibatch", "size": -1.0})


def by_hand_minibatch(optimizer, steps, lr=0.001, decay=0.9, eps=1e-8, curvature=0.001):
    w, v, step_size, last = 0.0, 0.0, lr, 0.0
    for t in range(steps):
        g = curvature * w + (0.01 if t % 10 < 9 else -0.09)
        if optimizer == "gd":
            w -= lr * g
        elif optimizer == "rmsprop":
            v = decay * v + (1 - decay) * g * g
            w -= lr * g / (math.sqrt(v) + eps)
        else:  # rprop
            agreement = np.sign(g) * np.sign(last)
            step_size = step_size * 1.2 if agreement > 0 else step_size * 0.5 if agreement < 0 else step_size
            step_size = min(max(step_size, 1e-6), 50.0)
            w -= np.sign(g) * step_size
            last = g
    return w


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop", "rprop"])
@pytest.mark.parametrize("steps", [10, 100, 300])
def test_minibatch_positions_against_a_hand_written_loop(optimizer, steps):
    assert ex.minibatch_position(optimizer, steps) == pytest.approx(by_hand_minibatch(optimizer, steps), rel=1e-9, abs=1e-15)


def test_minibatch_steps_use_the_batch_gradient_in_the_narrated_phases_too():
    from tutor.engine.phases import narrated_update

    run = Run.create(MiniBatchNoise(), "rmsprop")
    run.goto(9)
    phases = narrated_update(run, 0)
    assert phases[0].arrays["grad"][0] == pytest.approx(-0.09 + 0.001 * run.current.x[0])
    assert np.allclose(phases[-1].arrays["x"], run.forward().x)


def test_eps_placement_ratio_at_the_first_step_is_the_closed_form():
    v = 0.1 * 0.01**2
    eps = 1e-3
    expected = math.sqrt(v + eps) / (math.sqrt(v) + eps)
    assert ex.eps_placement_ratio({"kind": "minibatch"}, 1, eps) == pytest.approx(expected, rel=1e-9)

"""The experiments the lessons quote: small, pure computations on the engine's runs.

Each function builds its problem and runs from scratch and returns plain numbers, so a
lesson's text (through tutor.course.facts) and the tests read the same values.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import numpy as np

from tutor.engine.hyper import Hyperparameters
from tutor.engine.paths import path_length_ratio, steps_to
from tutor.engine.problems import SEED_A, DeepChain, MatrixInverse, Valley, make_problem
from tutor.engine.run import MAX_STEPS, Run

# The final losses the seed prints after 300 steps (In [8], [9], [10] of the blog post).
# The A @ X the seed prints for RMSprop after 300 steps (In [9]), rounded to 2 decimals.
SEED_PRINTED_RMSPROP_PRODUCT = np.array(
    [
        [0.84, -0.05, 0.1, 0.1, -0.04],
        [-0.04, 0.82, 0.03, 0.19, -0.03],
        [0.12, 0.03, 0.9, -0.08, 0.04],
        [0.15, 0.2, -0.12, 0.75, 0.07],
        [-0.08, -0.09, 0.04, 0.1, 0.99],
    ]
)
SEED_PRINTED_LOSSES = {
    "gd": 0.5469198476714346,
    "rmsprop": 0.32394771623791685,
    "rmsprop-momentum": 0.0006230388777262454,
}


# Adam's defaults in its paper (Kingma & Ba 2015, Algorithm 1); the seed's names: beta1 is mu, beta2 is decay.
ADAM_PAPER_DEFAULTS = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def run_for(spec: dict[str, Any] | None, optimizer: str, steps: int, hp: Hyperparameters | None = None) -> Run:
    """A run of `optimizer` on the problem `spec` (the seed's matrix if None), stepped `steps` times.

    Shared between the experiments (a lesson quotes the same run many times): read it, never step it.
    """
    if not 0 <= steps <= MAX_STEPS:  # a run stops at the cap: a larger count would quietly give the cap's numbers
        raise ValueError(f"steps must be from 0 to {MAX_STEPS} (the most a run takes), not {steps}")
    return _shared_run(json.dumps(spec or {"kind": "matrix"}, sort_keys=True), optimizer, steps, hp or Hyperparameters())


@functools.lru_cache(maxsize=128)
def _shared_run(spec_key: str, optimizer: str, steps: int, hp: Hyperparameters) -> Run:
    run = Run.create(make_problem(json.loads(spec_key)), optimizer, hp)
    run.goto(steps)
    return run


# -- lesson 1: gradients through a deep chain ------------------------------------------


def chain_gradients(depth: int, scale: float, activation: str) -> np.ndarray:
    """|dF/db_k| for layers k = 1..depth at the start (all biases 0)."""
    return DeepChain(depth=depth, scale=scale, activation=activation).layer_gradients()


def chain_ratio(depth: int, scale: float, activation: str) -> float:
    """The first layer's gradient divided by the last layer's."""
    gradients = chain_gradients(depth, scale, activation)
    return float(gradients[0] / gradients[-1])


def chain_start_layer(depth: int, scale: float, activation: str, layer: int) -> tuple[float, float]:
    """Layer `layer`'s (1 = the first) input z = w h + b to its activation, and the activation's slope there, at the start."""
    chain = DeepChain(depth=depth, scale=scale, activation=activation)
    start = chain.start()
    h, slopes = chain.forward(start)
    return float(scale * h[layer - 1] + start[layer - 1]), float(slopes[layer - 1])


def chain_output_change(spec: dict[str, Any], optimizer: str, steps: int, layer: int, hp: Hyperparameters | None = None) -> float:
    """How much bias `layer`'s move alone has changed a linear chain's output after `steps` updates.

    A linear chain's output is linear in the biases, h_depth = sum_k c_k b_k + const, so bias k's
    share of the change is c_k times its move; c_k is read off the gradient at the start.
    """
    chain = make_problem(spec)
    if not isinstance(chain, DeepChain) or chain.activation != "linear":
        raise ValueError("the output change of one bias is defined here for a linear deep chain only")
    start = chain.start()
    h, _ = chain.forward(start)
    c = chain.grad(start) / (2.0 * (h[-1] - chain.target))
    return float(abs(c[layer - 1]) * element_moves(spec, optimizer, steps, hp)[layer - 1])


def chain_factor_per_layer(depth: int, scale: float, activation: str) -> float:
    """The geometric mean of how much the gradient grows (> 1) or shrinks (< 1) per layer going down."""
    return float(chain_ratio(depth, scale, activation) ** (1.0 / (depth - 1)))


# -- lesson 2: one learning rate for every layer ---------------------------------------


def chain_stable_lr(depth: int, scale: float) -> float:
    """Gradient descent on a linear chain diverges above this lr.

    h_depth is linear in the biases, h_depth = sum_k c_k b_k + const with c_k = scale^(depth-k),
    so the loss's curvature is 2 c c^T; its one non-zero eigenvalue is 2 |c|^2 and gradient
    descent is stable for lr < 2 / (2 |c|^2). c is read off the engine's gradient at the start.
    """
    chain = DeepChain(depth=depth, scale=scale, activation="linear")
    start = chain.start()
    h, _ = chain.forward(start)
    c = chain.grad(start) / (2.0 * (h[-1] - chain.target))
    return float(1.0 / np.sum(c**2))


def element_moves(spec: dict[str, Any] | None, optimizer: str, steps: int, hp: Hyperparameters | None = None) -> np.ndarray:
    """How far each element of x has moved from the start after `steps` updates."""
    run = run_for(spec, optimizer, steps, hp)
    return np.abs(run.current.x - run.records[0].x)


def loss_after(spec: dict[str, Any] | None, optimizer: str, steps: int, hp: Hyperparameters | None = None) -> float:
    return run_for(spec, optimizer, steps, hp).current.loss


def loss_extreme(
    spec: dict[str, Any] | None, optimizer: str, start: int, stop: int, which: str, hp: Hyperparameters | None = None
) -> tuple[int, float]:
    """The step and the loss of the lowest ("min") or highest ("max") loss between steps `start` and `stop` (both included)."""
    if which not in ("min", "max"):
        raise ValueError(f"which must be 'min' or 'max', not {which!r}")
    if not 0 <= start <= stop:
        raise ValueError(f"need 0 <= start <= stop, not {start} and {stop}")
    losses = np.array(run_for(spec, optimizer, stop, hp).losses()[start : stop + 1])
    index = int(np.argmin(losses) if which == "min" else np.argmax(losses))
    return start + index, float(losses[index])


def first_below(
    spec: dict[str, Any] | None, optimizer: str, below: float, steps: int, hp: Hyperparameters | None = None
) -> int | None:
    """The first step whose loss is below `below` (None if none is within `steps`)."""
    losses = run_for(spec, optimizer, steps, hp).losses()
    return next((step for step, loss in enumerate(losses) if loss < below), None)


def first_rise(spec: dict[str, Any] | None, optimizer: str, steps: int, hp: Hyperparameters | None = None) -> int | None:
    """The first step whose loss is above the starting loss (None if none is within `steps`)."""
    losses = run_for(spec, optimizer, steps, hp).losses()
    return next((step for step, loss in enumerate(losses) if not loss <= losses[0]), None)


# -- lessons 3 and 4: one update on the seed's matrix ----------------------------------


def record_value(
    spec: dict[str, Any] | None,
    optimizer: str,
    step: int,
    quantity: str,
    element: tuple[int, ...],
    hp: Hyperparameters | None = None,
) -> float:
    """One element of a quantity at `step`: "x", "grad", "mean_square", "effective_step", "momentum",
    "product" (A @ X) or "scaled_grad" (effective step times gradient)."""
    run = run_for(spec, optimizer, step, hp)
    record = run.current
    if quantity == "product":
        if not isinstance(run.problem, MatrixInverse):
            raise ValueError(f"A @ X is the matrix problem's quantity, not {run.problem.kind}'s")
        values = run.problem.product(record.x)
    elif quantity == "scaled_grad":  # what the update adds to momentum: effective step times gradient
        values = record.effective_step * record.grad
    elif quantity in ("x", "grad", "effective_step"):
        values = getattr(record, quantity)
    else:
        values = record.buffers[quantity]
    return float(np.asarray(values)[element])


def idle_elements(
    spec: dict[str, Any] | None, optimizer: str, step: int, hp: Hyperparameters | None = None
) -> list[tuple[int, ...]]:
    """Elements whose mean square v is still exactly 0 at `step`: they have never had a gradient."""
    v = run_for(spec, optimizer, step, hp).current.mean_square
    return [] if v is None else [tuple(int(i) for i in index) for index in np.argwhere(v == 0)]


def direction_losses(variant: str, optimizer: str, steps: int, hp: Hyperparameters | None = None) -> np.ndarray:
    """The matrix loss split by A's singular directions: sum((AX - I)^2) = sum_i |u_i^T (AX - I)|^2, largest sigma first.

    Each part starts at 1 (X = 0, so AX - I = -I); under gradient descent part i is multiplied
    by (1 - 2 lr sigma_i^2)^2 at every update.
    """
    problem = MatrixInverse(variant=variant)
    u, _, _ = np.linalg.svd(problem.A)
    residual = problem.A @ run_for(problem.spec(), optimizer, steps, hp).current.x - np.eye(len(problem.A))
    return np.sum((u.T @ residual) ** 2, axis=1)


# -- lesson 5: axis-aligned against rotated, and the valley ------------------------------


def axis_gain(optimizer: str, steps: int, hp: Hyperparameters | None = None) -> float:
    """Final loss on the seed's A divided by the final loss on the diagonal A (same singular values)."""
    seed = loss_after({"kind": "matrix", "variant": "seed"}, optimizer, steps, hp)
    diagonal = loss_after({"kind": "matrix", "variant": "diagonal"}, optimizer, steps, hp)
    return seed / diagonal


def valley_path(
    angle: float,
    optimizer: str,
    hp: Hyperparameters,
    condition: float = 20.0,
    below: float = 1e-3,
    start_point: str = "fixed",
) -> tuple[int | None, float]:
    """Steps until the loss on the valley first falls below `below`, and that path's length over the
    straight distance from its start to its end (1.0 = straight; None steps: never got there)."""
    run = Run.create(Valley(condition=condition, angle=angle, start_point=start_point), optimizer, hp)
    steps = steps_to(run, below)
    records = run.records if steps is None else run.records[: steps + 1]
    return steps, path_length_ratio(records)


def valley_stable_lr(condition: float) -> float:
    """Gradient descent on the valley diverges above 2 / (largest curvature); the Hessian's eigenvalues are 1 and condition."""
    hessian_eigenvalues = np.linalg.eigvalsh(_valley_hessian(Valley(condition=condition)))
    return float(2.0 / hessian_eigenvalues.max())


def _valley_hessian(valley: Valley) -> np.ndarray:
    """The valley is quadratic, so its gradient is linear: the Hessian's columns are the gradients of the unit vectors."""
    return np.column_stack([valley.grad(np.array([1.0, 0.0])), valley.grad(np.array([0.0, 1.0]))])


# -- lesson 6: the race ---------------------------------------------------------------


def overtake_step(optimizer: str, other: str, steps: int = 300, hp: Hyperparameters | None = None) -> int | None:
    """The step from which `optimizer`'s loss stays below `other`'s up to `steps` (None: it never does)."""
    mine = np.array(run_for(None, optimizer, steps, hp).losses())
    theirs = np.array(run_for(None, other, steps, hp).losses())
    behind = np.flatnonzero(~(mine < theirs))
    if len(behind) == 0:
        return 0
    last_behind = int(behind[-1])
    return None if last_behind == steps else last_behind + 1


def product_after(optimizer: str, steps: int = 300, hp: Hyperparameters | None = None) -> np.ndarray:
    """A @ X after `steps` updates on the seed's matrix: the seed prints it rounded to 2 decimals."""
    run = run_for(None, optimizer, steps, hp)
    return SEED_A @ run.current.x


def seed_disagreement(optimizer: str) -> float:
    """|engine's 300-step loss / the seed's printed loss - 1|."""
    return abs(loss_after(None, optimizer, 300) / SEED_PRINTED_LOSSES[optimizer] - 1.0)


def nudged_change(optimizer: str, nudge: float = 1e-15, steps: int = 300) -> float:
    """Relative change of the final loss when every element of the start moves by `nudge`.

    A chaotic run amplifies a difference far below any printed digit: RMSprop's run on the
    seed's matrix lands on one of two outcomes (see nudged_run), which is why its loss
    matches the seed's only to about 1e-5.
    """
    plain = Run.create(MatrixInverse(), optimizer)
    return abs(nudged_run(optimizer, nudge, steps).current.loss / plain.run_to(steps)[-1] - 1.0)


def nudged_run(optimizer: str, nudge: float, steps: int = 300) -> Run:
    """A run on the seed's matrix whose start has every element moved by `nudge`."""
    run = Run.create(MatrixInverse(), optimizer)
    run.records[0] = dataclasses.replace(run.records[0], x=run.records[0].x + nudge)
    run.goto(steps)
    return run


# -- lesson 7: mini-batches, eps, centered, Adam -----------------------------------------


def minibatch_position(optimizer: str, steps: int, hp: Hyperparameters | None = None, curvature: float = 0.001) -> float:
    """Where the mini-batch weight w is after `steps` updates (it starts at 0 and should stay near it)."""
    spec = {"kind": "minibatch", "curvature": curvature}
    return float(run_for(spec, optimizer, steps, hp).current.x[0])


def eps_placement_ratio(spec: dict[str, Any] | None, steps: int, eps: float, element: tuple[int, ...] = (0,)) -> float:
    """rmsprop's effective step (eps outside the root) over rmsprop-eps-inside's, at `step` for one element."""
    hp = Hyperparameters(eps=eps)
    outside = run_for(spec, "rmsprop", steps, hp).current.effective_step
    inside = run_for(spec, "rmsprop-eps-inside", steps, hp).current.effective_step
    return float(np.asarray(outside)[element] / np.asarray(inside)[element])

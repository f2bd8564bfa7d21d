"""Numbers lessons quote, computed by the engine when a lesson is loaded.

A lesson writes `{{ final_loss(optimizer="gd", steps=300) | exact }}`; the placeholder
calls the function registered here under that name. Register a fact with `@fact`:
its docstring (first line) is what lessons/README.md lists for teachers, its keyword
arguments are what a placeholder may pass. Results are cached, so quoting the same
number in several lessons costs one computation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from tutor.course.cache import cache_dir
from tutor.engine import Hyperparameters, experiments, race
from tutor.engine.problems import SEED_A, MatrixInverse, MiniBatchNoise

FACTS: dict[str, Callable[..., Any]] = {}

F = TypeVar("F", bound=Callable[..., Any])


def fact(func: F) -> F:
    """Register `func` as a fact lessons can quote, caching its results by argument values."""
    cache: dict[str, Any] = {}

    @functools.wraps(func)
    def cached(*args: Any, **kwargs: Any) -> Any:
        # repr, not hash: placeholder arguments may be dicts and lists (a problem spec).
        key = repr((args, sorted(kwargs.items())))
        if key not in cache:
            cache[key] = func(*args, **kwargs)
        return cache[key]

    # A function given an attribute, as functools.lru_cache does: the type system cannot say "F plus cache_clear",
    # and cached(*args, **kwargs) wraps func's own signature, which mypy cannot see through a TypeVar.
    cached.cache_clear = cache.clear  # type: ignore[attr-defined]
    FACTS[func.__name__] = cached
    return cached  # type: ignore[return-value]


def hyperparameters(
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
    lr_halving: float | None = None,
) -> Hyperparameters:
    return Hyperparameters.validated(lr=lr, decay=decay, eps=eps, mu=mu, lr_halving=lr_halving)


@fact
def final_loss(
    optimizer: str = "rmsprop",
    steps: int = 300,
    problem: dict[str, Any] | None = None,
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
    lr_halving: float | None = None,
) -> float:
    """The loss after `steps` updates of `optimizer` (on the seed's matrix unless `problem` is given); `lr_halving`: a decaying lr."""
    return experiments.run_for(problem, optimizer, steps, hyperparameters(lr, decay, eps, mu, lr_halving)).current.loss


@fact
def stable_lr(variant: str = "seed") -> float:
    """1/sigma_max(A)^2: the largest lr for which gradient descent on the matrix problem converges."""
    return MatrixInverse(variant=variant).stable_lr()


# -- the lessons' experiments (tutor/engine/experiments.py); thin wrappers, no formatting ----------


def _hp(lr: float | None, decay: float | None, eps: float | None, mu: float | None) -> Hyperparameters:
    return hyperparameters(lr, decay, eps, mu)


@fact
def setting(name: str) -> float:
    """The seed's default for a hyperparameter: lr, decay, eps or mu."""
    return float(getattr(Hyperparameters(), name))


@fact
def adam_default(name: str = "beta2") -> float:
    """Adam's own default in its paper (Kingma & Ba 2015): beta1 (the seed's mu), beta2 (the seed's decay) or eps."""
    return experiments.ADAM_PAPER_DEFAULTS[name]


@fact
def memory(name: str = "decay", value: float | None = None) -> float:
    """1 / (1 - value): about how many updates a running average with this decay (or mu) remembers (the seed's if no value)."""
    share = float(getattr(Hyperparameters(), name)) if value is None else float(value)
    if not 0 <= share < 1:
        raise ValueError(f"a kept share must be in [0, 1), not {share:g}")
    return 1.0 / (1.0 - share)


@fact
def chain_gradient(depth: int = 20, scale: float = 0.5, activation: str = "linear", layer: int = 1) -> float:
    """|dF/db| of layer `layer` (1 = the first, depth = the last) of a deep chain at its start."""
    return float(experiments.chain_gradients(depth, float(scale), activation)[layer - 1])


@fact
def chain_ratio(depth: int = 20, scale: float = 0.5, activation: str = "linear") -> float:
    """The first layer's gradient over the last layer's, in a deep chain at its start."""
    return experiments.chain_ratio(depth, float(scale), activation)


@fact
def chain_log2_ratio(depth: int = 20, scale: float = 0.5, activation: str = "linear") -> float:
    """log2 of chain_ratio: the power of two between the first and the last layer's gradients."""
    return math.log2(experiments.chain_ratio(depth, float(scale), activation))


@fact
def chain_factor(depth: int = 10, scale: float = 5.0, activation: str = "relu") -> float:
    """How many times the gradient grows per layer going down the chain (the geometric mean)."""
    return experiments.chain_factor_per_layer(depth, float(scale), activation)


@fact
def chain_input(depth: int = 10, scale: float = 4.0, activation: str = "sigmoid", layer: int = 2) -> float:
    """The input z = w h + b that layer `layer`'s activation gets at the start (1 = the first layer)."""
    return experiments.chain_start_layer(depth, float(scale), activation, layer)[0]


@fact
def chain_slope(depth: int = 10, scale: float = 4.0, activation: str = "sigmoid", layer: int = 2) -> float:
    """The slope of layer `layer`'s activation at its input at the start (a sigmoid's is at most 1/4)."""
    return experiments.chain_start_layer(depth, float(scale), activation, layer)[1]


@fact
def chain_output_change(
    problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", steps: int = 50, layer: int = 1, lr: float | None = None
) -> float:
    """How much bias `layer`'s move alone has changed a linear chain's output after `steps` updates."""
    spec = problem or {"kind": "deep-chain", "depth": 20, "scale": 0.5}
    return experiments.chain_output_change(spec, optimizer, steps, layer, _hp(lr, None, None, None))


@fact
def chain_stable_lr(depth: int = 20, scale: float = 0.5) -> float:
    """The lr above which gradient descent on a linear deep chain diverges."""
    return experiments.chain_stable_lr(depth, float(scale))


@fact
def move(
    problem: dict[str, Any] | None = None,
    optimizer: str = "gd",
    steps: int = 1,
    element: tuple[int, ...] = (0,),
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
) -> float:
    """How far element `element` of x has moved from the start after `steps` updates."""
    moves = experiments.element_moves(problem, optimizer, steps, _hp(lr, decay, eps, mu))
    return float(moves[tuple(element)])


@fact
def move_ratio(
    problem: dict[str, Any] | None = None,
    optimizer: str = "gd",
    steps: int = 1,
    element: tuple[int, ...] = (0,),
    other: tuple[int, ...] = (-1,),
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
) -> float:
    """How far `element` has moved after `steps` updates, divided by how far `other` has."""
    moves = experiments.element_moves(problem, optimizer, steps, _hp(lr, decay, eps, mu))
    return float(moves[tuple(element)] / moves[tuple(other)])


@fact
def fastest_layer(problem: dict[str, Any] | None = None, optimizer: str = "gd", steps: int = 1, lr: float | None = None) -> int:
    """The layer (1 = the first) whose bias has moved furthest after `steps` updates."""
    return int(np.argmax(experiments.element_moves(problem, optimizer, steps, _hp(lr, None, None, None)))) + 1


@fact
def first_rise(
    problem: dict[str, Any] | None = None, optimizer: str = "gd", steps: int = 300, lr: float | None = None
) -> int | None:
    """The first update whose loss is above the starting loss (None: none within `steps`)."""
    return experiments.first_rise(problem, optimizer, steps, _hp(lr, None, None, None))


@fact
def loss_extreme(
    problem: dict[str, Any] | None = None,
    optimizer: str = "rmsprop",
    start: int = 0,
    stop: int = 300,
    which: str = "min",
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
    lr_halving: float | None = None,
) -> float:
    """The lowest (`which="min"`) or highest ("max") loss between steps `start` and `stop`: the range a jittering loss covers."""
    return experiments.loss_extreme(problem, optimizer, start, stop, which, hyperparameters(lr, decay, eps, mu, lr_halving))[1]


@fact
def first_below(
    problem: dict[str, Any] | None = None,
    optimizer: str = "rmsprop",
    below: float = 1e-3,
    steps: int = 300,
    lr: float | None = None,
) -> int | None:
    """The first update whose loss is below `below` (None: none within `steps`)."""
    return experiments.first_below(problem, optimizer, below, steps, _hp(lr, None, None, None))


@fact
def diverging_choice(choices: tuple[float, ...] = (), problem: dict[str, Any] | None = None, steps: int = 300) -> str:
    """Of the learning rates `choices`, the one whose gradient-descent loss after `steps` ends above its start.

    Exactly one must; a lesson offering two diverging (or none) is refused.
    """
    diverging = [lr for lr in choices if experiments.first_rise(problem, "gd", steps, _hp(lr, None, None, None)) is not None]
    if len(diverging) != 1:
        raise ValueError(f"{len(diverging)} of the choices {list(choices)} diverge; a check needs exactly one")
    return f"{diverging[0]:g}"


@fact
def value(
    problem: dict[str, Any] | None = None,
    optimizer: str = "gd",
    step: int = 1,
    quantity: str = "x",
    element: tuple[int, ...] = (0, 0),
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
) -> float:
    """One element of x, grad, mean_square, effective_step, momentum, product (A@X) or scaled_grad (step size times g) at `step`."""
    return experiments.record_value(problem, optimizer, step, quantity, tuple(element), _hp(lr, decay, eps, mu))


@fact
def idle_count(problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", step: int = 1) -> int:
    """How many elements still have v = 0 (no gradient yet) at `step`."""
    return len(experiments.idle_elements(problem, optimizer, step))


@fact
def idle_elements(problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", step: int = 1) -> str:
    """The elements that still have v = 0 at `step`, as (row, column) pairs."""
    return ", ".join(str(element) for element in experiments.idle_elements(problem, optimizer, step))


@fact
def singular_value(index: int = 0, variant: str = "seed") -> float:
    """The matrix's singular values, largest first (index 0 = sigma_max)."""
    return float(MatrixInverse(variant=variant).singular_values()[index])


@fact
def axis_gain(optimizer: str = "rmsprop", steps: int = 300, lr: float | None = None) -> float:
    """Final loss on the seed's A over the final loss on the diagonal A with the same singular values."""
    return experiments.axis_gain(optimizer, steps, _hp(lr, None, None, None))


@fact
def valley_steps(
    angle: float = 0.0, optimizer: str = "rmsprop", lr: float = 0.1, condition: float = 20.0, start_point: str = "fixed"
) -> int | None:
    """Updates until the valley's loss first falls below 1e-3 (`start_point` "turned": the start turns with the valley)."""
    return experiments.valley_path(float(angle), optimizer, _hp(lr, None, None, None), float(condition), start_point=start_point)[
        0
    ]


@fact
def valley_detour(
    angle: float = 0.0, optimizer: str = "rmsprop", lr: float = 0.1, condition: float = 20.0, start_point: str = "fixed"
) -> float:
    """The valley path's length (until the loss is below 1e-3) over the straight distance from its start to its end (1 = straight)."""
    return experiments.valley_path(float(angle), optimizer, _hp(lr, None, None, None), float(condition), start_point=start_point)[
        1
    ]


@fact
def straighter_valley(optimizer: str = "rmsprop", lr: float = 0.1, condition: float = 20.0, start_point: str = "fixed") -> str:
    """Which valley angle, "angle 0" or "angle 45", gives `optimizer` the straighter path."""
    detours = {angle: valley_detour(angle, optimizer, lr, condition, start_point) for angle in (0, 45)}
    return f"angle {min(detours, key=detours.__getitem__)}"


@fact
def winner(
    optimizers: tuple[str, ...] = ("gd", "rmsprop", "rmsprop-momentum"), steps: int = 300, problem: dict[str, Any] | None = None
) -> str:
    """The optimizer (of `optimizers`) with the lowest loss after `steps` updates, at the seed's defaults."""
    return min(optimizers, key=lambda key: experiments.loss_after(problem, key, steps))


@fact
def seed_loss(optimizer: str = "gd") -> float:
    """The final loss the seed's blog post prints after 300 updates."""
    return experiments.SEED_PRINTED_LOSSES[optimizer]


@fact
def seed_disagreement(optimizer: str = "rmsprop") -> float:
    """|engine's 300-step loss / the seed's printed loss - 1|."""
    return experiments.seed_disagreement(optimizer)


@fact
def nudged_change(optimizer: str = "rmsprop", nudge: float = 1e-15) -> float:
    """Relative change of the 300-step loss when the start moves by `nudge`."""
    return experiments.nudged_change(optimizer, nudge)


@fact
def nudged_loss(optimizer: str = "rmsprop", nudge: float = 1e-15, steps: int = 300) -> float:
    """The loss after `steps` updates on the seed's matrix when every element of the start is moved by `nudge`."""
    return experiments.nudged_run(optimizer, float(nudge), steps).current.loss


@fact
def nudged_product(optimizer: str = "rmsprop", nudge: float = 1e-15, steps: int = 300, row: int = 0, column: int = 3) -> float:
    """One element of A @ X after `steps` updates when every element of the start is moved by `nudge`."""
    run = experiments.nudged_run(optimizer, float(nudge), steps)
    return float((SEED_A @ run.current.x)[row, column])


@fact
def seed_rmsprop_product(row: int = 0, column: int = 3) -> float:
    """One element of the A @ X the seed prints for RMSprop after 300 updates (rounded to 2 decimals)."""
    return float(experiments.SEED_PRINTED_RMSPROP_PRODUCT[row, column])


@fact
def direction_factor(index: int = 0, lr: float | None = None, variant: str = "seed") -> float:
    """1 - 2 lr sigma_i^2: what one update of gradient descent multiplies the error along singular direction `index` by."""
    sigma = MatrixInverse(variant=variant).singular_values()[index]
    return float(1.0 - 2.0 * _hp(lr, None, None, None).lr * sigma**2)


@fact
def direction_loss(
    index: int = 0, optimizer: str = "gd", steps: int = 300, lr: float | None = None, variant: str = "seed"
) -> float:
    """The part of the matrix loss along singular direction `index` (0 = sigma_max's) after `steps` updates; each starts at 1."""
    return float(experiments.direction_losses(variant, optimizer, steps, _hp(lr, None, None, None))[index])


@fact
def product(optimizer: str = "gd", steps: int = 300) -> np.ndarray:
    """A @ X after `steps` updates, rounded to 2 decimals as the seed prints it."""
    return np.round(experiments.product_after(optimizer, steps), 2)


@fact
def minibatch_position(optimizer: str = "rprop", steps: int = 100, decay: float | None = None) -> float:
    """Where the mini-batch weight is after `steps` updates (it starts at 0)."""
    return experiments.minibatch_position(optimizer, steps, _hp(None, decay, None, None))


@fact
def minibatch_drift_ratio(optimizer: str = "rprop", other: str = "rmsprop", steps: int = 100) -> float:
    """How many times further `optimizer` has drifted than `other` on the mini-batch weight."""
    return abs(minibatch_position(optimizer, steps)) / abs(minibatch_position(other, steps))


@fact
def eps_ratio(problem: dict[str, Any] | None = None, steps: int = 1, eps: float = 1e-3, element: tuple[int, ...] = (0,)) -> float:
    """rmsprop's step size (eps outside the root) over rmsprop-eps-inside's, for one element at `steps`."""
    return experiments.eps_placement_ratio(problem, steps, eps, tuple(element))


@fact
def loss_ratio(
    optimizer: str = "rmsprop",
    other: str = "rmsprop-momentum",
    steps: int = 300,
    problem: dict[str, Any] | None = None,
    lr: float | None = None,
) -> float:
    """`optimizer`'s loss after `steps` updates divided by `other`'s (same problem and lr)."""
    hp = _hp(lr, None, None, None)
    return experiments.loss_after(problem, optimizer, steps, hp) / experiments.loss_after(problem, other, steps, hp)


@fact
def axis_winner(optimizer: str = "rmsprop", steps: int = 300, lr: float | None = None) -> str:
    """Which matrix `optimizer` ends lower on: "the seed's A" or "the diagonal A"."""
    return "the diagonal A" if axis_gain(optimizer, steps, lr) > 1 else "the seed's A"


@fact
def inverse_element(row: int = 0, column: int = 0, variant: str = "seed") -> float:
    """An element of A's inverse: where X has to go."""
    return float(np.linalg.inv(MatrixInverse(variant=variant).A)[row, column])


@fact
def drift_winner(optimizers: tuple[str, ...] = ("gd", "rprop", "rmsprop"), steps: int = 100) -> str:
    """Of `optimizers`, the one whose mini-batch weight ends furthest from its start."""
    return max(optimizers, key=lambda key: abs(minibatch_position(key, steps)))


@fact
def curvature_spread(variant: str = "seed") -> float:
    """(sigma_max / sigma_min)^2: how much steeper the matrix loss is along its steepest direction than its flattest."""
    values = MatrixInverse(variant=variant).singular_values()
    return float((values[0] / values[-1]) ** 2)


@fact
def first_rmsprop_step(lr: float | None = None, decay: float | None = None) -> float:
    """lr / sqrt(1 - decay): RMSprop's first change of any element with a gradient well above eps."""
    hp = _hp(lr, decay, None, None)
    return hp.lr / math.sqrt(1.0 - hp.decay)


@fact
def value_ratio(
    problem: dict[str, Any] | None = None,
    optimizer: str = "rmsprop",
    step: int = 1,
    quantity: str = "effective_step",
    element: tuple[int, ...] = (0,),
    other: tuple[int, ...] = (-1,),
    lr: float | None = None,
) -> float:
    """One element of a quantity divided by another element of it, at `step`."""
    hp = _hp(lr, None, None, None)
    return experiments.record_value(problem, optimizer, step, quantity, tuple(element), hp) / experiments.record_value(
        problem, optimizer, step, quantity, tuple(other), hp
    )


@fact
def valley_stable_lr(condition: float = 20.0) -> float:
    """Gradient descent on the valley diverges above this lr: 2 / condition (the steep direction's curvature is condition)."""
    return experiments.valley_stable_lr(float(condition))


@fact
def overtake_step(optimizer: str = "rmsprop", other: str = "gd", steps: int = 300) -> int | None:
    """The update from which `optimizer`'s loss on the seed's matrix stays below `other`'s."""
    return experiments.overtake_step(optimizer, other, steps)


@fact
def product_deviation(optimizer: str = "rmsprop-momentum", steps: int = 300) -> float:
    """The largest |A @ X - I| element after `steps` updates on the seed's matrix."""
    return float(np.max(np.abs(experiments.product_after(optimizer, steps) - np.eye(len(MatrixInverse().A)))))


@fact
def minibatch_gradient(batch: int = 1, size: float = 0.01, period: int = 10) -> float:
    """The mini-batch problem's gradient (at its start) on batch `batch` of a cycle (1 = the first)."""
    return MiniBatchNoise(size=float(size), period=period).noise(batch - 1)


# -- the digits network (a real MLP in mini-batches; tutor/engine/digits.py) -------------

DIGITS = {"kind": "digits"}


def _race(problem: dict[str, Any] | None, optimizer: str, steps: int) -> race.RaceResult:
    return race.best_lr(problem or DIGITS, optimizer, steps, cache_dir=cache_dir())


@fact
def best_lr(problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", steps: int = 450) -> float:
    """`optimizer`'s best lr of 1e-4, 3e-4, ..., 10 on `problem` (default: the digits network) after `steps` updates, by test loss (digits) or loss.

    Computed once, then cached on disk (TUTOR_CACHE or the user's cache folder)."""
    return _race(problem, optimizer, steps).lr


@fact
def best_lr_loss(problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", steps: int = 450) -> float:
    """The test loss (digits) or loss of `optimizer` at its best lr after `steps` updates."""
    return _race(problem, optimizer, steps).best.score


@fact
def best_lr_accuracy(problem: dict[str, Any] | None = None, optimizer: str = "rmsprop", steps: int = 450) -> float:
    """The digits network's test accuracy (0..1) with `optimizer` at its best lr after `steps` updates."""
    accuracy = _race(problem, optimizer, steps).best.accuracy
    if accuracy is None:
        raise ValueError("best_lr_accuracy needs a digits problem")
    return accuracy


@fact
def grid_accuracy_max(problem: dict[str, Any] | None = None, optimizer: str = "gd", steps: int = 450) -> float:
    """The highest test accuracy (digits) that any lr of best_lr's grid gives `optimizer` after `steps` updates."""
    return max(score.accuracy or 0.0 for score in _race(problem, optimizer, steps).scores)


@fact
def lr_grid() -> str:
    """The learning rates best_lr tries, written short: "1e-4, 3e-4, ..., 10"."""

    def short(lr: float) -> str:  # 1e-4 rather than 0.0001
        mantissa, _, exponent = f"{lr:.0e}".partition("e")
        return f"{mantissa}e{int(exponent)}" if lr < 1e-3 else f"{lr:g}"

    grid = race.LR_GRID
    return f"{short(grid[0])}, {short(grid[1])}, ..., {short(grid[-1])}"


@fact
def best_lr_winner(
    problem: dict[str, Any] | None = None, optimizers: tuple[str, ...] = ("gd", "rmsprop"), steps: int = 450
) -> str:
    """Of `optimizers`, each at its own best lr after `steps` updates, the one with the highest test accuracy (digits)."""
    return max(optimizers, key=lambda key: best_lr_accuracy(problem, key, steps))


def _digits_stats(problem: dict[str, Any] | None, optimizer: str, step: int, lr: float | None) -> list[Any]:
    from tutor.engine.digits import as_network, layer_statistics

    run = experiments.run_for(problem or DIGITS, optimizer, max(step, 1), _hp(lr, None, None, None))
    record = run.records[max(step, 1)]
    return layer_statistics(as_network(run.problem), run.records[record.step - 1].x, record)


def _layer(stats: list[Any], layer: str | int) -> Any:
    names = [s.name for s in stats]
    if str(layer) not in names:
        raise ValueError(f"no layer {layer!r}; the layers are {', '.join(names)}")
    return stats[names.index(str(layer))]


@fact
def layer_gradient(
    problem: dict[str, Any] | None = None, layer: str | int = 1, optimizer: str = "gd", step: int = 1, lr: float | None = None
) -> float:
    """The RMS of the gradient of one layer's weights (1.., or "out") of the digits network in update `step`."""
    return _layer(_digits_stats(problem, optimizer, step, lr), layer).grad_rms


@fact
def sqrt_v_range(
    problem: dict[str, Any] | None = None,
    layer: str | int = 1,
    optimizer: str = "rmsprop",
    steps: int = 450,
    over: int = 50,
    lr: float | None = None,
    decay: float | None = None,
) -> float:
    """The highest over the lowest sqrt(v) RMS of one layer (1.., or "out") of the digits network in the last `over` updates up to `steps`."""
    from tutor.engine.digits import as_network, layer_statistics

    if not 1 <= over <= steps:
        raise ValueError(f"need 1 <= over <= steps, not {over} and {steps}")
    run = experiments.run_for(problem or DIGITS, optimizer, steps, _hp(lr, decay, None, None))
    network, records = as_network(run.problem), run.records
    updates = range(steps - over + 1, steps + 1)
    sizes = [_layer(layer_statistics(network, records[step - 1].x, records[step]), layer).sqrt_v_rms for step in updates]
    if sizes[0] is None:
        raise ValueError(f"{optimizer} keeps no mean square v")
    return max(sizes) / min(sizes)


@fact
def layer_gradient_ratio(
    problem: dict[str, Any] | None = None, optimizer: str = "gd", step: int = 1, lr: float | None = None
) -> float:
    """The output layer's gradient RMS over the first layer's in update `step`: how much the gradient vanished."""
    stats = _digits_stats(problem, optimizer, step, lr)
    return stats[-1].grad_rms / stats[0].grad_rms


@fact
def layer_gradient_power(
    problem: dict[str, Any] | None = None, optimizer: str = "gd", step: int = 1, lr: float | None = None
) -> float:
    """layer_gradient_ratio rounded to the nearest power of ten (1e4 for 11,752)."""
    return 10.0 ** round(math.log10(layer_gradient_ratio(problem, optimizer, step, lr)))


@fact
def update_ratio(
    problem: dict[str, Any] | None = None, layer: str | int = 1, optimizer: str = "gd", step: int = 1, lr: float | None = None
) -> float:
    """log10(std(change of W) / std(W)) of one layer in update `step` (about -3: a healthy pace)."""
    return _layer(_digits_stats(problem, optimizer, step, lr), layer).update_ratio


@fact
def test_accuracy(
    problem: dict[str, Any] | None = None,
    optimizer: str = "rmsprop",
    steps: int = 450,
    lr: float | None = None,
    decay: float | None = None,
) -> float:
    """The digits network's accuracy (0..1) on its 360 test images after `steps` updates."""
    from tutor.engine.digits import as_network

    run = experiments.run_for(problem or DIGITS, optimizer, steps, _hp(lr, decay, None, None))
    return as_network(run.problem).evaluate(run.current.x)[1]

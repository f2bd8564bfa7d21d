"""Update rules, each written once: an optimizer is a sequence of named stages.

A stage sets one quantity (v, the step size, m, x, ...) from the state so far, the way optax chains
`scale_by_rms`, `scale_by_learning_rate` and `trace`; beside its arithmetic it keeps everything said about it:
its line of the formula, its start value, and the templates that the narration (`n`, engine/phases.py) and
the inspector (views/inspector.py) fill with one element's numbers. The update the engine takes, the narrated
phases, the formula text, the inspector's lines, the buffers and their start values all come from the stages,
so adding an optimizer is one entry in OPTIMIZERS.

The arithmetic follows the seed (`../shared/seed/rmsprop-blog-post.md`) operation for operation
(`x - lr * g / (sqrt(v) + eps)`, not `x - step * g`), so the last digit the seed prints comes out the same.
Every stage works element by element on arrays of any shape: the same stages step one array, or a flat vector
holding all of a network's parameters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from tutor.engine.hyper import Hyperparameters

Buffers = Mapping[str, np.ndarray]
UpdateResult = tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]
# x, grad, effective_step and the buffers, as they stand part-way through an update.
State = Mapping[str, np.ndarray]

# What the formulas and templates call each quantity; `{v}` is v after a stage, `{v_before}` v before it.
SYMBOLS = {
    "x": "x",
    "grad": "g",
    "mean_square": "v",
    "effective_step": "step",
    "momentum": "m",
    "mean_grad": "gbar",
    "last_grad": "g_last",
    "step_size": "step",
}


@dataclass(frozen=True)
class Stage:
    """One named part of an update: it sets `writes` (and the names in `also`) to `compute(state, hp, t)`,
    t being the update's number (1 for the first).

    `rule` is its line of the formula; `start` gives its quantity's value before the first update (zeros if
    None). `arithmetic` is the line the inspector shows, such as `v{at} = {decay}*{v_before} = {v}`; the
    narration is `say`, that line and `remark`. Templates name quantities by their SYMBOLS, hyperparameters by
    name ({lr}, {1-decay}, {1-mu^t}, ...) and the element by {at}.
    """

    name: str
    writes: str
    rule: str
    compute: Callable[[State, Hyperparameters, int], np.ndarray]
    say: str
    arithmetic: str
    remark: str = ""
    start: Callable[[np.ndarray, Hyperparameters], np.ndarray] | None = None
    also: tuple[str, ...] = ()  # other names for the same value (rprop's step size is its effective step)

    def apply(self, state: MutableMapping[str, np.ndarray], hp: Hyperparameters, t: int) -> None:
        value = self.compute(state, hp, t)
        state[self.writes] = value
        for name in self.also:
            state[name] = value


def short_number(value: float, digits: int = 4) -> str:
    """Numbers in narration: short, and negative ones in brackets so `-` reads as an operation."""
    text = f"{float(value):.{digits}g}"
    return f"({text})" if text.startswith("-") else text


def as_typed(value: float) -> str:
    """A hyperparameter or a constant of a rule as a person types it: 0.001, 0.9, 1e-08."""
    return f"{value:g}"


def fill(
    template: str,
    before: State,
    after: State,
    hp: Hyperparameters,
    t: int,
    element: int,
    where: str,
    number: Callable[[float], str] = short_number,
    constant: Callable[[float], str] = as_typed,
) -> str:
    """A stage's template with element `element`'s numbers: quantities before and after the stage (written by
    `number`), the hyperparameters and the constants the rules use (written by `constant`: as typed, 0.001,
    0.9, 1e-08); `where` is the element's label ({at}: `[2,3]`)."""
    text = {}
    for field_name in _fields(template):  # only what the template names: the inspector fills a few lines per key
        if field_name == "at":
            text[field_name] = where
        elif field_name in _CONSTANTS:
            text[field_name] = constant(_CONSTANTS[field_name](hp, t))
        elif field_name.endswith("_before"):
            text[field_name] = number(before[_QUANTITIES[field_name.removesuffix("_before")]].flat[element])
        else:
            text[field_name] = number(after[_QUANTITIES[field_name]].flat[element])
    return template.format_map(text)


_CONSTANTS: dict[str, Callable[[Hyperparameters, int], float]] = {
    "lr": lambda hp, t: hp.lr,
    "decay": lambda hp, t: hp.decay,
    "eps": lambda hp, t: hp.eps,
    "mu": lambda hp, t: hp.mu,
    "1-decay": lambda hp, t: 1 - hp.decay,
    "1-mu": lambda hp, t: 1 - hp.mu,
    "1-decay^t": lambda hp, t: 1 - hp.decay**t,
    "1-mu^t": lambda hp, t: 1 - hp.mu**t,
}
# Symbol -> quantity; `step` is the effective step (rprop's step_size holds the same array).
_QUANTITIES = {symbol: name for name, symbol in reversed(SYMBOLS.items())}


@cache
def _fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


@cache
def combined_arithmetic(stages: tuple[Stage, ...]) -> str:
    """One arithmetic line for stages in a row that build one quantity, such as decay then add:
    `v{at} = {decay}*{v_before} + {1-decay}*{g}^2 = {v}`, each stage's expression put in for the value
    before it in the next. Filled with the state before the first stage and after the last."""
    symbol = SYMBOLS[stages[0].writes]
    shape = re.compile(rf"{re.escape(symbol)}\{{at\}} = (.*) = \{{{re.escape(symbol)}\}}")
    matches = [shape.fullmatch(stage.arithmetic) for stage in stages]
    expressions = [match.group(1) for match in matches if match is not None]
    if len(stages) == 1 or len(expressions) < len(stages):  # not all of the form `v{at} = ... = {v}`
        return stages[-1].arithmetic
    combined = "{" + symbol + "_before}"
    for expression in expressions:
        combined = expression.replace("{" + symbol + "_before}", combined, 1)
    return f"{symbol}{{at}} = {combined} = {{{symbol}}}"


# The gradient opens every update; the problem computes it (engine/problems.py: step_gradient).
GRADIENT = Stage(
    "gradient",
    "grad",
    "g <- the gradient of the loss at x",
    lambda s, hp, t: s["grad"],
    say="Compute the gradient at the current x",
    arithmetic="g{at} = {g} at x{at} = {x}",
    remark="The slope of the loss along this element.",
)


def _lr_everywhere(x: np.ndarray, hp: Hyperparameters) -> np.ndarray:
    return np.full(x.shape, hp.lr)


def _lr_over_eps(x: np.ndarray, hp: Hyperparameters) -> np.ndarray:
    """The step an RMSprop takes while v is 0 (no gradient has reached the element yet): lr / eps."""
    return np.full(x.shape, hp.lr / hp.eps)


# -- gradient descent ----------------------------------------------------------------------------

GD_STEP = Stage(
    "step",
    "effective_step",
    "step <- lr",
    lambda s, hp, t: np.full(s["x"].shape, hp.lr),
    say="Step size lr, the same for every element",
    arithmetic="step{at} = {lr}",
    remark="Whatever its gradients have been.",
    start=_lr_everywhere,
)
GD_MOVE = Stage(
    "move",
    "x",
    "x <- x - lr * g",
    lambda s, hp, t: s["x"] - hp.lr * s["grad"],
    say="Move x against the gradient by lr",
    arithmetic="x{at} = {x_before} - {lr}*{g} = {x}",
    remark="Every element takes the same lr.",
)

# -- RMSprop (Tieleman & Hinton 2012, lecture 6.5) -------------------------------------------------

_last_denominator: tuple[np.ndarray, float, np.ndarray] | None = None


def _rms_denominator(v: np.ndarray, eps: float) -> np.ndarray:
    """sqrt(v) + eps, computed once for the step and again for the move (and the momentum) of an update: the last one
    is kept with the v it came from (the very array: an update's v is a new array, never changed in place after),
    so the next stage with that v and eps reuses it (a square root of ~8,000 numbers is ~9 us). Read only."""
    global _last_denominator
    last = _last_denominator  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is v and last[1] == eps:
        return last[2]
    denominator = np.sqrt(v)
    np.add(denominator, eps, denominator)
    denominator.setflags(write=False)
    _last_denominator = (v, eps, denominator)
    return denominator


DECAY = Stage(
    "decay",
    "mean_square",
    "v <- decay * v",
    lambda s, hp, t: hp.decay * s["mean_square"],
    say="Decay v by decay={decay}",
    arithmetic="v{at} = {decay}*{v_before} = {v}",
    remark="Old gradients fade.",
)
ADD = Stage(
    "add",
    "mean_square",
    "v <- v + (1 - decay) * g^2",
    lambda s, hp, t: s["mean_square"] + (1 - hp.decay) * s["grad"] ** 2,
    say="Add (1-decay)*g^2",
    arithmetic="v{at} = {v_before} + {1-decay}*{g}^2 = {v}",
    remark="A running mean of the squared gradient.",
)
RMS_STEP = Stage(
    "step",
    "effective_step",
    "step <- lr / (sqrt(v) + eps)",
    lambda s, hp, t: np.divide(hp.lr, _rms_denominator(s["mean_square"], hp.eps)),
    say="Step size lr/(sqrt(v)+eps)",
    arithmetic="step{at} = {lr}/(sqrt({v})+{eps}) = {step}",
    remark="Small where gradients have been large, large where small.",
    start=_lr_over_eps,
)
RMS_MOVE = Stage(
    "move",
    "x",
    "x <- x - lr * g / (sqrt(v) + eps)",
    lambda s, hp, t: s["x"] - hp.lr * s["grad"] / _rms_denominator(s["mean_square"], hp.eps),
    say="Move x by step*g",
    arithmetic="x{at} = {x_before} - {step}*{g} = {x}",
)

# lr sits inside the momentum buffer, as in the seed and TensorFlow; PyTorch keeps it outside (the same
# while lr is constant).
RMS_MOMENTUM = Stage(
    "momentum",
    "momentum",
    "m <- mu * m + lr * g / (sqrt(v) + eps)",
    lambda s, hp, t: hp.mu * s["momentum"] + hp.lr * s["grad"] / _rms_denominator(s["mean_square"], hp.eps),
    say="Update momentum",
    arithmetic="m{at} = {mu}*{m_before} + {step}*{g} = {m}",
    remark="It keeps {mu} of the last move.",
)
MOVE_BY_MOMENTUM = Stage(
    "move",
    "x",
    "x <- x - m",
    lambda s, hp, t: s["x"] - s["momentum"],
    say="Move x by m",
    arithmetic="x{at} = {x_before} - {m} = {x}",
)

# TensorFlow's, Keras' and optax's placement of eps: inside the square root. With a tiny eps it barely
# matters; with eps around 1e-3 the steps differ.
STEP_EPS_INSIDE = Stage(
    "step",
    "effective_step",
    "step <- lr / sqrt(v + eps)",
    lambda s, hp, t: hp.lr / np.sqrt(s["mean_square"] + hp.eps),
    say="Step size lr/sqrt(v+eps)",
    arithmetic="step{at} = {lr}/sqrt({v}+{eps}) = {step}",
    remark="eps sits inside the square root here.",
    start=lambda x, hp: np.full(x.shape, hp.lr / np.sqrt(hp.eps)),
)
MOVE_EPS_INSIDE = Stage(
    "move",
    "x",
    "x <- x - lr * g / sqrt(v + eps)",
    lambda s, hp, t: s["x"] - hp.lr * s["grad"] / np.sqrt(s["mean_square"] + hp.eps),
    say="Move x by step*g",
    arithmetic="x{at} = {x_before} - {step}*{g} = {x}",
)

# Graves (2013): divide by an estimate of the gradient's variance rather than its raw second moment.
# Rounding can make v - gbar^2 slightly negative; it is clipped at 0, because sqrt would give NaN (as MXNet
# users found).
MEAN_GRAD = Stage(
    "mean",
    "mean_grad",
    "gbar <- decay * gbar + (1 - decay) * g",
    lambda s, hp, t: hp.decay * s["mean_grad"] + (1 - hp.decay) * s["grad"],
    say="Update the mean gradient",
    arithmetic="gbar{at} = {decay}*{gbar_before} + {1-decay}*{g} = {gbar}",
    remark="v - gbar^2 estimates the gradient's variance.",
)
CENTERED_STEP = Stage(
    "step",
    "effective_step",
    "step <- lr / (sqrt(max(v - gbar^2, 0)) + eps)",
    lambda s, hp, t: hp.lr / (np.sqrt(np.maximum(s["mean_square"] - s["mean_grad"] ** 2, 0.0)) + hp.eps),
    say="Step size lr/(sqrt(v-gbar^2)+eps)",
    arithmetic="step{at} = {lr}/(sqrt(max({v}-{gbar}^2, 0))+{eps}) = {step}",
    remark="Small where gradients have varied a lot.",
    start=_lr_over_eps,
)
CENTERED_MOVE = Stage(
    "move",
    "x",
    "x <- x - lr * g / (sqrt(max(v - gbar^2, 0)) + eps)",
    lambda s, hp, t: s["x"] - hp.lr * s["grad"] / (np.sqrt(np.maximum(s["mean_square"] - s["mean_grad"] ** 2, 0.0)) + hp.eps),
    say="Move x by step*g",
    arithmetic="x{at} = {x_before} - {step}*{g} = {x}",
)

# -- rprop: only the gradient's sign. Hinton's point: on mini-batches it drifts, because +0.01 nine times and
# -0.09 once move a weight nine steps one way and one step back, though the gradients average to zero.


def _rprop_step_sizes(s: State, hp: Hyperparameters, t: int) -> np.ndarray:
    agreement = np.sign(s["grad"]) * np.sign(s["last_grad"])
    steps = s["step_size"]
    return np.clip(np.where(agreement > 0, steps * 1.2, np.where(agreement < 0, steps * 0.5, steps)), 1e-6, 50.0)


RPROP_SIZE = Stage(
    "size",
    "effective_step",
    "step <- step * 1.2 where g has the last gradient's sign, * 0.5 where it flips, kept in [1e-6, 50] (starts at lr)",
    _rprop_step_sizes,
    say="Grow the step where g keeps its sign, shrink it where the sign flips",
    arithmetic="step{at}: {step_before} -> {step} (g = {g}, last g = {g_last})",
    remark="Only the gradient's sign counts, never its size.",
    start=_lr_everywhere,
    also=("step_size",),
)
RPROP_REMEMBER = Stage(
    "remember",
    "last_grad",
    "g_last <- g",
    lambda s, hp, t: s["grad"].copy(),
    say="Keep g for the next update's sign test",
    arithmetic="g_last{at} = {g}",
)
RPROP_MOVE = Stage(
    "move",
    "x",
    "x <- x - sign(g) * step",
    lambda s, hp, t: s["x"] - np.sign(s["grad"]) * s["step_size"],
    say="Move x by sign(g)*step",
    arithmetic="x{at} = {x_before} - sign({g})*{step} = {x}",
)

# -- Adam (Kingma & Ba 2015, beta1 = mu, beta2 = decay): RMSprop plus momentum as an average of gradients (not
# of steps) plus bias correction for buffers that start at zero.

ADAM_MOMENTUM = Stage(
    "momentum",
    "momentum",
    "m <- mu * m + (1 - mu) * g",
    lambda s, hp, t: hp.mu * s["momentum"] + (1 - hp.mu) * s["grad"],
    say="Average the gradient",
    arithmetic="m{at} = {mu}*{m_before} + {1-mu}*{g} = {m}",
    remark="A running mean of g, not of steps.",
)
ADAM_STEP = Stage(
    "step",
    "effective_step",
    "step <- lr / (sqrt(v / (1 - decay^t)) + eps)",
    lambda s, hp, t: hp.lr / (np.sqrt(s["mean_square"] / (1 - hp.decay**t)) + hp.eps),
    say="Step size lr/(sqrt(v/(1-decay^t))+eps)",
    arithmetic="step{at} = {lr}/(sqrt({v}/{1-decay^t})+{eps}) = {step}",
    remark="Dividing by 1-decay^t undoes v's start at 0.",
    start=_lr_over_eps,
)
ADAM_MOVE = Stage(
    "move",
    "x",
    "x <- x - lr * (m / (1 - mu^t)) / (sqrt(v / (1 - decay^t)) + eps)",
    lambda s, hp, t: s["x"] - hp.lr * (s["momentum"] / (1 - hp.mu**t)) / (np.sqrt(s["mean_square"] / (1 - hp.decay**t)) + hp.eps),
    say="Move x by step*m/(1-mu^t)",
    arithmetic="x{at} = {x_before} - {step}*{m}/{1-mu^t} = {x}",
)


@dataclass(frozen=True)
class Optimizer:
    """An update rule: its name and its stages, from which everything else follows."""

    key: str
    label: str
    stages: tuple[Stage, ...]
    buffers: tuple[str, ...] = field(init=False)  # what an update leaves for the next: v, m, ...
    uses: tuple[str, ...] = field(init=False)  # the hyperparameters the formula names

    def __post_init__(self) -> None:
        written = [name for stage in self.stages for name in (stage.writes, *stage.also)]
        if "x" not in written or "effective_step" not in written:
            raise ValueError(f"optimizer {self.key!r} needs a stage that moves x and one that sets effective_step")
        buffers = tuple(dict.fromkeys(name for name in written if name not in ("x", "effective_step")))
        object.__setattr__(self, "buffers", buffers)
        rules = " ".join(stage.rule for stage in self.stages)
        object.__setattr__(self, "uses", tuple(name for name in Hyperparameters.NAMES if re.search(rf"\b{name}\b", rules)))

    @property
    def formula(self) -> str:
        """The rule, one line per stage."""
        return "\n".join(stage.rule for stage in self.stages)

    @property
    def phase_names(self) -> tuple[str, ...]:
        """The narrated phases of one update: the gradient, then one per stage."""
        return (GRADIENT.name, *(stage.name for stage in self.stages))

    def update(self, x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
        """The new x, the new buffers and the per-element step size, after update number t (from 1)."""
        state = {"x": x, "grad": g, **buffers}
        hp = hp.for_update(t)  # a decaying lr schedule, if any
        for stage in self.stages:
            stage.apply(state, hp, t)
        return state["x"], {name: state[name] for name in self.buffers}, state["effective_step"]

    def _start(self, name: str, x: np.ndarray, hp: Hyperparameters) -> np.ndarray:
        start = next((stage.start for stage in self.stages if name in (stage.writes, *stage.also)), None)
        return start(x, hp) if start is not None else np.zeros(x.shape, dtype=float)

    def start_buffers(self, x: np.ndarray, hp: Hyperparameters) -> dict[str, np.ndarray]:
        """Buffers before the first update: zeros, as in the seed, unless a stage starts them otherwise."""
        return {name: self._start(name, x, hp) for name in self.buffers}

    def start_effective_step(self, x: np.ndarray, hp: Hyperparameters) -> np.ndarray:
        """The step size shown before the first update: the one it would take with a zero gradient (lr/eps while v = 0)."""
        return self._start("effective_step", x, hp)


OPTIMIZERS: dict[str, Optimizer] = {
    opt.key: opt
    for opt in (
        Optimizer("gd", "gradient descent", (GD_STEP, GD_MOVE)),
        Optimizer("rmsprop", "rmsprop", (DECAY, ADD, RMS_STEP, RMS_MOVE)),
        Optimizer("rmsprop-momentum", "rmsprop-momentum", (DECAY, ADD, RMS_STEP, RMS_MOMENTUM, MOVE_BY_MOMENTUM)),
        Optimizer("rmsprop-eps-inside", "rmsprop (eps inside sqrt)", (DECAY, ADD, STEP_EPS_INSIDE, MOVE_EPS_INSIDE)),
        Optimizer("rmsprop-centered", "centered rmsprop", (DECAY, ADD, MEAN_GRAD, CENTERED_STEP, CENTERED_MOVE)),
        Optimizer("rprop", "rprop", (RPROP_SIZE, RPROP_REMEMBER, RPROP_MOVE)),
        Optimizer("adam", "adam", (ADAM_MOMENTUM, DECAY, ADD, ADAM_STEP, ADAM_MOVE)),
    )
}

# The seed's three, in the order the race shows them.
SEED_OPTIMIZERS = ("gd", "rmsprop", "rmsprop-momentum")


def get_optimizer(key: str) -> Optimizer:
    """The optimizer called `key`; a ValueError lists the known names."""
    try:
        return OPTIMIZERS[key]
    except KeyError:
        raise ValueError(f"unknown optimizer {key!r}; known: {', '.join(OPTIMIZERS)}") from None

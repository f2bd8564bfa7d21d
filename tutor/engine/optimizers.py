"""Update rules, one function each, with the formula in its docstring.

Each rule takes the current point x, the gradient g at x, the optimizer's buffers
(mean square v, momentum m, ...) and the hyperparameters, and returns the new point,
the new buffers and the effective per-element step size. The arithmetic follows the
seed (`../shared/seed/rmsprop-blog-post.md`) operation for operation, so the last
digit the seed prints comes out the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from tutor.engine.hyper import Hyperparameters

Buffers = Mapping[str, np.ndarray]
UpdateResult = tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]


def gradient_descent(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """x <- x - lr * g

    One learning rate for every element: the effective step is lr everywhere.
    """
    new_x = x - hp.lr * g
    return new_x, {}, np.full(x.shape, hp.lr)


def rmsprop(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """v <- decay * v + (1 - decay) * g^2
    x <- x - lr * g / (sqrt(v) + eps)

    The effective step lr / (sqrt(v) + eps) is small where gradients have been large
    and large where they have been small (Tieleman & Hinton 2012, lecture 6.5).
    """
    v = hp.decay * buffers["mean_square"] + (1 - hp.decay) * g**2
    new_x = x - hp.lr * g / (np.sqrt(v) + hp.eps)
    return new_x, {"mean_square": v}, hp.lr / (np.sqrt(v) + hp.eps)


def rmsprop_momentum(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """v <- decay * v + (1 - decay) * g^2
    m <- mu * m + lr * g / (sqrt(v) + eps)
    x <- x - m

    lr sits inside the momentum buffer, as in the seed and TensorFlow; PyTorch keeps it
    outside (identical while lr is constant).
    """
    v = hp.decay * buffers["mean_square"] + (1 - hp.decay) * g**2
    m = hp.mu * buffers["momentum"] + hp.lr * g / (np.sqrt(v) + hp.eps)
    new_x = x - m
    return new_x, {"mean_square": v, "momentum": m}, hp.lr / (np.sqrt(v) + hp.eps)


def rmsprop_eps_inside(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """v <- decay * v + (1 - decay) * g^2
    x <- x - lr * g / sqrt(v + eps)

    TensorFlow's, Keras' and optax's placement of eps: inside the square root. With a
    tiny eps it barely matters; with eps around 1e-3 the steps differ.
    """
    v = hp.decay * buffers["mean_square"] + (1 - hp.decay) * g**2
    new_x = x - hp.lr * g / np.sqrt(v + hp.eps)
    return new_x, {"mean_square": v}, hp.lr / np.sqrt(v + hp.eps)


def rmsprop_centered(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """v <- decay * v + (1 - decay) * g^2
    gbar <- decay * gbar + (1 - decay) * g
    x <- x - lr * g / (sqrt(max(v - gbar^2, 0)) + eps)

    Graves (2013): divide by an estimate of the gradient's variance rather than its
    raw second moment. Rounding can make v - gbar^2 slightly negative; it is clipped at
    0 here, because sqrt would give NaN (as MXNet users found).
    """
    v = hp.decay * buffers["mean_square"] + (1 - hp.decay) * g**2
    gbar = hp.decay * buffers["mean_grad"] + (1 - hp.decay) * g
    scale = np.sqrt(np.maximum(v - gbar**2, 0.0)) + hp.eps
    new_x = x - hp.lr * g / scale
    return new_x, {"mean_square": v, "mean_grad": gbar}, hp.lr / scale


def rprop(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """step <- step * 1.2 where sign(g) agrees with the last gradient, * 0.5 where it flips
    x <- x - sign(g) * step            (step starts at lr, kept in [1e-6, 50])

    Uses only the sign of the gradient. Hinton's point: on mini-batches this drifts,
    because +0.01 nine times and -0.09 once move a weight nine steps one way and one
    step back, though the gradients average to zero.
    """
    previous = buffers["last_grad"]
    steps = buffers["step_size"]
    agreement = np.sign(g) * np.sign(previous)
    steps = np.where(agreement > 0, steps * 1.2, np.where(agreement < 0, steps * 0.5, steps))
    steps = np.clip(steps, 1e-6, 50.0)
    new_x = x - np.sign(g) * steps
    return new_x, {"last_grad": g.copy(), "step_size": steps}, steps


def adam(x: np.ndarray, g: np.ndarray, buffers: Buffers, hp: Hyperparameters, t: int) -> UpdateResult:
    """m <- mu * m + (1 - mu) * g            v <- decay * v + (1 - decay) * g^2
    x <- x - lr * (m / (1 - mu^t)) / (sqrt(v / (1 - decay^t)) + eps)

    RMSprop plus momentum (as an average of gradients, not of steps) plus bias
    correction for buffers that start at zero (Kingma & Ba 2015, with beta1 = mu and
    beta2 = decay).
    """
    m = hp.mu * buffers["momentum"] + (1 - hp.mu) * g
    v = hp.decay * buffers["mean_square"] + (1 - hp.decay) * g**2
    m_hat = m / (1 - hp.mu**t)
    v_hat = v / (1 - hp.decay**t)
    new_x = x - hp.lr * m_hat / (np.sqrt(v_hat) + hp.eps)
    return new_x, {"mean_square": v, "momentum": m}, hp.lr / (np.sqrt(v_hat) + hp.eps)


@dataclass(frozen=True)
class Optimizer:
    """An update rule with its name, its buffers and how it starts."""

    key: str
    label: str
    update: Callable[[np.ndarray, np.ndarray, Buffers, Hyperparameters, int], UpdateResult]
    buffers: tuple[str, ...]
    uses: tuple[str, ...]  # hyperparameters the rule reads

    @property
    def formula(self) -> str:
        """The rule as its docstring writes it (the lines before the first blank line)."""
        doc = self.update.__doc__ or ""
        return doc.split("\n\n")[0].strip().replace("\n    ", "\n")

    def start_buffers(self, x: np.ndarray, hp: Hyperparameters) -> dict[str, np.ndarray]:
        """Buffers before the first step: zeros, as in the seed (rprop's step sizes start at lr)."""
        start = {name: np.zeros(x.shape, dtype=float) for name in self.buffers}
        if "step_size" in start:
            start["step_size"] = np.full(x.shape, hp.lr)
        return start

    def start_effective_step(self, x: np.ndarray, hp: Hyperparameters) -> np.ndarray:
        """The step size the first update would use if the gradient were zero (v = 0: lr/eps)."""
        if self.key == "gd":
            return np.full(x.shape, hp.lr)
        if self.key == "rprop":
            return np.full(x.shape, hp.lr)
        if self.key == "rmsprop-eps-inside":
            return np.full(x.shape, hp.lr / np.sqrt(hp.eps))
        return np.full(x.shape, hp.lr / hp.eps)


OPTIMIZERS: dict[str, Optimizer] = {
    opt.key: opt
    for opt in (
        Optimizer("gd", "gradient descent", gradient_descent, (), ("lr",)),
        Optimizer("rmsprop", "rmsprop", rmsprop, ("mean_square",), ("lr", "decay", "eps")),
        Optimizer(
            "rmsprop-momentum", "rmsprop+momentum", rmsprop_momentum, ("mean_square", "momentum"), ("lr", "decay", "eps", "mu")
        ),
        Optimizer(
            "rmsprop-eps-inside", "rmsprop (eps inside sqrt)", rmsprop_eps_inside, ("mean_square",), ("lr", "decay", "eps")
        ),
        Optimizer("rmsprop-centered", "centered rmsprop", rmsprop_centered, ("mean_square", "mean_grad"), ("lr", "decay", "eps")),
        Optimizer("rprop", "rprop", rprop, ("last_grad", "step_size"), ("lr",)),
        Optimizer("adam", "adam", adam, ("mean_square", "momentum"), ("lr", "decay", "eps", "mu")),
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

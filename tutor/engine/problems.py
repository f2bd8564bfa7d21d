"""Problems: a loss, its gradient and a start point.

- MatrixInverse: the seed's problem, find X with AX = I by minimising sum((AX - I)^2).
- DeepChain: a chain of layers, for watching gradients vanish or explode.
- Valley and Rosenbrock: two-parameter surfaces, for drawing an optimizer's path.
- MiniBatchNoise: one weight whose mini-batch gradients cancel, for rprop's drift.
- Digits (tutor/engine/digits.py): a multilayer perceptron on the 8x8 handwritten digits, in mini-batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from tutor.engine.digits import Digits
from tutor.engine.errors import ProblemError

# The seed's matrix (In [7] of the blog post).
SEED_A = np.array(
    [
        [2, 5, 1, 4, 6],
        [3, 5, 0, 0, 0],
        [1, 1, 0, 3, 8],
        [6, 6, 2, 2, 1],
        [8, 3, 5, 1, 4],
    ],
    dtype=float,
)

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
VALLEY_STARTS = ("fixed", "turned")


class Problem(Protocol):
    """What every problem is: a frozen dataclass (make_problem and share codes read its fields) with these methods."""

    kind: ClassVar[str]
    view: str  # the visualizer view that draws it: "matrix", "chain" or "surface" (docs/architecture.md)
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __hash__(self) -> int: ...  # frozen: views cache what they draw per problem

    def start(self) -> np.ndarray: ...
    def loss(self, x: np.ndarray) -> float: ...
    def grad(self, x: np.ndarray) -> np.ndarray: ...
    def spec(self) -> dict[str, Any]: ...
    def title(self) -> str: ...


@runtime_checkable
class SurfaceProblem(Problem, Protocol):
    """A two-parameter problem the surface view draws: its loss over a grid of points, and its minimum."""

    def loss_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray: ...
    def minimum(self) -> np.ndarray: ...


@runtime_checkable
class LayeredProblem(Problem, Protocol):
    """A problem made of layers, whose per-layer gradient magnitudes the chain view draws."""

    def layer_gradients(self, x: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class MatrixInverse:
    """F(X) = sum_ij (AX - I)_ij^2,  dF(X) = 2 A^T (AX - I),  X0 = 0 (the seed's problem).

    `variant` picks A: "seed" is the blog post's matrix; "diagonal" has the same singular
    values laid on the diagonal, so every element of X is its own independent problem.
    """

    variant: str = "seed"
    kind: ClassVar[str] = "matrix"
    view = "matrix"  # the visualizer view that draws it; unannotated, so not a dataclass field
    A: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.variant == "seed":
            a = SEED_A.copy()
        elif self.variant == "diagonal":
            a = np.diag(np.linalg.svd(SEED_A, compute_uv=False))
        else:
            raise ProblemError(f"unknown matrix variant {self.variant!r}; known: seed, diagonal")
        object.__setattr__(self, "A", a)

    def start(self) -> np.ndarray:
        return self.A * 0  # as the seed starts: `A * 0`

    def loss(self, x: np.ndarray) -> float:
        residual = self.A @ x - np.eye(len(self.A), dtype=float)
        return float(np.sum(residual**2))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return 2 * self.A.T @ (self.A @ x - np.eye(len(self.A), dtype=float))

    def product(self, x: np.ndarray) -> np.ndarray:
        """A @ X, to set against I."""
        return self.A @ x

    def singular_values(self) -> np.ndarray:
        return np.linalg.svd(self.A, compute_uv=False)

    def stable_lr(self) -> float:
        """Gradient descent diverges above this lr: the curvature along the top singular direction is 2 sigma_max^2."""
        return float(1.0 / self.singular_values()[0] ** 2)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "variant": self.variant}

    def title(self) -> str:
        name = "the seed's A" if self.variant == "seed" else "diagonal A (the seed's singular values)"
        return f"invert {name}: minimise sum((AX - I)^2)"


def _activate(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation and its derivative at z."""
    if name == "linear":
        return z, np.ones_like(z)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s, s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t**2
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    raise ProblemError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class DeepChain:
    """A chain of `depth` one-unit layers: h_0 = input, h_k = act(w * h_{k-1} + b_k).

    Every layer multiplies by the same weight w (`scale`); what learns are the biases
    b_1..b_depth (x, starting at 0). The loss is (h_depth - target)^2. Backpropagation
    gives dF/db_k = dF/dz_k = 2 (h_depth - target) * prod_{j > k} (w act'(z_j)) * act'(z_k):
    one factor w act'(z) per layer above k, so the first layer's gradient shrinks (|w act'| < 1)
    or grows (> 1) geometrically with depth.
    """

    depth: int = 10
    scale: float = 0.5
    activation: str = "linear"
    target: float = 1.0
    input: float = 1.0
    kind: ClassVar[str] = "deep-chain"
    view = "chain"  # the visualizer view that draws it; unannotated, so not a dataclass field

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or not 1 <= self.depth <= 200:
            raise ProblemError(f"depth must be a whole number from 1 to 200, not {self.depth!r}")
        for name in ("scale", "target", "input"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ProblemError(f"{name} must be a finite number, not {value!r}")
        if not abs(self.scale) <= 100:
            raise ProblemError(f"scale must be between -100 and 100, not {self.scale!r}")
        if self.activation not in ACTIVATIONS:
            raise ProblemError(f"unknown activation {self.activation!r}; known: {', '.join(ACTIVATIONS)}")

    def start(self) -> np.ndarray:
        return np.zeros(self.depth, dtype=float)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations h_0..h_depth and derivatives act'(z_1..z_depth)."""
        h = np.empty(self.depth + 1)
        slopes = np.empty(self.depth)
        h[0] = self.input
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(self.depth):
                out, slope = _activate(self.activation, np.asarray(self.scale * h[k] + x[k]))
                h[k + 1] = out
                slopes[k] = slope
        return h, slopes

    def loss(self, x: np.ndarray) -> float:
        h, _ = self.forward(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return float((h[-1] - self.target) ** 2)

    def grad(self, x: np.ndarray) -> np.ndarray:
        h, slopes = self.forward(x)
        g = np.empty(self.depth)
        with np.errstate(over="ignore", invalid="ignore"):
            upstream = 2.0 * (h[-1] - self.target)  # dF/dh_depth
            for k in range(self.depth - 1, -1, -1):
                g[k] = upstream * slopes[k]  # dF/dz_k = dF/db_k
                upstream = g[k] * self.scale  # dF/dh_{k-1}
        return g

    def layer_gradients(self, x: np.ndarray | None = None) -> np.ndarray:
        """|dF/db_k| for k = 1..depth at x (the start if None): the per-layer gradient magnitudes."""
        return np.abs(self.grad(self.start() if x is None else x))

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "depth": self.depth, "scale": self.scale, "activation": self.activation}

    def title(self) -> str:
        return f"deep chain: {self.depth} {self.activation} layers, weight {self.scale:g}"


@dataclass(frozen=True)
class Valley:
    """f(x, y) = 1/2 (u^2 + K v^2),  u = x cos a + y sin a,  v = -x sin a + y cos a.

    A valley whose floor runs at `angle` degrees from the x axis, K = `condition`; minimum 0
    at the origin. `start_point` "fixed" starts at (-3, 1) whatever the angle; "turned" starts
    at u = -3, v = 1, the point (-3, 1) turned with the floor, so every angle is the same
    problem seen from another side (same start loss, same path for gradient descent, turned).
    """

    condition: float = 20.0
    angle: float = 0.0
    start_point: str = "fixed"
    kind: ClassVar[str] = "valley"
    view = "surface"  # the visualizer view that draws it; unannotated, so not a dataclass field

    def __post_init__(self) -> None:
        for name in ("condition", "angle"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ProblemError(f"{name} must be a finite number, not {value!r}")
        if not 1 <= self.condition <= 1e4:
            raise ProblemError(f"condition must be between 1 and 10000, not {self.condition:g}")
        if self.start_point not in VALLEY_STARTS:
            raise ProblemError(f"unknown start_point {self.start_point!r}; known: {', '.join(VALLEY_STARTS)}")

    def _rotation(self) -> tuple[float, float]:
        a = math.radians(self.angle)
        return math.cos(a), math.sin(a)

    def start(self) -> np.ndarray:
        if self.start_point == "fixed":
            return np.array([-3.0, 1.0])
        c, s = self._rotation()
        u, v = -3.0, 1.0
        return np.array([u * c - v * s, u * s + v * c])

    def loss(self, x: np.ndarray) -> float:
        c, s = self._rotation()
        u = x[0] * c + x[1] * s
        v = -x[0] * s + x[1] * c
        return float(0.5 * (u**2 + self.condition * v**2))

    def grad(self, x: np.ndarray) -> np.ndarray:
        c, s = self._rotation()
        u = x[0] * c + x[1] * s
        v = -x[0] * s + x[1] * c
        du, dv = u, self.condition * v
        return np.array([du * c - dv * s, du * s + dv * c])

    def loss_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        c, s = self._rotation()
        u = xs * c + ys * s
        v = -xs * s + ys * c
        return 0.5 * (u**2 + self.condition * v**2)

    def minimum(self) -> np.ndarray:
        return np.zeros(2)

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": self.kind, "condition": self.condition, "angle": self.angle}
        if self.start_point != "fixed":  # the default is left out, so older specs and share codes read the same
            spec["start_point"] = self.start_point
        return spec

    def title(self) -> str:
        return f"valley: condition {self.condition:g}, floor at {self.angle:g} degrees"


@dataclass(frozen=True)
class Rosenbrock:
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2; start (-1.2, 1), minimum 0 at (1, 1)."""

    kind: ClassVar[str] = "rosenbrock"
    view = "surface"  # the visualizer view that draws it; unannotated, so not a dataclass field

    def start(self) -> np.ndarray:
        return np.array([-1.2, 1.0])

    def loss(self, x: np.ndarray) -> float:
        return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])

    def loss_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2

    def minimum(self) -> np.ndarray:
        return np.ones(2)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def title(self) -> str:
        return "rosenbrock: (1 - x)^2 + 100 (y - x^2)^2"


@dataclass(frozen=True)
class MiniBatchNoise:
    """One weight w, trained on mini-batches whose gradients cycle and cancel.

    Mini-batch t's gradient is curvature * w + n_t, where n_t is +size on period - 1
    batches and -(period - 1) * size on the last: Hinton's rprop example (lecture 6.5,
    +0.01 nine times, -0.09 once). The n_t average to zero, so w should stay where it
    starts; the full-batch loss is the shallow bowl 1/2 curvature w^2 (minimum 0 at the start).
    """

    size: float = 0.01
    period: int = 10
    curvature: float = 0.001
    kind: ClassVar[str] = "minibatch"
    view = "matrix"  # the visualizer view that draws it; unannotated, so not a dataclass field

    def __post_init__(self) -> None:
        if isinstance(self.period, bool) or not isinstance(self.period, int) or not 2 <= self.period <= 1000:
            raise ProblemError(f"period must be a whole number from 2 to 1000, not {self.period!r}")
        for name in ("size", "curvature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ProblemError(f"{name} must be a finite number >= 0, not {value!r}")

    def noise(self, step: int) -> float:
        """n_t for the update that starts at `step` (0, 1, ...)."""
        return self.size if step % self.period < self.period - 1 else -(self.period - 1) * self.size

    def start(self) -> np.ndarray:
        return np.zeros(1)

    def loss(self, x: np.ndarray) -> float:
        return float(0.5 * self.curvature * np.sum(x**2))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The full-batch gradient: the mini-batch gradients averaged over a cycle."""
        return self.curvature * x

    def batch_grad(self, x: np.ndarray, step: int) -> np.ndarray:
        """The gradient the update from `step` sees: its mini-batch's."""
        return self.curvature * x + self.noise(step)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size, "period": self.period, "curvature": self.curvature}

    def title(self) -> str:
        rest = self.period - 1
        return f"mini-batches: +{self.size:g} on {rest}, -{rest * self.size:g} on 1, repeating"


def element_label(problem: Problem, flat_index: int, shape: tuple[int, ...]) -> str:
    """`[2,3]` for the element at `flat_index` of x (of `shape`); a network names its layer: `[W3:4,7]`."""
    label = getattr(problem, "element_label", None)
    if label is not None:
        return f"[{label(flat_index)}]"
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]"


def step_gradient(problem: Problem, x: np.ndarray, step: int) -> np.ndarray:
    """The gradient the update from `step` uses: its mini-batch's if the problem has mini-batches."""
    return step_loss_and_gradient(problem, x, step)[1]


def step_loss_and_gradient(problem: Problem, x: np.ndarray, step: int) -> tuple[float | None, np.ndarray]:
    """The gradient the update from `step` uses, and the loss a problem measures on the way (its mini-batch's
    loss at x, for a network: the forward pass computes it anyway); None where the loss is measured after the update."""
    batch_loss_and_grad = getattr(problem, "batch_loss_and_grad", None)
    if batch_loss_and_grad is not None:
        return batch_loss_and_grad(x, step)
    batch_grad = getattr(problem, "batch_grad", None)
    return None, (batch_grad(x, step) if batch_grad is not None else problem.grad(x))


PROBLEM_KINDS: dict[str, type[Problem]] = {
    "matrix": MatrixInverse,
    "deep-chain": DeepChain,
    "valley": Valley,
    "rosenbrock": Rosenbrock,
    "minibatch": MiniBatchNoise,
    "digits": Digits,
}


def make_problem(spec: dict[str, Any] | None = None) -> Problem:
    """Build a problem from a plain description such as {"kind": "deep-chain", "depth": 20}.

    Raises ProblemError with a reason for an unknown kind, an unknown parameter or a bad value.
    """
    spec = dict(spec or {"kind": "matrix"})
    kind = spec.pop("kind", "matrix")
    cls = PROBLEM_KINDS.get(kind)
    if cls is None:
        raise ProblemError(f"unknown problem {kind!r}; known: {', '.join(PROBLEM_KINDS)}")
    allowed = {f for f in cls.__dataclass_fields__ if f not in ("kind", "A")}
    unknown = set(spec) - allowed
    if unknown:
        hint = f"; known: {', '.join(sorted(allowed))}" if allowed else "; it takes none"
        raise ProblemError(f"problem {kind!r} has no parameter {sorted(unknown)[0]!r}{hint}")
    for whole in ("depth", "period", "width", "seed", "batch"):
        if isinstance(spec.get(whole), float) and spec[whole].is_integer():
            spec[whole] = int(spec[whole])
    for name in ("scale", "target", "input", "condition", "angle", "size", "curvature"):
        if isinstance(spec.get(name), int) and not isinstance(spec.get(name), bool):
            spec[name] = float(spec[name])
    try:
        return cls(**spec)
    except TypeError as error:
        raise ProblemError(str(error)) from None

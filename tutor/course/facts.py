"""Numbers lessons quote, computed by the engine when a lesson is loaded.

A lesson writes `{{ final_loss(optimizer="gd", steps=300) | exact }}`; the placeholder
calls the function registered here under that name. Register a fact with `@fact`:
its docstring (first line) is what lessons/README.md lists for teachers, its keyword
arguments are what a placeholder may pass. Results are cached, so quoting the same
number in several lessons costs one computation.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, TypeVar

from tutor.engine import Hyperparameters, Run, make_problem
from tutor.engine.problems import MatrixInverse

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

    cached.cache_clear = cache.clear  # type: ignore[attr-defined]
    FACTS[func.__name__] = cached
    return cached  # type: ignore[return-value]


def hyperparameters(lr: float | None = None, decay: float | None = None, eps: float | None = None, mu: float | None = None) -> Hyperparameters:
    return Hyperparameters.validated(lr=lr, decay=decay, eps=eps, mu=mu)


@functools.lru_cache(maxsize=64)
def _run(problem_key: str, optimizer: str, hp: Hyperparameters, steps: int) -> Run:
    run = Run.create(make_problem(json.loads(problem_key)), optimizer, hp)
    run.goto(steps)
    return run


def run_after(problem: dict[str, Any] | None, optimizer: str, steps: int, hp: Hyperparameters) -> Run:
    """A run of `optimizer` on `problem` (the seed's matrix if None) after `steps` updates; shared, do not step it."""
    return _run(json.dumps(problem or {"kind": "matrix"}, sort_keys=True), optimizer, hp, steps)


@fact
def final_loss(
    optimizer: str = "rmsprop",
    steps: int = 300,
    problem: dict[str, Any] | None = None,
    lr: float | None = None,
    decay: float | None = None,
    eps: float | None = None,
    mu: float | None = None,
) -> float:
    """The loss after `steps` updates of `optimizer` (on the seed's matrix unless `problem` is given)."""
    return run_after(problem, optimizer, steps, hyperparameters(lr, decay, eps, mu)).current.loss


@fact
def stable_lr(variant: str = "seed") -> float:
    """1/sigma_max(A)^2: the largest lr for which gradient descent on the matrix problem converges."""
    return MatrixInverse(variant=variant).stable_lr()

"""A fair race: each optimizer at its own best learning rate.

Comparing optimizers at one shared lr favours whichever that lr suits. `best_lr` tries every lr of
`LR_GRID` (log-spaced, 1-3-10 per decade) for `steps` updates and keeps the one with the best score:

- the digits network: the **test loss** after `steps` updates (the mean cross-entropy on the 360
  test images no update has seen; test accuracy is reported beside it);
- every other problem: the loss after `steps` updates.

A run that diverges scores inf; ties go to the smaller lr. A sweep of the digits network takes
seconds, so results are kept in memory and, given a folder, in a JSON file there, keyed by
everything the result depends on, the engine's own source included: a changed engine recomputes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from tutor.engine.hyper import Hyperparameters
from tutor.engine.problems import make_problem
from tutor.engine.run import Run

LR_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
ENGINE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Score:
    lr: float
    score: float  # lower is better: the test loss (digits) or the loss
    accuracy: float | None  # the digits network's test accuracy, else None


@dataclass(frozen=True)
class RaceResult:
    optimizer: str
    steps: int
    measure: str  # what `score` is, in words
    scores: tuple[Score, ...]  # one per lr of the grid, in grid order

    @property
    def best(self) -> Score:
        return min(self.scores, key=lambda s: (s.score, s.lr))

    @property
    def lr(self) -> float:
        return self.best.lr


def score_run(run: Run) -> Score:
    """How well a run did where it stands: its test loss and accuracy (a network) or its loss."""
    record = run.current
    evaluate = getattr(run.problem, "evaluate", None)
    if evaluate is not None:
        loss, accuracy = evaluate(record.x)
        return Score(run.hp.lr, loss if math.isfinite(loss) else math.inf, accuracy)
    return Score(run.hp.lr, record.loss if math.isfinite(record.loss) else math.inf, None)


def best_lr(
    spec: dict[str, Any],
    optimizer: str,
    steps: int,
    hp: Hyperparameters | None = None,
    grid: tuple[float, ...] = LR_GRID,
    cache_dir: Path | None = None,
) -> RaceResult:
    """`optimizer`'s best lr of `grid` on the problem `spec` after `steps` updates (hp's other values kept)."""
    problem = make_problem(spec)
    hp = hp or Hyperparameters()
    key = json.dumps(
        {"problem": problem.spec(), "optimizer": optimizer, "steps": steps, "hp": hp.as_dict(), "grid": list(grid)},
        sort_keys=True,
    )
    return _best_lr(key, None if cache_dir is None else str(cache_dir))


@cache
def _best_lr(key: str, cache_dir: str | None) -> RaceResult:
    path = None if cache_dir is None else Path(cache_dir) / f"best-lr-{_digest(key)}.json"
    if path is not None:
        kept = _read(path, key)
        if kept is not None:
            return kept
    task = json.loads(key)
    problem = make_problem(task["problem"])
    hp = Hyperparameters(**task["hp"])
    scores = []
    for lr in task["grid"]:
        run = Run.create(problem, task["optimizer"], replace(hp, lr=lr))
        run.goto(task["steps"])
        scores.append(score_run(run))
    measure = "test loss" if hasattr(problem, "evaluate") else "loss"
    result = RaceResult(task["optimizer"], task["steps"], f"{measure} after {task['steps']} updates", tuple(scores))
    if path is not None:
        _write(path, key, result)
    return result


@cache
def _engine_fingerprint() -> str:
    """A digest of the engine's source: results computed by another engine are not reused."""
    digest = hashlib.sha256()
    for source in sorted(ENGINE.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _digest(key: str) -> str:
    return hashlib.sha256((_engine_fingerprint() + key).encode()).hexdigest()[:24]


def _read(path: Path, key: str) -> RaceResult | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["key"] != key or data["engine"] != _engine_fingerprint():
            return None
        scores = tuple(Score(float(s["lr"]), float(s["score"]), s["accuracy"]) for s in data["scores"])
        return RaceResult(data["optimizer"], int(data["steps"]), data["measure"], scores)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, damaged or from elsewhere: recomputed


def _write(path: Path, key: str, result: RaceResult) -> None:
    data = {
        "key": key,
        "engine": _engine_fingerprint(),
        "optimizer": result.optimizer,
        "steps": result.steps,
        "measure": result.measure,
        "scores": [
            {"lr": s.lr, "score": s.score if math.isfinite(s.score) else "inf", "accuracy": s.accuracy} for s in result.scores
        ],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(path)  # whole or not at all, even with two processes at once
    except OSError:
        pass  # a read-only cache only costs the recomputation

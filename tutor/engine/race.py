"""A fair race: each optimizer at its own best learning rate.

Comparing optimizers at one shared lr favours whichever that lr suits. `best_lr` tries every lr of
`LR_GRID` (log-spaced, 1-3-10 per decade) for `steps` updates and keeps the one with the best score:

- the digits network: the **test loss** after `steps` updates (the mean cross-entropy on the 360
  test images no update has seen; test accuracy is reported beside it);
- every other problem: the loss after `steps` updates.

A run that diverges scores inf; ties go to the smaller lr. A sweep of the digits network takes
half a minute, so results are kept in memory and, given a folder, in a JSON file there, keyed by
everything the result depends on and by the engine's behaviour (`_engine_fingerprint`: a few updates
of every optimizer, bit for bit): an engine whose numbers changed recomputes.

Sweeps the lessons quote can ship inside tutor, so a fresh install opens them at once: write them
with `best_lr(spec, optimizer, steps, cache_dir=SHIPPED)` and commit tutor/engine/data/best-lr/.
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
from tutor.engine.optimizers import OPTIMIZERS
from tutor.engine.problems import make_problem
from tutor.engine.run import Run

LR_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
SHIPPED = Path(__file__).resolve().parent / "data" / "best-lr"  # read first, written only on purpose
RACE_VERSION = "1"  # change it when what a sweep measures changes (the score, the grid's use): old results go


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
    key = _key(spec, optimizer, steps, hp or Hyperparameters(), grid)
    return _best_lr(key, None if cache_dir is None else str(cache_dir))


def ships_with_tutor(
    spec: dict[str, Any], optimizer: str, steps: int, hp: Hyperparameters | None = None, grid: tuple[float, ...] = LR_GRID
) -> bool:
    """Whether best_lr's answer for these arguments is one of the sweeps tutor ships (reading it costs no engine work).

    Matched by key alone: checking the engine's fingerprint would cost a tenth of a second of updates on every
    launch, and tests/test_race.py keeps the shipped sweeps current for this engine."""
    return _key(spec, optimizer, steps, hp or Hyperparameters(), grid) in _shipped_keys()


@cache
def _shipped_keys() -> frozenset[str]:
    keys = set()
    for path in SHIPPED.glob("best-lr-*.json"):
        try:
            keys.add(json.loads(path.read_text(encoding="utf-8"))["key"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # damaged: not shipped
    return frozenset(keys)


def _key(spec: dict[str, Any], optimizer: str, steps: int, hp: Hyperparameters, grid: tuple[float, ...]) -> str:
    return json.dumps(
        {"problem": make_problem(spec).spec(), "optimizer": optimizer, "steps": steps, "hp": hp.as_dict(), "grid": list(grid)},
        sort_keys=True,
    )


@cache
def _best_lr(key: str, cache_dir: str | None) -> RaceResult:
    name = f"best-lr-{_digest(key)}.json"
    path = None if cache_dir is None else Path(cache_dir) / name
    for folder in (SHIPPED, None if cache_dir is None else Path(cache_dir)):
        kept = None if folder is None else _read(folder / name, key)
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
    """A digest of what the engine computes (5 updates of every optimizer on a small digits network and on the
    seed's matrix) and of RACE_VERSION: results of an engine that computes otherwise are not reused."""
    digest = hashlib.sha256(RACE_VERSION.encode())
    for spec in ({"kind": "digits", "depth": 2, "width": 4, "batch": 7}, {"kind": "matrix"}):
        problem = make_problem(spec)
        for optimizer in OPTIMIZERS:
            record = Run.create(problem, optimizer, Hyperparameters(lr=0.01)).goto(5)
            digest.update(record.x.tobytes() + repr(record.loss).encode())
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

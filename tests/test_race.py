"""The fair race: each optimizer's best lr of a grid, by a stated measure, cached on disk."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tutor.engine import Hyperparameters, Run, make_problem, race

GRID = (1e-3, 1e-2, 0.1)
SMALL_NET = {"kind": "digits", "depth": 1, "width": 8, "batch": 64}


def test_the_best_lr_is_the_grid_point_with_the_lowest_final_loss() -> None:
    result = race.best_lr({"kind": "matrix"}, "gd", 100, grid=GRID)
    by_hand = {lr: Run.create(make_problem({"kind": "matrix"}), "gd", Hyperparameters(lr=lr)).goto(100).loss for lr in GRID}
    assert [s.score for s in result.scores] == [by_hand[lr] if math.isfinite(by_hand[lr]) else math.inf for lr in GRID]
    assert result.lr == min(GRID, key=lambda lr: by_hand[lr] if math.isfinite(by_hand[lr]) else math.inf)
    assert result.measure == "loss after 100 updates"
    assert math.isinf(result.scores[-1].score)  # lr 0.1 diverges on the seed's matrix: scored inf, never best


def test_on_the_digits_network_the_measure_is_the_test_loss() -> None:
    result = race.best_lr(SMALL_NET, "rmsprop", 20, grid=GRID)
    problem = make_problem(SMALL_NET)
    run = Run.create(problem, "rmsprop", Hyperparameters(lr=result.lr)).goto(20)
    assert (result.best.score, result.best.accuracy) == problem.evaluate(run.x)
    assert result.measure == "test loss after 20 updates"
    assert 0 <= result.best.accuracy <= 1


def test_a_result_is_read_back_from_the_cache_folder_without_recomputing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = race.best_lr(SMALL_NET, "gd", 10, grid=GRID, cache_dir=tmp_path)
    [file] = tmp_path.glob("best-lr-*.json")
    race._best_lr.cache_clear()  # as a new process would start

    def no_runs(*args: object, **kwargs: object) -> None:
        raise AssertionError("recomputed")

    monkeypatch.setattr(race.Run, "create", no_runs)
    assert race.best_lr(SMALL_NET, "gd", 10, grid=GRID, cache_dir=tmp_path) == first
    race._best_lr.cache_clear()
    file.write_text("{damaged", encoding="utf-8")
    monkeypatch.undo()
    assert race.best_lr(SMALL_NET, "gd", 10, grid=GRID, cache_dir=tmp_path) == first  # recomputed, rewritten
    assert file.read_text(encoding="utf-8").startswith('{"key"')


def test_the_lessons_facts_on_the_digits_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.course import cache, facts

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    small = dict(SMALL_NET)
    assert facts.best_lr(problem=small, optimizer="rmsprop", steps=10) == race.best_lr(small, "rmsprop", 10).lr
    assert list(tmp_path.glob("best-lr-*.json"))
    assert 0 <= facts.best_lr_accuracy(problem=small, optimizer="rmsprop", steps=10) <= 1
    # the default network: 6 sigmoid layers; its first layer's gradient is orders of magnitude below the output's
    assert facts.layer_gradient_ratio() > 1000
    assert facts.layer_gradient(layer="out") / facts.layer_gradient(layer=1) == facts.layer_gradient_ratio()
    with pytest.raises(ValueError, match="no layer 9; the layers are 1, 2, 3, 4, 5, 6, out"):
        facts.layer_gradient(layer=9)


def test_a_shipped_result_is_read_first_and_one_from_another_engine_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(race, "SHIPPED", tmp_path / "shipped")
    race._best_lr.cache_clear()
    shipped = race.best_lr(SMALL_NET, "rmsprop", 5, grid=GRID, cache_dir=race.SHIPPED)
    [file] = (tmp_path / "shipped").glob("best-lr-*.json")
    race._best_lr.cache_clear()
    monkeypatch.setattr(race.Run, "create", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    assert race.best_lr(SMALL_NET, "rmsprop", 5, grid=GRID, cache_dir=tmp_path / "user") == shipped
    monkeypatch.undo()
    monkeypatch.setattr(race, "SHIPPED", tmp_path / "shipped")
    race._best_lr.cache_clear()
    race._engine_fingerprint.cache_clear()
    monkeypatch.setattr(race, "_engine_fingerprint", lambda: "another engine")
    assert race._read(file, json.loads(file.read_text())["key"]) is None  # computed by another engine: not reused


def test_the_shipped_sweeps_are_this_engines() -> None:
    """Lessons open at once with these; if the engine's numbers changed on purpose, recompute them (a few minutes):
    delete tutor/engine/data/best-lr/*.json and run race.best_lr(spec, optimizer, steps, cache_dir=race.SHIPPED)."""
    files = sorted(race.SHIPPED.glob("best-lr-*.json"))
    assert files
    for file in files:
        data = json.loads(file.read_text(encoding="utf-8"))
        assert race._read(file, data["key"]) is not None, f"{file.name} was computed by an engine that computes otherwise"
        assert file.name == f"best-lr-{race._digest(data['key'])}.json"

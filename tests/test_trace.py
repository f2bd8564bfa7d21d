"""`tutor trace` against the seed's formulas, step by step, in both formats."""

import csv
import io
import json

import numpy as np
import pytest

from tutor.cli import main
from tutor.engine.problems import SEED_A


def seed_loop(optimizer: str, steps: int, lr=0.001, decay=0.9, eps=1e-8, mu=0.9):
    """The seed's three loops (In [2]-[4]) with every quantity recorded per step."""
    A = SEED_A
    x = A * 0
    v = np.zeros(x.shape)
    m = np.zeros(x.shape)
    rows = []
    for step in range(1, steps + 1):
        dx = 2 * A.T @ (A @ x - np.eye(len(A), dtype=float))
        if optimizer == "gd":
            x -= lr * dx
            v_row, step_row, m_row = None, np.full(x.shape, lr), None
        else:
            v = decay * v + (1 - decay) * dx**2
            step_row = lr / (np.sqrt(v) + eps)
            if optimizer == "rmsprop":
                x -= lr * dx / (np.sqrt(v) + eps)
                m_row = None
            else:
                m = mu * m + lr * dx / (np.sqrt(v) + eps)
                x -= m
                m_row = m.copy()
            v_row = v.copy()
        loss = np.sum((A @ x - np.eye(len(A), dtype=float)) ** 2)
        rows.append(
            {
                "step": step,
                "loss": loss,
                "x": x.copy(),
                "grad": dx,
                "mean_square": v_row,
                "effective_step": step_row,
                "momentum": m_row,
            }
        )
    return rows


def check_rows(traced: list[dict], expected: list[dict]) -> None:
    assert [row["step"] for row in traced] == [row["step"] for row in expected]
    for got, want in zip(traced, expected, strict=True):
        assert got["loss"] == want["loss"]  # bit for bit: the same operations in the same order
        for name in ("x", "grad", "mean_square", "momentum"):
            if want[name] is None:
                assert got[name] is None, name
            else:
                assert np.array_equal(np.array(got[name]), want[name]), (name, got["step"])
        assert np.allclose(np.array(got["effective_step"]), want["effective_step"], rtol=1e-15, atol=0)


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop", "rmsprop-momentum"])
def test_jsonl_trace_equals_the_seed_formulas_step_by_step(optimizer, capsys):
    assert main(["trace", "--optimizer", optimizer, "--steps", "40", "--lr", "0.002", "--decay", "0.85"]) == 0
    traced = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    check_rows(traced, seed_loop(optimizer, 40, lr=0.002, decay=0.85))


def test_csv_trace_equals_the_seed_formulas_step_by_step(capsys):
    assert main(["trace", "--optimizer", "rmsprop-momentum", "--steps", "25", "--format", "csv"]) == 0
    reader = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert reader.fieldnames == ["step", "loss", "x", "grad", "mean_square", "effective_step", "momentum"]
    traced = [
        {"step": int(r["step"]), "loss": float(r["loss"])}
        | {k: (json.loads(r[k]) if r[k] else None) for k in ("x", "grad", "mean_square", "effective_step", "momentum")}
        for r in reader
    ]
    check_rows(traced, seed_loop("rmsprop-momentum", 25))


def test_300_step_trace_ends_at_the_seed_loss(capsys):
    assert main(["trace", "--optimizer", "gd", "--steps", "300"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["step"] == 300 and last["loss"] == pytest.approx(0.5469198476714346, rel=1e-9)


def test_trace_help_writes_out_each_optimizers_formula(capsys):
    from tutor.engine import OPTIMIZERS

    with pytest.raises(SystemExit):
        main(["trace", "--help"])
    out = capsys.readouterr().out
    for key, optimizer in OPTIMIZERS.items():
        assert f"{key}:\n  " + optimizer.formula.replace("\n", "\n  ") in out
    assert "  x <- x - lr * g / (sqrt(v) + eps)\n" in out

"""`tutor trace`: a run's records as JSON lines or CSV, one line per step."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from tutor.engine import Record, Run

FIELDS = ("step", "loss", "x", "grad", "mean_square", "effective_step", "momentum")


def _plain(value: Any) -> Any:
    """numpy arrays to nested lists; non-finite numbers (an overflowed run) to None, so the output is strict JSON."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    value = float(value)
    return value if math.isfinite(value) else None


def record_row(record: Record) -> dict[str, Any]:
    return {
        "step": record.step,
        "loss": _plain(record.loss),
        "x": _plain(record.x),
        "grad": _plain(record.grad),
        "mean_square": _plain(record.mean_square),
        "effective_step": _plain(record.effective_step),
        "momentum": _plain(record.momentum),
    }


def rows(run: Run, steps: int) -> Iterator[dict[str, Any]]:
    """Records 1..steps (each the state after that many updates)."""
    for _ in range(steps):
        yield record_row(run.forward())


def write(run: Run, steps: int, out: IO[str], fmt: str = "jsonl") -> None:
    if fmt == "jsonl":
        for row in rows(run, steps):
            out.write(json.dumps(row, allow_nan=False) + "\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows(run, steps):
        writer.writerow(
            [row["step"], "" if row["loss"] is None else repr(row["loss"])]
            + ["" if row[name] is None else json.dumps(row[name], allow_nan=False) for name in FIELDS[2:]]
        )

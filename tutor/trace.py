"""`tutor trace`: a run's records as JSON lines or CSV, one line per step.

A network (the digits problem) is traced layer by layer, so it can be replayed elsewhere:
step 0 holds the options and the initial parameters, each later line the rows of its
mini-batch, that batch's loss at the parameters the update started from, the parameters
after it and the optimizer's buffers. `W` is a nested list of shape inputs x outputs.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from tutor.engine import Record, Run
from tutor.engine.digits import as_network

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


def by_layer(run: Run, flat: np.ndarray) -> dict[str, dict[str, Any]]:
    """A network's flat parameter-shaped array as {layer: {"W": inputs x outputs, "b": outputs}}."""
    return {layer.name: {"W": _plain(layer.W(flat)), "b": _plain(layer.b(flat))} for layer in as_network(run.problem).layers}


def network_rows(run: Run, steps: int) -> Iterator[dict[str, Any]]:
    start = run.records[0]
    yield {
        "step": 0,
        "problem": run.problem.spec(),
        "optimizer": run.optimizer.key,
        "hp": run.hp.as_dict(),
        "loss": _plain(start.loss),  # the whole training set's, at the start
        "params": by_layer(run, start.x),
    }
    for _ in range(steps):
        before = run.current.step
        record = run.forward()
        yield {
            "step": record.step,
            "batch": as_network(run.problem).batch_rows(before).tolist(),
            "loss": _plain(record.loss),  # the batch's, at the parameters the update started from
            "params": by_layer(run, record.x),
            "buffers": {name: by_layer(run, values) for name, values in record.buffers.items()},
        }


def is_network(run: Run) -> bool:
    return hasattr(run.problem, "layers")


def rows(run: Run, steps: int) -> Iterator[dict[str, Any]]:
    """Records 1..steps (each the state after that many updates); a network's from step 0, by layer."""
    if is_network(run):
        yield from network_rows(run, steps)
        return
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

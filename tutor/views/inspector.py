"""The element inspector: one element's last update written out with its numbers."""

from __future__ import annotations

import numpy as np

from tutor.engine import Run
from tutor.views import format as fmt


def _n(value: float) -> str:
    text = fmt.number(value, 4)
    return f"({text})" if text.startswith("-") else text


def element_update(run: Run, flat_index: int) -> list[str]:
    """Lines such as `v[2,3] = 0.9*0.0123 + 0.1*(-0.45)^2 = 0.0313` for the update that
    produced the current step, at the element with flat index `flat_index`."""
    record = run.current
    shape = record.x.shape
    flat_index = int(np.clip(flat_index, 0, record.x.size - 1))
    where = fmt.index_label(tuple(int(i) for i in np.unravel_index(flat_index, shape)))
    if record.step == 0 or record.grad is None:
        return [f"x{where} = {_n(record.x.flat[flat_index])}: no update yet. Step once (space) to see its arithmetic."]
    previous = run.records[record.step - 1]
    hp = record.hp
    g = float(record.grad.flat[flat_index])
    x0 = float(previous.x.flat[flat_index])
    x1 = float(record.x.flat[flat_index])
    lines = [f"g{where} = {_n(g)}  (the gradient at step {previous.step})"]
    key = run.optimizer.key
    if key == "gd":
        lines.append(f"x{where} = {_n(x0)} - {fmt.hyper(hp.lr)}*{_n(g)} = {_n(x1)}")
        return lines
    if key in ("rmsprop", "rmsprop-momentum") and record.mean_square is not None and previous.mean_square is not None:
        v0 = float(previous.mean_square.flat[flat_index])
        v1 = float(record.mean_square.flat[flat_index])
        step = float(record.effective_step.flat[flat_index])
        lines.append(f"v{where} = {fmt.hyper(hp.decay)}*{_n(v0)} + {fmt.hyper(1 - hp.decay)}*{_n(g)}^2 = {_n(v1)}")
        lines.append(f"step{where} = {fmt.hyper(hp.lr)}/(sqrt({_n(v1)})+{fmt.hyper(hp.eps)}) = {_n(step)}")
        if key == "rmsprop":
            lines.append(f"x{where} = {_n(x0)} - {_n(step)}*{_n(g)} = {_n(x1)}")
        else:
            m0 = float(previous.momentum.flat[flat_index]) if previous.momentum is not None else 0.0
            m1 = float(record.momentum.flat[flat_index]) if record.momentum is not None else 0.0
            lines.append(f"m{where} = {fmt.hyper(hp.mu)}*{_n(m0)} + {_n(step)}*{_n(g)} = {_n(m1)}")
            lines.append(f"x{where} = {_n(x0)} - {_n(m1)} = {_n(x1)}")
        return lines
    step = float(record.effective_step.flat[flat_index])
    lines.append(f"effective step{where} = {_n(step)}")
    lines.append(f"x{where}: {_n(x0)} -> {_n(x1)}")
    return lines

"""The element inspector: one element's last update (or the narrated update so far) written out with its numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tutor.engine import Run
from tutor.engine.phases import Phase
from tutor.views import format as fmt


def _n(value: float) -> str:
    text = fmt.number(value, 4)
    return f"({text})" if text.startswith("-") else text


def element_where(run: Run, flat_index: int, shape: tuple[int, ...]) -> str:
    """`[2,3]` for a matrix element; a network names its layer: `[W3:4,7]`."""
    label = getattr(run.problem, "element_label", None)
    if label is not None:
        return f"[{label(flat_index)}]"
    return fmt.index_label(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def element_update(run: Run, flat_index: int) -> list[str]:
    """Lines such as `v[2,3] = 0.9*0.0123 + 0.1*(-0.45)^2 = 0.0313` for the update that
    produced the current step, at the element with flat index `flat_index`."""
    record = run.current
    flat_index = int(np.clip(flat_index, 0, record.x.size - 1))
    where = element_where(run, flat_index, record.x.shape)
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


def phase_update(run: Run, phases: Sequence[Phase], index: int, flat_index: int) -> list[str]:
    """The arithmetic of a narrated update so far, phase by phase up to `phases[index]`, at one element.

    Lines such as `v[2,3] = 0.9*0.0123 = 0.0111` (decay), then `v[2,3] = 0.0111 + 0.1*(-0.45)^2 = 0.0313`
    (add): each with the numbers the phases' arrays hold, so the inspector agrees with the grids mid-update.
    """
    start = phases[0].arrays  # the gradient phase: x, v and m are still those before the update
    size = start["x"].size
    flat_index = int(np.clip(flat_index, 0, size - 1))
    where = element_where(run, flat_index, start["x"].shape)
    hp, key = run.hp, run.optimizer.key

    def at(arrays: Mapping[str, np.ndarray], name: str) -> float:
        return float(arrays[name].flat[flat_index])

    lines: list[str] = []
    before = start
    for phase in phases[: index + 1]:
        now = phase.arrays
        g = at(now, "grad")
        if phase.name == "gradient":
            lines.append(f"g{where} = {_n(g)}  (the gradient at x{where} = {_n(at(now, 'x'))})")
        elif phase.name == "decay":
            lines.append(f"v{where} = {fmt.hyper(hp.decay)}*{_n(at(before, 'mean_square'))} = {_n(at(now, 'mean_square'))}")
        elif phase.name == "add":
            lines.append(
                f"v{where} = {_n(at(before, 'mean_square'))} + {fmt.hyper(1 - hp.decay)}*{_n(g)}^2 = {_n(at(now, 'mean_square'))}"
            )
        elif phase.name == "step":
            lines.append(
                f"step{where} = {fmt.hyper(hp.lr)}/(sqrt({_n(at(now, 'mean_square'))})+{fmt.hyper(hp.eps)}) = "
                f"{_n(at(now, 'effective_step'))}"
            )
        elif phase.name == "momentum":
            lines.append(
                f"m{where} = {fmt.hyper(hp.mu)}*{_n(at(before, 'momentum'))} + {_n(at(now, 'effective_step'))}*{_n(g)} = "
                f"{_n(at(now, 'momentum'))}"
            )
        elif phase.name == "move":
            x0, x1 = at(start, "x"), at(now, "x")
            if key == "gd":
                lines.append(f"x{where} = {_n(x0)} - {fmt.hyper(hp.lr)}*{_n(g)} = {_n(x1)}")
            elif key == "rmsprop":
                lines.append(f"x{where} = {_n(x0)} - {_n(at(now, 'effective_step'))}*{_n(g)} = {_n(x1)}")
            elif key == "rmsprop-momentum":
                lines.append(f"x{where} = {_n(x0)} - {_n(at(now, 'momentum'))} = {_n(x1)}")
            else:
                lines.append(f"effective step{where} = {_n(at(now, 'effective_step'))}")
                lines.append(f"x{where}: {_n(x0)} -> {_n(x1)}")
        before = now
    return lines

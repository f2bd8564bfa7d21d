"""The element inspector: one element's last update (or the narrated update so far) written out with its numbers.

Each line is a stage's arithmetic template (engine/optimizers.py) filled with the element's numbers, so the
inspector says what the engine computed, stage by stage, and agrees with the grids mid-update.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

import numpy as np

from tutor.engine import Run
from tutor.engine.arithmetic import DIGITS, arithmetic_line
from tutor.engine.optimizers import combined_arithmetic
from tutor.engine.phases import Phase, update_phases
from tutor.engine.problems import element_label
from tutor.views import format as fmt


def _n(value: float, digits: int = DIGITS) -> str:
    text = fmt.number(value, digits)
    return f"({text})" if text.startswith("-") else text


def element_update(run: Run, flat_index: int) -> list[str]:
    """Lines such as `v[2,3] = 0.9*0.0123 + 0.1*(-0.45)^2 = 0.0313` for the update that produced the current
    step, at the element with flat index `flat_index`: one per quantity the update set, in the order it set them."""
    record = run.current
    flat_index = int(np.clip(flat_index, 0, record.x.size - 1))
    if record.step == 0 or record.grad is None:
        where = element_label(run.problem, flat_index, record.x.shape)
        return [f"x{where} = {_n(record.x.flat[flat_index])}: no update yet. Press space for one to see its arithmetic."]
    # The update's stages are replayed from the step before with the gradient and values it used: they are the
    # engine's own, so the numbers are the record's bit for bit.
    phases = update_phases(run.problem, run.optimizer, run.records[record.step - 1], record.hp, grad=record.grad)
    where = element_label(run.problem, flat_index, record.x.shape)
    lines = []
    for _, group in groupby(phases, key=lambda phase: phase.stage.writes):  # decay and add: one line for v
        run_of = tuple(group)
        last = run_of[-1]
        template = combined_arithmetic(tuple(phase.stage for phase in run_of))
        lines.append(arithmetic_line(template, run_of[0].before, last.arrays, last.hp, last.t, flat_index, where, _n))
    return lines


def phase_update(run: Run, phases: Sequence[Phase], index: int, flat_index: int) -> list[str]:
    """The arithmetic of a narrated update so far, phase by phase up to `phases[index]`, at one element.

    Lines such as `v[2,3] = 0.9*0.0123 = 0.0111` (decay), then `v[2,3] = 0.0111 + 0.1*(-0.45)^2 = 0.0313`
    (add): each with the numbers the phases' arrays hold.
    """
    flat_index = int(np.clip(flat_index, 0, phases[0].arrays["x"].size - 1))
    return [phase.arithmetic(flat_index, _n) for phase in phases[: index + 1]]

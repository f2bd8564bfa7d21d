"""The element inspector: one element's last update (or the narrated update so far) written out with its numbers.

Each line is a stage's arithmetic template (engine/optimizers.py) filled with the element's numbers, so the
inspector says what the engine computed, stage by stage, and agrees with the grids mid-update.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import groupby

import numpy as np

from tutor.engine import Run
from tutor.engine.optimizers import SYMBOLS, combined_arithmetic, fill
from tutor.engine.phases import Phase, update_phases
from tutor.engine.problems import element_label
from tutor.views import format as fmt

DIGITS = 4  # significant digits of the inspector's numbers, more where an update cancels


def _n(value: float, digits: int = DIGITS) -> str:
    text = fmt.number(value, digits)
    return f"({text})" if text.startswith("-") else text


def _numbers_for(
    template: str, before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], writes: str, element: int
) -> Callable[[float], str]:
    """How a line's numbers are written: with four significant digits, or more where the line's result is far
    smaller than the value it starts from (x = (-9e-05) - 0.001*(-0.09) cancels): one more per factor of ten,
    so the printed result follows from the printed operands. The result itself keeps four."""
    if "{" + SYMBOLS[writes] + "_before}" not in template:
        return _n
    start, result = abs(float(before[writes].flat[element])), abs(float(after[writes].flat[element]))
    if not (math.isfinite(start) and math.isfinite(result)) or start <= 2 * result:
        return _n
    digits = min(DIGITS + (17 if result == 0 else math.ceil(math.log10(start / result))), 17)
    return lambda value: _n(value, DIGITS if abs(value) == result else digits)


def element_update(run: Run, flat_index: int) -> list[str]:
    """Lines such as `v[2,3] = 0.9*0.0123 + 0.1*(-0.45)^2 = 0.0313` for the update that produced the current
    step, at the element with flat index `flat_index`: one per quantity the update set, in the order it set them."""
    record = run.current
    flat_index = int(np.clip(flat_index, 0, record.x.size - 1))
    if record.step == 0 or record.grad is None:
        where = element_label(run.problem, flat_index, record.x.shape)
        return [f"x{where} = {_n(record.x.flat[flat_index])}: no update yet. Step once (space) to see its arithmetic."]
    # The update's stages are replayed from the step before with the gradient and values it used: they are the
    # engine's own, so the numbers are the record's bit for bit.
    phases = update_phases(run.problem, run.optimizer, run.records[record.step - 1], record.hp, grad=record.grad)
    where = element_label(run.problem, flat_index, record.x.shape)
    lines = []
    for _, group in groupby(phases, key=lambda phase: phase.stage.writes):  # decay and add: one line for v
        run_of = tuple(group)
        last = run_of[-1]
        template = combined_arithmetic(tuple(phase.stage for phase in run_of))
        number = _numbers_for(template, run_of[0].before, last.arrays, last.stage.writes, flat_index)
        lines.append(fill(template, run_of[0].before, last.arrays, last.hp, last.t, flat_index, where, number))
    return lines


def phase_update(run: Run, phases: Sequence[Phase], index: int, flat_index: int) -> list[str]:
    """The arithmetic of a narrated update so far, phase by phase up to `phases[index]`, at one element.

    Lines such as `v[2,3] = 0.9*0.0123 = 0.0111` (decay), then `v[2,3] = 0.0111 + 0.1*(-0.45)^2 = 0.0313`
    (add): each with the numbers the phases' arrays hold.
    """
    flat_index = int(np.clip(flat_index, 0, phases[0].arrays["x"].size - 1))
    return [
        phase.arithmetic(
            flat_index, _numbers_for(phase.stage.arithmetic, phase.before, phase.arrays, phase.stage.writes, flat_index)
        )
        for phase in phases[: index + 1]
    ]

"""One update taken apart: the phases a learner steps through by hand.

For RMSprop: compute the gradient, decay v, add (1 - decay) g^2, compute the step
lr / (sqrt(v) + eps), move x (with momentum: update m, then move x). Each phase is a
small record with one sentence of narration about one element and the arrays after that
phase. The arithmetic repeats the optimizer's operation for operation, so the last phase's
arrays equal the engine's next record bit for bit (tests/test_phases.py checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tutor.engine.problems import step_loss_and_gradient
from tutor.engine.run import Run


@dataclass(frozen=True, eq=False)
class Phase:
    """The state after one part of an update.

    `arrays` holds x, grad, effective_step and the optimizer's buffers (mean_square,
    momentum, ...) as they stand after this phase; `highlight` names the quantity it changed; `loss` is set on the last phase
    only (the update is complete there).
    """

    name: str
    narration: str
    arrays: Mapping[str, np.ndarray]
    highlight: str
    loss: float | None = None


def _num(value: float) -> str:
    """Numbers in narration: short, and negative ones in brackets so `-` reads as an operation."""
    text = f"{float(value):.4g}"
    return f"({text})" if text.startswith("-") else text


def _where(index: int, shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(index, shape)) + "]"


def narrated_update(run: Run, element: int = 0) -> list[Phase]:
    """The phases of the update that takes `run` from its current step to the next.

    `element` is the flat index of the element the narration quotes numbers for.
    """
    record = run.current
    hp = run.hp
    key = run.optimizer.key
    x0 = record.x
    element = int(np.clip(element, 0, x0.size - 1))
    label = getattr(run.problem, "element_label", None)  # a network names the layer: [W3:4,7]
    at = f"[{label(element)}]" if label is not None else _where(element, x0.shape)
    state: dict[str, np.ndarray] = {"x": x0, "effective_step": record.effective_step}
    state.update(record.buffers)
    phases: list[Phase] = []

    def add(name: str, narration: str, highlight: str, **changed: np.ndarray) -> None:
        state.update(changed)
        phases.append(Phase(name, narration, dict(state), highlight))

    with np.errstate(all="ignore"):  # overflow is shown as divergence, not raised
        measured, g = step_loss_and_gradient(run.problem, x0, record.step)
        add(
            "gradient",
            f"Compute the gradient at the current x: g{at} = {_num(g.flat[element])}, the slope of the loss along this element.",
            "grad",
            grad=g,
        )
        if key == "gd":
            new_x = x0 - hp.lr * g
            add(
                "move",
                f"Move x against the gradient by lr: x{at} = {_num(x0.flat[element])} - {hp.lr:g}*{_num(g.flat[element])} "
                f"= {_num(new_x.flat[element])}. Every element takes the same lr.",
                "x",
                x=new_x,
            )
        elif key in ("rmsprop", "rmsprop-momentum"):
            v0 = record.buffers["mean_square"]
            decayed = hp.decay * v0
            add(
                "decay",
                f"Decay v by decay={hp.decay:g}: v{at} = {hp.decay:g}*{_num(v0.flat[element])} = "
                f"{_num(decayed.flat[element])}. Old gradients fade.",
                "mean_square",
                mean_square=decayed,
            )
            v = decayed + (1 - hp.decay) * g**2
            add(
                "add",
                f"Add (1-decay)*g^2: v{at} = {_num(decayed.flat[element])} + {1 - hp.decay:g}*{_num(g.flat[element])}^2 = "
                f"{_num(v.flat[element])}, a running mean of the squared gradient.",
                "mean_square",
                mean_square=v,
            )
            effective = hp.lr / (np.sqrt(v) + hp.eps)
            add(
                "step",
                f"Step size lr/(sqrt(v)+eps): {hp.lr:g}/(sqrt({_num(v.flat[element])})+{hp.eps:g}) = "
                f"{_num(effective.flat[element])}. Small where gradients have been large, large where small.",
                "effective_step",
                effective_step=effective,
            )
            if key == "rmsprop":
                new_x = x0 - hp.lr * g / (np.sqrt(v) + hp.eps)
                add(
                    "move",
                    f"Move x by step*g: x{at} = {_num(x0.flat[element])} - {_num(effective.flat[element])}*"
                    f"{_num(g.flat[element])} = {_num(new_x.flat[element])}.",
                    "x",
                    x=new_x,
                )
            else:
                m0 = record.buffers["momentum"]
                m = hp.mu * m0 + hp.lr * g / (np.sqrt(v) + hp.eps)
                add(
                    "momentum",
                    f"Update momentum: m{at} = {hp.mu:g}*{_num(m0.flat[element])} + {_num(effective.flat[element])}*"
                    f"{_num(g.flat[element])} = {_num(m.flat[element])}. It keeps {hp.mu:g} of the last move.",
                    "momentum",
                    momentum=m,
                )
                new_x = x0 - m
                add(
                    "move",
                    f"Move x by m: x{at} = {_num(x0.flat[element])} - {_num(m.flat[element])} = {_num(new_x.flat[element])}.",
                    "x",
                    x=new_x,
                )
        else:
            new_x, buffers, effective = run.optimizer.update(x0, g, record.buffers, hp, record.step + 1)
            add(
                "move",
                f"Apply the {run.optimizer.label} update: x{at} = {_num(x0.flat[element])} -> {_num(new_x.flat[element])} "
                f"(its step size here: {_num(effective.flat[element])}).",
                "x",
                x=new_x,
                effective_step=effective,
                **buffers,
            )
        loss = run.problem.loss(state["x"]) if measured is None else measured  # as the next record holds it
    last = phases[-1]
    phases[-1] = Phase(last.name, f"{last.narration} Loss {loss:.4g}.", last.arrays, last.highlight, loss)
    return phases

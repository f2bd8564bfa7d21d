"""One update taken apart: the phases a learner steps through by hand (`n`).

A phase per stage of the optimizer (engine/optimizers.py), after the gradient: for RMSprop compute the
gradient, decay v, add (1 - decay) g^2, compute the step lr / (sqrt(v) + eps), move x. Each phase holds the
arrays after its stage and says in one sentence what the stage did to one element. The stages are the very
ones the engine's update runs, so the last phase's arrays equal the engine's next record bit for bit
(tests/test_phases.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from tutor.engine.arithmetic import arithmetic_line
from tutor.engine.hyper import Hyperparameters
from tutor.engine.optimizers import GRADIENT, Optimizer, Stage, fill, short_number
from tutor.engine.problems import Problem, element_label, step_loss_and_gradient
from tutor.engine.run import Record, Run


@dataclass(frozen=True, eq=False)
class Phase:
    """The state after one stage of an update.

    `arrays` holds x, grad, effective_step and the optimizer's buffers (mean_square, momentum, ...) as they
    stand after the stage, `before` as they stood before it; `element` is the flat index the narration quotes;
    `loss` is set on the last phase only (the update is complete there).
    """

    problem: Problem
    stage: Stage
    arrays: Mapping[str, np.ndarray]
    before: Mapping[str, np.ndarray]
    hp: Hyperparameters
    t: int  # the update's number: 1 for the update from step 0
    element: int
    loss: float | None = None

    @property
    def name(self) -> str:
        return self.stage.name

    @property
    def highlight(self) -> str:
        """The quantity the phase changed."""
        return self.stage.writes

    def fill(self, template: str, element: int, number: Callable[[float], str] = short_number) -> str:
        """`template` with the numbers of `element` before and after this phase."""
        where = element_label(self.problem, element, self.arrays["x"].shape)
        return fill(template, self.before, self.arrays, self.hp, self.t, element, where, number)

    def arithmetic(self, element: int, number: Callable[[float, int], str] = short_number) -> str:
        """The stage's arithmetic at `element`, such as `v[2,3] = 0.9*0.0123 = 0.0111`, with the digits it needs
        to add up as printed (engine/arithmetic.py)."""
        where = element_label(self.problem, element, self.arrays["x"].shape)
        return arithmetic_line(self.stage.arithmetic, self.before, self.arrays, self.hp, self.t, element, where, number)

    @cached_property
    def narration(self) -> str:
        stage = self.stage
        text = f"{self.fill(stage.say, self.element)}: {self.arithmetic(self.element)}."
        if stage.remark:
            text += " " + self.fill(stage.remark, self.element)
        return text if self.loss is None else f"{text} Loss {self.loss:.4g}."


def update_phases(
    problem: Problem,
    optimizer: Optimizer,
    record: Record,
    hp: Hyperparameters,
    element: int = 0,
    grad: np.ndarray | None = None,
) -> list[Phase]:
    """The phases of the update that takes `record` to the next step with `hp`; `element` is the flat index
    of the element the narration quotes numbers for.

    Given `grad` (the gradient the update used, kept in the next record), the stages are replayed with it:
    the problem is not asked again (a network's forward and backward pass) and no phase has a loss.
    """
    element = int(np.clip(element, 0, record.x.size - 1))
    t = record.step + 1
    hp = hp.for_update(t)  # the lr of the schedule, as Optimizer.update uses it
    state: dict[str, np.ndarray] = {"x": record.x, "effective_step": record.effective_step, **record.buffers}
    phases: list[Phase] = []
    with np.errstate(all="ignore"):  # overflow is shown as divergence, not raised
        measured, state["grad"] = step_loss_and_gradient(problem, record.x, record.step) if grad is None else (None, grad)
        for stage in (GRADIENT, *optimizer.stages):
            before = dict(state)
            stage.apply(state, hp, t)
            phases.append(Phase(problem, stage, dict(state), before, hp, t, element))
        if grad is not None:
            return phases
        loss = problem.loss(state["x"]) if measured is None else measured  # as the next record holds it
    last = phases[-1]
    phases[-1] = Phase(problem, last.stage, last.arrays, last.before, hp, t, element, loss)
    return phases


def narrated_update(run: Run, element: int = 0) -> list[Phase]:
    """The phases of the update that takes `run` from its current step to the next."""
    return update_phases(run.problem, run.optimizer, run.current, run.hp, element)

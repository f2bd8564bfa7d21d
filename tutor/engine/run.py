"""A run: an optimizer stepping on a problem, with every step kept so it can go back.

Stepping back reads an earlier record; it never recomputes backwards, so the state at
step k is bit for bit the state the forward pass produced (a large state is kept as
checkpoints and recomputed forward from them, see tutor/engine/history.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tutor.engine.history import History
from tutor.engine.hyper import Hyperparameters
from tutor.engine.optimizers import Optimizer, get_optimizer
from tutor.engine.problems import Problem, step_loss_and_gradient

# A run in play mode at 30 steps/s fills this in about an hour; older steps are kept.
MAX_STEPS = 100_000


@dataclass(frozen=True, eq=False)
class Record:
    """The state after `step` updates.

    `grad` is the gradient the last update used (None at step 0); `loss` is measured
    after the update, as the seed records it, except on a problem that measures its mini-batch's
    loss on the way to the gradient (the digits network): there it is that update's mini-batch
    loss at the parameters it started from, as training logs it (step 0: the whole training
    set's loss at the start); `effective_step` is the per-element step
    size lr / (sqrt(v) + eps) the update used (lr everywhere for gradient descent).
    """

    step: int
    x: np.ndarray
    grad: np.ndarray | None
    buffers: Mapping[str, np.ndarray]
    effective_step: np.ndarray
    loss: float
    hp: Hyperparameters

    @property
    def mean_square(self) -> np.ndarray | None:
        return self.buffers.get("mean_square")

    @property
    def momentum(self) -> np.ndarray | None:
        return self.buffers.get("momentum")

    @property
    def diverged(self) -> bool:
        """True once the loss or x is no longer a finite number."""
        return not (np.isfinite(self.loss) and np.all(np.isfinite(self.x)))


@dataclass(eq=False)
class Run:
    """An optimizer on a problem. `records[index]` is the state on screen.

    Runs compare (and hash) by identity: two runs with the same fields are still two runs.
    """

    problem: Problem
    optimizer: Optimizer
    hp: Hyperparameters = field(default_factory=Hyperparameters)
    records: History = field(init=False)
    index: int = field(init=False, default=0)
    planned: list[tuple[int, Hyperparameters]] = field(init=False, default_factory=list)
    """Edits not computed yet (a share code's), by step: (k, hp) means the updates after step k use hp."""

    def __post_init__(self) -> None:
        x0 = np.array(self.problem.start(), dtype=float)
        first = Record(
            step=0,
            x=x0,
            grad=None,
            buffers=self.optimizer.start_buffers(x0, self.hp),
            effective_step=self.optimizer.start_effective_step(x0, self.hp),
            loss=self.problem.loss(x0),
            hp=self.hp,
        )
        self.records = History(first, self.next_record)

    @classmethod
    def create(cls, problem: Problem, optimizer: str | Optimizer, hp: Hyperparameters | None = None) -> Run:
        opt = get_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
        return cls(problem, opt, hp or Hyperparameters())

    @property
    def current(self) -> Record:
        return self.records[self.index]

    @property
    def step(self) -> int:
        return self.index

    def hp_after(self, step: int) -> Hyperparameters:
        """The hyperparameters the update after step `step` uses: the run's, or a planned edit's."""
        if not self.planned or step >= self.planned[-1][0]:
            return self.hp
        return next((hp for at, hp in reversed(self.planned) if at <= step), self.records.hp(0))

    def next_record(self, record: Record, hp: Hyperparameters | None = None) -> Record:
        """Apply one update to `record` with `hp` (if None: the values for its step, `hp_after`)."""
        hp = hp or self.hp_after(record.step)
        with np.errstate(all="ignore"):  # overflow is shown as divergence, not raised
            measured, g = step_loss_and_gradient(self.problem, record.x, record.step)
            new_x, buffers, effective = self.optimizer.update(record.x, g, record.buffers, hp, record.step + 1)
            loss = self.problem.loss(new_x) if measured is None else measured
        return Record(record.step + 1, new_x, g, buffers, effective, loss, hp)

    def record_at(self, step: int) -> Record:
        """The record of `step` (at most MAX_STEPS), computing and keeping the missing ones; the step on
        screen does not move. An engine error propagates, and the steps computed before it are kept."""
        step = max(0, min(step, MAX_STEPS))
        while len(self.records) <= step:
            self.records.append(self.next_record(self.records[-1]))
        return self.records[step]

    def forward(self, steps: int = 1) -> Record:
        """Step forward, reusing steps already computed, computing the rest."""
        return self.goto(self.index + steps)

    def updates_to(self, step: int) -> int:
        """How many updates reaching `step` still needs (0 when it is already computed)."""
        return max(0, min(step, MAX_STEPS) - (len(self.records) - 1))

    def append_computed(self, records: list[Record]) -> None:
        """Append records computed from this run's last one elsewhere (a worker thread, with `next_record`),
        skipping those already here; the step on screen does not move."""
        for record in records:
            if record.step == len(self.records):
                self.records.append(record)
            elif record.step > len(self.records):
                raise ValueError(f"record of step {record.step} does not follow step {len(self.records) - 1}")

    def back(self, steps: int = 1) -> Record:
        self.index = max(0, self.index - steps)
        return self.current

    def goto(self, step: int) -> Record:
        """Jump to step `step` (computing forward if needed)."""
        record = self.record_at(step)
        self.index = record.step
        return record

    def reset(self) -> Record:
        return self.goto(0)

    def set_hyperparameters(self, hp: Hyperparameters) -> None:
        """Use `hp` from the current step on: later steps computed with other values are dropped.

        The kept future is compared record by record, not with `self.hp`: after going back past an
        edit, the steps ahead may have been computed with values the run no longer holds.
        """
        self.hp = hp
        self.planned = []  # an edit replaces the whole future, planned edits too
        if any(self.records.hp(step) != hp for step in range(self.index + 1, len(self.records))):
            del self.records[self.index + 1 :]

    def edits(self) -> list[tuple[int, Hyperparameters]]:
        """Every change of hyperparameters after the start, as (k, hp): the updates after step k use hp.

        Read from the records (each keeps the values it was computed with), then the planned edits,
        then the run's own values (the next update computed uses them): with `plan`, a run started
        from `records.hp(0)` steps exactly as this one does."""
        edits: list[tuple[int, Hyperparameters]] = []
        previous = self.records.hp(0)
        for step in range(1, len(self.records)):
            if self.records.hp(step) != previous:
                previous = self.records.hp(step)
                edits.append((step - 1, previous))
        last = len(self.records) - 1
        for at, hp in [*(edit for edit in self.planned if edit[0] >= last), (last, self.hp)]:
            if hp != previous:
                edits.append((max(at, last), hp))
                previous = hp
        return edits

    def plan(self, edits: list[tuple[int, Hyperparameters]]) -> None:
        """Follow `edits` (as `edits()` gives them, steps increasing) as the run is computed: a share code's history."""
        if len(self.records) > 1:
            raise ValueError("edits are planned for a run still at its start")
        self.planned = list(edits)
        if edits:
            self.hp = edits[-1][1]  # what the edit dialog shows: the values the run ends with

    def run_to(self, steps: int) -> list[float]:
        """Step to `steps` and return the loss after each update 1..steps (the seed's `loss` list)."""
        self.goto(steps)
        return [self.records.loss(step) for step in range(1, min(steps, len(self.records) - 1) + 1)]

    def losses(self) -> list[float]:
        """Loss at steps 0..current."""
        return [self.records.loss(step) for step in range(self.index + 1)]

    def first_divergent_step(self) -> int | None:
        return next((step for step in range(self.index + 1) if self.records.diverged(step)), None)

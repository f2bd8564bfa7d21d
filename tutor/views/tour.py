"""A lesson's script as stops: the runs, step, cursor and narrated phase each [[script]] step names.

`tutor --run-all` prints a snapshot at each stop; the app's lesson screen takes the learner to
them (`f` and `F`). Both apply a stop here, so both show the same numbers.
"""

from __future__ import annotations

import json

import numpy as np

from tutor.course import Lesson, ScriptStep
from tutor.engine import Run, make_problem
from tutor.engine.phases import Phase, narrated_update


class ScriptRuns:
    """Fresh runs per (problem, hyperparameters) of a lesson's script, reused across its steps."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.runs: dict[str, list[Run]] = {}

    def runs_for(self, script_step: ScriptStep) -> list[Run]:
        """The runs of this step's problem and hyperparameters (the setup's when it names none), where they stand."""
        setup = self.lesson.setup
        spec = script_step.problem or setup.problem
        hp = script_step.hp or setup.hp
        key = json.dumps([spec, hp.as_dict()], sort_keys=True)
        if key not in self.runs:
            problem = make_problem(spec)
            self.runs[key] = [Run.create(problem, name, hp) for name in setup.optimizers]
        return self.runs[key]

    def at(self, script_step: ScriptStep) -> list[Run]:
        """The runs of this step, moved to its step."""
        runs = self.runs_for(script_step)
        for run in runs:
            run.goto(script_step.step)
        return runs


def flat_index(run: Run, index: tuple[int, ...] | None) -> int | None:
    """The script's `inspect` element as the visualizer's cursor (a flat index of x)."""
    if index is None:
        return None
    return int(np.ravel_multi_index(index, run.current.x.shape))


def stop_phases(run: Run, phase_name: str, cursor: int | None) -> tuple[list[Phase], int] | None:
    """The narrated update after the run's step and the index of the phase named, or None if it has none of that name."""
    phases = narrated_update(run, cursor or 0)
    names = [phase.name for phase in phases]
    if phase_name not in names:
        return None
    return phases, names.index(phase_name)

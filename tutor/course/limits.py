"""What one lesson file may ask of the machine: lesson files are passed around, so they are not trusted.

A file over a limit is refused with the limit named (docs/security.md lists them). The
shipped lessons use a small part of each: the largest is 7 KB with 30 placeholders, 5
script steps and about 3,000 updates of engine work.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from tutor.engine import cost, history, race
from tutor.engine.problems import ProblemError, make_problem

_signature = functools.cache(inspect.signature)  # each fact's, read once: loading the course asks ~600 times

MAX_FILE_BYTES = 256 * 1024
MAX_PLACEHOLDERS = 1_000
MAX_SCRIPT_STEPS = 200
MAX_CHECKS = 100
# Markdown tables: Textual lays out every cell of a table as the lesson opens; a 500x100 table froze the
# app (1.6 GB). Measured on Enter under load: no table 0.4 s, 500 cells 2.9 s, 2,000 cells 9 s. The
# README's largest has 3 columns and 27 cells; 12 columns fill a wide terminal.
MAX_TABLE_COLUMNS = 12
MAX_TABLE_CELLS = 200
# The width and precision of a format (`| .3g`, at most 100) is placeholders.MAX_FORMAT_DIGITS: formatting is
# part of a value, and this module is outside the values' key (tutor/course/cache.py).
# Engine work: updates of the problems' optimizers, each weighted by what it costs relative to
# one update of the seed's 5x5 matrix, in time (20-40 microseconds here) and in the memory its
# record keeps: at most a few seconds and about 300 MB.
MAX_ENGINE_WORK = 200_000
# Facts that search forward until a loss is reached rather than for a given number of steps
# (at most tutor/engine/paths.py MAX_SEARCH_STEPS), how many searches each makes, and on what.
SEARCHING_FACTS = {"valley_steps": 1, "valley_detour": 1, "straighter_valley": 2}
SEARCHED_PROBLEM = {"kind": "valley"}
SEARCH_STEPS = 20_000
# The arguments that set how far a fact's run goes (tutor/course/facts.py): each one counts.
RUN_LENGTHS = ("steps", "step", "stop")
# Facts that sweep learning rates (tutor/engine/race.py): a run of `steps` updates for every lr of the grid and
# every optimizer asked about, unless tutor ships that sweep's answer, which is then only read.
SWEEPING_FACTS = ("best_lr", "best_lr_loss", "best_lr_accuracy", "grid_accuracy_max", "best_lr_winner")
SWEPT_PROBLEM = {"kind": "digits"}  # the facts' default problem


def update_cost(spec: Mapping[str, Any] | None) -> float:
    """What one update of the problem `spec` costs, in updates of the seed's matrix (measured: the valley's 0.5,
    a 200-layer chain's about 20, the digits network's 100 in time and, with its checkpoints, 5 in memory)."""
    try:
        return _update_cost(json.dumps(spec or {"kind": "matrix"}, sort_keys=True))
    except (TypeError, ValueError):  # not JSON: the fact given it fails anyway
        return 1.0


@functools.lru_cache(maxsize=256)
def _update_cost(spec_key: str) -> float:
    try:
        problem = make_problem(json.loads(spec_key))
    except (ProblemError, TypeError, ValueError):
        return 1.0
    elements = problem.start().size
    memory = elements / 25  # every update's record keeps x, its gradient and the buffers
    if elements > history.CHECKPOINT_ABOVE:  # a large state keeps one whole record in SPACING (tutor/engine/history.py)
        memory /= history.SPACING
    return max(memory, cost.update_cost(problem))


def fact_work(function: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> float:
    """The engine work a fact call asks for, read from its arguments: its steps, times its runs, times their cost.

    Facts run for as far as the furthest of their RUN_LENGTHS arguments (`steps`, `step`, or
    `stop` of a range), on a `problem`, and several runs through `optimizers`, `choices`
    (learning rates) or `other` (a second optimizer); a fact without any costs nothing.
    """
    try:
        bound = _signature(function).bind(*args, **kwargs)
    except TypeError:
        return 0.0
    bound.apply_defaults()
    arguments = bound.arguments
    if name in SEARCHING_FACTS:
        return SEARCH_STEPS * SEARCHING_FACTS[name] * update_cost(SEARCHED_PROBLEM)
    if name in SWEEPING_FACTS:
        return _sweep_work(arguments)
    lengths = [arguments[name] for name in RUN_LENGTHS if name in arguments]
    lengths = [length for length in lengths if isinstance(length, int) and not isinstance(length, bool)]
    if not lengths:
        return 0.0
    steps = max(lengths)
    runs = 1
    for many in ("optimizers", "choices"):
        if isinstance(arguments.get(many), (list, tuple)):
            runs = max(runs, len(arguments[many]))
    if "other" in arguments and isinstance(arguments["other"], str):
        runs += 1
    problem = arguments.get("problem")
    steps = min(max(steps, 0), 10**15)  # past any limit, and still a float
    return steps * runs * update_cost(problem if isinstance(problem, dict) else None)


def _sweep_work(arguments: Mapping[str, Any]) -> float:
    steps, problem = arguments.get("steps"), arguments.get("problem") or SWEPT_PROBLEM
    optimizers = arguments.get("optimizers", (arguments.get("optimizer"),))
    if not isinstance(steps, int) or isinstance(steps, bool) or not isinstance(problem, dict):
        return 0.0  # the fact refuses such arguments itself
    if not isinstance(optimizers, (list, tuple)):
        return 0.0
    steps = min(max(steps, 0), 10**15)
    work = 0.0
    for optimizer in optimizers:
        try:
            if race.ships_with_tutor(dict(problem), str(optimizer), steps):
                continue
        except (ProblemError, ValueError, TypeError):
            pass  # a bad description: counted as if it were computed, and refused by the fact
        work += len(race.LR_GRID) * steps * update_cost(problem)
    return work


# Arguments that pick what a fact reads from its runs, not which runs it needs.
SELECTING_ARGUMENTS = ("layer", "element", "index", "over")


def work_key(function: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """Which runs a fact call needs: calls with the same key share their runs (the facts cache them), so a file's
    work counts them once, e.g. `update_ratio(layer=1, ...)` and `update_ratio(layer="out", ...)` of one run."""
    try:
        bound = _signature(function).bind(*args, **kwargs)
    except TypeError:
        return repr((name, args, sorted(kwargs.items())))
    bound.apply_defaults()
    arguments = {key: value for key, value in bound.arguments.items() if key not in SELECTING_ARGUMENTS}
    if "step" in arguments:
        arguments["steps"] = arguments.pop("step")
    sweep = name in SWEEPING_FACTS
    if sweep and "optimizer" in arguments:
        arguments["optimizers"] = [arguments.pop("optimizer")]
    return repr(("sweep" if sweep else name if name in SEARCHING_FACTS else "runs", sorted(arguments.items())))

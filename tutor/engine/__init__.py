"""The maths: problems, optimizers and runs with history.

numpy only. Nothing here imports textual, rich, plotext or any other part of tutor,
so the engine can be tested, traced and reused without a terminal.
"""

from tutor.engine.hyper import HyperparameterError, Hyperparameters
from tutor.engine.optimizers import OPTIMIZERS, Optimizer, get_optimizer
from tutor.engine.problems import (
    PROBLEM_KINDS,
    DeepChain,
    MatrixInverse,
    MiniBatchNoise,
    Problem,
    ProblemError,
    Rosenbrock,
    Valley,
    make_problem,
)
from tutor.engine.run import Record, Run

__all__ = [
    "Hyperparameters",
    "HyperparameterError",
    "OPTIMIZERS",
    "Optimizer",
    "get_optimizer",
    "PROBLEM_KINDS",
    "DeepChain",
    "MatrixInverse",
    "MiniBatchNoise",
    "Problem",
    "ProblemError",
    "Rosenbrock",
    "Valley",
    "make_problem",
    "Record",
    "Run",
]

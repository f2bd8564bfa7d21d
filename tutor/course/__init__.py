"""Lessons as files: reading and validating them, filling their numbers, grading checks, progress.

One way through: model (what a lesson is) <- reader (files to model) and filler (the
engine's numbers into the model's placeholders); checks grade the filled checks.
Imports the engine only (never textual, rich or plotext).

Each name below is imported from its module when first used, not with the package: importing
tutor.course.facts (a placeholder's value) then runs no reader, checks or model code, so the
values' key covers only the modules that compute them (tutor/course/cache.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for mypy; at run time __getattr__ imports them
    from tutor.course.checks import Check, Verdict  # noqa: F401
    from tutor.course.filler import Filled, fill, prepare  # noqa: F401
    from tutor.course.model import Course, Lesson, LessonError, LessonProblem, ScriptStep, Setup  # noqa: F401
    from tutor.course.progress import Progress  # noqa: F401
    from tutor.course.reader import find_lesson, lessons_directory, load_course, load_lesson  # noqa: F401

_MODULES = {
    "checks": ("Check", "Verdict"),
    "filler": ("Filled", "fill", "prepare"),
    "model": ("Course", "Lesson", "LessonError", "LessonProblem", "ScriptStep", "Setup"),
    "progress": ("Progress",),
    "reader": ("find_lesson", "lessons_directory", "load_course", "load_lesson"),
}
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next use is a plain lookup
    return value

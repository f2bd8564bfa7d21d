"""Lessons as files: reading and validating them, filling their numbers, grading checks, progress.

One way through: model (what a lesson is) <- reader (files to model) and filler (the
engine's numbers into the model's placeholders); checks grade the filled checks.
Imports the engine only (never textual, rich or plotext).
"""

from tutor.course.checks import Check, Verdict
from tutor.course.filler import Filled, fill, prepare
from tutor.course.model import Course, Lesson, LessonError, LessonProblem, ScriptStep, Setup
from tutor.course.progress import Progress
from tutor.course.reader import find_lesson, lessons_directory, load_course, load_lesson

__all__ = [
    "Check",
    "Course",
    "Filled",
    "Lesson",
    "LessonError",
    "LessonProblem",
    "Progress",
    "ScriptStep",
    "Setup",
    "Verdict",
    "fill",
    "find_lesson",
    "lessons_directory",
    "load_course",
    "load_lesson",
    "prepare",
]

"""Lessons as files: loading and validating them, filling their numbers, grading checks, progress.

Imports the engine only (never textual, rich or plotext).
"""

from tutor.course.checks import Verdict
from tutor.course.lesson import (
    Check,
    Course,
    Lesson,
    LessonError,
    LessonProblem,
    ScriptStep,
    Setup,
    lessons_directory,
    load_course,
    load_lesson,
)
from tutor.course.progress import Progress

__all__ = [
    "Check",
    "Course",
    "Lesson",
    "LessonError",
    "LessonProblem",
    "Progress",
    "ScriptStep",
    "Setup",
    "Verdict",
    "lessons_directory",
    "load_course",
    "load_lesson",
]

"""Filling a lesson: its placeholders, parsed by the reader, rendered with the engine's numbers.

Loading a lesson only parses its placeholders, so it is fast; the numbers they quote are
computed here, the first time a lesson's text, script or checks are needed (the engine
runs then), once per lesson. A placeholder whose fact fails stays in the text as written
and becomes a LessonProblem; a check with one is left out.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace

from tutor.course.checks import Check
from tutor.course.facts import FACTS
from tutor.course.model import CheckSource, Course, Lesson, LessonProblem, ScriptStep, Template
from tutor.course.placeholders import PlaceholderError


@dataclass(frozen=True)
class Filled:
    """A lesson's text, script and checks with the engine's numbers in, and the placeholders that failed."""

    text: str  # Markdown
    script: tuple[ScriptStep, ...]
    checks: tuple[Check, ...]  # those whose placeholders all filled
    problems: tuple[LessonProblem, ...]


_filled: weakref.WeakKeyDictionary[Lesson, Filled] = weakref.WeakKeyDictionary()
# The lesson list fills every lesson in a thread while the learner may open one: a lesson
# being filled is waited for, not filled twice, and never waits for another lesson.
_locks: weakref.WeakKeyDictionary[Lesson, threading.Lock] = weakref.WeakKeyDictionary()
_locks_lock = threading.Lock()


def fill(lesson: Lesson) -> Filled:
    """`lesson` with its numbers, computed on the first call for this lesson."""
    filled = _filled.get(lesson)
    if filled is not None:
        return filled
    with _locks_lock:
        lock = _locks.setdefault(lesson, threading.Lock())
    with lock:
        filled = _filled.get(lesson)
        if filled is None:
            filled = _filled[lesson] = _Filler(lesson).filled()
        return filled


def prepare(course: Course) -> None:
    """Fill every lesson now (e.g. in a worker thread once the lesson list shows), so opening one costs nothing."""
    for lesson in course.lessons:
        fill(lesson)


class _Filler:
    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.problems: list[LessonProblem] = []

    def filled(self) -> Filled:
        source = self.lesson.source
        text = self.text(source.body).strip("\n") + "\n"
        script = tuple(replace(step, note=self.text(note)) for step, note in zip(source.steps, source.notes, strict=True))
        checks = tuple(check for check in map(self.check, source.checks) if check is not None)
        return Filled(text, script, checks, tuple(self.problems))

    def text(self, template: Template) -> str:
        """The template's text with each placeholder's value; one that fails stays as written."""
        pieces = []
        for part in template.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            try:
                pieces.append(part.render(FACTS, template.default_format))
            except PlaceholderError as error:
                self.problem(part.line or template.line, template.label + str(error))
                pieces.append(part.source)
        return "".join(pieces)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(LessonProblem(self.lesson.path, line, message))

    def check(self, source: CheckSource) -> Check | None:
        before = len(self.problems)
        prompt, hint, explanation = self.text(source.prompt), self.text(source.hint), self.text(source.explanation)
        choices = tuple(self.text(choice) for choice in source.choices)
        answer = self.text(source.answer)
        if len(self.problems) > before:
            return None
        where = source.answer
        if source.kind == "number":
            try:
                float(answer)
            except ValueError:
                self.problem(where.line, f"{where.label}answer {where.raw} gave {answer!r}, which is not a number")
                return None
        else:
            if len(set(choices)) != len(choices):
                self.problem(source.choices[0].line, f"{where.label}two choices are the same")
                return None
            if answer not in choices:
                shown = ", ".join(f'"{c}"' for c in choices)
                self.problem(where.line, f'{where.label}answer "{answer}" is not among its choices: {shown}')
                return None
        return Check(source.id, prompt, source.kind, choices, answer, source.tolerance, hint, explanation)

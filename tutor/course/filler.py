"""Filling a lesson: its placeholders, parsed by the reader, rendered with the engine's numbers.

Loading a lesson only parses its placeholders, so it is fast; the numbers they quote are
computed here, the first time a lesson's text, script or checks are needed (the engine
runs then), once per lesson. A placeholder whose fact fails stays in the text as written
and becomes a LessonProblem; a check with one is left out.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from dataclasses import dataclass, replace
from pathlib import Path

from tutor.course.cache import SHIPPED, ValueCache
from tutor.course.checks import Check
from tutor.course.facts import FACTS
from tutor.course.model import CheckSource, Course, Lesson, LessonProblem, ScriptStep, Template
from tutor.course.placeholders import Placeholder, PlaceholderError


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


# Text that gives a check's answer away waits for the check: `<!-- after: check-id -->` ... `<!-- /after -->`.
# (An HTML comment, so a Markdown viewer of the file shows the text where it was written.)
# Its start and its end are found apart, each searched for once from where the last block ended: one
# regex with `.*?` between them would search to the end of the text from every unclosed start (quadratic).
REVEAL_START = re.compile(r"<!--\s*after:\s*(?P<id>[^\s>]*)\s*-->[ \t]*\n?")
REVEAL_END = re.compile(r"<!--\s*/after\s*-->[ \t]*\n?")
REVEAL_OPEN = re.compile(r"<!--\s*/?after\b")


_kept: ValueCache | None = None  # placeholders' values from earlier runs (the app keeps them)
_shipped: ValueCache | None = None  # the shipped lessons' values, read before _kept


def keep_values_in(directory: Path | None) -> None:
    """Keep placeholders' values in `directory` between runs, read after those shipped inside tutor
    (None: compute every time, as at first)."""
    global _kept, _shipped
    _kept = None if directory is None else ValueCache(directory)
    _shipped = None if directory is None else ValueCache(SHIPPED)


def read_shipped_values() -> None:
    """Read the shipped lessons' values (kept current by a test), and keep none: `--run-all` prints the
    course without running the engine twice for the numbers it ships."""
    global _kept, _shipped
    _kept, _shipped = None, ValueCache(SHIPPED)


def computed_values(course: Course) -> dict[str, str]:
    """Every placeholder's value in `course`, computed now (neither shipped nor kept values read), as shipped."""
    values: dict[str, str] = {}
    for lesson in course.lessons:
        filler = _Filler(lesson, caches=())
        filler.filled()
        values.update(filler.computed)
    return values


def ship_values(course: Course) -> Path:
    """Write the shipped lessons' values (`course`: load_course() of them) into tutor (SHIPPED), computed afresh;
    the file written."""
    shipped = ValueCache(SHIPPED)
    shipped.path.unlink(missing_ok=True)
    shipped.put(computed_values(course))
    shipped.path.chmod(0o644)  # a package file, not the user's private cache
    return shipped.path


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
    def __init__(self, lesson: Lesson, caches: tuple[ValueCache, ...] | None = None) -> None:
        self.lesson = lesson
        self.problems: list[LessonProblem] = []
        # Values are read from each cache in turn (None: the module's, shipped first) and kept in the user's
        # (never in the shipped file inside tutor: only ship_values writes that).
        self.caches = tuple(cache for cache in (_shipped, _kept) if cache is not None) if caches is None else caches
        self.kept = _kept if caches is None else None
        self.computed: dict[str, str] = {}  # values to keep for the next run

    def filled(self) -> Filled:
        source = self.lesson.source
        text, reveals = self.reveals(self.text(source.body))
        text = text.strip("\n") + "\n"
        script = tuple(replace(step, note=self.text(note)) for step, note in zip(source.steps, source.notes, strict=True))
        checks = tuple(
            replace(check, reveal="\n\n".join(reveals.get(check.id, [])))
            for check in map(self.check, source.checks)
            if check is not None
        )
        if self.kept is not None and self.computed:
            self.kept.put(self.computed)
        return Filled(text, script, checks, tuple(self.problems))

    def reveals(self, text: str) -> tuple[str, dict[str, list[str]]]:
        """The text without its `after:` blocks, and each block's Markdown by the check it waits for."""
        ids = {check.id for check in self.lesson.source.checks}
        reveals: dict[str, list[str]] = {}
        body = self.lesson.source.body

        def line_of(marker: str) -> int | None:
            at = body.raw.find(marker)
            if body.line is None:
                return None
            return body.line + body.raw[:at].count("\n") if at >= 0 else body.line  # not found as written: the body's start

        kept, position = [], 0
        while (start := REVEAL_START.search(text, position)) and (end := REVEAL_END.search(text, start.end())):
            check_id = start["id"]
            if check_id not in ids:
                known = ", ".join(sorted(ids)) or "none"
                marker = start.group(0).split("-->")[0] + "-->"
                self.problem(line_of(marker), f"<!-- after: {check_id} --> names no check of this lesson (its checks: {known})")
            reveals.setdefault(check_id, []).append(text[start.end() : end.start()].strip("\n"))
            kept.append(text[position : start.start()])
            position = end.end()
        rest = "".join(kept) + text[position:]
        stray = REVEAL_OPEN.search(rest)
        if stray:
            line_end = rest.find("\n", stray.start())
            marker = rest[stray.start() : line_end if line_end >= 0 else len(rest)]
            close = marker.find("-->")
            marker = marker[: close + 3] if close >= 0 else marker[:60]  # the marker, never the text after it
            self.problem(
                line_of(marker), f"{marker} has no partner: an `after:` block is <!-- after: check-id --> ... <!-- /after -->"
            )
        return rest, reveals

    def text(self, template: Template) -> str:
        """The template's text with each placeholder's value; one that fails stays as written."""
        pieces = []
        for part in template.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            key = f"{part.source} | {template.default_format}"
            value = next(filter(None, (cache.get(key) for cache in self.caches)), None)
            if value is not None:
                pieces.append(value)
                continue
            try:
                pieces.append(value := part.render(FACTS, template.default_format))
                self.computed[key] = value
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
                number = float(answer)
            except ValueError:
                self.problem(where.line, f"{where.label}answer {where.raw} gave {answer!r}, which is not a number")
                return None
            if not math.isfinite(number):
                self.problem(where.line, f"{where.label}answer {where.raw} gave {answer}: no typed answer could match it")
                return None
        else:
            if len(set(choices)) != len(choices):
                self.problem(source.choices[0].line, f"{where.label}two choices are the same")
                return None
            if answer not in choices:
                shown = ", ".join(f'"{c}"' for c in choices)
                self.problem(where.line, f'{where.label}answer "{answer}" is not among its choices: {shown}')
                return None
        typed = not any(isinstance(part, Placeholder) for part in source.answer.parts)
        return Check(source.id, prompt, source.kind, choices, answer, source.tolerance, hint, explanation, typed=typed)

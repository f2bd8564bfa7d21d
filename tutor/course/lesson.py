"""Lessons: the objects the app and `--run-all` use, and loading them from files.

A lesson is one Markdown file: TOML front matter between two `+++` lines (id, title,
order, what the visualizer starts with, a headless script and the checks), then the
text. lessons/README.md documents the format for teachers; tutor/course/reader.py reads
and validates it. A broken file becomes a LessonProblem (file, line, what is wrong); it
never stops the other lessons loading.

Loading is fast because placeholders are only parsed and checked at load; the numbers
they quote are computed the first time a lesson's text, script or checks are read (the
engine runs then). `load_course(evaluate=True)` computes them at once and reports a
placeholder that fails as a problem, as `--run-all` and `check-lesson` do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from tutor.course import placeholders
from tutor.course.checks import Verdict, grade
from tutor.course.facts import FACTS
from tutor.engine.hyper import Hyperparameters
from tutor.engine.problems import make_problem

VIEWS = ("matrix", "chain", "surface", "race")
CHECK_KINDS = ("number", "choice")
LESSONS_DIR_ENV = "TUTOR_LESSONS_DIR"


@dataclass(frozen=True)
class Check:
    """One question at the end of a lesson. `answer` is the engine's (placeholders filled)."""

    id: str
    prompt: str
    kind: str  # "number" | "choice"
    choices: tuple[str, ...]
    answer: str
    tolerance: float  # relative, for "number"
    hint: str  # shown after a wrong answer
    explanation: str  # shown after a right one

    def grade(self, response: str) -> Verdict:
        return grade(self, response)

    @property
    def shown_answer(self) -> str:
        """The answer as a learner would write it: 5 rather than 4.999999999999999."""
        if self.kind != "number":
            return self.answer
        return placeholders.format_value(float(self.answer), None)


@dataclass(frozen=True)
class Setup:
    """What the lesson's visualizer starts with."""

    view: str  # "matrix" | "chain" | "surface" | "race"
    problem: dict  # a make_problem() spec
    optimizers: tuple[str, ...]
    hp: Hyperparameters


@dataclass(frozen=True)
class ScriptStep:
    """One headless snapshot: go to `step` and print the view.

    `inspect` is an element index of x to write out; `phase` names one narrated phase
    of the update from `step` to `step + 1` ("gradient", "decay", "add", "step",
    "momentum", "move") to show mid-update; `problem` and `hp` are this snapshot's
    problem spec and hyperparameters when they differ from the setup's.
    """

    step: int
    inspect: tuple[int, ...] | None
    note: str
    problem: dict | None = None
    hp: Hyperparameters | None = None
    phase: str | None = None


@dataclass(frozen=True)
class LessonProblem:
    """What is wrong with a lesson file, and where."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = _display_path(self.path)
        return f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}"


class LessonError(Exception):
    def __init__(self, problem: LessonProblem, problems: list[LessonProblem] | None = None) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.problems = problems or [problem]


@dataclass(frozen=True)
class Template:
    """Text as written in the file, filled from the facts when first needed."""

    raw: str
    line: int | None
    label: str = ""  # e.g. "[[check]] v-next: ", prefixed to a problem's message
    default_format: str | None = None


@dataclass(frozen=True)
class CheckSource:
    id: str
    kind: str
    tolerance: float
    prompt: Template
    choices: tuple[Template, ...]
    answer: Template
    hint: Template
    explanation: Template


@dataclass(frozen=True)
class LessonSource:
    """The parts of a lesson whose placeholders are filled on first use."""

    body: str
    body_line: int  # the file line the Markdown body starts on
    steps: tuple[ScriptStep, ...]  # notes still raw
    notes: tuple[Template, ...]  # one per step
    checks: tuple[CheckSource, ...]


@dataclass(frozen=True)
class _Filled:
    text: str
    script: tuple[ScriptStep, ...]
    checks: tuple[Check, ...]
    problems: tuple[LessonProblem, ...]


@dataclass(frozen=True)
class Lesson:
    """A validated lesson. `text`, `script` and `checks` have their placeholders filled (computed on first access)."""

    id: str
    title: str
    order: int
    path: Path
    setup: Setup
    source: LessonSource = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        """The Markdown text, every placeholder replaced by the engine's number."""
        return self._filled.text

    @property
    def script(self) -> tuple[ScriptStep, ...]:
        return self._filled.script

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks, answers computed. A check whose placeholder failed is left out (see `problems`)."""
        return self._filled.checks

    @property
    def check_ids(self) -> tuple[str, ...]:
        """The checks' ids without computing anything (for progress in the lesson list)."""
        return tuple(check.id for check in self.source.checks)

    @property
    def problems(self) -> tuple[LessonProblem, ...]:
        """Placeholders that failed when filled; a failed one stays in the text as written."""
        return self._filled.problems

    @cached_property
    def _filled(self) -> _Filled:
        return _fill(self)

    def __hash__(self) -> int:  # the setup holds a dict: hash by what names the lesson
        return hash((self.id, self.path))


@dataclass
class Course:
    lessons: list[Lesson]
    problems: list[LessonProblem] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    @property
    def ids(self) -> list[str]:
        return [lesson.id for lesson in self.lessons]

    def prepare(self) -> None:
        """Compute every lesson's numbers now (e.g. in a worker thread once the lesson list shows),
        so opening a lesson costs nothing."""
        for lesson in self.lessons:
            lesson.problems  # noqa: B018 (fills text, script and checks)


def lessons_directory() -> Path:
    """$TUTOR_LESSONS_DIR, else the lessons inside an installed wheel, else the checkout's lessons/."""
    override = os.environ.get(LESSONS_DIR_ENV)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]
    shipped = package / "_lessons"
    if shipped.is_dir():
        return shipped
    return package.parent / "lessons"


def lesson_files(directory: Path) -> list[Path]:
    """The lesson files in `directory`: every *.md except README.md, by name."""
    return sorted(p for p in directory.glob("*.md") if p.name.lower() != "readme.md")


def load_course(directory: Path | None = None, evaluate: bool = False) -> Course:
    """Every lesson in `directory` (None: the shipped lessons), in order; broken files become problems.

    With `evaluate`, every placeholder is computed now and a failing one makes its lesson a problem.
    """
    from tutor.course.reader import front_matter_line

    directory = lessons_directory() if directory is None else Path(directory)
    if not directory.is_dir():
        return Course([], [LessonProblem(directory, None, "no such lessons directory")])
    lessons: list[Lesson] = []
    problems: list[LessonProblem] = []
    seen: dict[str, Lesson] = {}
    for path in lesson_files(directory):
        try:
            lesson = load_lesson(path, evaluate=evaluate)
        except LessonError as error:
            problems.extend(error.problems)
            continue
        if lesson.id in seen:
            line = front_matter_line(path, "id")
            problems.append(
                LessonProblem(path, line, f"duplicate lesson id {lesson.id!r}: {_display_path(seen[lesson.id].path)} has it too")
            )
            continue
        seen[lesson.id] = lesson
        lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.path.name))
    return Course(lessons, problems)


def load_lesson(path: Path, evaluate: bool = False) -> Lesson:
    """Read and validate one lesson file; raises LessonError naming the file, the line and the fault."""
    from tutor.course.reader import read_lesson

    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(LessonProblem(path, None, f"cannot read the file: {error}")) from None
    lesson = read_lesson(path, source)
    if evaluate and lesson.problems:
        raise LessonError(lesson.problems[0], list(lesson.problems))
    return lesson


def phase_names(spec: dict[str, Any], optimizer: str, hp: Hyperparameters) -> tuple[str, ...]:
    """The narrated phases of one update of `optimizer` (gradient, decay, add, step, move, ...)."""
    from tutor.engine.phases import narrated_update
    from tutor.engine.run import Run

    return tuple(phase.name for phase in narrated_update(Run.create(make_problem(spec), optimizer, hp)))


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# -- filling placeholders ------------------------------------------------------------


class _Filler:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[LessonProblem] = []

    def text(self, template: Template) -> str:
        try:
            return placeholders.fill(template.raw, FACTS, template.default_format)
        except placeholders.PlaceholderError as error:
            self.problems.append(LessonProblem(self.path, template.line, template.label + str(error)))
            return template.raw

    def body(self, body: str, first_line: int) -> str:
        filled: list[str] = []
        position = 0
        for match in placeholders.PATTERN.finditer(body):
            line = first_line + body.count("\n", 0, match.start())
            filled.append(body[position : match.start()])
            filled.append(self.text(Template(match.group(0), line)))
            position = match.end()
        filled.append(body[position:])
        return "".join(filled).strip("\n") + "\n"

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
                self.problems.append(
                    LessonProblem(
                        self.path, where.line, f"{where.label}answer {where.raw} gave {answer!r}, which is not a number"
                    )
                )
                return None
        else:
            if len(set(choices)) != len(choices):
                self.problems.append(LessonProblem(self.path, source.choices[0].line, f"{where.label}two choices are the same"))
                return None
            if answer not in choices:
                shown = ", ".join(f'"{c}"' for c in choices)
                self.problems.append(
                    LessonProblem(self.path, where.line, f'{where.label}answer "{answer}" is not among its choices: {shown}')
                )
                return None
        return Check(source.id, prompt, source.kind, choices, answer, source.tolerance, hint, explanation)


def _fill(lesson: Lesson) -> _Filled:
    filler = _Filler(lesson.path)
    source = lesson.source
    text = filler.body(source.body, source.body_line)
    script = tuple(replace(step, note=filler.text(note)) for step, note in zip(source.steps, source.notes, strict=True))
    checks = tuple(check for check in (filler.check(c) for c in source.checks) if check is not None)
    return _Filled(text, script, checks, tuple(filler.problems))

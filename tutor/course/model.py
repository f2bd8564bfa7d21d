"""What a lesson is: the objects tutor/course/reader.py builds from a file and the app and `--run-all` use.

A lesson is one Markdown file: TOML front matter between two `+++` lines (id, title,
order, what the visualizer starts with, a headless script and the checks), then the
text. lessons/README.md documents the format for teachers. A broken file becomes a
LessonProblem (file, line, what is wrong); it never stops the other lessons loading.

The course flows one way: the reader builds these objects with every placeholder parsed
(tutor/course/placeholders.py); tutor/course/filler.py renders them with the engine's
numbers when first needed; tutor/course/checks.py grades the filled checks. This module
imports none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tutor.course.placeholders import Placeholder
from tutor.engine.hyper import Hyperparameters

VIEWS = ("matrix", "chain", "surface", "race", "network")


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
    problem spec and hyperparameters when they differ from the setup's. `after` names the
    check this stop waits for: a run that shows the check's answer comes after the answer.
    """

    step: int
    inspect: tuple[int, ...] | None
    note: str
    problem: dict | None = None
    hp: Hyperparameters | None = None
    phase: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class LessonProblem:
    """What is wrong with a lesson file, and where."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = display_path(self.path)
        return printable(f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}")


class LessonError(Exception):
    def __init__(self, problem: LessonProblem, problems: list[LessonProblem] | None = None) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.problems = problems or [problem]


@dataclass(frozen=True)
class Template:
    """Text as written in the file, cut by the reader into plain runs and parsed placeholders."""

    raw: str
    parts: tuple[str | Placeholder, ...]
    line: int | None  # the line of its field (a placeholder of the body knows its own)
    label: str = ""  # e.g. "[[check]] v-next: ", prefixed to a problem's message
    default_format: str | None = None


@dataclass(frozen=True)
class CheckSource:
    """A [[check]] as written: its texts still templates."""

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
    """The parts of a lesson that quote the engine's numbers: filled on first use."""

    body: Template  # the Markdown text
    steps: tuple[ScriptStep, ...]  # notes still empty
    notes: tuple[Template, ...]  # one per step
    checks: tuple[CheckSource, ...]


@dataclass(frozen=True)
class Lesson:
    """A validated lesson. Its text, script and checks with their numbers: tutor.course.filler.fill(lesson)."""

    id: str
    title: str
    order: int
    path: Path
    setup: Setup
    source: LessonSource = field(repr=False)

    @property
    def check_ids(self) -> tuple[str, ...]:
        """The checks' ids without computing anything (for progress in the lesson list)."""
        return tuple(check.id for check in self.source.checks)

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


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it is inside it (as messages name files)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# C0 and C1 control characters but newline and tab: ESC, CSI (0x9b), BEL... would drive the terminal.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def lesson_text(text: str) -> str:
    """A lesson file's text as text: its control characters other than newline and tab written as
    escapes (ESC as \\x1b), so that neither the app nor the headless output lets the file drive the terminal."""
    text = text.replace("\r\n", "\n")  # a file saved with Windows line ends
    return _CONTROLS.sub(lambda control: printable(control.group()), text)


def printable(text: str) -> str:
    """`text` with control and other unprintable characters written as escapes (ESC as \\x1b): a message
    quoting a file's content never drives the terminal, and stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)

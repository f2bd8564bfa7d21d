"""Reading lesson files: split the front matter from the text, parse the TOML, check every field.

Builds the course's objects (tutor/course/model.py). Each fault becomes a LessonProblem
with the file's line (tomllib reports lines only for syntax errors, so _FrontMatterLines
finds the line of each key); one broken file never stops the others loading. Placeholders
are parsed and their facts and arguments checked here, once; tutor/course/filler.py
renders them when their numbers are first needed.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from tutor.course import limits, placeholders
from tutor.course.checks import CHECK_KINDS
from tutor.course.facts import FACTS
from tutor.course.filler import fill
from tutor.course.model import (
    VIEWS,
    CheckSource,
    Course,
    Lesson,
    LessonError,
    LessonProblem,
    LessonSource,
    ScriptStep,
    Setup,
    Template,
    display_path,
    lesson_text,
)
from tutor.crash import write_log
from tutor.engine.hyper import HyperparameterError, Hyperparameters
from tutor.engine.optimizers import OPTIMIZERS
from tutor.engine.problems import PROBLEM_KINDS, ProblemError, make_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

LESSONS_DIR_ENV = "TUTOR_LESSONS_DIR"
TEACHER_LESSONS_ENV = "TUTOR_TEACHER_LESSONS"  # a teacher's folder read beside the course (`tutor --lessons DIR` sets it)
MAX_SCRIPT_STEP = 100_000
DEFAULT_TOLERANCE = 0.01
FENCE = "+++"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")

TOP_KEYS = ("id", "title", "order", "visualizer", "script", "check")
VISUALIZER_KEYS = ("view", "problem", "optimizers", *Hyperparameters.NAMES)
SCRIPT_KEYS = ("step", "inspect", "note", "phase", "problem", "after", *Hyperparameters.NAMES)
PROSE_KEYS = ("note", "prompt", "hint", "explanation")  # text a learner reads: results in it come from placeholders
CHECK_KEYS = ("id", "prompt", "kind", "choices", "answer", "tolerance", "hint", "explanation")


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


# A cell of a Markdown table's delimiter row, under its header: | --- | :--: | ---: |
TABLE_DELIMITER_CELL = re.compile(":?-+:?")
NO_LESSON_FILES = "no lesson files (*.md other than README.md) in this folder"


def lesson_files(directory: Path) -> list[Path]:
    """The lesson files in `directory`: every *.md except README.md, by name."""
    return sorted(p for p in directory.glob("*.md") if p.name.lower() != "readme.md")


_preloaded: Course | None = None  # what `load_course()` returns in an app forked by `tutor serve`


def preload_course(course: Course) -> None:
    """In a process that forks an app per browser (`tutor serve`): `load_course()` returns this course,
    read and filled once before forking, instead of reading the lesson files again in every app."""
    global _preloaded
    _preloaded = course


def teacher_directory() -> Path | None:
    """$TUTOR_TEACHER_LESSONS: a teacher's folder of lessons, read beside the course's."""
    folder = os.environ.get(TEACHER_LESSONS_ENV)
    return Path(folder) if folder else None


def load_course(directory: Path | None = None, evaluate: bool = False) -> Course:
    """Every lesson in `directory` (a folder or one lesson file; None: the course's lessons and the
    teacher's folder beside them), in order; broken files become problems.

    With `evaluate`, every placeholder is computed now and a failing one makes its lesson a problem.
    """
    if directory is None and not evaluate and _preloaded is not None:
        return _preloaded
    files, problems = _course_files(directory)
    if problems and not files:
        return Course([], problems)
    lessons: list[Lesson] = []
    seen: dict[str, Lesson] = {}
    for path in files:
        try:
            lesson = load_lesson(path, evaluate=evaluate)
        except LessonError as error:
            problems.extend(error.problems)
            continue
        if lesson.id in seen:
            line = front_matter_line(path, "id")
            problems.append(
                LessonProblem(path, line, f"duplicate lesson id {lesson.id!r}: {display_path(seen[lesson.id].path)} has it too")
            )
            continue
        seen[lesson.id] = lesson
        lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.path.name))
    return Course(lessons, problems)


def find_lesson(lesson_id: str, directory: Path | None = None) -> Lesson | None:
    """The lesson `load_course(directory)` would give as `lesson_id`, reading only the files that may be it:
    `tutor --lesson ID` opens it without validating every other lesson first (the course loads after the
    first paint). None: no file reads as that lesson (load_course then says which lessons there are).

    The same file as load_course's: the first in its order that reads without a problem and has the id.
    Another file is read only as far as its id, and not even that when its front matter cannot spell
    `lesson_id` (the id nowhere in it, and no backslash to escape one of its letters)."""
    if directory is None and _preloaded is not None:
        return _preloaded.lesson(lesson_id)
    for path in _course_files(directory)[0]:
        if _front_matter_id(path, lesson_id) != lesson_id:
            continue
        try:
            lesson = load_lesson(path)
        except LessonError:
            continue  # a problem, as in load_course: a later file with the id is the lesson
        if lesson.id == lesson_id:
            return lesson
    return None


def _front_matter_id(path: Path, wanted: str) -> str | None:
    """The id in a lesson file's front matter, read without checking anything else; None when it has none
    or it cannot be `wanted`."""
    try:
        front = _Reader(path, read_file(path)).split()[0]
    except LessonError:
        return None
    if wanted not in front and "\\" not in front:
        return None
    try:
        data = tomllib.loads(front)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None
    found = data.get("id")
    return found if isinstance(found, str) else None


def _course_files(directory: Path | None) -> tuple[list[Path], list[LessonProblem]]:
    """The lesson files load_course reads, in its order, and the folders that hold none."""
    if directory is None:
        teacher = teacher_directory()
        places = [lessons_directory(), *([teacher] if teacher else [])]
    else:
        places = [Path(directory)]
    problems: list[LessonProblem] = []
    files: list[Path] = []
    for place in places:
        if place.is_file():
            files.append(place)
        elif place.is_dir():
            found = lesson_files(place)
            if not found:  # `/`, /proc, an empty folder: said, not an empty list that looks like success
                problems.append(LessonProblem(place, None, NO_LESSON_FILES))
            files += found
        else:
            problems.append(LessonProblem(place, None, "no such lessons directory"))
    return files, problems


def load_lesson(path: Path, evaluate: bool = False) -> Lesson:
    """Read and validate one lesson file; raises LessonError naming the file, the line and the fault.

    With `evaluate`, its placeholders are computed now and a failing one is raised too.
    """
    path = Path(path)
    lesson = read_lesson(path, read_file(path))
    if evaluate:
        problems = fill(lesson).problems
        if problems:
            raise LessonError(problems[0], list(problems))
    return lesson


def read_file(path: Path) -> str:
    """A lesson file's text: a regular file only (not a FIFO, a device or a folder), at most
    limits.MAX_FILE_BYTES, in UTF-8 (a byte-order mark is skipped); raises LessonError saying why not."""

    def refuse(reason: str) -> LessonError:
        return LessonError(LessonProblem(path, None, reason))

    try:
        # Non-blocking, so that opening a FIFO returns at once; then only a regular file is read.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise refuse(f"cannot read the file: {error.strerror or error}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise refuse("not a regular file (a FIFO, a device or a folder): a lesson is a plain text file")
        chunks: list[bytes] = []
        size = 0
        while size <= limits.MAX_FILE_BYTES:
            chunk = os.read(descriptor, limits.MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise refuse(f"cannot read the file: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if len(data) > limits.MAX_FILE_BYTES:
        raise refuse(f"the file is larger than {limits.MAX_FILE_BYTES // 1024} KiB, the most a lesson may be")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise refuse(f"cannot read the file: {error}") from None


def read_lesson(path: Path, source: str) -> Lesson:
    """Validate a lesson file's text; raises LessonError with every problem found."""
    try:
        return _Reader(path, source).lesson()
    except LessonError:
        raise
    except Exception as error:
        # Each known fault has its own message and line: one not foreseen is tutor's bug, kept to its file and logged.
        reason = placeholders.shown(str(error).split("\n")[0], placeholders.REASON_CHARACTERS) or type(error).__name__
        log = write_log(error)
        problem = LessonProblem(path, 1, f"cannot read this lesson ({type(error).__name__}: {reason}); details in {log}")
        raise LessonError(problem) from None


def front_matter_line(path: Path, *key: Any) -> int | None:
    """The line of `key` (e.g. "id") in a lesson file's front matter."""
    return _FrontMatterLines.of_file(path).line(*key)


class _FrontMatterLines:
    """Which file line each key of the front matter is on (tomllib does not say)."""

    def __init__(self, front: str, first_line: int) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        counters: dict[str, int] = {}
        in_string = ""
        for number, raw in enumerate(front.split("\n"), start=first_line):
            text = raw.strip()
            if in_string:
                if in_string in text:
                    in_string = ""
                continue
            if not text or text.startswith("#"):
                continue
            if text.startswith("[["):
                name = text[2:].split("]]")[0].strip()
                counters[name] = counters.get(name, -1) + 1
                table = (name, counters[name])
                self.lines.setdefault(table, number)
            elif text.startswith("["):
                table = tuple(part.strip() for part in text[1:].split("]")[0].split("."))
                if table[0] in counters:  # [script.problem] belongs to the latest [[script]]
                    table = (table[0], counters[table[0]], *table[1:])
                self.lines.setdefault(table, number)
            elif "=" in text:
                key, value = text.split("=", 1)
                path = table + tuple(part.strip().strip("\"'") for part in key.split("."))
                self.lines.setdefault(path, number)
                for quotes in ('"""', "'''"):
                    if value.count(quotes) % 2 == 1:
                        in_string = quotes

    @classmethod
    def of_file(cls, path: Path) -> _FrontMatterLines:
        try:
            lines = read_file(path).split("\n")
        except LessonError:
            lines = []
        end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE), len(lines))
        return cls("\n".join(lines[1:end]), 2)

    def line(self, *path: Any) -> int | None:
        """The line of `path`, or of its nearest enclosing table."""
        for length in range(len(path), 0, -1):
            if path[:length] in self.lines:
                return self.lines[path[:length]]
        return None


_TYPE_NAMES = {str: "text in quotes", int: "a whole number", float: "a number", list: "a list", dict: "a table"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{placeholders.shown(value)}"'
    if isinstance(value, dict):
        return "a table"
    return _shown_value(value)


def _shown_value(value: Any) -> str:
    """repr(value), shortened; a number too long for Python to print (4,300 digits) by its length."""
    try:
        return placeholders.shown(repr(value))
    except ValueError:
        return "a number with thousands of digits"


def _deepest_line(front: str, first_line: int) -> int:
    """The front matter's line with the most opening brackets: where a too-deep nesting is."""
    lines = front.split("\n")
    counts = [line.count("[") + line.count("{") for line in lines]
    return first_line + counts.index(max(counts)) if lines else first_line


def _typed_result(token: str) -> str:
    return f"{token} is typed by hand: a result must come from the engine through a placeholder (settings such as 0.001 are fine)"


class _Invalid(Exception):
    """Stops reading one section; the problem is already recorded."""


class _Reader:
    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.problems: list[LessonProblem] = []
        self.where: tuple[Any, ...] = ()  # the table being read, e.g. ("check", 2)
        self.label = ""  # prefixed to messages about that table, e.g. "[[check]] v-next: "
        self.key_lines: _FrontMatterLines | None = None
        self.work: dict[str, float] = {}  # engine work per set of runs the facts need (facts share and cache their runs)

    # -- reporting ---------------------------------------------------------------

    def problem(self, message: str, *key: Any, line: int | None = None) -> _Invalid:
        if line is None:
            # A missing top-level field has no line of its own: point at the front matter's start.
            line = (self.key_lines.line(*self.where, *key) if self.key_lines else None) or 1
        self.problems.append(LessonProblem(self.path, line, self.label + message))
        return _Invalid()

    def fail(self) -> LessonError:
        return LessonError(self.problems[0], self.problems)

    # -- the file ----------------------------------------------------------------

    def lesson(self) -> Lesson:
        self.count_placeholders()
        front, body, body_line = self.split()
        self.key_lines = _FrontMatterLines(front, 2)
        try:
            data = tomllib.loads(front)
        except tomllib.TOMLDecodeError as error:
            raise self.toml_problem(error) from None
        except RecursionError:
            self.problem("lists or tables nested too deeply in the front matter", line=_deepest_line(front, 2))
            raise self.fail() from None
        except ValueError as error:  # e.g. an integer of more than 4,300 digits
            self.problem(
                f"invalid TOML in the front matter: {placeholders.shown(str(error), placeholders.REASON_CHARACTERS)}", line=2
            )
            raise self.fail() from None
        self.unknown_keys(data, TOP_KEYS, "front matter")
        lesson_id = self.typed(data, "id", str, required=True, default="")
        if lesson_id and not ID_PATTERN.fullmatch(lesson_id):
            self.problem(f'id must be lowercase letters, digits and dashes, such as "deep-chain", not "{lesson_id}"', "id")
        title = lesson_text(self.typed(data, "title", str, required=True, default=""))
        if placeholders.has_placeholder(title):
            self.problem("the title is shown before any number is computed: it cannot hold placeholders", "title")
        order = self.typed(data, "order", int, required=True)
        setup = self.setup(data.get("visualizer"))
        steps, notes = self.script(data.get("script", []), setup)
        checks = self.checks(data.get("check", []))
        steps, notes = self.tour_order(steps, notes, data.get("script", []), checks)
        body_template = self.body(body, body_line)
        self.check_work(setup, steps)
        if self.problems:
            raise self.fail()
        assert setup is not None
        return Lesson(lesson_id, title, order, self.path, setup, LessonSource(body_template, steps, notes, checks))

    def count_placeholders(self) -> None:
        """Refuse a file with too many placeholders before parsing any (each may run the engine)."""
        for count, (start, _) in enumerate(placeholders.spans(self.source), start=1):
            if count > limits.MAX_PLACEHOLDERS:
                line = self.source.count("\n", 0, start) + 1
                self.problem(f"more than {limits.MAX_PLACEHOLDERS:,} placeholders: the most a lesson may hold", line=line)
                raise self.fail()

    def check_work(self, setup: Setup | None, steps: tuple[ScriptStep, ...]) -> None:
        """Refuse a file that asks the engine for more than limits.MAX_ENGINE_WORK (its facts and its script)."""
        work = sum(self.work.values())
        if setup is not None:
            furthest: dict[str, tuple[int, dict[str, Any]]] = {}  # the script's runs, per problem and hyperparameters
            for step in steps:
                spec = step.problem or setup.problem
                key = json.dumps([spec, (step.hp or setup.hp).as_dict()], sort_keys=True)
                furthest[key] = (max(step.step, furthest.get(key, (0, spec))[0]), spec)
            work += sum(last * len(setup.optimizers) * limits.update_cost(spec) for last, spec in furthest.values())
        if work > limits.MAX_ENGINE_WORK:
            self.problem(
                f"asks the engine for about {work:,.0f} updates' work (its placeholders and script), more than the "
                f"{limits.MAX_ENGINE_WORK:,} a lesson may: use fewer updates, runs or a smaller problem",
                line=1,
            )

    def split(self) -> tuple[str, str, int]:
        lines = self.source.split("\n")
        if not lines or lines[0].strip() != FENCE:
            self.problem(
                f"a lesson starts with a line '{FENCE}', then its TOML front matter, then '{FENCE}' and the text", line=1
            )
            raise self.fail()
        for index in range(1, len(lines)):
            if lines[index].strip() == FENCE:
                return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
        self.problem(f"the front matter opened on line 1 is never closed with a '{FENCE}' line", line=1)
        raise self.fail()

    def toml_problem(self, error: Exception) -> LessonError:
        message = str(error)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = None
        if found:
            line = int(found.group(1)) + 1  # the front matter starts on the file's second line
            message = message[: found.start()].strip() + f" (column {found.group(2)})"
        message = message[:1].lower() + message[1:]
        self.problem(f"invalid TOML in the front matter: {message}", line=line)
        return self.fail()

    # -- fields ------------------------------------------------------------------

    def unknown_keys(self, table: dict[str, Any], known: tuple[str, ...], name: str) -> None:
        for key in table:
            if key not in known:
                where = "" if self.label else f" in {name}"  # a label already says where
                self.problem(f"unknown field {key!r}{where}; known: {', '.join(known)}", key)

    def typed(self, table: dict[str, Any], key: str, kind: type, required: bool = False, default: Any = None) -> Any:
        if key not in table:
            if required:
                self.problem(f"missing field {key!r}")
            return default
        value = table[key]
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            self.problem(f"{key} must be {_TYPE_NAMES[kind]}, not {_describe(value)}", key)
            return default
        return value

    def text_field(self, table: dict[str, Any], key: str, required: bool = False) -> Template:
        value = self.typed(table, key, str, required=required, default="")
        if key in PROSE_KEYS:
            for _, token in placeholders.hand_typed_results(value):
                self.problem(_typed_result(token), key)
        return self.template(value, key)

    def template(self, text: str, *key: Any, default_format: str | None = None) -> Template:
        """`text` with its placeholders parsed and checked (facts exist, arguments fit), to be filled on first use."""
        text = lesson_text(text)
        parts, errors = placeholders.parse_text(text, FACTS)
        self.count_work(parts)
        for error in errors:
            self.problem(str(error), *key)
        line = self.key_lines.line(*self.where, *key) if key and self.key_lines else None
        return Template(text, parts, line, self.label, default_format)

    def body(self, body: str, first_line: int) -> Template:
        """The Markdown text's template: each placeholder knows its own line."""
        body = lesson_text(body)
        self.check_tables(body, first_line)
        parts, errors = placeholders.parse_text(body, FACTS, first_line)
        self.count_work(parts)
        for error in errors:
            self.problem(str(error), line=error.line)
        for offset, token in placeholders.hand_typed_results(body):
            self.problem(_typed_result(token), line=first_line + body.count("\n", 0, offset))
        return Template(body, parts, first_line)

    def check_tables(self, body: str, first_line: int) -> None:
        """Refuse Markdown tables wider than limits.MAX_TABLE_COLUMNS, or more than limits.MAX_TABLE_CELLS in all.

        A table is a header row, a delimiter row (`|---|:--:|`) and the rows under it up to a line without `|`."""
        lines = body.split("\n")
        cells = 0
        for index, line in enumerate(lines[1:], start=1):
            if "|" not in line or "-" not in line:
                continue
            delimiters = line.strip().removeprefix("|").removesuffix("|").split("|")
            if not all(TABLE_DELIMITER_CELL.fullmatch(cell.strip()) for cell in delimiters):
                continue
            columns = len(delimiters)
            if columns > limits.MAX_TABLE_COLUMNS:
                self.problem(
                    f"a Markdown table of {columns} columns: a lesson's tables may have at most {limits.MAX_TABLE_COLUMNS}",
                    line=first_line + index - 1,
                )
                return
            rows = next((n for n, row in enumerate(lines[index + 1 :]) if "|" not in row), len(lines) - index - 1)
            cells += columns * (rows + 1)
            if cells > limits.MAX_TABLE_CELLS:
                self.problem(
                    f"Markdown tables of {cells:,} cells up to here: a lesson may have at most {limits.MAX_TABLE_CELLS:,}",
                    line=first_line + index - 1,
                )
                return

    def count_work(self, parts: tuple[str | placeholders.Placeholder, ...]) -> None:
        for part in parts:
            if isinstance(part, placeholders.Placeholder):
                function = FACTS[part.name]
                key = limits.work_key(function, part.name, part.args, part.kwargs)
                work = limits.fact_work(function, part.name, part.args, part.kwargs)
                self.work[key] = max(work, self.work.get(key, 0.0))

    # -- sections ----------------------------------------------------------------

    def setup(self, table: Any) -> Setup | None:
        if table is None:
            self.problem("missing table [visualizer]: say which view, problem and optimizers the lesson starts with", line=2)
            return None
        self.where = ("visualizer",)
        try:
            if not isinstance(table, dict):
                raise self.problem("visualizer must be a table")
            self.unknown_keys(table, VISUALIZER_KEYS, "[visualizer]")
            view = self.typed(table, "view", str, required=True)
            if view is not None and view not in VIEWS:
                self.problem(f"unknown view {view!r}; known: {', '.join(VIEWS)}", "view")
            spec = self.problem_spec(table.get("problem", {"kind": "matrix"}), None, ("problem",))
            optimizers = self.optimizers(table)
            hp = self.hyperparameters(table, Hyperparameters())
            if spec is not None and view is not None:
                self.view_fits(view, spec)
            if view is None or spec is None or optimizers is None or hp is None:
                return None
            return Setup(view, spec, optimizers, hp)
        except _Invalid:
            return None
        finally:
            self.where = ()

    def view_fits(self, view: str, spec: dict[str, Any]) -> None:
        """The problem's type decides its view (docs/architecture.md): a lesson names that view, or the
        plain grids ("matrix", "race" for several runs), which any problem but the network can start in."""
        problem = make_problem(spec)
        if view == problem.view or (view in ("matrix", "race") and problem.view != "network"):
            return
        kinds = sorted(kind for kind, cls in PROBLEM_KINDS.items() if cls.view == view)
        if kinds and view not in ("matrix", "race"):
            self.problem(f"view {view!r} needs problem kind {' or '.join(map(repr, kinds))}, not {problem.kind!r}", "view")
        else:
            together = f"problem kind {problem.kind!r} and view {problem.view!r} go together"
            self.problem(f"{together}, not {problem.kind!r} with {view!r}", "view")

    def problem_spec(self, value: Any, base: dict[str, Any] | None, key: tuple[Any, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(f'problem must be a table such as {{ kind = "deep-chain", depth = 20 }}, not {_describe(value)}', *key)
            return None
        for name, parameter in value.items():
            # Names and numbers only: a list or a table here (kind = ["matrix"]) is no parameter.
            if not isinstance(parameter, (str, int, float)):
                self.problem(f"problem {name} must be a number or a name in quotes, not {_describe(parameter)}", *key, name)
                return None
        spec = dict(value) if base is None or value.get("kind", base.get("kind")) != base.get("kind") else {**base, **value}
        try:
            make_problem(spec)
        except (ProblemError, ValueError, TypeError, OverflowError) as error:
            message = placeholders.shown(str(error), placeholders.REASON_CHARACTERS)
            named = [k for k in spec if f"'{k}'" in message or message.startswith(f"{k} ")]
            named += [k for k in spec if isinstance(spec[k], str) and repr(spec[k]) in message]
            culprit = named[0] if named else None
            self.problem(message, *key, *((culprit,) if culprit else ()))
            return None
        return spec

    def optimizers(self, table: dict[str, Any]) -> tuple[str, ...] | None:
        names = self.typed(table, "optimizers", list, required=True)
        if names is None:
            return None
        if not names:
            self.problem('optimizers is empty: name at least one, such as ["rmsprop"]', "optimizers")
            return None
        for name in names:
            if not isinstance(name, str) or name not in OPTIMIZERS:
                shown = repr(name) if isinstance(name, str) else _describe(name)
                self.problem(f"unknown optimizer {placeholders.shown(shown)}; known: {', '.join(OPTIMIZERS)}", "optimizers")
                return None
        return tuple(names)

    def hyperparameters(self, table: dict[str, Any], base: Hyperparameters) -> Hyperparameters | None:
        hp = base
        for name in Hyperparameters.NAMES:
            if name in table:
                try:
                    hp = hp.with_value(name, table[name])
                except HyperparameterError as error:
                    self.problem(placeholders.shown(str(error), placeholders.REASON_CHARACTERS), name)
                    return None
                except (OverflowError, ValueError, TypeError):  # e.g. a whole number of 400 digits
                    self.problem(f"{name} must be a number such as 0.001, not {_describe(table[name])}", name)
                    return None
        return hp

    def script(self, entries: Any, setup: Setup | None) -> tuple[tuple[ScriptStep, ...], tuple[Template, ...]]:
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.problem("script must be [[script]] tables", "script")
            return (), ()
        if not entries:
            return (ScriptStep(0, None, ""),), (Template("", (), None),)
        if len(entries) > limits.MAX_SCRIPT_STEPS:
            self.problem(
                f"{len(entries):,} [[script]] steps: a lesson may have at most {limits.MAX_SCRIPT_STEPS}",
                "script",
                limits.MAX_SCRIPT_STEPS,  # the line of the first one too many
            )
            return (), ()
        steps, notes = [], []
        for index, entry in enumerate(entries):
            self.where, self.label = ("script", index), f"[[script]] #{index + 1}: "
            try:
                step, note = self.script_step(entry, setup)
                steps.append(step)
                notes.append(note)
            except _Invalid:
                pass
            finally:
                self.where, self.label = (), ""
        return tuple(steps), tuple(notes)

    def script_step(self, entry: dict[str, Any], setup: Setup | None) -> tuple[ScriptStep, Template]:
        self.unknown_keys(entry, SCRIPT_KEYS, "[[script]]")
        step = self.typed(entry, "step", int, required=True)
        if step is None:
            raise _Invalid()
        if not 0 <= step <= MAX_SCRIPT_STEP:
            raise self.problem(f"step {_shown_value(step)} is out of range 0..{MAX_SCRIPT_STEP}", "step")
        note = self.text_field(entry, "note")
        if setup is None:
            raise _Invalid()
        spec = None
        if "problem" in entry:
            spec = self.problem_spec(entry["problem"], setup.problem, ("problem",))
            if spec is None:
                raise _Invalid()
        hp = self.hyperparameters(entry, setup.hp)
        if hp is None:
            raise _Invalid()
        inspect = self.inspect(entry, spec or setup.problem)
        phase = self.phase(entry, setup.optimizers)
        after = self.typed(entry, "after", str)
        return ScriptStep(step, inspect, "", spec, hp if hp != setup.hp else None, phase, after), note

    def tour_order(
        self, steps: tuple[ScriptStep, ...], notes: tuple[Template, ...], entries: Any, checks: tuple[CheckSource, ...]
    ) -> tuple[tuple[ScriptStep, ...], tuple[Template, ...]]:
        """The script in the order the learner meets it: the stops that wait for no check, then each check's
        (`after = "check-id"`), in the order of the checks. A name that is no check's is reported with its line."""
        ids = [check.id for check in checks]
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            after = entry.get("after") if isinstance(entry, dict) else None
            if isinstance(after, str) and after not in ids:
                self.where, self.label = ("script", index), f"[[script]] #{index + 1}: "
                known = ", ".join(ids) or "none"
                self.problem(
                    f"after = {placeholders.shown(after)!r} names no check of this lesson (its checks: {known})", "after"
                )
                self.where, self.label = (), ""
        pairs = sorted(
            zip(steps, notes, strict=True), key=lambda pair: -1 if pair[0].after is None else _index(ids, pair[0].after)
        )
        return tuple(step for step, _ in pairs), tuple(note for _, note in pairs)

    def phase(self, entry: dict[str, Any], optimizers: tuple[str, ...]) -> str | None:
        name = self.typed(entry, "phase", str)
        if name is None or optimizers[0] not in OPTIMIZERS:  # an unknown optimizer is reported where it is named
            return name
        known = OPTIMIZERS[optimizers[0]].phase_names
        if name not in known:
            raise self.problem(f"{optimizers[0]} has no phase {name!r}; its phases: {', '.join(known)}", "phase")
        return name

    def inspect(self, entry: dict[str, Any], spec: dict[str, Any]) -> tuple[int, ...] | None:
        if "inspect" not in entry:
            return None
        value = entry["inspect"]
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise self.problem(f"inspect must be an element index such as [0, 2], not {_describe(value)}", "inspect")
        shape = make_problem(spec).start().shape
        if len(value) != len(shape) or not all(0 <= i < n for i, n in zip(value, shape, strict=True)):
            size = "x".join(str(n) for n in shape)
            raise self.problem(
                f"inspect {_shown_value(value)} is not an element of x, which is {size} (indices from 0)", "inspect"
            )
        return tuple(value)

    def checks(self, entries: Any) -> tuple[CheckSource, ...]:
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.problem("check must be [[check]] tables", "check")
            return ()
        if len(entries) > limits.MAX_CHECKS:
            self.problem(
                f"{len(entries):,} [[check]] tables: a lesson may have at most {limits.MAX_CHECKS}", "check", limits.MAX_CHECKS
            )
            return ()
        checks: list[CheckSource] = []
        for index, entry in enumerate(entries):
            name = placeholders.shown(entry["id"]) if isinstance(entry.get("id"), str) else f"#{index + 1}"
            self.where, self.label = ("check", index), f"[[check]] {name}: "
            try:
                check = self.check(entry)
                if any(other.id == check.id for other in checks):
                    raise self.problem(f"another check has id {check.id!r}", "id")
                checks.append(check)
            except _Invalid:
                pass
            finally:
                self.where, self.label = (), ""
        return tuple(checks)

    def check(self, entry: dict[str, Any]) -> CheckSource:
        before = len(self.problems)
        self.unknown_keys(entry, CHECK_KEYS, "[[check]]")
        check_id = self.typed(entry, "id", str, required=True)
        prompt = self.text_field(entry, "prompt", required=True)
        kind = self.typed(entry, "kind", str, required=True)
        if kind is not None and kind not in CHECK_KINDS:
            self.problem(f"unknown kind {kind!r}; known: {', '.join(CHECK_KINDS)}", "kind")
        hint = self.text_field(entry, "hint", required=True)
        explanation = self.text_field(entry, "explanation", required=True)
        tolerance = self.typed(entry, "tolerance", float, default=DEFAULT_TOLERANCE)
        if tolerance is not None and not 0 <= tolerance < 1:
            self.problem(f"tolerance is relative and must be in [0, 1), not {_shown_value(tolerance)}", "tolerance")
        if kind == "choice" and "tolerance" in entry:
            self.problem("tolerance is for number checks: a choice is right or wrong", "tolerance")
        choices = self.choices(entry, kind)
        answer = self.answer(entry, kind, choices)
        if len(self.problems) > before or answer is None:
            raise _Invalid()
        return CheckSource(check_id, kind, float(tolerance), prompt, choices, answer, hint, explanation)

    def choices(self, entry: dict[str, Any], kind: str | None) -> tuple[Template, ...]:
        if kind != "choice":
            if "choices" in entry:
                self.problem('choices belong to kind = "choice"; a number check takes a typed number', "choices")
            return ()
        values = self.typed(entry, "choices", list, required=True, default=[])
        if values and not all(isinstance(v, str) for v in values):
            self.problem("choices must be a list of texts in quotes", "choices")
            return ()
        if values is not None and len(values) < 2:
            self.problem("a choice check needs at least two choices", "choices")
        if len(set(values)) != len(values):
            self.problem("two choices are the same", "choices")
        return tuple(self.template(v, "choices") for v in values)

    def answer(self, entry: dict[str, Any], kind: str | None, choices: tuple[Template, ...]) -> Template | None:
        if "answer" not in entry:
            self.problem("missing field 'answer'")
            return None
        raw = entry["answer"]
        if kind == "number":
            if not isinstance(raw, str) or not placeholders.is_single_placeholder(raw):
                self.problem(
                    f'a number answer must come from the engine: write answer = "{{{{ some_fact(...) }}}}", not {_describe(raw)}',
                    "answer",
                )
                return None
            return self.template(raw, "answer", default_format="exact")
        if not isinstance(raw, str):
            self.problem(f"answer must be one of the choices, in quotes, not {_describe(raw)}", "answer")
            return None
        raw = lesson_text(raw)  # as its choices are
        texts = [raw, *(choice.raw for choice in choices)]
        if choices and not any(placeholders.has_placeholder(t) for t in texts) and raw not in texts[1:]:
            # Without placeholders this can be checked now; otherwise when the check is filled.
            shown = ", ".join(f'"{c.raw}"' for c in choices)
            self.problem(f'answer "{raw}" is not among its choices: {shown}', "answer")
            return None
        return self.template(raw, "answer")


def _index(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)

"""The lesson file format, its loader and its validator.

A lesson is one Markdown file: TOML front matter between two `+++` lines (id, title,
order, what the visualizer starts with, a headless script and the checks), then the
text. lessons/README.md documents the format for teachers. A broken file becomes a
LessonProblem (file, line, what is wrong); it never stops the other lessons loading.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.course import placeholders
from tutor.course.checks import Verdict, grade
from tutor.course.facts import FACTS
from tutor.engine.hyper import HyperparameterError, Hyperparameters
from tutor.engine.optimizers import OPTIMIZERS
from tutor.engine.problems import ProblemError, make_problem

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

VIEWS = ("matrix", "chain", "surface", "race")
CHECK_KINDS = ("number", "choice")
MAX_SCRIPT_STEP = 100_000
DEFAULT_TOLERANCE = 0.01
FENCE = "+++"
LESSONS_DIR_ENV = "TUTOR_LESSONS_DIR"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")

TOP_KEYS = ("id", "title", "order", "visualizer", "script", "check")
VISUALIZER_KEYS = ("view", "problem", "optimizers", *Hyperparameters.NAMES)
SCRIPT_KEYS = ("step", "inspect", "note", "phase", "problem", *Hyperparameters.NAMES)
CHECK_KEYS = ("id", "prompt", "kind", "choices", "answer", "tolerance", "hint", "explanation")


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
    of the next update ("gradient", "decay", "add", "step", "momentum", "move") to show
    mid-update; `problem` and `hp` are this snapshot's problem spec and hyperparameters
    when they differ from the setup's.
    """

    step: int
    inspect: tuple[int, ...] | None
    note: str
    problem: dict | None = None
    hp: Hyperparameters | None = None
    phase: str | None = None


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    path: Path
    text: str  # Markdown, placeholders filled
    setup: Setup
    script: tuple[ScriptStep, ...]
    checks: tuple[Check, ...]


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


@dataclass
class Course:
    lessons: list[Lesson]
    problems: list[LessonProblem] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    @property
    def ids(self) -> list[str]:
        return [lesson.id for lesson in self.lessons]


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


def load_course(directory: Path | None = None) -> Course:
    """Every lesson in `directory` (None: the shipped lessons), in order; broken files become problems."""
    directory = lessons_directory() if directory is None else Path(directory)
    if not directory.is_dir():
        return Course([], [LessonProblem(directory, None, "no such lessons directory")])
    lessons: list[Lesson] = []
    problems: list[LessonProblem] = []
    seen: dict[str, Lesson] = {}
    for path in lesson_files(directory):
        try:
            lesson = load_lesson(path)
        except LessonError as error:
            problems.extend(error.problems)
            continue
        if lesson.id in seen:
            line = _FrontMatterLines.of_file(path).line("id")
            problems.append(LessonProblem(path, line, f"duplicate lesson id {lesson.id!r}: {_display_path(seen[lesson.id].path)} has it too"))
            continue
        seen[lesson.id] = lesson
        lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.path.name))
    return Course(lessons, problems)


def load_lesson(path: Path) -> Lesson:
    """Read and validate one lesson file; raises LessonError naming the file, the line and the fault."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(LessonProblem(path, None, f"cannot read the file: {error}")) from None
    return _Reader(path, source).lesson()


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
    def of_file(cls, path: Path) -> "_FrontMatterLines":
        lines = path.read_text(encoding="utf-8").split("\n")
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
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    return repr(value)


class _Invalid(Exception):
    """Stops reading one section; the problem is already recorded."""


class _Reader:
    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.problems: list[LessonProblem] = []
        self.where: tuple[Any, ...] = ()
        self.label = ""

    # -- reporting ---------------------------------------------------------------

    def problem(self, message: str, *key: Any, line: int | None = None) -> _Invalid:
        if line is None:
            # A missing top-level field has no line of its own: point at the front matter's start.
            line = (self.key_lines.line(*self.where, *key) if hasattr(self, "key_lines") else None) or 1
        self.problems.append(LessonProblem(self.path, line, self.label + message))
        return _Invalid()

    def fail(self) -> LessonError:
        return LessonError(self.problems[0], self.problems)

    # -- the file ----------------------------------------------------------------

    def lesson(self) -> Lesson:
        front, body, body_line = self.split()
        self.key_lines = _FrontMatterLines(front, 2)
        try:
            data = tomllib.loads(front)
        except tomllib.TOMLDecodeError as error:
            raise self.toml_problem(error) from None
        self.unknown_keys(data, TOP_KEYS, "front matter")
        lesson_id = self.text_field(data, "id", required=True)
        if lesson_id and not ID_PATTERN.fullmatch(lesson_id):
            self.problem(f'id must be lowercase letters, digits and dashes, such as "deep-chain", not "{lesson_id}"', "id")
        title = self.text_field(data, "title", required=True)
        order = self.typed(data, "order", int, required=True)
        setup = self.setup(data.get("visualizer"))
        script = self.script(data.get("script", []), setup)
        checks = self.checks(data.get("check", []))
        text = self.fill_body(body, body_line)
        if self.problems:
            raise self.fail()
        assert setup is not None
        return Lesson(lesson_id, title, order, self.path, text, setup, script, checks)

    def split(self) -> tuple[str, str, int]:
        lines = self.source.split("\n")
        if not lines or lines[0].strip() != FENCE:
            self.problem(f"a lesson starts with a line '{FENCE}', then its TOML front matter, then '{FENCE}' and the text", line=1)
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
                self.problem(f"unknown field {key!r} in {name}; known: {', '.join(known)}", key)

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

    def text_field(self, table: dict[str, Any], key: str, required: bool = False) -> str:
        value = self.typed(table, key, str, required=required, default="")
        return self.fill(value, key) if value else value

    def fill(self, text: str, *key: Any, default_format: str | None = None) -> str:
        try:
            return placeholders.fill(text, FACTS, default_format)
        except placeholders.PlaceholderError as error:
            self.problem(str(error), *key)
            return text

    def fill_body(self, body: str, first_line: int) -> str:
        filled: list[str] = []
        position = 0
        for match in placeholders.PATTERN.finditer(body):
            line = first_line + body.count("\n", 0, match.start())
            filled.append(body[position : match.start()])
            try:
                placeholder = placeholders.parse(match.group(0), match.group(1), match.start(), FACTS)
                filled.append(placeholder.render(FACTS))
            except placeholders.PlaceholderError as error:
                saved, self.label = self.label, ""
                self.problem(str(error), line=line)
                self.label = saved
                filled.append(match.group(0))
            position = match.end()
        filled.append(body[position:])
        return "".join(filled).strip("\n") + "\n"

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
            if spec is not None and view in ("chain", "surface"):
                self.view_fits(view, spec)
            if view is None or spec is None or optimizers is None or hp is None:
                return None
            return Setup(view, spec, optimizers, hp)
        except _Invalid:
            return None
        finally:
            self.where = ()

    def view_fits(self, view: str, spec: dict[str, Any]) -> None:
        problem = make_problem(spec)
        if view == "chain" and not hasattr(problem, "layer_gradients"):
            self.problem(f"view 'chain' needs problem kind 'deep-chain', not {spec.get('kind')!r}", "view")
        if view == "surface" and not hasattr(problem, "loss_grid"):
            self.problem(f"view 'surface' needs a 2-D problem (kind 'valley' or 'rosenbrock'), not {spec.get('kind')!r}", "view")

    def problem_spec(self, value: Any, base: dict[str, Any] | None, key: tuple[Any, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(f"problem must be a table such as {{ kind = \"deep-chain\", depth = 20 }}, not {_describe(value)}", *key)
            return None
        spec = dict(value) if base is None or value.get("kind", base.get("kind")) != base.get("kind") else {**base, **value}
        try:
            make_problem(spec)
        except ProblemError as error:
            message = str(error)
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
            self.problem("optimizers is empty: name at least one, such as [\"rmsprop\"]", "optimizers")
            return None
        for name in names:
            if name not in OPTIMIZERS:
                self.problem(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}", "optimizers")
                return None
        return tuple(names)

    def hyperparameters(self, table: dict[str, Any], base: Hyperparameters) -> Hyperparameters | None:
        hp = base
        for name in Hyperparameters.NAMES:
            if name in table:
                try:
                    hp = hp.with_value(name, table[name])
                except HyperparameterError as error:
                    self.problem(str(error), name)
                    return None
        return hp

    def script(self, entries: Any, setup: Setup | None) -> tuple[ScriptStep, ...]:
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.problem("script must be [[script]] tables", "script")
            return ()
        if not entries:
            return (ScriptStep(0, None, ""),)
        steps = []
        for index, entry in enumerate(entries):
            self.where, self.label = ("script", index), f"[[script]] #{index + 1}: "
            try:
                steps.append(self.script_step(entry, setup))
            except _Invalid:
                pass
            finally:
                self.where, self.label = (), ""
        return tuple(steps)

    def script_step(self, entry: dict[str, Any], setup: Setup | None) -> ScriptStep:
        self.unknown_keys(entry, SCRIPT_KEYS, "[[script]]")
        step = self.typed(entry, "step", int, required=True)
        if step is None:
            raise _Invalid()
        if not 0 <= step <= MAX_SCRIPT_STEP:
            raise self.problem(f"step {step} is out of range 0..{MAX_SCRIPT_STEP}", "step")
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
        phase = self.phase(entry, spec or setup.problem, setup.optimizers, hp)
        return ScriptStep(step, inspect, note, spec, hp if hp != setup.hp else None, phase)

    def phase(self, entry: dict[str, Any], spec: dict[str, Any], optimizers: tuple[str, ...], hp: Hyperparameters) -> str | None:
        name = self.typed(entry, "phase", str)
        if name is None:
            return None
        known = phase_names(spec, optimizers[0], hp)
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
        if len(value) != len(shape) or not all(0 <= i < n for i, n in zip(value, shape)):
            size = "x".join(str(n) for n in shape)
            raise self.problem(f"inspect {value} is not an element of x, which is {size} (indices from 0)", "inspect")
        return tuple(value)

    def checks(self, entries: Any) -> tuple[Check, ...]:
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            self.problem("check must be [[check]] tables", "check")
            return ()
        checks: list[Check] = []
        for index, entry in enumerate(entries):
            name = entry.get("id") if isinstance(entry.get("id"), str) else f"#{index + 1}"
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

    def check(self, entry: dict[str, Any]) -> Check:
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
            self.problem(f"tolerance is relative and must be in [0, 1), not {tolerance}", "tolerance")
        choices = self.choices(entry, kind)
        answer = self.answer(entry, kind, choices)
        if len(self.problems) > before or answer is None:
            raise _Invalid()
        return Check(check_id, prompt, kind, choices, answer, float(tolerance), hint, explanation)

    def choices(self, entry: dict[str, Any], kind: str | None) -> tuple[str, ...]:
        if kind != "choice":
            if "choices" in entry:
                self.problem("choices belong to kind = \"choice\"; a number check takes a typed number", "choices")
            return ()
        values = self.typed(entry, "choices", list, required=True, default=[])
        if values and not all(isinstance(v, str) for v in values):
            self.problem("choices must be a list of texts in quotes", "choices")
            return ()
        if values is not None and len(values) < 2:
            self.problem("a choice check needs at least two choices", "choices")
        filled = tuple(self.fill(v, "choices") for v in values)
        if len(set(filled)) != len(filled):
            self.problem("two choices are the same", "choices")
        return filled

    def answer(self, entry: dict[str, Any], kind: str | None, choices: tuple[str, ...]) -> str | None:
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
            answer = self.fill(raw, "answer", default_format="exact")
            try:
                float(answer)
            except ValueError:
                if answer != raw:
                    self.problem(f"answer {raw} gave {answer!r}, which is not a number", "answer")
                return None
            return answer
        if not isinstance(raw, str):
            self.problem(f"answer must be one of the choices, in quotes, not {_describe(raw)}", "answer")
            return None
        answer = self.fill(raw, "answer")
        if choices and answer not in choices:
            shown = ", ".join(f'"{c}"' for c in choices)
            self.problem(f'answer "{answer}" is not among its choices: {shown}', "answer")
            return None
        return answer

"""`tutor --run-all` and `tutor check-lesson`: every lesson's script as plain text.

Each lesson prints its title, its text (Markdown rendered by Rich), one snapshot per
script step drawn by the same views the app uses, and its checks with the engine's
answers. Fixed width, no colour, no clock: the output is the same bytes run after run,
so tests keep it as golden files.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from tutor.course import Check, Course, Lesson, LessonError, LessonProblem, ScriptStep, fill, load_course, load_lesson
from tutor.course.filler import read_shipped_values
from tutor.course.model import display_path, printable
from tutor.course.reader import NO_LESSON_FILES, front_matter_line, lesson_files
from tutor.engine import Run, make_problem
from tutor.engine.experiments import SEED_PRINTED_LOSSES
from tutor.engine.hyper import Hyperparameters
from tutor.views import format as fmt
from tutor.views.inspector import element_update, phase_update
from tutor.views.status import status_line
from tutor.views.surface import surface_snapshot
from tutor.views.tour import ScriptRuns, flat_index, stop_phases
from tutor.views.visualizer import grid_rows, layer_chart, phase_record, quantity_grids, run_chart, snapshot

DEFAULT_WIDTH = 100
CHART_HEIGHT = 14
BAR_CHART_HEIGHT = 12
SEED_STEPS = 300


def console_for(file: TextIO, width: int) -> Console:
    """A console whose output depends on nothing but what is printed: no colour, no terminal, fixed width."""
    return Console(
        file=file,
        width=width,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
        _environ={},
    )


def lesson_snapshot(lesson: Lesson, width: int = DEFAULT_WIDTH) -> str:
    """The whole text snapshot of one lesson."""
    buffer = io.StringIO()
    console = console_for(buffer, width)
    setup, filled = lesson.setup, fill(lesson)
    console.print(Rule(f"Lesson {lesson.order}: {lesson.title}", characters="═"))
    problem = make_problem(setup.problem)
    console.print(Text(f"id {lesson.id} · view {setup.view} · {problem.title()} · optimizers {', '.join(setup.optimizers)}"))
    console.print()
    console.print(Markdown(filled.text, hyperlinks=False))
    runs = ScriptRuns(lesson)
    stops = list(enumerate(filled.script, start=1))

    def print_stops(after: str | None) -> None:
        """The script's stops that wait for check `after` (None: for none), as the tour shows them."""
        for number, script_step in stops:
            if script_step.after != after:
                continue
            console.print()
            waits = f", after check {check_ids.index(after) + 1}" if after in check_ids else ""
            console.print(Rule(f"script {number}/{len(stops)}: update {script_step.step}{waits}", characters="─"))
            if script_step.note:
                console.print(Text(script_step.note))
                console.print()
            console.print(script_view(lesson, script_step, runs.at(script_step), width))

    check_ids = [check.id for check in filled.checks]
    print_stops(None)
    for number, check in enumerate(filled.checks, start=1):
        console.print()
        console.print(Rule(f"check {number}/{len(filled.checks)}: {check.id}", characters="─"))
        console.print(Text(check.prompt))
        for index, choice in enumerate(check.choices, start=1):
            console.print(Text(f"  {index}. {choice}"))
        source = "answer (typed in the lesson)" if check.typed else "engine's answer"
        console.print(Text(f"{source}: {check.shown_answer}{_answer_details(check)}"))
        console.print(Text(f"hint: {check.hint}"))
        console.print(Text(f"explanation: {check.explanation}"))
        if check.reveal:  # the lesson's text that waited for this check
            console.print(Text("shown after the answer:"))
            console.print(Markdown(check.reveal, hyperlinks=False))
        print_stops(check.id)
    for after in dict.fromkeys(step.after for _, step in stops if step.after and step.after not in check_ids):
        print_stops(after)  # waiting for a check left out (its placeholder failed): shown, not lost
    # Rich pads Markdown lines to the full width; trailing blanks only make diffs noisy.
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def script_view(lesson: Lesson, script_step: ScriptStep, runs: Sequence[Run], width: int) -> RenderableType:
    """What the lesson's view shows at this script step."""
    cursor = flat_index(runs[0], script_step.inspect)
    if script_step.phase:
        return Group(*(phase_view(run, script_step.phase, cursor, width) for run in runs))
    view = lesson.setup.view
    if view == "race":
        return race_view(runs, width, cursor)
    if view == "chain":
        return Group(*(_titled(run, len(runs), chain_view(run, width, cursor)) for run in runs))
    if view == "surface":
        return surface_snapshot(list(runs), width, CHART_HEIGHT + 8, False)
    if view == "network":
        return Group(*(_titled(run, len(runs), network_view(run, width, cursor)) for run in runs))
    return Group(*(_titled(run, len(runs), snapshot(run, width, cursor=cursor, colour=False)) for run in runs))


def _titled(run: Run, count: int, body: RenderableType) -> RenderableType:
    if count == 1:
        return body
    return Group(Text(f"[{run.optimizer.label}]"), body, Text(""))


def chain_view(run: Run, width: int, cursor: int | None) -> RenderableType:
    """The per-layer gradient bars at the current x, then the run's grids (and loss chart)."""
    bars = layer_chart(run, width, BAR_CHART_HEIGHT + 1, colour=False)
    return Group(bars, Text(""), snapshot(run, width, cursor=cursor, colour=False))


def network_view(run: Run, width: int, cursor: int | None) -> RenderableType:
    """The digits network in plain text: status, the loss chart, the layer bars, the test digits' guesses, the inspector."""
    from tutor.engine.digits import as_network
    from tutor.views.network import digit_lines, layer_bars

    parts: list[RenderableType] = [status_line(run, colour=False)]
    if run.step > 0:
        parts += [Text(""), run_chart([run], width, CHART_HEIGHT, colour=False)]
    parts += [Text(""), *layer_bars(run, run.current, as_network(run.problem).layer_of(cursor or 0)), Text("")]
    parts += digit_lines(run, run.current)[4:]  # the guesses and the test loss (the images need colour)
    if cursor is not None:
        parts += [Text("inspector", style="bold"), *(Text(line) for line in element_update(run, cursor))]
    return Group(*parts)


def race_view(runs: Sequence[Run], width: int, cursor: int | None) -> RenderableType:
    """The runs' losses in one chart, then each run's A@X (as the seed prints it) and its loss at full precision."""
    parts: list[RenderableType] = [status_line(run, colour=False) for run in runs]
    if runs[0].step > 0:  # at step 0 the chart would be a single dot
        parts += [Text(""), run_chart(list(runs), width, CHART_HEIGHT, colour=False)]
    for run in runs:
        record = run.current
        parts.append(Text(""))
        parts.append(Text(f"{run.optimizer.label} after {record.step} updates", style="bold"))
        product = getattr(run.problem, "product", None)
        if product is not None:
            parts.append(Text(f"(A @ X).round(2) =\n{seed_array(product(record.x))}"))
        parts.append(Text(f"loss = {fmt.exact(record.loss)}{_seed_comparison(run)}"))
        if cursor is not None:
            parts.append(Text("inspector", style="bold"))
            parts.extend(Text(line) for line in element_update(run, cursor))
    return Group(*parts)


def seed_array(matrix: np.ndarray) -> str:
    """`np.round(m, 2)` printed as the seed's notebook prints it, whatever the global print options."""
    with np.printoptions(
        precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False, floatmode="maxprec", sign="-", legacy=False
    ):
        return repr(np.round(matrix, 2))


def _seed_comparison(run: Run) -> str:
    """`  (the seed printed 0.54...)` when this run is one of the seed's three at step 300."""
    printed = SEED_PRINTED_LOSSES.get(run.optimizer.key)
    seed_setup = run.problem.spec() == {"kind": "matrix", "variant": "seed"} and run.hp == Hyperparameters()
    if printed is None or not seed_setup or run.current.step != SEED_STEPS:
        return ""
    return f"   (the seed printed {fmt.exact(printed)})"


def phase_view(run: Run, phase_name: str, cursor: int | None, width: int) -> RenderableType:
    """One narrated phase of the update after the current step, drawn with its half-updated arrays."""
    found = stop_phases(run, phase_name, cursor)
    if found is None:
        return Text(f"[{run.optimizer.label}] has no phase {phase_name!r}")
    phases, index = found
    phase = phases[index]
    record = run.current
    heading = Text(
        f"[{run.optimizer.label}] update {record.step} -> {record.step + 1}, phase {index + 1}/{len(phases)}: {phase.name}"
    )
    grids = quantity_grids(run, cursor=cursor, highlight=(phase.highlight,), colour=False, record=phase_record(run, phase))
    parts: list[RenderableType] = [heading, Text(phase.narration), Text(""), grid_rows(grids, width), Text("")]
    if cursor is not None:  # the arithmetic so far at the cursor, as the TUI's inspector shows it
        parts += [Text("inspector", style="bold"), *(Text(line) for line in phase_update(run, phases, index, cursor)), Text("")]
    return Group(*parts)


# -- commands ------------------------------------------------------------------------


def run_all(
    lesson_id: str | None = None,
    width: int = DEFAULT_WIDTH,
    directory: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print every lesson's snapshot (or one lesson's). 0 if all loaded and ran, 1 if any failed, 2 for an unknown id."""
    out = out or sys.stdout
    err = err or sys.stderr
    read_shipped_values()
    course = load_course(directory, evaluate=True)
    # Broken files first: the lesson asked for may be one of them.
    for problem in course.problems:
        err.write(f"{problem}\n")
    failed = bool(course.problems)
    lessons = course.lessons
    if lesson_id is not None:
        lesson = course.lesson(lesson_id)
        if lesson is None:
            known = ", ".join(course.ids) or "none (no lesson loaded)"
            err.write(printable(f"tutor: unknown lesson {lesson_id!r}; known: {known}") + "\n")
            return 2
        lessons = [lesson]
    for lesson in lessons:
        failed |= not _print_lesson(lesson, width, out, err)
    return 1 if failed else 0


def check_lesson(path: Path, width: int = DEFAULT_WIDTH, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate one lesson file (or every lesson in a folder) and run its script: the snapshot and 0, or the problems and 1."""
    return check_lessons([path], width, out, err)


def check_lessons(paths: Sequence[Path], width: int = DEFAULT_WIDTH, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """check_lesson for several files and folders: 1 if any failed. Each folder is read once to find
    ids taken by other lessons in it, so checking n files costs n readings, not n times n."""
    out = out or sys.stdout
    err = err or sys.stderr
    courses: dict[Path, Course] = {}
    course = load_course()  # the course a teacher's lesson is read beside: its ids are taken too
    failed = False
    for path in map(Path, paths):
        if not os.path.lexists(path):
            err.write(printable(f"tutor: no such lesson file: {path}") + "\n")
            failed = True
            continue
        files = lesson_files(path) if path.is_dir() else [path]
        if not files:
            err.write(printable(f"tutor: {path}: {NO_LESSON_FILES}") + "\n")
            failed = True
        for file in files:
            folder = file.parent.resolve()
            if folder not in courses:
                courses[folder] = load_course(folder)
            failed |= _check_one(file, [*courses[folder].lessons, *course.lessons], width, out, err) != 0
    return 1 if failed else 0


def _beside(other: Path, path: Path) -> str:
    """`other` by its name if it sits in `path`'s folder, else by its path."""
    return other.name if other.resolve().parent == path.resolve().parent else str(display_path(other))


def _check_one(path: Path, others: Sequence[Lesson], width: int, out: TextIO, err: TextIO) -> int:
    try:
        lesson = load_lesson(path, evaluate=True)
    except LessonError as error:
        return _problems(error.problems, path, err)
    duplicates = [other for other in others if other.id == lesson.id and other.path.resolve() != lesson.path.resolve()]
    if duplicates:
        line = front_matter_line(lesson.path, "id")
        return _problems(
            [
                LessonProblem(
                    lesson.path, line, f"lesson id {lesson.id!r} is taken: {_beside(duplicates[0].path, lesson.path)} has it too"
                )
            ],
            path,
            err,
        )
    if not _print_lesson(lesson, width, out, err):
        return 1
    filled = fill(lesson)
    err.write(
        printable(f"{path}: ok ({_count(len(filled.script), 'script step')}, {_count(len(filled.checks), 'check')})") + "\n"
    )
    return 0


def _problems(problems: Sequence[LessonProblem], path: Path, err: TextIO) -> int:
    for problem in problems:
        err.write(f"{problem}\n")
    err.write(printable(f"{_count(len(problems), 'problem')} in {path}") + "\n")
    return 1


def _answer_details(check: Check) -> str:
    """` (exactly 4.999999999999999; accepted within 1%)` for a number check."""
    if check.kind != "number":
        return ""
    details = []
    if float(check.shown_answer) != float(check.answer):
        details.append(f"exactly {check.answer}")
    if check.tolerance:
        details.append(f"accepted within {check.tolerance:.0%}")
    return f" ({'; '.join(details)})" if details else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _print_lesson(lesson: Lesson, width: int, out: TextIO, err: TextIO) -> bool:
    try:
        text = lesson_snapshot(lesson, width)
    except Exception as error:  # a lesson whose script fails must not hide the others
        err.write(printable(f"{lesson.path}: its script failed: {type(error).__name__}: {error}") + "\n")
        return False
    out.write(text)
    out.write("\n")
    return True

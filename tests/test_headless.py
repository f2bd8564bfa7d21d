"""`tutor --run-all`: golden snapshots, byte determinism, exit codes, and the lessons inside a built wheel.

After changing a lesson or a view on purpose, rewrite the golden files with
    TUTOR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_headless.py
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tutor.course import fill, load_course, load_lesson
from tutor.engine.experiments import SEED_PRINTED_LOSSES
from tutor.engine.optimizers import SEED_OPTIMIZERS
from tutor.headless import check_lesson, lesson_snapshot, run_all
from tutor.views.format import exact

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
GOLDEN = ROOT / "tests" / "golden"
FIXTURES = ROOT / "tests" / "fixtures"
UPDATE = os.environ.get("TUTOR_UPDATE_GOLDEN") == "1"
WIDTH = 100

COURSE = load_course(LESSONS)
IDS = [lesson.id for lesson in COURSE.lessons]


def run_tutor(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONHASHSEED": "random", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, env=environment, cwd=cwd, timeout=60
    )


@pytest.mark.parametrize("lesson_id", IDS)
def test_golden_snapshot(lesson_id: str) -> None:
    lesson = COURSE.lesson(lesson_id)
    assert lesson is not None
    actual = lesson_snapshot(lesson, WIDTH)
    path = GOLDEN / f"{lesson_id}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(path), "now", n=2))[:60])
        pytest.fail(
            f"{lesson_id}: the snapshot differs from {path.relative_to(ROOT)}.\n{diff}\n"
            "If the change is intended, rewrite the golden files with\n"
            "    TUTOR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_headless.py\n"
            "and read the diff before committing.",
            pytrace=False,
        )


def test_every_golden_file_belongs_to_a_lesson() -> None:
    orphans = sorted(p.name for p in GOLDEN.glob("*.txt") if p.stem not in IDS)
    assert orphans == [], "golden files of lessons that no longer exist: delete them"


def test_shipped_course_has_the_lessons_the_issue_asks_for() -> None:
    views = {lesson.setup.view for lesson in COURSE.lessons}
    assert {"chain", "race"} <= views
    assert any(set(SEED_OPTIMIZERS) <= set(lesson.setup.optimizers) for lesson in COURSE.lessons)


def test_run_all_in_a_fresh_process_prints_the_goldens_in_order() -> None:
    """The command a user types: all lessons, in order, same bytes as the goldens (its wall time is in benchmarks/run.py)."""
    result = run_tutor("--run-all", "--width", str(WIDTH), env={"PYTHONHASHSEED": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "".join(lesson_snapshot(lesson, WIDTH) + "\n" for lesson in COURSE.lessons)
    # Another hash seed: set and dict orders inside plotext or rich must not leak into the text.
    again = run_tutor("--run-all", "--width", str(WIDTH), env={"PYTHONHASHSEED": "2"})
    assert again.stdout == result.stdout


def race_lessons() -> list:
    return [
        lesson
        for lesson in COURSE.lessons
        if lesson.setup.view == "race"
        and lesson.setup.problem.get("kind") == "matrix"
        and lesson.setup.problem.get("variant", "seed") == "seed"
        and set(SEED_OPTIMIZERS) <= set(lesson.setup.optimizers)
        and any(step.step == 300 and step.hp is None and step.problem is None for step in fill(lesson).script)
    ]


def test_the_race_prints_the_engines_three_final_losses_at_full_precision() -> None:
    from tutor.engine import Run, make_problem

    lessons = race_lessons()
    assert lessons, "no lesson races the seed's three optimizers to step 300"
    text = lesson_snapshot(lessons[0], WIDTH)
    for key in SEED_OPTIMIZERS:
        run = Run.create(make_problem({"kind": "matrix"}), key)
        run.goto(300)
        assert f"loss = {exact(run.current.loss)}   (the seed printed {exact(SEED_PRINTED_LOSSES[key])})" in text


def test_one_lesson_by_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_all(lesson_id="tiny-race", directory=FIXTURES / "good") == 0
    out = capsys.readouterr().out
    assert out.startswith("═") and "Lesson 1: A tiny race" in out
    assert "answer (typed in the lesson): rmsprop-momentum" in out  # the fixture's answer is written out


def test_unknown_lesson_id_lists_the_known_ones() -> None:
    result = run_tutor("--run-all", "--lesson", "nope", env={"TUTOR_LESSONS_DIR": str(FIXTURES / "good")})
    assert result.returncode == 2
    assert result.stderr == "tutor: unknown lesson 'nope'; known: tiny-race\n"
    assert result.stdout == ""


def test_broken_lesson_fails_the_run_but_the_others_still_print(tmp_path: Path) -> None:
    good = (FIXTURES / "good" / "01-race.md").read_text()
    (tmp_path / "01-race.md").write_text(good)
    (tmp_path / "02-broken.md").write_text(
        good.replace('id = "tiny-race"', 'id = "broken"').replace('"gd", "rmsprop"', '"gd", "adamw"')
    )
    result = run_tutor("--run-all", env={"TUTOR_LESSONS_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"{tmp_path / '02-broken.md'}:8: unknown optimizer 'adamw'; known: " in result.stderr
    assert "Lesson 1: A tiny race" in result.stdout


def test_a_script_that_raises_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tutor.headless as headless

    def broken_view(*args: object) -> None:
        raise RuntimeError("the view broke")

    monkeypatch.setattr(headless, "race_view", broken_view)
    assert run_all(directory=FIXTURES / "good") == 1
    assert capsys.readouterr().err.endswith("01-race.md: its script failed: RuntimeError: the view broke\n")


def test_check_lesson_prints_the_snapshot_or_the_problems(tmp_path: Path) -> None:
    ok = run_tutor("check-lesson", str(FIXTURES / "good" / "01-race.md"))
    assert ok.returncode == 0, ok.stderr
    assert "Lesson 1: A tiny race" in ok.stdout
    assert ok.stderr.endswith("01-race.md: ok (1 script step, 2 checks)\n")
    broken = tmp_path / "08-mine.md"
    broken.write_text(
        (FIXTURES / "good" / "01-race.md").read_text().replace("step = 3", "step = -1").replace("order = 1", "order = 1.5")
    )
    bad = run_tutor("check-lesson", str(broken))
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert bad.stderr == (
        f"{broken}:4: order must be a whole number, not 1.5\n"
        f"{broken}:12: [[script]] #1: step -1 is out of range 0..100000\n"
        f"2 problems in {broken}\n"
    )
    missing = run_tutor("check-lesson", str(tmp_path / "nothing.md"))
    assert (missing.returncode, missing.stderr) == (1, f"tutor: no such lesson file: {tmp_path / 'nothing.md'}\n")


def test_check_lesson_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_lesson(FIXTURES / "good" / "01-race.md", width=80) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_wheel_ships_the_lessons_and_runs_them_installed(tmp_path: Path) -> None:
    """Built as a wheel and unpacked outside the checkout, --run-all finds tutor/_lessons and prints the same text."""
    pytest.importorskip("hatchling", reason="the test extras install hatchling to build the wheel offline")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("tutor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(name for name in archive.namelist() if name.startswith("tutor/_lessons/") and name.endswith(".md"))
        # the digits network's data set and its licence travel inside the package
        assert {"tutor/engine/data/digits.csv.gz", "tutor/engine/data/README.md"} <= set(archive.namelist())
        archive.extractall(tmp_path / "site")
    expected = sorted(f"tutor/_lessons/{p.name}" for p in LESSONS.glob("*.md"))
    assert shipped == expected
    environment = {"PYTHONPATH": str(tmp_path / "site")}
    located = subprocess.run(
        [sys.executable, "-c", "import tutor.course as c; print(c.lessons_directory())"],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        cwd=tmp_path,
        timeout=60,
    )
    assert located.stdout.strip() == str(tmp_path / "site" / "tutor" / "_lessons")
    result = run_tutor("--run-all", env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(lesson_snapshot(lesson, WIDTH) + "\n" for lesson in COURSE.lessons)


def test_check_lesson_refuses_an_id_another_lesson_in_its_folder_has(tmp_path: Path) -> None:
    good = (FIXTURES / "good" / "01-race.md").read_text()
    (tmp_path / "01-race.md").write_text(good)
    mine = tmp_path / "08-mine.md"
    mine.write_text(good.replace("order = 1", "order = 8"))
    err = io.StringIO()
    assert check_lesson(mine, out=io.StringIO(), err=err) == 1
    assert err.getvalue() == f"{mine}:2: lesson id 'tiny-race' is taken: 01-race.md has it too\n1 problem in {mine}\n"


def test_unknown_lesson_id_still_names_the_broken_files(tmp_path: Path) -> None:
    good = (FIXTURES / "good" / "01-race.md").read_text()
    (tmp_path / "01-race.md").write_text(good.replace('id = "tiny-race"', 'id = "mine"').replace("step = 3", "step = -3"))
    err = io.StringIO()
    assert run_all(lesson_id="mine", directory=tmp_path, out=io.StringIO(), err=err) == 2
    assert err.getvalue() == (
        f"{tmp_path / '01-race.md'}:12: [[script]] #1: step -3 is out of range 0..100000\n"
        "tutor: unknown lesson 'mine'; known: none (no lesson loaded)\n"
    )


def test_output_ignores_the_terminal_it_runs_in() -> None:
    """COLUMNS, TERM, NO_COLOR and FORCE_COLOR change nothing: the snapshot depends on --width only."""
    plain = run_tutor("--run-all", "--lesson", "race")
    odd = run_tutor(
        "--run-all", "--lesson", "race", env={"COLUMNS": "37", "LINES": "9", "TERM": "dumb", "NO_COLOR": "1", "FORCE_COLOR": "1"}
    )
    assert plain.returncode == odd.returncode == 0
    assert odd.stdout == plain.stdout
    assert "\x1b[" not in plain.stdout


def test_check_lesson_takes_several_files() -> None:
    result = run_tutor("check-lesson", str(FIXTURES / "good" / "01-race.md"), str(FIXTURES / "good" / "missing.md"))
    assert result.returncode == 1
    assert result.stdout.count("Lesson 1: A tiny race") == 1
    assert result.stderr.endswith(
        f"01-race.md: ok (1 script step, 2 checks)\ntutor: no such lesson file: {FIXTURES / 'good' / 'missing.md'}\n"
    )


@pytest.mark.parametrize("steps", [1, 3, 5, 7, 8, 10, 12, 30, 99, 300, 4999, 100_000])
def test_the_loss_charts_step_ticks_are_evenly_spaced_round_numbers(steps: int) -> None:
    """Ticks 0 2 4 6 8, never 0 1 2 4 5 (rounded quarters of 5), each label drawn under the axis."""
    from tutor.views.chart import Series, loss_chart

    text = loss_chart([Series("gd", [5.0 * 0.99**k for k in range(steps + 1)])], 100, 14, colour=False).plain
    labels = [int(label) for label in text.rstrip("\n").split("\n")[-2].split()]  # the row above "step"
    spacing = labels[1] - labels[0]
    assert labels[0] == 0 and labels == list(range(0, steps + 1, spacing))
    assert 2 <= len(labels) <= 6 and steps - labels[-1] < spacing
    assert int(str(spacing).rstrip("0") or 0) in (1, 2, 5)


def test_a_teachers_folder_is_read_beside_the_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.course.reader import TEACHER_LESSONS_ENV

    good = (FIXTURES / "good" / "01-race.md").read_text()
    (tmp_path / "20-race.md").write_text(good.replace("order = 1", "order = 20"))
    monkeypatch.setenv(TEACHER_LESSONS_ENV, str(tmp_path))
    course = load_course()
    assert course.problems == []
    assert list(course.ids) == [*COURSE.ids, "tiny-race"]  # the course's lessons first, then the teacher's
    (tmp_path / "21-rmsprop.md").write_text(good.replace('id = "tiny-race"', 'id = "rmsprop"'))
    problems = [str(problem) for problem in load_course().problems]
    assert problems == [f"{tmp_path / '21-rmsprop.md'}:2: duplicate lesson id 'rmsprop': lessons/04-rmsprop.md has it too"]
    err = io.StringIO()
    assert check_lesson(tmp_path / "21-rmsprop.md", out=io.StringIO(), err=err) == 1
    assert "lesson id 'rmsprop' is taken: lessons/04-rmsprop.md has it too" in err.getvalue()


def test_run_all_takes_a_lesson_file_or_folder(tmp_path: Path) -> None:
    lesson = FIXTURES / "good" / "01-race.md"
    result = run_tutor("--run-all", str(lesson))
    assert result.returncode == 0, result.stderr
    assert result.stdout == lesson_snapshot(load_lesson(lesson), WIDTH) + "\n"
    assert run_tutor("--run-all", str(FIXTURES / "good")).stdout == result.stdout
    missing = run_tutor("--run-all", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and missing.stderr.endswith(
        f"--run-all: no such lesson file or folder: {tmp_path / 'nope.md'}\n"
    )
    teacher = run_tutor("--lessons", str(tmp_path / "nope"), "--run-all")
    assert teacher.returncode == 2 and teacher.stderr.endswith(f"--lessons: no such folder: {tmp_path / 'nope'}\n")

"""Lesson files: the validator's messages and lines, placeholders, check grading, the shipped lessons."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.course import Check, LessonError, fill, load_course, load_lesson, placeholders
from tutor.course.facts import FACTS, final_loss
from tutor.course.model import Lesson
from tutor.course.reader import lessons_directory, tomllib
from tutor.engine.optimizers import OPTIMIZERS
from tutor.engine.problems import PROBLEM_KINDS
from tutor.headless import lesson_snapshot

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
KNOWN_OPTIMIZERS = ", ".join(OPTIMIZERS)

# Line numbers below refer to this file: keep it in step with the table.
BASE = """+++
id = "base"
title = "Base lesson"
order = 1

[visualizer]
view = "matrix"
optimizers = ["rmsprop"]
lr = 0.001

[visualizer.problem]
kind = "matrix"

[[script]]
step = 2
note = "Two steps."
inspect = [1, 2]

[[check]]
id = "choose"
prompt = "Which?"
kind = "choice"
choices = ["a", "b"]
answer = "a"
hint = "The first."
explanation = "Because."
+++
# Base

Loss after 3 steps: {{ final_loss(optimizer="rmsprop", steps=3) }}.
"""

BROKEN = [
    # (case, replace this, with this, line, message)
    (
        "tolerance on a choice",
        'kind = "choice"',
        'kind = "choice"\ntolerance = 0.1',
        23,
        "[[check]] choose: tolerance is for number checks: a choice is right or wrong",
    ),
    ("missing field", 'title = "Base lesson"\n', "", 1, "missing field 'title'"),
    ("wrong type", "order = 1", 'order = "one"', 4, 'order must be a whole number, not "one"'),
    ("unknown optimizer", '["rmsprop"]', '["adamw"]', 8, f"unknown optimizer 'adamw'; known: {KNOWN_OPTIMIZERS}"),
    (
        "invalid TOML",
        'view = "matrix"',
        'view "matrix"',
        7,
        "invalid TOML in the front matter: expected '=' after a key in a key/value pair (column 6)",
    ),
    (
        "unknown fact",
        "{{ final_loss(",
        "{{ final_los(",
        30,
        "{{ final_los(optimizer=\"rmsprop\", steps=3) }}: unknown fact 'final_los'; known: " + ", ".join(sorted(FACTS)),
    ),
    (
        "placeholder that raises",
        'optimizer="rmsprop", steps=3',
        'optimizer="adamw", steps=3',
        30,
        "{{ final_loss(optimizer=\"adamw\", steps=3) }} failed: ValueError: unknown optimizer 'adamw'; known: "
        + KNOWN_OPTIMIZERS,
    ),
    (
        "placeholder with a call inside",
        'optimizer="rmsprop", steps=3',
        'optimizer=__import__("os"), steps=3',
        30,
        '{{ final_loss(optimizer=__import__("os"), steps=3) }}: arguments must be plain values '
        '(numbers, "strings", [lists], {dicts}, True, None)',
    ),
    (
        "placeholder with an unknown argument",
        'optimizer="rmsprop", steps=3',
        'optimiser="rmsprop", steps=3',
        30,
        "{{ final_loss(optimiser=\"rmsprop\", steps=3) }}: final_loss() got an unexpected keyword argument 'optimiser'",
    ),
    (
        "placeholder with a bad format",
        "steps=3) }}",
        "steps=3) | .3q }}",
        30,
        "{{ final_loss(optimizer=\"rmsprop\", steps=3) | .3q }}: unknown format '.3q'; use exact, int, sci or a Python format such as .3g or .2f",
    ),
    ("script step out of range", "step = 2", "step = 200000", 15, "[[script]] #1: step 200000 is out of range 0..100000"),
    (
        "unknown view",
        'view = "matrix"',
        'view = "heatmap"',
        7,
        "unknown view 'heatmap'; known: matrix, chain, surface, race, network",
    ),
    ("bad lr", "lr = 0.001", "lr = -1", 9, "lr must be > 0 and <= 1000, not -1"),
    ("bad decay", "lr = 0.001", "decay = 1.5", 9, "decay must be in [0, 1), not 1.5: it is the share of v kept each update"),
    (
        "answer not among choices",
        'answer = "a"',
        'answer = "c"',
        24,
        '[[check]] choose: answer "c" is not among its choices: "a", "b"',
    ),
    (
        "number answer typed by hand",
        'kind = "choice"\nchoices = ["a", "b"]\nanswer = "a"',
        'kind = "number"\nanswer = "0.5"',
        23,
        '[[check]] choose: a number answer must come from the engine: write answer = "{{ some_fact(...) }}", not "0.5"',
    ),
    (
        "unknown check kind",
        'kind = "choice"',
        'kind = "essay"',
        22,
        "[[check]] choose: unknown kind 'essay'; known: number, choice",
    ),
    (
        "unknown problem parameter",
        'kind = "matrix"',
        'kind = "matrix"\ndepth = 3',
        13,
        "problem 'matrix' has no parameter 'depth'; known: variant",
    ),
    ("unknown problem", 'kind = "matrix"', 'kind = "maze"', 12, f"unknown problem 'maze'; known: {', '.join(PROBLEM_KINDS)}"),
    (
        "inspect outside x",
        "inspect = [1, 2]",
        "inspect = [5, 0]",
        17,
        "[[script]] #1: inspect [5, 0] is not an element of x, which is 5x5 (indices from 0)",
    ),
    (
        "unknown field",
        'title = "Base lesson"',
        'title = "Base lesson"\ntitel = "typo"',
        4,
        "unknown field 'titel' in front matter; known: id, title, order, visualizer, script, check",
    ),
    (
        "unknown field in a script step",
        'note = "Two steps."',
        'notes = "Two steps."',
        16,
        "[[script]] #1: unknown field 'notes'; known: step, inspect, note, phase, problem, after, lr, decay, eps, mu, lr_halving",
    ),
    (
        "bad id",
        'id = "base"',
        'id = "Base Lesson"',
        2,
        'id must be lowercase letters, digits and dashes, such as "deep-chain", not "Base Lesson"',
    ),
    (
        "no front matter",
        "+++\nid",
        "id",
        1,
        "a lesson starts with a line '+++', then its TOML front matter, then '+++' and the text",
    ),
    ("unclosed front matter", "+++\n# Base", "# Base", 1, "the front matter opened on line 1 is never closed with a '+++' line"),
    (
        "chain view on the matrix",
        'view = "matrix"',
        'view = "chain"',
        7,
        "view 'chain' needs problem kind 'deep-chain', not 'matrix'",
    ),
    (
        "phase the optimizer lacks",
        'note = "Two steps."',
        'note = "Two steps."\nphase = "momentum"',
        17,
        "[[script]] #1: rmsprop has no phase 'momentum'; its phases: gradient, decay, add, step, move",
    ),
]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_base_lesson_loads(tmp_path: Path) -> None:
    lesson = load_lesson(write(tmp_path, "01-base.md", BASE))
    assert (lesson.id, lesson.title, lesson.order) == ("base", "Base lesson", 1)
    assert lesson.setup.optimizers == ("rmsprop",)
    assert fill(lesson).script[0].step == 2 and fill(lesson).script[0].inspect == (1, 2)
    assert fill(lesson).text == f"# Base\n\nLoss after 3 steps: {final_loss(optimizer='rmsprop', steps=3):.3g}.\n"


@pytest.mark.parametrize(("case", "old", "new", "line", "message"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_lesson_reports_line_and_reason(tmp_path: Path, case: str, old: str, new: str, line: int, message: str) -> None:
    assert old in BASE, case
    path = write(tmp_path, "02-broken.md", BASE.replace(old, new, 1))
    with pytest.raises(LessonError) as raised:
        load_lesson(path, evaluate=True)
    problem = raised.value.problem
    assert (problem.line, problem.message) == (line, message)
    assert str(problem).endswith(f"02-broken.md:{line}: {message}")


@pytest.mark.parametrize(("case", "old", "new", "line", "message"), BROKEN[:6], ids=[case[0] for case in BROKEN[:6]])
def test_one_broken_lesson_does_not_stop_the_others(
    tmp_path: Path, case: str, old: str, new: str, line: int, message: str
) -> None:
    write(tmp_path, "01-good.md", BASE)
    write(tmp_path, "02-broken.md", BASE.replace(old, new, 1).replace('id = "base"', 'id = "broken"'))
    write(tmp_path, "03-good.md", BASE.replace('id = "base"', 'id = "other"').replace("order = 1", "order = 3"))
    course = load_course(tmp_path, evaluate=True)
    assert course.ids == ["base", "other"]
    assert [(p.path.name, p.line, p.message) for p in course.problems] == [("02-broken.md", line, message)]


def test_duplicate_ids_are_reported_on_the_second_file(tmp_path: Path) -> None:
    write(tmp_path, "01-first.md", BASE)
    write(tmp_path, "02-second.md", BASE)
    course = load_course(tmp_path, evaluate=True)
    assert course.ids == ["base"]
    [problem] = course.problems
    assert (problem.path.name, problem.line) == ("02-second.md", 2)
    assert problem.message.startswith("duplicate lesson id 'base': ") and problem.message.endswith("01-first.md has it too")


def test_several_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("order = 1", 'order = "one"').replace("lr = 0.001", "lr = 0").replace('answer = "a"', 'answer = "z"')
    with pytest.raises(LessonError) as raised:
        load_lesson(write(tmp_path, "04-many.md", text), evaluate=True)
    assert [p.line for p in raised.value.problems] == [4, 9, 24]


def test_lessons_are_ordered_by_order_then_file_name(tmp_path: Path) -> None:
    write(tmp_path, "a.md", BASE.replace('id = "base"', 'id = "late"').replace("order = 1", "order = 9"))
    write(tmp_path, "b.md", BASE.replace('id = "base"', 'id = "early"'))
    write(tmp_path, "README.md", "# not a lesson\n")
    assert load_course(tmp_path).ids == ["early", "late"]


def test_missing_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    course = load_course(tmp_path / "nowhere")
    assert course.lessons == [] and course.problems[0].message == "no such lessons directory"


def test_lessons_dir_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "01-base.md", BASE)
    monkeypatch.setenv("TUTOR_LESSONS_DIR", str(tmp_path))
    assert lessons_directory() == tmp_path
    assert load_course().ids == ["base"]


def test_checkout_lessons_directory_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUTOR_LESSONS_DIR", raising=False)
    assert lessons_directory() == ROOT / "lessons"


# -- placeholders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{{ final_loss(optimizer="gd", steps=300) | exact }}', repr(final_loss(optimizer="gd", steps=300))),
        ('{{ final_loss(optimizer="gd", steps=300) }}', f"{final_loss(optimizer='gd', steps=300):.3g}"),
        ('{{ final_loss(optimizer="gd", steps=300) | .5f }}', f"{final_loss(optimizer='gd', steps=300):.5f}"),
        ('{{ final_loss(optimizer="gd", steps=300) | sci }}', f"{final_loss(optimizer='gd', steps=300):.2e}"),
        ("{{ stable_lr }}", f"{FACTS['stable_lr']():.3g}"),
        ("no placeholder here", "no placeholder here"),
    ],
)
def test_placeholders_fill(tmp_path: Path, text: str, expected: str) -> None:
    body = 'Loss after 3 steps: {{ final_loss(optimizer="rmsprop", steps=3) }}.'
    lesson = load_lesson(write(tmp_path, "01-base.md", BASE.replace(body, text)))
    assert fill(lesson).text == f"# Base\n\n{expected}\n"


def test_gd_final_loss_fact_is_the_seeds() -> None:
    assert math.isclose(final_loss(optimizer="gd", steps=300), 0.5469198476714346, rel_tol=1e-9)


# -- grading ---------------------------------------------------------------------------

NUMBER = Check(
    "v", "v after one step?", "number", (), "0.0123", 0.01, "v = 0.1 g^2 at the first step.", "Only 1-decay of g^2 gets in."
)
CHOICE = Check(
    "lr", "Which lr diverges?", "choice", ("0.001", "0.01", "0.1"), "0.1", 0.0, "Compare with 1/sigma_max^2.", "Above the edge."
)


@pytest.mark.parametrize(
    ("check", "response", "correct", "malformed", "message"),
    [
        (NUMBER, "0.0123", True, False, "Right. Only 1-decay of g^2 gets in."),
        (NUMBER, " 0.01235 ", True, False, "Right. Only 1-decay of g^2 gets in."),
        (NUMBER, "1.23e-2", True, False, "Right. Only 1-decay of g^2 gets in."),
        (NUMBER, "0.013", False, False, "Not quite. Hint: v = 0.1 g^2 at the first step."),
        (NUMBER, "-0.0123", False, False, "Not quite: check the sign. Hint: v = 0.1 g^2 at the first step."),
        (NUMBER, "-0.5", False, False, "Not quite. Hint: v = 0.1 g^2 at the first step."),  # more than the sign is wrong
        (NUMBER, "abc", False, True, "'abc' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (
            NUMBER,
            "__import__('os')",
            False,
            True,
            "\"__import__('os')\" is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19.",
        ),
        (NUMBER, "0.1 * 0.351^2", True, False, "Right. Only 1-decay of g^2 gets in."),
        (NUMBER, "sqrt(-1)", False, True, "'sqrt(-1)' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (NUMBER, "sqrt(1, 2)", False, True, "'sqrt(1, 2)' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (NUMBER, "exp(1)", False, True, "'exp(1)' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (NUMBER, "1/0", False, True, "'1/0' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (NUMBER, "10^99999", False, True, "'10^99999' is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19."),
        (NUMBER, "", False, True, "Type an answer first."),
        (NUMBER, "1e999", False, True, "1e999 is not a finite number: type a value such as 0.5 or 1e-3."),
        (NUMBER, "nan", False, True, "nan is not a finite number: type a value such as 0.5 or 1e-3."),
        (CHOICE, "3", True, False, "Right. Above the edge."),
        (CHOICE, "0.1", True, False, "Right. Above the edge."),
        (CHOICE, "1", False, False, "Not quite. Hint: Compare with 1/sigma_max^2."),
        (CHOICE, "0.01", False, False, "Not quite. Hint: Compare with 1/sigma_max^2."),
        (CHOICE, "4", False, True, "There is no choice 4. Pick one of the choices: type its number (1 to 3) or its text."),
        (
            CHOICE,
            "abc",
            False,
            True,
            "'abc' is not one of the choices. Pick one of the choices: type its number (1 to 3) or its text.",
        ),
        (CHOICE, "", False, True, "Pick one of the choices: type its number (1 to 3) or its text."),
    ],
)
def test_grading(check: Check, response: str, correct: bool, malformed: bool, message: str) -> None:
    verdict = check.grade(response)
    assert (verdict.correct, verdict.malformed, verdict.message) == (correct, malformed, message)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2^-19", 2**-19),
        ("-2**3", -8.0),
        ("1/3", 1 / 3),
        ("0.5*(1-0.9)", 0.05),
        ("+4", 4.0),
        ("1e-3", 1e-3),
        ("-9", -9.0),
        ("\u22129", -9.0),
        ("2^-9", 2**-9),
        ("3\u00d72", 6.0),
        ("0.01/(sqrt(10)+1e-8)", 0.01 / (10**0.5 + 1e-8)),
        ("sqrt(2^-4)", 0.25),
    ],
)
def test_learners_may_type_arithmetic(text: str, value: float) -> None:
    from tutor.course.checks import read_number

    assert read_number(text) == pytest.approx(value, rel=1e-15)


def test_zero_answer_uses_the_tolerance_as_an_absolute_margin() -> None:
    zero = Check("z", "?", "number", (), "0.0", 0.01, "h", "e")
    assert zero.grade("0.005").correct and not zero.grade("0.02").correct


# -- the shipped lessons -----------------------------------------------------------------


def shipped() -> list[Path]:
    return sorted(p for p in (ROOT / "lessons").glob("*.md") if p.name != "README.md")


def test_shipped_lessons_load_without_problems() -> None:
    course = load_course(ROOT / "lessons")
    assert [str(p) for p in course.problems] == []
    assert len(course.lessons) == len(shipped())


def test_shipped_lessons_each_end_with_a_check() -> None:
    for lesson in load_course(ROOT / "lessons").lessons:
        assert fill(lesson).checks, f"{lesson.path.name} has no [[check]]"


def test_shipped_lessons_ask_at_least_two_checks_and_counts_exactly() -> None:
    """Issue 13: two checks or more per lesson (the learner works their answers out), and an answer that is a
    whole number (a step, a count, a power) is asked exactly: tolerance 0."""
    for lesson in load_course(ROOT / "lessons").lessons:
        checks = fill(lesson).checks
        assert len(checks) >= 2, f"{lesson.path.name} has {len(checks)} check"
        for check in checks:
            if check.kind == "number" and float(check.answer).is_integer():
                assert check.tolerance == 0, f"{lesson.path.name}: {check.id} asks for {check.answer} within {check.tolerance}"


def test_significant_digits() -> None:
    assert [placeholders.significant_digits(t) for t in ("0.000123", "1.50e-3", "0.9", "0.5469198476714346")] == [3, 2, 1, 16]


def hand_typed_numbers(source: str) -> list[str]:
    """The validator's rule (placeholders.hand_typed_results) over a lesson's text, script notes
    and check prompts, hints and explanations."""
    _, front, body = source.split("+++", 2)
    data = tomllib.loads(front)
    texts = [body, *(step.get("note", "") for step in data.get("script", []))]
    texts += [check.get(field, "") for check in data.get("check", []) for field in ("prompt", "hint", "explanation")]
    return [token for text in texts for _, token in placeholders.hand_typed_results(text)]


def test_hand_typed_numbers_are_found_where_a_learner_reads_them() -> None:
    source = BASE.replace('hint = "The first."', 'hint = "It is 0.5469 here."').replace("Loss after", "Loss 3.06 after")
    assert hand_typed_numbers(source) == ["3.06", "0.5469"]
    assert hand_typed_numbers(BASE) == []


def test_the_validator_refuses_a_hand_typed_result_with_its_line(tmp_path: Path) -> None:
    source = BASE.replace('hint = "The first."', 'hint = "It is 0.5469 here."').replace("Loss after", "Loss 3.06 after")
    with pytest.raises(LessonError) as raised:
        load_lesson(write(tmp_path, "05-typed.md", source))
    lines = source.split("\n")
    found = [(p.line, p.message.split(" is typed by hand")[0]) for p in raised.value.problems]
    hint_line = next(i for i, line in enumerate(lines, 1) if "0.5469" in line)
    body_line = next(i for i, line in enumerate(lines, 1) if "3.06" in line)
    assert sorted(found) == sorted([(hint_line, "[[check]] choose: 0.5469"), (body_line, "3.06")])


def test_an_unclosed_placeholder_says_so_with_its_line(tmp_path: Path) -> None:
    source = BASE + "\nThe lr is {{ setting('lr')\nand so on.\n"
    with pytest.raises(LessonError) as raised:
        load_lesson(write(tmp_path, "05-open.md", source))
    line = next(i for i, text in enumerate(source.split("\n"), 1) if "{{ setting('lr')" in text)
    assert [(p.line, p.message.split(":")[0]) for p in raised.value.problems] == [(line, "unclosed placeholder")]


def test_shipped_lessons_type_no_computed_number_by_hand() -> None:
    """Every measured number in a lesson comes from a placeholder, so the text cannot drift from the engine."""
    offenders = [f"{path.name}: {token}" for path in shipped() for token in hand_typed_numbers(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_loading_computes_no_fact_until_a_lesson_is_read(tmp_path: Path, fact_calls: list[str]) -> None:
    """The app starts fast: placeholders are checked at load and computed on first use."""
    for path in shipped():  # a copy: the shipped lessons may have been filled by another test
        (tmp_path / path.name).write_bytes(path.read_bytes())
    course = load_course(tmp_path)
    assert course.lessons and fact_calls == []
    first = course.lessons[0]
    assert "{{" not in fill(first).text and fact_calls
    assert fill(first).problems == ()


def test_a_fact_that_fails_leaves_its_placeholder_visible_and_drops_its_check(tmp_path: Path) -> None:
    text = BASE.replace('answer = "a"', "answer = \"{{ winner(optimizers=['gd', 'nope']) }}\"").replace(
        'optimizer="rmsprop", steps=3', 'optimizer="nope", steps=3'
    )
    lesson = load_lesson(write(tmp_path, "05-late.md", text))  # placeholders parse: loading succeeds
    assert lesson.check_ids == ("choose",)
    filled = fill(lesson)
    assert '{{ final_loss(optimizer="nope", steps=3) }}' in filled.text
    assert filled.checks == ()
    assert [(p.line, p.message.split(" failed: ")[0]) for p in filled.problems] == [
        (30, '{{ final_loss(optimizer="nope", steps=3) }}'),
        (24, "[[check]] choose: {{ winner(optimizers=['gd', 'nope']) }}"),
    ]
    with pytest.raises(LessonError):
        load_lesson(tmp_path / "05-late.md", evaluate=True)


COUNT_UPDATES_OF_TWO_LOADS = """
import sys
from tutor.course import fill, load_course
from tutor.engine.run import Run

updates = [0]
next_record = Run.next_record

def counted(self, record):
    updates[0] += 1
    return next_record(self, record)

Run.next_record = counted
counts = []
for _ in range(2):
    updates[0] = 0
    for lesson in load_course(sys.argv[1]).lessons:
        assert not fill(lesson).problems, lesson.path
    counts.append(updates[0])
print(*counts)
"""


def test_loading_the_course_again_does_no_engine_work(tmp_path: Path) -> None:
    """Facts are cached per process: opening the lessons again must not step any run (time is in benchmarks/run.py).
    In a fresh process, so that no other test's cached facts make the first load cold or warm."""
    result = subprocess.run(
        [sys.executable, "-c", COUNT_UPDATES_OF_TWO_LOADS, str(ROOT / "lessons")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TUTOR_CACHE": str(tmp_path)},  # an empty cache: the first load is cold
    )
    assert result.returncode == 0, result.stderr
    cold, warm = map(int, result.stdout.split())
    assert cold > 0, "the first load steps the engine (or this test watches the wrong function)"
    assert warm == 0


# -- lessons/README.md, the teachers' guide --------------------------------------------------

README = ROOT / "lessons" / "README.md"
FACTS_BLOCK = re.compile(r"(<!-- facts:[^\n]*-->\n)(.*?)(<!-- /facts -->)", re.DOTALL)


def test_readme_lists_every_fact_from_its_docstring() -> None:
    """The facts list is generated; TUTOR_UPDATE_GOLDEN=1 rewrites it after a fact is added or changed."""
    text = README.read_text(encoding="utf-8")
    found = FACTS_BLOCK.search(text)
    assert found, "lessons/README.md lost its <!-- facts --> markers"
    generated = placeholders.reference(FACTS)
    if os.environ.get("TUTOR_UPDATE_GOLDEN") == "1" and found.group(2) != generated:
        README.write_text(text[: found.start(2)] + generated + text[found.end(2) :], encoding="utf-8", newline="\n")
        return
    assert found.group(2) == generated, "run TUTOR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_lessons.py"
    for name, function in FACTS.items():
        assert function.__doc__, f"fact {name} needs a docstring: lessons/README.md lists it"


def test_readme_example_is_a_valid_lesson(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    example = text.split("```markdown\n", 1)[1].split("\n```\n", 1)[0] + "\n"
    lesson = load_lesson(write(tmp_path, "20-first-steps.md", example))
    filled = fill(lesson)
    assert [check.id for check in filled.checks] == ["v-after-one", "idle", "larger-step"]
    # A teacher who copies it beside the course collides with no shipped lesson's id, order or file name.
    shipped_lessons = load_course(ROOT / "lessons").lessons
    assert lesson.id not in {other.id for other in shipped_lessons}
    assert lesson.order not in {other.order for other in shipped_lessons}
    assert "20-first-steps.md" in text and not (ROOT / "lessons" / "20-first-steps.md").exists()
    assert filled.script[0].phase == "gradient"
    assert "{{" not in filled.text
    # It keeps the rule it teaches: v-after-one's answer is neither in its text nor in a stop before it.
    leaks = {check.id: answers_on_screen(check, shown) for check, shown in shown_before(lesson.id, lesson) if readable(check)}
    assert leaks == {"v-after-one": []}


def test_readme_names_every_view_optimizer_and_problem() -> None:
    from tutor.course.model import VIEWS

    text = README.read_text(encoding="utf-8")
    for name in (*VIEWS, *OPTIMIZERS, *PROBLEM_KINDS):
        assert f"`{name}`" in text, name


@pytest.mark.parametrize(
    ("answer", "shown"),
    [("4.999999999999999", "5"), ("-9.0", "-9"), ("0.0123", "0.0123"), ("107", "107"), ("-0.004220078515640208", "-0.00422")],
)
def test_shown_answer_is_short(answer: str, shown: str) -> None:
    assert Check("c", "?", "number", (), answer, 0.01, "h", "e").shown_answer == shown


def test_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "01-latin1.md").write_bytes('+++\ntitle = "caf\xe9"\n+++\n'.encode("latin-1"))
    write(tmp_path, "02-good.md", BASE)
    course = load_course(tmp_path)
    assert course.ids == ["base"]
    [problem] = course.problems
    assert problem.path.name == "01-latin1.md" and problem.line is None
    assert problem.message.startswith("cannot read the file: 'utf-8' codec can't decode byte 0xe9")


def test_lessons_can_be_dict_keys(tmp_path: Path) -> None:
    first = load_lesson(write(tmp_path, "01-base.md", BASE))
    again = load_lesson(tmp_path / "01-base.md")
    assert {first: 1}[again] == 1 and first == again


# -- text held back until a check is answered --------------------------------------------

REVEALING = BASE.replace(
    "Loss after 3 steps:",
    'Before the check.\n\n<!-- after: choose -->\nThe answer is a, loss {{ final_loss(optimizer="rmsprop", steps=1) }}.\n<!-- /after -->\n\nLoss after 3 steps:',
)


def test_text_after_a_marker_waits_for_its_check(tmp_path: Path) -> None:
    lesson = load_lesson(write(tmp_path, "base.md", REVEALING))
    filled = fill(lesson)
    assert not filled.problems
    assert "The answer is a" not in filled.text and "Before the check." in filled.text and "Loss after 3 steps" in filled.text
    assert filled.checks[0].reveal == f"The answer is a, loss {final_loss(optimizer='rmsprop', steps=1):.3g}."
    snapshot = lesson_snapshot(lesson)
    check_at = snapshot.index("check 1/1: choose")
    assert snapshot.index("shown after the answer:") > check_at and snapshot.index("The answer is a") > check_at


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        (
            "<!-- after: choose -->",
            "<!-- after: chose -->",
            32,
            "<!-- after: chose --> names no check of this lesson (its checks: choose)",
        ),
        ("<!-- /after -->", "", 32, "<!-- after: choose --> has no partner"),
    ],
)
def test_a_broken_after_marker_is_reported_with_its_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    lesson = load_lesson(write(tmp_path, "base.md", REVEALING.replace(old, new)))
    problems = [problem for problem in fill(lesson).problems if message in problem.message]
    assert [problem.line for problem in problems] == [line]


def test_a_choice_answer_typed_in_the_file_is_reported_as_typed(tmp_path: Path) -> None:
    """--run-all and check-lesson say where an answer comes from: the engine, or the lesson's own text."""
    lesson = load_lesson(write(tmp_path, "base.md", BASE))
    assert fill(lesson).checks[0].typed
    assert "answer (typed in the lesson): a" in lesson_snapshot(lesson)
    computed = BASE.replace('answer = "a"', 'answer = \'{{ winner(optimizers=["gd", "rmsprop"], steps=3) }}\'').replace(
        'choices = ["a", "b"]', 'choices = ["gd", "rmsprop"]'
    )
    lesson = load_lesson(write(tmp_path, "computed.md", computed))
    assert not fill(lesson).checks[0].typed and "engine's answer: " in lesson_snapshot(lesson)


# -- script stops that wait for a check ----------------------------------------------------

WAITING = BASE.replace(
    '[[check]]\nid = "choose"',
    '[[script]]\nstep = 5\nafter = "choose"\nnote = "Five steps: the run the check predicts."\n\n'
    '[[script]]\nstep = 1\nnote = "One step."\n\n[[check]]\nid = "choose"',
)


def test_a_stop_that_waits_for_a_check_comes_after_it(tmp_path: Path) -> None:
    """Written before another stop, it still comes after the stops that wait for nothing and after its check."""
    lesson = load_lesson(write(tmp_path, "base.md", WAITING))
    assert [(step.step, step.after) for step in fill(lesson).script] == [(2, None), (1, None), (5, "choose")]
    snapshot = lesson_snapshot(lesson)
    check_at = snapshot.index("check 1/1: choose")
    assert snapshot.index("script 2/3: update 1") < check_at < snapshot.index("script 3/3: update 5, after check 1")
    assert snapshot.index("Five steps: the run the check predicts.") > check_at


def test_a_stop_that_waits_for_no_check_of_the_lesson_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(LessonError) as error:
        load_lesson(write(tmp_path, "base.md", WAITING.replace('after = "choose"', 'after = "chose"')))
    assert [(problem.line, problem.message) for problem in error.value.problems] == [
        (21, "[[script]] #2: after = 'chose' names no check of this lesson (its checks: choose)")
    ]


# -- no check's answer on screen before it is asked (issue 13) -------------------------------

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?(?![\w.]*\d)", re.IGNORECASE)


def shown_before(lesson_id: str, lesson: Lesson | None = None) -> list[tuple[Check, str]]:
    """Each check of a shipped lesson (or `lesson`) with what the learner has seen when it is asked: as `--run-all`
    prints the lesson up to it (the text, the notes and the frames of the stops before it, the earlier checks with
    their explanations and held-back text, but not their answers), every check's prompt and choices (all
    are on screen at once) and its own hint."""
    lesson = lesson or load_course(ROOT / "lessons").lesson(lesson_id)
    assert lesson is not None
    snapshot, checks = lesson_snapshot(lesson), fill(lesson).checks
    prompts = "\n".join(f"{check.prompt}\n{' '.join(check.choices)}" for check in checks)
    shown = []
    for number, check in enumerate(checks, start=1):
        before = snapshot[: snapshot.index(f" check {number}/{len(checks)}: {check.id} ")]
        before = re.sub(r"^(?:engine's answer|answer \(typed in the lesson\)): .*$", "", before, flags=re.MULTILINE)
        shown.append((check, f"{before}\n{prompts}\n{check.hint}"))
    return shown


def answers_on_screen(check: Check, shown: str) -> list[str]:
    """The numbers in `shown` that `check` would accept: its answer, printed where the learner could read it off."""
    return sorted({token for token in NUMBER.findall(shown) if check.grade(token).correct})


def readable(check: Check) -> bool:
    """Whether a number on screen can give the check away: not a choice (its choices are on screen), not a small
    whole number (a count or a layer: 4 is in every grid, whatever the answer)."""
    return check.kind == "number" and not (float(check.answer).is_integer() and abs(float(check.answer)) < 100)


@pytest.mark.parametrize("lesson_id", load_course(ROOT / "lessons").ids)
def test_no_check_s_answer_is_on_screen_before_it_is_asked(lesson_id: str) -> None:
    """Predict, then see: no number a check accepts is in the text, a note, a stop's frame (the visualizer's grids,
    inspector, status and bars) or a prompt before the learner answers it, and each lesson asks at least two
    checks whose answer the learner works out rather than reads off."""
    leaks, hidden = {}, []
    for check, shown in shown_before(lesson_id):
        found = answers_on_screen(check, shown) if readable(check) else []
        if found:
            leaks[check.id] = found
        elif check.kind == "number":  # a small whole number (a count, a layer) is judged by reading the lesson
            hidden.append(check.id)
    assert leaks == {}, f"{lesson_id}: answers on screen before their check: {leaks}"
    assert len(hidden) >= 2, f"{lesson_id}: only {hidden} ask for a number the learner cannot read off"


def test_a_check_s_answer_on_screen_is_found() -> None:
    """The test above can fail: an answer in a grid, in the text or in another check's prompt is found, at the
    precision it is printed in; the same number with the wrong sign or another digit is not."""
    check = Check("x", "?", "number", (), "0.0031622776", 0.01, "h", "e")
    assert answers_on_screen(check, "x\n[0.00316] 0.00316\n0.0032 .. 0.0032 -0.00316 0.00416 (0.003162) 3.16e-3") == [
        "0.00316",
        "0.003162",
        "3.16e-3",
    ]
    assert not readable(Check("n", "?", "number", (), "4.0", 0, "h", "e"))
    assert readable(Check("n", "?", "number", (), "10000.0", 0, "h", "e"))

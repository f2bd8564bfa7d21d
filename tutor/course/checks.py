"""A lesson's checks, answers filled in, and grading a learner's answer to one.

A check's kind decides how it is read from a file (tutor/course/reader.py), filled
(tutor/course/filler.py) and graded (here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tutor.course.placeholders import format_value
from tutor.engine.arithmetic import evaluate

CHECK_KINDS = ("number", "choice")


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
    reveal: str = ""  # Markdown of the lesson's text that gives the answer away: shown once the check is answered
    typed: bool = False  # the answer is written in the lesson file, not computed by the engine (a choice's may be)

    def grade(self, response: str) -> Verdict:
        return grade(self, response)

    @property
    def shown_answer(self) -> str:
        """The answer as a learner would write it: 5 rather than 4.999999999999999."""
        if self.kind != "number":
            return self.answer
        return format_value(float(self.answer), None)


@dataclass(frozen=True)
class Verdict:
    """`malformed` answers are neither right nor wrong: the learner is asked to type again."""

    correct: bool
    malformed: bool
    message: str


def grade(check: Check, response: str) -> Verdict:
    text = response.strip()
    if not text:
        return Verdict(False, True, "Type an answer first." if check.kind == "number" else _choose(check))
    if check.kind == "choice":
        return _grade_choice(check, text)
    return _grade_number(check, text)


def _choose(check: Check) -> str:
    return f"Pick one of the choices: type its number (1 to {len(check.choices)}) or its text."


def _right(check: Check) -> Verdict:
    return Verdict(True, False, f"Right. {check.explanation}".strip())


def _wrong(check: Check, prefix: str = "Not quite.") -> Verdict:
    return Verdict(False, False, f"{prefix} Hint: {check.hint}" if check.hint else prefix)


def _grade_choice(check: Check, text: str) -> Verdict:
    chosen: str | None = None
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= len(check.choices):
            return Verdict(False, True, f"There is no choice {number}. {_choose(check)}")
        chosen = check.choices[number - 1]
    else:
        folded = " ".join(text.split()).casefold()
        for choice in check.choices:
            if " ".join(choice.split()).casefold() == folded:
                chosen = choice
                break
        if chosen is None:
            return Verdict(False, True, f"{text!r} is not one of the choices. {_choose(check)}")
    return _right(check) if chosen == check.answer else _wrong(check)


def read_number(text: str) -> float | None:
    """What a learner typed as a number: 0.5, -2, 1e-3, and also 2^-19, 0.5**9, 1/3 or 0.01/sqrt(10) (never evaluated
    as code: the engine's reader of its own printed arithmetic, with sqrt the only function)."""
    text = text.replace("\u2212", "-").replace("\u00d7", "*")  # the minus and times signs of copied text
    try:
        return float(text)
    except ValueError:
        return evaluate(text, _LEARNERS_FUNCTIONS)


_LEARNERS_FUNCTIONS = {"sqrt": math.sqrt}  # the hints write lr / (sqrt(v) + eps)


def _grade_number(check: Check, text: str) -> Verdict:
    raw = read_number(text)
    if raw is None:
        return Verdict(False, True, f"{text!r} is not a number: type digits such as 0.5, -2, 1e-3 or 2^-19.")
    if not math.isfinite(raw):
        return Verdict(False, True, f"{text} is not a finite number: type a value such as 0.5 or 1e-3.")
    expected = float(check.answer)
    if _close(check, raw, expected):
        return _right(check)
    if expected != 0 and _close(check, -raw, expected):  # only the sign is wrong: say so, and nothing else
        return _wrong(check, "Not quite: check the sign.")
    return _wrong(check)


def _close(check: Check, value: float, expected: float) -> bool:
    return math.isclose(value, expected, rel_tol=check.tolerance, abs_tol=check.tolerance if expected == 0 else 0.0)

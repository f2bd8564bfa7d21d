"""Grading a learner's answer to a lesson's check."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.course.lesson import Check


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


def _grade_number(check: Check, text: str) -> Verdict:
    try:
        raw = float(text)
    except ValueError:
        return Verdict(False, True, f"{text!r} is not a number: type digits such as 0.5, -2 or 1e-3.")
    if not math.isfinite(raw):
        return Verdict(False, True, f"{text} is not a finite number: type a value such as 0.5 or 1e-3.")
    expected = float(check.answer)
    if math.isclose(raw, expected, rel_tol=check.tolerance, abs_tol=check.tolerance if expected == 0 else 0.0):
        return _right(check)
    if expected != 0 and raw != 0 and math.copysign(1, raw) != math.copysign(1, expected):
        return _wrong(check, "Not quite: check the sign.")
    return _wrong(check)

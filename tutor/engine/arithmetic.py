"""A stage's arithmetic line written with the digits it needs to add up after its own rounding.

`x[0] = (-0.01338) - 0.03727*0.009987 = (-0.01376)` is what four digits give, yet the operands as printed make
-0.013752: the reader who checks it finds the last digit off. So each line's operands get the fewest digits (at
least four) at which the arithmetic of the printed operands, rounded as the result is, gives the printed result;
the result keeps four. Where an update cancels (x from -9e-05 to 4.5e-10) that is many digits, elsewhere four.
The line is checked by evaluating its printed text, so what is checked is what the learner reads.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

import numpy as np

from tutor.engine.hyper import Hyperparameters
from tutor.engine.optimizers import State, as_typed, fill, short_number

DIGITS = 4  # the fewest significant digits of a line's numbers, and always the result's
MOST_DIGITS = 17  # a double's every digit: the operands are exact there

# `v{at} = <expression> = {v}`: a line whose result is the quantity it names.
_EQUATION = re.compile(r"(?P<symbol>\w+)\{at\} = (?P<expression>.*) = \{(?P=symbol)\}")

_OPERATORS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"sqrt": math.sqrt, "max": max, "sign": lambda v: float(np.sign(v))}


def evaluate(expression: str, functions: dict[str, Callable[..., float]] = _FUNCTIONS) -> float | None:
    """The value of a printed expression such as `(-0.01338) - 0.03727*0.009987` or `0.001/(sqrt(1.6)+1e-08)`
    (`^` is a power; calls only of `functions`), or None if it is not arithmetic of numbers (words, inf, nan) or
    fails (sqrt of a negative, a power too large). Never evaluated as code: a learner's answer is read with it too."""
    try:
        return float(_value(ast.parse(expression.replace("^", "**"), mode="eval").body, functions))
    except (SyntaxError, ValueError, ArithmeticError, TypeError, KeyError, RecursionError):
        return None


def _value(node: ast.AST, functions: dict[str, Callable[..., float]]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)  # floats throughout: a huge power overflows at once instead of growing an int
    if isinstance(node, ast.BinOp):
        return _OPERATORS[type(node.op)](_value(node.left, functions), _value(node.right, functions))
    if isinstance(node, ast.UnaryOp):
        return _OPERATORS[type(node.op)](_value(node.operand, functions))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return functions[node.func.id](*(_value(argument, functions) for argument in node.args))
    raise ValueError("not arithmetic")


def arithmetic_line(
    template: str,
    before: State,
    after: State,
    hp: Hyperparameters,
    t: int,
    element: int,
    where: str,
    number: Callable[[float, int], str] = short_number,
) -> str:
    """`template` (a stage's arithmetic, `x{at} = {x_before} - {step}*{g} = {x}`) filled with element `element`'s
    numbers, written by `number(value, digits)`: the operands with the fewest digits from DIGITS at which the line
    adds up after its own rounding, the result with DIGITS. A line that is no equation (`g{at} = {g} at x{at} =
    {x}`) is written with DIGITS."""

    def filled(part: str, digits: int) -> str:
        def constant(value: float) -> str:  # as typed where that is exact, else with the line's digits
            typed = as_typed(value)
            return typed if float(typed) == value or digits <= 6 else number(value, digits)

        return fill(part, before, after, hp, t, element, where, lambda value: number(value, digits), constant)

    equation = _EQUATION.fullmatch(template)
    if equation is None:
        return filled(template, DIGITS)
    result_field = "{" + equation["symbol"] + "}"
    head = template[: -len(result_field)]  # `x{at} = <expression> = `
    result = filled(result_field, DIGITS)
    for digits in range(DIGITS, MOST_DIGITS + 1):
        line = filled(head, digits)
        value = evaluate(line.split(" = ", 1)[1].removesuffix(" = "))
        if value is None:
            break
        if number(value, DIGITS) == result:
            return line + result
    return filled(head, DIGITS) + result  # no digits make it add up (inf, nan): the plain four

"""Placeholders: `{{ name(arg=value, ...) | format }}` in lesson text, filled from FACTS.

Arguments are Python literals read with ast.literal_eval (numbers, strings, lists, dicts,
True/False/None); nothing a lesson file contains is ever executed.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

# Width and precision of a format such as `| .3g` or `| >12.4f`: a number never needs more (a limit of a
# lesson file, docs/security.md; here, not in limits.py, as formatting is part of a value: cache.py).
MAX_FORMAT_DIGITS = 100

# Loading checks every placeholder's arguments against its fact: read each signature once.
_signature = functools.lru_cache(maxsize=None)(inspect.signature)

# Formats with a name; anything else after the bar is a Python format spec such as .3g or .2f.
NAMED_FORMATS = ("exact", "int", "sci")
# A message quotes a long placeholder by its start and its end.
SHOWN_CHARACTERS = 80
REASON_CHARACTERS = 400


class PlaceholderError(ValueError):
    """A placeholder that cannot be read or filled; the message says why."""

    offset = 0  # where the placeholder starts in its text (set by parse_text)
    line: int | None = None  # the file line it is on, when known


@dataclass(frozen=True)
class Placeholder:
    source: str  # the whole `{{ ... }}`, as written
    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    format: str | None
    offset: int  # where it starts in the text it was found in
    line: int | None = None  # the file line it is on, when known

    def value(self, facts: Mapping[str, Callable[..., Any]]) -> Any:
        function = facts[self.name]
        try:
            return function(*self.args, **self.kwargs)
        except Exception as error:  # a fact that fails is a broken lesson, not a crash
            raise PlaceholderError(
                f"{shown(self.source)} failed: {type(error).__name__}: {shown(str(error), REASON_CHARACTERS)}"
            ) from None

    def render(self, facts: Mapping[str, Callable[..., Any]], default_format: str | None = None) -> str:
        return format_value(self.value(facts), self.format or default_format, self.source)


def parse(source: str, inner: str, offset: int, facts: Mapping[str, Callable[..., Any]]) -> Placeholder:
    """Read one placeholder's inside (`name(a=1) | .3g`); check the fact exists and takes these arguments."""
    expression, fmt = _split_format(inner)
    quoted = shown(source)
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # also too deep, or a number too long to read
        raise PlaceholderError(f'{quoted} is not a fact call such as {{{{ final_loss(optimizer="gd") }}}}') from None
    if isinstance(tree, ast.Name):
        name, arg_nodes, keyword_nodes = tree.id, [], []
    elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        name, arg_nodes, keyword_nodes = tree.func.id, tree.args, tree.keywords
    else:
        raise PlaceholderError(f'{quoted} is not a fact call such as {{{{ final_loss(optimizer="gd") }}}}')
    if name not in facts:
        raise PlaceholderError(f"{quoted}: unknown fact {shown(repr(name))}; known: {', '.join(sorted(facts))}")
    try:
        args = tuple(ast.literal_eval(node) for node in arg_nodes)
        kwargs = {}
        for keyword in keyword_nodes:
            if keyword.arg is None:
                raise ValueError("**")
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
    except (ValueError, TypeError, RecursionError, MemoryError):
        raise PlaceholderError(
            f'{quoted}: arguments must be plain values (numbers, "strings", [lists], {{dicts}}, True, None)'
        ) from None
    try:
        bound = _signature(facts[name]).bind(*args, **kwargs)
    except TypeError as error:
        raise PlaceholderError(f"{quoted}: {name}() {error}") from None
    hints = _hints(facts[name])
    for parameter, value in bound.arguments.items():
        hint = hints.get(parameter, Any)
        if not _fits(value, hint):
            raise PlaceholderError(f"{quoted}: {name}: {parameter} must be {_kind(hint)}, not {_what(value)}")
    if fmt is not None:
        _check_format(fmt, quoted)
    return Placeholder(source, name, args, kwargs, fmt, offset)


@functools.cache
def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    """A fact's parameters' type hints (read once): what each argument a lesson gives must be."""
    return typing.get_type_hints(function)


# How a message names each type a fact's parameter takes (a lesson author writes TOML-like literals).
_KIND_NAMES: dict[Any, str] = {
    int: "a whole number (int)",
    float: "a number (float)",
    str: "a name (str)",
    type(None): "None",
    dict: "a table (dict)",
    tuple: "a list (tuple)",
    list: "a list",
}
_ITEM_NAMES: dict[Any, str] = {int: "whole numbers (int)", float: "numbers (float)", str: "names (str)"}


def _fits(value: Any, hint: Any) -> bool:
    """Whether a literal `value` is of the type `hint` (the hints facts use: int, float, str, None, their
    unions, dict[...], tuple[X, ...]); an int fits float, a bool fits neither."""
    origin, parts = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, part) for part in parts)
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    if hint in (int, str):
        return isinstance(value, hint)
    if (origin or hint) is dict:
        return isinstance(value, dict)
    if (origin or hint) in (tuple, list):  # a lesson writes a list either way
        if not isinstance(value, (tuple, list)):
            return False
        if len(parts) == 2 and parts[1] is Ellipsis:
            return all(_fits(item, parts[0]) for item in value)
        return not parts or (len(parts) == len(value) and all(map(_fits, value, parts)))
    return True  # a hint this check does not know: the fact itself says what it refuses


def _kind(hint: Any) -> str:
    origin, parts = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_kind(part) for part in parts)
    if (origin or hint) in (tuple, list) and parts and parts[-1] is Ellipsis:
        return f"a list of {_ITEM_NAMES.get(parts[0], _kind(parts[0]))}"
    return _KIND_NAMES.get(origin or hint, getattr(hint, "__name__", str(hint)))


def _what(value: Any) -> str:
    """The type of a value a message refuses: `bytes`, or `a list holding int, str`."""
    if isinstance(value, (list, tuple)) and value:
        return "a list holding " + ", ".join(sorted({type(item).__name__ for item in value}))
    return type(value).__name__


def spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each `{{ ... }}` starts and ends (the first `}}` after its `{{`), in one pass over `text`.

    A `{{` never closed ends the scan as (start, -1): no later `{{` can be closed either. (A
    regex would retry every unclosed `{{` to the end of the text: quadratic.)
    """
    start = text.find("{{")
    while start >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            yield start, -1
            return
        yield start, end + 2
        start = text.find("{{", end + 2)


# A decimal with three or more significant digits typed into a lesson's prose is a result the
# engine should have computed (settings such as 0.001 or 0.9 have fewer).
_DECIMAL = re.compile(r"(?<![\w.])-?\d*\.?\d+(?:e[-+]?\d+)?(?![\w.])", re.IGNORECASE)


def significant_digits(token: str) -> int:
    """0.000123 -> 3, 1.50e-3 -> 2, 0.9 -> 1."""
    mantissa = token.lower().lstrip("-").split("e")[0].replace(".", "")
    return len(mantissa.strip("0"))


def hand_typed_results(text: str) -> list[tuple[int, str]]:
    """(offset, token) of each decimal with three or more significant digits typed outside
    placeholders and `code` (`lr=0.001` names a setting, not a result)."""
    blank = list(text)
    for start, end in spans(text):
        for index in range(start, len(text) if end < 0 else end):
            blank[index] = " " if text[index] != "\n" else "\n"
    prose = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), "".join(blank))
    return [
        (match.start(), token)
        for match in _DECIMAL.finditer(prose)
        if ("." in (token := match.group(0)) or "e" in token.lower()) and significant_digits(token) >= 3
    ]


def has_placeholder(text: str) -> bool:
    return any(end >= 0 for _, end in spans(text))


def parse_text(
    text: str, facts: Mapping[str, Callable[..., Any]], first_line: int | None = None
) -> tuple[tuple[str | Placeholder, ...], list[PlaceholderError]]:
    """`text` cut into its plain runs and its parsed placeholders, and the errors of those that cannot be parsed.

    A placeholder that cannot be parsed stays in the parts as its text. With `first_line`
    (the file line `text` starts on), each placeholder and error knows its own line.
    """
    parts: list[str | Placeholder] = []
    errors: list[PlaceholderError] = []
    position, line = 0, first_line
    for start, end in spans(text):
        if line is not None:
            line += text.count("\n", position, start)
        if start > position:
            parts.append(text[position:start])
        if end < 0:
            error = PlaceholderError(f"unclosed placeholder: {shown(text[start:].split(chr(10))[0])} is never closed with }}}}")
            error.offset, error.line = start, line
            errors.append(error)
            position = start
            break
        source = text[start:end]
        try:
            parts.append(replace(parse(source, source[2:-2], start, facts), line=line))
        except PlaceholderError as error:
            error.offset, error.line = start, line
            errors.append(error)
            parts.append(source)
        if line is not None:
            line += source.count("\n")
        position = end
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts), errors


def is_single_placeholder(text: str) -> bool:
    """True when `text` is exactly one placeholder (how a number answer must be written)."""
    text = text.strip()
    return list(itertools.islice(spans(text), 2)) == [(0, len(text))]


def format_value(value: Any, fmt: str | None, source: str = "") -> str:
    """A fact's value as text. Without a format: whole numbers as they are, other floats to 3 significant digits.

    A format that does not fit the value (`| int` on a name, `| .3f` on a list) raises PlaceholderError.
    """
    if fmt is None:
        if isinstance(value, bool) or isinstance(value, str):
            return str(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _short(value)
        return str(value)
    quoted = shown(source)
    if fmt in NAMED_FORMATS and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise PlaceholderError(f"{quoted} gave {shown(repr(value))}, which is not a number")
    try:
        if fmt == "exact":
            return str(value) if isinstance(value, int) else repr(float(value))
        if fmt == "int":
            return str(int(round(float(value))))
        if fmt == "sci":
            return f"{float(value):.2e}"
        return format(value, fmt)
    except (ValueError, TypeError, OverflowError) as error:
        raise PlaceholderError(f"{quoted}: format {fmt!r} does not fit {shown(repr(value))}: {error}") from None


def shown(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """`text` as a message quotes it: a long one by its start and its end (a reason may be longer: `limit`)."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}…{text[-15:]} ({len(text):,} characters)"


def _short(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}"


def _split_format(inner: str) -> tuple[str, str | None]:
    """`final_loss(x="a|b") | .3g` -> (`final_loss(x="a|b")`, `.3g`): the last bar outside quotes and brackets."""
    depth, quote = 0, ""
    split_at = -1
    for index, char in enumerate(inner):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "|" and depth == 0:
            split_at = index
    if split_at < 0:
        return inner, None
    return inner[:split_at], inner[split_at + 1 :].strip()


def _check_format(fmt: str, source: str) -> None:
    if fmt in NAMED_FORMATS:
        return
    # Before trying it: `| 50000000` would build a 50 MB string, `| .50000000f` compute for minutes.
    digits = max((int(number) for number in re.findall(r"\d{1,12}", fmt)), default=0)
    if len(fmt) > 30 or digits > MAX_FORMAT_DIGITS:
        raise PlaceholderError(
            f"{source}: format {shown(repr(fmt))} asks for more than {MAX_FORMAT_DIGITS} characters; use a width and "
            "precision up to that"
        )
    try:
        format(0.5, fmt)
    except ValueError:
        raise PlaceholderError(
            f"{source}: unknown format {shown(repr(fmt))}; use exact, int, sci or a Python format such as .3g or .2f"
        ) from None


def reference(facts: Mapping[str, Callable[..., Any]]) -> str:
    """A Markdown list of the facts, their arguments and the first line of their docstrings (lessons/README.md)."""
    lines = []
    for name in sorted(facts):
        function = facts[name]
        parameters = ", ".join(
            f"{p.name}={p.default!r}" if p.default is not inspect.Parameter.empty else p.name
            for p in inspect.signature(function).parameters.values()
        )
        summary = (function.__doc__ or "").strip().split("\n")[0]
        lines.append(f"- `{name}({parameters})`: {summary}")
    return "\n".join(lines) + "\n"

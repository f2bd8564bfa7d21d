"""Placeholders: `{{ name(arg=value, ...) | format }}` in lesson text, filled from FACTS.

Arguments are Python literals read with ast.literal_eval (numbers, strings, lists, dicts,
True/False/None); nothing a lesson file contains is ever executed.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PATTERN = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

# Loading checks every placeholder's arguments against its fact: read each signature once.
_signature = functools.lru_cache(maxsize=None)(inspect.signature)

# Formats with a name; anything else after the bar is a Python format spec such as .3g or .2f.
NAMED_FORMATS = ("exact", "int", "sci")


class PlaceholderError(ValueError):
    """A placeholder that cannot be read or filled; the message says why."""

    offset = 0  # where the placeholder starts in its text (set by find)


@dataclass(frozen=True)
class Placeholder:
    source: str  # the whole `{{ ... }}`, as written
    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    format: str | None
    offset: int  # where it starts in the text it was found in

    def value(self, facts: Mapping[str, Callable[..., Any]]) -> Any:
        function = facts[self.name]
        try:
            return function(*self.args, **self.kwargs)
        except Exception as error:  # a fact that fails is a broken lesson, not a crash
            raise PlaceholderError(f"{self.source} failed: {type(error).__name__}: {error}") from None

    def render(self, facts: Mapping[str, Callable[..., Any]], default_format: str | None = None) -> str:
        return format_value(self.value(facts), self.format or default_format, self.source)


def parse(source: str, inner: str, offset: int, facts: Mapping[str, Callable[..., Any]]) -> Placeholder:
    """Read one placeholder's inside (`name(a=1) | .3g`); check the fact exists and takes these arguments."""
    expression, fmt = _split_format(inner)
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        raise PlaceholderError(f'{source} is not a fact call such as {{{{ final_loss(optimizer="gd") }}}}') from None
    if isinstance(tree, ast.Name):
        name, arg_nodes, keyword_nodes = tree.id, [], []
    elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        name, arg_nodes, keyword_nodes = tree.func.id, tree.args, tree.keywords
    else:
        raise PlaceholderError(f'{source} is not a fact call such as {{{{ final_loss(optimizer="gd") }}}}')
    if name not in facts:
        raise PlaceholderError(f"{source}: unknown fact {name!r}; known: {', '.join(sorted(facts))}")
    try:
        args = tuple(ast.literal_eval(node) for node in arg_nodes)
        kwargs = {}
        for keyword in keyword_nodes:
            if keyword.arg is None:
                raise ValueError("**")
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
    except ValueError:
        raise PlaceholderError(
            f'{source}: arguments must be plain values (numbers, "strings", [lists], {{dicts}}, True, None)'
        ) from None
    try:
        _signature(facts[name]).bind(*args, **kwargs)
    except TypeError as error:
        raise PlaceholderError(f"{source}: {name}() {error}") from None
    if fmt is not None:
        _check_format(fmt, source)
    return Placeholder(source, name, args, kwargs, fmt, offset)


def find(text: str, facts: Mapping[str, Callable[..., Any]]) -> list[Placeholder | PlaceholderError]:
    """Every placeholder in `text`, parsed, or the error that says why it cannot be."""
    found: list[Placeholder | PlaceholderError] = []
    for match in PATTERN.finditer(text):
        try:
            found.append(parse(match.group(0), match.group(1), match.start(), facts))
        except PlaceholderError as error:
            error.offset = match.start()
            found.append(error)
    return found


def fill(text: str, facts: Mapping[str, Callable[..., Any]], default_format: str | None = None) -> str:
    """`text` with every placeholder replaced by its value; raises PlaceholderError for the first bad one."""

    def replace(match: re.Match[str]) -> str:
        return parse(match.group(0), match.group(1), match.start(), facts).render(facts, default_format)

    return PATTERN.sub(replace, text)


def is_single_placeholder(text: str) -> bool:
    """True when `text` is exactly one placeholder (how a number answer must be written)."""
    match = PATTERN.fullmatch(text.strip())
    return match is not None


def format_value(value: Any, fmt: str | None, source: str = "") -> str:
    """A fact's value as text. Without a format: whole numbers as they are, other floats to 3 significant digits."""
    if fmt is None:
        if isinstance(value, bool) or isinstance(value, str):
            return str(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _short(value)
        return str(value)
    if fmt == "exact":
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else repr(float(value))
    if fmt == "int":
        return str(int(round(float(value))))
    if fmt == "sci":
        return f"{float(value):.2e}"
    try:
        return format(value, fmt)
    except (ValueError, TypeError) as error:
        raise PlaceholderError(f"{source}: format {fmt!r} does not fit {value!r}: {error}") from None


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
    try:
        format(0.5, fmt)
    except ValueError:
        raise PlaceholderError(
            f"{source}: unknown format {fmt!r}; use exact, int, sci or a Python format such as .3g or .2f"
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

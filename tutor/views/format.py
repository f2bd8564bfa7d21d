"""Numbers for the screen, formatted in one place."""

from __future__ import annotations

import math

import numpy as np

IDLE = "idle"


def number(value: float, digits: int = 3) -> str:
    """A short, readable number: 0.0123, -0.45, 1.23e-05, 1.5e+04, inf, nan."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        text = f"{value:.{digits}g}"
    else:
        mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        text = f"{mantissa}e{int(exponent):+03d}"
    return text


def cell(value: float, width: int = 7, digits: int = 3) -> str:
    """A number for a grid cell of `width` characters: with the most significant digits, up to `digits`, that fit,
    and never fewer than two, trailing zeros kept (0.0090, not 0.009; 2.0e-6, not 2e-6; 0.400 where it fits).
    Where even two do not fit `width`, the text is wider: the grid widens its cells rather than lose a digit."""
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return number(value)
    texts = [text for d in range(digits, 1, -1) for text in _cell_forms(value, d)]
    return next((text for text in texts if len(text) <= width), min(texts[-2:], key=len))


def significant(value: float, digits: int = 2) -> str:
    """`value` with `digits` significant digits, trailing zeros kept, as a grid cell writes it (the grid legends)."""
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return number(value)
    return min(_cell_forms(value, digits), key=len)


def _cell_forms(value: float, digits: int) -> tuple[str, ...]:
    """The ways a cell may write `value` with `digits` significant digits (or more, as a whole number), best first.
    One style in a grid: small and huge values all as 1.6e-4 (not 2.1e-04 beside 2.08e-4)."""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        return (_fixed(value, digits), _short(value, digits))
    if magnitude >= 1e4:
        return (_whole(value), _short(value, digits)) if magnitude < 1e15 else (_short(value, digits),)
    return (_short(value, digits),)


def _fixed(value: float, digits: int) -> str:
    """0.0090, 0.400, 10.0, 123: `digits` significant digits in plain notation, zeros kept (whole numbers whole)."""
    exponent = int(f"{value:.{digits - 1}e}".split("e")[1])  # of the rounded value: 9.996 -> 10.0, not 10.00
    return f"{value:.{max(digits - 1 - exponent, 0)}f}"


def _whole(value: float) -> str:
    """1757 and -1757 as they are (4 digits and more)."""
    return f"{value:.0f}"


def _short(value: float, digits: int) -> str:
    """The exponent without its sign and zeros: 1.6e-4, -1.8e3, 2.0e-6 (the mantissa's zeros are digits: kept)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def exact(value: float) -> str:
    """Full precision, as Python's repr prints it (the seed's final losses)."""
    return repr(float(value))


def hyper(value: float) -> str:
    """A hyperparameter as a person would type it: 0.001, 0.9, 1e-08."""
    return f"{float(value):g}"


def used_hyperparameters(names: tuple[str, ...], hp: object) -> str:
    """`name=value` for the hyperparameters an optimizer's rule names, and the lr schedule when one is on."""
    shown = (*names, "lr_halving") if getattr(hp, "lr_halving", 0) else names
    return " ".join(f"{name}={hyper(getattr(hp, name))}" for name in shown)


def index_label(index: tuple[int, ...]) -> str:
    return "[" + ",".join(str(i) for i in index) + "]"


def idle_mask(mean_square: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """Cells whose mean-square buffer is still exactly 0: no gradient has reached them,
    so lr / (sqrt(v) + eps) = lr / eps is a meaningless huge number, not a step."""
    if mean_square is None:
        return np.zeros(shape, dtype=bool)
    return mean_square == 0

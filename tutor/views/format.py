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
    """A number that fits a grid cell of `width` characters with at least two significant digits
    where it can (1.6e-4 rather than 2e-04 beside the inspector's 1.596e-04; -1757, not -2e+03)."""
    value = float(value)
    plain = value == 0 or 1e-3 <= abs(value) < 1e4 or not math.isfinite(value)
    for d in range(digits, 1, -1):
        # One style in a grid: small and huge values all as 1.6e-4 (not 2.1e-04 beside 2.08e-4).
        for text in (number(value, d), _whole(value)) if plain else (_whole(value), _short(value, d)):
            if text and len(text) <= width:
                return text
    return number(value, 1)


def _whole(value: float) -> str:
    """1757 and -1757 as they are (4 digits and more), or "" below 1000 or where not finite."""
    return f"{value:.0f}" if math.isfinite(value) and 1e3 <= abs(value) < 1e15 else ""


def _short(value: float, digits: int) -> str:
    """The exponent without its sign and zeros: 1.6e-4, -1.8e3 (inf and nan as `number` writes them)."""
    if not math.isfinite(value) or value == 0:
        return number(value)
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
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

"""Hyperparameters: one frozen record and the one check every entry point uses.

The command line, the in-app editor, share codes and lesson files all call
`Hyperparameters.validated` / `parse_value`, so a bad value gets the same reason
wherever it was typed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

# Largest values we accept: beyond them nothing is learned, only overflow.
MAX_LR = 1e3
MAX_EPS = 1.0
MAX_LR_HALVING = 1e6


class HyperparameterError(ValueError):
    """A hyperparameter value that cannot be used; the message says why."""


@dataclass(frozen=True)
class Hyperparameters:
    """The seed's defaults: lr=1e-3, decay=0.9, eps=1e-8, mu=0.9, and a constant lr (lr_halving=0).

    `lr_halving` > 0 is a decaying lr schedule: update t uses lr / (1 + (t - 1) / lr_halving), so the
    lr has halved after lr_halving updates and keeps falling like 1/t (what lets RMSprop settle).
    """

    lr: float = 1e-3
    decay: float = 0.9
    eps: float = 1e-8
    mu: float = 0.9
    lr_halving: float = 0.0

    NAMES = ("lr", "decay", "eps", "mu", "lr_halving")

    @classmethod
    def validated(cls, **values: object) -> Hyperparameters:
        """Build from loose values (strings or numbers); raise HyperparameterError with a reason."""
        clean = {name: parse_value(name, value) for name, value in values.items() if value is not None}
        unknown = set(clean) - set(cls.NAMES)
        if unknown:
            raise HyperparameterError(f"unknown hyperparameter {sorted(unknown)[0]!r}; known: {', '.join(cls.NAMES)}")
        return cls(**clean)

    def with_value(self, name: str, value: object) -> Hyperparameters:
        """A copy with one value changed, checked like any other entry."""
        return replace(self, **{name: parse_value(name, value)})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def for_update(self, t: int) -> Hyperparameters:
        """The values update number `t` (from 1) uses: the lr of the schedule (itself when the lr is constant)."""
        if not self.lr_halving:
            return self
        return replace(self, lr=self.lr / (1.0 + (t - 1) / self.lr_halving))


def parse_value(name: str, value: object) -> float:
    """Parse and check one hyperparameter; the error names the rule that was broken."""
    if name not in Hyperparameters.NAMES:
        raise HyperparameterError(f"unknown hyperparameter {name!r}; known: {', '.join(Hyperparameters.NAMES)}")
    if isinstance(value, bool):
        raise HyperparameterError(f"{name} must be a number, not {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise HyperparameterError(f"{name} is empty: type a number such as {_example(name)}")
        try:
            number = float(text)
        except ValueError:
            raise HyperparameterError(f"{name} must be a number such as {_example(name)}, not {text!r}") from None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        raise HyperparameterError(f"{name} must be a number, not {type(value).__name__}")
    if math.isnan(number):
        raise HyperparameterError(f"{name} cannot be NaN")
    # 1e400 is read as inf: it is refused as typed ("not inf" would puzzle whoever typed 1e400).
    too_large = isinstance(value, str) and math.isinf(number) and "inf" not in text.lower()
    if math.isinf(number) and not too_large:
        raise HyperparameterError(f"{name} must be finite, not {number}")
    shown = text if too_large else f"{number:g}"
    if name == "lr" and not 0 < number <= MAX_LR:
        raise HyperparameterError(f"lr must be > 0 and <= {MAX_LR:g}, not {shown}")
    if name == "decay" and not 0 <= number < 1:
        raise HyperparameterError(f"decay must be in [0, 1), not {shown}: it is the share of v kept each update")
    if name == "eps" and not 0 < number <= MAX_EPS:
        raise HyperparameterError(f"eps must be > 0 and <= {MAX_EPS:g}, not {shown}: it only guards a division by zero")
    if name == "lr_halving" and not 0 <= number <= MAX_LR_HALVING:
        raise HyperparameterError(
            f"lr_halving must be in [0, {MAX_LR_HALVING:.0f}], not {shown}: the updates after which the lr has halved (0: constant)"
        )
    if name == "mu" and not 0 <= number < 1:
        raise HyperparameterError(f"mu must be in [0, 1), not {shown}: mu >= 1 makes momentum grow forever")
    if too_large:
        raise HyperparameterError(f"{name} must be finite, not {shown}")
    return number


def _example(name: str) -> str:
    return {"lr": "0.001", "decay": "0.9", "eps": "1e-8", "mu": "0.9", "lr_halving": "0 or 100"}[name]

"""The one-line status: the update, loss, change of loss, and a warning when a run diverges."""

from __future__ import annotations

import math

from rich.text import Text

from tutor.engine import Run
from tutor.views import format as fmt

# A loss this many times its start is called diverging before it overflows; and sooner, a loss that
# rose in each of the last RISING_UPDATES updates to RISING_FACTOR times its start (it clearly grows:
# RMSprop's first-step spike, or a loss that wobbles, is not that).
GROWTH_WARNING = 100.0
RISING_UPDATES = 5
RISING_FACTOR = 2.0


def _rising(run: Run) -> bool:
    step = run.current.step
    if step < RISING_UPDATES:
        return False
    losses = [run.records.loss(k) for k in range(step - RISING_UPDATES, step + 1)]
    return all(later > earlier for earlier, later in zip(losses, losses[1:], strict=False))


def divergence_message(run: Run) -> str | None:
    """A learner-facing sentence when the run diverges, else None."""
    record = run.current
    start = run.records[0].loss
    hint = ""
    stable = getattr(run.problem, "stable_lr", None)
    if run.optimizer.key == "gd" and stable is not None:
        limit = stable()
        if run.hp.lr > limit:
            hint = f" lr {fmt.hyper(run.hp.lr)} is above 1/sigma_max^2 = {fmt.number(limit)}, where gradient descent stops converging."
    if record.diverged:
        first = run.first_divergent_step()
        return (
            f"DIVERGED at update {first}: the loss overflowed to {fmt.number(record.loss)}.{hint}"
            " Press b to go back, e to change lr."
        )
    if math.isfinite(start) and start > 0:
        growth = record.loss / start
        if growth > GROWTH_WARNING or (growth > RISING_FACTOR and _rising(run)):
            rose = f"rose in each of the last {RISING_UPDATES} updates: it " if growth <= GROWTH_WARNING else ""
            return (
                f"DIVERGING: the loss {rose}is {fmt.number(growth)}x where it started.{hint} Press b to go back, e to change lr."
            )
    return None


def status_line(run: Run, colour: bool = True) -> Text:
    """`update 12  loss 0.547  change -0.0012  rmsprop lr=0.001 decay=0.9 eps=1e-08` (+ a warning)."""
    record = run.current
    text = Text()
    # The gap goes inside the bold span: a span that starts with spaces lost them in some SVG renderers ("update 1loss").
    text.append(f"update {record.step}  ", style="bold")
    text.append(f"loss {fmt.number(record.loss, 4)}")
    if record.step > 0:
        change = record.loss - run.records[record.step - 1].loss
        text.append(f"  change {'+' if change > 0 else ''}{fmt.number(change, 3)}")
    used = fmt.used_hyperparameters(run.optimizer.uses, run.hp)
    text.append("  ")
    text.append(f"{run.optimizer.label} {used}", style="dim" if colour else "")
    warning = divergence_message(run)
    if warning:
        text.append("\n")
        text.append(warning, style="bold red" if colour else "")
    return text

"""What one update of a problem costs: the one cost model the share codes, the lesson files' limits and
the visualizer's choice to compute behind a progress bar all use.

The unit is one update of the seed's 5x5 matrix (20-40 microseconds here). Measured: the valley's
0.5, a 200-layer chain's about 26, the default digits network's about 100 (7.5 ms under load).
"""

from __future__ import annotations

from typing import Any

# The most one update may cost, so that the app keeps answering between updates: about 1,000 matrix
# updates is 30-75 ms (measured: the default network, 99 units, takes 7.5 ms on this loaded machine;
# a 256-wide, 20-deep network in batches of 1,437, 730,000 units, took seconds per update).
MAX_UPDATE_COST = 1_000


def elements_of(problem: Any) -> int:
    """How many numbers the problem's x holds (a network says it without building its start)."""
    size = getattr(problem, "size", None)
    return size if isinstance(size, int) else int(problem.start().size)


def update_cost(problem: Any) -> float:
    """One update of `problem`, in updates of the seed's matrix: elements times mini-batch rows."""
    elements = elements_of(problem)
    if problem.kind == "deep-chain":
        return 1 + elements / 8  # the chain is walked layer by layer, twice
    # Python's share of an update, then numpy's arithmetic per element and mini-batch row
    return 0.5 + elements * getattr(problem, "batch", 1) / 2500

"""A run's records, kept whole while they are small and as checkpoints once they are large.

A record of the digits network holds ~8,000 parameters four or five times over (x, the gradient,
the buffers, the step size): 10,000 of them would take 2.5 GB. So for states above
`CHECKPOINT_ABOVE` elements only every `SPACING`-th record and the last `SPACING` stay whole; the
others keep their loss, hyperparameters and whether they diverged, and are recomputed from the
checkpoint before them when asked for. The update is deterministic, so a recomputed record is bit
for bit the one first computed (tests/test_history.py checks it). Small states (the matrix, the
chain, the surfaces) keep every record, as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

from tutor.engine.hyper import Hyperparameters

if TYPE_CHECKING:
    from tutor.engine.run import Record

CHECKPOINT_ABOVE = 1000  # elements of x; the largest toy problem (a 200-layer chain) has 200
SPACING = 64  # steps between checkpoints: going back past one recomputes at most 63 updates
CACHED_SEGMENTS = 2  # recomputed stretches kept, so stepping back through one recomputes it once


@dataclass(frozen=True)
class Summary:
    """What a record not kept whole still knows without recomputing."""

    step: int
    loss: float
    hp: Hyperparameters
    diverged: bool


class History(Sequence["Record"]):
    """A list of records, step i at index i; `recompute(record, hp)` makes the record after `record` with `hp`."""

    def __init__(self, first: Record, recompute: Callable[[Record, Hyperparameters], Record]) -> None:
        self._entries: list[Record | Summary] = [first]
        self._recompute = recompute
        self._segments: OrderedDict[int, list[Record]] = OrderedDict()
        self._checkpointed = first.x.size > CHECKPOINT_ABOVE

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        entry = self._entries[index]
        return entry if not isinstance(entry, Summary) else self._materialize(index)

    def __iter__(self) -> Iterator[Record]:
        return (self[i] for i in range(len(self)))

    def __setitem__(self, index: int, record: Record) -> None:
        """Replace a record (and drop what was recomputed from the old one)."""
        self._entries[index] = record
        self._segments.clear()

    def __delitem__(self, index: slice) -> None:
        """Drop records from `index.start` on (the future an edit makes stale)."""
        start = index.indices(len(self))[0]
        del self._entries[start:]
        for base in [base for base in self._segments if base + SPACING > start]:
            del self._segments[base]

    def append(self, record: Record) -> None:
        self._entries.append(record)
        stale = record.step - SPACING  # leaves the kept tail: summarised unless it is a checkpoint
        if self._checkpointed and stale > 0 and stale % SPACING:
            old = self._entries[stale]
            if not isinstance(old, Summary):
                self._entries[stale] = Summary(old.step, old.loss, old.hp, old.diverged)

    # cheap questions that never recompute

    def loss(self, index: int) -> float:
        return self._entries[index].loss

    def hp(self, index: int) -> Hyperparameters:
        return self._entries[index].hp

    def diverged(self, index: int) -> bool:
        return self._entries[index].diverged

    def entry(self, index: int) -> Record | Summary:
        """What is kept of step `index`: its record, or its Summary (the same object until an edit replaces it)."""
        return self._entries[index]

    def kept_whole(self) -> int:
        """How many records are held whole right now (the checkpoints, the tail, recomputed stretches)."""
        whole = sum(not isinstance(entry, Summary) for entry in self._entries)
        return whole + sum(len(segment) for segment in self._segments.values())

    def _materialize(self, index: int) -> Record:
        base = index - index % SPACING
        segment = self._segments.get(base)
        if segment is None:
            segment = [self._entries[base]]  # type: ignore[list-item]  # a checkpoint: always whole
            for step in range(base + 1, min(base + SPACING, len(self))):
                entry = self._entries[step]
                segment.append(entry if not isinstance(entry, Summary) else self._recompute(segment[-1], entry.hp))
            self._segments[base] = segment
            while len(self._segments) > CACHED_SEGMENTS:
                self._segments.popitem(last=False)
        self._segments.move_to_end(base)
        return segment[index - base]

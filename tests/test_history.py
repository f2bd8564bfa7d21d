"""A large run keeps checkpoints, not every record; a record recomputed from one is bit for bit the first."""

from __future__ import annotations

from tutor.engine import Hyperparameters, Record, Run, make_problem
from tutor.engine.history import SPACING, Summary

SMALL_NET = {"kind": "digits", "depth": 1, "width": 16, "batch": 16}  # 1,210 parameters: checkpointed


def same(a: Record, b: Record) -> bool:
    arrays = lambda r: [r.x, r.effective_step, *(r.buffers[k] for k in sorted(r.buffers))]  # noqa: E731
    return (
        a.step == b.step
        and a.hp == b.hp
        and a.loss == b.loss
        and (a.grad is None) == (b.grad is None)
        and (a.grad is None or a.grad.tobytes() == b.grad.tobytes())
        and all(p.tobytes() == q.tobytes() for p, q in zip(arrays(a), arrays(b), strict=True))
    )


def straight_records(spec: dict, optimizer: str, edits: dict[int, Hyperparameters], steps: int) -> list[Record]:
    """Every record, computed once in order and all kept (what the history must give back)."""
    run = Run.create(make_problem(spec), optimizer, edits.get(0))
    records = [run.records[0]]
    hp = run.hp
    for step in range(steps):
        hp = edits.get(step, hp)
        records.append(run.next_record(records[-1], hp))
    return records


def test_stepping_back_through_checkpoints_gives_every_record_bit_for_bit() -> None:
    run = Run.create(make_problem(SMALL_NET), "rmsprop-momentum", Hyperparameters(lr=0.01))
    run.goto(5 * SPACING + 7)
    entries = run.records._entries
    assert isinstance(entries[SPACING + 1], Summary) and not isinstance(entries[2 * SPACING], Summary)
    assert run.records.kept_whole() <= 5 + SPACING + 8
    expected = straight_records(SMALL_NET, "rmsprop-momentum", {0: Hyperparameters(lr=0.01)}, 5 * SPACING + 7)
    for step in range(len(expected) - 1, -1, -1):  # as `b` held down would
        assert same(run.back() if step < run.index else run.current, expected[step]), step
    assert run.losses() == [expected[0].loss]


def test_edits_are_replayed_with_the_hyperparameters_each_step_used() -> None:
    run = Run.create(make_problem(SMALL_NET), "rmsprop", Hyperparameters(lr=0.01))
    run.goto(70)
    run.set_hyperparameters(Hyperparameters(lr=0.003))
    run.goto(150)
    run.goto(100)
    run.set_hyperparameters(Hyperparameters(lr=0.03, decay=0.5))  # drops 101..150
    run.goto(3 * SPACING)
    edits = {0: Hyperparameters(lr=0.01), 70: Hyperparameters(lr=0.003), 100: Hyperparameters(lr=0.03, decay=0.5)}
    expected = straight_records(SMALL_NET, "rmsprop", edits, 3 * SPACING)
    for step in (1, 69, 70, 71, 99, 100, 101, 3 * SPACING - 1):
        assert same(run.records[step], expected[step]), step
    assert run.losses() == [r.loss for r in expected]


def test_small_problems_keep_every_record_whole() -> None:
    run = Run.create(make_problem({"kind": "deep-chain", "depth": 200}), "rmsprop")
    run.goto(3 * SPACING)
    assert not any(isinstance(entry, Summary) for entry in run.records._entries)

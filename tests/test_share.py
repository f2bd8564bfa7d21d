"""Share codes: short, exact round trips, and a reason for every code that cannot be opened."""

from __future__ import annotations

import binascii
import random
from dataclasses import replace

import numpy as np
import pytest

from tutor import share
from tutor.engine import Record, Run
from tutor.engine.hyper import Hyperparameters
from tutor.engine.problems import PROBLEM_KINDS, make_problem
from tutor.share import ALPHABET, ShareCodeError, decode, encode

DEFAULT_HP = Hyperparameters().as_dict()


def state(problem=None, optimizers=None, step=0, hidden=None, view="matrix", edits=None, cursor=0, selected=0, speed=10, **hp):
    """A state as the visualizer's state() gives it: the problem's own spec, every hyperparameter."""
    optimizers = optimizers or ["rmsprop"]
    return {
        "problem": make_problem(problem or {"kind": "matrix"}).spec(),
        "optimizers": optimizers,
        "hp": {**DEFAULT_HP, **hp},
        "edits": edits or [[] for _ in optimizers],
        "step": step,
        "cursor": cursor,
        "selected": selected,
        "speed": speed,
        "view": view,
        "hidden": hidden or [],
    }


def raw_code(payload: bytes) -> str:
    """A well-formed code (right checksum) around any payload, to test what decoding checks after it."""
    data = payload + binascii.crc_hqx(payload, 0).to_bytes(2, "big")
    return share._to_base32(data)


def random_float(rng: random.Random, low: float, high: float) -> float:
    """Nice decimals (as typed) and arbitrary floats (as computed), both must survive."""
    value = rng.uniform(low, high)
    return float(f"{value:.{rng.randint(1, 3)}g}") if rng.random() < 0.5 else value


def random_state(rng: random.Random) -> dict:
    kind = rng.choice(share.PROBLEM_KINDS[:4])
    problem: dict = {"kind": kind}
    if kind == "matrix" and rng.random() < 0.5:
        problem["variant"] = rng.choice(["seed", "diagonal"])
    elif kind == "deep-chain":
        problem.update(
            depth=rng.randint(1, 200),
            scale=random_float(rng, -3, 3),
            activation=rng.choice(["linear", "sigmoid", "tanh", "relu"]),
        )
    elif kind == "valley":
        problem.update(condition=random_float(rng, 1, 1000), angle=random_float(rng, -90, 90))
    spec = make_problem(problem).spec()
    if kind == "deep-chain" and rng.random() < 0.3:  # not in the chain's spec(), kept when not the default
        spec.update(target=random_float(rng, -2, 2) + 3, input=random_float(rng, -2, 2) - 3)
    optimizers = rng.sample(share.OPTIMIZER_NAMES, rng.randint(1, 3))
    start = random_hp(rng)
    history = random_edits(rng, start)
    given = {
        "problem": spec,
        "optimizers": optimizers,
        "hp": start,
        "edits": [history if rng.random() < 0.5 else random_edits(rng, start) for _ in optimizers],
        "step": rng.choice([0, 1, 25, 127, 128, 3000, 100_000, rng.randint(0, 100_000)]),
        "cursor": rng.randrange(make_problem(spec).start().size),
        "selected": rng.randrange(len(optimizers)),
        "speed": rng.choice([1, 10, 300, rng.randint(1, share.MAX_SPEED)]),
        "view": rng.choice(share.VIEW_NAMES + ("some-new-view",)),
        "hidden": rng.sample(list(share.PANEL_NAMES) + ["some-new-panel"], rng.randint(0, 3)),
    }
    while True:  # a step the engine work limits allow
        try:
            share._check_cost(make_problem(spec).spec(), optimizers, given["step"], given["hp"])
            break
        except ShareCodeError:
            given["step"] //= 2
    while any(given["edits"]):  # a state a code can carry: fewer edits until its code fits in MAX_CODE_CHARS
        try:
            share.encode(given)
            break
        except ShareCodeError:
            longest = max(given["edits"], key=len)
            longest.pop()
    return given


def random_hp(rng: random.Random) -> dict:
    return {
        "lr": 10 ** random_float(rng, -6, 1),
        "decay": rng.choice([0.0, 0.5, 0.9, 0.99, 0.999, random_float(rng, 0, 0.94)]),
        "eps": 10 ** -random_float(rng, 1, 12),
        "mu": rng.choice([0.0, 0.9, random_float(rng, 0, 0.94)]),
        "lr_halving": rng.choice([0.0, 0.0, 100.0, random_float(rng, 1, 10_000)]),
    }


def random_edits(rng: random.Random, start: dict) -> list:
    """Steps increasing, each edit changing one to four values (each to a value it did not have)."""
    edits, previous = [], dict(start)
    for at in sorted(rng.sample(range(0, 100_001), rng.choice([0, 0, 1, 2, 5]))):
        new = random_hp(rng)  # as typed in the edit dialog: a few digits
        changes = {name: float(f"{new[name]:.3g}") for name in rng.sample(Hyperparameters.NAMES, rng.randint(1, 4))}
        changes = {name: value for name, value in sorted(changes.items()) if value != previous[name]}
        if changes:
            edits.append([at, changes])
            previous.update(changes)
    return edits


def test_the_common_case_is_short_and_round_trips() -> None:
    given = state(lr=0.01, step=25)
    code = encode(given)
    assert code == "08C0-40RS-CB60"
    assert decode(code) == given


def test_defaults_cost_nothing() -> None:
    assert decode(encode(state())) == state()
    assert len(encode(state())) < len(encode(state(step=1)))
    assert encode({}) == encode(state()) == encode({"problem": {"kind": "matrix"}}) == "0806-CRG"
    assert decode(encode({"problem": {"kind": "deep-chain"}}))["problem"] == {
        "kind": "deep-chain",
        "depth": 10,
        "scale": 0.5,
        "activation": "linear",
    }


def test_every_panel_and_control_the_app_can_hide_has_a_short_index() -> None:
    """Unknown names still travel (spelled out), but cost a character or two each."""
    from tutor.tui.widgets.visualizer import HIDEABLE

    assert set(HIDEABLE) <= set(share.PANEL_NAMES)
    hidden = state(hidden=["grids", "chart", "edit", "run"])
    assert len(encode(hidden)) < 25 and decode(encode(hidden)) == hidden


def test_every_problem_of_the_engine_round_trips_with_every_parameter_changed() -> None:
    """A problem or parameter the engine gains is shared too (parameters follow the engine's fields)."""
    for kind, cls in PROBLEM_KINDS.items():
        assert kind in share.PROBLEM_KINDS, f"give {kind!r} a short index in share.PROBLEM_KINDS"
        spec = {"kind": kind}
        for name in share._parameters(kind):
            default = cls.__dataclass_fields__[name].default
            if isinstance(default, str):
                spec[name] = next(v for v in share.NAME_PARAMETERS[name] if v != default)
            else:
                spec[name] = default + 1 if isinstance(default, int) else default * 1.5 + 0.25
        given = state(problem=spec)
        given["problem"] = share._canonical_problem(spec)
        assert decode(encode(given)) == given
        assert all(given["problem"][name] == value for name, value in spec.items())


@pytest.mark.parametrize("seed", range(300))
def test_random_states_round_trip_exactly(seed: int) -> None:
    given = random_state(random.Random(seed))
    assert decode(encode(given)) == given


def test_floats_round_trip_bit_for_bit() -> None:
    for lr in (0.1 + 0.2, 1 / 3, 5e-324 * 1e300, 2.0**-20, 0.0009999999999999998, 999.9999999999999):
        decoded = decode(encode(state(lr=lr)))["hp"]["lr"]
        assert decoded.hex() == lr.hex()


def test_a_classroom_state_stays_under_40_characters() -> None:
    race = state(optimizers=["gd", "rmsprop", "rmsprop-momentum"], lr=0.003, step=150, hidden=["inspector"])
    chain = state(
        problem={"kind": "deep-chain", "depth": 20, "activation": "sigmoid"}, optimizers=["gd"], lr=0.1, step=40, view="chain"
    )
    for given in (race, chain):
        assert len(encode(given)) < 40
        assert decode(encode(given)) == given


def test_codes_are_forgiving_about_case_hyphens_spaces_and_look_alikes() -> None:
    given = state(lr=0.01, step=25)
    code = encode(given)  # 0520-40RS-PRBG
    assert decode(code.lower()) == given
    assert decode(code.replace("-", "")) == given
    assert decode(code.replace("-", " ")) == given
    assert decode(code.replace("0", "O")) == given


def test_every_single_typo_is_caught() -> None:
    for given in (state(lr=0.01, step=25), random_state(random.Random(7))):
        code = encode(given).replace("-", "")
        for position, original in enumerate(code):
            for typed in ALPHABET:
                if typed == original:
                    continue
                damaged = code[:position] + typed + code[position + 1 :]
                with pytest.raises(ShareCodeError, match=r"damaged \(checksum\)"):
                    decode(damaged)


def test_two_neighbours_swapped_are_caught() -> None:
    code = encode(random_state(random.Random(11))).replace("-", "")
    for position in range(len(code) - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        if swapped != code:
            with pytest.raises(ShareCodeError, match="damaged"):
                decode(swapped)


def test_a_missing_or_extra_character_is_caught() -> None:
    code = encode(state(lr=0.01, step=25)).replace("-", "")
    for position in range(len(code)):
        with pytest.raises(ShareCodeError, match="damaged"):
            decode(code[:position] + code[position + 1 :])
        with pytest.raises(ShareCodeError, match="damaged"):
            decode(code[:position] + "7" + code[position:])


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "the share code is empty"),
        ("   ", "the share code is empty"),
        ("0520-40RS-PRBU", r"no I, L, O, U\), not 'U'"),
        ("0520-40RS-PRB!", "not '!'"),
        ("0520-40RS-PRBé", "not 'É'"),
        ("ZZZZ", r"damaged \(checksum\)"),
        ("0", r"damaged \(checksum\)"),
        ("https://example.org/?state=0520", "not ':'"),
        ("7" * 500, r"too long to be a share code \(500 characters\)"),
    ],
)
def test_garbage_gets_a_reason(code: str, reason: str) -> None:
    with pytest.raises(ShareCodeError, match=reason):
        decode(code)


def test_a_code_from_another_version_says_so() -> None:
    with pytest.raises(ShareCodeError, match=r"another version of tutor \(format 9; this one reads 2\): ask for a new code"):
        decode(raw_code(bytes([9, 0])))
    with pytest.raises(ShareCodeError, match=r"\(format 1; this one reads 2\)"):
        decode("04C0-40RS-HGF0")  # a code of the first format, which replayed the last values from step 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (bytes([2, 0b1000, 0x7F]), r"damaged \(it ends too early\)"),  # lr's exponent missing
        (bytes([2, 0, 5]), r"damaged \(it has bytes left over\)"),
        (bytes([2, 0b0001, 9, 0]), "names something this version of tutor does not know"),
        (bytes([2, 0b0001, 0x84]) + b"cube" + bytes([0]), r"a problem this version of tutor does not know \('cube'\)"),
        (bytes([2, 0b0010, 1, 60]), "names something this version of tutor does not know"),
        (bytes([2, 0b0010, 1, 0x84]) + b"sgd!", r"cannot be opened: unknown optimizer 'sgd!'"),
        (bytes([2, 0b0010, 0]), ""),  # no optimizer at all: the default one
        (bytes([2, 0b1000, 4, 6]), r"cannot be opened: lr must be > 0 and <= 1000, not 2000"),  # lr = 2e3
        (bytes([2, 0x80, 0x01, 2, 0]), r"cannot be opened: decay must be in \[0, 1\), not 1"),
        (bytes([2, 0b1000, 1, 0x90, 0x06]), r"damaged \(a number is out of range\)"),  # lr = -1e392
        (
            bytes([2, 0b10000, 0xA1, 0x8D, 0x06]),
            r"cannot be opened: the update must be a whole number from 0 to 100000, not 100001",
        ),
        (bytes([2, 0b0001, 1, 0b1, 0x80 + 1]), r"damaged \(it ends too early\)"),
    ],
)
def test_well_formed_codes_are_still_checked_by_the_engine(payload: bytes, reason: str) -> None:
    code = raw_code(payload)
    if not reason:
        assert decode(code)["optimizers"] == ["rmsprop"]
        return
    with pytest.raises(ShareCodeError, match=reason):
        decode(code)


def test_a_deep_chain_too_deep_is_refused_with_the_engines_reason() -> None:
    payload = bytes([2, 0b0001, 1, 0b1]) + bytes([0x92, 0x03])  # depth zigzag 402 -> 201
    with pytest.raises(ShareCodeError, match="cannot be opened: depth must be a whole number from 1 to 200, not 201"):
        decode(raw_code(payload))


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (state(lr=float("nan")), "lr cannot be NaN"),
        (state(lr=-1.0), "lr must be > 0"),
        (state(optimizers=["sgd"]), "unknown optimizer 'sgd'"),
        ({**state(), "problem": {"kind": "torus"}}, "unknown problem 'torus'"),
        (state(step=-1), "the update must be a whole number from 0 to 100000, not -1"),
        (state(step=2.5), "not 2.5"),
        (state(hidden=["x" * 41]), "short plain name"),
        ({**state(), "colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_encode_refuses_a_state_that_would_not_open(given: dict, reason: str) -> None:
    with pytest.raises(ShareCodeError, match=f"cannot make a share code: .*{reason}"):
        encode(given)


# --- the moment after edits: runs_of(decode(code)) computes every step bit for bit as the shared runs did ---------


def same_record(a: Record, b: Record, problem: object) -> bool:
    """Every number the grids, inspector and status show for a record, compared bit for bit."""
    arrays = [(a.x, b.x), (a.effective_step, b.effective_step)]
    arrays += [(a.grad, b.grad)] if a.grad is not None or b.grad is not None else []
    arrays += [(a.buffers[name], b.buffers[name]) for name in a.buffers]
    product = getattr(problem, "product", None)
    if product is not None:  # the AX grid
        arrays.append((product(a.x), product(b.x)))
    return (
        a.step == b.step
        and set(a.buffers) == set(b.buffers)
        and np.float64(a.loss).tobytes() == np.float64(b.loss).tobytes()
        and a.hp == b.hp
        and all(x is not None and y is not None and x.tobytes() == y.tobytes() for x, y in arrays)
    )


def play(rng: random.Random, runs: list[Run]) -> int:
    """Random steps forward and back and edits of lr, decay, eps and mu, as the visualizer makes them:
    every run stands at one step, an edit changes the same values in every run from the step on screen."""
    step = 0
    for _ in range(rng.randint(1, 12)):
        action = rng.choice(["forward", "forward", "back", "edit", "edit"])
        if action == "forward":
            step = min(step + rng.choice([1, 1, 3, 20, 150]), 400)
        elif action == "back":
            step = max(0, step - rng.choice([1, 2, 10, 60]))
        else:
            names = rng.sample(Hyperparameters.NAMES, rng.randint(1, 2))
            new = random_hp(rng)
            changed = {name: float(f"{new[name]:.3g}") for name in names}  # as typed in the edit dialog
            for run in runs:
                run.set_hyperparameters(replace(run.hp, **changed))
        for run in runs:
            run.goto(step)
    return step


@pytest.mark.parametrize("seed", range(60))
def test_random_edits_open_bit_for_bit_in_compare_mode_too(seed: int) -> None:
    rng = random.Random(seed)
    spec = rng.choice([{"kind": "matrix"}, {"kind": "deep-chain", "depth": 6}, {"kind": "valley", "condition": 30.0}])
    keys = rng.choice([["rmsprop"], ["gd", "rmsprop", "rmsprop-momentum"], ["adam", "rmsprop-centered"]])
    start = Hyperparameters(lr=rng.choice([0.001, 0.01]))
    runs = [Run.create(make_problem(spec), key, start) for key in keys]
    step = play(rng, runs)
    shown = share.state_of(runs, step, cursor=rng.randrange(runs[0].current.x.size), selected=len(runs) - 1, speed=60)
    opened_state = decode(encode(shown))
    assert opened_state == shown
    opened = share.runs_of(opened_state)
    for original, copy in zip(runs, opened, strict=True):
        copy.goto(step)
        assert copy.hp == original.hp  # what the edit dialog shows
        assert all(same_record(a, b, original.problem) for a, b in zip(original.records[: step + 1], copy.records, strict=True))
        # and the steps after it too, through the kept future and past it
        original.goto(step + 200)
        copy.goto(step + 200)
        assert all(same_record(a, b, original.problem) for a, b in zip(original.records, copy.records, strict=True))
        assert copy.edits() == original.edits()


def test_the_issue_14_moment_step_10_after_lr_001_at_step_5() -> None:
    """`tutor sandbox`, space x5, e lr=0.01, space x5, s: the code opens at step 10 with loss 2.143, not 1.673."""
    run = Run.create(make_problem({"kind": "matrix"}), "rmsprop")
    run.goto(5)
    run.set_hyperparameters(Hyperparameters(lr=0.01))
    run.goto(10)
    code = encode(share.state_of([run], 10))
    assert len(code) <= 19
    assert decode(code)["edits"] == [[[5, {"lr": 0.01}]]]
    opened = share.runs_of(decode(code))[0]
    assert opened.goto(10).loss == run.current.loss
    assert f"{opened.current.loss:.4g}" == "2.143"
    replayed = Run.create(make_problem({"kind": "matrix"}), "rmsprop", Hyperparameters(lr=0.01))
    assert f"{replayed.goto(10).loss:.4g}" == "1.673"  # what the first format opened


def test_an_edit_shared_by_three_runs_costs_what_it_costs_one() -> None:
    compare = ["gd", "rmsprop", "rmsprop-momentum"]
    one_cost = len(encode(state(step=10, edits=[[[5, {"lr": 0.01}]]]))) - len(encode(state(step=10)))
    three_cost = len(encode(state(step=10, optimizers=compare, edits=[[[5, {"lr": 0.01}]]] * 3)))
    three_cost -= len(encode(state(step=10, optimizers=compare)))
    assert three_cost == one_cost <= 10  # 5 bytes: histories, edits, step and names changed, the value
    different = state(step=10, optimizers=["gd", "rmsprop"], edits=[[[5, {"lr": 0.01}]], [[6, {"lr": 0.01}]]])
    assert decode(encode(different)) == different


def payload_with(flags: int, *varints: int) -> bytes:
    out = bytearray([share.VERSION])
    for number in (flags, *varints):
        share._put_varint(out, number)
    return bytes(out)


EDITS, CURSOR, SPEED, SELECTED = (1 << share.FIELD_BITS.index(name) for name in ("edits", "cursor", "speed", "selected"))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (payload_with(CURSOR, 25), r"cannot be opened: the inspected element must be a whole number from 0 to 24, not 25"),
        (payload_with(SELECTED, 1), r"the selected run must be a whole number from 0 to 0, not 1"),
        (payload_with(SPEED, 0), r"the speed must be a whole number from 1 to 1000, not 0"),
        (payload_with(EDITS, 9), r"damaged \(a count is out of range\)"),
        (payload_with(EDITS, 2, 0, 0), r"the edits are one list per run \(1\)"),
        (
            payload_with(EDITS, 1, 1, 100_001 << 4 | 1, 2, 0),
            r"an edit's update must be a whole number from 0 to 100000, not 100001",
        ),
        (payload_with(EDITS, 1, 2, 5 << 4 | 1, 2, 0, 0 << 4 | 1, 2, 0), r"an edit's update must be a whole number from 6 to"),
        (payload_with(EDITS, 1, 1, 5 << 4 | 1, 4, 6), r"an edit at update 5: lr must be > 0 and <= 1000, not 2000"),
        (payload_with(EDITS, 1, 1, 5 << 4 | 1, 2), r"damaged \(it ends too early\)"),
    ],
)
def test_the_edit_history_and_what_is_on_screen_are_checked_too(payload: bytes, reason: str) -> None:
    with pytest.raises(ShareCodeError, match=reason):
        decode(raw_code(payload))


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (
            state(optimizers=["adam"] * 8, step=100_000),
            r"8 runs to update 100000 would keep about 1\.4 GB of records, more than the 512 MB a share code may ask for",
        ),
        (
            state(problem={"kind": "digits"}, step=20_000),
            r"1 run to update 20000 on 7690 numbers is about 1,978,640 updates of the seed's matrix in work, more than the"
            r" 1,500,000",
        ),
    ],
)
def test_a_code_that_would_take_the_machine_down_is_refused_with_the_reason(
    given: dict, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ShareCodeError, match=f"cannot make a share code: {reason}"):
        encode(given)
    with monkeypatch.context() as unchecked:  # a code made by hand, as an attacker would
        unchecked.setattr(share, "_check_cost", lambda *args: None)
        code = encode(given)
    with pytest.raises(ShareCodeError, match=f"cannot be opened: {reason}"):
        decode(code)


def test_the_compare_mode_at_the_step_cap_can_still_be_shared() -> None:
    for given in (
        state(optimizers=["gd", "rmsprop", "rmsprop-momentum"], step=100_000),
        state(problem={"kind": "deep-chain", "depth": 100}, step=100_000),
        state(problem={"kind": "digits"}, optimizers=["gd", "rmsprop"], step=2000),
    ):
        assert decode(encode(given)) == given

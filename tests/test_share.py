"""Share codes: short, exact round trips, and a reason for every code that cannot be opened."""

from __future__ import annotations

import binascii
import random

import pytest

from tutor import share
from tutor.engine.hyper import Hyperparameters
from tutor.engine.problems import PROBLEM_KINDS, make_problem
from tutor.share import ALPHABET, ShareCodeError, decode, encode

DEFAULT_HP = Hyperparameters().as_dict()


def state(problem=None, optimizers=None, step=0, hidden=None, view="matrix", **hp):
    """A state as the visualizer's state() gives it: the problem's own spec, every hyperparameter."""
    return {
        "problem": make_problem(problem or {"kind": "matrix"}).spec(),
        "optimizers": optimizers or ["rmsprop"],
        "hp": {**DEFAULT_HP, **hp},
        "step": step,
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
    return {
        "problem": spec,
        "optimizers": rng.sample(share.OPTIMIZER_NAMES, rng.randint(1, 3)),
        "hp": {
            "lr": 10 ** random_float(rng, -6, 1),
            "decay": rng.choice([0.0, 0.5, 0.9, 0.99, 0.999, random_float(rng, 0, 0.94)]),
            "eps": 10 ** -random_float(rng, 1, 12),
            "mu": rng.choice([0.0, 0.9, random_float(rng, 0, 0.94)]),
        },
        "step": rng.choice([0, 1, 25, 127, 128, 3000, 100_000, rng.randint(0, 100_000)]),
        "view": rng.choice(share.VIEW_NAMES + ("some-new-view",)),
        "hidden": rng.sample(list(share.PANEL_NAMES) + ["some-new-panel"], rng.randint(0, 3)),
    }


def test_the_common_case_is_short_and_round_trips() -> None:
    given = state(lr=0.01, step=25)
    code = encode(given)
    assert code == "04C0-40RS-HGF0"
    assert decode(code) == given


def test_defaults_cost_nothing() -> None:
    assert decode(encode(state())) == state()
    assert len(encode(state())) < len(encode(state(step=1)))
    assert encode({}) == encode(state()) == encode({"problem": {"kind": "matrix"}}) == "0403-6C8"
    assert decode(encode({"problem": {"kind": "deep-chain"}}))["problem"] == {
        "kind": "deep-chain",
        "depth": 10,
        "scale": 0.5,
        "activation": "linear",
    }


def test_every_panel_and_control_the_app_can_hide_has_a_short_index() -> None:
    """Unknown names still travel (spelled out), but cost a character or two each."""
    from tutor.tui.app import HIDEABLE

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
    with pytest.raises(ShareCodeError, match=r"another version of tutor \(format 9; this one reads 1\)"):
        decode(raw_code(bytes([9, 0])))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (bytes([1, 0b1000, 0x7F]), r"damaged \(it ends too early\)"),  # lr's exponent missing
        (bytes([1, 0, 5]), r"damaged \(it has bytes left over\)"),
        (bytes([1, 0b0001, 9, 0]), "names something this version of tutor does not know"),
        (bytes([1, 0b0001, 0x84]) + b"cube" + bytes([0]), r"a problem this version of tutor does not know \('cube'\)"),
        (bytes([1, 0b0010, 1, 60]), "names something this version of tutor does not know"),
        (bytes([1, 0b0010, 1, 0x84]) + b"sgd!", r"cannot be opened: unknown optimizer 'sgd!'"),
        (bytes([1, 0b0010, 0]), ""),  # no optimizer at all: the default one
        (bytes([1, 0b1000, 4, 6]), r"cannot be opened: lr must be > 0 and <= 1000, not 2000"),  # lr = 2e3
        (bytes([1, 0b100000, 2, 0]), r"cannot be opened: decay must be in \[0, 1\), not 1"),
        (bytes([1, 0b1000, 1, 0x90, 0x06]), r"damaged \(a number is out of range\)"),  # lr = -1e392
        (
            bytes([1, 0b10000, 0xA1, 0x8D, 0x06]),
            r"cannot be opened: the step must be a whole number from 0 to 100000, not 100001",
        ),
        (bytes([1, 0b0001, 1, 0b1, 0x80 + 1]), r"damaged \(it ends too early\)"),
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
    payload = bytes([1, 0b0001, 1, 0b1]) + bytes([0x92, 0x03])  # depth zigzag 402 -> 201
    with pytest.raises(ShareCodeError, match="cannot be opened: depth must be a whole number from 1 to 200, not 201"):
        decode(raw_code(payload))


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (state(lr=float("nan")), "lr cannot be NaN"),
        (state(lr=-1.0), "lr must be > 0"),
        (state(optimizers=["sgd"]), "unknown optimizer 'sgd'"),
        ({**state(), "problem": {"kind": "torus"}}, "unknown problem 'torus'"),
        (state(step=-1), "the step must be a whole number from 0 to 100000, not -1"),
        (state(step=2.5), "not 2.5"),
        (state(hidden=["x" * 41]), "short plain name"),
        ({**state(), "colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_encode_refuses_a_state_that_would_not_open(given: dict, reason: str) -> None:
    with pytest.raises(ShareCodeError, match=f"cannot make a share code: .*{reason}"):
        encode(given)

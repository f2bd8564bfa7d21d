"""The digits network: the shipped data, bad options refused, and a run replayed in plain Python to the last bit.

The replay below shares no code with the engine: it reads the CSV with the standard library and
writes out every formula (SplitMix64, the split, the initial weights, the ordered sums, fdlibm's
exp and log, backpropagation, RMSprop) on Python floats, which are IEEE doubles everywhere.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from tutor.cli import main
from tutor.engine import Hyperparameters, ProblemError, Run, digits, exact, make_problem
from tutor.engine.digits import TRAIN_ROWS, Digits, load_digits, split

DATA = Path(__file__).resolve().parents[1] / "tutor" / "engine" / "data" / "digits.csv.gz"

# -- the data ----------------------------------------------------------------------


def test_the_shipped_file_is_scikit_learns_byte_for_byte() -> None:
    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    assert (DATA.parent / "README.md").read_text().count("CC BY 4.0") == 1


def test_rows_are_load_digits_rows_divided_by_16() -> None:
    """Values read once from sklearn.datasets.load_digits() (scikit-learn 1.9.1): data[i] / 16 and target[i]."""
    pixels, labels = load_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert list(labels[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert labels[-1] == 8 and list(np.bincount(labels)) == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert list(pixels[0, :16] * 16) == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    assert list(pixels[1796, 8:24] * 16) == [0, 2, 16, 14, 6, 1, 0, 0, 0, 0, 15, 15, 8, 15, 0, 0]
    assert list(pixels[1000, 24:40] * 16) == [0, 0, 0, 11, 16, 1, 0, 0, 0, 0, 0, 3, 14, 6, 0, 0] and labels[1000] == 1
    assert pixels.sum() * 16 == 561718


def test_the_split_is_fixed_and_covers_every_row_once() -> None:
    train, test = split()
    assert len(train) == TRAIN_ROWS == 1437 and len(test) == 360
    assert sorted(np.concatenate([train, test])) == list(range(1797))


# -- bad options -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"depth": 0}, "depth must be a whole number from 1 to 20 (hidden layers), not 0"),
        ({"width": 100000}, "width must be a whole number from 1 to 256 (units per hidden layer), not 100000"),
        ({"batch": 0}, "batch must be a whole number from 1 to 1437 (the training set's size), not 0"),
        ({"batch": 1438}, "batch must be a whole number from 1 to 1437 (the training set's size), not 1438"),
        ({"activation": "swish"}, "unknown activation 'swish' for digits; known: sigmoid, tanh, relu, linear"),
        ({"scale": float("nan")}, "scale must be a number > 0 and <= 100, not nan"),
        ({"seed": -1}, "seed must be a whole number from 0 to 4294967295, not -1"),
        ({"layers": 3}, "problem 'digits' has no parameter 'layers'"),
    ],
)
def test_bad_options_are_refused_with_a_reason(spec: dict, reason: str) -> None:
    with pytest.raises(ProblemError) as error:
        make_problem({"kind": "digits", **spec})
    assert str(error.value).startswith(reason)


def test_overflow_from_a_huge_lr_is_a_divergence_not_an_error() -> None:
    """Sigmoid layers and a softmax shifted by its largest logit stay finite at any lr; wide relu layers overflow."""
    sigmoid = Run.create(make_problem({"kind": "digits", "depth": 2, "width": 8}), "gd", Hyperparameters(lr=1000.0))
    assert sigmoid.goto(30).loss > 100 and sigmoid.first_divergent_step() is None
    spec = {"kind": "digits", "depth": 20, "width": 8, "activation": "relu", "scale": 100.0}
    relu = Run.create(make_problem(spec), "gd", Hyperparameters(lr=1000.0))
    with np.errstate(all="raise"):  # nothing on the way warns or raises
        relu.goto(5)
        assert relu.first_divergent_step() == 2 and math.isnan(relu.problem.evaluate(relu.current.x)[0])


# -- the replay --------------------------------------------------------------------

MASK = (1 << 64) - 1


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def words(seed: int, stream: int, count: int) -> list[int]:
    key = mix((mix(seed) + stream) & MASK)
    return [mix((key + (i + 1) * 0x9E3779B97F4A7C15) & MASK) for i in range(count)]


def order(seed: int, stream: int, count: int) -> list[int]:
    keys = words(seed, stream, count)
    return sorted(range(count), key=lambda i: (keys[i], i))


def py_exp(x: float) -> float:
    """fdlibm's exp for x in the normal range."""
    k = round(x * 1.44269504088896338700e00)  # round half to even, like rint
    hi = x - k * 6.93147180369123816490e-01
    lo = k * 1.90821492927058770002e-10
    r = hi - lo
    t = r * r
    p = 1.66666666666666019037e-01 + t * (
        -2.77777777770155933842e-03
        + t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06 + t * 4.13813679705723846039e-08))
    )
    c = r - t * p
    return math.ldexp(1.0 - ((lo - (r * c) / (2.0 - c)) - hi), k)


def py_log(x: float) -> float:
    """fdlibm's log for positive finite x."""
    m, e = math.frexp(x)
    if m < 0.7071067811865476:
        m, e = m * 2.0, e - 1
    k = float(e)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    lg = (
        6.666666666666735130e-01,
        3.999999999940941908e-01,
        2.857142874366239149e-01,
        2.222219843214978396e-01,
        1.818357216161805012e-01,
        1.531383769920937332e-01,
        1.479819860511658591e-01,
    )
    p = lg[6]
    for c in reversed(lg[:6]):
        p = c + z * p
    r = z * p
    half = 0.5 * f * f
    return k * 6.93147180369123816490e-01 - ((half - (s * (half + r) + k * 1.90821492927058770002e-10)) - f)


def ordered(values: list[float]) -> float:
    total = values[0]
    for value in values[1:]:
        total += value
    return total


class Replay:
    """The digits network with sigmoid layers, written out on lists of Python floats."""

    def __init__(self, depth: int, width: int, scale: float, seed: int, batch: int) -> None:
        with gzip.open(DATA, "rt") as text:
            table = [[int(v) for v in row] for row in csv.reader(io.StringIO(text.read()))]
        self.pixels = [[v / 16.0 for v in row[:64]] for row in table]
        self.labels = [row[64] for row in table]
        shuffled = order(20121, 0, 1797)
        self.test, self.train = sorted(shuffled[:360]), sorted(shuffled[360:])
        self.sizes = [64] + [width] * depth + [10]
        self.seed, self.batch, self.orders = seed, batch, {}
        self.W, self.b = [], []
        for k in range(depth + 1):
            n, m = self.sizes[k], self.sizes[k + 1]
            a = scale * math.sqrt(3.0 / n)
            u = [(w >> 11) * 2.0**-53 for w in words(seed, 1 + k, n * m)]
            self.W.append([[a * (2.0 * u[i * m + j] - 1.0) for j in range(m)] for i in range(n)])
            self.b.append([0.0] * m)

    def rows(self, step: int) -> list[int]:
        per_epoch = len(self.train) // self.batch
        epoch, position = divmod(step, per_epoch)
        if epoch not in self.orders:
            self.orders[epoch] = [self.train[i] for i in order(self.seed, 1_000_000 + epoch, len(self.train))]
        return self.orders[epoch][position * self.batch : (position + 1) * self.batch]

    def loss_and_grad(self, rows: list[int]) -> tuple[float, list, list]:
        hs = [[self.pixels[r] for r in rows]]
        for k in range(len(self.W)):
            W, b, h = self.W[k], self.b[k], hs[-1]
            z = [[ordered([h[r][i] * W[i][j] for i in range(len(W))]) + b[j] for j in range(len(b))] for r in range(len(h))]
            hs.append(z if k == len(self.W) - 1 else [[1.0 / (1.0 + py_exp(-v)) for v in row] for row in z])
        logits, count = hs.pop(), len(rows)
        losses, delta = [], []
        for row, r in zip(logits, rows, strict=True):
            top = max(row)
            shifted = [v - top for v in row]
            e = [py_exp(v) for v in shifted]
            total = ordered(e)
            losses.append(py_log(total) - shifted[self.labels[r]])
            d = [v / total for v in e]
            d[self.labels[r]] -= 1.0
            delta.append([v / count for v in d])
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for k in range(len(self.W) - 1, -1, -1):
            W, h = self.W[k], hs[k]
            dW[k] = [[ordered([h[r][i] * delta[r][j] for r in range(count)]) for j in range(len(W[0]))] for i in range(len(W))]
            db[k] = [ordered([delta[r][j] for r in range(count)]) for j in range(len(W[0]))]
            if k:
                up = [[ordered([delta[r][j] * W[i][j] for j in range(len(W[0]))]) for i in range(len(W))] for r in range(count)]
                delta = [[up[r][i] * (h[r][i] * (1.0 - h[r][i])) for i in range(len(W))] for r in range(count)]
        return ordered(losses) / count, dW, db

    def flat(self, arrays: list) -> list[float]:
        out: list[float] = []
        for W, b in zip(arrays[0], arrays[1], strict=True):
            out += [v for row in W for v in row] + list(b)
        return out


def test_a_short_rmsprop_run_replayed_in_plain_python_agrees_to_the_last_bit() -> None:
    spec = {"kind": "digits", "depth": 2, "width": 4, "scale": 1.5, "seed": 7, "batch": 5}
    hp = Hyperparameters(lr=0.01, decay=0.9, eps=1e-8)
    run = Run.create(make_problem(spec), "rmsprop", hp)
    replay = Replay(depth=2, width=4, scale=1.5, seed=7, batch=5)
    assert run.records[0].x.tolist() == replay.flat([replay.W, replay.b])
    v = [[[0.0] * len(row) for row in W] for W in replay.W], [[0.0] * len(b) for b in replay.b]
    steps = 290  # into the second epoch (287 batches of 5 per epoch): the reshuffle is replayed too
    for step in range(steps):
        rows = replay.rows(step)
        assert run.problem.batch_rows(step).tolist() == rows
        loss, dW, db = replay.loss_and_grad(rows)
        rmsprop_update(replay, v, dW, db, lr=0.01, decay=0.9, eps=1e-8)
        record = run.forward()
        assert record.loss == loss, step
        assert record.x.tolist() == replay.flat([replay.W, replay.b]), step
    assert record.buffers["mean_square"].tolist() == replay.flat(v)


def rmsprop_update(replay: Replay, v: tuple, dW: list, db: list, lr: float, decay: float, eps: float) -> None:
    for k in range(len(replay.W)):
        for params, grads, means in ((replay.W[k], dW[k], v[0][k]), ([replay.b[k]], [db[k]], [v[1][k]])):
            for p_row, g_row, v_row in zip(params, grads, means, strict=True):
                for j, g in enumerate(g_row):
                    v_row[j] = decay * v_row[j] + (1 - decay) * (g * g)  # numpy squares g**2 as g * g
                    p_row[j] = p_row[j] - lr * g / (math.sqrt(v_row[j]) + eps)


def test_the_trace_replays_in_plain_python_to_the_last_bit(capsys: pytest.CaptureFixture[str]) -> None:
    """From the trace alone (options, initial W and b, each step's batch rows) the run is rebuilt exactly."""
    args = ["trace", "--problem", "digits", "--depth", "3", "--width", "5", "--batch", "8", "--seed", "3", "--steps", "12"]
    assert main([*args, "--lr", "0.02", "--decay", "0.95"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    first = lines[0]
    assert first["problem"] == {
        "kind": "digits",
        "depth": 3,
        "width": 5,
        "activation": "sigmoid",
        "scale": 1.0,
        "seed": 3,
        "batch": 8,
    }
    assert first["optimizer"] == "rmsprop" and first["hp"] == {
        "lr": 0.02,
        "decay": 0.95,
        "eps": 1e-8,
        "mu": 0.9,
        "lr_halving": 0.0,
    }
    replay = Replay(depth=3, width=5, scale=1.0, seed=3, batch=8)
    names = ["1", "2", "3", "out"]
    assert [first["params"][name]["W"] for name in names] == replay.W
    assert [first["params"][name]["b"] for name in names] == replay.b
    assert len(replay.W[0]) == 64 and len(replay.W[0][0]) == 5  # W is inputs x outputs
    v = [[[0.0] * len(row) for row in W] for W in replay.W], [[0.0] * len(b) for b in replay.b]
    for step, line in enumerate(lines[1:]):
        assert line["step"] == step + 1 and line["batch"] == replay.rows(step)
        loss, dW, db = replay.loss_and_grad(line["batch"])
        assert line["loss"] == loss
        rmsprop_update(replay, v, dW, db, lr=0.02, decay=0.95, eps=1e-8)
        assert [line["params"][name]["W"] for name in names] == replay.W
        assert [line["params"][name]["b"] for name in names] == replay.b
        assert [line["buffers"]["mean_square"][name]["W"] for name in names] == v[0]


@pytest.mark.parametrize(("n", "k", "m"), [(1, 20, 1), (1, 9, 3), (4, 1, 1), (5, 64, 4), (3, 16, 1), (1, 300, 2)])
def test_matrix_products_and_sums_add_in_order_whatever_the_shapes(n: int, k: int, m: int) -> None:
    """Shapes with a 1 in them are where numpy would switch to pairwise summation if the layout let it."""
    rng = np.random.default_rng(n * 1000 + k * 10 + m)
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    by_hand = [[ordered([a[i, j] * b[j, c] for j in range(k)]) for c in range(m)] for i in range(n)]
    assert exact.matmul(a, b).tolist() == by_hand
    assert exact.matmul(np.asfortranarray(a), b[:, ::-1].copy()[:, ::-1]).tolist() == by_hand  # any strides
    assert exact.ordered_sum(a[0], axis=0) == ordered(a[0].tolist())
    assert exact.ordered_sum(a, axis=1).tolist() == [ordered(row) for row in a.tolist()]


def test_exp_and_log_are_within_one_unit_in_the_last_place() -> None:
    xs = np.linspace(-700, 700, 20001)
    assert np.all(np.abs(exact.exp(xs) - np.exp(xs)) <= np.spacing(np.exp(xs)))
    ys = np.geomspace(1e-300, 1e300, 20001)
    assert np.all(np.abs(exact.log(ys) - np.log(ys)) <= np.spacing(np.abs(np.log(ys))))


def test_the_same_options_give_the_same_run_and_another_seed_another() -> None:
    spec = {"kind": "digits", "depth": 3, "width": 16, "activation": "tanh", "batch": 64}
    first, second = (Run.create(make_problem(spec), "rmsprop-momentum").goto(40) for _ in range(2))
    assert first.x.tobytes() == second.x.tobytes() and first.loss == second.loss
    other = Run.create(make_problem({**spec, "seed": 1}), "rmsprop-momentum").goto(40)
    assert other.x.tobytes() != first.x.tobytes()


def test_the_default_network_is_the_lessons_deep_sigmoid_net() -> None:
    problem = Digits()
    assert (problem.depth, problem.width, problem.activation, problem.batch) == (6, 32, "sigmoid", 32)
    assert problem.size == 64 * 32 + 32 + 5 * (32 * 32 + 32) + 32 * 10 + 10
    assert [layer.name for layer in problem.layers] == ["1", "2", "3", "4", "5", "6", "out"]


def test_the_narrated_phases_of_a_network_update_end_at_the_next_record() -> None:
    from tutor.engine.phases import narrated_update

    run = Run.create(make_problem({"kind": "digits", "depth": 2, "width": 8}), "rmsprop-momentum", Hyperparameters(lr=0.01))
    run.goto(3)
    element = run.problem.layers[1].weights.start + 9  # W2[1,1]
    phases = narrated_update(run, element)
    after = run.forward()
    last = phases[-1]
    assert last.loss == after.loss  # the batch's loss, as the record holds it
    assert last.arrays["x"].tobytes() == after.x.tobytes()
    assert last.arrays["momentum"].tobytes() == after.buffers["momentum"].tobytes()
    assert phases[0].narration.startswith("Compute the gradient at the current x: g[W2:1,1] = ")


# The issue 15 share code's network: each update took seconds and the app stopped answering.
ONE_UPDATE_TOO_COSTLY = (
    "a network of 1,269,258 parameters in batches of 1437 costs about 729,570 matrix updates per update, more than the"
    " 1,000 (30-75 ms) that keep the app answering: use a smaller width, depth or batch"
)


@pytest.mark.parametrize(
    ("spec", "cost"),
    [({"kind": "matrix"}, 0.51), ({"kind": "deep-chain", "depth": 200}, 26.0), ({"kind": "digits"}, 98.932)],
)
def test_one_update_costs_elements_times_batch_in_matrix_updates(spec: dict, cost: float) -> None:
    from tutor.engine import make_problem
    from tutor.engine.cost import update_cost

    assert update_cost(make_problem(spec)) == pytest.approx(cost)


def test_a_network_whose_update_costs_too_much_is_refused_by_the_engine_the_cli_and_a_share_code() -> None:
    from tutor import share
    from tutor.cli import main
    from tutor.engine import ProblemError, make_problem

    with pytest.raises(ProblemError, match=re.escape(ONE_UPDATE_TOO_COSTLY)):
        make_problem({"kind": "digits", "width": 256, "depth": 20, "batch": 1437})
    with pytest.raises(share.ShareCodeError, match=re.escape(ONE_UPDATE_TOO_COSTLY)):
        share.decode("089G-A8S8-G02B-M5G1-0RF9-3J0")
    with pytest.raises(SystemExit) as exited:
        main(["trace", "--problem", "digits", "--width", "256", "--depth", "20", "--batch", "1437", "--steps", "1"])
    assert exited.value.code == 2


LESSON = """+++
id = "net"
title = "A network"
order = 9

[visualizer]
view = "network"
problem = { kind = "digits", depth = 6 }
optimizers = ["rmsprop"]
+++

Text.
"""


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("depth = 6", "depth = 0", "depth must be a whole number from 1 to 20 (hidden layers), not 0"),
        ("depth = 6", "batch = 2000", "batch must be a whole number from 1 to 1437 (the training set's size), not 2000"),
        ("depth = 6", 'activation = "swish"', "unknown activation 'swish' for digits"),
        ('view = "network"', 'view = "matrix"', "problem kind 'digits' and view 'network' go together"),
        ("depth = 6", "depth = 20, width = 256, batch = 1437", ONE_UPDATE_TOO_COSTLY),
    ],
)
def test_a_lesson_file_with_a_bad_network_is_refused_with_the_engines_reason(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    from tutor.course import LessonError, load_lesson

    path = tmp_path / "09-net.md"
    path.write_text(LESSON.replace(old, new), encoding="utf-8")
    with pytest.raises(LessonError) as raised:
        load_lesson(path)
    assert reason in raised.value.problem.message


def test_a_share_code_with_a_bad_network_is_refused_with_the_engines_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """A code made where wider layers were allowed (another version, a hand-made code) opens with the engine's reason."""
    from tutor import share
    from tutor.engine import digits

    state = {"problem": {"kind": "digits", "width": 400, "depth": 1}, "optimizers": ["rmsprop"], "view": "network"}
    monkeypatch.setattr(digits, "MAX_WIDTH", 1000)
    code = share.encode(state)
    monkeypatch.undo()
    with pytest.raises(
        share.ShareCodeError, match=r"width must be a whole number from 1 to 256 \(units per hidden layer\), not 400"
    ):
        share.decode(code)


@pytest.mark.parametrize("spec", [{"kind": "digits"}, {"kind": "digits", "depth": 2, "width": 7, "activation": "tanh"}])
def test_judging_in_chunks_of_any_size_gives_the_same_bits(spec: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are independent, so the chunk a forward pass takes (sized by EVAL_ELEMENTS) changes no bit."""
    problem = make_problem(spec)
    x = problem.start()
    whole = {part: digits._evaluate(problem, x, part) for part in ("train", "test")}
    if spec == {"kind": "digits"}:
        assert digits.eval_chunk(problem) == 512  # the default network: the test set in one pass
    largest = max(layer.inputs * layer.outputs for layer in problem.layers)
    for rows in (1, 7, 100):
        monkeypatch.setattr(digits, "EVAL_ELEMENTS", rows * largest)
        assert digits.eval_chunk(problem) == rows
        for part in ("train", "test"):
            assert digits._evaluate(problem, x, part) == whole[part]

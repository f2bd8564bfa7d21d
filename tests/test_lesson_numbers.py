"""The lessons say only what the engine computes.

(a) No number is typed into a lesson's text except settings (values the lesson's front
    matter or its placeholders' arguments also use: the experiment's inputs, never its
    results) and the few whitelisted below, each with its reason.
(b) Every check's answer is recomputed here from the engine directly, not through facts.
(c) The texts' qualitative claims ("straighter at angle 0", "momentum wins") hold in the engine.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tutor.course import fill, load_course
from tutor.course.facts import FACTS
from tutor.course.placeholders import _split_format, parse_text, spans
from tutor.engine import Hyperparameters, MatrixInverse, Run, make_problem, race
from tutor.engine.problems import SEED_A

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
COURSE = load_course(LESSONS, evaluate=True)
BY_ID = {lesson.id: lesson for lesson in COURSE.lessons}
CHAIN = {"kind": "deep-chain", "depth": 20, "scale": 0.5, "activation": "linear"}
DIAGONAL = {"kind": "matrix", "variant": "diagonal"}
MINIBATCH = {"kind": "minibatch"}


def run(spec: dict | None = None, optimizer: str = "gd", steps: int = 300, **hp: float) -> Run:
    r = Run.create(make_problem(spec or {"kind": "matrix"}), optimizer, Hyperparameters(**hp))
    r.goto(steps)
    return r


def loss(spec: dict | None = None, optimizer: str = "gd", steps: int = 300, **hp: float) -> float:
    return run(spec, optimizer, steps, **hp).current.loss


def test_every_lesson_loads_in_order():
    assert COURSE.problems == []
    assert [lesson.id for lesson in COURSE.lessons] == [
        "deep-chain",
        "one-learning-rate",
        "gradient-descent",
        "rmsprop",
        "momentum",
        "valley",
        "race",
        "beyond",
        "minibatches",
    ]
    assert [lesson.order for lesson in COURSE.lessons] == list(range(1, 10))


# -- (a) no typed results --------------------------------------------------------------------

# Numbers a lesson may type although no setting uses them: (pattern, reason).
WHITELIST = [
    (r"lectures? 6(\.5)?", "the number of Hinton's Coursera lecture, a citation"),
    (r"\b(2012|2013|2015)\b", "publication years of the cited lecture and papers"),
    (r"issue 23796", "the cited PyTorch issue's number"),
    (r"\b5x5\b|\b25 elements\b|has 25\b", "the seed's matrix is 5x5 (asserted below)"),
    (r"[Ll]essons? [1-8](,? and [1-8])?", "cross-references to other lessons (asserted to exist below)"),
    (r"\b2\^|\b2 to the power", "the base of a power of two; the exponent is a placeholder"),
    (r"\^2\b|\b1 - (decay|mu)\b", "constants of formulas written in plain text: squares, 1 - decay"),
]
# The seed's defaults may be named anywhere (asserted equal to the engine's defaults below).
SEED_DEFAULTS = {"lr": 0.001, "decay": 0.9, "eps": 1e-8, "mu": 0.9, "steps": 300}
# Formulas in `code` may use only these constants (as in `(1 - decay) * g^2`, `-2 A^T`, `v = 0`) and settings.
FORMULA_CONSTANTS = {0.0, 1.0, 2.0}
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.]*\w)")


def test_whitelisted_facts_are_true():
    assert SEED_A.shape == (5, 5)
    defaults = Hyperparameters()
    assert (defaults.lr, defaults.decay, defaults.eps, defaults.mu) == tuple(
        SEED_DEFAULTS[k] for k in ("lr", "decay", "eps", "mu")
    )
    orders = {lesson.order for lesson in COURSE.lessons}
    for lesson in COURSE.lessons:
        for text in learner_texts(lesson):
            for match in re.finditer(r"[Ll]essons? ([1-8])(?:,? and ([1-8]))?", text):
                assert {int(n) for n in match.groups() if n} <= orders


def numbers_in(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield float(value)
    elif isinstance(value, str):
        for match in NUMBER.finditer(value):
            yield float(match.group(0))
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from numbers_in(item)


def settings(lesson) -> set[float]:
    """Every number the lesson's front matter sets, and every placeholder argument it passes."""
    source = lesson.path.read_text(encoding="utf-8")
    front = source.split("+++")[1]
    data = tomllib.loads(front)
    scripts = [{key: value for key, value in entry.items() if key != "note"} for entry in data.get("script", [])]
    found = set(numbers_in([data.get("visualizer", {}), scripts]))
    for check in data.get("check", []):
        found |= set(numbers_in(check.get("choices", [])))
    for start, end in spans(source):
        call = ast.parse(_split_format(source[start + 2 : end - 2])[0].strip(), mode="eval").body
        if isinstance(call, ast.Call):
            for node in [*call.args, *(k.value for k in call.keywords)]:
                found |= set(numbers_in(ast.literal_eval(node)))
    return found | set(SEED_DEFAULTS.values())


def learner_texts(lesson) -> list[str]:
    """Everything a learner reads, as written (placeholders unfilled)."""
    source = lesson.source
    texts = [lesson.title, source.body.raw, *(note.raw for note in source.notes)]
    for check in source.checks:
        texts += [check.prompt.raw, check.hint.raw, check.explanation.raw, *(choice.raw for choice in check.choices)]
    return texts


def is_setting(value: float, allowed: set[float]) -> bool:
    return any(math.isclose(value, s, rel_tol=1e-12) or math.isclose(abs(value), s, rel_tol=1e-12) for s in allowed)


def typed_numbers(text: str, allowed: set[float]) -> list[str]:
    """Numbers in `text` outside placeholders that are neither settings nor whitelisted."""
    text = "".join(part if isinstance(part, str) else " " for part in parse_text(text, FACTS)[0])
    bad = []
    for code in re.findall(r"```.*?```|`[^`]*`", text, flags=re.S):  # formulas and commands
        bad += [
            f"{n:g} in formula {code!r}"
            for n in numbers_in(code)
            if abs(n) not in FORMULA_CONSTANTS and not is_setting(n, allowed)
        ]
    text = re.sub(r"```.*?```|`[^`]*`", " ", text, flags=re.S)
    for pattern, _reason in WHITELIST:
        text = re.sub(pattern, " ", text)
    for match in NUMBER.finditer(text):
        value = float(match.group(0))
        if not is_setting(value, allowed):
            context = text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
            bad.append(f"{match.group(0)!r} in '...{context}...'")
    return bad


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.id)
def test_no_result_is_typed_into_a_lesson(lesson):
    allowed = settings(lesson)
    bad = [problem for text in learner_texts(lesson) for problem in typed_numbers(text, allowed)]
    assert bad == [], f"{lesson.path.name}: numbers typed by hand (make them placeholders): {bad}"


def test_the_digit_check_catches_a_typed_result():
    allowed = {20.0, 0.5}
    assert typed_numbers("20 layers with w = 0.5 and {{ chain_ratio() }}", allowed) == []
    assert typed_numbers("the loss is 0.547 after 20 steps", allowed) != []
    assert typed_numbers("`v <- decay * v + (1 - decay) * g^2`", allowed) == []
    assert typed_numbers("`x <- x - 0.001 * g`", allowed) != []
    assert typed_numbers("Hinton's lecture 6.5 (2012), lessons 1 and 2, 2^{{ chain_log2_ratio() }}", allowed) == []


# -- (b) every check's answer, recomputed from the engine ------------------------------------


def chain_log2(depth, scale, activation):
    g = make_problem({"kind": "deep-chain", "depth": depth, "scale": scale, "activation": activation}).layer_gradients()
    return math.log2(g[0] / g[-1])


def lr_that_diverges(spec, choices, steps):
    start = make_problem(spec or {"kind": "matrix"}).loss(make_problem(spec or {"kind": "matrix"}).start())
    diverging = [lr for lr in choices if max(run(spec, "gd", steps, lr=lr).losses()) > start]
    assert len(diverging) == 1
    return f"{diverging[0]:g}"


def turned_valley(angle):
    """The lesson's valley: the start point turns with the floor."""
    return make_problem({"kind": "valley", "angle": float(angle), "start_point": "turned"})


DIGITS6 = {"kind": "digits", "depth": 6, "width": 32, "batch": 32}
DIGITS2 = dict(DIGITS6, depth=2)


def best(spec, optimizer, steps=450):
    """The engine's sweep of the lr grid (race.best_lr, cached on disk in the tests' own folder)."""
    return race.best_lr(spec, optimizer, steps, cache_dir=Path(os.environ["TUTOR_CACHE"]))


def first_gradients(spec):
    """RMS of each layer's weight gradient in the first update (its mini-batch), input layer first."""
    problem = make_problem(spec)
    _, grad = problem.batch_loss_and_grad(problem.start(), 0)
    return [float(np.sqrt(np.mean(grad[layer.weights] ** 2))) for layer in problem.layers]


def first_update_ratio(spec, layer, lr):
    """log10(std(change) / std(W after it)) of one layer's weights in gradient descent's first update."""
    problem = make_problem(spec)
    start = problem.start()
    _, grad = problem.batch_loss_and_grad(start, 0)
    weights = problem.layers[layer].weights
    change = -lr * grad[weights]
    return math.log10(np.std(change) / np.std(start[weights] + change))


def straighter_angle():
    def detour(angle):
        r = Run.create(turned_valley(angle), "rmsprop", Hyperparameters(lr=0.1))
        while r.current.loss >= 1e-3:
            r.forward()
        xy = np.array([rec.x for rec in r.records])
        return np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)) / np.linalg.norm(xy[-1] - xy[0])

    return "angle 0" if detour(0) < detour(45) else "angle 45"


def valley_steps(angle, optimizer="rmsprop", lr=0.1):
    r = Run.create(turned_valley(angle), optimizer, Hyperparameters(lr=lr))
    while r.current.loss >= 1e-3:
        r.forward()
    return r.step


def overtakes_gd(optimizer):
    """The step from which `optimizer`'s loss stays below gradient descent's, up to 300."""
    gd, other = run(None, "gd").losses(), run(None, optimizer).losses()
    return max(step for step in range(301) if other[step] >= gd[step]) + 1


def furthest_drift():
    return max(("gd", "rprop", "rmsprop"), key=lambda key: abs(run(MINIBATCH, key, 100).current.x[0]))


def batch_losses(batch, start=20, stop=40):
    """RMSprop's batch losses at lr 0.001 on the six-layer network, updates `start` to `stop`."""
    return run(dict(DIGITS6, batch=batch), "rmsprop", stop, lr=0.001).losses()[start : stop + 1]


def noisiest_batch():
    spread = {f"{batch} image{'s' if batch > 1 else ''}": np.ptp(batch_losses(batch)) for batch in (1, 32)}
    return max(spread, key=spread.get)


def digits_accuracy(optimizer, steps, **hp):
    r = run(DIGITS6, optimizer, steps, **hp)
    return r.problem.evaluate(r.current.x)[1]


ANSWERS = {
    ("deep-chain", "power-of-two"): lambda: chain_log2(10, 0.5, "linear"),
    ("deep-chain", "relu-growth"): lambda: 2 ** chain_log2(10, 5.0, "relu"),
    ("one-learning-rate", "predict-winner"): lambda: max(("gd", "rmsprop"), key=lambda key: best(DIGITS6, key).best.accuracy),
    ("one-learning-rate", "gradient-ratio"): lambda: (
        10.0 ** round(math.log10(first_gradients(DIGITS6)[-1] / first_gradients(DIGITS6)[0]))
    ),
    ("one-learning-rate", "ten-times-the-lr"): lambda: first_update_ratio(DIGITS6, -1, 0.3),
    ("gradient-descent", "first-x"): lambda: 0.001 * 2 * SEED_A[2, 4],  # the first gradient is -2 A^T
    ("gradient-descent", "ax-at-another-lr"): lambda: (SEED_A @ (0.003 * 2 * SEED_A.T))[0, 0],
    ("gradient-descent", "steep-factor"): lambda: 1 - 2 * 0.003 * np.linalg.svd(SEED_A, compute_uv=False)[0] ** 2,
    ("gradient-descent", "diverging-lr"): lambda: lr_that_diverges(None, [0.001, 0.002, 0.0035, 0.0036], 300),
    ("rmsprop", "next-v"): lambda: float(run(None, "rmsprop", 2).current.mean_square[0, 0]),
    ("rmsprop", "first-step"): lambda: abs(float(run(None, "rmsprop", 1).current.x[0, 4])),
    ("rmsprop", "idle-count"): lambda: float(np.sum(SEED_A == 0)),
    ("momentum", "next-m"): lambda: float(run(None, "rmsprop-momentum", 2).current.momentum[0, 0]),
    ("momentum", "next-x"): lambda: float(run(None, "rmsprop-momentum", 2).current.x[0, 0]),
    ("momentum", "larger-lr"): lambda: (
        "above momentum's" if loss(None, "rmsprop", lr=0.01) > loss(None, "rmsprop-momentum") else "below momentum's"
    ),
    ("momentum", "axis-aligned"): lambda: (
        "the diagonal A" if loss(DIAGONAL, "rmsprop", lr=0.01) < loss(None, "rmsprop", lr=0.01) else "the seed's A"
    ),
    ("valley", "straighter"): straighter_angle,
    ("valley", "gd-turned"): lambda: float(valley_steps(45, "gd", 0.09)),
    ("valley", "steps-at-0"): lambda: float(valley_steps(0)),
    ("race", "momentum-passes"): lambda: float(overtakes_gd("rmsprop-momentum")),
    ("race", "long-run"): lambda: min(("gd", "rmsprop", "rmsprop-momentum"), key=lambda key: loss(None, key, 4000)),
    ("race", "overtake"): lambda: float(overtakes_gd("rmsprop")),
    ("beyond", "drift"): furthest_drift,
    ("beyond", "first-step-size"): lambda: 0.001 / (math.sqrt(0.1 * 0.01**2) + 1e-8),
    ("beyond", "eps-placement"): lambda: math.sqrt(0.1 * 0.01**2 + 1e-3) / (math.sqrt(0.1 * 0.01**2) + 1e-3),
    ("beyond", "centered"): lambda: min(("rmsprop", "rmsprop-centered"), key=lambda key: loss(None, key)),
    ("minibatches", "noisiest"): noisiest_batch,
    ("minibatches", "batch-one-max"): lambda: max(batch_losses(1)),
    ("minibatches", "decay-under-noise"): lambda: max(
        ("0.9", "0.99"), key=lambda decay: digits_accuracy("rmsprop", 450, lr=0.01, decay=float(decay))
    ),
    ("minibatches", "three-way"): lambda: max(
        ("gd", "rmsprop", "rmsprop-momentum"), key=lambda key: best(DIGITS6, key).best.accuracy
    ),
    ("minibatches", "momentum-lr"): lambda: best(DIGITS6, "rmsprop-momentum").best.lr,
}

ALL_CHECKS = [(lesson, check) for lesson in COURSE.lessons for check in fill(lesson).checks]


def test_every_check_has_an_independent_answer_here():
    assert {(lesson.id, check.id) for lesson, check in ALL_CHECKS} == set(ANSWERS)
    assert all(len(fill(lesson).checks) >= 1 for lesson in COURSE.lessons)


@pytest.mark.parametrize("lesson, check", ALL_CHECKS, ids=lambda item: getattr(item, "id", ""))
def test_check_answer_is_the_engines(lesson, check):
    expected = ANSWERS[(lesson.id, check.id)]()
    if check.kind == "number":
        assert float(check.answer) == pytest.approx(float(expected), rel=1e-9)
        assert check.grade(check.answer).correct
        assert not check.grade(repr(float(check.answer) * 1.5 + 1)).correct
        assert check.grade("a lot").malformed
    else:
        assert check.answer == expected
        assert check.grade(check.answer).correct
        wrong = next(choice for choice in check.choices if choice != check.answer)
        assert not check.grade(wrong).correct and not check.grade(wrong).malformed
        assert check.grade(str(check.choices.index(check.answer) + 1)).correct
    assert check.hint and check.explanation


# -- (c) what the texts claim ---------------------------------------------------------------


def test_deep_chain_claims():
    linear = make_problem(CHAIN).layer_gradients()
    assert np.argmax(linear) == len(linear) - 1  # "the last layer's is the tallest"
    assert chain_log2(20, 0.5, "linear") == -19.0  # "2^-19 of the last"
    saturated = make_problem({"kind": "deep-chain", "depth": 10, "scale": 4.0, "activation": "sigmoid"})
    sigmoid = saturated.layer_gradients()
    assert sigmoid[0] < 1e-12 < 1e-4 < sigmoid[-1]
    h, slopes = saturated.forward(saturated.start())
    assert 4.0 * 0.25 == 1.0  # "w times the slope is at most 1": a quarter is the sigmoid's largest slope
    assert np.all(4.0 * h[1:-1] > 3.9) and np.all(slopes[1:] < 0.02)  # "saturates": inputs near 4, slope under 0.02
    assert np.allclose(sigmoid[:-1] / sigmoid[1:], 4.0 * slopes[:-1], rtol=0.1)  # "w times that small slope"
    relu = make_problem({"kind": "deep-chain", "depth": 10, "scale": 5.0, "activation": "relu"}).layer_gradients()
    assert np.argmax(relu) == 0  # "now the first layer has the largest gradient by far"
    assert np.allclose(relu[:-1] / relu[1:], 5.0)


def test_one_learning_rate_claims():
    gradients = first_gradients(DIGITS6)
    assert all(a < b for a, b in zip(gradients[:-1], gradients[1:], strict=True))  # smaller at every layer down
    assert gradients[-1] / gradients[0] > 1e3 > 100 > gradients[-1] / gradients[0] / 1e3  # "thousands of times"
    assert first_gradients(DIGITS2)[-1] / first_gradients(DIGITS2)[0] < 100  # "closer" at depth 2
    deep = {key: best(DIGITS6, key) for key in ("gd", "rmsprop")}
    assert deep["gd"].lr == deep["rmsprop"].lr == 0.03  # the lesson's lr 0.03 is "the best lr of both"
    assert max(score.accuracy for score in deep["gd"].scores) < 0.2  # "no better than guessing": no lr helps
    assert deep["rmsprop"].best.accuracy > 0.4
    shallow = {key: best(DIGITS2, key) for key in ("gd", "rmsprop")}
    assert min(s.best.accuracy for s in shallow.values()) > 0.85  # "the difference is small"
    assert abs(shallow["gd"].best.accuracy - shallow["rmsprop"].best.accuracy) < 0.1


def test_gradient_descent_claims():
    edge = MatrixInverse().stable_lr()
    assert 0.0035 < edge < 0.0036
    above = run(None, "gd", 300, lr=0.0036).losses()
    assert above[1] < above[0]  # "the loss still falls at first"
    assert above[-1] > 1e6 * above[0]
    losses = run(None, "gd", 3).losses()
    assert losses[0] > losses[1] > losses[2] > losses[3]  # "falls fast at first"
    # "the loss splits into five parts, ... each multiplied by that factor squared at every update"
    u, sigma, _ = np.linalg.svd(SEED_A)
    for steps in (0, 1, 10, 300):
        residual = SEED_A @ run(None, "gd", steps).current.x - np.eye(5)
        parts = np.sum((u.T @ residual) ** 2, axis=1)
        assert np.allclose(parts, (1 - 2 * 0.001 * sigma**2) ** (2 * steps), rtol=1e-9, atol=1e-12)  # rounding leaves ~1e-31
        assert parts.sum() == pytest.approx(loss(None, "gd", steps), rel=1e-12)
    assert parts[-1] > 0.5 * loss(None, "gd", 300)  # "most of gradient descent's final loss"
    assert 1 - 2 * 0.0036 * sigma[0] ** 2 < -1 < 1 - 2 * 0.0035 * sigma[0] ** 2  # the edge, by the factor


def test_rmsprop_claims():
    first = run(None, "rmsprop", 1).current
    moved = np.abs(first.x)
    assert np.allclose(moved[first.grad != 0], 0.001 / math.sqrt(0.1), rtol=1e-7)  # "the same distance"
    assert np.all(first.mean_square[first.grad == 0] == 0)
    chain = run(CHAIN, "rmsprop", 50, lr=0.01).current.x
    assert 0.9 < chain[0] / chain[-1] < 1.1  # "changed by about as much": every bias moves
    # "moving is not the same as helping": the output is linear in the biases, c_k = 0.5^(20 - k)
    assert chain[0] * 0.5**19 < 1e-6 < 0.4 < chain[-1]
    assert loss(CHAIN, "rmsprop", 50, lr=0.01) > loss(CHAIN, "gd", 50, lr=0.5) == 0.0
    rms_losses, gd_losses = run(CHAIN, "rmsprop", 300, lr=0.01).losses(), run(CHAIN, "gd", 300, lr=0.5).losses()
    assert next(i for i, v in enumerate(rms_losses) if v < 1e-12) > next(i for i, v in enumerate(gd_losses) if v < 1e-12)
    smallest = make_problem(CHAIN).layer_gradients()[0]
    assert 100 < smallest / 1e-8 < 1000  # "only a few hundred times eps"
    chain_first = run(CHAIN, "rmsprop", 1, lr=0.01).current.x
    assert chain_first[0] < chain_first[-1]  # eps takes a share of the first layer's step
    assert np.allclose(chain_first[10:], 0.01 / math.sqrt(0.1), rtol=1e-5)  # "... the layers near the top take"


def test_momentum_claims():
    two = run(None, "rmsprop-momentum", 2).current
    assert abs(two.momentum[0, 0]) > 0.001 / math.sqrt(0.1)  # "already bigger than a single step"
    first_change = abs(run(None, "rmsprop-momentum", 1).current.momentum[0, 0])
    ahead = two.x[0, 0] - run(None, "rmsprop", 2).current.x[0, 0]
    assert ahead == pytest.approx(0.9 * first_change, rel=1e-9)  # "momentum is ahead by mu times the first change"
    assert loss(None, "rmsprop-momentum") < loss(None, "rmsprop")  # "momentum ends far lower"
    assert loss(DIAGONAL, "gd") == pytest.approx(loss(None, "gd"), abs=1e-12)  # "does not care about rotation"
    assert loss(DIAGONAL, "rmsprop", lr=0.01) < loss(None, "rmsprop", lr=0.01)  # "does care"
    assert loss(DIAGONAL, "rmsprop") > loss(None, "rmsprop")  # "worse than ... on the seed's A"
    assert loss(DIAGONAL, "rmsprop-momentum") < loss(None, "rmsprop-momentum")  # "the alignment pays again"
    late = run(DIAGONAL, "rmsprop", 300).current
    scaled = abs(late.effective_step[4, 4] * late.grad[4, 4])
    assert 0.5 * 0.001 < scaled < 1.5 * 0.001  # "about lr per update"
    assert late.x[4, 4] < 0.5 / np.linalg.svd(SEED_A, compute_uv=False)[-1]  # "has it at only ..."
    momentum, plain = run(None, "rmsprop-momentum", 300).losses()[100:], run(None, "rmsprop", 300).losses()[100:]
    assert min(plain) / max(momentum) > 100  # "either way, momentum is hundreds of times lower"
    assert loss(None, "rmsprop", lr=0.01) > 100 * loss(None, "rmsprop-momentum")  # not "just a larger lr"
    cycle = run(DIAGONAL, "rmsprop", 300, lr=0.01)  # the limit cycle on the diagonal A at lr 0.01
    residual = (cycle.problem.A @ cycle.current.x - np.eye(5)) ** 2
    assert residual[0, 0] > 0.99 * residual.sum()  # "all of its loss is one element"
    for record in cycle.records[150:]:
        assert abs(abs(record.effective_step[0, 0] * record.grad[0, 0]) - 0.01) < 5e-4  # "x changes by about lr"
    products = [float((cycle.problem.A @ record.x)[0, 0]) for record in cycle.records[280:]]
    assert all((a - 1) * (b - 1) < 0 for a, b in zip(products[:-1], products[1:], strict=True))  # "jumps ... at every update"


def test_valley_claims():
    assert straighter_angle() == "angle 0"
    assert valley_steps(45) > valley_steps(0)  # "RMSprop needs longer"
    starts = [turned_valley(angle) for angle in (0, 45)]
    assert starts[0].loss(starts[0].start()) == pytest.approx(starts[1].loss(starts[1].start()), rel=1e-12)  # same start
    paths = []
    for angle in (0, 45):  # gradient descent "zigzags", and "turning changes nothing for it"
        r = Run.create(turned_valley(angle), "gd", Hyperparameters(lr=0.09))
        while r.current.loss >= 1e-3:
            r.forward()
        xy = np.array([rec.x for rec in r.records])
        assert np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)) > 2 * np.linalg.norm(xy[-1] - xy[0])
        paths.append(xy)
    a = math.radians(45)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    assert np.allclose(paths[0] @ turn.T, paths[1], atol=1e-12)  # the same path, turned
    assert 0.09 < 2 / 20.0  # lr 0.09 is below gradient descent's edge on this valley
    # "why RMSprop never settles": lowest at 66, the jump at 76, a floor to 300; gradient descent settles
    losses = run(turned_valley(0).spec(), "rmsprop", 300, lr=0.1).losses()
    assert int(np.argmin(losses)) == 66 and losses[66] < 1e-15
    assert losses[76] == max(losses[60:150]) > 0.1
    assert min(losses[150:]) > 0.02
    late = run(turned_valley(0).spec(), "rmsprop", 60, lr=0.1).current
    assert late.effective_step[1] > 2 * 0.1 and abs(late.x[1]) < 1e-12  # "more than twice", "rounding noise"
    assert loss(turned_valley(0).spec(), "gd", 300, lr=0.09) < 1e-20
    decaying = run(turned_valley(0).spec(), "rmsprop", 300, lr=0.1, lr_halving=20.0).losses()
    assert decaying[300] < losses[300] / 100 and max(decaying[150:]) < min(losses[150:])  # "smaller, not gone"
    assert max(decaying[150:]) > 10 * min(decaying[150:])


def test_race_claims():
    at_50 = {key: loss(None, key, 50) for key in ("gd", "rmsprop", "rmsprop-momentum")}
    assert at_50["rmsprop-momentum"] < at_50["gd"] < at_50["rmsprop"]  # the step-50 note
    assert max(loss(None, "rmsprop"), loss(None, "rmsprop-momentum")) < loss(None, "gd")  # "at 300 both are ahead of it"
    first_changes = np.abs(run(None, "rmsprop-momentum", 1).current.momentum)
    assert np.allclose(first_changes[first_changes > 0], 0.001 / math.sqrt(0.1))  # "as timid as RMSprop's"
    product = SEED_A @ run(None, "rmsprop-momentum").current.x
    assert np.max(np.abs(product - np.eye(5))) < 0.02
    # "the long run": gradient descent lowest at 4000 and still falling; RMSprop stalls
    long = {key: run(None, key, 4000).losses() for key in ("gd", "rmsprop", "rmsprop-momentum")}
    assert long["gd"][4000] < min(long["rmsprop-momentum"][1400:]) and long["gd"][4000] < long["gd"][3000]
    assert max(long["rmsprop"][1400:]) / min(long["rmsprop"][1400:]) < 1.01
    # "the remedy is a decaying lr": below gradient descent at 4000 with lr_halving 300; "too fast a decay starves it"
    assert loss(None, "rmsprop", 4000, lr_halving=300.0) < long["gd"][4000] < loss(None, "rmsprop", 4000, lr_halving=100.0)
    # "one of two outcomes": column 3 of A @ X after nudges of +-1e-15, the seed's printout on the second branch
    outcomes = set()
    for nudge in (0.0, 1e-15, -1e-15, 1e-14, -1e-14, 2e-15):
        nudged = Run.create(MatrixInverse(), "rmsprop")
        nudged.records[0] = dataclasses.replace(nudged.records[0], x=nudged.records[0].x + nudge)
        nudged.goto(300)
        product = SEED_A @ nudged.current.x
        outcomes.add((round(product[0, 3], 2), round(product[3, 3], 2)))
        assert abs(nudged.current.loss - loss(None, "rmsprop")) < 1e-4  # "nearly the same"
    assert outcomes == {(0.09, 0.74), (0.1, 0.75)}
    seed_printed = (0.1, 0.75)  # In [9] of the seed, row 0 and row 3 of column 3
    product = SEED_A @ run(None, "rmsprop").current.x
    assert (round(product[0, 3], 2), round(product[3, 3], 2)) != seed_printed  # the app's run: the first outcome


def test_beyond_claims():
    def at(key, steps, **hp):
        return run(MINIBATCH, key, steps, **hp).current.x[0]

    assert abs(at("gd", 100)) < 1e-6  # gradient descent's steps cancel
    assert abs(at("rprop", 10)) < abs(at("rprop", 100)) < abs(at("rprop", 300))  # "drifts further every cycle"
    # RMSprop "drifts ... far less than rprop, but it keeps going"
    assert abs(at("rmsprop", 100)) < abs(at("rmsprop", 1000)) < abs(at("rmsprop", 3000)) < 0.1 * abs(at("rprop", 3000))
    # decay 0.99: less drift than 0.9 over 3,000 (yet far from cancelling), but the first cycle drifts further
    assert abs(at("rmsprop", 3000, decay=0.99)) < 0.5 * abs(at("rmsprop", 3000))
    assert abs(at("rmsprop", 10, decay=0.99)) > abs(at("rmsprop", 10))
    assert abs(at("gd", 3000)) < 1e-6  # "who wins here: gradient descent"
    assert abs(at("adam", 3000, decay=0.999)) < abs(at("rmsprop", 10, decay=0.999)) / 10  # "without the slow start"
    adaptive = {key: abs(at(key, 100)) for key in ("rprop", "rmsprop", "rmsprop-centered", "adam")}
    assert min(adaptive, key=adaptive.get) == "adam"  # "it drifts least of the adaptive ones"
    outside, inside = loss(None, "rmsprop", eps=1e-3), loss(None, "rmsprop-eps-inside", eps=1e-3)
    assert abs(outside / inside - 1) < 1e-3  # on the matrix the placement barely matters
    assert loss(None, "rmsprop-centered") < loss(None, "rmsprop")


def test_minibatches_claims():
    one, batch32 = batch_losses(1), batch_losses(32)
    assert np.ptp(one) > 5 * np.ptp(batch32)  # "a far steadier batch loss" at 32 than at 1
    # "none of them is done learning" after 450 updates; "both RMSprop variants are far ahead of gradient descent"
    accuracies = {key: best(DIGITS6, key).best.accuracy for key in ("gd", "rmsprop", "rmsprop-momentum")}
    assert max(accuracies.values()) < 0.9
    assert min(accuracies["rmsprop"], accuracies["rmsprop-momentum"]) > 4 * accuracies["gd"]
    # decay 0.9 vs 0.99: "within a few points", and "at seed 1 the order flips"
    gaps = []
    for seed in (0, 1, 2):
        r9, r99 = (run(DIGITS6 | {"seed": seed}, "rmsprop", 450, lr=0.01, decay=decay) for decay in (0.9, 0.99))
        gaps.append(r99.problem.evaluate(r99.current.x)[1] - r9.problem.evaluate(r9.current.x)[1])
    assert gaps[0] > 0 and gaps[1] < 0 and gaps[2] > 0 and max(map(abs, gaps)) < 0.05
    # "a tenth of RMSprop's"
    assert best(DIGITS6, "rmsprop-momentum").best.lr == pytest.approx(best(DIGITS6, "rmsprop").best.lr / 10)
    # "an average of a few noisy squares jumps about with them": the first layer's sqrt(v) over updates 401-450
    spreads = {}
    for decay in (0.9, 0.99):
        r = run(DIGITS6, "rmsprop", 450, lr=0.01, decay=decay)
        weights = r.problem.layers[0].weights
        sizes = [np.sqrt(np.mean(record.mean_square[weights])) for record in r.records[401:451]]
        spreads[decay] = max(sizes) / min(sizes)
        assert spreads[decay] == pytest.approx(FACTS["sqrt_v_range"](DIGITS6, 1, "rmsprop", 450, 50, 0.01, decay), rel=1e-12)
    assert spreads[0.9] > 1.4 and spreads[0.99] < 1.2  # decay 0.9's estimate jumps several times as far
    # "at RMSprop's lr it gets only ...": momentum at RMSprop's best lr does far worse than at its own
    at_rmsprops = digits_accuracy("rmsprop-momentum", 450, lr=best(DIGITS6, "rmsprop").best.lr)
    assert at_rmsprops < 0.5 * best(DIGITS6, "rmsprop-momentum").best.accuracy

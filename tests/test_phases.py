"""Narrated phases: taking one update apart must land exactly where the engine's step lands."""

import numpy as np
import pytest

from tutor.engine import OPTIMIZERS, DeepChain, Hyperparameters, MatrixInverse, MiniBatchNoise, Run
from tutor.engine.phases import narrated_update


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_last_phase_is_next_record(run: Run) -> None:
    phases = narrated_update(run, element=7 % run.current.x.size)
    final = phases[-1].arrays
    expected = run.next_record(run.current)
    assert same_bits(final["x"], expected.x)
    assert same_bits(final["grad"], expected.grad)
    assert same_bits(final["effective_step"], expected.effective_step)
    for name, buffer in expected.buffers.items():
        assert same_bits(final[name], buffer), name
    assert phases[-1].loss == expected.loss or (np.isnan(expected.loss) and np.isnan(phases[-1].loss))


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop", "rmsprop-momentum"])
@pytest.mark.parametrize("step", [0, 1, 2, 7, 60, 299])
def test_phases_end_on_the_engines_next_step_bit_for_bit(optimizer: str, step: int) -> None:
    run = Run.create(MatrixInverse(), optimizer)
    run.goto(step)
    assert_last_phase_is_next_record(run)


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop", "rmsprop-momentum", "adam", "rprop", "rmsprop-centered"])
def test_phases_bit_for_bit_on_a_deep_chain_and_a_diverging_run(optimizer: str) -> None:
    chain = Run.create(DeepChain(depth=12, scale=1.5, activation="tanh"), optimizer, Hyperparameters(lr=0.01))
    chain.goto(5)
    assert_last_phase_is_next_record(chain)
    diverging = Run.create(MatrixInverse(), optimizer, Hyperparameters(lr=0.5))
    diverging.goto(40)
    assert_last_phase_is_next_record(diverging)


def test_rmsprop_phase_names_highlights_and_intermediate_values() -> None:
    run = Run.create(MatrixInverse(), "rmsprop-momentum")
    run.goto(3)
    hp = run.hp
    phases = narrated_update(run, element=13)  # element [2,3]
    assert [p.name for p in phases] == ["gradient", "decay", "add", "step", "momentum", "move"]
    assert [p.highlight for p in phases] == ["grad", "mean_square", "mean_square", "effective_step", "momentum", "x"]
    v0 = run.current.mean_square
    g = phases[0].arrays["grad"]
    assert np.array_equal(phases[1].arrays["mean_square"], hp.decay * v0)
    assert np.array_equal(phases[2].arrays["mean_square"], hp.decay * v0 + (1 - hp.decay) * g**2)
    # x does not move before the last phase
    for phase in phases[:-1]:
        assert np.array_equal(phase.arrays["x"], run.current.x)
    # the narration quotes the element's own numbers
    v = phases[2].arrays["mean_square"][2, 3]
    assert "v[2,3]" in phases[2].narration and f"{v:.4g}" in phases[2].narration
    assert f"{phases[0].arrays['grad'][2, 3]:.4g}".lstrip("-") in phases[0].narration
    assert phases[-1].loss == run.next_record(run.current).loss
    assert all(p.loss is None for p in phases[:-1])


def test_gradient_descent_has_a_step_phase_with_lr_everywhere() -> None:
    run = Run.create(MatrixInverse(), "gd")
    phases = narrated_update(run, element=0)
    assert [p.name for p in phases] == ["gradient", "step", "move"]
    assert phases[1].narration == "Step size lr, the same for every element: step[0,0] = 0.001. Whatever its gradients have been."
    assert np.array_equal(phases[1].arrays["effective_step"], np.full((5, 5), 0.001))
    g, x1 = phases[0].arrays["grad"][0, 0], phases[2].arrays["x"][0, 0]
    assert phases[2].narration.startswith(f"Move x against the gradient by lr: x[0,0] = 0 - 0.001*({g:.4g}) = {x1:.4g}.")


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_each_phase_changes_only_what_its_stage_writes(optimizer: str) -> None:
    run = Run.create(MatrixInverse(), optimizer, Hyperparameters(lr=0.01))
    run.goto(4)
    phases = narrated_update(run, element=3)
    assert tuple(p.name for p in phases) == run.optimizer.phase_names
    before = {"x": run.current.x, "effective_step": run.current.effective_step, **run.current.buffers}
    for phase in phases[1:]:
        changed = {name for name in phase.arrays if name in before and not same_bits(phase.arrays[name], before[name])}
        assert changed <= {phase.stage.writes, *phase.stage.also}, (phase.name, changed)
        assert phase.stage.writes in changed or phase.name == "step" and optimizer == "gd", phase.name  # gd's step stays lr
        before = {name: phase.arrays[name] for name in before}
        assert phase.narration.count("[0,3]") >= 1 and "{" not in phase.narration, phase.narration
    assert phases[-1].narration.endswith(f"Loss {run.next_record(run.current).loss:.4g}.")


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_narrates_bit_for_bit_from_its_start(optimizer: str) -> None:
    run = Run.create(MatrixInverse(), optimizer)
    for _ in range(3):
        assert_last_phase_is_next_record(run)
        run.forward()


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_replaying_the_stages_with_the_kept_gradient_gives_the_record_bit_for_bit(optimizer: str) -> None:
    """The inspector replays a step's stages with the gradient its record keeps (no second forward pass)."""
    from tutor.engine.phases import update_phases

    run = Run.create(MiniBatchNoise(), optimizer, Hyperparameters(lr=0.01))
    record = run.goto(12)
    replayed = update_phases(run.problem, run.optimizer, run.records[11], record.hp, grad=record.grad)[-1]
    assert replayed.loss is None
    for name, value in [("x", record.x), ("effective_step", record.effective_step), *record.buffers.items()]:
        assert same_bits(replayed.arrays[name], value), name


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_the_hyperparameters_an_optimizer_uses_are_those_its_formula_names(optimizer: str) -> None:
    """`uses` (the status line, the edit dialog) is read from the formula: changing any other value changes nothing."""
    base = Run.create(MatrixInverse(), optimizer)
    base.goto(3)
    for name in Hyperparameters.NAMES:
        other = Run.create(MatrixInverse(), optimizer, Hyperparameters().with_value(name, getattr(Hyperparameters(), name) / 2))
        other.goto(3)
        assert same_bits(other.current.x, base.current.x) == (name not in other.optimizer.uses), name


def test_the_formula_is_the_stages_rules() -> None:
    assert OPTIMIZERS["rmsprop"].formula == (
        "v <- decay * v\nv <- v + (1 - decay) * g^2\nstep <- lr / (sqrt(v) + eps)\nx <- x - lr * g / (sqrt(v) + eps)"
    )
    assert OPTIMIZERS["rmsprop-momentum"].uses == ("lr", "decay", "eps", "mu")
    assert OPTIMIZERS["rprop"].uses == ("lr",) and OPTIMIZERS["rprop"].buffers == ("step_size", "last_grad")


def test_an_optimizer_is_one_entry_of_stages() -> None:
    """A rule made of stages steps, narrates and writes out its arithmetic with nothing else to add."""
    from tutor.engine.optimizers import GD_STEP, Optimizer, Stage
    from tutor.views.inspector import element_update

    half = Stage(
        "move", "x", "x <- x - lr * g / 2", lambda s, hp, t: s["x"] - hp.lr * s["grad"] / 2, "Move x half way", "x{at} = {x}"
    )
    run = Run.create(MatrixInverse(), Optimizer("half-gd", "half gd", (GD_STEP, half)))
    assert run.optimizer.uses == ("lr",) and run.optimizer.buffers == ()
    g = MatrixInverse().grad(run.current.x)
    assert same_bits(run.forward().x, run.records[0].x - 0.001 * g / 2)
    assert element_update(run, 0)[-1] == f"x[0,0] = {run.current.x[0, 0]:.4g}"
    with pytest.raises(ValueError, match="needs a stage that moves x"):
        Optimizer("broken", "broken", (GD_STEP,))


@pytest.mark.parametrize("optimizer", ["rmsprop-momentum", "adam", "rprop"])
def test_the_inspector_after_a_step_writes_out_that_steps_phases_with_v_in_one_line(optimizer: str) -> None:
    from tutor.views.format import number
    from tutor.views.inspector import element_update, phase_update

    run = Run.create(MatrixInverse(), optimizer)
    run.goto(5)
    phases = narrated_update(run, element=8)
    v0 = run.current.buffers.get("mean_square")
    run.forward()
    by_phase = phase_update(run, phases, len(phases) - 1, 8)
    names = list(run.optimizer.phase_names)
    if "decay" in names:  # decay and add, one line: v[1,3] = 0.9*v0 + 0.1*g^2 = v1
        g, v1 = run.current.grad.flat[8], run.current.mean_square.flat[8]
        g_text = f"({number(g, 4)})" if g < 0 else number(g, 4)
        v_line = f"v[1,3] = 0.9*{number(v0.flat[8], 4)} + 0.1*{g_text}^2 = {number(v1, 4)}"
        at = names.index("decay")
        by_phase[at : at + 2] = [v_line]
    assert element_update(run, 8) == by_phase


def _digits_of(value: float) -> str:
    """A pattern for `value` printed with four or more significant digits (in brackets if negative)."""
    import re

    from tutor.views.format import number

    alternatives = "|".join(re.escape(number(value, d)) for d in range(17, 3, -1))
    return rf"\(?(?:{alternatives})\)?"


def test_the_inspector_writes_out_each_phase_with_the_phase_arrays_numbers() -> None:
    import re

    from tutor.views.format import number
    from tutor.views.inspector import phase_update

    run = Run.create(MatrixInverse(), "rmsprop")
    run.goto(3)
    phases = narrated_update(run, element=13)
    v0 = float(run.current.mean_square.flat[13])
    g = float(phases[0].arrays["grad"].flat[13])
    decayed, v1 = 0.9 * v0, float(phases[2].arrays["mean_square"].flat[13])
    step = float(phases[3].arrays["effective_step"].flat[13])
    x0, x1 = float(run.current.x.flat[13]), float(phases[4].arrays["x"].flat[13])
    bracket = f"({number(g, 4)})" if g < 0 else number(g, 4)
    assert [phase.name for phase in phases] == ["gradient", "decay", "add", "step", "move"]
    lines = phase_update(run, phases, 4, 13)
    # Each number to at least four digits (more where the line needs them to add up as printed), the result to four.
    patterns = [
        rf"v\[2,3\] = 0\.9\*{_digits_of(v0)} = {re.escape(number(decayed, 4))}",
        rf"v\[2,3\] = {_digits_of(decayed)} \+ 0\.1\*{_digits_of(g)}\^2 = {re.escape(number(v1, 4))}",
        rf"step\[2,3\] = 0\.001/\(sqrt\({_digits_of(v1)}\)\+1e-08\) = {re.escape(number(step, 4))}",
        rf"x\[2,3\] = {_digits_of(x0)} - {_digits_of(step)}\*{_digits_of(g)} = {re.escape(number(x1, 4))}",
    ]
    for line, pattern in zip(lines[1:], patterns, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)
    assert bracket in lines[2]
    assert len(phase_update(run, phases, 4, 13)) == 5  # the update so far, one line per phase
    assert v1 == 0.9 * v0 + 0.1 * g**2 or abs(v1 - (0.9 * v0 + 0.1 * g**2)) < 1e-12 * v1


def test_headless_phase_view_writes_out_the_same_arithmetic() -> None:
    from rich.console import Console

    from tutor.headless import phase_view
    from tutor.views.inspector import phase_update

    run = Run.create(MatrixInverse(), "rmsprop")
    run.goto(1)
    console = Console(width=100, record=True)
    console.print(phase_view(run, "add", 0, 100))
    text = console.export_text()
    phases = narrated_update(run, 0)
    lines = phase_update(run, phases, 2, 0)
    assert lines[-1].startswith("v[0,0] = ") and lines[-1].endswith(f"= {float(phases[2].arrays['mean_square'][0, 0]):.4g}")
    assert "inspector\n" + "\n".join(lines) in text


def test_the_inspectors_arithmetic_adds_up_after_its_own_rounding_where_an_update_cancels() -> None:
    """Lesson 8's gradient descent, update 10: x goes from about -9e-05 to 4.5e-10. With four digits the line read
    `(-9e-05) - 0.001*(-0.09) = 4.5e-10`, which is 0; the operands now carry the digits the result needs."""
    import re

    from tutor.engine.problems import make_problem
    from tutor.views.inspector import element_update

    run = Run.create(make_problem({"kind": "minibatch", "size": 0.01, "period": 10, "curvature": 0.001}), "gd")
    run.goto(10)
    line = element_update(run, 0)[-1]
    assert line == "x[0] = (-8.999964e-05) - 0.001*(-0.09000009) = 4.5e-10"
    x_before, lr, g, x = (float(n) for n in re.findall(r"-?[\d.]+(?:e[-+]\d+)?", line.removeprefix("x[0] = ")))
    assert f"{x_before - lr * g:.2g}" == f"{x:.2g}"
    run.goto(11)  # no cancellation: four digits, as everywhere
    assert element_update(run, 0)[-1] == "x[0] = 4.5e-10 - 0.001*0.01 = (-1e-05)"


def _printed_lines_add_up(lines: list[str]) -> list[str]:
    """The lines whose printed operands, worked out and rounded to the printed result's four digits, do not give
    the printed result: `x[0] = (-0.01338) - 0.03727*0.009987 = (-0.01376)` (that makes -0.013752)."""
    import math
    import re

    wrong = []
    for line in lines:
        equation = re.fullmatch(r"(\w+)\[[^\]]*\] = (.*) = (\S+)", line)
        bare = re.sub(r"sqrt|max|sign|(?<=\d)e[-+]\d+", "", equation[2]) if equation else ""
        if equation is None or re.search("[a-z]", bare) or not re.search(r"[-+*/^]", bare):
            continue  # `g[0] = 0.5 at x[0] = 0.1`, `step[0] = 0.001`: nothing to work out
        expression, printed = equation[2].replace("^", "**"), float(equation[3].strip("()"))
        names = {"sqrt": math.sqrt, "max": max, "sign": lambda v: float(np.sign(v)), "__builtins__": {}}
        if not math.isfinite(printed) or "inf" in expression or "nan" in expression:
            continue
        worked_out = eval(expression, names)  # the test's own reading of the line, not the app's
        if f"{worked_out:.3e}" != f"{printed:.3e}":
            wrong.append(f"{line}   (the operands make {worked_out!r})")
    return wrong


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_printed_line_of_every_optimizer_adds_up_after_its_own_rounding(optimizer: str) -> None:
    """Issue 14: rmsprop's `x[0] = (-0.01338) - 0.03727*0.009987 = (-0.01376)` was off by one in the last digit.
    At random steps and elements of several problems, each line the inspector shows after an update, each line of
    the narrated phases (`n`) and the inspector mid-update is worked out again from its printed numbers."""
    from tutor.engine.problems import make_problem
    from tutor.views.inspector import element_update, phase_update

    rng = np.random.default_rng(14)
    problems = [
        (MatrixInverse(), Hyperparameters()),
        (MatrixInverse(), Hyperparameters(lr=0.05, decay=0.5, mu=0.5)),
        (DeepChain(depth=12, scale=1.5, activation="tanh"), Hyperparameters(lr=0.01)),
        (make_problem({"kind": "minibatch", "size": 0.01, "period": 10, "curvature": 0.001}), Hyperparameters(eps=1e-4)),
    ]
    checked = 0
    for problem, hp in problems:
        run = Run.create(problem, optimizer, hp)
        for step in sorted(rng.choice(120, size=6, replace=False)):
            run.goto(int(step) + 1)
            for element in rng.choice(run.current.x.size, size=min(4, run.current.x.size), replace=False):
                element = int(element)
                phases = narrated_update(run, element)
                lines = element_update(run, element) + phase_update(run, phases, len(phases) - 2, element)
                lines += [phase.arithmetic(element) for phase in phases]
                assert _printed_lines_add_up(lines) == []
                checked += len(lines)
    assert checked > 300

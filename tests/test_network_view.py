"""The digits network's view: layer bars, the heat map with its cursor, the test digits, the inspector, at 80x24 too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text
from test_visualizer import VisualizerApp, screen_text, text_of, visualizer, wait_until

from tutor.cli import build_parser, sandbox_setup
from tutor.engine import Hyperparameters, Run, make_problem
from tutor.engine.digits import layer_statistics
from tutor.tui.app import make_app
from tutor.tui.widgets.network import NetworkPanel
from tutor.tui.widgets.panels import ControlsBar
from tutor.tui.widgets.visualizer import Visualizer
from tutor.views.format import number, significant

SMALL_NET = {"kind": "digits", "depth": 2, "width": 16}


def net_app(optimizer: str = "rmsprop", spec: dict | None = None) -> VisualizerApp:
    problem = make_problem(spec or SMALL_NET)
    return VisualizerApp([Run.create(problem, optimizer, Hyperparameters(lr=0.01))], view="network")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_network_view_draws_each_layer_and_the_test_digits(size: tuple[int, int]) -> None:
    app = net_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("space", "space")
        await pilot.pause()
        vis = visualizer(app)
        panel = vis.query_one(NetworkPanel)
        shown = screen_text(panel)
        run = vis.run
        stats = layer_statistics(run.problem, run.records[1].x, run.current)
        for line, layer in zip(shown.splitlines()[1:4], stats, strict=True):  # one line per layer, its numbers on it
            assert line[1:5].strip() == layer.name
            assert significant(layer.grad_rms) in line and f"{layer.update_ratio:.2f}" in line
        loss, accuracy = run.problem.evaluate(run.current.x)
        if size[0] >= 120:
            assert f"test loss {number(loss, 4)}  accuracy {accuracy:.1%}" in shown
        assert "layer 1: weights W (64 inputs across x 16 units down)" in shown
        assert text_of(app, "#status").startswith("update 2  loss ")


async def test_keys_pick_the_layer_the_quantity_and_the_weight_the_inspector_reads() -> None:
    app = net_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "full_stop", "down", "down", "right")
        await pilot.pause()
        vis = visualizer(app)
        problem = vis.run.problem
        layer = problem.layers[1]
        assert vis.cursor == layer.weights.start + 1 * layer.outputs + 2  # input 1, unit 2 of layer 2
        inspector = text_of(app, "#inspector")
        g = vis.run.current.grad[vis.cursor]
        assert inspector.startswith(f"g[W2:1,2] = {number(g, 4) if g >= 0 else '(' + number(g, 4) + ')'}")
        await pilot.press("m")
        await pilot.pause()
        assert "layer 2: gradient g" in screen_text(vis.query_one(NetworkPanel))
        await pilot.press("full_stop", "full_stop", "m", "m")  # the output layer: its 10 units; then step sizes
        await pilot.pause()
        assert "layer out: step size (16 inputs across x 10 units down)" in screen_text(vis.query_one(NetworkPanel))
        await pilot.press("b")
        await pilot.pause()
        assert "no update yet" in screen_text(vis.query_one(NetworkPanel))


def test_in_run_mode_the_test_numbers_are_every_tenth_steps() -> None:
    from tutor.views.network import network_lines

    run = Run.create(make_problem(SMALL_NET), "rmsprop", Hyperparameters(lr=0.01))
    run.goto(13)
    loss, accuracy = run.problem.evaluate(run.records[10].x)
    numbers = f"test loss {number(loss, 4)}  accuracy {accuracy:.1%}"
    beside = [line.plain.rstrip() for line in network_lines(run, 0, "W", 0, 120, 40, running=True)]  # 44 columns
    assert any(line.endswith(numbers) for line in beside) and any(
        line.endswith("(360 test digits at update 10)") for line in beside
    )
    under = "\n".join(line.plain for line in network_lines(run, 0, "W", 0, 80, 40, running=True))
    assert f"{numbers} (360 test digits at update 10)" in under
    paused = "\n".join(line.plain for line in network_lines(run, 0, "W", 0, 80, 40))
    loss, accuracy = run.problem.evaluate(run.current.x)
    assert f"test loss {number(loss, 4)}  accuracy {accuracy:.1%} (360 test digits)" in paused


def test_the_chart_draws_the_test_loss_beside_the_batch_loss() -> None:
    from tutor.views.visualizer import run_chart, test_loss_series

    run = Run.create(make_problem(SMALL_NET), "rmsprop", Hyperparameters(lr=0.01))
    run.goto(35)
    series = test_loss_series(run)
    assert list(series.steps or []) == [0, 10, 20, 30]
    assert list(series.values) == [run.problem.evaluate(run.records[step].x)[0] for step in (0, 10, 20, 30)]
    assert "rmsprop test" in run_chart([run], 100, 16, colour=False).plain
    run.goto(1000)  # a long run: multiples of 64, kept whole, at most 30 points
    assert list(test_loss_series(run).steps or []) == list(range(0, 1001, 64))


async def test_during_the_narrated_phases_the_panel_shows_the_phase_arrays() -> None:
    """Issue 12: `n` shows the update under way (the phase's gradient, v, step sizes), not the record before it."""
    from tutor.engine.phases import narrated_update
    from tutor.views.visualizer import phase_record

    app = net_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space", "n")
        await pilot.pause()
        vis = visualizer(app)
        run = vis.run
        phases = narrated_update(run, vis.cursor)
        index = next(i for i, phase in enumerate(phases) if "mean_square" in phase.arrays and phase.name != "gradient")
        await pilot.press(*["n"] * index)
        await pilot.pause()
        assert vis.phase_index == index and run.current.step == 1  # mid-update: the step is not taken yet
        shown = screen_text(vis.query_one(NetworkPanel)).splitlines()
        now = layer_statistics(run.problem, run.current.x, phase_record(run, phases[index]))
        before = layer_statistics(run.problem, run.records[0].x, run.current)
        for line, layer, old in zip(shown[1:4], now, before, strict=True):
            assert significant(layer.grad_rms) in line and significant(layer.sqrt_v_rms) in line
            assert layer.grad_rms != old.grad_rms  # the next batch's gradient, not the shown record's


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
@pytest.mark.parametrize("opened", ["one-learning-rate", "minibatches", "sandbox"])
async def test_no_label_is_cut_in_a_lesson_or_the_sandbox(opened: str, size: tuple[int, int], tmp_path: Path) -> None:
    """Every line the network panel draws, and the controls bar (three runs in the mini-batch lesson), fits the
    width it has: the two-pane lesson at 120 columns gives the panel about 70 of them."""
    if opened == "sandbox":
        setup = sandbox_setup(build_parser().parse_args(["sandbox", "--problem", "digits"]))
        app = make_app(progress_path=tmp_path / "progress.json", sandbox=setup)
    else:
        app = make_app(progress_path=tmp_path / "progress.json", start_lesson=opened)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: bool(app.screen.query(NetworkPanel)))
        await pilot.press("space")
        vis = app.screen.query_one(Visualizer)
        await wait_until(pilot, lambda: vis.step == 1)
        await pilot.pause()
        panel = vis.query_one(NetworkPanel)
        width = panel.content_size.width
        drawn = panel.text_lines(panel.frame, width, panel.content_size.height)
        assert [line.plain for line in drawn if line.cell_len > width] == []
        shown = screen_text(panel)
        assert "layer 1: weights W" in shown and ", . layer  m quantity" in shown  # the title keeps its keys
        assert re.search(r"log10 (std\(dW\)/std\(W\)|dW/W)$", shown.splitlines()[0].rstrip())
        controls = vis.query_one(ControlsBar)
        text = controls.content
        assert isinstance(text, Text) and text.cell_len <= controls.content_size.width and "…" not in text.plain
        assert len(vis.runs) == 1 or all(f"{run.optimizer.label} " in text.plain for run in vis.runs)


def test_charting_the_test_loss_again_recomputes_no_update() -> None:
    """Run mode charts every 10th step's test loss on each frame; past the last 64 steps those records are kept
    only as checkpoints every 64 steps, and recomputing their stretches each frame cost 3 updates a step shown."""
    from tutor.views.visualizer import test_loss_series

    run = Run.create(make_problem(SMALL_NET), "rmsprop", Hyperparameters(lr=0.01))
    run.goto(250)
    recomputed: list[int] = []
    recompute = run.records._recompute
    run.records._recompute = lambda record, hp: recomputed.append(record.step) or recompute(record, hp)  # type: ignore[method-assign]
    first = test_loss_series(run)
    assert first.steps == list(range(0, 251, 10)) and len(recomputed) > 100  # stretches of 63 updates from checkpoints
    recomputed.clear()
    again = test_loss_series(run)
    assert recomputed == [] and again.values == first.values
    assert first.values == [run.problem.evaluate(run.records[step].x)[0] for step in first.steps]


def test_the_layer_bars_numbers_keep_two_significant_digits() -> None:
    """Issue 14: `tutor sandbox --problem digits` at step 2 read `6e-06`, `2e+02`, `2`, `0.03` beside the bars (one
    significant digit); each now has two at least (6.0e-6, 2.0e2, 2.0, 0.030)."""
    from tutor.views.network import layer_bars

    run = Run.create(make_problem({"kind": "digits"}), "rmsprop")
    run.goto(2)
    numbers = []
    for line in layer_bars(run, run.current, 0, 120)[1:]:
        columns = re.split(r"[█▌·]+|\s{2,}", line.plain[6:])
        numbers += [text.strip() for text in columns[:-1] if text.strip()]  # the last is log10 std(dW)/std(W), -1.81
    assert len(numbers) == 3 * len(run.problem.layers), numbers
    for text in numbers:
        assert len(text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) >= 2, (text, numbers)


@pytest.mark.parametrize("size", [(120, 40), (80, 24), (100, 30), (200, 60)])
@pytest.mark.parametrize("spec", [{"kind": "digits"}, SMALL_NET, {"kind": "digits", "depth": 12, "width": 64}])
async def test_the_lines_the_panel_was_measured_by_are_what_a_draw_at_that_height_gives(
    size: tuple[int, int], spec: dict
) -> None:
    """The layout measures the panel's height from its lines for the rows it may take; drawing the same frame at
    that height reuses those lines (not drawn again), so they must be what drawing it at that height gives."""
    from tutor.engine.digits import as_network
    from tutor.views.network import network_lines

    app = net_app(spec=spec)
    checked = 0
    async with app.run_test(size=size) as pilot:
        for keys in ((), ("space",), ("down", "right"), ("space", "space", "space"), ("v",)):
            await pilot.press(*keys)
            await pilot.pause()
            panel = visualizer(app).query_one(NetworkPanel)
            assert panel._measured is not None
            frame, width, measured = panel._measured
            if frame is not panel.frame:  # measured for a frame no longer shown: never reused
                continue
            layer = as_network(frame.run.problem).layer_of(frame.cursor)
            fresh = network_lines(
                frame.run, layer, frame.quantity, frame.cursor, width, len(measured), frame.running, frame.record
            )
            assert [(line.plain, line.spans) for line in measured] == [(line.plain, line.spans) for line in fresh]
            assert panel.text_lines(frame, width, len(measured)) is measured
            checked += 1
    assert checked >= 1  # at least the first frame is drawn from the lines it was measured by

"""The step visualizer driven through its keys (Textual Pilot), asserting the numbers on screen.

A tiny app pushes SandboxScreen, so these tests do not depend on the full TutorApp.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from textual.app import App
from textual.reactive import reactive
from textual.widgets import Input, Static

import tutor.tui
from tutor import share
from tutor.engine import DeepChain, HyperparameterError, Hyperparameters, MatrixInverse, Run
from tutor.engine.phases import narrated_update
from tutor.tui.screens.edit import EditScreen, JumpScreen
from tutor.tui.screens.sandbox import SandboxScreen
from tutor.tui.widgets.panels import GridsPanel, LayerChart, LossChart
from tutor.tui.widgets.visualizer import DEFAULT_SPEED, Visualizer
from tutor.views.format import number, significant
from tutor.views.inspector import element_update

CSS = Path(tutor.tui.__file__).with_name("visualizer.tcss")
SIZE = (120, 40)
BRAILLE = re.compile("[\u2801-\u28ff]")


class VisualizerApp(App):
    CSS_PATH = [CSS]

    def __init__(self, runs: list[Run], view: str = "matrix", hidden: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.runs, self.view, self.hidden = runs, view, hidden
        self.stepped: list[int] = []

    def on_mount(self) -> None:
        self.push_screen(SandboxScreen(self.runs, self.view, self.hidden))

    def on_visualizer_stepped(self, message: Visualizer.Stepped) -> None:
        self.stepped.append(message.step)


def matrix_app(optimizer: str = "rmsprop", **hp: float) -> VisualizerApp:
    return VisualizerApp([Run.create(MatrixInverse(), optimizer, Hyperparameters(**hp))])


def visualizer(app: App) -> Visualizer:
    return app.screen.query_one(Visualizer)


def text_of(app: App, selector: str) -> str:
    return str(visualizer(app).query_one(selector, Static).content)


def screen_text(panel) -> str:  # type: ignore[no-untyped-def]
    """What a line-drawn panel shows, as plain text."""
    return "\n".join(panel.render_line(y).text for y in range(panel.content_size.height))


def reference(optimizer: str, steps: int, **hp: float) -> Run:
    run = Run.create(MatrixInverse(), optimizer, Hyperparameters(**hp))
    run.goto(steps)
    return run


async def wait_until(pilot, condition, limit: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Let the app work (run mode's timer) until `condition()` holds."""
    for _ in range(limit):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


async def test_space_steps_and_the_status_says_so() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space")
        vis = visualizer(app)
        assert vis.step == 3 and vis.run.current.step == 3
        assert vis.run.current.loss == reference("rmsprop", 3).current.loss
        assert text_of(app, "#status").startswith("update 3  loss ")
        assert app.stepped == [1, 2, 3]


async def test_back_goes_to_step_zero_and_not_below() -> None:
    app = matrix_app("gd")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        vis = visualizer(app)
        assert vis.check_action("back", ()) is True
        await pilot.press("b")
        assert vis.step == 1 and vis.run.current.loss == reference("gd", 1).current.loss
        await pilot.press("b", "b", "b")
        assert vis.step == 0 and vis.run.current.step == 0
        assert vis.check_action("back", ()) is False  # hidden from the footer at step 0
        assert text_of(app, "#status").startswith("update 0  loss 5")


async def test_run_then_pause_and_speed_keys() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        # The speed can be set before running: paused, + goes 10 -> 20 and the controls line says so.
        await pilot.press("plus")
        assert vis.speed == 20 and "paused 20 updates/s" in text_of(app, "#controls")
        await pilot.press("minus")
        assert vis.speed == 10
        await pilot.press("r")
        assert vis.running
        await pilot.press("plus")
        assert vis.speed == 20
        await pilot.press("minus", "minus", "minus")
        assert vis.speed == 2
        await pilot.press("plus", "plus", "plus", "plus", "plus")  # 5, 10, 20, 30, 60
        assert vis.speed == 60
        assert "running 60 updates/s" in text_of(app, "#controls")
        await wait_until(pilot, lambda: vis.step >= 4)
        await pilot.press("r")
        assert not vis.running
        stopped_at = vis.step
        await pilot.pause(0.1)
        assert vis.step == stopped_at  # paused means paused
        assert "paused" in text_of(app, "#controls")
        assert vis.run.current.loss == reference("rmsprop", stopped_at).current.loss


async def test_run_mode_pauses_when_the_run_diverges() -> None:
    app = matrix_app("gd", lr=0.05)
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        vis.speed = 300
        await pilot.press("r")
        await wait_until(pilot, lambda: not vis.running)
        status = text_of(app, "#status")
        assert "DIVERGING" in status or "DIVERGED" in status
        assert "is diverging" in text_of(app, "#narration")
        assert vis.step < 100  # stopped at the divergence, not left running


async def test_run_mode_at_the_step_cap_stops_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the cap (100000 steps; 40 here) run mode pauses with the reason instead of "running" on the spot,
    and pressing r there says it again."""
    import tutor.engine.run
    import tutor.tui.widgets.visualizer

    for module in (tutor.engine.run, tutor.tui.widgets.visualizer):
        monkeypatch.setattr(module, "MAX_STEPS", 40)
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        vis.speed = 300
        await pilot.press("r")
        await wait_until(pilot, lambda: not vis.running)
        assert vis.step == 40 and vis.run.step == 40
        assert text_of(app, "#narration") == "Stopped at update 40, the most a run takes: b goes back, 0 starts again."
        assert text_of(app, "#controls").startswith("‖ paused")
        await pilot.press("n")  # the narration moves on...
        await pilot.press("r")  # ...and r at the cap says it again
        await wait_until(pilot, lambda: not vis.running)
        assert text_of(app, "#narration").startswith("Stopped at update 40, the most a run takes")


async def test_jump_asks_how_far_and_refuses_bad_numbers() -> None:
    app = matrix_app("rmsprop-momentum")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        await pilot.press("g")
        assert isinstance(app.screen, JumpScreen)
        await pilot.press("a", "b", "c", "enter")
        assert isinstance(app.screen, JumpScreen)
        assert "whole number" in str(app.screen.query_one("#jump-error", Static).content)
        for refused in ("0", "-1", "10001", "2.5"):
            app.screen.query_one(Input).value = refused
            await pilot.press("enter")
            assert isinstance(app.screen, JumpScreen), refused
        assert "whole number" in str(app.screen.query_one("#jump-error", Static).content)
        app.screen.query_one(Input).value = "0"
        await pilot.press("enter")
        assert "jump forward 1 to 10000 updates, not 0" in str(app.screen.query_one("#jump-error", Static).content)
        app.screen.query_one(Input).value = "300"
        await pilot.press("enter")
        assert vis.step == 300
        assert vis.run.current.loss == reference("rmsprop-momentum", 300).current.loss
        assert text_of(app, "#status").startswith("update 300 ")
        await pilot.press("g", "escape")
        assert vis.step == 300
        await pilot.press("g")
        app.screen.query_one(Input).value = "-280"
        await pilot.press("enter")
        assert vis.step == 20 and vis.run.current.loss == reference("rmsprop-momentum", 20).current.loss
        await pilot.press("g")
        app.screen.query_one(Input).value = "-21"
        await pilot.press("enter")
        assert "or back up to 20" in str(app.screen.query_one("#jump-error", Static).content)


async def test_reset_goes_back_to_step_zero_and_keeps_the_history() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["space"] * 5, "0")
        vis = visualizer(app)
        assert vis.step == 0 and len(vis.run.records) >= 6  # the history is kept (and the next step drawn ahead)
        assert text_of(app, "#status").startswith("update 0 ")


async def test_edit_applies_a_good_value_from_the_current_step() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space", "space", "b")  # step 3, with step 4 computed
        vis = visualizer(app)
        await pilot.press("e")
        assert isinstance(app.screen, EditScreen)
        await pilot.press("0", ".", "0", "1", "enter")  # the field starts selected: typing replaces it
        assert not isinstance(app.screen, EditScreen)
        assert vis.run.hp.lr == 0.01 and vis.step == 3
        assert "lr=0.01" in text_of(app, "#status")
        assert "lr=0.01 from update 3" in text_of(app, "#narration")
        await pilot.press("space")
        expected = reference("rmsprop", 3)
        expected.set_hyperparameters(Hyperparameters(lr=0.01))
        expected.forward()
        assert vis.run.current.loss == expected.current.loss
        assert np.array_equal(vis.run.current.x, expected.current.x)


@pytest.mark.parametrize("typed", ["abc", "-1", "nan", "inf", "1e9", ""])
async def test_edit_refuses_a_bad_value_with_the_reason_and_loses_nothing(typed: str) -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        vis = visualizer(app)
        before = vis.run.current
        await pilot.press("e")
        app.screen.query_one("#edit-lr", Input).value = typed
        await pilot.press("enter")
        assert isinstance(app.screen, EditScreen)  # still open: fix it or escape
        with pytest.raises(HyperparameterError) as reason:
            Hyperparameters().with_value("lr", typed)
        assert str(reason.value) in str(app.screen.query_one("#edit-error", Static).content)
        assert app.screen.query_one("#edit-lr", Input).has_class("-refused")
        await pilot.press("escape")
        assert vis.run.hp == Hyperparameters() and vis.step == 2 and vis.run.current is before


async def test_edit_momentum_and_decay_fields_exist_only_where_they_are_used() -> None:
    app = matrix_app("rmsprop-momentum")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        ids = {w.id for w in app.screen.query(Input)}
        assert ids == {"edit-lr", "edit-decay", "edit-eps", "edit-mu", "edit-lr_halving"}  # the schedule goes with lr
        app.screen.query_one("#edit-mu", Input).value = "0.5"
        app.screen.query_one("#edit-decay", Input).value = "0.99"
        await pilot.press("enter")
        assert visualizer(app).run.hp == Hyperparameters(decay=0.99, mu=0.5)
    app = matrix_app("gd")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert [w.id for w in app.screen.query(Input)] == ["edit-lr", "edit-lr_halving"]


async def test_tab_moves_between_panels() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is not None and app.focused.id == "grids"
        seen = []
        for _ in range(3):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert seen[:2] == ["chart", "inspector"]
        await pilot.press("space")  # the keys still work from any panel
        assert visualizer(app).step == 1


async def test_cursor_keys_move_the_inspector_over_the_grid() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        vis = visualizer(app)
        await pilot.press("right", "right", "down", "l", "j", "j")  # row 3, column 3
        assert vis.cursor == 3 * 5 + 3
        inspector = text_of(app, "#inspector")
        assert inspector == "\n".join(element_update(vis.run, 18))
        v = vis.run.current.mean_square[3, 3]
        assert "v[3,3] = 0.9*" in inspector and f"{v:.4g}" in inspector
        await pilot.press("h", "k", "up", "up", "up", "up", "left", "left", "left", "left")  # clamped at the corner
        assert vis.cursor == 0
        await pilot.press("down", "down", "down", "down", "down", "down", "right", "right", "right", "right", "right", "right")
        assert vis.cursor == 24


async def test_clicking_a_cell_inspects_it() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        grids = visualizer(app).query_one(GridsPanel)
        info = grids.layout_info
        assert info is not None
        # second grid (AX), row 2, column 4: x offset inside the grid, y offset under the title
        x = info.column_width + 2 + 4 * info.cell_width + 3
        y = 1 + 2
        assert grids.cell_at(x, y) == 2 * 5 + 4
        await pilot.click(GridsPanel, offset=(x + 1, y))  # +1: the panel's left padding
        assert visualizer(app).cursor == 14


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop", "rmsprop-momentum"])
async def test_phases_step_to_the_same_numbers_as_space(optimizer: str) -> None:
    app = matrix_app(optimizer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "right")
        vis = visualizer(app)
        count = len(narrated_update(vis.run, vis.cursor))
        for index in range(count - 1):
            await pilot.press("n")
            assert vis.step == 2  # mid-update: the step is not taken yet
            assert text_of(app, "#narration").startswith(f"phase {index + 1}/{count} ")
        await pilot.press("n")  # the last phase completes the update
        assert vis.step == 3
        assert text_of(app, "#narration").startswith(f"phase {count}/{count} move")
        expected = reference(optimizer, 3)
        assert vis.run.current.x.tobytes() == expected.current.x.tobytes()
        assert vis.run.current.loss == expected.current.loss
        await pilot.press("n", "space")  # space mid-update finishes it
        assert vis.step == 4 and vis.run.current.loss == reference(optimizer, 4).current.loss
        assert text_of(app, "#narration").startswith("n: take the next update apart")


async def test_phase_narration_quotes_the_inspected_element_and_highlights_its_grid() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "down", "n", "n")
        vis = visualizer(app)
        narration = text_of(app, "#narration")
        assert "phase 2/5 decay" in narration and "v[1,0] = 0.9*" in narration
        grids = vis.query_one(GridsPanel)
        assert grids.frame is not None and grids.frame.highlight == ("mean_square",)
        shown = {g.title: g for g in grids.grids()}
        assert np.array_equal(shown["mean square v"].values, 0.9 * vis.run.current.mean_square)


async def test_compare_mode_at_80_columns_names_every_run_by_its_label_dropping_the_key_hints() -> None:
    runs = [Run.create(MatrixInverse(), key) for key in ("gd", "rmsprop", "rmsprop-momentum")]
    app = VisualizerApp(runs, view="race")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "space")
        controls = text_of(app, "#controls")
        names = "  ".join(f"{run.optimizer.label} {significant(run.current.loss, 4)}" for run in runs)
        assert controls == f"‖ paused {DEFAULT_SPEED}/s  {names} " and len(controls) <= 78


async def test_compare_mode_steps_three_optimizers_together() -> None:
    runs = [Run.create(MatrixInverse(), key) for key in ("gd", "rmsprop", "rmsprop-momentum")]
    app = VisualizerApp(runs, view="race")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["space"] * 5)
        vis = visualizer(app)
        for run in runs:
            assert run.step == 5 and run.current.loss == reference(run.optimizer.key, 5).current.loss
        assert vis.run is runs[0]
        await pilot.press("o")
        assert vis.run is runs[1] and text_of(app, "#status").startswith("update 5 ")
        assert "rmsprop" in text_of(app, "#status")
        titles = [g.title for g in vis.query_one(GridsPanel).grids()]
        assert "mean square v" in titles
        await pilot.press("o", "o")
        assert vis.run is runs[0]
        controls = text_of(app, "#controls")
        assert all(f" {run.optimizer.label} {significant(run.current.loss, 4)} " in controls for run in runs)
        assert (
            "rmsprop-momentum" in controls and "rmsprop+momentum" not in controls
        )  # one spelling: the id, as typed on the command line
        chart = vis.query_one(LossChart)
        assert chart.frame is not None and len(chart.frame.runs) == 3
        assert vis.state()["optimizers"] == ["gd", "rmsprop", "rmsprop-momentum"]
        await pilot.press("o", "o", "n")  # narrate rmsprop-momentum's update; finishing it steps all three
        assert text_of(app, "#narration").startswith("phase 1/6 gradient")
        await pilot.press(*["n"] * 5)
        assert [run.step for run in runs] == [6, 6, 6]
        assert runs[2].current.loss == reference("rmsprop-momentum", 6).current.loss


class ContrastApp(VisualizerApp):
    high_contrast: reactive[bool] = reactive(False)


async def test_high_contrast_theme_switches_the_grid_palette() -> None:
    app = ContrastApp([Run.create(MatrixInverse(), "rmsprop")])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        grids = visualizer(app).query_one(GridsPanel)
        assert not grids.grids()[0].high_contrast
        app.high_contrast = True
        await pilot.pause()
        assert all(grid.high_contrast for grid in grids.grids())
        assert visualizer(app).query_one(LossChart).high_contrast


async def test_chain_controls_rebuild_the_problem_from_step_zero() -> None:
    app = VisualizerApp([Run.create(DeepChain(depth=10, scale=0.5, activation="sigmoid"), "rmsprop")], view="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        vis = visualizer(app)
        await pilot.press("right_square_bracket")
        assert vis.run.problem.depth == 11 and vis.step == 0
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert vis.run.problem.depth == 9
        await pilot.press("greater_than_sign")
        assert vis.run.problem.scale == 0.75
        await pilot.press("w", "w")
        assert vis.run.problem.scale == 0.25
        await pilot.press("a")
        assert vis.run.problem.activation == "tanh"
        assert "9 tanh layers, weight 0.25" in text_of(app, "#controls")
        await pilot.pause()
        gradients = vis.run.problem.layer_gradients()
        rendered = screen_text(vis.query_one(LayerChart))
        assert f"|g| layer 1 {number(gradients[0])}  layer 9 {number(gradients[-1])}" in rendered
        assert f"first/last {number(gradients[0] / gradients[-1])}" in rendered
        assert "|gradient| per layer" in rendered
        await pilot.press("space")
        assert vis.step == 1 and vis.run.step == 1


async def test_chain_keys_do_nothing_on_the_matrix_problem() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        assert vis.check_action("deeper", ()) is False
        await pilot.press("right_square_bracket", "a")
        assert isinstance(vis.run.problem, MatrixInverse)


async def test_hidden_panels_and_controls_stay_hidden() -> None:
    runs = [Run.create(MatrixInverse(), "rmsprop")]
    app = VisualizerApp(runs, hidden=frozenset({"chart", "edit", "momentum", "legend"}))
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        assert not vis.query_one(LossChart).display
        await pilot.press("e")
        assert not isinstance(app.screen, EditScreen)
        assert vis.state()["hidden"] == ["chart", "edit", "legend", "momentum"]
        vis.hidden = frozenset({"grids"})
        await pilot.pause()
        assert not vis.query_one(GridsPanel).display and vis.query_one(LossChart).display


async def test_the_chart_is_not_rebuilt_when_only_the_cursor_moves() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await pilot.pause()
        chart = visualizer(app).query_one(LossChart)
        builds = chart.builds
        await pilot.press("right", "down", "n")
        await pilot.pause()
        assert chart.builds == builds
        await pilot.press("space")
        await pilot.pause()
        assert chart.builds == builds + 1


async def test_an_overflowing_run_is_drawn_without_a_traceback() -> None:
    app = matrix_app("gd", lr=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        app.screen.query_one(Input).value = "400"
        await pilot.press("enter")
        await pilot.pause()
        vis = visualizer(app)
        assert vis.run.current.diverged
        assert "DIVERGED" in text_of(app, "#status")
        assert "clipped" in screen_text(vis.query_one(LossChart))
        await pilot.press("n", "n", "n")  # gradient, step, move
        assert vis.step == 401


async def test_small_terminal_shows_fewer_grids_and_pages_through_them() -> None:
    """At 80 columns one grid a page: seven-character cells keep two significant digits, and two 5x5 grids of them
    are 80 columns wide. What RMSprop adds comes first (v, the step size), x and AX last."""
    app = matrix_app("rmsprop-momentum")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        vis = visualizer(app)
        grids = vis.query_one(GridsPanel)
        assert grids.pages == 6 and vis.check_action("more_grids", ()) is True
        assert grids.layout_info.shown == 1  # type: ignore[union-attr]
        pages = []
        for _ in range(grids.pages):
            text = screen_text(grids)
            pages.append(text.split("\n")[0].strip())
            assert f"grid {grids.page + 1} of 6" in text
            await pilot.press("m")
            await pilot.pause()
        assert pages == [
            "mean square v",
            "step size lr/(sqrt(v)+eps)",
            "gradient g (none yet)",
            "momentum m",
            "x",
            "AX (goal: I)",
        ]
        assert grids.page == 0 and vis.query_one(LossChart).size.height >= 5


def test_state_has_what_a_share_code_needs() -> None:
    runs = [Run.create(DeepChain(depth=4), "rmsprop", Hyperparameters(lr=0.01))]
    vis = Visualizer(runs, view="chain", hidden=frozenset({"chart"}))
    assert vis.state() == {
        "problem": {"kind": "deep-chain", "depth": 4, "scale": 0.5, "activation": "linear"},
        "optimizers": ["rmsprop"],
        "hp": Hyperparameters(lr=0.01).as_dict(),
        "edits": [[]],
        "step": 0,
        "cursor": 0,
        "selected": 0,
        "speed": DEFAULT_SPEED,
        "view": "chain",
        "hidden": ["chart"],
    }
    assert DEFAULT_SPEED == share.DEFAULT_SPEED  # a code leaves out the visualizer's own speed


def phase_inspector_lines(app: App) -> list[str]:
    return text_of(app, "#inspector").split("\n")


async def test_mid_update_the_inspector_writes_out_the_phase_on_screen() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "down")  # element [1,0]
        vis = visualizer(app)
        v0 = float(vis.run.current.mean_square.flat[5])
        expected = narrated_update(vis.run, 5)
        g = float(expected[0].arrays["grad"].flat[5])
        v1 = float(expected[2].arrays["mean_square"].flat[5])
        step = float(expected[3].arrays["effective_step"].flat[5])
        await pilot.press("n", "n")
        # Operands with four digits or more (as many as the line needs to add up as printed), results with four.
        assert phase_inspector_lines(app)[-1] in {f"v[1,0] = 0.9*{number(v0, d)} = {number(0.9 * v0, 4)}" for d in range(4, 18)}
        await pilot.press("n")
        assert phase_inspector_lines(app)[-1] in {
            f"v[1,0] = {number(0.9 * v0, d)} + 0.1*({number(g, d)})^2 = {number(v1, 4)}" for d in range(4, 18)
        }
        await pilot.press("n")
        assert phase_inspector_lines(app)[-1] in {
            f"step[1,0] = 0.001/(sqrt({number(v1, d)})+1e-08) = {number(step, 4)}" for d in range(4, 18)
        }
        assert phase_inspector_lines(app)[0].startswith(f"g[1,0] = ({number(g, 4)})")
        await pilot.press("n")  # the update is complete: the whole update written out, as after space
        assert vis.step == 2
        assert phase_inspector_lines(app) == element_update(vis.run, 5)


def test_a_step_not_yet_computed_mid_update_shows_idle_not_lr_over_eps() -> None:
    from tutor.views.visualizer import phase_record, quantity_grids

    run = Run.create(MatrixInverse(), "rmsprop")  # step 0: v is 0 everywhere, the stored step is lr/eps
    phases = {phase.name: phase for phase in narrated_update(run, 0)}

    def step_grid(name: str):  # type: ignore[no-untyped-def]
        grids = quantity_grids(run, record=phase_record(run, phases[name]), colour=False)
        return next(grid for grid in grids if grid.title.startswith("step"))

    added = step_grid("add")
    assert np.count_nonzero(phases["add"].arrays["mean_square"]) > 20  # v is non-zero now ...
    plain = "\n".join(line.plain for line in added.lines())
    assert "1e+05" not in plain and plain.count("idle") == 25  # ... but its step is not computed yet
    computed = step_grid("step")
    plain = "\n".join(line.plain for line in computed.lines())
    assert "1e+05" not in plain
    assert plain.count("idle") == int(np.count_nonzero(phases["step"].arrays["mean_square"] == 0))
    assert plain.count("idle") < 25  # the computed steps are shown


async def test_chain_weight_reaches_the_lessons_relu_example_of_five() -> None:
    app = VisualizerApp([Run.create(DeepChain(depth=10, scale=4.0, activation="relu"), "rmsprop")], view="chain")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        await pilot.press("greater_than_sign")
        assert vis.run.problem.scale == 5.0
        assert "10 relu layers, weight 5 " in text_of(app, "#controls")
        await pilot.press("greater_than_sign")  # 5 is the largest
        assert vis.run.problem.scale == 5.0
        await pilot.press("less_than_sign", "less_than_sign")
        assert vis.run.problem.scale == 3.0


async def test_at_update_0_the_gradient_grid_shows_no_values_where_the_bars_show_the_next_updates() -> None:
    """Issue 13: at update 0 the chain's grid read "gradient g (none yet)" over zeros, under bars showing 2 and
    3.81e-06. Now the grid shows "—" (no update has computed a gradient), the bars say they are the gradient at
    this x, for the next update; after one update the grid holds the numbers the bars showed."""
    run = Run.create(DeepChain(depth=20, scale=0.5, activation="linear"), "gd")
    before = run.problem.layer_gradients(run.current.x)
    app = VisualizerApp([run], view="chain")
    async with app.run_test(size=(120, 40)) as pilot:
        vis = visualizer(app)
        grids = screen_text(vis.query_one(GridsPanel))
        bars = screen_text(vis.query_one(LayerChart))
        assert f"|g| layer 1 {number(before[0])}" in bars and f"layer 20 {number(before[-1])}" in bars
        assert "at this x" in bars
        lines = grids.split("\n")
        top = next(k for k, line in enumerate(lines) if "gradient g (none yet)" in line)
        start = lines[top].index("gradient g")
        after = re.search(r"\(none yet\)\s+\S", lines[top])  # the next grid's title on this row, if one follows
        end = after.end() - 1 if after else None
        cells = " ".join(line[start:end] for line in lines[top + 1 : top + 5]).replace("▸", "").split()
        assert cells == ["—"] * 20 and "no values yet" in lines[top + 5][start:end]
        await pilot.press("space")
        await pilot.pause()
        grids = screen_text(vis.query_one(GridsPanel))
        assert "(none yet)" not in grids and "—" not in grids
        assert abs(vis.run.current.grad).tolist() == before.tolist()  # the first update used the bars' gradient


async def test_layer_panel_draws_the_views_layer_chart_and_fits_a_narrow_panel() -> None:
    from tutor.views.visualizer import layer_chart

    run = Run.create(DeepChain(depth=20, scale=0.5, activation="linear"), "gd")
    app = VisualizerApp([run], view="chain")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("space")
        panel = visualizer(app).query_one(LayerChart)
        size = panel.content_size
        expected = [line.rstrip() for line in layer_chart(run, size.width, size.height).plain.split("\n")]
        shown = [line.rstrip() for line in screen_text(panel).split("\n")]
        assert shown == expected[: len(shown)] and shown[0].startswith("|g| layer 1 ")
    gradients = run.problem.layer_gradients(run.current.x)
    narrow = layer_chart(run, 28, 14).plain.split("\n")
    assert narrow[0] == f"|g| layer 1 {number(gradients[0])}"
    assert narrow[1].strip() == f"layer 20 {number(gradients[-1])}"
    assert narrow[2].strip() == f"first/last {number(gradients[0] / gradients[-1])}"
    assert all(len(line) <= 28 for line in narrow[:3])


def test_help_lists_every_key_of_the_visualizer() -> None:
    help_text = Path(tutor.tui.__file__).with_name("help.md").read_text()
    for binding in Visualizer.BINDINGS:
        key = binding.key_display or binding.key.split(",")[0]
        if key in ("up", "down", "left", "right"):
            assert "arrows" in help_text and f"`{binding.key.split(',')[1]}`" in help_text
        else:
            assert f"`{key}`" in help_text, f"{binding.description} ({key}) is missing from help.md"
    jump = next(line for line in help_text.splitlines() if line.startswith("| `g` |"))
    assert "negative" in jump and "back" in jump


async def test_the_surface_views_controls_name_no_grids() -> None:
    from tutor.engine import Valley

    runs = [Run.create(Valley(20.0, 0.0), key, Hyperparameters(lr=0.05)) for key in ("gd", "rmsprop")]
    app = VisualizerApp(runs, view="surface")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        controls = text_of(app, "#controls")
        assert "grids" not in controls and "n narrates:  gradient descent " in controls


def test_every_layout_class_the_visualizer_sets_has_styles() -> None:
    import re

    source = Path(tutor.tui.__file__).with_name("widgets").joinpath("visualizer.py").read_text()
    styles = CSS.read_text()
    classes = set(re.findall(r'set_class\([^)]*"(-[a-z-]+)"\)', source))
    assert classes >= {"-narrow", "-chain"}
    assert [name for name in classes if f"Visualizer.{name} " not in styles] == []


async def test_status_and_controls_spans_never_start_with_the_gap() -> None:
    """Some SVG renderers drop a span's leading spaces ("update 1loss", "paused10 updates/s"): gaps end the span before."""
    from rich.console import Console

    app = matrix_app("rmsprop")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        vis = visualizer(app)
        for selector in ("#status", "#controls"):
            content = vis.query_one(selector, Static).content
            segments = [segment.text for segment in content.render(Console(width=200)) if segment.text.strip("\n")]
            assert segments[0].startswith(("update 1", "‖ paused"))
            assert [text for text in segments[1:] if text.startswith(" ")] == [], selector
        assert text_of(app, "#status").startswith("update 1  loss ")
        assert text_of(app, "#controls").startswith("‖ paused 10 updates/s")


def test_the_surface_panel_mid_update_shows_no_lr_over_eps_as_a_step() -> None:
    from tutor.engine import Valley
    from tutor.views.surface import axis_panel

    run = Run.create(Valley(20.0, 0.0), "rmsprop", Hyperparameters(lr=0.05))
    phases = {phase.name: phase for phase in narrated_update(run, 0)}

    def rows(name: str) -> list[str]:
        return [line.plain for line in axis_panel([run], 60, colour=False, phases=[phases[name].arrays])][3:5]

    added = rows("add")  # v is 0.9 and 40 now, the steps are not computed yet
    assert all(row.rstrip().endswith("idle") and "e+06" not in row for row in added)
    assert " 40.0 " in added[1] and abs(float(phases["add"].arrays["mean_square"][1]) - 40.0) < 1e-9  # 0.1*20^2
    stepped = rows("step")
    assert "idle" not in "".join(stepped)
    assert f"{float(phases['step'].arrays['effective_step'][0]):.3g} " in stepped[0]  # 0.0527 = 0.05/sqrt(0.9)


async def test_step_zero_shows_a_prompt_where_the_chart_goes_then_the_chart() -> None:
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = visualizer(app).query_one(LossChart)
        before = screen_text(chart)
        assert "press space" in before and "┤" not in before  # no plotext frame around a single dot
        await pilot.press("space")
        await pilot.pause()
        after = screen_text(chart)
        assert "press space" not in after and "┤" in after and BRAILLE.search(after)
        await pilot.press("b")
        await pilot.pause()
        assert "press space" in screen_text(chart)


def test_the_sandbox_screen_loads_without_plotext() -> None:
    """plotext (~25 ms to import) loads with the first chart drawn, after the first frame."""
    import subprocess
    import sys

    code = (
        "import sys, tutor.cli, tutor.tui.app, tutor.tui.screens.sandbox, tutor.tui.screens.lessons;"
        "from tutor.views.chart import loss_chart;"
        "assert 'plotext' not in sys.modules, 'imported';"
        "from tutor.views.chart import Series; loss_chart([Series('a', [1.0, 0.5])], 30, 8);"
        "assert 'plotext' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_long_jump_computes_behind_a_progress_bar_and_escape_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from tutor.tui.screens.edit import ComputingScreen

    shown: list[int] = []
    mount = ComputingScreen.on_mount

    titles: list[str] = []

    def spy(self: ComputingScreen) -> None:
        shown.append(self.missing)
        titles.append(str(self.query_one(".dialog-title", Static).content))
        mount(self)

    monkeypatch.setattr(ComputingScreen, "on_mount", spy)
    app = VisualizerApp([Run.create(MatrixInverse(), key) for key in ("gd", "rmsprop", "rmsprop-momentum")])
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        await pilot.press("g")
        app.screen.query_one(Input).value = "2000"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ComputingScreen), limit=3000)
        assert len(shown) == 1 and shown[0] >= 5_997  # three runs' 2000 updates (less the prefetched): behind the bar
        # The jump's length, 3 x 2000 (verify14 read `(29,997 updates in all)` for 3 x 10000: the count left to compute)
        assert titles == ["Computing up to update 2000 for 3 runs (6,000 updates in all)…"]
        assert vis.step == 2000 and all(run.step == 2000 for run in vis.runs)
        for run in vis.runs:
            assert run.current.loss == reference(run.optimizer.key, 2000).current.loss
        assert text_of(app, "#status").startswith("update 2000 ")

        await pilot.press("g")
        app.screen.query_one(Input).value = "300"
        await pilot.press("enter")  # a few hundred steps: at once, no dialog
        await pilot.pause()
        assert len(shown) == 1 and vis.step == 2300

        next_record = Run.next_record

        def slow(self: Run, record):  # type: ignore[no-untyped-def]  # a slow machine: escape comes mid-way
            time.sleep(0.0002)
            return next_record(self, record)

        monkeypatch.setattr(Run, "next_record", slow)
        monkeypatch.setattr(ComputingScreen, "BATCH", 50)
        await pilot.press("g")
        app.screen.query_one(Input).value = "10000"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ComputingScreen))
        await pilot.press("escape")  # stop early: every run stands at the step all of them reached
        await wait_until(pilot, lambda: not isinstance(app.screen, ComputingScreen), limit=3000)
        assert 2300 <= vis.step < 12300 and all(run.step == vis.step for run in vis.runs)
        monkeypatch.undo()
        for run in vis.runs:
            assert run.current.loss == reference(run.optimizer.key, vis.step).current.loss


async def test_an_error_while_computing_is_reported_and_the_steps_so_far_are_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tutor.tui.screens.edit import ComputingScreen

    monkeypatch.setenv("TUTOR_LOG_DIR", str(tmp_path))
    next_record = Run.next_record

    def fails_at_step_3000(self: Run, record):  # type: ignore[no-untyped-def]
        if record.step == 3000:
            raise FloatingPointError("a fault deep in the engine")
        return next_record(self, record)

    monkeypatch.setattr(Run, "next_record", fails_at_step_3000)
    monkeypatch.setattr(ComputingScreen, "BATCH", 100)
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
        vis.run.goto(1)  # step 1 computed (as the prefetch does): the batches run 2-101, ..., 2902-3001, which fails
        vis.run.goto(0)
        vis.go_to_step(9000)
        await wait_until(pilot, lambda: not isinstance(app.screen, ComputingScreen) and vis.step > 0, limit=1000)
        assert vis.step == 3000 and len(vis.run.records) == 3001
        assert len(notes) == 1 and "FloatingPointError" in notes[0] and str(tmp_path) in notes[0]
        await pilot.pause(0.2)  # the step ahead is computed once the frame is painted: the same fault, not reported again
        assert app.is_running and len(notes) == 1 and vis.step == 3000


def failing_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    """Make the engine raise when it computes the step after `fail["at"]` (the test moves it on)."""
    monkeypatch.setenv("TUTOR_LOG_DIR", str(tmp_path))
    fail = {"at": -1}
    next_record = Run.next_record

    def next_or_fail(self: Run, record):  # type: ignore[no-untyped-def]
        if record.step == fail["at"]:
            raise FloatingPointError("a fault deep in the engine")
        return next_record(self, record)

    monkeypatch.setattr(Run, "next_record", next_or_fail)
    return fail


async def test_an_engine_fault_in_a_long_jump_is_reported_once_and_the_app_goes_on_20_times(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tutor.tui.screens.edit import ComputingScreen

    fail = failing_engine(monkeypatch, tmp_path)
    app = VisualizerApp([Run.create(MatrixInverse(), key) for key in ("gd", "rmsprop")])
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
        for attempt in range(20):
            start = vis.step
            fail["at"] = start + 1510 + 23 * attempt  # a different step each time, well inside the jump
            vis.go_to_step(start + 2000)  # 4000 updates for the two runs: behind the progress bar
            await wait_until(
                pilot, lambda start=start: vis.step != start and not isinstance(app.screen, ComputingScreen), limit=3000
            )
            await pilot.pause(0.05)  # the step ahead is tried once the frame is painted: not reported again
            assert app.is_running and vis.step == fail["at"] and all(run.step == fail["at"] for run in vis.runs), notes
            assert len(notes) == 1 and notes[0].startswith("Computing stopped") and "FloatingPointError" in notes[0]
            assert text_of(app, "#status").startswith(f"update {fail['at']} ")
            await pilot.press("space")  # the same fault, met by a key: reported, the step kept
            assert app.is_running and vis.step == fail["at"] and len(notes) == 2
            assert notes[1].startswith(f"Stopped at update {fail['at']}")
            notes.clear()
        fail["at"] = -1
        await pilot.press("space")  # the engine works again: the steps go on from there
        assert vis.step == start + 1510 + 23 * 19 + 1 and not notes


async def test_an_engine_fault_in_run_mode_pauses_it_and_is_reported_once_20_times(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fail = failing_engine(monkeypatch, tmp_path)
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        vis.speed = 120
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
        for attempt in range(20):
            fail["at"] = vis.step + 3 + attempt % 7  # the step ahead, or a few more: the prefetch meets it first
            await pilot.press("r")
            await wait_until(pilot, lambda: not vis.running)
            await pilot.pause(0.05)
            assert app.is_running and vis.step == fail["at"] and vis.run.step == fail["at"]
            assert len(notes) == 1 and notes[0].startswith(f"Stopped at update {fail['at']}")
            assert "FloatingPointError" in notes[0] and str(tmp_path) in notes[0]
            notes.clear()


@pytest.mark.parametrize("panel", ["grids", "chart", "inspector", "narration", "controls", "status", "legend"])
async def test_hiding_any_panel_keeps_every_key_working(panel: str) -> None:
    """Issue 14: ctrl+p "Hide panel: grids" hid the focused panel and the keys went with it until Tab."""
    app = matrix_app("rmsprop")
    async with app.run_test(size=SIZE) as pilot:
        vis = visualizer(app)
        shown = vis.query(f"#{panel}")
        if shown and shown.first().can_focus:
            shown.first().focus()  # the panel about to be hidden has the focus
        await pilot.pause()
        vis.action_toggle_panel(panel)
        await pilot.pause()
        assert panel in vis.hidden
        await pilot.press("space", "space", "b")
        assert vis.step == 1
        await pilot.press("s")
        assert type(app.screen).__name__ == "ShareCodeScreen"


def test_divergence_is_said_as_soon_as_the_loss_clearly_grows() -> None:
    """Issue 14: the deep chain at lr 0.8 reached loss 12.22 at step 10 with no word (the warning waited for 100x)."""
    from tutor.views.status import divergence_message

    chain = DeepChain(depth=20, scale=0.5, activation="linear")
    run = Run.create(chain, "gd", Hyperparameters(lr=0.8))
    said = []
    for step in range(11):
        run.goto(step)
        said.append(divergence_message(run))
    assert said[:5] == [None] * 5  # four rises, 2.7x: not yet clear
    assert (
        said[5] is not None
        and "rose in each of the last 5 updates" in said[5]
        and f"{number(run.records[5].loss / run.records[0].loss)}x" in said[5]
    )
    spike = Run.create(chain, "rmsprop", Hyperparameters(lr=0.8))  # RMSprop's first step jumps to 16x, then falls
    for step in range(15):
        spike.goto(step)
        assert divergence_message(spike) is None


def test_grid_cells_keep_two_significant_digits() -> None:
    """Issue 14: `2e-04` beside the inspector's `1.596e-04`, `-2e+03` beside `-1757`."""
    from tutor.views.format import cell

    assert [cell(v, 6) for v in (1.596e-4, -1757.0, 0.0015, -0.09, 12345678.0, 0.0)] == [
        "1.6e-4",
        "-1757",
        "0.0015",
        "-0.090",
        "1.23e7",
        "0",
    ]
    assert cell(1.596e-4, 7) == "1.60e-4" and cell(4.5e-10, 7) == "4.5e-10" and cell(0.1234, 7) == "0.123"
    # Trailing zeros are digits: 0.0090, not 0.009; 2.0e-6, not 2e-6; and two of them even where 6 cells are too few.
    assert [cell(v, 6) for v in (-0.00898, 2e-6, 0.4, 10.0, -3.815e-6)] == ["-0.0090", "2.0e-6", "0.400", "10.0", "-3.8e-6"]


def test_the_loss_charts_legend_sits_above_the_plot_and_hides_no_curve() -> None:
    """Issue 14: plotext drew the legend inside the plot, over the curves' first steps (the race at step 300)."""
    from tutor.views.chart import Series, loss_chart

    runs = [reference(key, 300) for key in ("gd", "rmsprop", "rmsprop-momentum")]
    series = [Series(run.optimizer.label, run.losses()) for run in runs]
    lines = loss_chart(series, 60, 14, colour=False).plain.split("\n")
    alone = loss_chart(series[:1], 60, 14, colour=False).plain.split("\n")  # no legend: the same height
    assert len(lines) == len(alone) and lines[1].split() == ["⣿", "gradient", "descent", "•", "rmsprop", "▪", "rmsprop-momentum"]
    plot = [line for line in lines if "│" in line]
    assert not any("gradient" in line or "rmsprop" in line for line in plot)  # nothing but curves and axes in the box
    assert plot[0].split("│")[1][0] != " "  # the first steps' cells, top left, show a curve


@pytest.mark.parametrize(
    ("layers", "width", "every"), [(20, 56, 2), (20, 36, 3), (6, 40, 1), (20, 80, 1), (20, 118, 1), (12, 60, 1), (100, 56, 3)]
)
def test_the_layer_bar_chart_labels_every_bar_or_every_kth_evenly_with_even_gaps(layers: int, width: int, every: int) -> None:
    """Issue 14: given the labels as strings plotext skipped some unevenly (1 2 3 ... 11 13 14 16, no 12, 15, 20), and
    its rounded slots left gaps of 1 and 2 cells between bars. A 100-layer chain in 56 columns draws 2 layers a bar."""
    import re

    from tutor.views.chart import log_bar_chart

    labels = [str(layer) for layer in range(1, layers + 1)]
    lines = log_bar_chart(labels, np.geomspace(1e-6, 1, layers), width, 10, "gradient by layer", colour=False).plain.split("\n")
    per_bar = -(-layers // (width - 6))
    bars_drawn = len(labels[::per_bar])
    labelled = list(range(0, bars_drawn, every))  # every k-th, and the last bar always (verify14: layer 20 had none)
    if labelled[-1] != bars_drawn - 1:
        labelled = [*labelled, bars_drawn - 1] if bars_drawn - 1 - labelled[-1] >= every else [*labelled[:-1], bars_drawn - 1]
    assert lines[-1].split() == [labels[::per_bar][index] for index in labelled], lines[-2:]
    assert all(len(line) <= width for line in lines)
    bottom = lines[-3]  # the lowest row of bars: every bar has a cell there
    bars = [match.span() for match in re.finditer("█+", bottom)]
    if len(bars) == 1:  # no room for gaps: one cell per bar, side by side
        bars = [(column, column + 1) for column in range(*bars[0])]
    gaps = {start - end for (_, end), (start, _) in zip(bars, bars[1:], strict=False)}
    assert len(bars) == bars_drawn and len(gaps) == 1 and len({end - start for start, end in bars}) == 1, bottom
    for index, label in zip(labelled, re.finditer(r"\S+", lines[-1]), strict=True):  # each label under its bar
        start, end = bars[index]
        assert label.start() < end and label.end() > start, (label[0], lines[-3:])


_CELL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?|idle")


def significant_digits(text: str) -> int:
    """The significant digits a cell shows: 0.0090 has 2, 10.0 has 3, 1.6e-4 has 2, 1757 has 4."""
    mantissa = text.lstrip("-").split("e")[0].replace(".", "")
    return len(mantissa.lstrip("0"))


def grid_cells_on_screen(panel: GridsPanel) -> list[str]:
    """Every cell the grids panel shows, read off the screen: the rows made of numbers (or idle) only."""
    cells = []
    for line in screen_text(panel).split("\n"):
        tokens = line.replace("▸", " ").split()
        if tokens and all(_CELL.fullmatch(token) for token in tokens):
            cells += tokens
    return cells


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize(
    ("problem", "optimizer", "view"),
    [
        (MatrixInverse(), "rmsprop", "matrix"),
        (MatrixInverse(), "rmsprop-momentum", "matrix"),
        (DeepChain(depth=20), "gd", "chain"),
    ],
)
async def test_every_grid_cell_on_screen_keeps_two_significant_digits(size, problem, optimizer: str, view: str) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: at 80x24 the grids fell to one digit (`-4e-06` beside the inspector's `-3.815e-06`, x's `2e-6`), at
    120 the x grid showed `-0.009`. Every page of grids, at several steps, read off the screen."""
    app = VisualizerApp([Run.create(problem, optimizer)], view=view)
    async with app.run_test(size=size) as pilot:
        vis, panel = visualizer(app), app.screen.query_one(GridsPanel)
        for steps in (1, 4, 25):
            while vis.step < steps:
                await pilot.press("space")
            await pilot.pause()
            seen = 0
            for _ in range(panel.pages):
                cells = grid_cells_on_screen(panel)
                assert all(significant_digits(cell) >= 2 for cell in cells if cell not in ("0", "idle")), cells
                seen += len(cells)
                await pilot.press("m")
                await pilot.pause()
            assert seen == sum(grid.values.size for grid in panel.grids())  # every grid's every cell was read

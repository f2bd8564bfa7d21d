"""The guided tour (issue 13): `f` takes the learner to the lesson script's next stop, `F` back, with the
numbers `tutor --run-all` prints at that stop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pilot_helpers import until_lesson_open
from textual.widgets import Input

from tutor.course import load_course
from tutor.headless import lesson_snapshot
from tutor.tui.app import make_app
from tutor.tui.screens.lesson import CheckCard
from tutor.tui.widgets.visualizer import Visualizer

LESSONS = Path(__file__).parent.parent / "lessons"


def snapshot_sections(lesson_id: str) -> list[str]:
    """The `--run-all` text of each script step of a shipped lesson, in order."""
    lesson = load_course(LESSONS, evaluate=True).lesson(lesson_id)
    assert lesson is not None
    text = lesson_snapshot(lesson)
    parts = re.split(r"─+ script \d+/\d+: update \d+(?:, after check \d+)? ─+\n", text)[1:]
    return [re.split(r"─+ check \d+/", part)[0] for part in parts]


def shown(visualizer: Visualizer, selector: str) -> str:
    return str(visualizer.query_one(selector).content)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_tour_reaches_each_stop_with_the_numbers_run_all_prints(tmp_path: Path, size: tuple[int, int]) -> None:
    sections = snapshot_sections("rmsprop")  # its stops: plain steps, three narrated phases, another problem and lr
    app = make_app(lessons_dir=LESSONS, progress_path=tmp_path / "progress.json", start_lesson="rmsprop")
    async with app.run_test(size=size) as pilot:
        screen = await until_lesson_open(pilot)
        for check in screen.filled.checks:  # answered: no stop waits
            pilot.app.progress.passed("rmsprop", check.id)
        visualizer = screen.query_one(Visualizer)
        script = screen.filled.script
        stops = len(script)
        assert len(sections) == stops == 6
        for number, (script_step, section) in enumerate(zip(script, sections, strict=True)):
            await pilot.press("f")
            await pilot.pause()
            caption = shown(visualizer, "#caption")
            assert caption.startswith(f"Stop {number + 1}/{stops} (update {script_step.step}")
            assert script_step.note[:40] in caption.replace("\n", " ")
            inspector = shown(visualizer, "#inspector").splitlines()
            printed = section.split("inspector\n")[1].split("\n\n")[0].splitlines()
            assert inspector == printed  # the same arithmetic at the same element, to the last digit
            if script_step.phase:
                narration = shown(visualizer, "#narration")
                heading = re.search(r"phase (\d+)/(\d+): (\w+)\n(.*?)\n\n", section, re.DOTALL)
                assert heading is not None and heading[3] == script_step.phase
                assert narration.startswith(f"phase {heading[1]}/{heading[2]} {heading[3]}: ")
                assert narration.endswith(heading[4].replace("\n", " "))  # wrapped at 100 columns there
                assert visualizer.step == script_step.step  # mid-update: the step is not taken yet
            else:
                status_line = next(line for line in section.splitlines() if line.startswith("update "))
                assert shown(visualizer, "#status").startswith(status_line)
                assert visualizer.step == script_step.step
        assert visualizer.run.problem.spec()["kind"] == "deep-chain" and visualizer.run.hp.lr == 0.01  # the last stop's
        await pilot.press("f")  # no stop after the last: nothing moves
        await pilot.pause()
        assert shown(visualizer, "#caption").startswith(f"Stop {stops}/{stops}")
        footer = " ".join(str(key.render()) for key in screen.query("FooterKey"))
        assert "f/F Tour" in footer and "b Back" in footer  # whatever the width (F is in ? help)
        await pilot.press(*"F" * (stops - 1))  # back to the first stop: the setup's problem again
        await pilot.pause()
        assert shown(visualizer, "#caption").startswith(f"Stop 1/{stops} (update 0, phase gradient)")
        assert visualizer.run.problem.spec()["kind"] == "matrix" and visualizer.step == 0
        assert visualizer.cursor == 4


WAITING_LESSON = """+++
id = "waiting"
title = "A stop that waits"
order = 1

[visualizer]
view = "matrix"
optimizers = ["gd"]

[[script]]
step = 1
note = "One step."

[[script]]
step = 5
after = "predict"
note = "Five steps: what the check predicts."

[[check]]
id = "predict"
prompt = "Which?"
kind = "choice"
choices = ["a", "b"]
answer = "a"
hint = "The first."
explanation = "Because."
+++
# Waiting
"""


@pytest.mark.parametrize("answers", [["a"], ["b", "b", "b"]])  # right, or wrong often enough to be shown anyway
async def test_a_stop_that_waits_for_a_check_opens_once_it_is_answered(tmp_path: Path, answers: list[str]) -> None:
    (tmp_path / "01-waiting.md").write_text(WAITING_LESSON)
    app = make_app(lessons_dir=tmp_path, progress_path=tmp_path / "progress.json", start_lesson="waiting")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await until_lesson_open(pilot)
        visualizer = screen.query_one(Visualizer)
        await pilot.press("f", "f")  # the second waits: the tour stays at stop 1 and says why
        await pilot.pause()
        assert visualizer.step == 1
        assert shown(visualizer, "#caption") == "Stop 1/2 (update 1): One step. (the next stop waits for check 1)"
        box = screen.query_one("#check-predict .check-input", Input)
        for number, text in enumerate(answers, 1):
            assert screen.check_action("next_stop", ()) is None
            box.focus()
            box.value = ""
            await pilot.press(text, "enter")
            await pilot.pause()
            assert screen.query_one("#check-predict", CheckCard).tries == number
        assert shown(visualizer, "#caption") == "Stop 1/2 (update 1): One step."
        visualizer.focus()
        await pilot.press("f")
        await pilot.pause()
        assert visualizer.step == 5 and shown(visualizer, "#caption").startswith("Stop 2/2 (update 5): Five steps")


TWO_CHECKS_LESSON = WAITING_LESSON.replace('after = "predict"', 'after = "second"').replace(
    "+++\n# Waiting",
    """
[[check]]
id = "second"
prompt = "And which?"
kind = "choice"
choices = ["a", "b"]
answer = "b"
hint = "The second."
explanation = "Because."
+++
# Waiting""",
)


async def test_a_later_check_answered_first_does_not_open_a_stop_that_shows_an_earlier_answer(tmp_path: Path) -> None:
    """verify13 saw lesson 4's stop 2 (waiting for check 2) open with check 1 unanswered: its grid showed check 1's
    answer. A stop opens only when its check and every check before it are answered, the order --run-all prints."""
    (tmp_path / "01-waiting.md").write_text(TWO_CHECKS_LESSON)
    app = make_app(lessons_dir=tmp_path, progress_path=tmp_path / "progress.json", start_lesson="waiting")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await until_lesson_open(pilot)
        visualizer = screen.query_one(Visualizer)
        await pilot.press("f")
        await pilot.pause()
        box = screen.query_one("#check-second .check-input", Input)
        box.focus()
        await pilot.press("b", "enter")
        await pilot.pause()
        assert screen.query_one("#check-second", CheckCard).answered
        assert screen.check_action("next_stop", ()) is None
        assert shown(visualizer, "#caption").endswith("(the next stop waits for check 1)")
        box = screen.query_one("#check-predict .check-input", Input)
        box.focus()
        await pilot.press("a", "enter")
        await pilot.pause()
        visualizer.focus()
        await pilot.press("f")
        await pilot.pause()
        assert visualizer.step == 5


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_race_names_every_run_of_its_legend_beside_the_lesson_text(tmp_path: Path, size: tuple[int, int]) -> None:
    """Beside a lesson's text the race's controls bar has no room for the speed and three names: it keeps
    every run's name and loss (the chart's legend names three runs), as stop 2 shows them at step 300."""
    from tutor.tui.widgets.panels import ControlsBar
    from tutor.views.format import significant

    app = make_app(lessons_dir=LESSONS, progress_path=tmp_path / "progress.json", start_lesson="race")
    async with app.run_test(size=size) as pilot:
        visualizer = (await until_lesson_open(pilot)).query_one(Visualizer)
        await pilot.press("f", "f")
        await pilot.pause()
        assert visualizer.step == 300
        bar = visualizer.query_one(ControlsBar)
        controls = shown(visualizer, "#controls")
        assert controls.startswith("‖") and len(controls.rstrip()) <= bar.content_size.width  # it fits: nothing is cut off
        for run in visualizer.runs:
            assert f" {run.optimizer.label} {significant(run.current.loss, 4)} " in controls
        assert [run.optimizer.label for run in visualizer.runs] == ["gradient descent", "rmsprop", "rmsprop-momentum"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_valley_lesson_shows_its_whole_status_and_both_tour_keys(tmp_path: Path, size: tuple[int, int]) -> None:
    """At 80x24 the valley's status line was cut ("{ } its" and no more) and the footer had f but not F:
    now the valley's keys go on a line of their own when both do not fit, and the footer's `f/F Tour` names both."""
    from tutor.tui.widgets.surface import SurfaceView

    app = make_app(lessons_dir=LESSONS, progress_path=tmp_path / "progress.json", start_lesson="valley")
    async with app.run_test(size=size) as pilot:
        screen = await until_lesson_open(pilot)
        visualizer = screen.query_one(Visualizer)
        visualizer.focus()
        await pilot.press("space")
        await pilot.pause()
        widget = visualizer.query_one(SurfaceView)
        lines = [widget.render_line(y).text.rstrip() for y in range(widget.content_size.height)]
        keys = "( ) turn the valley  { } its condition"
        assert lines[0].startswith("update 1  valley: condition 20, floor at 0 degrees")
        assert keys in lines[0] or lines[1].strip() == keys  # whole, on the status line or the one below
        if size == (80, 24):
            assert lines[1].strip() == keys  # 78 columns hold the status or the keys, not both
        assert all(len(line) <= widget.content_size.width for line in lines)
        footer = " ".join(str(key.render()) for key in screen.query("FooterKey"))
        assert "f/F Tour" in footer and "b Back" in footer and "space Update" in footer
        await pilot.press("f", "f", "F")  # both keys work: stop 2, then back to stop 1
        await pilot.pause()
        assert shown(visualizer, "#caption").startswith("Stop 1/")

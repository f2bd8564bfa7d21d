"""The app driven through Textual's Pilot: lesson list, lessons, checks, progress, keys, palette, themes.

Lessons come from tests/fixtures/app (two good lessons, one broken file); progress goes to a
temporary file, so nothing here touches the learner's real progress.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pilot_helpers import until_lesson_open
from textual.widgets import Input, OptionList, Static

from tutor.cli import build_parser, main, sandbox_setup
from tutor.tui.app import MIN_HEIGHT, MIN_WIDTH, TutorApp, make_app
from tutor.tui.screens.dialogs import ConfirmScreen, ShareCodeScreen, TooSmallScreen
from tutor.tui.screens.help import HelpScreen
from tutor.tui.screens.lesson import CheckCard, LessonScreen
from tutor.tui.screens.lessons import LessonListScreen
from tutor.tui.screens.sandbox import SandboxScreen
from tutor.tui.themes import HIGH_CONTRAST
from tutor.tui.widgets.visualizer import Visualizer

FIXTURES = Path(__file__).parent / "fixtures" / "app"
SIZE = (120, 40)


@pytest.fixture
def progress_path(tmp_path: Path) -> Path:
    return tmp_path / "progress.json"


@pytest.fixture
def app(progress_path: Path) -> TutorApp:
    return make_app(lessons_dir=FIXTURES, progress_path=progress_path)


async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for the app's workers (the lesson list's loading, the palette's search), then a refresh."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text_of(widget: Static) -> str:
    return str(widget.render())


def option_labels(app: TutorApp) -> list[str]:
    return option_labels_of(app.screen)


def option_labels_of(screen) -> list[str]:  # type: ignore[no-untyped-def]
    options = screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def open_first_lesson(pilot) -> LessonScreen:  # type: ignore[no-untyped-def]
    await ready(pilot)
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    return screen


async def answer(pilot, check_id: str, text: str) -> CheckCard:  # type: ignore[no-untyped-def]
    card = pilot.app.screen.query_one(f"#check-{check_id}", CheckCard)
    card.query_one(Input).focus()
    card.query_one(Input).value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()
    return card


# --- lesson list -------------------------------------------------------------------------------


async def test_lesson_list_shows_lessons_and_broken_files(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, LessonListScreen)
        labels = option_labels(app)
        assert len(labels) == 2
        assert "First steps" in labels[0] and "Second lesson" in labels[1]
        assert not any("✓" in label for label in labels)
        problems = text_of(app.screen.query_one("#lessons-problems", Static))
        assert "03-broken.md:8: unknown optimizer 'nesterov'" in problems


async def test_lesson_flow_step_answer_wrong_then_right(app: TutorApp, progress_path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        assert screen.lesson.id == "first"
        visualizer = screen.query_one(Visualizer)
        assert visualizer.has_focus
        await pilot.press("space", "space", "space")
        await pilot.pause()
        assert visualizer.step == 3
        assert app.progress.position("first") == 3

        card = await answer(pilot, "decay", "0.5")
        feedback = text_of(card.query_one(".check-feedback", Static))
        assert "Hint: It is the decay itself." in feedback
        assert card.has_class("-wrong")
        assert not app.progress.has_passed("first", "decay")

        card = await answer(pilot, "decay", "0.5.5")  # malformed: asked again, not counted
        assert card.has_class("-malformed") and "is not a number" in text_of(card.query_one(".check-feedback", Static))

        card = await answer(pilot, "decay", "0.9")
        feedback = text_of(card.query_one(".check-feedback", Static))
        assert feedback.startswith("Right.") and "keeps nine tenths" in feedback
        assert card.has_class("-right")
        assert app.progress.has_passed("first", "decay")
        assert not app.progress.is_complete("first")
        lesson_list = app.screen_stack[-2]
        lesson_list.refresh_lessons()  # type: ignore[attr-defined]  (it refreshes itself on resume)
        assert "1/2 checks" in option_labels_of(lesson_list)[0]

        card = await answer(pilot, "divides", "2")  # the second choice: sqrt(v) + eps
        assert app.progress.is_complete("first")
        # Said in the header: no toast over the explanation just shown.
        assert app.screen.sub_title.endswith("✓ lesson complete") and not app._notifications
        assert text_of(card.query_one(".check-feedback", Static)).startswith("Right.")
        saved = json.loads(progress_path.read_text())
        assert saved["completed"] == ["first"]
        assert set(saved["checks"]["first"]) == {"decay", "divides"}

        await pilot.press("escape", "escape")  # the first leaves the answer box, the second the lesson
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        labels = option_labels(app)
        assert "✓" in labels[0] and "✓" not in labels[1]
        assert text_of(app.screen.query_one("#lessons-title", Static)) == "Lessons — 1 of 2 complete"
        assert "you stopped here" in labels[0]
        # finished: the list points at the next lesson (issue 14: the cursor stayed on the finished one)
        assert "is complete. Next: “Second lesson”" in text_of(app.screen.query_one("#lessons-resume", Static))
        assert app.screen.query_one(OptionList).highlighted == 1


async def test_position_restored_when_the_lesson_reopens(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press(*["space"] * 4, "b")
        await pilot.pause()
        assert screen.query_one(Visualizer).step == 3
        await pilot.press("escape")
        await pilot.pause()
        screen = await open_first_lesson(pilot)
        visualizer = screen.query_one(Visualizer)
        assert visualizer.step == 3
        assert visualizer.runs[0].step == 3


async def test_passed_checks_show_as_passed_when_reopened(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.progress.passed("first", "decay")
        await pilot.press("enter")
        await pilot.pause()
        card = app.screen.query_one("#check-decay", CheckCard)
        assert card.passed and card.has_class("-right")
        assert text_of(card.query_one(".check-prompt", Static)).startswith("✓")
        assert not app.screen.query_one("#check-divides", CheckCard).passed


# --- quitting keeps progress ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keeps_progress(app: TutorApp, progress_path: Path, key: str) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_first_lesson(pilot)
        await pilot.press("space", "space")
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0
    saved = json.loads(progress_path.read_text())
    assert saved["positions"] == {"first": 2}
    assert saved["last_lesson"] == "first"


# --- damaged progress ------------------------------------------------------------------------------


async def test_corrupt_progress_file_warns_moves_it_aside_and_starts(app: TutorApp, progress_path: Path) -> None:
    progress_path.write_text("{ this is not json", encoding="utf-8")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert len(option_labels(app)) == 2
        messages = [notification.message for notification in app._notifications]
        assert any("damaged" in message and "corrupt-1" in message for message in messages)
    assert (progress_path.parent / "progress.json.corrupt-1").read_text() == "{ this is not json"


# --- keys, help, palette, themes ---------------------------------------------------------------------


async def test_help_opens_and_closes(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one("#help-text").source  # type: ignore[attr-defined]
        for key in ("`space`", "`b`", "`ctrl+p`", "`escape`", "`q` or `ctrl+c`", "mean square v", "idle"):
            assert key in help_text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


async def test_palette_runs_tutor_commands(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"high contrast on")
        await ready(pilot)  # the palette searches its providers in a worker
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == HIGH_CONTRAST and app.high_contrast

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open the sandbox")
        await ready(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SandboxScreen)
        names = [command.title for command in app.get_system_commands(app.screen)]
        assert "Show share code" in names and "Hide panel: grids" in names and "High contrast off" in names


async def test_palette_opens_a_lesson_from_the_sandbox(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.action_sandbox()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"second lesson")
        await ready(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "second"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


async def test_palette_hides_and_shows_a_panel(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.action_sandbox()
        await pilot.pause()
        visualizer = app.screen.query_one(Visualizer)
        hide = {command.title: command for command in app.get_system_commands(app.screen)}["Hide panel: chart"]
        hide.callback()
        await pilot.pause()
        assert "chart" in visualizer.hidden
        assert not visualizer.query_one("#chart").display
        show = {command.title: command for command in app.get_system_commands(app.screen)}["Show panel: chart"]
        show.callback()
        await pilot.pause()
        assert "chart" not in visualizer.hidden


async def test_theme_switch_and_high_contrast_toggle(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert HIGH_CONTRAST in app.available_themes
        app.theme = "nord"
        await pilot.pause()
        assert not app.high_contrast
        app.action_toggle_high_contrast()
        await pilot.pause()
        assert app.theme == HIGH_CONTRAST and app.high_contrast
        app.action_toggle_high_contrast()
        await pilot.pause()
        assert app.theme == "nord" and not app.high_contrast


async def test_compare_mode_steps_the_three_optimizers(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.action_compare()
        await pilot.pause()
        visualizer = app.screen.query_one(Visualizer)
        assert [run.optimizer.key for run in visualizer.runs] == ["gd", "rmsprop", "rmsprop-momentum"]
        await pilot.press("space", "space")
        await pilot.pause()
        assert [run.step for run in visualizer.runs] == [2, 2, 2]


async def test_reset_progress_asks_first(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.progress.complete("first")
        app.screen.refresh_lessons()  # type: ignore[attr-defined]
        assert "✓" in option_labels(app)[0]
        app.action_reset_progress()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.progress.is_complete("first")
        app.action_reset_progress()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        assert not app.progress.is_complete("first")
        assert "✓" not in option_labels(app)[0]


async def test_share_key_only_where_a_visualizer_is(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("space", "s")
        await pilot.pause()
        assert isinstance(app.screen, ShareCodeScreen)
        assert app.screen.opens_with == f"tutor sandbox --state {app.screen.code}"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


# --- terminal size -----------------------------------------------------------------------------------


async def test_tiny_terminal_says_enlarge_and_recovers(app: TutorApp) -> None:
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        message = text_of(app.screen.query_one("#too-small", Static))
        assert f"Enlarge the terminal to at least {MIN_WIDTH}x{MIN_HEIGHT} (now 40x10)" in message
        await pilot.press("question_mark")  # keys other than quit wait for a usable size
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await ready(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert len(option_labels(app)) == 2
        await pilot.press("enter")
        await pilot.pause()
        await pilot.resize_terminal(50, 30)  # shrunk in the middle of a lesson
        await pilot.pause()
        assert "(now 50x30)" in text_of(app.screen.query_one("#too-small", Static))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


# --- the sandbox and share codes -----------------------------------------------------------------------


def sandbox_app(*arguments: str, progress_path: Path) -> TutorApp:
    setup = sandbox_setup(build_parser().parse_args(["sandbox", *arguments]))
    return make_app(progress_path=progress_path, sandbox=setup)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_sandbox_footer_shows_the_share_code_key_beside_quit_and_help(
    progress_path: Path, size: tuple[int, int]
) -> None:
    from textual.widgets._footer import FooterKey

    app = sandbox_app(progress_path=progress_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = [key.key for key in app.screen.query(FooterKey)]
        assert keys[:3] == ["q", "question_mark", "s"] and "space" in keys
        await pilot.press("space")  # after an update b Back joins: at 80 columns the last keys no longer fit
        await pilot.pause()
        keys = [key.key for key in app.screen.query(FooterKey)]
        # Whole and in order: verify14 saw "+ Faster" shown with "r Run/pause" before it dropped.
        assert not any(key.startswith("plus") for key in keys) or "r" in keys, keys


async def test_sandbox_share_code_round_trip(progress_path: Path) -> None:
    first = sandbox_app("--optimizer", "rmsprop-momentum", "--lr", "0.01", "--hide", "inspector", progress_path=progress_path)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*["space"] * 5)
        await pilot.pause()
        shown = first.screen.query_one(Visualizer).state()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(first.screen, ShareCodeScreen)
        code = first.screen.code
    assert shown["step"] == 5 and shown["optimizers"] == ["rmsprop-momentum"] and shown["hp"]["lr"] == 0.01

    second = sandbox_app("--state", code, progress_path=progress_path)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        visualizer = second.screen.query_one(Visualizer)
        assert visualizer.state() == shown
        assert visualizer.step == 5 and visualizer.runs[0].step == 5
        assert "inspector" in visualizer.hidden


async def test_escape_from_a_command_line_sandbox_opens_the_lesson_list(progress_path: Path) -> None:
    app = sandbox_app("--compare", progress_path=progress_path)
    app.lessons_dir = FIXTURES
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SandboxScreen)
        await pilot.press("escape")
        await pilot.pause()
        await ready(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert len(option_labels(app)) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--state", "04C0-XXXX"], "this share code is damaged"),
        (["--state", "hello!"], "a share code has only digits and letters"),
        (["--state", "04C0", "--lr", "0.1"], "--state already holds"),
        (["--hide", "grids,sidebar"], "unknown panel or control 'sidebar'"),
        (["--compare", "--optimizer", "gd"], "--compare runs gd, rmsprop and rmsprop-momentum together"),
        (["--lr", "nan"], "lr cannot be NaN"),
    ],
)
def test_sandbox_bad_arguments_exit_2_with_a_reason(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# --- no terminal, unexpected errors ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["sandbox"]])
def test_no_terminal_says_why_and_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Under pytest stdin and stdout are not terminals.
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == "tutor needs a terminal; try `tutor --run-all` or `tutor trace`"


def test_dumb_terminal_says_why(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main([]) == 2
    assert "TERM=dumb" in capsys.readouterr().err


def test_unexpected_error_is_one_line_and_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> int:
        raise RuntimeError("something inside broke")

    monkeypatch.setenv("TUTOR_LOG_DIR", str(tmp_path))
    monkeypatch.setattr("tutor.cli._lessons", broken)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something inside broke" in err and str(tmp_path / "crash.log") in err
    assert "Traceback" in (tmp_path / "crash.log").read_text()


async def test_unexpected_error_inside_the_app_is_one_line_and_a_log(
    app: TutorApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app stops, Textual prints nothing, and `crash_message` (printed by the command line) is one line."""

    def broken() -> None:
        raise RuntimeError("a handler broke")

    monkeypatch.setenv("TUTOR_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(app, "action_help", broken)
    with pytest.raises(RuntimeError):  # run_test re-raises it for the test; a learner sees only the line
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
    assert capsys.readouterr().err == ""
    assert app.crash_message is not None and "\n" not in app.crash_message
    assert "RuntimeError: a handler broke" in app.crash_message and str(tmp_path / "crash.log") in app.crash_message
    assert "Traceback" in (tmp_path / "crash.log").read_text()


async def test_t_shows_one_pane_at_a_time(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(pilot)
        text, visualizer = screen.query_one("#lesson-text"), screen.query_one(Visualizer)
        assert screen.has_class("-narrow") and text.display and visualizer.display
        await pilot.press("t")
        await pilot.pause()
        assert text.display and not visualizer.display and text.has_focus
        assert text.region.height == 22  # the whole screen between header and footer
        await pilot.press("t")
        await pilot.pause()
        assert not text.display and visualizer.display and visualizer.has_focus
        await pilot.press("space", "t")
        await pilot.pause()
        assert text.display and visualizer.display and visualizer.step == 1


async def test_unwritable_progress_is_reported_and_the_lesson_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the progress folder should be")
    app = make_app(lessons_dir=FIXTURES, progress_path=blocker / "progress.json")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_lesson(pilot)
        card = await answer(pilot, "decay", "0.9")
        assert card.has_class("-right") and app.progress.has_passed("first", "decay")
        messages = [notification.message for notification in app._notifications]
        assert any(message.startswith("Could not save your progress") for message in messages)
        await pilot.press("escape", "escape")  # out of the answer box, then out of the lesson
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


async def test_a_number_that_fails_when_prepared_is_listed_and_the_lesson_still_opens(progress_path: Path) -> None:
    app = make_app(lessons_dir=FIXTURES.with_name("app-bad-number"), progress_path=progress_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)  # loads the course
        await ready(pilot)  # then computes every lesson's numbers in a second worker
        assert app.course_prepared
        problems = text_of(app.screen.query_one("#lessons-problems", Static))
        assert "01-bad-number.md:13:" in problems and "unknown optimizer 'nope'" in problems
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert '{{ final_loss(optimizer="nope") }}' in app.screen.filled.text


# --- `tutor --lesson ID` ----------------------------------------------------------------------


async def test_start_lesson_opens_that_lesson_once_the_lessons_load(progress_path: Path) -> None:
    app = make_app(lessons_dir=FIXTURES, progress_path=progress_path, start_lesson="second")
    async with app.run_test(size=SIZE) as pilot:
        screen = await until_lesson_open(pilot)
        assert screen.lesson.id == "second"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, LessonListScreen)


def test_an_unknown_lesson_id_is_refused_before_the_app_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lesson", "no-such-lesson"]) == 2
    error = capsys.readouterr().err
    assert "no lesson 'no-such-lesson'" in error and "race" in error


def test_the_collector_paused_for_start_up_is_back_on_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line turns garbage collection off until the app's first frame; it must come back
    on after a refused option, after an app that never painted, and in the app after its first frame."""
    import gc

    import tutor.cli as cli

    seen: list[bool] = []

    class NeverPaints:
        crash_message, return_code = None, 0

        def run(self) -> None:
            seen.append(gc.isenabled())

    assert main(["sandbox", "--lr", "nan"]) == 2 and gc.isenabled()
    monkeypatch.setattr(cli, "_terminal_problem", lambda: None)
    monkeypatch.setattr("tutor.tui.app.make_app", lambda **_: NeverPaints())
    assert main(["sandbox"]) == 0 and seen == [False] and gc.isenabled()

    gc.disable()
    make_app(sandbox=sandbox_setup(build_parser().parse_args(["sandbox"])))._freeze_start_up_objects()
    try:
        assert gc.isenabled()
    finally:
        gc.unfreeze()


async def test_enter_pressed_before_the_list_is_filled_opens_the_lesson_once_it_is(
    app: TutorApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    load = TutorApp.load

    def slow_load(self: TutorApp):  # type: ignore[no-untyped-def]  # the files take a moment, as on a cold start
        time.sleep(0.3)
        return load(self)

    monkeypatch.setattr(TutorApp, "load", slow_load)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert option_labels(app) == []  # not filled yet
        await pilot.press("enter")
        assert "enter opens" in text_of(app.screen.query_one("#lessons-resume", Static))
        await ready(pilot)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "first"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("down", "enter")  # filled: enter opens the highlighted lesson, as always
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "second"


async def test_a_share_code_far_ahead_opens_at_once_then_computes_behind_a_progress_bar(progress_path: Path) -> None:
    """The thread computing the steps follows the code's edits too (lr from step 1500, decay from 3000)."""
    from dataclasses import replace

    from tutor.engine import MatrixInverse, Run
    from tutor.share import encode
    from tutor.tui.screens.edit import ComputingScreen

    first = sandbox_app("--compare", progress_path=progress_path)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.pause()
        state = first.screen.query_one(Visualizer).state()
    state["edits"] = [[[1500, {"lr": 0.003}], [3000, {"decay": 0.5}]]] * 3
    code = encode({**state, "step": 4000})
    setup = sandbox_setup(build_parser().parse_args(["sandbox", "--state", code]))
    assert all(run.step == 0 and len(run.records) == 1 for run in setup.runs)  # nothing computed before the app starts
    app = make_app(progress_path=progress_path, sandbox=setup)
    screens: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3000):
            screens.append(type(app.screen).__name__)
            if isinstance(app.screen, SandboxScreen) and app.screen.query_one(Visualizer).step == 4000:
                break
            await pilot.pause(0.01)
        assert ComputingScreen.__name__ in screens
        visualizer = app.screen.query_one(Visualizer)
        assert visualizer.state() == {**state, "step": 4000}
        for run in visualizer.runs:
            reference = Run.create(MatrixInverse(), run.optimizer.key)
            for at, changes in state["edits"][0]:
                reference.goto(at)
                reference.set_hyperparameters(replace(reference.hp, **changes))
            assert run.current.loss == reference.goto(4000).loss
            assert run.current.x.tobytes() == reference.current.x.tobytes() and run.hp == reference.hp


def numbers_on_screen(app: TutorApp) -> dict[str, str]:
    """The text of every panel of the visualizer that shows numbers."""
    visualizer = app.screen.query_one(Visualizer)
    panels = ("status", "controls", "grids", "inspector", "chart", "narration")
    return {name: str(visualizer.query_one(f"#{name}").render()) for name in panels}


async def share_code_of(pilot) -> str:  # type: ignore[no-untyped-def]
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ShareCodeScreen)
    code = pilot.app.screen.code
    await pilot.press("escape")
    return code


async def test_a_share_code_brings_back_the_moment_after_an_edit(progress_path: Path) -> None:
    """Issue 14: space x5, e lr=0.01, space x5, s: the code opens at `step 10 loss 2.143`, as the original shows."""
    first = sandbox_app(progress_path=progress_path)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.press(*["space"] * 5, "e", "0", ".", "0", "1", "enter", *["space"] * 5)
        await pilot.pause()
        shown = numbers_on_screen(first)
        assert shown["status"].startswith("update 10  loss 2.143")
        code = await share_code_of(pilot)
        runs = first.screen.query_one(Visualizer).runs
    second = sandbox_app("--state", code, progress_path=progress_path)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        opened = numbers_on_screen(second)
        assert {**opened, "narration": ""} == {**shown, "narration": ""}  # the narration said what the edit did
        copy = second.screen.query_one(Visualizer).runs[0]
        assert copy.current.x.tobytes() == runs[0].current.x.tobytes()


async def test_compare_mode_edits_run_cursor_and_speed_survive_a_share_code(progress_path: Path) -> None:
    """Two edits in compare mode, back past the second (its steps are kept ahead), another run shown,
    the cursor moved and the speed changed: the opened code shows every number the original does,
    and steps on through the kept steps exactly as the original."""
    keys = ["space"] * 3 + ["e"]
    first = sandbox_app("--compare", progress_path=progress_path)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.press(*keys)
        first.screen.query_one("#edit-decay", Input).value = "0.5"
        first.screen.query_one("#edit-lr", Input).value = "0.005"
        await pilot.press("enter", *["space"] * 4, "e")
        first.screen.query_one("#edit-mu", Input).value = "0.5"
        await pilot.press("enter", *["space"] * 3, *["b"] * 4, "o", "down", "right", "plus")
        await pilot.pause()
        visualizer = first.screen.query_one(Visualizer)
        assert (visualizer.step, visualizer.selected, visualizer.cursor, visualizer.speed) == (6, 1, 6, 20)
        shown = numbers_on_screen(first)
        code = await share_code_of(pilot)
        await pilot.press(*["space"] * 6)
        await pilot.pause()
        ahead = numbers_on_screen(first)
    second = sandbox_app("--state", code, progress_path=progress_path)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert {**numbers_on_screen(second), "narration": ""} == {**shown, "narration": ""}
        await pilot.press(*["space"] * 6)
        await pilot.pause()
        assert numbers_on_screen(second) == ahead


@pytest.mark.parametrize("saved", [100_000, 10**30])
async def test_a_lesson_saved_far_ahead_opens_at_once_and_computes_behind_a_progress_bar(progress_path: Path, saved: int) -> None:
    """A saved step of 100000 (or 10^30, read as the cap) no longer freezes the app: the lesson opens,
    the steps are computed in a thread, keys answer, and escape stops where the runs have reached."""
    from tutor.tui.screens.edit import ComputingScreen

    progress_path.write_text(json.dumps({"positions": {"first": saved}, "last_lesson": "first"}))
    app = make_app(lessons_dir=FIXTURES, progress_path=progress_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ComputingScreen)
        assert "Computing up to update 100000" in text_of(app.screen.query_one(".dialog-title", Static))
        await pilot.press("escape")
        for _ in range(500):
            if isinstance(app.screen, LessonScreen):
                break
            await pilot.pause(0.01)
        visualizer = app.screen.query_one(Visualizer)
        assert 0 < visualizer.step < 100_000
        await pilot.press("space")
        await pilot.pause()
        assert app.progress.position("first") == visualizer.step


async def test_text_held_back_for_a_check_shows_once_it_is_answered(tmp_path: Path) -> None:
    """An `<!-- after: id -->` block is not in the lesson's text; its check's card shows it after the right answer."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    source = (FIXTURES / "01-first.md").read_text(encoding="utf-8")
    (folder / "01-first.md").write_text(
        source + "\n<!-- after: decay -->\nKeeping nine tenths: that is the decay.\n<!-- /after -->\n", encoding="utf-8"
    )
    app = make_app(lessons_dir=folder, progress_path=tmp_path / "progress.json")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        assert "nine tenths: that is" not in screen.filled.text
        card = screen.query_one("#check-decay", CheckCard)
        assert not card.query(".check-reveal")  # built only when shown: the lesson opens the faster
        await answer(pilot, "decay", "0.5")
        assert not card.query(".check-reveal")  # a wrong answer does not give it away
        await answer(pilot, "decay", "0.9")
        assert card.query_one(".check-reveal").display
        assert "Keeping nine tenths: that is the decay." in card.check.reveal


async def test_a_device_as_the_progress_file_is_left_as_it_is(tmp_path: Path) -> None:
    """Issue 15: as root, TUTOR_PROGRESS=W/null (a character device) was renamed to W/null.corrupt-1 and a JSON
    file put in its place. Now the app warns, the lesson works, quitting saves nothing there."""
    import os
    import stat

    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers, in a folder of the test's own
    app = make_app(lessons_dir=FIXTURES, progress_path=device)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("space", "space", "q")
        await pilot.pause()
        assert screen.query_one(Visualizer).step == 2
        messages = [notification.message for notification in app._notifications]
        assert any("is a character device, not a regular file" in message for message in messages)
    assert stat.S_ISCHR(os.stat(device).st_mode) and os.listdir(tmp_path) == ["null"]


async def test_a_decaying_lr_is_set_in_the_edit_dialog_and_survives_a_share_code(progress_path: Path) -> None:
    """lr_halving is offered with lr (the remedy lessons 6 and 7 teach); the status line names it; a share code keeps it."""
    first = sandbox_app(progress_path=progress_path)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.press("space", "e")
        first.screen.query_one("#edit-lr_halving", Input).value = "100"
        await pilot.press("enter", "space", "space")
        await pilot.pause()
        run = first.screen.query_one(Visualizer).run
        assert run.hp.lr_halving == 100.0 and run.records[1].hp.lr_halving == 0.0
        assert "lr_halving=100" in numbers_on_screen(first)["status"]
        assert np.allclose(run.records[3].effective_step * (1 + 2 / 100), 0.001 / (np.sqrt(run.records[3].mean_square) + 1e-8))
        shown = numbers_on_screen(first)
        code = await share_code_of(pilot)
    second = sandbox_app("--state", code, progress_path=progress_path)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert {**numbers_on_screen(second), "narration": ""} == {**shown, "narration": ""}
        assert second.screen.query_one(Visualizer).run.hp.lr_halving == 100.0


async def test_in_a_number_box_t_changes_the_layout_and_escape_leaves_the_box(app: TutorApp) -> None:
    """Issue 14: `t` typed into a number box (`20t`) and escape there left the lesson."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        box = screen.query_one("#check-decay", CheckCard).query_one(Input)
        box.focus()
        await pilot.press("2", "0", "t")
        await pilot.pause()
        assert box.value == "20" and screen.has_class("-text-only")  # t went to the layout, not the answer
        screen.query_one("#check-decay", CheckCard).query_one(Input).focus()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.focused is not None and screen.focused.id == "lesson-text"
        await pilot.press("escape")  # from the text, escape goes back to the lessons as before
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


async def test_a_finished_lesson_points_the_list_at_the_next_and_all_done_says_what_next(app: TutorApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        lessons = app.course.lessons
        app.progress.set_position(lessons[0].id, 3)
        app.progress.complete(lessons[0].id)
        app.screen.refresh_lessons()  # type: ignore[attr-defined]
        await pilot.pause()
        resume = text_of(app.screen.query_one("#lessons-resume", Static))
        assert app.screen.query_one(OptionList).highlighted == 1
        assert f"“{lessons[0].title}” is complete. Next: “{lessons[1].title}”" in resume
        for lesson in lessons:
            app.progress.complete(lesson.id)
        app.screen.refresh_lessons()  # type: ignore[attr-defined]
        await pilot.pause()
        assert f"All {len(lessons)} lessons complete" in text_of(app.screen.query_one("#lessons-resume", Static))


async def test_escape_from_the_sandbox_keeps_its_run_for_open_the_sandbox(app: TutorApp) -> None:
    """Issue 14: escape in the sandbox threw the run away without asking."""
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.action_sandbox()
        await pilot.pause()
        await pilot.press(*["space"] * 4, "right")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        app.action_sandbox()
        await pilot.pause()
        visualizer = app.screen.query_one(Visualizer)
        assert visualizer.step == 4 and visualizer.cursor == 1 and visualizer.run.step == 4
        await pilot.press("escape")
        await pilot.pause()
        app.action_sandbox()  # kept once more, as left
        await pilot.pause()
        assert app.screen.query_one(Visualizer).step == 4


async def test_tab_in_a_lesson_goes_text_checks_visualizer_with_one_stop_for_the_visualizer(app: TutorApp) -> None:
    """Issue 14: Tab stopped about 8 times in a lesson, at each of the visualizer's inner panels."""
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await open_first_lesson(pilot)
        await pilot.pause()
        seen = []
        for _ in range(5):
            await pilot.press("tab")
            seen.append(type(app.focused).__name__ if app.focused is not None else None)
        # the text, the lesson's two check boxes, the visualizer (one stop), and round again
        assert seen == ["VerticalScroll", "AnswerBox", "AnswerBox", "Visualizer", "VerticalScroll"]
        await pilot.press("tab", "tab", "tab", "right", "down")  # the visualizer's own keys move within it
        assert app.focused is app.screen.query_one(Visualizer) and app.screen.query_one(Visualizer).cursor == 6


def footer_keys(app: TutorApp) -> dict[str, tuple[str, bool]]:
    """The footer's keys as drawn: key -> (label, enabled)."""
    from textual.widgets._footer import FooterKey

    return {key.key: (key.description, not key.has_class("-disabled")) for key in app.screen.query(FooterKey)}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_an_answer_box_keeps_q_help_and_t_in_the_footer_and_working(app: TutorApp, size: tuple[int, int]) -> None:
    """Issue 14: with a check's box focused the footer shrank to `^p palette`. A number box types only what a
    number holds, so q, ? and t stay the app's keys there; a choice box types its choices' letters, so those
    of q, ? and t that are in a choice are shown greyed (escape leaves the box), the others still work."""
    async with app.run_test(size=size) as pilot:
        screen = await open_first_lesson(pilot)
        number_box = screen.query_one("#check-decay", CheckCard).query_one(Input)
        number_box.focus()
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert keys["q"] == ("Quit", True) and keys["question_mark"] == ("Help", True) and keys["t"] == ("Layout", True)
        assert keys["escape"] == ("Leave box", True)
        await pilot.press("1", "e", "-", "3", "x", "question_mark")  # x: no number holds it, no key is bound to it
        await pilot.pause()
        assert number_box.value == "1e-3" and isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()

        choice_box = screen.query_one("#check-divides", CheckCard).query_one(Input)  # "sqrt(v) + eps": q and t are typed
        choice_box.focus()
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert keys["q"] == ("Quit", False) and keys["t"] == ("Layout", False) and keys["question_mark"] == ("Help", True)
        await pilot.press(*"sqrt(v) + eps")
        await pilot.pause()
        assert choice_box.value == "sqrt(v) + eps" and app.screen is screen and not screen.has_class("-text-only")


async def palette(pilot, command: str) -> None:  # type: ignore[no-untyped-def]
    """Run a command of the palette as a teacher does: ctrl+p, its name, enter."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*command)
    await ready(pilot)
    await pilot.press("enter")
    await pilot.pause()


def sandbox_moment(app: TutorApp) -> tuple[int, int, list[str], float]:
    visualizer = app.screen.query_one(Visualizer)
    return visualizer.step, visualizer.cursor, [run.optimizer.key for run in visualizer.runs], visualizer.run.current.loss


@pytest.mark.parametrize("way_back", ["palette", "escape on the list"])
@pytest.mark.parametrize("start", ["tutor sandbox, then escape", "the palette's sandbox, then a lesson, then escape"])
async def test_a_sandbox_left_comes_back_as_it_was(progress_path: Path, start: str, way_back: str) -> None:
    """Issue 14: `tutor sandbox`, escape, then the palette's "Open the sandbox" gave a fresh run."""
    if start.startswith("tutor sandbox"):
        app = sandbox_app("--compare", progress_path=progress_path)
        app.lessons_dir = FIXTURES
    else:
        app = make_app(lessons_dir=FIXTURES, progress_path=progress_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        if not start.startswith("tutor sandbox"):
            await palette(pilot, "compare mode")
        await pilot.press(*["space"] * 6, "right", "o")
        await pilot.pause()
        left = sandbox_moment(app)
        assert left[0] == 6 and left[1] == 1
        if not start.startswith("tutor sandbox"):
            await palette(pilot, "second lesson")
            assert isinstance(app.screen, LessonScreen)
        await pilot.press("escape")
        await ready(pilot)
        assert isinstance(app.screen, LessonListScreen)
        said = text_of(app.screen.query_one("#lessons-sandbox", Static))
        assert "sandbox is kept at update 6" in said and "escape" in said
        assert footer_keys(app)["escape"] == ("Sandbox", True)
        if way_back == "palette":
            await palette(pilot, "open the sandbox")
        else:
            await pilot.press("escape")
            await pilot.pause()
        assert isinstance(app.screen, SandboxScreen)
        assert sandbox_moment(app) == left and app.screen.query_one(Visualizer).selected == 1
        await pilot.press("space")
        await pilot.press("escape")
        await ready(pilot)
        assert "kept at update 7" in text_of(app.screen.query_one("#lessons-sandbox", Static))


@pytest.mark.parametrize(("lesson", "chart"), [("rmsprop", "#chart"), ("race", "#chart"), ("deep-chain", "#layers")])
async def test_a_lesson_at_80x24_keeps_the_chart_it_talks_about_in_view(progress_path: Path, lesson: str, chart: str) -> None:
    """Issue 14: at 80x24 the lesson's lower pane drew no chart (the grids pushed it off). Too short for both, the grids
    and the inspector fold into one line; m shows them (and pages, then folds again), hiding the chart unfolds them."""
    from tutor.tui.widgets.panels import FOLDED_NOTE, GridsPanel

    app = make_app(progress_path=progress_path, start_lesson=lesson)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await until_lesson_open(pilot)
        visualizer = screen.query_one(Visualizer)
        await pilot.press("space", "space")
        await pilot.pause()
        panel, grids = visualizer.query_one(chart), visualizer.query_one(GridsPanel)
        region = panel.region
        assert panel.display and region.bottom <= 23 and region.height >= 8  # whole, above the footer, plot rows and all
        plot = "\n".join(panel.render_line(y).text for y in range(panel.content_size.height))
        assert re.search("[\u2801-\u28ff▁▂▃▄▅▆▇█]", plot), plot  # a curve or bars, not only a title
        assert [grids.render_line(y).text.strip() for y in range(grids.content_size.height)] == [FOLDED_NOTE]
        assert not visualizer.query_one("#inspector").display
        await pilot.press("m")  # the grids, all the same
        await pilot.pause()
        assert grids.pages >= 1 and "of" in grids.render_line(grids.content_size.height - 1).text
        assert visualizer.query_one("#inspector").display
        for _ in range(grids.pages):  # paged through, they fold again
            await pilot.press("m")
            await pilot.pause()
        assert visualizer.grids_folded and not visualizer.query_one("#inspector").display
        visualizer.action_toggle_panel("chart")  # hidden from the palette: the grids have the room
        await pilot.pause()
        assert not visualizer.grids_folded and grids.render_line(0).text.strip() != FOLDED_NOTE
        await pilot.press("t", "t")  # the visualizer alone: tall enough for grids and chart
        visualizer.action_toggle_panel("chart")
        await pilot.pause()
        assert not visualizer.grids_folded and visualizer.query_one(chart).region.bottom <= 23


async def test_a_signal_caught_by_another_thread_wakes_the_app_at_once(progress_path: Path) -> None:
    """Why the tiny-terminal tmux test failed under load: the kernel hands SIGWINCH to any thread, and when it
    was one of Textual's, Python ran the resize handler only once the sleeping event loop woke for something
    else (a key): "Enlarge the terminal" stayed on the enlarged terminal. The app makes any signal wake it."""
    import asyncio
    import signal
    import threading
    import time

    app = make_app(progress_path=progress_path)
    loop = asyncio.get_running_loop()
    handled = loop.create_future()
    sent: list[float] = []

    def handler(signum: int, frame: object) -> None:  # Python runs it in the main thread, when that runs Python
        if not handled.done():
            handled.set_result(time.monotonic())

    def from_another_thread() -> None:
        sent.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

    before = signal.signal(signal.SIGUSR1, handler)
    app._wake_on_signals()
    try:
        # The signal comes once this loop is asleep (0.3 s on), and nothing else wakes it before its 5 s timeout.
        threading.Timer(0.3, from_another_thread).start()
        handled_at = await asyncio.wait_for(asyncio.shield(handled), 5.0)
        assert handled_at - sent[0] < 2.0, "the handler waited for the loop's next wake-up"
    finally:
        app.on_unmount()
        signal.signal(signal.SIGUSR1, before)


async def test_a_jump_of_the_most_steps_says_and_reaches_that_step(progress_path: Path) -> None:
    """Issue 14: a jump of 10000 said `(9999 updates)`; now the progress dialog says "Computing up to step
    10000…" (seen in tmux: it is often done before a test could read it) and the jump arrives there."""
    from tutor.tui.screens.edit import JUMP_LIMIT

    app = sandbox_app(progress_path=progress_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one(Input).value = str(JUMP_LIMIT)
        await pilot.press("enter")
        await ready(pilot)
        await pilot.pause()
        visualizer = app.screen.query_one(Visualizer)
        assert visualizer.step == JUMP_LIMIT and visualizer.run.step == JUMP_LIMIT
        assert text_of(app.screen.query_one("#status", Static)).split()[1] == str(JUMP_LIMIT)  # "update 10000  loss ..."


@pytest.mark.parametrize("panel", ["grids", "chart", "inspector", "narration", "controls", "status", "legend"])
async def test_hiding_any_panel_in_a_lesson_keeps_every_key_working(app: TutorApp, panel: str) -> None:
    """Issue 14 asked it of the sandbox; a lesson's visualizer is one Tab stop, so its keys must survive too."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lesson(pilot)
        visualizer = screen.query_one(Visualizer)
        {command.title: command for command in app.get_system_commands(screen)}[f"Hide panel: {panel}"].callback()
        await pilot.pause()
        assert panel in visualizer.hidden and app.focused is visualizer
        await pilot.press("space", "space", "b", "right")
        await pilot.pause()
        assert visualizer.step == 1 and visualizer.cursor == 1
        await pilot.press("t")  # the lesson's key
        await pilot.pause()
        assert screen.has_class("-text-only")
        await pilot.press("t", "t")  # back to both panes: the visualizer has the keys again
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ShareCodeScreen)

"""SVG snapshots of the main screens (pytest-textual-snapshot).

Each test's docstring says what the picture should show, for whoever reviews a changed SVG.
A deliberate change of the look: `.venv/bin/python -m pytest tests/test_snapshots.py --snapshot-update`,
then LOOK at the new SVGs in tests/__snapshots__/ before committing them.
Nothing on these screens blinks or shows a time: the focus is never in a text box.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.cli import build_parser, sandbox_setup
from tutor.tui.app import TutorApp, make_app
from tutor.tui.themes import HIGH_CONTRAST

FIXTURES = Path(__file__).parent / "fixtures" / "app"
SMALL, LARGE = (80, 24), (120, 40)


def lessons_app(tmp_path: Path) -> TutorApp:
    return make_app(lessons_dir=FIXTURES, progress_path=tmp_path / "progress.json")


def sandbox_app(tmp_path: Path, *arguments: str, theme: str | None = None) -> TutorApp:
    setup = sandbox_setup(build_parser().parse_args(["sandbox", *arguments]))
    return make_app(progress_path=tmp_path / "progress.json", sandbox=setup, theme=theme)


async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def pressing(*keys: str, first=None):  # type: ignore[no-untyped-def]
    """A run_before that presses `keys` and lets the screen settle: panels that redraw after a
    step (the loss chart) need one more refresh than snap_compare's own `press` waits for."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        if first is not None:
            await first(pilot)
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()

    return run_before


async def first_lesson_completed(pilot) -> None:  # type: ignore[no-untyped-def]
    await loaded(pilot)
    pilot.app.progress.complete("first")
    pilot.app.progress.set_position("second", 4)
    pilot.app.screen.refresh_lessons()
    await pilot.pause()


class TestLessonList:
    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
    def test_lesson_list(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
        """Title "Lessons — 1 of 2 complete"; two lessons: "First steps" with a ✓, "Second lesson" highlighted with "▸ you stopped here";
        below, "You stopped in “Second lesson”, at step 4", and a red-bordered box listing
        tests/fixtures/app/03-broken.md:8: unknown optimizer 'nesterov'. Footer: q Quit, ? Help."""
        assert snap_compare(lessons_app(tmp_path), terminal_size=size, run_before=first_lesson_completed)


class TestLesson:
    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
    def test_lesson_after_three_steps(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
        """The lesson "First steps": its Markdown text ("First steps", "Press space to step") and the
        checks (Check 1 about decay, Check 2 with three numbered choices), beside (120x40) or above
        (80x24) the visualizer at step 3 of RMSprop on the seed's matrix: status line, grids, chart."""
        assert snap_compare(
            lessons_app(tmp_path), terminal_size=size, run_before=pressing("enter", "space", "space", "space", first=loaded)
        )

    def test_lesson_check_answered_wrong(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """The first check answered 0.5: a red bar beside it and "Not quite. Hint: It is the decay itself."."""

        async def answer_wrong(pilot) -> None:  # type: ignore[no-untyped-def]
            await loaded(pilot)
            await pilot.press("enter")
            await pilot.pause()
            box = pilot.app.screen.query_one("#check-decay Input")
            box.value = "0.5"
            await box.action_submit()
            pilot.app.screen.query_one("#visualizer").focus()  # no blinking cursor in the picture
            pilot.app.screen.query_one("#check-decay").scroll_visible(animate=False)
            await pilot.pause()
            await pilot.pause()

        assert snap_compare(lessons_app(tmp_path), terminal_size=LARGE, run_before=answer_wrong)


class TestSandbox:
    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
    def test_sandbox_rmsprop_momentum(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
        """`tutor sandbox --optimizer rmsprop-momentum` after five steps: "step 5" in the status line,
        the grids (x, AX, g, v, step, m) as far as they fit, the loss chart, the keys in the footer."""
        app = sandbox_app(tmp_path, "--optimizer", "rmsprop-momentum")
        assert snap_compare(app, terminal_size=size, run_before=pressing(*["space"] * 5))

    def test_sandbox_high_contrast(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """The same sandbox in the high-contrast theme: black background, white text, yellow accents,
        grids in black-to-white (v, step) and blue/red (signed) that survive a projector."""
        app = sandbox_app(tmp_path, "--optimizer", "rmsprop-momentum", theme=HIGH_CONTRAST)
        assert snap_compare(app, terminal_size=LARGE, run_before=pressing(*["space"] * 5))

    def test_compare_mode(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """`tutor sandbox --compare` after ten steps: three optimizers listed, one loss line each."""
        assert snap_compare(sandbox_app(tmp_path, "--compare"), terminal_size=LARGE, run_before=pressing(*["space"] * 10))


class TestDialogs:
    def test_help(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """The help over the lesson list: a bordered box titled "Help — escape closes" with the table of
        keys that work everywhere (?, ctrl+p, escape, s, q or ctrl+c, tab)."""
        assert snap_compare(lessons_app(tmp_path), terminal_size=SMALL, run_before=pressing("question_mark", first=loaded))

    def test_share_code(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """The share code of the sandbox at step 3 in a box, with "tutor sandbox --state CODE" under it."""
        assert snap_compare(sandbox_app(tmp_path), terminal_size=SMALL, run_before=pressing("space", "space", "space", "s"))

    def test_terminal_too_small(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """At 40x10 only "Enlarge the terminal to at least 60x20 (now 40x10)." and "q quits.", centred."""
        assert snap_compare(lessons_app(tmp_path), terminal_size=(40, 10))

"""The real app in a real terminal: tmux runs `tutor sandbox`, we send keys and read the screen.

Skipped (with the reason) where tmux is not installed; scripts/test installs it in CI.
Each wait polls the screen until the text appears, with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux; scripts/test does it)"
    ),
]

_SERVERS = itertools.count()
DEADLINE = 30.0  # seconds; generous for a loaded 2-core CI machine


class Terminal:
    """One tmux session on a private server, running one command."""

    def __init__(self, name: str) -> None:
        self.socket = name
        self.target = name

    def tmux(self, *arguments: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *arguments], capture_output=True, text=True, check=False)
        return result.stdout

    def start(self, command: str, width: int = 120, height: int = 40, env: dict[str, str] | None = None) -> None:
        # COLUMNS/LINES (conftest sets COLUMNS for headless tests) would override the pane's size.
        exports = " ".join(f"{key}={value}" for key, value in (env or {}).items())
        subprocess.run(
            [
                "tmux",
                "-L",
                self.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                self.target,
                "-x",
                str(width),
                "-y",
                str(height),
                f"env -u COLUMNS -u LINES {exports} {command}",
            ],
            check=True,
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.target)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def wait_for(self, found: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            screen = self.screen()
            if found(screen):
                return screen
            time.sleep(0.05)  # poll interval, not a wait for the app
        raise AssertionError(f"{what} did not appear within {DEADLINE:.0f} s; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    # A server of its own per test: reusing a name races the previous server's shutdown.
    session = Terminal(f"tutor-test-{os.getpid()}-{next(_SERVERS)}")
    try:
        yield session
    finally:
        session.close()


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TUTOR_PROGRESS": str(tmp_path / "progress.json"),
        "TUTOR_LOG_DIR": str(tmp_path),
        "TERM": "xterm-256color",
        **extra,
    }


def wait_for_exit(exit_file: Path) -> str:
    deadline = time.monotonic() + DEADLINE
    while not (exit_file.exists() and exit_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return exit_file.read_text().strip() if exit_file.exists() else "(still running)"


def shows_step(step: int) -> Callable[[str], bool]:
    pattern = re.compile(rf"\bupdate {step}(?!\d)")
    return lambda screen: bool(pattern.search(screen))


def test_sandbox_steps_forward_and_back_then_quits(terminal: Terminal, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    terminal.start(f"sh -c '{sys.executable} -m tutor sandbox; echo $? > {exit_file}'", env=environment(tmp_path))

    terminal.wait_for(shows_step(0), "the sandbox at step 0")
    terminal.keys("Space", "Space", "Space")
    terminal.wait_for(shows_step(3), "step 3 after three spaces")
    terminal.keys("b")
    screen = terminal.wait_for(shows_step(2), "step 2 after b")
    assert "Traceback" not in screen

    terminal.keys("q")
    assert wait_for_exit(exit_file) == "0"


def test_tiny_terminal_says_enlarge_then_recovers(terminal: Terminal, tmp_path: Path) -> None:
    # It once failed under load with the pane at 120x40 and the 40x10 message still drawn: the kernel had handed
    # SIGWINCH to one of Textual's threads and the app slept on (tests/test_app.py: the app now wakes on signals).
    terminal.start(f"{sys.executable} -m tutor sandbox", width=40, height=10, env=environment(tmp_path))
    terminal.wait_for(lambda screen: "Enlarge the terminal" in screen and "(now 40x10)" in screen, "the enlarge message")
    terminal.tmux("resize-window", "-t", terminal.target, "-x", "120", "-y", "40")
    terminal.wait_for(shows_step(0), "the sandbox after the resize")
    terminal.keys("Space")
    terminal.wait_for(shows_step(1), "step 1")
    terminal.keys("q")


def test_ctrl_c_in_a_lesson_quits_cleanly_and_keeps_the_position(terminal: Terminal, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    lessons = Path(__file__).parent / "fixtures" / "app"
    env = environment(tmp_path, TUTOR_LESSONS_DIR=str(lessons))
    terminal.start(f"sh -c '{sys.executable} -m tutor; echo $? > {exit_file}'", env=env)
    terminal.wait_for(lambda screen: "First steps" in screen and "Second lesson" in screen, "the lesson list")
    terminal.keys("Enter")
    terminal.wait_for(shows_step(0), "the lesson's visualizer")
    terminal.keys("Space", "Space")
    terminal.wait_for(shows_step(2), "step 2")
    terminal.keys("C-c")
    assert wait_for_exit(exit_file) == "0"
    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["positions"] == {"first": 2} and saved["last_lesson"] == "first"


def test_no_color_still_draws(terminal: Terminal, tmp_path: Path) -> None:
    terminal.start(f"{sys.executable} -m tutor sandbox", env=environment(tmp_path, NO_COLOR="1"))
    terminal.wait_for(shows_step(0), "the sandbox without colour")
    terminal.keys("Space")
    terminal.wait_for(shows_step(1), "step 1 without colour")
    terminal.keys("q")


def test_dumb_terminal_says_why(terminal: Terminal, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    env = environment(tmp_path, TERM="dumb")
    terminal.start(f"sh -c '{sys.executable} -m tutor; echo $? > {exit_file}; sleep 30'", env=env)
    screen = terminal.wait_for(lambda screen: "tutor needs a terminal" in screen, "the reason")
    assert "TERM=dumb" in screen and "Traceback" not in screen
    assert wait_for_exit(exit_file) == "2"


def test_the_readmes_screen_capture_is_what_the_app_shows(terminal: Terminal, tmp_path: Path) -> None:
    """README.md shows `tutor sandbox --optimizer rmsprop` after eight steps, the cursor on [1,1]."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    expected = re.search(r"```text\n(.*?)```", readme, re.S).group(1).rstrip("\n").split("\n")  # type: ignore[union-attr]
    terminal.start(
        f"{sys.executable} -m tutor sandbox --optimizer rmsprop", width=120, height=len(expected), env=environment(tmp_path)
    )
    terminal.wait_for(shows_step(0), "the sandbox at step 0")
    terminal.keys(*["Space"] * 8)
    terminal.wait_for(shows_step(8), "step 8")
    terminal.keys("Right", "Down")

    def as_in_readme(screen: str) -> bool:
        return [line.rstrip() for line in screen.rstrip("\n").split("\n")] == expected

    try:
        terminal.wait_for(as_in_readme, "the README's capture")
    except AssertionError:
        import difflib

        shown = [line.rstrip() for line in terminal.screen().rstrip("\n").split("\n")]
        raise AssertionError(
            "README.md's capture is out of date:\n"
            + "\n".join(difflib.unified_diff(expected, shown, "README.md", "the app", lineterm=""))
        ) from None


def test_the_focused_pane_has_a_bar_that_tab_moves(terminal: Terminal, tmp_path: Path) -> None:
    """Issue 14: a focused grid showed only as a background shade (233 -> 234), lost on a projector and without
    colour. The focused panel gets a half-block bar down its left edge, a glyph that reads in any theme."""
    terminal.start(f"{sys.executable} -m tutor sandbox", env=environment(tmp_path, NO_COLOR="1"))

    def bar_beside(title: str) -> Callable[[str], bool]:
        def found(screen: str) -> bool:
            lines = screen.split("\n")
            row = next((n for n, line in enumerate(lines) if title in line), None)
            # the title's row and every row of the panel below it start with the bar; no other row does
            return row is not None and lines[row].startswith("▌") and sum(line.startswith("▌") for line in lines) > 5

        return found

    screen = terminal.wait_for(bar_beside("mean square v"), "the bar beside the focused grids")
    assert not any(line.startswith("▌") and "loss (log scale)" in line for line in screen.split("\n"))
    terminal.keys("Tab")
    screen = terminal.wait_for(bar_beside("loss (log scale)"), "the bar beside the chart after tab")
    assert not any(line.startswith("▌ mean square v") for line in screen.split("\n"))
    terminal.keys("q")


@pytest.mark.parametrize(("width", "height"), [(120, 40), (80, 24)])
def test_the_compare_edit_dialog_names_the_runs_whole_as_the_screen_does(
    terminal: Terminal, tmp_path: Path, width: int, height: int
) -> None:
    """Issue 14: the dialog's title was cut mid-word (`rmsprop-mome…`); the run has one spelling on the screen."""
    terminal.start(f"{sys.executable} -m tutor sandbox --compare", width=width, height=height, env=environment(tmp_path))
    terminal.wait_for(shows_step(0), "compare mode at step 0")
    terminal.keys("e")
    screen = terminal.wait_for(lambda screen: "Hyperparameters from update 0 on" in screen, "the edit dialog")
    screen = terminal.wait_for(lambda screen: "rmsprop-momentum" in screen and "enter: apply" in screen, "the runs named")
    assert "…" not in screen and "rmsprop+momentum" not in screen
    lines = screen.split("\n")
    row = next(n for n, line in enumerate(lines) if "Hyperparameters" in line)
    column = lines[row].index("Hyperparameters")
    title = " ".join(line[column:].split("█")[0].strip() for line in lines[row : row + 2])  # up to the dialog's edge
    assert "for every run: gradient descent, rmsprop and rmsprop-momentum" in title  # wrapped, never cut
    terminal.keys("q")

"""Every bad input answered, every hostile terminal survived: the rows of docs/robustness.md.

Command-line cases run `python -m tutor` as a subprocess (what a user types, stderr and exit
status included); terminal cases drive the real app in tmux (benchmarks/tmux.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.tmux import Tmux, TmuxError

ROOT = Path(__file__).resolve().parent.parent
TUTOR = [sys.executable, "-m", "tutor"]


@pytest.fixture
def quiet_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose progress, crash log and data live in tmp_path, never the user's."""
    env = {**os.environ, "TUTOR_PROGRESS": str(tmp_path / "progress.json")}
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env[name] = str(tmp_path / name.lower())
    return env


def tutor(*args: str, env: dict[str, str] | None = None, encoding: str = "utf-8") -> subprocess.CompletedProcess:
    """Run `tutor args` with stdin from /dev/null and stdout, stderr pipes."""
    return subprocess.run(
        [*TUTOR, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, encoding=encoding, timeout=60
    )


# --- bad values on the command line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["trace", "--lr", "abc"], "lr must be a number such as 0.001, not 'abc'"),
        (["trace", "--lr", "-1"], "lr must be > 0 and <= 1000, not -1"),
        (["trace", "--lr", "nan"], "lr cannot be NaN"),
        (["trace", "--lr", "inf"], "lr must be finite, not inf"),
        (["trace", "--lr", "1e9"], "lr must be > 0 and <= 1000, not 1e+09"),
        (["trace", "--lr", ""], "lr is empty"),
        (["trace", "--steps", "-5"], "--steps must be from 1 to 100000 (the most a run takes), not -5"),
        (["trace", "--steps", "100003"], "--steps must be from 1 to 100000 (the most a run takes), not 100003"),
        (["trace", "--steps", "many"], "argument --steps: invalid int value: 'many'"),
        (["trace", "--decay", "1"], "decay must be in [0, 1), not 1"),
        (["trace", "--eps", "0"], "eps must be > 0"),
        (["trace", "--mu", "-0.5"], "mu must be in [0, 1), not -0.5"),
        (["trace", "--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
        (["trace", "--problem", "deep-chain", "--depth", "0"], "depth must be a whole number from 1 to 200, not 0"),
        (["trace", "--depth", "5"], "--depth belongs to --problem deep-chain or digits, not matrix"),
        (["trace", "--problem", "digits", "--depth", "0"], "depth must be a whole number from 1 to 20 (hidden layers), not 0"),
        (["trace", "--problem", "digits", "--width", "100000"], "width must be a whole number from 1 to 256"),
        (["trace", "--problem", "digits", "--batch", "0"], "batch must be a whole number from 1 to 1437"),
        (["sandbox", "--problem", "digits", "--batch", "1438"], "batch must be a whole number from 1 to 1437"),
        (["trace", "--problem", "digits", "--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
        (["trace", "--problem", "digits", "--format", "csv"], "a network's parameters come by layer: use --format jsonl"),
        (["trace", "--batch", "8"], "--batch belongs to --problem digits, not matrix"),
        (["trace", "--start-point", "turned"], "--start-point belongs to --problem valley, not matrix"),
        (["sandbox", "--problem", "valley", "--start-point", "tilted"], "argument --start-point: invalid choice: 'tilted'"),
        (["sandbox", "--lr", "nan"], "lr cannot be NaN"),
        (["sandbox", "--lr", "-1"], "lr must be > 0 and <= 1000, not -1"),
        (["sandbox", "--decay", "1.5"], "decay must be in [0, 1), not 1.5"),
        (["sandbox", "--state", "0520-40RS-PRBU"], "a share code has only digits and letters (no I, L, O, U), not 'U'"),
        (["sandbox", "--state", "04C0-40RS-HGF1"], "this share code is damaged (checksum)"),
        (["sandbox", "--hide", "everything"], "--hide: unknown panel"),
    ],
)
def test_bad_values_on_the_command_line_are_refused_with_a_reason(args: list[str], reason: str) -> None:
    """Exit 2, the reason on stderr, nothing on stdout, no traceback (sandbox: before any screen opens)."""
    result = tutor(*args)
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def refuse(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON: overflowed values must be null")


def test_a_diverging_run_is_traced_as_nulls_not_a_crash() -> None:
    result = tutor("trace", "--optimizer", "gd", "--lr", "1", "--steps", "200")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line, parse_constant=refuse) for line in result.stdout.splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 201))
    assert rows[20]["loss"] > rows[0]["loss"] * 1e6  # it really diverges
    assert rows[-1]["loss"] is None
    assert rows[-1]["x"][0][0] is None
    assert "Traceback" not in result.stderr


def test_a_diverging_run_in_csv_has_empty_cells() -> None:
    result = tutor("trace", "--optimizer", "gd", "--lr", "1", "--steps", "200", "--format", "csv")
    assert result.returncode == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert table[-1]["loss"] == ""
    assert float(table[1]["loss"]) > 0


def test_trace_interrupted_by_ctrl_c_exits_130_without_a_traceback() -> None:
    process = subprocess.Popen(
        [*TUTOR, "trace", "--steps", "100000"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().startswith('{"step": 1,')
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in stderr


# --- an output that refuses what is written -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "redirect", "reason"),
    [
        (["trace", "--steps", "50"], ">/dev/full", "tutor: cannot write the output: No space left on device"),
        (["trace", "--steps", "2"], ">/dev/full", "tutor: cannot write the output: No space left on device"),  # all in the buffer
        (["trace", "--steps", "50", "--format", "csv"], ">/dev/full", "tutor: cannot write the output: No space left on device"),
        (["--run-all"], ">/dev/full", "tutor: cannot write the output: No space left on device"),
        (["check-lesson", "lessons/01-deep-chain.md"], ">/dev/full", "tutor: cannot write the output: No space left on device"),
        (["trace", "--steps", "50"], ">&-", "tutor: the output is closed (>&-): nothing can be written"),
        (["--run-all"], ">&-", "tutor: the output is closed (>&-): nothing can be written"),
        # the error line cannot be written either: exit 1 quietly
        (["trace", "--steps", "50"], ">/dev/full 2>/dev/full", ""),
        (["check-lesson", "lessons/01-deep-chain.md"], ">/dev/full 2>/dev/full", ""),
        (["trace", "--steps", "50"], ">&- 2>/dev/full", ""),
    ],
)
def test_a_full_or_closed_output_is_one_line_and_exit_1(args: list[str], redirect: str, reason: str, tmp_path: Path) -> None:
    env = {**os.environ, "TUTOR_LOG_DIR": str(tmp_path)}
    command = ["bash", "-c", f'exec "$@" {redirect}', "tutor", *TUTOR, *args]
    result = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (1, reason + "\n" if reason else "")
    assert not (tmp_path / "crash.log").exists()  # an expected failure, not the crash handler's


def test_a_fact_past_the_step_cap_is_refused_not_the_caps_number() -> None:
    from tutor.course.facts import final_loss

    with pytest.raises(ValueError, match=r"steps must be from 0 to 100000 \(the most a run takes\), not 150000"):
        final_loss(steps=150_000)


# --- the chart never hands plotext what breaks it ------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "clipped"),
    [
        ([5.0, 2.0, float("inf"), float("nan")], True),  # an overflowed loss: plotext's inf trap
        ([5.0, 50.0, 5e9, 5e300], True),  # diverging far past the start: drawn at the top edge
        ([5.0, 0.0, -1.0, 1e-3], False),  # zero and negative on a log axis: plotext's domain error
        ([5.0], False),  # step 0, a single point
        ([float("nan")] * 3, False),  # nothing drawable at all
    ],
    ids=["inf and nan", "overflowing", "zero and negative", "one point", "all nan"],
)
def test_the_loss_chart_draws_any_run(values: list[float], clipped: bool) -> None:
    from tutor.views.chart import Series, loss_chart

    text = loss_chart([Series("gd", values), Series("rmsprop", [5.0, 4.0, 3.0])], 60, 15, colour=False).plain
    assert ("clipped: the loss ran off the top" in text) is clipped
    assert len(text.splitlines()) == 15


@pytest.mark.parametrize("width", [40, 54, 60])
def test_a_clipped_charts_title_is_shown_at_any_width(width: int) -> None:
    """The chart one cell narrower for the focus bar (54 at 120 columns) lost its whole title to plotext."""
    from tutor.views.chart import Series, loss_chart

    first = loss_chart([Series("gd", [5.0, 50.0, 5e9])], width, 15, colour=False).plain.splitlines()[0]
    assert "loss (log scale)" in first and "clipped" in first


def test_the_layer_chart_draws_vanished_and_overflowed_gradients() -> None:
    from tutor.views.chart import log_bar_chart

    text = log_bar_chart(["1", "2", "3", "4"], [0.0, float("inf"), float("nan"), 1e-300], 40, 10, "|g|", colour=False).plain
    assert "|g|" in text
    assert log_bar_chart(["1"], [0.0], 40, 10, "all zero", colour=False).plain.count("█") == 0


# --- headless commands in hostile environments -------------------------------------------------------


@pytest.fixture(scope="module")
def reference_run_all() -> str:
    result = tutor("--run-all")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "changes",
    [
        {"NO_COLOR": "1"},
        {"TERM": "dumb"},
        {"LANG": "C", "LC_ALL": "C"},
        {"TERM": "", "COLUMNS": "", "LINES": ""},
    ],
    ids=["NO_COLOR", "TERM=dumb", "LC_ALL=C", "no TERM"],
)
def test_run_all_is_the_same_text_anywhere(changes: dict[str, str], reference_run_all: str, quiet_home: dict[str, str]) -> None:
    """stdin from /dev/null, stdout a pipe, and the environment changed: the same bytes, no escape codes."""
    env = {**quiet_home, **changes}
    for name, value in changes.items():
        if not value:
            env.pop(name, None)
    result = tutor("--run-all", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_run_all
    assert "\x1b[" not in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_run_all_on_a_narrow_encoding_replaces_what_it_cannot_show(
    encoding: str, reference_run_all: str, quiet_home: dict[str, str]
) -> None:
    result = tutor("--run-all", env={**quiet_home, "PYTHONIOENCODING": encoding}, encoding=encoding)
    assert result.returncode == 0, result.stderr
    assert "UnicodeEncodeError" not in result.stderr and "Traceback" not in result.stderr
    expected = reference_run_all.encode(encoding, errors="replace").decode(encoding)
    assert result.stdout == expected
    assert "Lesson 1" in result.stdout


@pytest.mark.parametrize("args", [[], ["sandbox"], ["sandbox", "--optimizer", "gd"]])
def test_the_app_without_a_terminal_says_why(args: list[str], quiet_home: dict[str, str]) -> None:
    result = tutor(*args, env=quiet_home)
    assert result.returncode == 2
    assert "tutor needs a terminal; try `tutor --run-all` or `tutor trace`" in result.stderr
    assert "Traceback" not in result.stderr


# --- the app in a real terminal (tmux) ---------------------------------------------------------------

terminal = pytest.mark.terminal


@pytest.fixture(scope="module")
def tmux():
    try:
        server = Tmux()
    except TmuxError as error:
        pytest.skip(str(error))
    yield server
    server.close()


LOADED = "enter opens it"


def app_command(env: dict[str, str], status: Path, *args: str) -> str:
    """The app in a pane; its exit status is written to `status` (tmux's own pane_dead_status is
    not reliable here: tmux 3.3a now and then leaves an exited app unreaped)."""
    exports = " ".join(f"{name}={env[name]}" for name in ("TUTOR_PROGRESS", "XDG_DATA_HOME", "XDG_STATE_HOME"))
    return f"cd {ROOT} && {exports} {sys.executable} -m tutor {' '.join(args)}; echo $? > {status}"


def screen(tmux: Tmux, name: str, wanted: str, settle: float = 0.2) -> str:
    """The screen once `wanted` is on it and it has stood still for `settle` s (0: at once, for a running app)."""
    return tmux.wait_for(name, lambda text: wanted in text, time.perf_counter(), timeout=30, settle=settle).text


def exit_status(tmux: Tmux, name: str, status: Path, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while not status.exists() or not status.read_text().strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app did not exit; it shows:\n{tmux.capture(name).text}")
        time.sleep(0.05)
    return int(status.read_text())


@contextmanager
def running(tmux: Tmux, name: str, command: str, width: int = 120, height: int = 40) -> Iterator[None]:
    """The command in its own tmux session, killed afterwards whatever happened."""
    tmux.start(name, command, width, height)
    try:
        yield
    finally:
        tmux.kill(name)


def quit_cleanly(tmux: Tmux, name: str, status: Path) -> None:
    tmux.keys(name, "q")
    assert exit_status(tmux, name, status) == 0
    assert "Traceback" not in tmux.capture(name).text


def step_of(text: str) -> int | None:
    found = re.search(r"\bupdate (\d+)\b", text)
    return int(found.group(1)) if found else None


def advancing(tmux: Tmux, name: str, beyond: int) -> int:
    """Wait until the update counter passes `beyond` (the run goes on); returns the step seen."""
    frame = tmux.wait_for(name, lambda text: (step_of(text) or -1) > beyond, time.perf_counter(), timeout=30, settle=0)
    return step_of(frame.text) or 0


@terminal
def test_resizing_mid_run_keeps_running(tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path) -> None:
    """Run mode through 120x40 -> 80x24 -> 40x10 (too small) -> 100x30: the run goes on, nothing breaks."""
    name = "resize"
    with running(tmux, name, app_command(quiet_home, tmp_path / "status", "sandbox")):
        screen(tmux, name, "update 0")
        tmux.keys(name, "r")
        seen = advancing(tmux, name, 2)
        tmux.resize(name, 80, 24)
        seen = advancing(tmux, name, seen)
        tmux.resize(name, 40, 10)
        assert "(now 40x10)" in screen(tmux, name, "Enlarge the terminal")
        tmux.resize(name, 100, 30)
        seen = advancing(tmux, name, seen)
        advancing(tmux, name, seen)  # still running after the last resize
        quit_cleanly(tmux, name, tmp_path / "status")


@terminal
@pytest.mark.parametrize(
    ("keys", "shown"),
    [
        (["r"], "running"),  # run mode
        (["e"], "Hyperparameters from update 2 on"),  # the edit dialog, an input focused
        (["?"], "Keys and panels"),  # help
        (["s"], "tutor sandbox --state"),  # the share code dialog
        (["C-p"], "Search for commands"),  # the command palette
    ],
    ids=["running", "edit dialog", "help", "share code", "palette"],
)
def test_ctrl_c_anywhere_exits_cleanly(
    tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path, keys: list[str], shown: str
) -> None:
    name = f"ctrl-c-{len(shown)}"
    with running(tmux, name, app_command(quiet_home, tmp_path / "status", "sandbox")):
        screen(tmux, name, "update 0")
        tmux.keys(name, "Space", "Space")
        screen(tmux, name, "update 2 ")
        tmux.keys(name, *keys)
        screen(tmux, name, shown, settle=0)  # run mode never stands still
        tmux.keys(name, "C-c")
        assert exit_status(tmux, name, tmp_path / "status") in (0, 130)
        assert "Traceback" not in tmux.capture(name).text


@terminal
def test_ctrl_c_while_steps_are_computed_exits_at_once(tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path) -> None:
    """A share code at step 100000 opens the app, which computes behind a progress bar: Ctrl-C then
    ends the app at once, not after the computing thread's remaining seconds."""
    from tutor.share import encode

    code = encode({"problem": {"kind": "matrix"}, "optimizers": ["gd", "rmsprop", "rmsprop-momentum"], "hp": {}, "step": 100_000})
    name = "ctrl-c-computing"
    with running(tmux, name, app_command(quiet_home, tmp_path / "status", "sandbox", "--state", code)):
        screen(tmux, name, "Computing up to update 100000", settle=0)
        pressed = time.monotonic()
        tmux.keys(name, "C-c")
        assert exit_status(tmux, name, tmp_path / "status") in (0, 130)
        assert time.monotonic() - pressed < 2  # computing all of it would take about ten seconds here
        assert "Traceback" not in tmux.capture(name).text


@terminal
@pytest.mark.parametrize(
    "locale",
    [{"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C"}],
    ids=["ASCII stdout", "C locale"],
)
def test_the_app_runs_in_a_non_utf8_terminal(
    tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path, locale: dict[str, str]
) -> None:
    exports = " ".join(f"{key}={value}" for key, value in locale.items())
    name = f"locale-{len(locale)}"
    with running(tmux, name, f"export {exports}; " + app_command(quiet_home, tmp_path / "status", "sandbox")):
        screen(tmux, name, "update 0")
        tmux.keys(name, "Space")
        screen(tmux, name, "update 1 ")
        quit_cleanly(tmux, name, tmp_path / "status")


@terminal
def test_a_corrupt_progress_file_is_reported_moved_aside_and_the_app_starts(
    tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path
) -> None:
    path = Path(quiet_home["TUTOR_PROGRESS"])
    path.write_text('{"checks": {"lesson": [1, 2')
    name = "corrupt"
    with running(tmux, name, app_command(quiet_home, tmp_path / "status")):
        text = screen(tmux, name, "damaged")
        assert "Lessons" in text
        assert path.with_name("progress.json.corrupt-1").read_text() == '{"checks": {"lesson": [1, 2'
        quit_cleanly(tmux, name, tmp_path / "status")


@terminal
def test_an_unwritable_progress_file_is_reported_and_the_app_runs(tmux: Tmux, quiet_home: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the progress directory should be")
    env = {**quiet_home, "TUTOR_PROGRESS": str(blocker / "progress.json")}  # even root cannot write there
    name = "unwritable"
    with running(tmux, name, app_command(env, tmp_path / "status")):
        text = screen(tmux, name, "progress")
        assert "Lessons" in text
        assert re.search(r"Could not read your progress|Could not save your progress", text.replace("\n", " "))
        quit_cleanly(tmux, name, tmp_path / "status")


# --- the table in docs/robustness.md ---------------------------------------------------------------------


def test_every_test_the_robustness_table_names_exists() -> None:
    """docs/robustness.md names a test on every row; a renamed or deleted test must not leave a stale row."""
    table = (ROOT / "docs" / "robustness.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| case")]
    assert len(rows) > 30
    for row in rows:
        references = re.findall(r"`(tests/[\w/]+\.py)?::(\w+)`", row)
        assert references, f"a row without a test: {row}"
        path = None
        for file, name in references:
            path = file or path
            assert path is not None
            source = (ROOT / path).read_text()
            assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{path}::{name} does not exist"

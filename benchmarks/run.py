"""tutor's speed, measured in a real terminal against a bare Textual app, in one run.

    .venv/bin/python benchmarks/run.py    # prints the table, writes benchmarks/RESULTS.md and README.md's table
    .venv/bin/python benchmarks/run.py --only surface    # one case's rows, printed only (nothing written)
    .venv/bin/python benchmarks/run.py --only launch     # the launch rows only, printed only
    .venv/bin/python benchmarks/run.py --only keys       # `space` in the sandbox against the bare app, printed only
    .venv/bin/python benchmarks/run.py --only network    # the network view's key and run-mode rows, printed only

tutor's bytecode is compiled first (compileall), as `pip install` does for an installed package: where
PYTHONDONTWRITEBYTECODE is set (this machine sets it) an editable install would otherwise compile ~30
modules from source on every launch (~80 ms), a cost no installed copy pays.

Drives the real app in tmux at 120x40 (send-keys, poll the screen through a tmux control client):
  launch   start -> the first paint (the app's content on screen: "update 0", the lesson list's title) and
           start -> the whole first frame (complete: the lesson list filled; then unchanged for 0.5 s),
           `tutor sandbox` and `tutor` (the lesson list) against benchmarks/bare_app.py, launches interleaved
  lessons  every lesson (or --lessons ID,ID) to its text with its numbers and the step counter on screen:
           `tutor --lesson ID` from its start, and enter on it in the lesson list (`tutor`, filled and still)
           from the key; each warm (numbers kept by earlier runs) and cold (a fresh TUTOR_CACHE, as just
           after installing); against `tutor sandbox`'s first paint, launched beside them (one launch
           before each lesson's four cases, --lesson-rounds rounds; medians). The main table has the
           slowest lesson of each case, the table after the engine's every lesson
           (`--only lessons`: these alone, printed)
  key      `space` in `tutor sandbox` -> the whole new frame: the status shows "update N", the loss chart's
           braille changed, and the screen then stays unchanged for 0.1 s; median and p95 over the presses
  surface  `space` in `tutor sandbox --problem valley --angle 45 --compare` (the 2-D surface view) -> the whole
           new frame: "update N", the three paths' markers changed, then still for 0.1 s; median and p95
  network  `space` in `tutor sandbox --problem digits` (the network view: layer bars, heat map, test digits) ->
           the whole new frame: "update N", the loss chart's braille changed, then still for 0.1 s; median and p95;
           and run mode there at 30 updates/s (updates shown and frames per second over 5 s)
  run mode `r` at 30 and at 300 steps/s, the step counter read over 5 s; and how long `r` takes to pause
  run-all  `tutor --run-all` wall time (all lessons, output thrown away)
  engine   steps/s of each optimizer on the seed's matrix problem, no screen
  digits   the digits network (default: 6 sigmoid layers of 32, batch 32), no screen: one update (median of 300),
           the resident memory of a process after 10,000 rmsprop-momentum updates, and `b` from step 10,000
           (the step-9,999 record's time to hand back) and to step 9,000 (a stretch recomputed from its checkpoint)

    .venv/bin/python benchmarks/run.py --only digits     # its rows, printed only
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from tmux import Frame, Tmux, TmuxError  # noqa: E402

from tutor.views.surface import HEAD_MARKERS, TRAIL_MARKERS  # noqa: E402

WIDTH, HEIGHT = 120, 40
BRAILLE = re.compile("[\u2801-\u28ff]")
TARGETS = {
    "launch_ratio": 1.2,
    "lesson_ratio": 1.5,  # issue 14: a lesson paints its text with its numbers within 1.5x of the sandbox's first paint
    "key_median_ms": 20.0,
    "key_p95_ms": 40.0,
    "surface_key_median_ms": 35.0,  # issue 7: stepping the 2-D surface view
    # issue 12: stepping the network view within the matrix view's figures (key_median_ms, key_p95_ms), run mode >= 30
    "run_steps_per_s": 30.0,
    "run_all_s": 5.0,
    "digits_update_ms": 1.0,  # issue 12: one update of the default network at batch 32
    "digits_memory_mb": 300.0,  # 10,000 steps kept
}


def tutor_command() -> list[str]:
    script = Path(sys.executable).parent / "tutor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tutor"]


def shell(args: list[str], data_dir: str) -> str:
    """The pane's command: progress goes to a scratch data directory, never the user's."""
    quoted = " ".join(f'"{a}"' for a in args)
    return f"cd {ROOT} && XDG_DATA_HOME={data_dir} exec {quoted}"


def step_shown(text: str, step: int) -> bool:
    return re.search(rf"\bupdate {step}\b", text) is not None


def steps_on_screen(text: str) -> int | None:
    found = re.search(r"\bupdate (\d+)\b", text)
    return int(found.group(1)) if found else None


def chart_of(text: str) -> str:
    """The loss chart's pixels: every braille character on the screen, in order."""
    return "".join(BRAILLE.findall(text))


PATH_MARKERS = frozenset(TRAIL_MARKERS + HEAD_MARKERS)


def paths_of(text: str) -> tuple[tuple[int, int, str], ...]:
    """The surface view's paths: where each trail and head marker is on the screen (the contours are '·')."""
    return tuple(
        (row, column, char)
        for row, line in enumerate(text.splitlines())
        for column, char in enumerate(line)
        if char in PATH_MARKERS
    )


def still_since(frames: list[Frame]) -> Frame:
    """The first of the trailing frames that all show the last screen: when the screen last changed."""
    first = frames[-1]
    for frame in reversed(frames):
        if frame.text != first.text:
            break
        first = frame
    return first


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


@dataclass
class Results:
    first_paint: dict[str, list[float]] = field(default_factory=dict)
    launch: dict[str, list[float]] = field(default_factory=dict)  # to the whole first frame
    keys: dict[str, list[float]] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # presses whose picture looked the same, per app
    run_rates: dict[int, tuple[float, float]] = field(default_factory=dict)  # speed -> (steps/s, updates/s)
    network_run_rates: dict[int, tuple[float, float]] = field(default_factory=dict)  # the same, in the network view
    pause_ms: list[float] = field(default_factory=list)
    run_all: list[float] = field(default_factory=list)
    run_all_error: str | None = None
    engine: dict[str, float] = field(default_factory=dict)
    digits: dict[str, float] = field(default_factory=dict)
    lessons: dict[tuple[str, str, bool], list[float]] = field(default_factory=dict)  # (id, route, cold) -> seconds
    lesson_sandbox: list[float] = field(default_factory=list)  # `tutor sandbox`'s first paints beside the lessons
    errors: list[str] = field(default_factory=list)


Ready = Callable[[str], bool]


def measure_launches(tmux: Tmux, apps: dict[str, tuple[str, Ready, Ready]], rounds: int, results: Results) -> None:
    """Launch each app `rounds` times, interleaved so a busy moment hits them alike.

    Each app comes with two tests of its screen: its content is painted (the first paint), and
    it is complete (then it must stand still for 0.5 s: the whole first frame)."""
    for round_ in range(rounds):
        for label, (command, painted, complete) in apps.items():
            name = f"launch-{label.replace(' ', '-')}-{round_}"
            try:
                started = tmux.start(name, command, WIDTH, HEIGHT)
                first = tmux.first(name, painted, started, timeout=30)
                frame = tmux.wait_for(name, complete, started, timeout=30, settle=0.5)
                results.first_paint.setdefault(label, []).append(first.at - started)
                results.launch.setdefault(label, []).append(frame.at - started)
            except TmuxError as error:
                results.errors.append(f"launch {label}: {error}")
            finally:
                tmux.kill(name)


Picture = Callable[[str], object]


def measure_keys(tmux: Tmux, label: str, command: str, presses: int, results: Results, picture: Picture | None = None) -> None:
    """Time `space` to the whole new frame: "update N" shown and, given a `picture` of the screen (the
    loss chart's braille, the surface's paths), that picture changed; then the screen still for 0.1 s."""
    name = f"keys-{label.replace(' ', '-')}"
    try:
        started = tmux.start(name, command, WIDTH, HEIGHT)
        frame = tmux.wait_for(name, lambda text: step_shown(text, 0), started, timeout=30, settle=0.5)
        latencies: list[float] = []
        for step in range(1, presses + 1):
            before = picture(frame.text) if picture else None
            sent = tmux.keys(name, "Space")
            if picture:
                seen: list[Frame] = []
                try:
                    frame = tmux.wait_for(
                        name,
                        lambda text, s=step, b=before: step_shown(text, s) and picture(text) != b,
                        sent,
                        timeout=2,
                        seen=seen,
                    )
                except TmuxError:  # the picture looked the same after this step: time the rest of the frame
                    results.unchanged[label] = results.unchanged.get(label, 0) + 1
                    frame = still_since(seen)
                    if not step_shown(frame.text, step):  # not even the step yet: wait for it
                        frame = tmux.wait_for(name, lambda text, s=step: step_shown(text, s), sent, timeout=10)
            else:
                frame = tmux.wait_for(name, lambda text, s=step: step_shown(text, s), sent, timeout=10)
            latencies.append((frame.at - sent) * 1000)
        results.keys[label] = latencies
    except TmuxError as error:
        results.errors.append(f"keys {label}: {error}")
    finally:
        tmux.kill(name)


def set_speed(tmux: Tmux, name: str, wanted: int) -> int:
    """Press + or - (while running) until the controls show `wanted` updates/s, or the nearest the app offers."""
    for _ in range(12):
        found = re.search(r"(\d+) updates/s", tmux.capture(name).text)
        if found is None:
            raise TmuxError("no speed on the screen")
        speed = int(found.group(1))
        if speed == wanted:
            return speed
        key = "+" if speed < wanted else "-"
        sent = tmux.keys(name, key)
        # The new speed's first frame: running, the screen changes with every update, so it never stands still.
        tmux.first(name, lambda text, s=speed: re.search(rf"\b{s} updates/s", text) is None, sent, timeout=5)
        if (key == "+") != (int(re.search(r"(\d+) updates/s", tmux.capture(name).text).group(1)) < wanted):
            break
    return int(re.search(r"(\d+) updates/s", tmux.capture(name).text).group(1))


def run_for(tmux: Tmux, name: str, seconds: float) -> tuple[float, float]:
    """Steps shown per second and screen updates per second while running, polled every ~5 ms.

    Both are taken between the first and the last change of the counter seen, so where the
    window starts and ends within a frame does not count as steps lost or gained.
    """
    time.sleep(0.5)  # past the start
    started = time.perf_counter()
    changes: list[tuple[float, int]] = []  # (when seen, step shown)
    shown = steps_on_screen(tmux.capture(name).text)
    while time.perf_counter() - started < seconds:
        time.sleep(0.005)
        frame = tmux.capture(name)
        step = steps_on_screen(frame.text)
        if step is None:
            raise TmuxError(f"no step counter on the screen:\n{frame.text}")
        if step != shown:
            changes.append((frame.at, step))
            shown = step
    if len(changes) < 2:
        raise TmuxError("the step counter did not move in run mode")
    (first_at, first_step), (last_at, last_step) = changes[0], changes[-1]
    elapsed = last_at - first_at
    return (last_step - first_step) / elapsed, (len(changes) - 1) / elapsed


def measure_run_mode(tmux: Tmux, command: str, results: Results, view: str = "") -> None:
    """Run mode at 30 steps/s (every step drawn) and at the top speed (several steps a frame); in the network
    `view`, at 30 steps/s only (into results.network_run_rates)."""
    name = f"run-mode{'-' if view else ''}{view}"
    rates, speeds = (results.network_run_rates, (30,)) if view == "network" else (results.run_rates, (30, 300))
    try:
        started = tmux.start(name, command, WIDTH, HEIGHT)
        tmux.wait_for(name, lambda text: step_shown(text, 0), started, timeout=30, settle=0.5)
        for wanted in speeds:
            tmux.keys(name, "r")
            speed = set_speed(tmux, name, wanted)  # + and - work while running
            rates[speed] = run_for(tmux, name, 5.0)
            sent = tmux.keys(name, "r")
            # Paused once the counter stops: the first frame of the value it then keeps for 0.3 s.
            stopped = tmux.wait_for(name, lambda text: steps_on_screen(text) is not None, sent, timeout=10, settle=0.3)
            if not view:
                results.pause_ms.append((stopped.at - sent) * 1000)
    except TmuxError as error:
        results.errors.append(f"run mode{' in the ' + view + ' view' if view else ''}: {error}")
    finally:
        tmux.kill(name)


def measure_run_all(rounds: int, data_dir: str, results: Results) -> None:
    env = {**os.environ, "XDG_DATA_HOME": data_dir}
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(
            [*tutor_command(), "--run-all"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            results.run_all_error = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}"
            return
        results.run_all.append(elapsed)


def measure_engine(steps: int, results: Results) -> None:
    from tutor.engine import OPTIMIZERS, Hyperparameters, MatrixInverse, Run

    for key in OPTIMIZERS:
        run = Run.create(MatrixInverse(), key, Hyperparameters())
        started = time.perf_counter()
        run.forward(steps)
        results.engine[key] = steps / (time.perf_counter() - started)


DIGITS_MEMORY = """
import json, resource, time
from tutor.engine import Run, make_problem
run = Run.create(make_problem({"kind": "digits"}), "rmsprop-momentum")
run.goto(10_000)
try:  # this process's own peak: ru_maxrss of a child starts at its parent's size (fork), here the benchmark's
    rss_mb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter(); run.back(); back_ms = (time.perf_counter() - started) * 1e3
started = time.perf_counter()
run.goto(9_000)  # a stretch the tail does not hold: recomputed from the checkpoint at 8,960 (63 updates)
far_ms = (time.perf_counter() - started) * 1e3
print(json.dumps({"rss_mb": rss_mb, "back_ms": back_ms, "far_back_ms": far_ms, "kept_whole": run.records.kept_whole()}))
"""


DIGITS_UPDATE = """
import statistics, time
from tutor.engine import Run, make_problem
run = Run.create(make_problem({"kind": "digits"}), "rmsprop")
record = run.goto(10)
times = []
for _ in range(300):
    started = time.perf_counter()
    record = run.next_record(record)
    times.append(time.perf_counter() - started)
print(statistics.median(times) * 1e3)
"""


def measure_digits(results: Results) -> None:
    """One update of the default digits network, then the memory of 10,000 steps and `b` (each in a fresh process)."""
    import json

    # In a fresh process, as the engine runs in the app: not in this one, whose heap holds ~8 minutes of driving tmux.
    done = subprocess.run([sys.executable, "-c", DIGITS_UPDATE], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        results.errors.append(f"digits update: {done.stderr.strip().splitlines()[-1:]}")
        return
    results.digits["update_ms"] = float(done.stdout)
    done = subprocess.run([sys.executable, "-c", DIGITS_MEMORY], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        results.errors.append(f"digits memory: {done.stderr.strip().splitlines()[-1:]}")
        return
    results.digits.update(json.loads(done.stdout))


def digits_rows(results: Results) -> list[str]:
    d = results.digits
    if not d:
        return []
    rows = [
        "",
        "The digits network (6 sigmoid layers of 32, batch 32; engine, no screen):",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| one rmsprop update (median of 300) | {d['update_ms']:.2f} ms | <= {TARGETS['digits_update_ms']:g} ms"
        f" | {_met(d['update_ms'], TARGETS['digits_update_ms'], True, digits=2)} |",
    ]
    if "rss_mb" in d:
        rows += [
            f"| resident memory after 10,000 rmsprop-momentum updates (peak) | {d['rss_mb']:.0f} MB ({d['kept_whole']:.0f} records whole)"
            f" | <= {TARGETS['digits_memory_mb']:g} MB | {_met(d['rss_mb'], TARGETS['digits_memory_mb'], True, digits=0)} |",
            f"| `b` from step 10,000 (the record of 9,999) | {d['back_ms']:.3f} ms | | |",
            f"| back to step 9,000, not kept (its stretch of 63 updates recomputed from a checkpoint) | {d['far_back_ms']:.0f} ms | | |",
        ]
    return rows


# --- the report ---------------------------------------------------------------------------------


def _met(value: float | None, target: float, at_most: bool, digits: int = 1) -> str:
    """Judged on the value as the table shows it (rounded to `digits`)."""
    if value is None:
        return "not measured"
    value = round(value, digits)
    return "yes" if (value <= target if at_most else value >= target) else "**no**"


SURFACE = "tutor sandbox --problem valley --angle 45 --compare"


def key_rows(results: Results, label: str, measure: str, median_target: str | None, p95_target: str | None) -> list[str]:
    """The median and p95 rows of key to whole frame in `label`, beside the bare app's, each against its target if any."""
    keys, bare = results.keys.get(label), results.keys.get("bare")
    rows = []
    for what, stat, target in (("median", statistics.median, median_target), ("p95", p95, p95_target)):
        mine = stat(keys) if keys else None
        base = stat(bare) if bare else None
        rows.append(
            f"| {measure}, {what} | {f'{mine:.1f} ms' if mine is not None else 'failed'}"
            f" | {f'{base:.1f} ms' if base is not None else 'failed'} | {f'{mine / base:.1f}x' if mine and base else ''}"
            f" | {f'<= {TARGETS[target]:g} ms' if target else ''} | {_met(mine, TARGETS[target], True) if target else ''} |"
        )
    return rows


def surface_rows(results: Results) -> list[str]:
    """Key to whole frame in the 2-D surface view (three paths over the contours): issue 7 sets only a median."""
    return key_rows(
        results, SURFACE, f"key (space) to whole frame in the surface view (`{SURFACE}`)", "surface_key_median_ms", None
    )


NETWORK = "tutor sandbox --problem digits"


def run_mode_row(measure: str, rates: dict[int, tuple[float, float]]) -> str:
    """Steps shown per second at 30 steps/s (and the screen's updates per second), against the target."""
    rate, updates = rates.get(30, (None, None))
    # Whole steps/s: the counter, read by polling over 5 s, is good to about a step (0.2 steps/s).
    return (
        f"| {measure} | {f'{rate:.0f} ({updates:.0f} frames/s)' if rate is not None else 'failed'}"
        f" | | | >= {TARGETS['run_steps_per_s']:g} | {_met(rate, TARGETS['run_steps_per_s'], False, digits=0)} |"
    )


def network_rows(results: Results) -> list[str]:
    """The network view (issue 12): key to whole frame within the matrix view's targets, and run mode at 30 steps/s."""
    rows = key_rows(
        results, NETWORK, f"key (space) to whole frame in the network view (`{NETWORK}`)", "key_median_ms", "key_p95_ms"
    )
    return [
        *rows,
        run_mode_row("run mode at 30 updates/s in the network view: updates shown per second", results.network_run_rates),
    ]


def _quartiles(times: list[float]) -> str:
    """The middle half of the launches: one launch to the next varies by a third on this machine."""
    if len(times) < 4:
        return "few launches"
    low, _, high = statistics.quantiles(times, n=4, method="inclusive")
    return f"{low:.2f}-{high:.2f}"


def launch_rows(results: Results) -> list[str]:
    """The launch rows: each app's median against the bare app's, to the first paint and to the whole first frame."""
    lines = []
    for what, measured, target in (
        ("first paint (its content on screen)", results.first_paint, f"<= {TARGETS['launch_ratio']}x bare"),
        ("the whole first frame (complete, then still for 0.5 s)", results.launch, ""),
    ):
        bare = statistics.median(measured["bare"]) if measured.get("bare") else None
        for label in ("tutor sandbox", "tutor"):
            times = measured.get(label)
            if not times or bare is None:
                lines.append(f"| launch to {what}, `{label}` | failed | | | {target} | {'not measured' if target else ''} |")
                continue
            ratio = statistics.median(times) / bare
            met = _met(ratio, TARGETS["launch_ratio"], True, digits=2) if target else ""
            lines.append(
                f"| launch to {what}, `{label}` | {statistics.median(times):.2f} s ({_quartiles(times)})"
                f" | {bare:.2f} s ({_quartiles(measured['bare'])}) | {ratio:.2f}x | {target} | {met} |"
            )
    return lines


# --- lessons: every one opened from the command line and from the lesson list, cold and warm ------

ROUTES = ("command line", "list")
LESSON_CASES = tuple((route, cold) for route in ROUTES for cold in (False, True))


def lesson_headings() -> dict[str, str]:
    """Every shipped lesson's id (in the course's order) -> the start of its text's first line: the text is
    shown only with its numbers in, so that line on screen means the text with its numbers is painted."""
    from tutor.course import fill, load_course

    course = load_course(ROOT / "lessons")
    return {lesson.id: fill(lesson).text.split("\n", 1)[0].lstrip("# ")[:30] for lesson in course.lessons}


def lesson_painted(heading: str) -> Ready:
    """The lesson's text (its first line) with the visualizer's step counter, and no longer the lesson list."""
    return lambda text: heading in text and step_shown(text, 0) and "Lessons —" not in text


def case_label(route: str, cold: bool) -> str:
    return f"{'`tutor --lesson ID`' if route == 'command line' else 'enter in the list'}, {'cold' if cold else 'warm'}"


def case_measure(route: str, cold: bool) -> str:
    """A main-table row's measure: what is timed from what, in which case."""
    if route == "command line":
        return f"launch to a lesson's text with its numbers, `tutor --lesson ID`, {'cold' if cold else 'warm'}"
    return f"enter in the lesson list to a lesson's text with its numbers, {'cold' if cold else 'warm'}"


def lesson_command(lesson_id: str | None, cold: bool, data_dir: str) -> str:
    """`tutor --lesson ID` (None: `tutor`, the list) with its numbers kept from earlier launches (warm) or none
    kept (cold: a fresh TUTOR_CACHE, as just after installing). The list opens on fresh progress, so its
    first lesson is highlighted."""
    args = [*tutor_command(), *(["--lesson", lesson_id] if lesson_id else [])]
    cache = f'"$(mktemp -d -p {data_dir})"' if cold else f"{data_dir}/cache"
    progress = f' XDG_DATA_HOME="$(mktemp -d -p {data_dir})"' if lesson_id is None else ""
    return shell(args, data_dir).replace(" exec ", f" TUTOR_CACHE={cache}{progress} exec ", 1)


def open_from_list(tmux: Tmux, name: str, command: str, index: int, painted: Ready) -> float:
    """Start the lesson list, wait until it is filled and still, move down to lesson `index`, press enter:
    the time from enter to the lesson painted."""
    started = tmux.start(name, command, WIDTH, HEIGHT)
    tmux.wait_for(name, lambda text: "enter opens it" in text, started, timeout=30, settle=0.3)
    if index:
        tmux.keys(name, *["Down"] * index)
        time.sleep(0.3)  # the highlight is only a colour: nothing in the screen's text to wait for
    sent = tmux.keys(name, "Enter")
    return tmux.first(name, painted, sent, timeout=30).at - sent


def measure_lessons(
    tmux: Tmux, headings: dict[str, str], wanted: list[str], rounds: int, data_dir: str, results: Results
) -> None:
    """Each lesson in `wanted` (of `headings`, lesson_headings()), each case (command line or list, warm or cold)
    `rounds` times, interleaved with `tutor sandbox` launches (one before each lesson's cases), so a busy
    moment hits them alike."""
    order = list(headings)
    sandbox = shell([*tutor_command(), "sandbox"], data_dir)
    for round_ in range(rounds):
        for lesson_id in wanted:
            name = f"lessons-sandbox-{round_}-{lesson_id}"
            try:
                started = tmux.start(name, sandbox, WIDTH, HEIGHT)
                results.lesson_sandbox.append(
                    tmux.first(name, lambda text: step_shown(text, 0), started, timeout=30).at - started
                )
            except TmuxError as error:
                results.errors.append(f"lessons: sandbox: {error}")
            finally:
                tmux.kill(name)
            painted = lesson_painted(headings[lesson_id])
            for route, cold in LESSON_CASES:
                name = f"lesson-{lesson_id}-{round_}-{route.replace(' ', '-')}-{int(cold)}"
                try:
                    if route == "command line":
                        started = tmux.start(name, lesson_command(lesson_id, cold, data_dir), WIDTH, HEIGHT)
                        took = tmux.first(name, painted, started, timeout=30).at - started
                    else:
                        took = open_from_list(tmux, name, lesson_command(None, cold, data_dir), order.index(lesson_id), painted)
                    results.lessons.setdefault((lesson_id, route, cold), []).append(took)
                except TmuxError as error:
                    results.errors.append(f"lesson {lesson_id} ({case_label(route, cold)}): {error}")
                finally:
                    tmux.kill(name)


def _lesson_ratio(results: Results, times: list[float] | None) -> float | None:
    sandbox = results.lesson_sandbox
    return statistics.median(times) / statistics.median(sandbox) if times and sandbox else None


def lesson_rows(results: Results) -> list[str]:
    """For each case (command line or list, warm or cold) the slowest lesson's median against the sandbox's
    first paint, measured beside them; every lesson's are in lesson_table."""
    sandbox = results.lesson_sandbox
    target = f"<= {TARGETS['lesson_ratio']}x sandbox"
    lines = []
    for route, cold in LESSON_CASES:
        measured = {key[0]: times for key, times in results.lessons.items() if key[1:] == (route, cold) and times}
        if not measured or not sandbox:
            lines.append(f"| {case_measure(route, cold)} | failed | | | {target} | not measured |")
            continue
        slowest = max(measured, key=lambda lesson_id: statistics.median(measured[lesson_id]))
        times = measured[slowest]
        ratio = _lesson_ratio(results, times)
        assert ratio is not None
        lines.append(
            f"| {case_measure(route, cold)} (slowest of {len(measured)}: {slowest})"
            f" | {statistics.median(times):.2f} s ({_quartiles(times)}) | sandbox {statistics.median(sandbox):.2f} s"
            f" ({_quartiles(sandbox)}) | {ratio:.2f}x | {target} | {_met(ratio, TARGETS['lesson_ratio'], True, digits=2)} |"
        )
    return lines


def lesson_table(results: Results) -> list[str]:
    """Every lesson measured: its median in each case and the ratio to the sandbox's first paint beside them."""
    if not results.lessons:
        return []
    ids = list(dict.fromkeys(key[0] for key in results.lessons))
    rounds = max(len(times) for times in results.lessons.values())
    lines = [
        "",
        f"Every lesson to its text with its numbers (median of {rounds}; ratio to `tutor sandbox`'s first paint,"
        f" {statistics.median(results.lesson_sandbox):.2f} s over {len(results.lesson_sandbox)} launches beside them;"
        " the list: from enter):"
        if results.lesson_sandbox
        else "Every lesson (the sandbox failed):",
        "",
        "| lesson | " + " | ".join(case_label(route, cold) for route, cold in LESSON_CASES) + " |",
        "|---|" + "---|" * len(LESSON_CASES),
    ]
    for lesson_id in ids:
        cells = []
        for route, cold in LESSON_CASES:
            times = results.lessons.get((lesson_id, route, cold))
            ratio = _lesson_ratio(results, times)
            cells.append(f"{statistics.median(times):.2f} s, {ratio:.2f}x" if times and ratio is not None else "failed")
        lines.append(f"| {lesson_id} | " + " | ".join(cells) + " |")
    return lines


def report(results: Results, presses: int, launches: int, load: float) -> str:
    import textual

    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores (load average {load:.1f} at the start),",
        f"Python {platform.python_version()}, Textual {textual.__version__}, tmux at {WIDTH}x{HEIGHT}; launches: median of {launches} (the middle half in brackets),"
        f" keys: {presses} presses of space ({len(results.keys.get(SURFACE) or [])} in the surface view).",
        "",
        "| measure | tutor | bare Textual app | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    lines += launch_rows(results)
    lines += lesson_rows(results)
    lines += key_rows(results, "tutor sandbox", "key (space) to whole frame", "key_median_ms", "key_p95_ms")
    tutor_keys, bare_keys = results.keys.get("tutor sandbox"), results.keys.get("bare")
    if tutor_keys:
        lines.append(f"| key (space) to whole frame, max | {max(tutor_keys):.1f} ms | {max(bare_keys or [0]):.1f} ms | | | |")
    lines += surface_rows(results)
    lines += network_rows(results)
    lines.append(run_mode_row("run mode at 30 updates/s: updates shown per second", results.run_rates))
    for speed, (rate, updates) in results.run_rates.items():
        if speed != 30:
            lines.append(
                f"| run mode at {speed} updates/s: updates shown per second | {rate:.0f} ({updates:.0f} frames/s) | | | | |"
            )
    if results.pause_ms:
        lines.append(f"| run mode: `r` again to the counter standing still (worst) | {max(results.pause_ms):.0f} ms | | | | |")
    run_all = statistics.median(results.run_all) if results.run_all else None
    lines.append(
        f"| `tutor --run-all`, wall time | {f'{run_all:.2f} s' if run_all is not None else results.run_all_error or 'failed'} | | |"
        f" <= {TARGETS['run_all_s']:g} s | {_met(run_all, TARGETS['run_all_s'], True)} |"
    )
    lines += ["", "Engine alone (the seed's 5x5 matrix problem, no screen):", "", "| optimizer | steps/s |", "|---|---|"]
    lines += [f"| {key} | {rate:,.0f} |" for key, rate in results.engine.items()]
    lines += digits_rows(results)
    lines += lesson_table(results)
    for label, what in (("tutor sandbox", "the chart's pixels"), (SURFACE, "the paths"), (NETWORK, "the chart's pixels")):
        if results.unchanged.get(label):
            lines += [
                "",
                f"{results.unchanged[label]} of {len(results.keys.get(label) or []) or presses} presses in `{label}` left {what} unchanged (timed to the screen's last change).",
            ]
    if results.errors:
        lines += ["", "Errors:", ""] + [f"- {error.splitlines()[0]}" for error in results.errors]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=60, help="key presses timed per app (default 60)")
    parser.add_argument(
        "--surface-presses",
        type=int,
        default=40,
        help="key presses timed in the surface view (default 40: later steps barely move the paths, each such press waits 2 s)",
    )
    parser.add_argument(
        "--launches",
        type=int,
        default=25,
        help="launches per app, interleaved (default 25: one launch to the next varies by a third here)",
    )
    parser.add_argument(
        "--lesson-rounds",
        type=int,
        default=7,
        help="rounds of the lessons' cases (default 7: every lesson, 4 cases and a sandbox launch each, ~1.5 min a round)",
    )
    parser.add_argument("--lessons", metavar="ID,ID", help="the lessons to open (default: every shipped lesson)")
    parser.add_argument(
        "--out", type=Path, default=HERE / "RESULTS.md", help="where to write the table (default benchmarks/RESULTS.md)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the table only (else also benchmarks/RESULTS.md and README.md's table)"
    )
    parser.add_argument(
        "--only",
        choices=["surface", "launch", "lessons", "digits", "keys", "network"],
        help="measure one case (with the bare app's keys beside it) and print its rows; nothing is written",
    )
    args = parser.parse_args()

    compileall.compile_dir(ROOT / "tutor", quiet=1)  # as an installed copy has it (see the docstring)
    results = Results()
    load = os.getloadavg()[0]  # other work on the machine slows everything, the bare app too
    if args.only == "digits":
        measure_digits(results)
        print(f"load average {load:.1f} at the start, {os.cpu_count()} cores")
        print("\n".join(digits_rows(results)).strip())
        for error in results.errors:
            print("error:", error, file=sys.stderr)
        return 0
    if shutil.which("tmux") is None:
        print("benchmarks/run.py drives the app in tmux, which is not installed (apt-get install -y tmux)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as data_dir, Tmux() as tmux:
        bare = shell([sys.executable, str(HERE / "bare_app.py")], data_dir)
        sandbox = shell([*tutor_command(), "sandbox"], data_dir)
        surface = shell([*tutor_command(), *SURFACE.split()[1:]], data_dir)
        network = shell([*tutor_command(), *NETWORK.split()[1:]], data_dir)
        if args.only == "keys":
            measure_keys(tmux, "bare", bare, args.presses, results)
            measure_keys(tmux, "tutor sandbox", sandbox, args.presses, results, picture=chart_of)
            print("\n".join(["| measure | tutor | bare Textual app | ratio | target | met |", "|---|---|---|---|---|---|"]))
            print("\n".join(key_rows(results, "tutor sandbox", "key (space) to whole frame", "key_median_ms", "key_p95_ms")))
            for error in results.errors:
                print("error:", error.splitlines()[0], file=sys.stderr)
            return 0
        if args.only == "network":
            measure_keys(tmux, "bare", bare, args.presses, results)
            measure_keys(tmux, NETWORK, network, args.presses, results, picture=chart_of)
            measure_run_mode(tmux, network, results, view="network")
            print("\n".join(["| measure | tutor | bare Textual app | ratio | target | met |", "|---|---|---|---|---|---|"]))
            print("\n".join(network_rows(results)))
            for error in results.errors:
                print("error:", error.splitlines()[0], file=sys.stderr)
            return 0
        if args.only == "surface":
            measure_keys(tmux, "bare", bare, args.presses, results)
            measure_keys(tmux, SURFACE, surface, args.surface_presses, results, picture=paths_of)
            print("\n".join(["| measure | tutor | bare Textual app | ratio | target | met |", "|---|---|---|---|---|---|"]))
            print("\n".join(surface_rows(results)))
            for error in results.errors:
                print("error:", error.splitlines()[0], file=sys.stderr)
            if results.unchanged.get(SURFACE):
                print(
                    f"{results.unchanged[SURFACE]} of {args.surface_presses} presses left the paths unchanged (timed to the screen's last change)",
                    file=sys.stderr,
                )
            return 0
        lessons = shell(tutor_command(), data_dir)

        def at_step_0(text: str) -> bool:
            return step_shown(text, 0)

        def lesson_list_painted(text: str) -> bool:
            return "Lessons" in text

        def lesson_list_filled(text: str) -> bool:
            return re.search(r"enter opens it|Enter continues", text) is not None

        apps: dict[str, tuple[str, Ready, Ready]] = {
            "bare": (bare, at_step_0, at_step_0),
            "tutor sandbox": (sandbox, at_step_0, at_step_0),
            "tutor": (lessons, lesson_list_painted, lesson_list_filled),
        }
        headings = lesson_headings()
        wanted = args.lessons.split(",") if args.lessons else list(headings)
        if unknown := [lesson_id for lesson_id in wanted if lesson_id not in headings]:
            print(f"--lessons: no lesson {', '.join(unknown)}; the lessons are: {', '.join(headings)}", file=sys.stderr)
            return 2
        if args.only == "lessons":
            print(f"lessons ({', '.join(wanted)})...", file=sys.stderr)
            measure_lessons(tmux, headings, wanted, args.lesson_rounds, data_dir, results)
            print(f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} cores")
            print("\n".join(["| measure | tutor | bare Textual app | ratio | target | met |", "|---|---|---|---|---|---|"]))
            print("\n".join(lesson_rows(results) + lesson_table(results)))
            for error in results.errors:
                print("error:", error.splitlines()[0], file=sys.stderr)
            return 0
        print("launching...", file=sys.stderr)
        measure_launches(tmux, apps, args.launches, results)
        if args.only == "launch":
            print("\n".join(launch_rows(results)))
            for error in results.errors:
                print("error:", error.splitlines()[0], file=sys.stderr)
            return 0
        print("lessons...", file=sys.stderr)
        measure_lessons(tmux, headings, wanted, args.lesson_rounds, data_dir, results)
        print("keys...", file=sys.stderr)
        measure_keys(tmux, "bare", bare, args.presses, results)
        measure_keys(tmux, "tutor sandbox", sandbox, args.presses, results, picture=chart_of)
        print("surface view keys...", file=sys.stderr)
        measure_keys(tmux, SURFACE, surface, args.surface_presses, results, picture=paths_of)
        print("network view keys...", file=sys.stderr)
        measure_keys(tmux, NETWORK, network, args.presses, results, picture=chart_of)
        print("run mode...", file=sys.stderr)
        measure_run_mode(tmux, sandbox, results)
        measure_run_mode(tmux, network, results, view="network")
        print("run-all...", file=sys.stderr)
        measure_run_all(3, data_dir, results)
    measure_engine(2000, results)
    measure_digits(results)

    table = report(results, args.presses, args.launches, load)
    print(table)
    if not args.no_write:
        args.out.write_text(
            "# Benchmark results\n\nWritten by `.venv/bin/python benchmarks/run.py` (see its docstring for what each row measures).\n\n"
            + table
            + "\n"
        )
        quote_in_readme(table)
    return 0


README = ROOT / "README.md"
README_START, README_END = "<!-- speed table: benchmarks/run.py writes it -->", "<!-- end of speed table -->"


def quote_in_readme(table: str) -> None:
    """Replace the README's speed table (between its markers) with this run's: the measures, not the engine's rows."""
    text = README.read_text()
    if README_START not in text or README_END not in text:
        print(f"README.md has no {README_START} marker: its table was left alone", file=sys.stderr)
        return
    measures = table.split("\n\nEngine alone")[0]
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    README.write_text(f"{head}{README_START}\n\n{measures}\n\n{README_END}{tail}")


if __name__ == "__main__":
    sys.exit(main())

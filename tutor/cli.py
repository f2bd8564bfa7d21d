"""The command line: `tutor`, `tutor --run-all`, `tutor sandbox`, `tutor trace`, ...

Imports are deferred to the command that needs them, so `tutor trace` never loads
Textual and `tutor` starts as fast as a bare Textual app.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.engine.hyper import Hyperparameters

# The engine (and numpy) load inside the functions that need them: plain `tutor` skips
# argparse and the engine, and paints before the lessons load in the background.


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    from tutor.engine.problems import ACTIVATIONS, PROBLEM_KINDS, VALLEY_STARTS

    group = parser.add_argument_group("problem")
    group.add_argument(
        "--problem", default="matrix", choices=list(PROBLEM_KINDS), help="what to minimise (default: the seed's matrix inversion)"
    )
    group.add_argument(
        "--variant", choices=["seed", "diagonal"], help="matrix: the seed's A or a diagonal A with its singular values"
    )
    group.add_argument("--depth", type=int, help="deep-chain: number of layers; digits: hidden layers (default 6)")
    group.add_argument(
        "--scale", type=float, help="deep-chain: the weight every layer multiplies by; digits: initial weight scale (default 1)"
    )
    group.add_argument("--activation", choices=list(ACTIVATIONS), help="deep-chain, digits: the layers' activation")
    group.add_argument("--condition", type=float, help="valley: curvature ratio K")
    group.add_argument("--angle", type=float, help="valley: angle of the valley floor in degrees")
    group.add_argument(
        "--start-point",
        choices=list(VALLEY_STARTS),
        help="valley: 'fixed' starts at (-3, 1) at every angle (the default); 'turned' turns the start with the floor, "
        "so every angle is the same problem turned (as lesson 6 runs it)",
    )
    # dest "layer_width": the top-level --width is the text width of --run-all
    group.add_argument("--width", dest="layer_width", metavar="UNITS", type=int, help="digits: units per hidden layer (32)")
    group.add_argument("--batch", type=int, help="digits: images per mini-batch (default 32)")
    group.add_argument("--seed", type=int, help="digits: initial weights and batch order (default 0)")


def add_hyper_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hyperparameters (the seed's defaults)")
    # Strings, so the one shared check in Hyperparameters gives the reasons.
    group.add_argument("--lr", help="learning rate (default 0.001)")
    group.add_argument("--decay", help="share of the mean square kept each update (default 0.9)")
    group.add_argument("--eps", help="added to sqrt(v) to avoid dividing by zero (default 1e-8)")
    group.add_argument("--mu", help="momentum (default 0.9)")
    group.add_argument(
        "--lr-halving",
        dest="lr_halving",
        metavar="UPDATES",
        help="a decaying lr: it has halved after this many updates and falls like 1/t (default 0: constant)",
    )


PROBLEM_OPTIONS = {
    "matrix": ("variant",),
    "deep-chain": ("depth", "scale", "activation"),
    "valley": ("condition", "angle", "start_point"),
    "rosenbrock": (),
    "digits": ("depth", "width", "activation", "scale", "seed", "batch"),
}
OPTION_DEST = {"width": "layer_width"}  # options whose argparse dest differs from the problem's parameter


def option_name(parameter: str) -> str:
    """The command-line option of a problem parameter: `start_point` is `--start-point`."""
    return "--" + parameter.replace("_", "-")


def given_problem_options(args: argparse.Namespace) -> dict[str, Any]:
    """The problem options on the command line, by parameter name."""
    names = dict.fromkeys(name for names in PROBLEM_OPTIONS.values() for name in names)
    values = {name: getattr(args, OPTION_DEST.get(name, name), None) for name in names}
    return {name: value for name, value in values.items() if value is not None}


def problem_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The problem the arguments describe; options of another problem are refused, not ignored."""
    from tutor.engine.problems import ProblemError

    spec: dict[str, Any] = {"kind": args.problem}
    for name, value in given_problem_options(args).items():
        if name not in PROBLEM_OPTIONS.get(args.problem, ()):
            owners = " or ".join(kind for kind, names in PROBLEM_OPTIONS.items() if name in names)
            raise ProblemError(f"{option_name(name)} belongs to --problem {owners}, not {args.problem}")
        spec[name] = value
    return spec


def hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    from tutor.engine.hyper import Hyperparameters

    return Hyperparameters.validated(**{name: getattr(args, name, None) for name in Hyperparameters.NAMES})


def build_parser() -> argparse.ArgumentParser:
    from tutor.engine.optimizers import OPTIMIZERS

    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn why RMSprop exists: lessons on vanishing and exploding gradients, "
        "and optimizers run one update at a time.",
    )
    parser.add_argument(
        "--run-all",
        nargs="?",
        const=True,
        default=False,
        metavar="PATH",
        help="run every lesson's script headless and print its text snapshot (PATH: only this lesson file or folder)",
    )
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        help="a teacher's folder of lessons, read beside the course's (ids unique across both; sets $TUTOR_TEACHER_LESSONS)",
    )
    parser.add_argument("--lesson", metavar="ID", help="open this lesson in the app (with --run-all: print only this lesson)")
    parser.add_argument("--width", type=int, default=100, help="with --run-all: text width (default 100)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    formulas = "\n\n".join(f"{key}:\n" + textwrap.indent(opt.formula, "  ") for key, opt in OPTIMIZERS.items())
    trace = sub.add_parser(
        "trace",
        help="print a run's records, one line per update (JSON lines or CSV)",
        epilog=f"Each update, g being the gradient at x (one line per stage, as `n` narrates them):\n\n{formulas}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    trace.add_argument("--optimizer", default="rmsprop", choices=list(OPTIMIZERS))
    trace.add_argument("--steps", type=int, default=300, help="number of updates (default 300)")
    trace.add_argument("--format", default="jsonl", choices=["jsonl", "csv"])
    add_problem_arguments(trace)
    add_hyper_arguments(trace)

    check = sub.add_parser("check-lesson", help="validate lesson files and run their scripts headless")
    check.add_argument("files", nargs="+", metavar="FILE", help="lesson files or folders, e.g. lessons/08-mine.md")
    check.add_argument("--width", type=int, default=100, help="text width (default 100)")

    serve = sub.add_parser(
        "serve",
        help="serve the app to browsers (a class follows on its own screens)",
        description="Serve the app to web browsers through textual-serve. Arguments after serve's own go to the app, "
        "e.g. `tutor serve --public sandbox --optimizer gd`.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 with --public)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--public", action="store_true", help="listen on every network interface, so others on the network can open it"
    )
    serve.add_argument(
        "--max-browsers", type=int, default=100, help="browsers served at once (default 100); one more waits for a close"
    )
    serve.add_argument(
        "app_args", nargs=argparse.REMAINDER, metavar="...", help="the app to serve: nothing for `tutor`, or `sandbox ...`"
    )

    sandbox = sub.add_parser("sandbox", help="the visualizer on its own, for free play and classroom demos")
    sandbox.add_argument("--optimizer", choices=list(OPTIMIZERS), help="the optimizer to run (default rmsprop)")
    sandbox.add_argument("--compare", action="store_true", help="gd, rmsprop and rmsprop-momentum updated together")
    sandbox.add_argument(
        "--state", metavar="CODE", help="open the exact moment a share code describes (press s in the app for one)"
    )
    sandbox.add_argument("--hide", metavar="PANELS", help="comma-separated panels to hide for a demo, e.g. grids,chart")
    sandbox.add_argument("--high-contrast", action="store_true", help="start in the high-contrast theme (projectors)")
    add_problem_arguments(sandbox)
    add_hyper_arguments(sandbox)
    return parser


def _replace_unencodable() -> None:
    """Where stdout cannot encode everything (a latin-1 or ASCII locale, PYTHONIOENCODING=ascii),
    print '?' for a character it cannot show rather than stop on a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding not in ("utf8", "utf16", "utf32") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _replace_unencodable()
    try:
        with _collector_paused():  # from the first import (numpy's, in the parser) to the app's first frame
            if not argv:  # plain `tutor`: straight to the lesson list, no parser, no engine yet
                return _lessons()
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.lessons is not None:
                _teacher_lessons(args.lessons, parser)
            if args.command == "sandbox":
                return _sandbox(args)
            if args.command is None and not args.run_all:
                return _lessons(args.lesson)
        # The headless commands run with the collector on: they compute for a while.
        if args.command == "serve":  # its browsers' apps are forked from it: stdout stays as it is
            return _serve(args, parser)
        commands = {"trace": _trace, "check-lesson": _check_lesson}
        return _writing(lambda: commands.get(args.command, _run_all)(args, parser))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tutor trace | head`
        sys.stderr.close()
        return 0
    except Exception as error:  # never a traceback: one line here, the details in the crash log
        from tutor.crash import one_line

        print(one_line(error), file=sys.stderr)
        return 1


class OutputError(Exception):
    """Writing the command's output failed (not a closed pipe: that is `tutor trace | head`)."""


class _Output:
    """stdout for the headless commands, telling its own write errors from every other OSError."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def _guarded(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(error.strerror or str(error)) from error

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...
        return getattr(self._stream, name)


def _writing(command: Callable[[], int]) -> int:
    """Run a command that prints to stdout; an output that is closed (`>&-`) or refuses what is written
    (`>/dev/full`, a disk that fills up) is one line and exit status 1, not a traceback."""
    stream = sys.stdout
    if stream is None:  # Python starts without sys.stdout when file descriptor 1 is closed
        _say("tutor: the output is closed (>&-): nothing can be written")
        return 1
    sys.stdout = _Output(stream)
    try:
        status = command()
        sys.stdout.flush()
        return status
    except OutputError as error:
        _drop_output(stream)
        _say(f"tutor: cannot write the output: {error}")
        return 1
    finally:
        sys.stdout = stream


def _say(line: str) -> None:
    """Write the error line to stderr; when it cannot be written either (`2>/dev/full`), say nothing: exit 1 quietly."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # full, closed, or no stderr at all
        if sys.stderr is not None:
            _drop_output(sys.stderr)


def _drop_output(stream: Any) -> None:
    """Point stdout at /dev/null, so Python's own flush at exit does not fail again on what is left in its buffer."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _check_width(width: int, parser: argparse.ArgumentParser) -> None:
    if not 40 <= width <= 1000:
        parser.error(f"--width must be from 40 to 1000, not {width}")


def _teacher_lessons(folder: str, parser: argparse.ArgumentParser) -> None:
    """`--lessons DIR`: read beside the course by every load of it, here and in the apps `tutor serve` starts."""
    import os

    from tutor.course.reader import TEACHER_LESSONS_ENV

    if not os.path.isdir(folder):
        parser.error(f"--lessons: no such folder: {folder}")
    os.environ[TEACHER_LESSONS_ENV] = os.path.abspath(folder)


def _run_all(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pathlib import Path

    from tutor.headless import run_all

    _check_width(args.width, parser)
    path = None if args.run_all is True else Path(args.run_all)
    if path is not None and not path.exists():
        parser.error(f"--run-all: no such lesson file or folder: {path}")
    return run_all(lesson_id=args.lesson, width=args.width, directory=path)


def _check_lesson(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pathlib import Path

    from tutor.headless import check_lessons

    _check_width(args.width, parser)
    return check_lessons([Path(file) for file in args.files], width=args.width)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tutor.serve import serve

    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be from 1 to 65535, not {args.port}")
    if not 1 <= args.max_browsers <= 1000:
        parser.error(f"--max-browsers must be from 1 to 1000, not {args.max_browsers}")
    app_args = args.app_args[1:] if args.app_args[:1] == ["--"] else args.app_args
    if app_args and app_args[0] in ("serve", "trace", "check-lesson"):
        parser.error(f"serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor {app_args[0]}`")
    # A bad argument is refused here, with the app's own reason, not in every browser.
    app = build_parser().parse_args(app_args)
    if app.run_all:
        parser.error("serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor --run-all`")
    if app.command == "sandbox":
        try:
            sandbox_setup(app)
        except _setup_errors() as error:
            parser.error(f"sandbox: {error}")
    elif app.lesson is not None and (unknown := _unknown_lesson(app.lesson)):
        parser.error(unknown)
    return serve(args.host, args.port, args.public, app_args, args.max_browsers)


def _trace(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tutor.engine import HyperparameterError, ProblemError, Run, make_problem
    from tutor.engine.run import MAX_STEPS
    from tutor.trace import is_network, write

    if not 1 <= args.steps <= MAX_STEPS:
        parser.error(f"--steps must be from 1 to {MAX_STEPS} (the most a run takes), not {args.steps}")
    try:
        run = Run.create(make_problem(problem_spec(args)), args.optimizer, hyperparameters(args))
    except (HyperparameterError, ProblemError) as error:
        parser.error(str(error))
    if args.format == "csv" and is_network(run):
        parser.error("--format csv has one column per quantity; a network's parameters come by layer: use --format jsonl")
    write(run, args.steps, sys.stdout, args.format)
    return 0


NEEDS_TERMINAL = "tutor needs a terminal; try `tutor --run-all` or `tutor trace`"


def _terminal_problem() -> str | None:
    """Why the full-screen app cannot start here, or None if it can."""
    if os.environ.get("TEXTUAL_DRIVER"):  # `tutor serve`: textual-serve talks to the app through pipes
        return None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return NEEDS_TERMINAL
    if os.environ.get("TERM", "") == "dumb":
        return f"{NEEDS_TERMINAL} (TERM=dumb cannot draw the app)"
    return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection from here until the app's first frame is on screen (the app turns it
    back on then; leaving this block turns it on in every other case: an error, an app that never painted).

    Start-up allocates hundreds of thousands of long-lived objects (Textual, numpy, the stylesheet),
    and the full collections that walk them cost ~30 ms before the first paint; the little cyclic
    garbage start-up leaves is collected once the collector is back."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _run_tui(make: Any) -> int:
    """Start the app `make()` builds, or say why this terminal cannot show it (exit 2)."""
    problem = _terminal_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app = make()
    app.run()
    if app.crash_message:  # the traceback is in the crash log; the learner gets one line
        print(app.crash_message, file=sys.stderr)
        return 1
    return app.return_code or 0


def _unknown_lesson(lesson_id: str) -> str | None:
    """Why `--lesson lesson_id` cannot open (the shipped lessons and a teacher's), or None."""
    from tutor.course import load_course

    course = load_course()
    return None if course.lesson(lesson_id) else f"no lesson {lesson_id!r}; the lessons are: {', '.join(course.ids)}"


def _lessons(lesson_id: str | None = None) -> int:
    lesson = None
    if lesson_id is not None:  # read here (the app opens on it, its numbers kept from the last run)
        from tutor.course import find_lesson
        from tutor.course.cache import cache_dir
        from tutor.course.filler import keep_values_in

        keep_values_in(cache_dir())
        lesson = find_lesson(lesson_id)  # its file alone: the course loads after the first paint
        if lesson is None:
            print(f"tutor: {_unknown_lesson(lesson_id)}", file=sys.stderr)
            return 2

    def make() -> Any:
        from tutor.tui.app import make_app

        return make_app(start_lesson=lesson_id, lesson=lesson, keep_values=True)

    return _run_tui(make)


def _hidden_panels(text: str | None) -> frozenset[str]:
    from tutor.tui.widgets.visualizer import HIDEABLE

    names = {part.strip() for part in (text or "").split(",")} - {""}
    for name in sorted(names):
        if name not in HIDEABLE:
            raise ValueError(f"--hide: unknown panel or control {name!r}; known: {', '.join(HIDEABLE)}")
    return frozenset(names)


def sandbox_setup(args: argparse.Namespace) -> Any:
    """The runs, view and hidden panels `tutor sandbox` opens (a share code, or the options)."""
    from tutor.engine import Run, make_problem
    from tutor.engine.optimizers import SEED_OPTIMIZERS
    from tutor.share import decode, runs_of
    from tutor.tui.app import SandboxSetup

    hidden = _hidden_panels(args.hide)
    if args.state is not None:
        given = [f"--{name}" for name in ("optimizer", "lr", "decay", "eps", "mu") if getattr(args, name) is not None]
        given += [option_name(name) for name in given_problem_options(args)]
        given += ["--compare"] * args.compare + ["--problem"] * (args.problem != "matrix")
        if given:
            raise ValueError(f"--state already holds the problem, optimizers and hyperparameters: drop {', '.join(given)}")
        state = decode(args.state)
        shown = {name: state[name] for name in ("step", "cursor", "selected", "speed")}
        return SandboxSetup(runs_of(state), state["view"], hidden | frozenset(state["hidden"]), **shown)
    if args.compare and args.optimizer:
        raise ValueError("--compare runs gd, rmsprop and rmsprop-momentum together: drop --optimizer")
    spec, hp = problem_spec(args), hyperparameters(args)
    if args.lr is None:  # on a 2-D surface the seed's lr 0.001 barely moves a path
        from tutor.engine.paths import SURFACE_LEARNING_RATES

        hp = hp.with_value("lr", SURFACE_LEARNING_RATES.get(spec["kind"], hp.lr))
    keys = list(SEED_OPTIMIZERS) if args.compare else [args.optimizer or "rmsprop"]
    problem = make_problem(spec)
    return SandboxSetup([Run.create(problem, key, hp) for key in keys], problem.view, hidden)


def _setup_errors() -> tuple[type[Exception], ...]:
    """What `sandbox_setup` raises for arguments that describe no sandbox."""
    from tutor.engine import HyperparameterError, ProblemError
    from tutor.share import ShareCodeError

    return (HyperparameterError, ProblemError, ShareCodeError, ValueError)


def _sandbox(args: argparse.Namespace) -> int:
    try:
        setup = sandbox_setup(args)
    except _setup_errors() as error:
        print(f"tutor sandbox: {error}", file=sys.stderr)
        return 2

    def make() -> Any:
        from tutor.tui.app import make_app
        from tutor.tui.themes import HIGH_CONTRAST

        return make_app(sandbox=setup, theme=HIGH_CONTRAST if args.high_contrast else None)

    return _run_tui(make)


if __name__ == "__main__":
    sys.exit(main())

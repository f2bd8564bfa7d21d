"""The command line: `tutor`, `tutor --run-all`, `tutor sandbox`, `tutor trace`, ...

Imports are deferred to the command that needs them, so `tutor trace` never loads
Textual and `tutor` starts as fast as a bare Textual app.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from tutor.engine.hyper import HyperparameterError, Hyperparameters
from tutor.engine.optimizers import OPTIMIZERS
from tutor.engine.problems import ACTIVATIONS, PROBLEM_KINDS, ProblemError, make_problem


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("problem")
    group.add_argument("--problem", default="matrix", choices=list(PROBLEM_KINDS), help="what to minimise (default: the seed's matrix inversion)")
    group.add_argument("--variant", choices=["seed", "diagonal"], help="matrix: the seed's A or a diagonal A with its singular values")
    group.add_argument("--depth", type=int, help="deep-chain: number of layers")
    group.add_argument("--scale", type=float, help="deep-chain: the weight every layer multiplies by")
    group.add_argument("--activation", choices=list(ACTIVATIONS), help="deep-chain: the layers' activation")
    group.add_argument("--condition", type=float, help="valley: curvature ratio K")
    group.add_argument("--angle", type=float, help="valley: angle of the valley floor in degrees")


def add_hyper_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hyperparameters (the seed's defaults)")
    # Strings, so the one shared check in Hyperparameters gives the reasons.
    group.add_argument("--lr", help="learning rate (default 0.001)")
    group.add_argument("--decay", help="share of the mean square kept each step (default 0.9)")
    group.add_argument("--eps", help="added to sqrt(v) to avoid dividing by zero (default 1e-8)")
    group.add_argument("--mu", help="momentum (default 0.9)")


PROBLEM_OPTIONS = {
    "matrix": ("variant",),
    "deep-chain": ("depth", "scale", "activation"),
    "valley": ("condition", "angle"),
    "rosenbrock": (),
}


def problem_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The problem the arguments describe; options of another problem are refused, not ignored."""
    spec: dict[str, Any] = {"kind": args.problem}
    for kind, names in PROBLEM_OPTIONS.items():
        for name in names:
            value = getattr(args, name, None)
            if value is None:
                continue
            if kind != args.problem:
                raise ProblemError(f"--{name} belongs to --problem {kind}, not {args.problem}")
            spec[name] = value
    return spec


def hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    return Hyperparameters.validated(**{name: getattr(args, name, None) for name in Hyperparameters.NAMES})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn why RMSprop exists: lessons on vanishing and exploding gradients, "
        "and optimizers stepped one update at a time.",
    )
    parser.add_argument("--run-all", action="store_true", help="run every lesson's script headless and print its text snapshot")
    parser.add_argument("--lesson", metavar="ID", help="with --run-all: only this lesson")
    parser.add_argument("--width", type=int, default=100, help="with --run-all: text width (default 100)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    trace = sub.add_parser("trace", help="print a run's records, one line per step (JSON lines or CSV)")
    trace.add_argument("--optimizer", default="rmsprop", choices=list(OPTIMIZERS))
    trace.add_argument("--steps", type=int, default=300, help="number of updates (default 300)")
    trace.add_argument("--format", default="jsonl", choices=["jsonl", "csv"])
    add_problem_arguments(trace)
    add_hyper_arguments(trace)

    check = sub.add_parser("check-lesson", help="validate a lesson file and run its script headless")
    check.add_argument("file", help="the lesson file, e.g. lessons/08-mine.md")
    check.add_argument("--width", type=int, default=100, help="text width (default 100)")

    serve = sub.add_parser(
        "serve",
        help="serve the app to browsers (a class follows on its own screens)",
        description="Serve the app to web browsers through textual-serve. Arguments after serve's own go to the app, "
        "e.g. `tutor serve --public sandbox --optimizer gd`.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 with --public)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--public", action="store_true", help="listen on every network interface, so others on the network can open it")
    serve.add_argument("app_args", nargs=argparse.REMAINDER, metavar="...", help="the app to serve: nothing for `tutor`, or `sandbox ...`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "trace":
            return _trace(args, parser)
        if args.command == "check-lesson":
            return _check_lesson(args, parser)
        if args.command == "serve":
            return _serve(args, parser)
        if args.run_all:
            return _run_all(args, parser)
        parser.print_help()
        return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tutor trace | head`
        sys.stderr.close()
        return 0


def _check_width(width: int, parser: argparse.ArgumentParser) -> None:
    if not 40 <= width <= 1000:
        parser.error(f"--width must be from 40 to 1000, not {width}")


def _run_all(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tutor.headless import run_all

    _check_width(args.width, parser)
    return run_all(lesson_id=args.lesson, width=args.width)


def _check_lesson(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pathlib import Path

    from tutor.headless import check_lesson

    _check_width(args.width, parser)
    return check_lesson(Path(args.file), width=args.width)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tutor.serve import serve

    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be from 1 to 65535, not {args.port}")
    app_args = args.app_args[1:] if args.app_args[:1] == ["--"] else args.app_args
    if app_args and app_args[0] in ("serve", "trace", "check-lesson"):
        parser.error(f"serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor {app_args[0]}`")
    build_parser().parse_args(app_args)  # a bad argument is refused here, not in every browser
    return serve(args.host, args.port, args.public, app_args)


def _trace(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tutor.engine import Run
    from tutor.trace import write

    if not 1 <= args.steps <= 1_000_000:
        parser.error(f"--steps must be from 1 to 1000000, not {args.steps}")
    try:
        run = Run.create(make_problem(problem_spec(args)), args.optimizer, hyperparameters(args))
    except (HyperparameterError, ProblemError) as error:
        parser.error(str(error))
    write(run, args.steps, sys.stdout, args.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())

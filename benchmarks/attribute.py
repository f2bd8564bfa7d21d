"""What each part of `tutor sandbox` costs in a real terminal: the benchmark's launch and key
measures, run on the app with one part taken out, against the app whole and the bare app.

    .venv/bin/python benchmarks/attribute.py [--launches 9] [--presses 60] [VARIANT ...]

Variants (each patches the app in its own process, the checkout is not changed):
  whole      the app as it is
  no-footer  Textual's Footer composes nothing (the key bar's share of launch and key presses)
  no-chart   the loss chart is drawn once and never again (its share of a key press)
  no-grids   the grids are laid out once and never again (their share of a key press)
  gc-freeze  objects alive after start-up leave the garbage collector's passes (gc.freeze)
A variant's launch or key time minus `whole`'s is what that part costs (negative: it saves).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
from tmux import Tmux  # noqa: E402

VARIANTS = ("whole", "no-footer", "no-chart", "no-grids", "gc-freeze")


def patch(variant: str) -> None:
    """Take one part out of the app (runs in the app's process, before it starts)."""
    if variant == "no-footer":
        from textual.widgets import Footer

        Footer.compose = lambda self: iter(())  # type: ignore[method-assign]
    elif variant == "no-chart":
        from tutor.tui.widgets import panels

        drawn: dict = {}
        chart = panels.LossChart._chart

        def first_chart_only(self, width: int, height: int):  # type: ignore[no-untyped-def]
            return drawn.setdefault((width, height), chart(self, width, height))

        panels.LossChart._chart = first_chart_only  # type: ignore[method-assign]
    elif variant == "no-grids":
        from tutor.tui.widgets import panels

        laid_out: dict = {}
        lines_at = panels.GridsPanel._lines_at

        def first_grids_only(self, width: int):  # type: ignore[no-untyped-def]
            if width not in laid_out:
                laid_out[width] = lines_at(self, width)
            self._lines_width, self._lines = width, laid_out[width]
            return self._lines

        panels.GridsPanel._lines_at = first_grids_only  # type: ignore[method-assign]
    elif variant == "gc-freeze":
        import gc

        from tutor.tui.app import TutorApp

        on_mount = TutorApp.on_mount

        def freeze_after_start(self):  # type: ignore[no-untyped-def]
            on_mount(self)
            self.set_timer(1.0, gc.freeze)

        TutorApp.on_mount = freeze_after_start  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=9)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=f"some of: {', '.join(VARIANTS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant {sorted(unknown)[0]!r}; known: {', '.join(VARIANTS)}")
    args.variants = args.variants or list(VARIANTS)

    results = bench.Results()
    with tempfile.TemporaryDirectory(prefix="tutor-attribute-") as data_dir, Tmux() as tmux:
        commands = {"bare": bench.shell([sys.executable, str(HERE / "bare_app.py")], data_dir)}
        for variant in args.variants:
            commands[variant] = bench.shell([sys.executable, __file__, "--as-app", variant], data_dir)
        ready = lambda text: bench.step_shown(text, 0)  # noqa: E731
        apps = {label: (command, ready, ready) for label, command in commands.items()}
        bench.measure_launches(tmux, apps, args.launches, results)
        for label, command in commands.items():
            picture = None if label in ("bare", "no-chart") else bench.chart_of
            bench.measure_keys(tmux, label, command, args.presses, results, picture=picture)
    print(f"| variant | first paint | whole first frame (medians of {args.launches}) | key median | key p95 | key max |")
    print("|---|---|---|---|---|---|")
    for label in commands:
        first, launch, keys = results.first_paint.get(label), results.launch.get(label), results.keys.get(label)
        if not first or not launch or not keys:
            print(f"| {label} | failed | | | | |")
            continue
        print(
            f"| {label} | {statistics.median(first):.3f} s | {statistics.median(launch):.3f} s | {statistics.median(keys):.1f} ms"
            f" | {bench.p95(keys):.1f} ms | {max(keys):.1f} ms |"
        )
    for error in results.errors:
        print("error:", error.splitlines()[0], file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--as-app"]:  # inside the pane: patch, then start `tutor sandbox`
        sys.path.insert(0, str(HERE.parent))
        patch(sys.argv[2])
        from tutor.cli import main as tutor_main

        sys.exit(tutor_main(["sandbox"]))
    sys.exit(main())

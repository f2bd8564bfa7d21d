"""Where a key press's time goes in `tutor sandbox`: the app headless at 120x40, `space` pressed
N times under cProfile, the functions that cost the most printed (own time and with callees).

    .venv/bin/python benchmarks/profile_keys.py [--presses 60] [--sort tottime|cumulative] [--args ...]

Headless means no terminal writes: what remains is Textual's work (styles, layout, compositor,
segments) and ours (engine, views, widgets' render()). benchmarks/run.py measures the real thing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def press(app, presses: int, key: str, profile: cProfile.Profile) -> list[float]:
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(0.5)  # let start-up work (lesson loading, first paint) finish
        profile.enable()
        for _ in range(presses):
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            times.append((time.perf_counter() - started) * 1000)
        profile.disable()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--key", default="space")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--args", nargs=argparse.REMAINDER, default=[], help="sandbox arguments, e.g. --args --compare")
    args = parser.parse_args()

    from tutor.cli import build_parser, sandbox_setup
    from tutor.tui.app import make_app

    setup = sandbox_setup(build_parser().parse_args(["sandbox", *args.args]))
    app = make_app(sandbox=setup)
    profile = cProfile.Profile()
    times = asyncio.run(press(app, args.presses, args.key, profile))
    times.sort()
    print(f"{args.presses} x {args.key}: median {times[len(times) // 2]:.1f} ms, max {times[-1]:.1f} ms (headless, profiled)")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A class at once: `tutor serve` with many browsers opening together, on 127.0.0.1 only.

    .venv/bin/python benchmarks/serve_load.py                  # 1 alone (5 times), then 5, 20 and 30 together
    .venv/bin/python benchmarks/serve_load.py --browsers 30    # only 30 together
    .venv/bin/python benchmarks/serve_load.py -- sandbox --optimizer gd    # serve `tutor sandbox --optimizer gd`
    .venv/bin/python benchmarks/serve_load.py --source /tmp/old    # tutor from another checkout (a before/after)

Each "browser" speaks what textual-serve's page speaks: it opens the websocket `/ws?width=120&height=40`
and reads the app's output (escape codes removed) until the first frame is on screen: the lesson list
filled ("enter opens it"), or "update 0" for the sandbox. Measured:
  first frame  from opening the websocket to that frame, per browser (median and worst)
  alone        one browser at a time (median of --alone), against `tutor` launched directly with
               Textual's web driver on a pipe, the same first frame (median of --alone): the launch cost
               a browser adds
  memory       once every browser has its frame (and 2 s later): the proportional set size (PSS, from
               /proc/<pid>/smaps_rollup: a page shared by n processes counts 1/n in each) summed over
               every process `tutor serve` runs, the server itself included; and the app processes'
               resident sets (RSS) summed, which counts shared pages once per process
  close        every browser closes its websocket at once; from then to each app process gone
Bounded: at most 40 browsers, every wait has a deadline, the server is killed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else: this opens many sessions at once
MAX_BROWSERS = 40
DEADLINE = 60.0  # seconds, for any one phase
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[a-zA-Z]|\x1b[()][0-9A-B]")


def first_frame_pattern(app_args: list[str]) -> bytes:
    return rb"update 0\b" if app_args[:1] == ["sandbox"] else rb"enter opens it|Enter continues"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every process below `pid` (from /proc, so nothing is installed for it)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent:
                found.append(child)
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cpu_seconds(pids: list[int]) -> float:
    """User and system time these processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB."""
    values = {"Pss:": 0, "Rss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, *rest = line.split()
            if name in values:
                values[name] = int(rest[0])
    except OSError:
        pass
    return values["Pss:"], values["Rss:"]


@dataclass
class Browser:
    first_frame: float | None = None  # seconds from opening the websocket
    error: str | None = None


class Server:
    """`tutor serve` on a free loopback port, with a scratch data folder."""

    def __init__(self, app_args: list[str], source: Path | None) -> None:
        self.port = free_port()
        self.data = tempfile.TemporaryDirectory(prefix="tutor-serve-bench-")
        env = {**os.environ, "XDG_DATA_HOME": self.data.name}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", "serve", "--port", str(self.port), *app_args],
            cwd=source or ROOT,  # `python -m` finds tutor in its folder first
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, killed whole at the end
        )
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"tutor serve did not come up (exit {self.process.returncode})") from None
                time.sleep(0.1)
        # Whatever the server loads before its first browser (a fork server's imports and course),
        # finished: its processes stand still for half a second.
        while time.monotonic() < deadline:
            busy = cpu_seconds([self.process.pid, *children_of(self.process.pid)])
            time.sleep(0.5)
            if cpu_seconds([self.process.pid, *children_of(self.process.pid)]) - busy < 0.02:
                break
        self.base = set(children_of(self.process.pid))  # the server's own helpers, not one browser's

    def apps(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if pid not in self.base and alive(pid)]

    def stop(self) -> None:
        """As Ctrl+C in its terminal stops it (it removes its temporary folder then), killed if it lingers."""
        for stop_signal, wait in ((signal.SIGINT, 15), (signal.SIGKILL, None)):
            try:
                os.killpg(self.process.pid, stop_signal)
                self.process.wait(wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self.data.cleanup()


async def open_browser(
    client: aiohttp.ClientSession, port: int, pattern: bytes, browser: Browser
) -> aiohttp.ClientWebSocketResponse | None:
    started = time.monotonic()
    try:
        ws = await client.ws_connect(f"ws://{HOST}:{port}/ws?width=120&height=40")
        received = bytearray()
        while not re.search(pattern, ANSI.sub(b"", bytes(received))):
            message = await asyncio.wait_for(ws.receive(), max(0.1, started + DEADLINE - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"the session ended: {message.type.name}")
        browser.first_frame = time.monotonic() - started
        return ws
    except (OSError, RuntimeError, asyncio.TimeoutError, aiohttp.ClientError) as error:
        browser.error = f"{type(error).__name__}: {error}"
        return None


@dataclass
class ClassResult:
    browsers: list[Browser]
    pss_mb: float
    rss_mb: float
    app_count: int
    gone_s: list[float]
    left_running: int


async def a_class(server: Server, count: int, pattern: bytes) -> ClassResult:
    browsers = [Browser() for _ in range(count)]
    async with aiohttp.ClientSession() as client:
        sockets = await asyncio.gather(*(open_browser(client, server.port, pattern, b) for b in browsers))
        await asyncio.sleep(2.0)  # settled: the lessons loaded in the background
        apps = server.apps()
        everything = [server.process.pid, *children_of(server.process.pid)]
        pss = sum(memory_kb(pid)[0] for pid in everything) / 1024
        rss = sum(memory_kb(pid)[1] for pid in apps) / 1024
        closed = time.monotonic()
        await asyncio.gather(*(ws.close() for ws in sockets if ws is not None))
        gone: dict[int, float] = {}
        while len(gone) < len(apps) and time.monotonic() < closed + DEADLINE:
            for pid in apps:
                if pid not in gone and not alive(pid):
                    gone[pid] = time.monotonic() - closed
            await asyncio.sleep(0.02)
    return ClassResult(browsers, pss, rss, len(apps), sorted(gone.values()), len(apps) - len(gone))


def launch_directly(app_args: list[str], pattern: bytes, source: Path | None) -> float:
    """`tutor` itself under Textual's web driver on a pipe (what one browser's process does), to its first frame."""
    with tempfile.TemporaryDirectory(prefix="tutor-serve-bench-") as data:
        env = {
            **os.environ,
            "XDG_DATA_HOME": data,
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "TEXTUAL_COLOR_SYSTEM": "truecolor",
            "COLUMNS": "120",
            "ROWS": "40",
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "tutor", *app_args], cwd=source or ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        received = b""
        try:
            while not re.search(pattern, ANSI.sub(b"", received)):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk or time.monotonic() > started + DEADLINE:
                    raise SystemExit("tutor under the web driver never showed its first frame")
                received += chunk
            return time.monotonic() - started
        finally:
            process.kill()
            process.wait()


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s, worst {max(values):.2f} s" if values else "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browsers", type=int, nargs="+", default=[5, 20, 30], help="class sizes, each opening together")
    parser.add_argument("--alone", type=int, default=5, help="single browsers (and direct launches) to time, one at a time")
    parser.add_argument(
        "--source", type=Path, help="run tutor from this checkout instead (e.g. `git archive` of an older commit)"
    )
    parser.add_argument("app_args", nargs="*", help="the app to serve (after --)")
    args = parser.parse_args()
    if any(not 1 <= n <= MAX_BROWSERS for n in args.browsers):
        parser.error(f"--browsers: from 1 to {MAX_BROWSERS}")
    pattern = first_frame_pattern(args.app_args)
    served = " ".join(["tutor", *args.app_args])
    print(
        f"`{served}` from {args.source or ROOT} served on {HOST}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start"
    )

    if args.alone:
        direct = [launch_directly(args.app_args, pattern, args.source) for _ in range(args.alone)]
        server = Server(args.app_args, args.source)
        try:
            alone = []
            for _ in range(args.alone):
                result = asyncio.run(a_class(server, 1, pattern))
                alone += [b.first_frame for b in result.browsers if b.first_frame is not None]
        finally:
            server.stop()
        ratio = statistics.median(alone) / statistics.median(direct) if alone else float("nan")
        print(
            f"alone: first frame median {statistics.median(alone) if alone else float('nan'):.2f} s; "
            f"`{served}` launched directly {statistics.median(direct):.2f} s; ratio {ratio:.2f}x"
        )

    print(
        "| browsers together | first frame | failed | PSS, all of serve's processes | RSS, app processes summed | close -> app process gone | still running 60 s after close |"
    )
    print("|---|---|---|---|---|---|---|")
    for count in args.browsers:
        server = Server(args.app_args, args.source)
        try:
            result = asyncio.run(a_class(server, count, pattern))
        finally:
            server.stop()
        frames = [b.first_frame for b in result.browsers if b.first_frame is not None]
        failed = [b.error for b in result.browsers if b.error]
        print(
            f"| {count} | {spread(frames)} | {len(failed)} | {result.pss_mb:.0f} MB | {result.rss_mb:.0f} MB ({result.app_count} processes) "
            f"| {spread(result.gone_s)} | {result.left_running} |",
            flush=True,
        )
        for error in sorted(set(failed))[:3]:
            print(f"  failed: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

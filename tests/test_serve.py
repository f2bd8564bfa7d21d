"""`tutor serve`: textual-serve's page on loopback, stopped cleanly; bad addresses and arguments refused."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from tutor import serve
from tutor.cli import main

ROOT = Path(__file__).resolve().parent.parent
TUTOR = [sys.executable, "-m", "tutor"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch_when_up(url: str, process: subprocess.Popen, limit: float = 20.0) -> str:
    """The page, polled until the server answers (bounded)."""
    deadline = time.monotonic() + limit
    while True:
        if process.poll() is not None:
            raise AssertionError(f"tutor serve exited early with {process.returncode}: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_server(*app_args: str, temp: Path | None = None) -> tuple[int, subprocess.Popen]:
    """`tutor serve` on a free port; its temporary files under `temp` if given."""
    port = free_port()
    process = subprocess.Popen(
        [*TUTOR, "serve", "--port", str(port), *app_args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)} if temp else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return port, process


def stop(process: subprocess.Popen) -> None:
    """Ctrl+C (the server removes its temporary folder), killed if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(tmp_path: Path):
    port, process = start_server(temp=tmp_path)
    try:
        yield port, process
    finally:
        stop(process)


def test_serve_answers_with_textual_serves_page_and_stops_cleanly(server, tmp_path: Path) -> None:
    port, process = server
    page = fetch_when_up(f"http://127.0.0.1:{port}/", process)
    assert "<div>tutor</div>" in page  # the start card names the app
    assert 'class="textual-terminal"' in page
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/textual.js", timeout=5) as script:
        assert script.status == 200

    async def garbage(browsers: list[Browser]) -> None:
        await browsers[0].shows(rb"enter opens it")
        await browsers[0].ws.send_str("not a frame")  # ends this session only, in one line
        assert (await browsers[0].ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    open_browsers(port, 1, garbage)
    process.send_signal(signal.SIGINT)  # Ctrl+C
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert f"Open http://127.0.0.1:{port} in a browser" in output
    assert "Serving `tutor` on host 127.0.0.1" in output
    assert "Traceback" not in output
    assert "tutor serve: a browser session ended: JSONDecodeError" in output
    assert list(tmp_path.iterdir()) == []  # the sessions' folder is gone with the server


def test_the_page_links_back_to_the_address_the_browser_used(server) -> None:
    """With --public the bind address is 0.0.0.0, which no browser can reach: links follow the request."""
    port, process = server
    page = fetch_when_up(f"http://localhost:{port}/", process)
    assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in page
    assert f'src="http://localhost:{port}/static/js/textual.js"' in page


ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[a-zA-Z]")


async def read_until(ws, pattern: bytes, received: bytearray, limit: float = 120.0) -> None:
    """Collect what the app writes to the browser until its text (escape codes removed) matches (a bound
    for a loaded machine: the first browser waits for the fork server to load the course)."""
    deadline = time.monotonic() + limit
    while not re.search(pattern, ANSI.sub(b"", bytes(received))):
        message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
        if message.type != aiohttp.WSMsgType.BINARY:
            assert message.type == aiohttp.WSMsgType.TEXT, f"the session ended: {message}"
            continue
        received += message.data


def test_a_browser_session_runs_the_app_and_answers_a_key() -> None:
    """What the page's JavaScript does: open the websocket, read the screen, type a key."""
    port, process = start_server("sandbox", "--optimizer", "gd")
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)

        async def session() -> bytes:
            received = bytearray()
            async with aiohttp.ClientSession() as client:
                async with client.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=40") as ws:
                    await read_until(ws, rb"update 0 ", received)
                    await ws.send_str(json.dumps(["stdin", " "]))
                    await read_until(ws, rb"update 1 ", received)
            return bytes(received)

        screen = ANSI.sub(b"", asyncio.run(session())).decode("utf-8", "replace")
        assert "gradient descent lr=0.001" in screen
        assert "Traceback" not in screen and "needs a terminal" not in screen
    finally:
        stop(process)


LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; apps are forked on Linux only")


def running(pid: int) -> bool:
    """The process exists and has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_below(pid: int) -> set[int]:
    """Every running process under `pid`: the fork server and the browsers' apps."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    below, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        children = {child for child, its_parent in parents.items() if its_parent == parent}
        below |= children
        frontier += children
    return below


def wait_until(condition, limit: float = 15.0) -> bool:
    """Poll `condition` until true; False after `limit` seconds (a bound, not a measure: timing is benchmarks/')."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Browser:
    """One browser tab on the served page, as its JavaScript speaks to the server."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.received = bytearray()

    async def shows(self, pattern: bytes) -> str:
        """Read until the text written since the last call matches; that text."""
        await read_until(self.ws, pattern, self.received)
        text = ANSI.sub(b"", bytes(self.received)).decode("utf-8", "replace")
        self.received.clear()
        return text

    async def types(self, keys: str) -> None:
        await self.ws.send_str(json.dumps(["stdin", keys]))


@pytest.fixture(scope="module")
def lessons_server(tmp_path_factory: pytest.TempPathFactory):
    """`tutor serve` (the lesson list), its temporary files in a folder of its own."""
    temp = tmp_path_factory.mktemp("serve-temp")
    port, process = start_server(temp=temp)
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)
        yield port, process, temp
    finally:
        stop(process)


def open_browsers(port: int, count: int, session, query: str = "width=120&height=40"):
    """Run `session(browsers)` with `count` browsers connected to the server."""

    async def main():
        async with aiohttp.ClientSession() as client:
            sockets = [await client.ws_connect(f"ws://127.0.0.1:{port}/ws?{query}") for _ in range(count)]
            try:
                return await session([Browser(ws) for ws in sockets])
            finally:
                for ws in sockets:
                    await ws.close()

    return asyncio.run(main())


@LINUX_ONLY
def test_each_browser_has_progress_of_its_own_and_leaves_no_folder_behind(lessons_server) -> None:
    port, process, temp = lessons_server
    (sessions,) = temp.glob("tutor-serve-*")

    async def session(browsers: list[Browser]) -> None:
        first, second = browsers
        await first.shows(rb"enter opens it")
        await first.types("\r")  # the first lesson
        await first.shows(rb"update 0")
        await first.types(" ")
        await first.shows(rb"update 1")  # saved soon after, in this session's own folder
        assert wait_until(lambda: [path.name for path in sessions.glob("*/progress.json")] == ["progress.json"])
        await first.types("\x1b")  # back to the list
        assert "You stopped in" in await first.shows(rb"Enter continues")
        assert "enter opens it" in await second.shows(rb"enter opens it|Enter continues")  # never the first's

    open_browsers(port, 2, session)
    assert wait_until(lambda: not any(sessions.iterdir())), list(sessions.iterdir())


@LINUX_ONLY
def test_a_huge_terminal_is_capped_and_a_closed_browser_ends_its_app(lessons_server) -> None:
    """`/ws?width=20000&height=20000` once took an app to 2 GB: the app gets at most MAX_COLUMNS x MAX_ROWS."""
    port, process, _ = lessons_server
    before = processes_below(process.pid)
    apps: set[int] = set()
    rows_seen: list[int] = []

    async def repaint_at(ws, rows: int) -> None:
        """Read until one write of the app draws down to row `rows` and no further (a whole repaint)."""
        deadline = time.monotonic() + 120
        while not rows_seen or rows_seen[-1] != rows:
            message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
            assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), f"the session ended: {message}"
            if message.type == aiohttp.WSMsgType.BINARY and (drawn := re.findall(rb"\x1b\[(\d+);\d+H", message.data)):
                rows_seen.append(max(int(row) for row in drawn))

    async def session(browsers: list[Browser]) -> None:
        ws = browsers[0].ws
        await repaint_at(ws, serve.MAX_ROWS)
        apps.update(processes_below(process.pid) - before)
        await ws.send_str(json.dumps(["resize", {"width": 90, "height": 30}]))
        await repaint_at(ws, 30)
        await ws.send_str(json.dumps(["resize", {"width": "wide", "height": None}]))  # ignored
        await ws.send_str(json.dumps(["resize", {"width": 20000, "height": 20000}]))
        await repaint_at(ws, serve.MAX_ROWS)
        await browsers[0].types("q")  # the app still answers

    open_browsers(port, 1, session, query="width=20000&height=20000")
    assert max(rows_seen) == serve.MAX_ROWS
    assert len(apps) == 1
    assert wait_until(lambda: not apps & processes_below(process.pid))


@LINUX_ONLY
def test_an_app_that_does_not_quit_is_ended_when_its_browser_closes(lessons_server) -> None:
    port, process, _ = lessons_server
    before = processes_below(process.pid)
    apps: set[int] = set()

    async def session(browsers: list[Browser]) -> None:
        await browsers[0].shows(rb"enter opens it")
        apps.update(processes_below(process.pid) - before)
        for pid in apps:
            os.kill(pid, signal.SIGSTOP)  # it cannot answer textual-serve's "quit"

    open_browsers(port, 1, session)
    assert len(apps) == 1
    assert wait_until(lambda: not apps & processes_below(process.pid))


def test_no_more_browsers_than_max_browsers_at_once(tmp_path: Path) -> None:
    """Each browser is a process: a tab opened in a loop is turned away, not given the machine's memory."""
    port, process = start_server("--max-browsers", "1", temp=tmp_path)

    async def class_of_one(browsers: list[Browser]) -> int:
        await browsers[0].shows(rb"enter opens it")
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(f"ws://127.0.0.1:{port}/ws")
        return refused.value.status

    def admitted() -> bool:
        try:
            return bool(open_browsers(port, 1, lambda browsers: browsers[0].shows(rb"enter opens it")))
        except aiohttp.WSServerHandshakeError:
            return False

    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)
        assert open_browsers(port, 1, class_of_one) == 503
        assert wait_until(admitted)  # once the first has closed
    finally:
        stop(process)
    assert "tutor serve: a browser was turned away: 1 are open (--max-browsers)" in process.stdout.read()


@LINUX_ONLY
def test_the_apps_end_when_the_server_is_killed(tmp_path: Path) -> None:
    """Killed, the server never asks its apps to quit: they end with it rather than run on, orphaned."""
    port, process = start_server(temp=tmp_path)
    before = set()
    apps: set[int] = set()
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)
        before = processes_below(process.pid)

        async def session(browsers: list[Browser]) -> None:
            await browsers[0].shows(rb"enter opens it")
            apps.update(processes_below(process.pid) - before)
            process.kill()

        open_browsers(port, 1, session)
    finally:
        stop(process)
    assert len(apps) == 1
    assert wait_until(lambda: not any(running(pid) for pid in apps | before))  # the app and the fork server


@LINUX_ONLY
def test_without_the_fork_server_each_browser_still_gets_its_app(tmp_path: Path) -> None:
    port, process = start_server("sandbox", "--optimizer", "gd", temp=tmp_path)
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)
        (forks,) = processes_below(process.pid)
        os.kill(forks, signal.SIGKILL)

        async def session(browsers: list[Browser]) -> str:
            await browsers[0].shows(rb"update 0 ")
            await browsers[0].types(" ")
            return await browsers[0].shows(rb"update 1 ")

        assert "gradient descent" in open_browsers(port, 1, session)
        assert "gradient descent" in open_browsers(port, 1, session)
        assert wait_until(lambda: not processes_below(process.pid))  # each launched app ended with its browser
    finally:
        stop(process)
    assert process.stdout.read().count("each browser's app is launched instead") == 1  # said once, when it fails


def test_a_port_in_use_is_refused_with_a_reason() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*TUTOR, "serve", "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Choose another port with --port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--port", "70000"], "--port must be from 1 to 65535, not 70000"),
        (["--port", "http"], "argument --port: invalid int value: 'http'"),
        (["--max-browsers", "0"], "--max-browsers must be from 1 to 1000, not 0"),
        (["trace"], "serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor trace`"),
        (["--", "--width", "5x"], "argument --width: invalid int value: '5x'"),
        # What the app itself would refuse, refused before a browser sees a page that never loads:
        (["sandbox", "--state", "ZZZZ"], "sandbox: this share code is damaged"),
        (["sandbox", "--lr", "nan"], "sandbox: lr cannot be NaN"),
        (["sandbox", "--decay", "1"], "sandbox: decay must be in [0, 1), not 1"),
        (["sandbox", "--hide", "nope"], "sandbox: --hide: unknown panel or control 'nope'"),
        (["sandbox", "--problem", "valley", "--depth", "3"], "sandbox: --depth belongs to --problem deep-chain"),
        (["--", "--lesson", "nope"], "no lesson 'nope'; the lessons are: deep-chain, "),
        (["--", "--run-all"], "serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor --run-all`"),
    ],
)
def test_bad_arguments_are_refused_before_serving(
    args: list[str], reason: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def served(*_: object) -> int:
        raise AssertionError("served despite a bad argument")

    monkeypatch.setattr(serve, "serve", served)
    with pytest.raises(SystemExit) as stopped:
        main(["serve", *args])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert reason in error
    assert "Traceback" not in error


def test_where_apps_are_not_forked_the_served_command_is_this_python_running_tutor() -> None:
    command = serve.app_command(["sandbox", "--optimizer", "gd", "--state", "04C0 40RS"])
    assert command == f"exec {shlex.quote(sys.executable)} -m tutor sandbox --optimizer gd --state '04C0 40RS'"


def test_a_browser_asks_for_a_terminal_within_the_cap() -> None:
    assert serve.terminal_size(120, 40) == (120, 40)
    assert serve.terminal_size(20000, 20000) == (serve.MAX_COLUMNS, serve.MAX_ROWS)
    assert serve.terminal_size(0, -5) == (1, 1)
    assert serve.terminal_size("120", 40) is None  # a resize frame's fields come from the browser
    assert serve.terminal_size(True, 40) is None


def test_public_banner_names_the_lan_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "lan_addresses", lambda: ["192.168.1.20", "10.0.0.5"])
    text = serve.banner("0.0.0.0", 8000, True, "tutor")
    assert "Students on this network open: http://192.168.1.20:8000  or  http://10.0.0.5:8000" in text
    assert "On this machine: http://127.0.0.1:8000" in text


def test_public_banner_without_a_lan_address_says_how_to_find_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "lan_addresses", lambda: [])
    text = serve.banner("0.0.0.0", 8000, True, "tutor")
    assert "http://<this machine's address>:8000" in text
    assert "hostname -I" in text


def test_lan_addresses_never_include_loopback() -> None:
    assert all(not address.startswith("127.") for address in serve.lan_addresses())

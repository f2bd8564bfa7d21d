"""`tutor serve`: textual-serve's page on loopback, stopped cleanly; bad addresses and arguments refused."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tutor import serve

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


def start_server(*app_args: str) -> tuple[int, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [*TUTOR, "serve", "--port", str(port), *app_args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return port, process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def server():
    port, process = start_server()
    try:
        yield port, process
    finally:
        stop(process)


def test_serve_answers_with_textual_serves_page_and_stops_cleanly(server) -> None:
    port, process = server
    page = fetch_when_up(f"http://127.0.0.1:{port}/", process)
    assert "<div>tutor</div>" in page  # the start card names the app
    assert 'class="textual-terminal"' in page
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/textual.js", timeout=5) as script:
        assert script.status == 200
    process.send_signal(signal.SIGINT)  # Ctrl+C
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert f"Open http://127.0.0.1:{port} in a browser" in output
    assert "Serving `tutor` on host 127.0.0.1" in output
    assert "Traceback" not in output


def test_the_page_links_back_to_the_address_the_browser_used(server) -> None:
    """With --public the bind address is 0.0.0.0, which no browser can reach: links follow the request."""
    port, process = server
    page = fetch_when_up(f"http://localhost:{port}/", process)
    assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in page
    assert f'src="http://localhost:{port}/static/js/textual.js"' in page


ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[a-zA-Z]")


async def read_until(ws, pattern: bytes, received: bytearray, limit: float = 30.0) -> None:
    """Collect what the app writes to the browser until its text (escape codes removed) matches."""
    import aiohttp

    deadline = time.monotonic() + limit
    while not re.search(pattern, ANSI.sub(b"", bytes(received))):
        message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
        if message.type != aiohttp.WSMsgType.BINARY:
            assert message.type == aiohttp.WSMsgType.TEXT, f"the session ended: {message}"
            continue
        received += message.data


def test_a_browser_session_runs_the_app_and_answers_a_key() -> None:
    """What the page's JavaScript does: open the websocket, read the screen, type a key."""
    import aiohttp

    port, process = start_server("sandbox", "--optimizer", "gd")
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)

        async def session() -> bytes:
            received = bytearray()
            async with aiohttp.ClientSession() as client:
                async with client.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=40") as ws:
                    await read_until(ws, rb"step 0 ", received)
                    await ws.send_str(json.dumps(["stdin", " "]))
                    await read_until(ws, rb"step 1 ", received)
            return bytes(received)

        screen = ANSI.sub(b"", asyncio.run(session())).decode("utf-8", "replace")
        assert "gradient descent lr=0.001" in screen
        assert "Traceback" not in screen and "needs a terminal" not in screen
    finally:
        stop(process)


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
        (["trace"], "serve runs the app (`tutor` or `tutor sandbox ...`), not `tutor trace`"),
        (["--", "--width", "5x"], "argument --width: invalid int value: '5x'"),
    ],
)
def test_bad_arguments_are_refused_before_serving(args: list[str], reason: str) -> None:
    result = subprocess.run([*TUTOR, "serve", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_the_served_command_is_this_python_running_tutor_with_the_apps_arguments() -> None:
    command = serve.app_command(["sandbox", "--optimizer", "gd", "--state", "04C0 40RS"])
    assert command.endswith(f"exec {sys.executable} -m tutor sandbox --optimizer gd --state '04C0 40RS'")


def test_every_browser_session_gets_a_progress_file_of_its_own() -> None:
    """The command runs through the shell once per session: two sessions, two files, neither the user's."""
    command = serve.app_command([]).replace(f"{sys.executable} -m tutor", "env")
    paths = []
    for _ in range(2):
        env = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
        paths.append(next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("TUTOR_PROGRESS=")))
    assert paths[0] != paths[1]
    assert all(path.endswith("/progress.json") and Path(path).parent.is_dir() for path in paths)
    for path in paths:
        Path(path).parent.rmdir()


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

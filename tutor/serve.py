"""`tutor serve`: the app in the browsers of a class, through textual-serve.

Every browser that opens the page gets its own copy of the app (`tutor`, or `tutor sandbox ...`
with the arguments given after `serve`'s own), running on this machine.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tutor import forkserver

LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = "0.0.0.0"
# The terminal a browser may ask for, in cells: a 4K screen at a small font is about 480x135.
# Textual's buffers grow with the cells: 20000x20000 took an app process to 2 GB.
MAX_COLUMNS = 500
MAX_ROWS = 200
# After textual-serve asks a closed browser's app to quit, it has this long before it is killed.
QUIT_WITHIN = 1.0  # seconds
LOADED = "Loaded: every browser's app now starts at once."


def app_command(app_args: Sequence[str]) -> str:
    """The command textual-serve runs for each browser where apps are not forked: this Python, this tutor
    (exec'ed by the shell textual-serve starts, so the process it ends is the app, not the shell)."""
    command = shlex.join([sys.executable, "-m", "tutor", *app_args])
    return f"exec {command}" if os.name == "posix" else command


def terminal_size(width: object, height: object) -> tuple[int, int] | None:
    """The size a browser asked for, within 1..MAX cells each way; None if it is not two whole numbers."""
    if not (isinstance(width, int) and isinstance(height, int)) or isinstance(width, bool) or isinstance(height, bool):
        return None
    return min(max(width, 1), MAX_COLUMNS), min(max(height, 1), MAX_ROWS)


def web_environment() -> dict[str, str]:
    """textual-serve's environment for an app (Textual reads it at import, so the fork server starts with it)."""
    # The method reads only `self.debug` (textual-serve 1.1): a namespace stands in for a whole AppService.
    return AppService._build_environment(SimpleNamespace(debug=False))  # type: ignore[arg-type]


@dataclass
class ForkedApp:
    """A forked app as textual-serve's AppService uses a launched one: its streams, and a way to end it."""

    pid: int
    stdin: asyncio.StreamWriter
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    async def wait(self) -> None:
        """Until it has ended: its output ends with it (what textual-serve has not read is dropped)."""
        while await self.stdout.read(1 << 16):
            pass


class TutorAppService(AppService):
    """One browser's app: forked from the fork server (or launched), with a progress file of its
    own for the session (thirty students must not share one progress.json, nor the teacher's),
    a terminal no larger than MAX_COLUMNS x MAX_ROWS, and an end within QUIT_WITHIN of the close."""

    def __init__(self, command: str, *, forks: forkserver.ForkServer | None, sessions: Path, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.forks = forks
        self.session_dir = sessions / self.app_service_id

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment["TUTOR_PROGRESS"] = str(self.session_dir / "progress.json")
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        if self.forks is None or not self.forks.working:
            return await super()._open_app_process(width, height)
        app_stdio, stdio = socket.socketpair()
        app_stderr, stderr = socket.socketpair()
        try:
            pid = await self.forks.fork([app_stdio.fileno(), app_stderr.fileno()], self._build_environment(width, height))
        except forkserver.ForkServerError as error:
            if self.forks.working:  # this request failed, the fork server goes on (else it has said why)
                print(f"tutor serve: {error}; this browser's app is launched instead", file=sys.stderr)
            stdio.close()
            stderr.close()
            return await super()._open_app_process(width, height)
        finally:  # the app holds its ends now
            app_stdio.close()
            app_stderr.close()
        stdout, stdin = await asyncio.open_unix_connection(sock=stdio)
        errors, _ = await asyncio.open_unix_connection(sock=stderr)
        self._stdin = stdin
        # AppService types this as asyncio's Process; a ForkedApp has the parts of one it uses (see the class).
        self._process = ForkedApp(pid, stdin, stdout, errors)  # type: ignore[assignment]
        return self._process

    async def start(self, width: int, height: int) -> None:
        await super().start(*(terminal_size(width, height) or (80, 24)))

    async def set_terminal_size(self, width: Any, height: Any) -> None:
        size = terminal_size(width, height)
        if size is not None:  # a malformed resize is ignored
            await super().set_terminal_size(*size)

    async def stop(self) -> None:
        if self._task is None:
            return
        stopping = asyncio.ensure_future(self._quit())
        try:
            await asyncio.wait_for(asyncio.shield(stopping), QUIT_WITHIN)
        except asyncio.TimeoutError:
            try:  # it has not ended, so the pid is still its own
                if self._process is not None:
                    self._process.kill()
            except ProcessLookupError:
                pass
            await stopping
        finally:
            shutil.rmtree(self.session_dir, ignore_errors=True)

    async def _quit(self) -> None:
        """textual-serve's stop (it asks the app to quit), then the app's end: textual-serve stops reading
        when it cannot write to a closed browser, and the app may still be writing its progress."""
        process = self._process
        await super().stop()
        if process is not None:
            await process.wait()


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, from its own name (nothing is contacted)."""
    try:
        _, _, addresses = socket.gethostbyname_ex(socket.gethostname())
    except OSError:
        return []
    return sorted({a for a in addresses if not a.startswith("127.")})


def banner(host: str, port: int, public: bool, command: str) -> str:
    """What `tutor serve` prints first: where to point the browsers."""
    lines = [f"Serving `{command}` on host {host}, port {port}."]
    if public:
        addresses = lan_addresses()
        if addresses:
            lines.append("Students on this network open: " + "  or  ".join(f"http://{a}:{port}" for a in addresses))
        else:
            lines.append(f"Students on this network open http://<this machine's address>:{port}")
            lines.append(
                "(find the address with `hostname -I` on Linux, `ipconfig` on Windows, `ipconfig getifaddr en0` on macOS)"
            )
        lines.append(f"On this machine: http://{LOOPBACK}:{port}")
    else:
        lines.append(f"Open http://{host}:{port} in a browser on this machine (--public to let a class on the network in).")
    lines.append("Each browser gets its own copy of the app, with progress of its own for the session. Press Ctrl+C to stop.")
    return "\n".join(lines)


class TutorServer(Server):
    """textual-serve, with TutorAppService for each browser and the page's own links built from the
    address the browser used (textual-serve writes absolute URLs from one fixed public URL; with
    --public that would be 0.0.0.0, which no browser can reach)."""

    def __init__(self, *args: Any, forks: forkserver.ForkServer | None, sessions: Path, max_browsers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forks = forks
        self.sessions = sessions
        self.max_browsers = max_browsers  # each is a process: a tab opened in a loop must not fill the memory
        self.browsers = 0
        self._loaded: asyncio.Future[None] | None = None  # says when the fork server is ready

    async def on_startup(self, app: web.Application) -> None:
        await super().on_startup(app)
        if self.forks is not None:
            self._loaded = asyncio.ensure_future(self._say_when_loaded(self.forks.listen()))

    async def _say_when_loaded(self, ready: asyncio.Future[None]) -> None:
        try:
            await ready
        except forkserver.ForkServerError:
            return  # it has said why
        print(LOADED, flush=True)

    async def handle_index(self, request: Any) -> Any:
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's, with a TutorAppService (it names its own AppService inside), and no more
        than max_browsers at once."""
        if self.browsers >= self.max_browsers:
            print(f"tutor serve: a browser was turned away: {self.browsers} are open (--max-browsers)", file=sys.stderr)
            raise web.HTTPServiceUnavailable(text=f"tutor serve: {self.browsers} browsers are open, the most it serves")
        self.browsers += 1
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: TutorAppService | None = None
        try:
            await websocket.prepare(request)
            app_service = TutorAppService(
                self.command,
                forks=self.forks,
                sessions=self.sessions,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one line: a browser's bad frame is no reason for a traceback here
            print(f"tutor serve: a browser session ended: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            if app_service is not None:
                await app_service.stop()
            self.browsers -= 1
        return websocket


def serve(host: str | None, port: int, public: bool, app_args: Sequence[str], max_browsers: int = 100) -> int:
    """Serve until Ctrl+C; 0 when stopped, 2 when the address cannot be used."""
    bind = host or (EVERY_INTERFACE if public else LOOPBACK)
    every_interface = public or bind in (EVERY_INTERFACE, "::")  # `--host 0.0.0.0` is --public too
    print(banner(bind, port, every_interface, shlex.join(["tutor", *app_args])), flush=True)
    with tempfile.TemporaryDirectory(prefix="tutor-serve-") as sessions:
        # Loading while the server starts: a browser that comes first waits for it.
        forks = forkserver.ForkServer(app_args, web_environment()) if forkserver.available() else None
        server = TutorServer(
            app_command(app_args),
            host=bind,
            port=port,
            title="tutor",
            forks=forks,
            sessions=Path(sessions),
            max_browsers=max_browsers,
        )
        try:
            server.serve()
        except OSError as error:
            print(f"tutor serve: cannot listen on {bind}:{port}: {error.strerror or error}", file=sys.stderr)
            print("Choose another port with --port, or stop what is using this one.", file=sys.stderr)
            return 2
        finally:
            if forks is not None:
                forks.close()
    return 0

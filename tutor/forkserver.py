"""The fork server behind `tutor serve`: imports and the course once, an app per browser forked from them.

Launching `python -m tutor` for each browser imports Textual, numpy and plotext and computes every
lesson's numbers again, in every process: a class of 30 opening the page together waited seconds for
the CPU and held one copy of everything per browser. This process does that work once, then forks
an app for each browser; the forks share its pages copy-on-write (`gc.freeze()` first, so the
children's garbage collector leaves those pages unwritten).

The server talks to it over a private socket pair (no path another user could connect to): a request
is what the session's environment changes in this one's (JSON), with the app's stdin/stdout socket and
its stderr socket attached (SCM_RIGHTS); the answer is the app's pid. The app inside is `python -m tutor ...` as launched, without the launch.
When the server ends, the socket closes and this process ends too.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import pkgutil
import runpy
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

REQUEST_LIMIT = 1 << 16  # bytes: a request is the few variables a session changes
LOAD_WITHIN = 120.0  # seconds for the imports and the course's numbers (a few on an idle machine)
ANSWER_WITHIN = 30.0  # seconds to answer a request once loaded
READY = b"ready"
# Modules an app never imports: the server's side, and the entry point that would run `main()`.
NOT_PRELOADED = ("tutor.__main__", "tutor.serve", "tutor.forkserver")


class ForkServerError(RuntimeError):
    """The fork server is gone or did not answer: the caller launches the app the usual way."""


def available() -> bool:
    """Forking a process that has loaded numpy is safe on Linux; elsewhere `tutor serve` launches each app."""
    return sys.platform == "linux" and hasattr(socket, "send_fds")


class ForkServer:
    """The server's handle on the fork server process."""

    def __init__(self, app_args: Sequence[str], environment: Mapping[str, str]) -> None:
        """Start it with the environment every app gets (Textual reads its settings once, at import).
        It loads while the server starts; `listen` (in the server's event loop) hears when it is ready."""
        self._environment = dict(environment)
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._channel.setblocking(False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor.forkserver", str(theirs.fileno()), json.dumps(list(app_args))],
            pass_fds=[theirs.fileno()],
            env=self._environment,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.ready: asyncio.Future[None] | None = None  # done once the imports and the course are loaded
        # Requests go out without waiting for the answers before them; the answers come back in order.
        self._answers: deque[asyncio.Future[bytes]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen(self) -> asyncio.Future[None]:
        """Start reading its answers in the running event loop; the future is done once it is ready."""
        self._loop = asyncio.get_running_loop()
        self.ready = self._loop.create_future()
        self._loop.add_reader(self._channel.fileno(), self._read_answer)
        return self.ready

    @property
    def working(self) -> bool:
        """False once it has failed to answer: the channel is closed then."""
        return self._channel.fileno() != -1

    async def fork(self, fds: Sequence[int], environment: Mapping[str, str]) -> int:
        """Fork an app with `fds` as its (stdin and stdout, stderr) and this environment; its pid."""
        if self._loop is None or self.ready is None:
            raise ForkServerError("the fork server is not listened to")
        if not self.working:
            raise ForkServerError("the fork server has stopped")
        # A request made while it loads waits in the channel: it is answered first once loaded.
        within = ANSWER_WITHIN if self.ready.done() else LOAD_WITHIN
        request = {
            "set": {name: value for name, value in environment.items() if self._environment.get(name) != value},
            "unset": [name for name in self._environment if name not in environment],
        }
        try:
            socket.send_fds(self._channel, [json.dumps(request).encode()], list(fds))
        except BlockingIOError as error:  # nothing was sent: the channel is still in step
            raise ForkServerError("the fork server is busy") from error
        except OSError as error:
            self._stop(f"the fork server did not answer: {error}")
            raise ForkServerError(f"the fork server did not answer: {error}") from error
        answer = self._loop.create_future()
        self._answers.append(answer)
        try:
            reply = await asyncio.wait_for(answer, within)  # cancelled, it stays in line for its answer
        except asyncio.TimeoutError:
            self._stop(f"the fork server did not answer within {within:.0f} s")
            raise ForkServerError(f"the fork server did not answer within {within:.0f} s") from None
        if not reply.isdigit():
            raise ForkServerError(reply.decode("utf-8", "replace"))
        return int(reply)

    def _read_answer(self) -> None:
        try:
            reply = self._channel.recv(64)
        except BlockingIOError:
            return
        except OSError as error:
            self._stop(f"the fork server did not answer: {error}")
            return
        if not reply:
            self._stop("the fork server has stopped")
        elif reply == READY and self.ready is not None and not self.ready.done():
            self.ready.set_result(None)
        elif self._answers:
            answer = self._answers.popleft()
            if not answer.done():  # its session may have gone while it waited
                answer.set_result(reply)

    def _stop(self, reason: str) -> None:
        """The channel is out of step or gone: never use it again (said once); the requests waiting fail."""
        if not self.working:
            return
        print(f"tutor serve: {reason}; each browser's app is launched instead", file=sys.stderr)
        if self._loop is not None:
            self._loop.remove_reader(self._channel.fileno())
        self._channel.close()
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(ForkServerError(reason))
        while self._answers:
            answer = self._answers.popleft()
            if not answer.done():
                answer.set_exception(ForkServerError(reason))

    def close(self) -> None:
        """End it at once: it holds nothing worth keeping (its apps go on until their browsers close)."""
        self._channel.close()  # after the server's event loop has ended: nothing waits on it
        self.process.kill()
        self.process.wait()


def preload() -> None:
    """Import every module an app may use, read the course and compute its numbers (seconds of engine
    work no fork repeats), then freeze it all."""
    import tutor
    from tutor.course import load_course, prepare
    from tutor.course.reader import preload_course

    for module in pkgutil.walk_packages(tutor.__path__, "tutor."):
        if module.name not in NOT_PRELOADED:
            importlib.import_module(module.name)
    # Textual imports its driver as the app starts: every fork runs the one textual-serve names.
    driver = os.environ.get("TEXTUAL_DRIVER", "")
    if ":" in driver:
        importlib.import_module(driver.partition(":")[0])
    course = load_course()
    prepare(course)
    preload_course(course)
    gc.collect()
    gc.freeze()  # the forks' collectors never walk (and so never write to) what is shared


def run_app(fds: Sequence[int], changes: dict[str, Any], app_args: Sequence[str]) -> NoReturn:
    """In the fork: the session's stdio and environment (what it changes in this one), then `tutor`
    with the app's arguments."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        stdio, errors = fds
        os.dup2(stdio, 0)
        os.dup2(stdio, 1)
        os.dup2(errors, 2)
        os.close(stdio)
        os.close(errors)
        for name in changes["unset"]:
            os.environ.pop(name, None)
        os.environ.update(changes["set"])
        threading.Thread(target=_end_with_the_server, daemon=True, name="tutor-serve-watch").start()
        sys.argv[1:] = app_args
        runpy.run_module("tutor", run_name="__main__")  # what `python -m tutor ...` runs; it ends in sys.exit
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # to the session's stderr, which textual-serve prints on the server's console
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        # Straight out: no interpreter teardown, no waiting for a worker thread's engine run.
        os._exit(code)


def _end_with_the_server() -> None:
    """The server closes its end of the session's socket only after the app has ended, unless it was
    killed: then end the app as Ctrl+C would, rather than leave it running with no browser."""
    watch = select.poll()
    watch.register(1, select.POLLRDHUP)
    watch.poll()
    os.kill(os.getpid(), signal.SIGTERM)


def serve_forks(channel: socket.socket, app_args: Sequence[str]) -> None:
    """Load, then answer fork requests until the server closes the channel (the requests made while
    it loads wait in the channel)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server; this ends when its channel closes
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the apps
    gc.disable()
    preload()
    channel.send(READY)
    while answer(channel, app_args):
        pass


def answer(channel: socket.socket, app_args: Sequence[str]) -> bool:
    """Fork an app for the next request, or say why not; False once the server has closed the channel."""
    try:
        request, fds, _, _ = socket.recv_fds(channel, REQUEST_LIMIT, 2)
    except OSError:
        return False
    if not request:
        return False
    try:
        if len(fds) != 2:
            raise ValueError(f"a request carries 2 file descriptors, not {len(fds)}")
        changes = json.loads(request)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
    except (OSError, ValueError) as error:
        channel.send(f"cannot start an app: {error}".encode()[:64])
    else:
        if pid == 0:
            channel.close()
            run_app(fds, changes, app_args)
        channel.send(b"%d" % pid)
    finally:
        for fd in fds:
            os.close(fd)
    return True


if __name__ == "__main__":
    serve_forks(socket.socket(fileno=int(sys.argv[1])), json.loads(sys.argv[2]))

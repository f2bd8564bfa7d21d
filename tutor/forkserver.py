"""The fork server behind `tutor serve`: imports and the course once, an app per browser forked from them.

Launching `python -m tutor` for each browser imports Textual, numpy and plotext and computes every
lesson's numbers again, in every process: a class of 30 opening the page together waited seconds for
the CPU and held one copy of everything per browser. This process does that work once, then forks
an app for each browser; the forks share its pages copy-on-write (`gc.freeze()` first, so the
children's garbage collector leaves those pages unwritten).

The server talks to it over a private socket pair (no path another user could connect to): a request
is the session's environment (JSON) with the app's stdin/stdout socket and its stderr socket attached
(SCM_RIGHTS); the answer is the app's pid. The app inside is `python -m tutor ...` as launched, without the launch.
When the server ends, the socket closes and this process ends too.
"""

from __future__ import annotations

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
from collections.abc import Mapping, Sequence
from typing import NoReturn

REQUEST_LIMIT = 1 << 20  # bytes: an environment is a few kB
ANSWER_WITHIN = 30.0  # seconds: to be ready (the imports and the course), then to answer each request
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
        """Start it with the environment every app gets (Textual reads its settings once, at import)."""
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._channel.settimeout(ANSWER_WITHIN)
        self._lock = threading.Lock()  # one request and its answer at a time on the one channel
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor.forkserver", str(theirs.fileno()), json.dumps(list(app_args))],
            pass_fds=[theirs.fileno()],
            env=dict(environment),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        try:  # the imports and the course, before the first browser may ask
            ready = self._channel.recv(64) == READY
        except OSError:
            ready = False
        if not ready:
            self.close()
            raise ForkServerError("the fork server did not start")

    def fork(self, fds: Sequence[int], environment: Mapping[str, str]) -> int:
        """Fork an app with `fds` as its (stdin and stdout, stderr) and this environment; its pid.

        Blocking: run it in a thread."""
        with self._lock:
            try:
                socket.send_fds(self._channel, [json.dumps(dict(environment)).encode()], list(fds))
                answer = self._channel.recv(64)
            except OSError as error:  # a timeout too: the channel is out of step, never use it again
                self._channel.close()
                raise ForkServerError(f"the fork server did not answer: {error}") from error
        if not answer:
            self._channel.close()
            raise ForkServerError("the fork server has stopped")
        if not answer.isdigit():
            raise ForkServerError(answer.decode("utf-8", "replace"))
        return int(answer)

    @property
    def working(self) -> bool:
        """False once it has failed to answer: the channel is closed then."""
        return self._channel.fileno() != -1

    def close(self) -> None:
        """End it at once: it holds nothing worth keeping (its apps go on until their browsers close)."""
        self._channel.close()
        self.process.kill()
        self.process.wait()


def preload() -> None:
    """Import every module an app may use and compute the course's numbers, then freeze it all."""
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


def run_app(fds: Sequence[int], environment: Mapping[str, str], app_args: Sequence[str]) -> NoReturn:
    """In the fork: the session's stdio and environment, then `tutor` with the app's arguments."""
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
        os.environ.clear()
        os.environ.update(environment)
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
    """Answer fork requests until the server closes the channel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server; this ends when its channel closes
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the apps
    gc.disable()
    preload()
    channel.send(READY)
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(channel, REQUEST_LIMIT, 2)
        except OSError:
            return
        if not request:
            return
        try:
            if len(fds) != 2:
                raise ValueError(f"a request carries 2 file descriptors, not {len(fds)}")
            environment = json.loads(request)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except (OSError, ValueError) as error:
            channel.send(f"cannot start an app: {error}".encode()[:64])
        else:
            if pid == 0:
                channel.close()
                run_app(fds, environment, app_args)
            channel.send(b"%d" % pid)
        finally:
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    serve_forks(socket.socket(fileno=int(sys.argv[1])), json.loads(sys.argv[2]))

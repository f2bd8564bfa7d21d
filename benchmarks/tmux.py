"""Drive apps in a real terminal: tmux, through one control-mode client.

Every command (new-session, send-keys, capture-pane) goes over the control client's stdin,
so polling the screen costs a round trip to the tmux server, not a fork of `tmux` each time.
The measured apps run in their own detached sessions at a fixed size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass


class TmuxError(RuntimeError):
    """tmux refused a command, or an app never showed what was awaited."""


@dataclass
class Frame:
    """One capture of a pane: its text and when the capture came back."""

    text: str
    at: float


class Tmux:
    """A private tmux server (its own socket) with one control client."""

    def __init__(self, terminal: str = "tmux-256color") -> None:
        if shutil.which("tmux") is None:
            raise TmuxError("tmux is not installed (apt-get install -y tmux)")
        self.socket = f"tutor-bench-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "TERM": os.environ.get("TERM", "xterm-256color")}
        for name in ("TMUX", "COLUMNS", "LINES", "ROWS"):  # Textual would believe these over the pane's size
            env.pop(name, None)
        self.control = subprocess.Popen(
            [
                "tmux",
                "-L",
                self.socket,
                "-f",
                "/dev/null",
                "-C",
                "new-session",
                "-s",
                "control",
                "-x",
                "80",
                "-y",
                "24",
                "sleep 86400",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=env,
        )
        self._sync()
        self.command(f"set-option -g default-terminal {terminal}")
        self.command("set-option -g remain-on-exit on")  # a crashed app leaves its traceback to read
        self.command("set-option -g history-limit 0")

    def _read_block(self) -> tuple[bool, list[str]]:
        """The next %begin..%end/%error block (notifications in between are skipped)."""
        assert self.control.stdout is not None
        while True:
            line = self.control.stdout.readline()
            if not line:
                raise TmuxError("the tmux control client went away")
            if line.startswith("%begin"):
                break
        body: list[str] = []
        while True:
            line = self.control.stdout.readline()
            if not line:
                raise TmuxError("the tmux control client went away")
            if line.startswith("%end") or line.startswith("%error"):
                return line.startswith("%end"), body
            body.append(line.rstrip("\n"))

    def _sync(self) -> None:
        token = f"sync-{uuid.uuid4().hex}"
        self._send(f"display-message -p {token}")
        while True:
            ok, body = self._read_block()
            if token in body:
                return

    def _send(self, line: str) -> None:
        assert self.control.stdin is not None
        self.control.stdin.write(line + "\n")
        self.control.stdin.flush()

    def command(self, line: str) -> list[str]:
        self._send(line)
        ok, body = self._read_block()
        if not ok:
            raise TmuxError(f"tmux: {line!r}: {' '.join(body)}")
        return body

    # --- sessions ---------------------------------------------------------------------------------

    def start(self, name: str, shell_command: str, width: int = 120, height: int = 40) -> float:
        """Start `shell_command` in a new detached session; returns the time it was started."""
        quoted = shell_command.replace("'", "'\\''")
        started = time.perf_counter()
        self.command(f"new-session -d -s {name} -x {width} -y {height} '{quoted}'")
        return started

    def kill(self, name: str) -> None:
        try:
            self.command(f"kill-session -t {name}")
        except TmuxError:
            pass

    def resize(self, name: str, width: int, height: int) -> None:
        self.command(f"resize-window -t {name} -x {width} -y {height}")

    def keys(self, name: str, *keys: str) -> float:
        """Send keys (tmux key names such as Space, C-c, or literal text); returns the time sent."""
        sent = time.perf_counter()
        self.command(f"send-keys -t {name} " + " ".join(keys))
        return sent

    def capture(self, name: str) -> Frame:
        text = "\n".join(self.command(f"capture-pane -p -t {name}"))
        return Frame(text, time.perf_counter())

    def first(self, name: str, ready: Callable[[str], bool], since: float, timeout: float = 20.0, poll: float = 0.002) -> Frame:
        """The first frame of the screen for which `ready` holds (a first paint, however brief)."""
        while True:
            frame = self.capture(name)
            if ready(frame.text):
                return frame
            if frame.at > since + timeout:
                raise TmuxError(f"{name}: the screen never became ready; it shows:\n{frame.text}")
            time.sleep(poll)

    def wait_for(
        self,
        name: str,
        ready: Callable[[str], bool],
        since: float,
        timeout: float = 20.0,
        settle: float = 0.1,
        poll: float = 0.002,
        seen: list[Frame] | None = None,
    ) -> Frame:
        """The first frame of the screen once `ready` holds and nothing changes for `settle` seconds.

        Its `at` is when that final frame was first seen: the whole frame, not the first change.
        Every capture is appended to `seen` if given (to read what the screen did after a timeout).
        """
        deadline = since + timeout
        first_seen: Frame | None = None
        while True:
            frame = self.capture(name)
            if seen is not None:
                seen.append(frame)
            if first_seen is not None and frame.text == first_seen.text:
                if frame.at - first_seen.at >= settle:
                    return first_seen
            elif ready(frame.text):
                first_seen = frame
            else:
                first_seen = None
            if frame.at > deadline:
                raise TmuxError(f"{name}: the screen never became ready; it shows:\n{frame.text}")
            time.sleep(poll)

    def close(self) -> None:
        try:
            self.command("kill-server")
        except TmuxError:
            pass
        self.control.kill()
        self.control.wait()

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

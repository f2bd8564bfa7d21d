"""`tutor serve`: the app in the browsers of a class, through textual-serve.

Every browser that opens the page gets its own copy of the app (`tutor`, or `tutor sandbox ...`
with the arguments given after `serve`'s own), running on this machine.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from collections.abc import Sequence
from typing import Any

LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = "0.0.0.0"


# textual-serve runs the command through the shell once per browser, so each session gets a
# progress file of its own: thirty students must not share (and overwrite) one progress.json,
# nor the teacher's.
SESSION_PROGRESS = 'TUTOR_PROGRESS="$(mktemp -d)/progress.json" exec '


def app_command(app_args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each browser: this Python, this tutor."""
    command = shlex.join([sys.executable, "-m", "tutor", *app_args])
    return SESSION_PROGRESS + command if os.name == "posix" else command


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


def serve(host: str | None, port: int, public: bool, app_args: Sequence[str]) -> int:
    """Serve until Ctrl+C; 0 when stopped, 2 when the address cannot be used."""
    from textual_serve.server import Server

    class TutorServer(Server):
        """textual-serve, with the page's own links built from the address the browser used.

        (textual-serve writes absolute URLs from one fixed public URL; with --public that would
        be 0.0.0.0, which no browser can reach.)
        """

        async def handle_index(self, request: Any) -> Any:
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    bind = host or (EVERY_INTERFACE if public else LOOPBACK)
    command = app_command(app_args)
    every_interface = public or bind in (EVERY_INTERFACE, "::")  # `--host 0.0.0.0` is --public too
    print(banner(bind, port, every_interface, shlex.join(["tutor", *app_args])), flush=True)
    server = TutorServer(command, host=bind, port=port, title="tutor")
    try:
        server.serve()
    except OSError as error:
        print(f"tutor serve: cannot listen on {bind}:{port}: {error.strerror or error}", file=sys.stderr)
        print("Choose another port with --port, or stop what is using this one.", file=sys.stderr)
        return 2
    return 0

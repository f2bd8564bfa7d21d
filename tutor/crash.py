"""Unexpected errors: the details go to a log file, the learner gets one line.

A traceback on the screen helps nobody in a classroom; the log keeps it for a bug report.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import traceback
from pathlib import Path


def log_path() -> Path:
    """Where crash details are written: the platform's log directory for tutor."""
    override = os.environ.get("TUTOR_LOG_DIR")
    if override:
        return Path(override) / "crash.log"
    from platformdirs import user_log_path

    return user_log_path("tutor", appauthor=False) / "crash.log"


def write_log(error: BaseException) -> Path:
    """Append the error's traceback to the crash log; fall back to the temp directory."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    for path in (log_path(), Path(tempfile.gettempdir()) / "tutor-crash.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(f"--- {stamp}\n{text}\n")
            return path
        except OSError:
            continue
    return Path("(no writable log directory)")


def one_line(error: BaseException) -> str:
    """The message the learner sees instead of a traceback."""
    path = write_log(error)
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"tutor stopped on an unexpected error ({type(error).__name__}: {reason}); details in {path}"


def fault_notice(error: BaseException, doing: str) -> str:
    """The one-line notice of an engine fault the app survives (`doing` says what stopped); the
    traceback goes to the crash log."""
    return f"{doing} on an unexpected error ({type(error).__name__}); details in {write_log(error)}"

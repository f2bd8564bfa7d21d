"""What a learner has done: checks passed, lessons completed, where each lesson was left.

Stored as JSON in the user data directory (override with $TUTOR_PROGRESS). Progress is
never worth a crash, nor worth harming a file that is not ours:

- Only a regular file is read, moved aside or replaced. A device, a FIFO or a folder at the
  path (`TUTOR_PROGRESS=/dev/null`) is left as it is: progress is kept for the session only.
  A symlink is followed: its target is read and replaced, the link stays.
- A damaged file (not JSON, not UTF-8, nested too deep, larger than MAX_BYTES, the wrong
  shape) is moved aside (progress.json.corrupt-N) and the learner starts fresh with a warning.
- Saving merges: under a lock (flock on the folder), the file is read again, this instance's
  changes since its last save are replayed onto it, and the result is written atomically
  (temp file + os.replace). Two instances on one file (two terminals, two tabs) lose nothing.
- A saved step past the run's cap (MAX_STEPS) is read as the cap; an unwritable file only
  sets a warning.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tutor.engine.run import MAX_STEPS

PROGRESS_ENV = "TUTOR_PROGRESS"
VERSION = 1
MAX_BYTES = 1_000_000  # a whole course's progress is a few kilobytes

F = TypeVar("F", bound=Callable[..., None])


def default_path() -> Path:
    override = os.environ.get(PROGRESS_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("tutor", appauthor=False)) / "progress.json"


class _Damaged(ValueError):
    """The file is ours but cannot be read as progress: it is moved aside."""


def _recorded(change: F) -> F:
    """A change of progress, also kept to be replayed onto the file's progress at the next save."""

    @functools.wraps(change)
    def record(self: Progress, *args: Any) -> None:
        self._pending.append((change, args))
        change(self, *args)

    return record  # type: ignore[return-value]  # record takes change's arguments; a TypeVar cannot say so


@dataclass
class Progress:
    path: Path
    checks: dict[str, list[str]] = field(default_factory=dict)  # lesson id -> check ids passed
    completed: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    last_lesson: str | None = None
    warning: str | None = None
    writable: bool = True  # False when the path is not a regular file: it is never replaced
    _pending: list[tuple[Callable[..., None], tuple[Any, ...]]] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        path = default_path() if path is None else Path(path)
        progress = cls(path)
        try:
            progress._read_file()
        except _Damaged:
            fresh = cls(path)
            moved = progress._move_aside()
            fresh.warning = (
                f"Your progress file was damaged; it was moved to {moved} and you start fresh."
                if moved
                else f"Your progress file ({path}) was damaged and could not be moved aside; starting fresh."
            )
            return fresh
        except OSError as error:  # not overwritten either: what it holds may be someone's progress
            progress.writable = False
            progress.warning = (
                f"Could not read your progress ({path}): {error.strerror or error}. Progress is kept for this session only."
            )
        return progress

    @property
    def _file(self) -> Path:
        """The file itself: a symlink's target, so the link is kept when the file is replaced."""
        return Path(os.path.realpath(self.path))

    def _not_regular(self) -> str | None:
        """What the path is when it exists and is not a regular file (a device, a FIFO, a folder), else None."""
        try:
            mode = os.stat(self._file).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISREG(mode):
            return None
        kinds = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device", stat.S_ISFIFO: "a FIFO"}
        kinds |= {stat.S_ISDIR: "a folder", stat.S_ISSOCK: "a socket"}
        return next((kind for test, kind in kinds.items() if test(mode)), "not a regular file")

    def _read_file(self) -> None:
        """Read the file into this progress; _Damaged if it is ours but unreadable as progress."""
        kind = self._not_regular()
        if kind is not None:
            return self._session_only(kind)
        try:  # non-blocking: a FIFO swapped in since the check above does not hang the app
            fd = os.open(self._file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        except FileNotFoundError:
            return
        except NotADirectoryError as error:  # no file to protect, and none can be made: say so now
            self.warning = f"Could not read your progress ({self.path}): {error.strerror}. Starting fresh."
            return
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return self._session_only("something else")
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise _Damaged(f"larger than {MAX_BYTES} bytes")
        try:
            self._read(json.loads(raw.decode("utf-8")))
        except (ValueError, TypeError, AttributeError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise _Damaged(str(error)) from None

    def _session_only(self, kind: str) -> None:
        self.writable = False
        self.warning = f"Your progress file {self.path} is {kind}, not a regular file: progress is kept for this session only."

    def _read(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        checks = data.get("checks", {})
        completed = data.get("completed", [])
        positions = data.get("positions", {})
        last = data.get("last_lesson")
        if not (
            isinstance(checks, dict)
            and all(isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in checks.items())
            and isinstance(completed, list)
            and all(isinstance(c, str) for c in completed)
            and isinstance(positions, dict)
            and all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in positions.items()
            )
            and (last is None or isinstance(last, str))
        ):
            raise ValueError("unexpected shape")
        self.checks = {k: list(v) for k, v in checks.items()}
        self.completed = list(completed)
        self.positions = {k: min(v, MAX_STEPS) for k, v in positions.items()}  # no run goes further
        self.last_lesson = last

    def _move_aside(self) -> Path | None:
        """Rename the damaged file (only ever a regular file) to the first free progress.json.corrupt-N."""
        if self._not_regular() is not None:
            return None
        file = self._file
        for n in range(1, 1000):
            target = file.with_name(f"{file.name}.corrupt-{n}")
            if not target.exists():
                try:
                    os.replace(file, target)
                except OSError:
                    return None
                return target
        return None

    # -- what the learner did ----------------------------------------------------

    @_recorded
    def passed(self, lesson_id: str, check_id: str) -> None:
        done = self.checks.setdefault(lesson_id, [])
        if check_id not in done:
            done.append(check_id)
        self.last_lesson = lesson_id

    def has_passed(self, lesson_id: str, check_id: str) -> bool:
        return check_id in self.checks.get(lesson_id, [])

    @_recorded
    def complete(self, lesson_id: str) -> None:
        if lesson_id not in self.completed:
            self.completed.append(lesson_id)
        self.last_lesson = lesson_id

    def is_complete(self, lesson_id: str) -> bool:
        return lesson_id in self.completed

    @_recorded
    def set_position(self, lesson_id: str, step: int) -> None:
        self.positions[lesson_id] = max(0, min(int(step), MAX_STEPS))
        self.last_lesson = lesson_id

    def position(self, lesson_id: str) -> int:
        return self.positions.get(lesson_id, 0)

    @_recorded
    def reset(self) -> None:
        self.checks, self.completed, self.positions, self.last_lesson = {}, [], {}, None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "checks": self.checks,
            "completed": self.completed,
            "positions": self.positions,
            "last_lesson": self.last_lesson,
        }

    # -- on disk --------------------------------------------------------------------

    def save(self) -> bool:
        """Merge this session's changes into the file and write it atomically, under a lock.

        Never raises: a failure sets `warning` and returns False (the changes are kept for the next try).
        A path that is not a regular file, or could not be read, is never written (the warning at load said so)."""
        if not self.writable:
            return True
        temp: str | None = None
        try:
            file = self._file
            file.parent.mkdir(parents=True, exist_ok=True)
            with _locked(file.parent):
                merged = Progress.load(self.path)  # the file as another instance may have left it
                if not merged.writable:  # it stopped being a readable regular file since we loaded it
                    self.writable, self.warning = False, merged.warning
                    return False
                for change, args in self._pending:
                    change(merged, *args)
                fd, temp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=file.parent)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(merged.as_dict(), handle, indent=1, sort_keys=True)
                    handle.write("\n")
                os.replace(temp, file)
                temp = None
            self.checks, self.completed = merged.checks, merged.completed
            self.positions, self.last_lesson = merged.positions, merged.last_lesson
            self._pending = []
            if merged.warning:  # the file was damaged since we read it: it was moved aside
                self.warning = merged.warning
            return True
        except OSError as error:
            self.warning = f"Could not save your progress to {self.path}: {error.strerror or error}."
            return False
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` (flock), so two instances' read-merge-write never interleave.

    The folder, not a lock file: nothing is left beside progress.json. Where flock is missing
    (Windows) or refused (some network file systems) the write is still atomic, only not merged."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock

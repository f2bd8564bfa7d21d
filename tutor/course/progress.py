"""What a learner has done: checks passed, lessons completed, where each lesson was left.

Stored as JSON in the user data directory (override with $TUTOR_PROGRESS), written
atomically. A corrupt file is moved aside (progress.json.corrupt-N) and the learner
starts fresh with a warning; an unwritable file only sets a warning: progress is never
worth a crash.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROGRESS_ENV = "TUTOR_PROGRESS"
VERSION = 1


def default_path() -> Path:
    override = os.environ.get(PROGRESS_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("tutor", appauthor=False)) / "progress.json"


@dataclass
class Progress:
    path: Path
    checks: dict[str, list[str]] = field(default_factory=dict)  # lesson id -> check ids passed
    completed: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    last_lesson: str | None = None
    warning: str | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        path = default_path() if path is None else Path(path)
        progress = cls(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return progress
        except (OSError, UnicodeDecodeError) as error:
            progress.warning = f"Could not read your progress ({path}): {error}. Starting fresh."
            return progress
        try:
            progress._read(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            moved = progress._move_aside()
            fresh = cls(path)
            fresh.warning = (
                f"Your progress file was damaged; it was moved to {moved} and you start fresh."
                if moved
                else f"Your progress file ({path}) was damaged and could not be moved aside; starting fresh."
            )
            return fresh
        return progress

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
        self.positions = dict(positions)
        self.last_lesson = last

    def _move_aside(self) -> Path | None:
        for n in range(1, 1000):
            target = self.path.with_name(f"{self.path.name}.corrupt-{n}")
            if not target.exists():
                try:
                    os.replace(self.path, target)
                except OSError:
                    return None
                return target
        return None

    # -- what the learner did ----------------------------------------------------

    def passed(self, lesson_id: str, check_id: str) -> None:
        done = self.checks.setdefault(lesson_id, [])
        if check_id not in done:
            done.append(check_id)
        self.last_lesson = lesson_id

    def has_passed(self, lesson_id: str, check_id: str) -> bool:
        return check_id in self.checks.get(lesson_id, [])

    def complete(self, lesson_id: str) -> None:
        if lesson_id not in self.completed:
            self.completed.append(lesson_id)
        self.last_lesson = lesson_id

    def is_complete(self, lesson_id: str) -> bool:
        return lesson_id in self.completed

    def set_position(self, lesson_id: str, step: int) -> None:
        self.positions[lesson_id] = max(0, int(step))
        self.last_lesson = lesson_id

    def position(self, lesson_id: str) -> int:
        return self.positions.get(lesson_id, 0)

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

    def save(self) -> bool:
        """Write atomically (temp file + os.replace). Never raises: a failure sets `warning` and returns False."""
        temp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.as_dict(), handle, indent=1, sort_keys=True)
                handle.write("\n")
            os.replace(temp, self.path)
            return True
        except OSError as error:
            self.warning = f"Could not save your progress to {self.path}: {error.strerror or error}."
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
            return False

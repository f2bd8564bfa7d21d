"""Placeholders' values kept between runs, so a lesson opens with its numbers without running the engine again.

A value depends on the placeholder as written (its fact, arguments and format) and on the code that
computes it: the file holds one digest of tutor/engine and tutor/course (every file, data included),
numpy's and Python's versions, and is ignored whole when that digest differs. The app keeps one
(`tutor.course.filler.keep_values_in`); `--run-all` reads only the shipped values, `check-lesson` computes.

The shipped lessons' values ship inside tutor too (SHIPPED, the same file under the same digest, read
before the user's), so a fresh install opens a lesson without running the engine. After changing
tutor/engine, tutor/course or a lesson, write them again (tests/test_course_cache.py fails until then)
with the command in tutor/course/data/README.md.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

FILE_NAME = "placeholder-values.json"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 20_000  # a file past it starts again
MAX_VALUE_CHARACTERS = 2_000  # a longer placeholder and value (a whole array) is computed each time
SHIPPED = Path(__file__).resolve().parent / "data"  # holds FILE_NAME: the shipped lessons' values


CACHE_ENV = "TUTOR_CACHE"  # where results worth keeping between runs go; default: the user's cache folder


def cache_dir() -> Path:
    """$TUTOR_CACHE, else the platform's cache folder for tutor (~/.cache/tutor on Linux)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tutor", appauthor=False))


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of everything a placeholder's value depends on besides the placeholder itself."""
    import numpy

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{sys.version}\n{numpy.__version__}\n".encode())
    for folder in ("engine", "course"):
        for path in sorted((package / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path != SHIPPED / FILE_NAME:  # not what it keys
                digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def keepable(values: dict[str, str]) -> dict[str, str]:
    """The values worth a place in the file (not a whole array)."""
    return {key: value for key, value in values.items() if len(key) + len(value) <= MAX_VALUE_CHARACTERS}


class ValueCache:
    """One file of values by placeholder; every read or write fault leaves it to the engine (it is only a cache)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self._values: dict[str, str] | None = None
        self._lock = threading.Lock()  # lessons are filled from worker threads too

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._read().get(key)

    def put(self, values: dict[str, str]) -> None:
        """Keep `values` (merged with what another instance may have written meanwhile)."""
        values = keepable(values)
        if not values:
            return
        with self._lock:
            self._values = None  # read again: another tutor may have added values
            merged = {**self._read(), **values}
            if len(merged) > MAX_ENTRIES:
                merged = values
            self._values = merged
            code = code_digest()  # before the temporary file exists: the shipped file's folder is part of the digest
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False) as file:
                    json.dump({"code": code, "values": merged}, file)
                os.replace(file.name, self.path)
            except OSError:
                pass

    def _read(self) -> dict[str, str]:
        if self._values is None:
            self._values = {}
            try:
                if self.path.is_file() and self.path.stat().st_size <= MAX_FILE_BYTES:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    values = data.get("values") if isinstance(data, dict) and data.get("code") == code_digest() else None
                    if isinstance(values, dict):
                        self._values = {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError, RecursionError):
                pass
        return self._values

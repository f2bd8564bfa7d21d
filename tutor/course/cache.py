"""Placeholders' values kept between runs, so a lesson opens with its numbers without running the engine again.

A value depends on the placeholder as written (its fact, arguments and format) and on the code that
computes it: the file holds one digest of that code (`value_files`: the facts, the placeholders'
formatting and every module of tutor they import, the engine's data, numpy's and Python's versions),
and is ignored whole when that digest differs. The reader, the checks, the model, the filler, the
limits and the progress compute no value and are not in it (docs/architecture.md says why that is
sound). The app keeps one (`tutor.course.filler.keep_values_in`); `--run-all` reads only the shipped
values, `check-lesson` computes.

The shipped lessons' values ship inside tutor too (SHIPPED, the same file under the same digest, read
before the user's), so a fresh install opens a lesson without running the engine. After changing a
file of the digest or a lesson, write them again (tests/test_course_cache.py fails until then) with
the command in tutor/course/data/README.md.
"""

from __future__ import annotations

import ast
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


# Where a placeholder's value is computed: its fact (facts.py) and its formatting (placeholders.py).
VALUE_ROOTS = ("tutor.course.facts", "tutor.course.placeholders")
ROOT = Path(__file__).resolve().parents[2]  # the folder holding tutor/
MAX_MODULES = 500  # a file of values naming more is not read


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """The digest of everything a placeholder's value depends on besides the placeholder itself (for writing a
    file of values: it reads the modules' syntax, ~0.1 s)."""
    return digest_of(tuple(value_modules()))


@functools.lru_cache(maxsize=8)
def digest_of(modules: tuple[str, ...]) -> str:
    """The digest of `modules` (value_modules' paths), the files of their packages' data folders, numpy's and
    Python's versions ("" for a list that names no module of tutor's).

    A file of values holds its modules beside their digest. Read back, the same digest of the same modules
    means none of them changed, so neither did the imports that listed them: the list is still
    value_modules(), found without reading any syntax."""
    import numpy

    paths = [ROOT / module for module in modules if _is_module_path(module)]
    if not paths or len(paths) != len(modules) or len(paths) > MAX_MODULES or not all(map(Path.is_file, paths)):
        return ""
    digest = hashlib.sha256(f"{sys.version}\n{numpy.__version__}\n".encode())
    try:
        for path in sorted(set(paths) | _data_files(paths)):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    except OSError:
        return ""
    return digest.hexdigest()


def _is_module_path(module: str) -> bool:
    """`tutor/.../name.py`, inside tutor: a file of values names no other file to read."""
    parts = module.split("/")
    return len(parts) > 1 and parts[0] == "tutor" and module.endswith(".py") and not {"", ".", ".."} & set(parts)


def value_files() -> list[Path]:
    """Every file of the digest: value_modules() and their packages' data files."""
    paths = [ROOT / module for module in value_modules()]
    return sorted(set(paths) | _data_files(paths))


def value_modules() -> list[str]:
    """The modules of tutor that VALUE_ROOTS import, at any depth and wherever in them (a function's own import
    too; not one under `if TYPE_CHECKING:`, never run), with their packages' __init__: their paths under ROOT."""
    modules: dict[str, Path] = {}
    waiting = list(VALUE_ROOTS)
    while waiting:
        name = waiting.pop()
        path = _module_file(name)
        if name in modules or path is None:
            continue
        modules[name] = path
        waiting += [name.rsplit(".", depth)[0] for depth in range(1, name.count(".") + 1)]  # its packages
        waiting += _imported_names(ast.parse(path.read_bytes()), name, path.name == "__init__.py")
    return sorted(path.relative_to(ROOT).as_posix() for path in modules.values())


def _data_files(modules: list[Path]) -> set[Path]:
    """The files in the data folders of the packages among `modules` (the digits, the shipped sweeps), but
    READMEs and the shipped values' own folder (the values and their README: nothing a value is computed from)."""
    return {
        file
        for path in modules
        if path.name == "__init__.py" and (path.parent / "data").is_dir() and path.parent / "data" != SHIPPED
        for file in (path.parent / "data").rglob("*")
        if file.is_file() and "__pycache__" not in file.parts and file.name != "README.md"
    }


def _module_file(name: str) -> Path | None:
    """The file of tutor's module `name` (None: not one of tutor's)."""
    if name != "tutor" and not name.startswith("tutor."):
        return None
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every module an import in `tree` may load: `from a import b` may be module a.b or a name in a."""
    names: list[str] = []
    nodes: list[ast.AST] = [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            nodes += node.orelse
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = ".".join(part for part in (package if node.level else "", node.module or "") if part)
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        nodes += ast.iter_child_nodes(node)
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


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
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False) as file:
                    json.dump({"code": code_digest(), "modules": value_modules(), "values": merged}, file)
                os.replace(file.name, self.path)
            except OSError:
                pass

    def _read(self) -> dict[str, str]:
        if self._values is None:
            self._values = {}
            try:
                if self.path.is_file() and self.path.stat().st_size <= MAX_FILE_BYTES:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    values = data.get("values") if isinstance(data, dict) and _current(data) else None
                    if isinstance(values, dict):
                        self._values = {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError, RecursionError):
                pass
        return self._values


def _current(data: dict[str, object]) -> bool:
    """Whether a file of values was written by the code there is now: its modules' digest is what it holds."""
    modules = data.get("modules")
    if not isinstance(modules, list) or not all(isinstance(module, str) for module in modules):
        return False
    code = digest_of(tuple(modules))
    return bool(code) and data.get("code") == code

"""Lessons open fast (issue 14): placeholders' values kept between runs, keyed by the code that computes them,
and `tutor --lesson ID` opening straight on the lesson."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from test_lessons import BASE, write

from tutor.course import cache, filler, find_lesson, load_course, load_lesson, reader
from tutor.headless import run_all
from tutor.tui.app import make_app
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.lessons import LessonListScreen


def test_values_are_kept_for_the_next_run_and_read_back(tmp_path: Path, fact_calls: list[str]) -> None:
    filler.keep_values_in(tmp_path / "cache")
    first = filler.fill(load_lesson(write(tmp_path, "01-base.md", BASE)))
    assert fact_calls == ["final_loss"]
    kept = json.loads((tmp_path / "cache" / cache.FILE_NAME).read_text(encoding="utf-8"))
    assert kept["code"] == cache.code_digest() and list(kept["values"]) == [
        '{{ final_loss(optimizer="rmsprop", steps=3) }} | None'
    ]
    filler.keep_values_in(tmp_path / "cache")  # as the next run does: the file is read again
    again = filler.fill(load_lesson(write(tmp_path, "02-copy.md", BASE.replace('id = "base"', 'id = "copy"'))))
    assert fact_calls == ["final_loss"] and again.text == first.text


def test_values_kept_by_other_code_are_not_used(tmp_path: Path, fact_calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    filler.keep_values_in(tmp_path)
    filler.fill(load_lesson(write(tmp_path, "01-base.md", BASE)))
    monkeypatch.setattr(cache, "digest_of", lambda modules: "another engine")
    filler.keep_values_in(tmp_path)
    filler.fill(load_lesson(write(tmp_path, "02-copy.md", BASE.replace('id = "base"', 'id = "copy"'))))
    assert fact_calls == ["final_loss", "final_loss"]


def test_a_damaged_cache_file_is_ignored_and_a_failing_placeholder_never_kept(tmp_path: Path, fact_calls: list[str]) -> None:
    (tmp_path / cache.FILE_NAME).write_text("{ not json", encoding="utf-8")
    filler.keep_values_in(tmp_path)
    filled = filler.fill(load_lesson(write(tmp_path, "01-bad.md", BASE.replace('optimizer="rmsprop"', 'optimizer="nope"'))))
    assert filled.problems and fact_calls == ["final_loss"]
    assert (tmp_path / cache.FILE_NAME).read_text(encoding="utf-8") == "{ not json"  # nothing to keep
    filler.fill(load_lesson(write(tmp_path, "02-good.md", BASE.replace('id = "base"', 'id = "good"'))))
    assert len(json.loads((tmp_path / cache.FILE_NAME).read_text(encoding="utf-8"))["values"]) == 1


async def test_a_start_lesson_with_the_course_loaded_is_the_first_screen(tmp_path: Path) -> None:
    write(tmp_path, "01-base.md", BASE)
    course = load_course(tmp_path)
    app = make_app(lessons_dir=tmp_path, progress_path=tmp_path / "progress.json", start_lesson="base", course=course)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "base"
        assert "Loss after 3 steps" in app.screen.filled.text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


def test_find_lesson_gives_the_file_load_course_gives(tmp_path: Path) -> None:
    """`tutor --lesson ID` reads one file: the one the whole course would give that id, duplicates and broken files too."""
    write(tmp_path, "01-broken.md", BASE.replace("order = 1", 'order = "one"'))  # id "base", and a problem
    write(tmp_path, "02-base.md", BASE.replace("# Base", "# Second file"))
    write(tmp_path, "03-again.md", BASE.replace("# Base", "# Third file"))  # a duplicate: the course keeps 02
    write(tmp_path, "04-escaped.md", BASE.replace('id = "base"', 'id = "o\\u0074her"'))  # TOML for "other"
    course = load_course(tmp_path)
    for lesson_id in ("base", "other"):
        found, loaded = find_lesson(lesson_id, tmp_path), course.lesson(lesson_id)
        assert found is not None and loaded is not None and found.path == loaded.path
    assert find_lesson("base", tmp_path).path.name == "02-base.md"  # type: ignore[union-attr]
    assert find_lesson("nope", tmp_path) is None
    for lesson in load_course().lessons:  # the shipped course
        assert find_lesson(lesson.id) is not None and find_lesson(lesson.id).path == lesson.path  # type: ignore[union-attr]


def test_find_lesson_validates_only_its_own_file(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = reader.read_lesson
    monkeypatch.setattr(reader, "read_lesson", lambda path, source: read.append(path.name) or real(path, source))
    lesson = find_lesson("race")
    assert lesson is not None and read == [lesson.path.name] == ["07-race.md"]


async def test_a_lesson_read_alone_paints_first_and_the_course_with_its_problems_comes_after(tmp_path: Path) -> None:
    """The lesson list still has every lesson and the other files' problems, loaded once the lesson is on screen."""
    write(tmp_path, "01-base.md", BASE)
    write(tmp_path, "02-other.md", BASE.replace('id = "base"', 'id = "other"').replace("order = 1", "order = 2"))
    write(tmp_path, "03-broken.md", BASE.replace('id = "base"', 'id = "broken"').replace("lr = 0.001", "lr = 0"))
    lesson = find_lesson("base", tmp_path)
    app = make_app(lessons_dir=tmp_path, progress_path=tmp_path / "progress.json", start_lesson="base", lesson=lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson is lesson
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.loaded and app.course.ids == ["base", "other"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        problems = str(app.screen.query_one("#lessons-problems").render())
        assert "03-broken.md:9" in problems and "lr" in problems
        assert app.progress.last_lesson == "base"  # the progress the lesson started is the one kept


# In a fresh process that cannot import a module of tutor outside the values' key (cache.value_files),
# every shipped value computed again from its placeholder as written: printed as JSON.
RECOMPUTE = """
import importlib.abc, json, sys
from pathlib import Path
from tutor.course import cache

allowed = {str(path) for path in cache.value_files()}

class OutsideTheKey(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith("tutor."):
            base = Path(cache.__file__).resolve().parents[2].joinpath(*name.split("."))
            if not {str(base.with_suffix(".py")), str(base / "__init__.py")} & allowed:
                raise ImportError(f"{name} is not in the values' key (tutor/course/cache.py value_files)")
        return None

sys.meta_path.insert(0, OutsideTheKey())
from tutor.course.facts import FACTS
from tutor.course.placeholders import Placeholder, parse_text

shipped = json.loads((cache.SHIPPED / cache.FILE_NAME).read_text(encoding="utf-8"))["values"]
again = {}
for key in shipped:
    source, default_format = key.rsplit(" | ", 1)
    parts, errors = parse_text(source, FACTS)
    assert not errors, errors
    [placeholder] = [part for part in parts if isinstance(part, Placeholder)]
    again[key] = placeholder.render(FACTS, None if default_format == "None" else default_format)
print(json.dumps(again))
"""


def test_the_shipped_values_are_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stale after a change to a file of the values' key or a lesson: write them again with the command in
    tutor/course/data/README.md. Each value is computed again where nothing outside the key can be imported, from
    its placeholder alone: a value that depends on a module the key leaves out fails here too."""
    shipped = json.loads((cache.SHIPPED / cache.FILE_NAME).read_text(encoding="utf-8"))
    assert shipped["code"] == cache.code_digest(), "stale: see tutor/course/data/README.md"
    asked: list[str] = []
    get = cache.ValueCache.get
    monkeypatch.setattr(cache.ValueCache, "get", lambda self, key: asked.append(key) or get(self, key))
    filler.keep_values_in(tmp_path)  # the shipped values, and none kept
    monkeypatch.setattr(filler, "_filled", weakref.WeakKeyDictionary())  # equal lessons filled by earlier tests
    for lesson in load_course().lessons:
        assert not filler.fill(lesson).problems
    # Nothing worth keeping was missing (it would be kept here), and nothing shipped is left over.
    assert not (tmp_path / cache.FILE_NAME).exists(), "stale: see tutor/course/data/README.md"
    assert set(shipped["values"]) <= set(asked), "stale: see tutor/course/data/README.md"
    done = subprocess.run([sys.executable, "-c", RECOMPUTE], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    assert json.loads(done.stdout) == shipped["values"], "stale: see tutor/course/data/README.md"


def test_the_values_key_leaves_out_the_code_that_computes_no_value() -> None:
    """Editing the reader, the checks, the model, the filler, the limits or the progress keeps the shipped values."""
    course = Path(cache.__file__).parent
    files = set(cache.value_files())
    assert {course / name for name in ("facts.py", "placeholders.py", "cache.py")} <= files
    assert not files & {course / f"{name}.py" for name in ("reader", "checks", "model", "filler", "limits", "progress")}
    assert course.parent / "engine" / "run.py" in files and course.parent / "engine" / "data" / "digits.csv.gz" in files
    assert cache.SHIPPED / cache.FILE_NAME not in files


def test_a_file_of_values_names_only_tutors_modules(tmp_path: Path) -> None:
    """A kept file is the user's, not tutor's code: one that lists other files to digest (/dev/zero would never
    end) is ignored, never read through."""
    modules = cache.value_modules()
    for listed in (["/dev/zero"], ["tutor/../../etc/passwd.py"], [*modules, "tutor/no-such.py"], []):
        (tmp_path / cache.FILE_NAME).write_text(
            json.dumps({"code": cache.code_digest(), "modules": listed, "values": {"k": "v"}}), encoding="utf-8"
        )
        assert cache.ValueCache(tmp_path).get("k") is None, listed
    (tmp_path / cache.FILE_NAME).write_text(
        json.dumps({"code": cache.code_digest(), "modules": modules, "values": {"k": "v"}}), encoding="utf-8"
    )
    assert cache.ValueCache(tmp_path).get("k") == "v"


def test_a_fresh_install_opens_a_shipped_lesson_without_the_engine(tmp_path: Path, fact_calls: list[str]) -> None:
    filler.keep_values_in(tmp_path / "empty-cache")
    lesson = load_course().lesson("race")
    assert lesson is not None
    filled = filler.fill(lesson)
    assert fact_calls == [] and not filled.problems
    assert not (tmp_path / "empty-cache").exists()  # nothing computed, nothing to keep


def test_run_all_prints_the_shipped_lessons_with_the_shipped_values(fact_calls: list[str]) -> None:
    out = io.StringIO()
    assert run_all(lesson_id="race", out=out) == 0
    assert fact_calls == [] and "race" in out.getvalue()


def test_a_value_computed_while_reading_the_shipped_ones_is_never_written_into_tutor(tmp_path: Path) -> None:
    """`--run-all` reads the shipped values; what it must compute (a teacher's lesson) is not kept in the package."""
    shipped = cache.SHIPPED / cache.FILE_NAME
    before = shipped.read_bytes()
    (tmp_path / "01-base.md").write_text(
        BASE.replace("# Base", "# Base\n{{ final_loss(optimizer='gd', steps=7) | .6g }}", 1), encoding="utf-8"
    )
    filler.read_shipped_values()
    try:
        filled = filler.fill(load_course(tmp_path).lessons[0])
    finally:
        filler.keep_values_in(None)
    assert not filled.problems and "{{" not in filled.text
    assert shipped.read_bytes() == before

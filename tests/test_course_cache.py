"""Lessons open fast (issue 14): placeholders' values kept between runs, keyed by the code that computes them,
and `tutor --lesson ID` opening straight on the lesson."""

from __future__ import annotations

import io
import json
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
    monkeypatch.setattr(cache, "code_digest", lambda: "another engine")
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


def test_the_shipped_values_are_current() -> None:
    """Stale after a change to tutor/engine, tutor/course or a lesson: write them again with the command in
    tutor/course/data/README.md."""
    shipped = json.loads((cache.SHIPPED / cache.FILE_NAME).read_text(encoding="utf-8"))
    assert shipped["code"] == cache.code_digest(), "stale: see tutor/course/data/README.md"
    assert shipped["values"] == cache.keepable(filler.computed_values(load_course())), "stale: see tutor/course/data/README.md"


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

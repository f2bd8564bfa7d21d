"""Progress on disk: round trip, atomic writes, corrupt and unwritable files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tutor.course.progress import Progress, default_path


def test_fresh_progress_is_empty(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path / "progress.json")
    assert progress.warning is None
    assert not progress.has_passed("race", "winner") and not progress.is_complete("race")
    assert progress.position("race") == 0 and progress.last_lesson is None


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "progress.json"
    progress = Progress.load(path)
    progress.passed("race", "winner")
    progress.passed("race", "winner")
    progress.passed("race", "gd-loss")
    progress.complete("deep-chain")
    progress.set_position("race", 120)
    assert progress.save() is True
    again = Progress.load(path)
    assert again.warning is None
    assert again.has_passed("race", "winner") and again.has_passed("race", "gd-loss")
    assert not again.has_passed("deep-chain", "winner")
    assert again.checks == {"race": ["winner", "gd-loss"]}
    assert again.is_complete("deep-chain") and not again.is_complete("race")
    assert again.position("race") == 120
    assert again.last_lesson == "race"
    assert json.loads(path.read_text())["version"] == 1


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    progress = Progress.load(path)
    for step in range(5):
        progress.set_position("race", step)
        assert progress.save()
    assert sorted(os.listdir(tmp_path)) == ["progress.json"]


def test_reset_forgets_everything(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    progress = Progress.load(path)
    progress.passed("race", "winner")
    progress.set_position("race", 3)
    progress.reset()
    progress.save()
    again = Progress.load(path)
    assert again.checks == {} and again.positions == {} and again.last_lesson is None


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", '{"checks": {"race": "winner"}}', '{"positions": {"race": -1}}', "\x00\x01"]
)
def test_corrupt_file_is_moved_aside_with_a_warning(tmp_path: Path, content: str) -> None:
    path = tmp_path / "progress.json"
    path.write_text(content)
    progress = Progress.load(path)
    moved = tmp_path / "progress.json.corrupt-1"
    assert progress.warning == f"Your progress file was damaged; it was moved to {moved} and you start fresh."
    assert moved.read_text() == content and not path.exists()
    assert progress.checks == {}
    # The next corrupt file does not overwrite the first one set aside.
    path.write_text(content)
    Progress.load(path)
    assert (tmp_path / "progress.json.corrupt-2").exists()


def test_unwritable_location_sets_a_warning_and_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    progress = Progress.load(blocker / "progress.json")
    progress.passed("race", "winner")
    assert progress.save() is False
    assert progress.warning is not None and progress.warning.startswith(
        f"Could not save your progress to {blocker / 'progress.json'}"
    )
    assert progress.has_passed("race", "winner")  # still known for this session


def test_env_variable_chooses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_PROGRESS", str(tmp_path / "mine.json"))
    assert default_path() == tmp_path / "mine.json"
    progress = Progress.load()
    progress.complete("race")
    progress.save()
    assert Progress.load(tmp_path / "mine.json").is_complete("race")


def test_default_path_is_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_data_dir

    monkeypatch.delenv("TUTOR_PROGRESS", raising=False)
    assert default_path() == Path(user_data_dir("tutor", appauthor=False)) / "progress.json"


# --- hostile progress files ------------------------------------------------------------------------------------------

DAMAGED = {
    "not UTF-8": b'\xff\xfe{"completed": ["race"]}',
    "latin-1": '{"completed": ["caf\xe9"]}'.encode("latin-1"),
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "a 5000-digit step": b'{"positions": {"race": ' + b"9" * 5000 + b"}}",
    "larger than 1 MB": b'{"completed": [' + b'"race", ' * 200_000 + b'"race"]}',
    "a NaN step": b'{"positions": {"race": NaN}}',
    "a step that is a string": b'{"positions": {"race": "12"}}',
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_file_is_moved_aside_byte_for_byte_never_overwritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "progress.json"
    path.write_bytes(content)
    progress = Progress.load(path)
    moved = tmp_path / "progress.json.corrupt-1"
    assert progress.warning == f"Your progress file was damaged; it was moved to {moved} and you start fresh."
    assert moved.read_bytes() == content
    progress.complete("race")
    assert progress.save()
    assert moved.read_bytes() == content and Progress.load(path).is_complete("race")


@pytest.mark.parametrize(("saved", "read"), [(100_000, 100_000), (100_001, 100_000), (10**30, 100_000), (7, 7)])
def test_a_saved_step_past_the_cap_is_read_as_the_cap(tmp_path: Path, saved: int, read: int) -> None:
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"positions": {"race": saved}, "last_lesson": "race"}))
    progress = Progress.load(path)
    assert progress.warning is None and progress.position("race") == read
    progress.set_position("deep-chain", 10**30)
    assert progress.position("deep-chain") == 100_000


def special_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "progress.json"
    if kind == "FIFO":
        os.mkfifo(path)
    elif kind == "character device":  # /dev/null's own numbers, made here so the real one is never at stake
        if os.geteuid() != 0:
            pytest.skip("mknod of a character device needs root")
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "folder":
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["FIFO", "character device", "folder"])
def test_a_path_that_is_not_a_regular_file_is_never_moved_nor_replaced(tmp_path: Path, kind: str) -> None:
    path = special_file(tmp_path, kind)
    before = os.stat(path)
    progress = Progress.load(path)  # a FIFO with no writer: returns at once, no hang
    assert (
        progress.warning == f"Your progress file {path} is a {kind}, not a regular file: progress is kept for this session only."
    )
    progress.complete("race")
    assert progress.save() is True and progress.is_complete("race")  # kept for the session
    after = os.stat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert sorted(os.listdir(tmp_path)) == ["progress.json"]  # nothing renamed, nothing left beside it


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real" / "progress.json"
    target.parent.mkdir()
    target.write_text('{"completed": ["race"]}')
    link = tmp_path / "progress.json"
    link.symlink_to(target)
    progress = Progress.load(link)
    assert progress.is_complete("race")
    progress.complete("deep-chain")
    assert progress.save()
    assert link.is_symlink() and json.loads(target.read_text())["completed"] == ["race", "deep-chain"]


def test_an_unreadable_file_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "progress.json"
    path.write_text('{"completed": ["race"]}')
    real_open = os.open

    def refuse(file: object, flags: int, *args: object) -> int:
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    progress = Progress.load(path)
    assert (
        progress.warning == f"Could not read your progress ({path}): Permission denied. Progress is kept for this session only."
    )
    progress.complete("deep-chain")
    progress.save()
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"completed": ["race"]}


# --- two instances on one file ----------------------------------------------------------------------------------------


def test_two_instances_on_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    first, second = Progress.load(path), Progress.load(path)
    first.set_position("race", 40)
    first.passed("race", "winner")
    second.passed("deep-chain", "ratio")
    second.complete("deep-chain")
    assert first.save() and second.save()
    again = Progress.load(path)
    assert again.has_passed("race", "winner") and again.has_passed("deep-chain", "ratio")
    assert again.position("race") == 40 and again.is_complete("deep-chain")
    assert again.last_lesson == "deep-chain"  # the last change saved
    assert second.has_passed("race", "winner")  # and each instance sees the other's once it saves
    first.set_position("race", 41)
    assert first.save() and Progress.load(path).is_complete("deep-chain") and Progress.load(path).position("race") == 41


def test_a_reset_in_one_instance_forgets_what_the_other_saved_before_it(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    first, second = Progress.load(path), Progress.load(path)
    first.complete("race")
    first.save()
    second.reset()
    second.save()
    first.complete("deep-chain")
    first.save()
    assert Progress.load(path).completed == ["deep-chain"]


def _save_many(path: str, lesson: str, count: int) -> None:
    progress = Progress.load(Path(path))
    for step in range(count):
        progress.passed(lesson, f"check-{step}")
        progress.set_position(lesson, step)
        assert progress.save()


def test_two_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    """Each save is read-merge-write under the folder's lock: without it, about half the checks are lost here."""
    import multiprocessing

    path = tmp_path / "progress.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(str(path), lesson, 150)) for lesson in ("race", "deep-chain")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    merged = Progress.load(path)
    for lesson in ("race", "deep-chain"):
        assert merged.checks[lesson] == [f"check-{step}" for step in range(150)] and merged.position(lesson) == 149
    assert sorted(os.listdir(tmp_path)) == ["progress.json"]

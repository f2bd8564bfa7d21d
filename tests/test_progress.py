"""Progress on disk: round trip, atomic writes, corrupt and unwritable files."""

from __future__ import annotations

import json
import os
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

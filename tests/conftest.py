import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Headless tests must not depend on the developer's terminal.
os.environ.setdefault("COLUMNS", "100")
# Slow results (learning-rate sweeps) are cached on disk: the tests keep theirs in a folder of their own,
# so a developer's cache never decides what a test sees, and a test run leaves nothing in it.
if "TUTOR_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["TUTOR_CACHE"] = tempfile.mkdtemp(prefix="tutor-test-cache-")
    atexit.register(shutil.rmtree, os.environ["TUTOR_CACHE"], True)


@pytest.fixture(autouse=True)
def _each_test_computes_its_lessons_numbers():
    """The app keeps placeholders' values between runs (tutor.course.cache): a test that started one
    (through tutor.cli.main) must not hand its values to the next."""
    yield
    from tutor.course import filler

    filler.keep_values_in(None)


@pytest.fixture
def fact_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the facts lessons compute during the test (not those read from values kept earlier)."""
    import functools

    from tutor.course.facts import FACTS

    computed: list[str] = []
    for name, function in list(FACTS.items()):

        def spy(*args: object, __name: str = name, __function=function, **kwargs: object) -> object:
            computed.append(__name)
            return __function(*args, **kwargs)

        monkeypatch.setitem(FACTS, name, functools.wraps(function)(spy))
    return computed

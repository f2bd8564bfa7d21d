import os
import sys
from pathlib import Path

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

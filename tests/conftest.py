import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Headless tests must not depend on the developer's terminal.
os.environ.setdefault("COLUMNS", "100")

"""No text the project trains or tests on overlaps the independent held-out evaluation set
(../shared/tools/heldout_guard.py knows it only by fingerprints)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARD = ROOT.parent / "shared" / "tools" / "heldout_guard.py"


def data_files() -> list[Path]:
    patterns = ["nlu_data/**/*.yml", "nlu_data/**/*.jsonl", "tests/nlu/*.yml", "tests/letters/*.jsonl"]
    return sorted({p for pattern in patterns for p in ROOT.glob(pattern)})


@pytest.mark.skipif(not GUARD.exists(), reason="../shared/tools/heldout_guard.py is not beside the repository")
def test_no_training_or_test_text_overlaps_the_held_out_set():
    files = data_files()
    assert any(f.suffix == ".jsonl" for f in files) and any(f.suffix == ".yml" for f in files)
    result = subprocess.run([sys.executable, str(GUARD), *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[:2000]

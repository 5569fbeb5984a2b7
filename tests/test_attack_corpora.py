"""The malformed label-file corpus of bench/attack.py through the real `labels import`: every
file ends in one clear error line or clean labels inside the session (no traceback, no NUL
bytes, no non-string labels, no infinite or out-of-range times, no external entities)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _attack_module():
    spec = importlib.util.spec_from_file_location("attack", ROOT / "bench" / "attack.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("attack", mod)  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_malformed_label_files_get_one_line_or_clean_labels(tmp_path):
    (result,) = _attack_module().attack_labels(tmp_path)
    assert result.held, result.figures
    assert result.figures.startswith("18/18 clean")

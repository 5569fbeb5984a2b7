"""The parity view's "Divergent windows" list read "clap: 0.50 vs 0.50" for windows whose top
class flipped near 0.5: two decimals hid the difference. Each row shows enough decimals to see it,
and each build's top class when those differ (a tie said as one)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402


def test_divergent_windows_show_the_digits_that_differ_and_the_top_classes(qtbot, tmp_path):
    from sensorlab.app.models.parity_view import ParityView
    from sensorlab.inference.parity import ParityTap

    labels = ["clap", "background"]
    other = mean_model(tmp_path / "int8.onnx", channels=2)
    write_mapping(other, stream="s", window=0.5, hop=0.5, scores_kind="probabilities", labels=labels)
    tap = ParityTap(other)
    pa = np.array([[0.4996, 0.5004], [0.5, 0.5], [0.30, 0.70], [0.2, 0.8]], np.float32)
    pb = np.array([[0.5003, 0.4997], [0.4999, 0.5001], [0.45, 0.55], [0.2, 0.8]], np.float32)
    starts = np.arange(4.0)
    tap.compare(starts, starts + 0.5, pa, pb)
    view = ParityView(tap, "model.int8.onnx", "model.onnx", labels, origin=0.0)
    qtbot.addWidget(view)
    view.refresh(force=True)
    rows = [view.divergences.item(i).text().split("   ", 1)[1] for i in range(view.divergences.count())]
    assert rows == [
        "clap: 0.4996 vs 0.5003\n    top: background vs clap",  # flipped near 0.5: 4 decimals tell them apart
        "clap: 0.5000 vs 0.4999\n    top: tie clap/background vs background",  # A's two classes score the same
        "clap: 0.30 vs 0.45",  # differs by more than the tolerance, same top class: 2 decimals suffice
    ], rows
    # The line under the list names each build's top class the same way (it said "clap" for the tie).
    view.divergences.setCurrentRow(1)
    assert view.detail.text().endswith("model.int8.onnx says tie clap/background, model.onnx says background"), view.detail.text()

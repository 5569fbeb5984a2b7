"""The parity view in the studio window: two builds on the same windows, divergences counted
exactly, divergent windows listed and shown on click."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import max_model, mean_model, write_mapping  # noqa: E402

from sensorlab.acquisition.emulated.signal import SignalSource  # noqa: E402

T0 = 70.0


def test_two_builds_overlaid_with_the_injected_divergences_counted_and_listed(qtbot, make_window, tmp_path):
    from sensorlab.app.models.parity_view import ParityView

    a = mean_model(tmp_path / "fp32.onnx")
    b = max_model(tmp_path / "int8.onnx")
    for m in (a, b):
        write_mapping(m, stream="s", window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    gate = threading.Event()  # the source holds its samples until both builds are attached

    def step(ts):  # 1 s off, 1 s on: mean != max only for the 9 windows that straddle an edge
        gate.wait(60)
        return ((np.rint((ts - T0) * 100) // 100) % 2).astype(np.float32)[:, None]

    src = SignalSource("s", rate=100, shape=(1,), pattern=step, realtime=False, max_samples=1000, chunk_size=13, t0=T0)
    w = make_window([src])
    assert w.studio.load_model(a, stale_after=1e9) == ("fp32_pred",)
    view = w.compare_builds("fp32_pred", b)
    assert isinstance(view, ParityView) and w.bottom_tabs.currentWidget() is view
    gate.set()
    qtbot.waitUntil(lambda: view.tap.report.windows == 199 and view.divergences.count() == 9, timeout=60_000)
    view.refresh(force=True)
    assert view.summary.text().startswith("9 divergent of 199 windows · top class differs in 0 · max |Δp| 0.500")
    starts = [T0 + 0.95 + i for i in range(9)]  # the windows straddling the edges
    items = [view.divergences.item(i).text() for i in range(9)]
    # In the plot's own units (seconds on its time axis), so a listed window is found on the axis.
    assert [t.split("   ")[0] for t in items] == [f"{s - view.origin:.3f} – {s + 0.1 - view.origin:.3f} s" for s in starts]
    assert items[0].endswith("on: 0.50 vs 1.00")
    # Both traces overlaid: the float build's probability and the second build's, per window.
    xa, ya = view.curve_a.getData()
    xb, yb = view.curve_b.getData()
    assert len(xa) == len(xb) == 199 and np.count_nonzero(ya != yb) == 9  # no gaps: one unbroken line each
    # Clicking a divergent window shows its time and marks it on the plot.
    view.divergences.setCurrentRow(3)
    assert view.detail.text().startswith(f"window {starts[3] - view.origin:.3f} – {starts[3] + 0.1 - view.origin:.3f} s")
    lo, hi = view.marker.getRegion()
    assert lo == pytest.approx(starts[3] - view.origin) and hi == pytest.approx(starts[3] + 0.1 - view.origin)
    # Which line is which is said above the plot: a legend inside the short strip covered the traces.
    assert view.plot.getPlotItem().legend is None
    assert view.key.isVisible() and "fp32.onnx" in view.key.text() and "int8.onnx" in view.key.text()
    assert view.key.mapTo(view, view.key.rect().bottomLeft()).y() <= view.plot.mapTo(view, view.plot.rect().topLeft()).y()
    # The time axis stays in seconds, the list's units, however long the studio has run (not "ks").
    view.plot.setXRange(1500.0, 1510.0, padding=0)
    axis = view.plot.getAxis("bottom")
    qtbot.waitUntil(lambda: axis.autoSIPrefixScale == 1.0 and "ks" not in axis.labelString(), timeout=5_000)
    # … and it says which seconds, in the live view's words: "time (s)" read as another clock.
    live_axis = w.live_view.time_panels[-1].plot.getAxis("bottom")
    assert axis.labelText == live_axis.labelText == "host clock, s since sensorlab started"


def test_a_build_of_another_model_is_refused_in_one_line(qtbot, make_window, tmp_path):
    a = mean_model(tmp_path / "fp32.onnx")
    write_mapping(a, stream="imu", channels=["ch0"], window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    other = mean_model(tmp_path / "other.onnx")
    write_mapping(other, stream="imu", channels=["ch0"], window=0.1, hop=0.05, scores_kind="probabilities", labels=["off"])
    w = make_window()
    assert w.studio.load_model(a) == ("fp32_pred",)
    assert w.compare_builds("fp32_pred", other) is None
    assert "other.onnx has classes off and fp32.onnx on; compare two builds of one model" in w.banner.text()



def test_a_build_with_other_windows_is_refused_as_another_model_not_with_a_mapping_fix(qtbot, make_window, tmp_path):
    # Same classes, a fixed window of 40 samples where the running model takes 10: the message
    # proposed "set window to 0.4 s" — a fix for the *mapping* of a model that is not a build.
    a = mean_model(tmp_path / "fp32.onnx")
    write_mapping(a, stream="imu", channels=["ch0"], window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    other = mean_model(tmp_path / "long.onnx", samples=40)
    write_mapping(other, stream="imu", channels=["ch0"], window=0.4, hop=0.05, scores_kind="probabilities", labels=["on"])
    w = make_window()
    assert w.studio.load_model(a) == ("fp32_pred",)
    assert w.compare_builds("fp32_pred", other) is None
    text = w.banner.text()
    assert "long.onnx is not a build of fp32.onnx" in text and "compare two builds of one model" in text, text
    assert "set window" not in text, text


def test_the_second_build_dialog_offers_the_tflite_build_beside_the_model(qtbot, make_window, tmp_path, monkeypatch):
    """Compare builds… asked for the second build with the filter "ONNX models (*.onnx)": the
    int8 .tflite beside the model (the build that goes on the microcontroller, which the parity
    view compares) was not listed."""
    import fnmatch
    import re

    from PySide6.QtWidgets import QFileDialog

    a = mean_model(tmp_path / "model.onnx")
    write_mapping(a, stream="s", window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    (tmp_path / "model.int8.tflite").write_bytes(b"")  # listed or not: the dialog is only asked what it offers
    asked = []

    def ask(parent, caption, folder, filters):
        asked.append((caption, folder, filters))
        return "", ""  # the user cancels

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(ask))
    w = make_window([SignalSource("s", rate=100, shape=(1,), realtime=False, max_samples=1000, chunk_size=10)])
    assert w.studio.load_model(a, stale_after=1e9)
    assert w.compare_builds() is None
    caption, folder, filters = asked[-1]
    assert caption == "Second build of model.onnx" and folder == str(tmp_path)
    first = re.search(r"\((.*?)\)", filters.split(";;")[0]).group(1).split()  # the filter the dialog starts on
    offered = [f.name for f in sorted(tmp_path.iterdir()) if any(fnmatch.fnmatch(f.name, pat) for pat in first)]
    assert offered == ["model.int8.tflite", "model.onnx"]

"""The parity view says why it compares nothing: its model's input board was lost. Found walking
the loop: the view read "0 divergent of 0 windows · top class differs in 0 · max |Δp| 0.000",
a result in form, while the board feeding the model had been unplugged; nothing said why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import max_model, mean_model, write_mapping  # noqa: E402

from sensorlab.acquisition.emulated.mcu import BinaryIMU  # noqa: E402
from sensorlab.acquisition.serial.port import SerialSource  # noqa: E402


def test_the_parity_view_says_its_input_board_is_lost_and_resumes_when_it_is_back(qtbot, make_window, tmp_path):
    a, b = mean_model(tmp_path / "fp32.onnx"), max_model(tmp_path / "int8.onnx")
    for m in (a, b):
        write_mapping(m, stream="imu", channels=["ax"], window=0.2, hop=0.1, scores_kind="probabilities", labels=["on"])
    link = str(tmp_path / "ttyBOARD")
    board = BinaryIMU(rate=500.0, link_path=link).start()
    try:
        w = make_window([SerialSource(link, board.baudrate, "binary")])
        qtbot.waitUntil(lambda: w.acquisition.stats["imu"].samples > 0, timeout=15_000)
        assert w.studio.load_model(a) == ("fp32_pred",)
        board.vanish()
        qtbot.waitUntil(lambda: w.acquisition.stats["imu"].lost, timeout=15_000)
        view = w.compare_builds("fp32_pred", b)
        qtbot.waitUntil(lambda: "lost" in view.summary.text(), timeout=10_000)
        text = view.summary.text()
        assert "its input imu is lost" in text and link in text and "until it is back" in text, text
        if view.tap.report.windows == 0:  # no count that reads as a result
            assert text.startswith("no window compared yet"), text
        board.replug()
        qtbot.waitUntil(lambda: " divergent of " in view.summary.text(), timeout=30_000)  # counting again
        assert "lost" not in view.summary.text()
    finally:
        board.close()


def test_before_the_first_window_the_view_says_what_it_waits_for(qtbot, make_window, tmp_path):
    from sensorlab.acquisition.emulated.signal import SignalSource

    a, b = mean_model(tmp_path / "fp32.onnx"), max_model(tmp_path / "int8.onnx")
    for m in (a, b):  # a 30 s window: none comes while the test looks
        write_mapping(m, stream="s", window=30.0, hop=30.0, scores_kind="probabilities", labels=["on"])
    w = make_window([SignalSource("s", rate=100, shape=(1,), chunk_size=10)])
    assert w.studio.load_model(a) == ("fp32_pred",)
    view = w.compare_builds("fp32_pred", b)
    qtbot.waitUntil(lambda: "waiting for the first full window" in view.summary.text(), timeout=10_000)
    assert view.summary.text() == "no window compared yet — waiting for the first full window of s (30 s)"

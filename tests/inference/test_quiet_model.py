"""A model's prediction stream that goes quiet is no device to check.

At load 20–45 the demo's IMU arrived with gaps every ~0.05 s, the model's 0.4 s window never
filled, and `record --demo` exited 3 with "clap_pred: stopped sending 4.6 s before the end of
the recording and never resumed: check the device (power, firmware, cable)". The predictions
stream now says what it is computed from (`StreamInfo.derived_from`), and the summary blames its
input: a loss only when that input was itself lost.
"""

from __future__ import annotations

from onnx_models import mean_model, write_mapping

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.inference import InferenceProcessor
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary, lost_streams, summarize


def _record(tmp_path, make_recorder, *devices, wait_for=None):
    model = mean_model(tmp_path / "level.onnx", channels=1)
    write_mapping(model, stream="imu", window=0.4, hop=0.1, scores_kind="probabilities", labels=["level"])
    rec, _ = make_recorder(*devices, InferenceProcessor(model, stale_after=1e9))
    for d in wait_for or devices:
        assert d.wait(60.0), f"{d.description} did not finish"
    return rec.stop()


def test_a_model_quiet_after_its_input_had_a_gap_is_reported_as_such_and_is_no_lost_device(tmp_path, make_recorder):
    # 2 s of input, a 2.5 s gap (the samples dropped, as a loaded host loses them), then 0.2 s:
    # less than the model's 0.4 s window, so it makes no prediction in its last ~2.7 s.
    imu = SignalSource("imu", rate=200, realtime=True, chunk_size=10, max_samples=400 + 500 + 40,
                       stall_after=400, stall_for=2.5, stall_drops=True)  # fmt: skip
    path = _record(tmp_path, make_recorder, imu)
    with Session.open(path) as s:
        assert s.streams["level_pred"].info.derived_from == ("imu",)
        assert s.streams["imu"].info.derived_from == ()
        assert s.streams["level_pred"].count >= 10  # it predicted while its input was whole
    summary = summarize(path, measure_sync=False)
    (pred,) = [x for x in summary["streams"] if x["name"] == "level_pred"]
    assert pred["quiet_at_end"] > 2.0 and pred["input_gaps_at_end"] == {"imu": 1}, pred
    assert lost_streams(summary) == []
    text = format_summary(summary)
    assert f"the model made no prediction in the last {pred['quiet_at_end']:.1f} s: its input imu had 1 gap(s) then" in text
    assert "check the device" not in text


def test_a_model_quiet_because_its_input_device_was_lost_is_listed_with_that_input(tmp_path, make_recorder):
    # The IMU is unplugged after 1 s; another device keeps the recording going to ~4 s.
    imu = SignalSource("imu", rate=200, realtime=True, chunk_size=10, vanish_after=200)
    other = SignalSource("other", rate=50, realtime=True, chunk_size=5, max_samples=200)
    path = _record(tmp_path, make_recorder, imu, other, wait_for=[other])
    lost = lost_streams(summarize(path, measure_sync=False))
    assert lost[0].startswith("imu: stopped early"), lost
    assert len(lost) == 2 and lost[1].startswith("level_pred: the model made no prediction in the last "), lost
    assert lost[1].endswith(": its input imu was lost"), lost

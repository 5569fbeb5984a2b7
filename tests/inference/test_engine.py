"""The live engine on emulated streams, with models whose answers are known."""

from __future__ import annotations

import json
import re
import threading

import numpy as np
import pytest
from onnx_models import gain_with_rate_model, mean_model, reshape_to_ten_model, stateful_sum_model, write_mapping

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import SourceError
from sensorlab.datasets.windows import cut_windows
from sensorlab.inference import InferenceProcessor, InferenceStats, LoadedModel, ModelError, ModelMapping


class Collect:
    """Chunks per stream, with a wait for a number of samples of one of them."""

    def __init__(self):
        self.chunks: dict[str, list] = {}
        self.cond = threading.Condition()

    def __call__(self, stream, chunk):
        with self.cond:
            self.chunks.setdefault(stream, []).append(chunk)
            self.cond.notify_all()

    def count(self, stream):
        return sum(len(c) for c in self.chunks.get(stream, []))

    def wait(self, stream, n, timeout=60.0):
        with self.cond:
            return self.cond.wait_for(lambda: self.count(stream) >= n, timeout)

    def cat(self, stream, attr="data"):
        return np.concatenate([getattr(c, attr) for c in self.chunks[stream]])


def run_engine(make_acquisition, src, proc, stream, n):
    acq = make_acquisition(src, proc)
    got = Collect()
    acq.subscribe(got)
    acq.start()
    assert got.wait(stream, n), f"only {got.count(stream)} of {n} predictions"
    return acq, got


def test_window_longer_than_hop_gives_the_known_answer_stamped_with_window_start_and_end(tmp_path, make_acquisition):
    model = mean_model(tmp_path / "mean.onnx", channels=2)
    write_mapping(model, stream="imu", window=0.5, hop=0.25, scores_kind="probabilities", labels=["a", "b"])
    src = SignalSource("imu", rate=100, shape=(2,), pattern="counter", realtime=False, max_samples=1000, chunk_size=7, t0=1000.0)
    proc = InferenceProcessor(model, stale_after=1e9)
    n = (1000 - 50) // 25 + 1
    acq, got = run_engine(make_acquisition, src, proc, "mean_pred", n)
    info = acq.streams["mean_pred"]
    assert info.channel_names == ("a", "b") and info.nominal_rate == 4.0
    p = got.cat("mean_pred")
    starts = got.cat("mean_pred", "device_times")
    ends = got.cat("mean_pred", "timestamps")
    np.testing.assert_allclose(starts, 1000.0 + np.arange(n) * 0.25)
    np.testing.assert_allclose(ends, starts + 0.5)
    k = np.arange(n)[:, None] * 25 + np.arange(50)[None, :]  # sample indices of each window
    expected = np.stack([(2 * k).mean(1), (2 * k + 1).mean(1)], axis=1)
    np.testing.assert_allclose(p, expected, rtol=1e-6)
    st = proc.stats["mean_pred"]
    assert isinstance(st, InferenceStats) and st.windows == n and st.skipped == 0 and st.latency_ms >= 0


def test_resampling_uses_the_dataset_cut(tmp_path, make_acquisition):
    model = mean_model(tmp_path / "m.onnx", channels=1)
    write_mapping(model, stream="s", rate=100, window=0.4, hop=0.2, scores_kind="probabilities", labels=["x"])
    src = SignalSource("s", rate=400, shape=(1,), pattern="sine", realtime=False, max_samples=4000, chunk_size=33, t0=50.0)
    proc = InferenceProcessor(model, stale_after=1e9)
    seen = []
    tapped = threading.Event()  # a tap runs after its windows' predictions are handed over: wait for it too

    def tap(s, e, x, p):
        seen.append(x)
        if sum(len(a) for a in seen) >= 40:
            tapped.set()

    proc.taps.append(tap)
    acq, got = run_engine(make_acquisition, src, proc, "m_pred", 40)
    assert tapped.wait(60.0), f"the tap saw {sum(len(a) for a in seen)} of 40 windows"
    x = np.concatenate(seen)
    assert x.shape[1:] == (40, 1)  # 0.4 s at 100 Hz, not at 400 Hz
    k = np.arange(4000)
    cut = cut_windows(src.timestamps(k), src.expected(k), 400, 100, got.cat("m_pred", "device_times")[:40], 0.4)
    np.testing.assert_allclose(x[:40], cut.data, atol=1e-6)
    # The first window would reach into the filter's padding at the stream's start: the grid
    # (anchored at the first sample, like a dataset's) begins one hop later.
    assert got.cat("m_pred", "device_times")[0] == pytest.approx(50.2)
    np.testing.assert_allclose(got.cat("m_pred")[:40, 0], cut.data.mean(axis=(1, 2)), atol=1e-6)


def test_stateful_model_feeds_state_back_and_resets_on_a_gap(tmp_path, make_acquisition):
    model = stateful_sum_model(tmp_path / "acc.onnx")
    write_mapping(model, stream="s", window=0.1, hop=0.1, layout="NTC", scores_kind="probabilities", labels=["total"])
    loaded = LoadedModel(model)
    assert loaded.state_pairs == {"state_out": "state_in"}  # matched by name and shape
    ones = lambda ts: np.ones((len(ts), 1), np.float32)  # noqa: E731
    src = SignalSource("s", rate=100, shape=(1,), pattern=ones, realtime=False, max_samples=1000, chunk_size=10, t0=10.0,
                       stall_after=500, stall_for=1.0)  # fmt: skip
    proc = InferenceProcessor(loaded, stale_after=1e9)
    acq, got = run_engine(make_acquisition, src, proc, "acc_pred", 8)
    assert src.wait(30)
    n_after = (1000 - 600) // 10
    assert got.wait("acc_pred", 50 + n_after)
    total = got.cat("acc_pred")[:, 0]
    ends = got.cat("acc_pred", "timestamps")
    before = ends <= 15.0 + 1e-9
    np.testing.assert_allclose(total[before], 10.0 * np.arange(1, before.sum() + 1))  # 10 samples of 1 per window, carried over
    np.testing.assert_allclose(total[~before], 10.0 * np.arange(1, (~before).sum() + 1))  # restarted after the gap
    assert got.cat("acc_pred", "device_times")[~before][0] == pytest.approx(16.0)  # the grid restarts at the first sample after it
    assert proc.stats["acc_pred"].resets >= 1


def test_stale_windows_are_skipped_and_counted_not_queued(tmp_path, make_acquisition):
    from sensorlab.acquisition.clock import now

    model = mean_model(tmp_path / "mean.onnx")
    write_mapping(model, stream="s", window=0.2, hop=0.1, scores_kind="probabilities", labels=["v"])
    # Samples stamped 5 s in the past: every window is already stale except the newest.
    src = SignalSource("s", rate=100, shape=(1,), realtime=False, max_samples=300, chunk_size=300, t0=now() - 5.0)
    proc = InferenceProcessor(model, stale_after=0.5)
    acq, got = run_engine(make_acquisition, src, proc, "mean_pred", 1)
    st = proc.stats["mean_pred"]
    assert st.windows == 1 and st.skipped == (300 - 20) // 10  # 28 windows ready at once, only the newest run
    assert got.cat("mean_pred", "device_times")[-1] == pytest.approx(src.t0 + 2.8)
    assert st.lag_ms > 1500  # its window ended 3 s after t0, ~2 s before it ran, and the lag says so


def test_events_from_a_smoothed_threshold(tmp_path, make_acquisition):
    model = mean_model(tmp_path / "m.onnx")
    write_mapping(model, stream="s", window=0.1, hop=0.1, scores_kind="probabilities", labels=["loud"])
    level = lambda ts: ((ts - 20.0 >= 1.0) & (ts - 20.0 < 2.0)).astype(np.float32)[:, None]  # noqa: E731  loud from 1 s to 2 s
    src = SignalSource("s", rate=100, shape=(1,), pattern=level, realtime=False, max_samples=300, chunk_size=10, t0=20.0)
    proc = InferenceProcessor(model, stale_after=1e9, smooth=3, event_label="loud", threshold=0.6, release=0.3)
    acq, got = run_engine(make_acquisition, src, proc, "m_pred_events", 2)
    ev = [json.loads(t) for t in got.cat("m_pred_events")]
    times = got.cat("m_pred_events", "timestamps")
    assert [e["type"] for e in ev] == ["start", "stop"] and {e["label"] for e in ev} == {"loud"}
    # smoothed over 3 windows: 2/3 at the window ending 1.2 s (> 0.6); 1/3 at 2.2 s is still above
    # the release level 0.3 (hysteresis), 0 at 2.3 s
    np.testing.assert_allclose(times - 20.0, [1.2, 2.3], atol=1e-9)


def test_bad_models_are_reported_naming_the_input_and_the_fix(tmp_path, make_acquisition):
    garbage = tmp_path / "notes.onnx"
    garbage.write_bytes(b"this is not a model")
    proc = InferenceProcessor(garbage)
    with pytest.raises(SourceError, match=r"notes.onnx: not a valid ONNX model .*load a .onnx file"):
        proc.open({})
    foreign = mean_model(tmp_path / "foreign.onnx")
    with pytest.raises(SourceError, match=r"foreign.onnx is not a sensorlab model and has no mapping \(inputs: x float \[N, T, 1\]\).*Load model"):
        InferenceProcessor(foreign).open({})
    two = gain_with_rate_model(tmp_path / "two.onnx")
    with pytest.raises(Exception, match=r"cannot tell which input takes the window .*audio.*sr.*set 'input'"):
        LoadedModel(two, ModelMapping(stream="s", window=1, hop=1, layout="NT"))
    with pytest.raises(Exception, match=r"model input sr float \[1\] is not mapped; .*\"constants\": \{\"sr\": 0\}"):
        LoadedModel(two, ModelMapping(stream="s", window=1, hop=1, layout="NT", input="audio"))


def test_an_unmapped_state_input_is_reported_with_the_output_that_carries_it(tmp_path):
    """A stateful model whose names follow no convention (memory → memory_update): the message
    gave '"state": {"<output>": "memory"}', leaving the user to find the output; the only other
    output of memory's shape is named, so the fix can be pasted as it is."""
    model = stateful_sum_model(tmp_path / "rnn.onnx", samples=10, state=("memory", "memory_update"), scores="scores", classes=2)
    with pytest.raises(ModelError) as e:
        LoadedModel(model, ModelMapping(stream="s", window=0.1, hop=0.1, input="x", scores="scores"))
    assert str(e.value).endswith('or as recurrent state ("state": {"memory_update": "memory"})')
    # No other output of its shape: the placeholder stays for the user to fill in.
    two = gain_with_rate_model(tmp_path / "two.onnx")  # audio, sr [1] → p [N, 2]: nothing of sr's shape
    with pytest.raises(ModelError, match=r'"state": \{"<output>": "sr"\}'):
        LoadedModel(two, ModelMapping(stream="s", window=1, hop=1, layout="NT", input="audio"))


def test_a_model_failing_at_run_time_stops_only_its_stream(tmp_path, make_acquisition):
    model = reshape_to_ten_model(tmp_path / "r.onnx")
    write_mapping(model, stream="s", window=0.2, hop=0.2, scores_kind="probabilities")
    src = SignalSource("s", rate=100, shape=(1,), realtime=False, max_samples=500, chunk_size=10)
    proc = InferenceProcessor(model, stale_after=1e9)
    acq = make_acquisition(src, proc)
    failed, seen = threading.Event(), Collect()
    acq.stream_failed.connect(lambda s, m: failed.set())
    acq.subscribe(seen)
    acq.start()
    assert src.wait(30) and seen.wait("s", 500)
    assert seen.count("s") == 500 and not acq.stats["s"].error
    # An event: the failure notifies no condition of `seen` (waiting on one ran out its 30 s).
    assert failed.wait(30)
    # one window, or several in one batch when the engine woke late: the shape says which
    assert re.search(r"onnxruntime failed on input 'x' of shape \[\d+, 20, 1\]", acq.stats["r_pred"].error)
    assert "check the mapping's layout, window and channels" in acq.stats["r_pred"].error


def test_the_engine_wakes_once_per_hop_not_once_per_device_chunk(tmp_path, make_acquisition):
    # A 100 Hz device delivering one sample at a time, in real time: 150 chunks, 5 windows.
    model = mean_model(tmp_path / "mean.onnx")
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="probabilities", labels=["v"])
    calls = []

    class Counting(InferenceProcessor):
        def process_chunks(self, new):
            calls.append(sum(len(c) for c in new["s"]))
            super().process_chunks(new)

    src = SignalSource("s", rate=100, shape=(1,), pattern="counter", realtime=True, max_samples=150, chunk_size=1)
    proc = Counting(model, stale_after=1e9)
    acq, got = run_engine(make_acquisition, src, proc, "mean_pred", 5)
    assert src.wait(30)
    np.testing.assert_allclose(got.cat("mean_pred")[:, 0], [24.5 + 25 * i for i in range(5)])  # every window, whole
    # Woken when a window can be complete (plus the first sample, which starts the grid), with
    # every sample since the last call; not for each of the 150 chunks.
    assert len(calls) <= 5 + 2 and sum(calls) >= 125, calls


def test_the_reported_lag_runs_from_the_windows_last_sample_so_it_is_never_negative(tmp_path, make_acquisition):
    """A 0.5 s window at 100 Hz ends at start + 0.5 s, but its last sample is at start + 0.49 s
    and it runs as soon as that sample arrives: measured from the window's end, the lag came out
    ~10 ms too small, below zero on an idle machine (a prediction before its own data). From the
    last sample it is the sample-to-prediction latency the goal is about."""
    model = mean_model(tmp_path / "mean.onnx")
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="probabilities", labels=["v"])
    src = SignalSource("s", rate=100, shape=(1,), pattern="counter", realtime=True, max_samples=200, chunk_size=1)
    proc = InferenceProcessor(model, stale_after=1e9)
    lags = []
    proc.taps.append(lambda s, e, x, p: lags.append((proc.stats["mean_pred"].lag_ms, float(e[-1]))))
    acq, got = run_engine(make_acquisition, src, proc, "mean_pred", 4)
    last_sample = got.cat("mean_pred", "timestamps") - 0.01  # the stream's own stamps: end − one period
    made = got.cat("mean_pred", "arrival_times")
    assert np.all(made >= last_sample) and all(lag >= 0 for lag, _e in lags), lags
    # One tap call per run; a late wake-up (a loaded machine) runs two windows at once, and the
    # reported lag is the newest one's: compare each call with the prediction of its last window.
    ends = got.cat("mean_pred", "timestamps")
    at = [int(np.flatnonzero(ends == e)[0]) for _lag, e in lags]
    assert len(at) >= 3
    np.testing.assert_allclose([lag for lag, _e in lags], (made[at] - last_sample[at]) * 1000, atol=1e-6)


def test_two_builds_of_a_run_are_told_apart_live_by_their_stream_names(tmp_path):
    # Every export is called model.onnx / model.int8.onnx inside its run folder: both came out
    # as "model_pred" (and the second could not even be added beside the first).
    run = tmp_path / "runs" / "kws-audio"
    run.mkdir(parents=True)
    names = []
    for file in ("model.onnx", "model.int8.onnx"):
        model = mean_model(run / file, channels=2)
        write_mapping(model, stream="imu", window=0.5, hop=0.25, scores_kind="probabilities", labels=["a", "b"])
        names.append(InferenceProcessor(model).name)
    assert names == ["kws-audio_pred", "kws-audio_int8_pred"]
    other = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(other, stream="imu", window=0.5, hop=0.25, scores_kind="probabilities", labels=["a", "b"])
    assert InferenceProcessor(other).name == "motion_pred"  # any other model: its file name

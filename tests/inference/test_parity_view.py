"""Parity: a second build on exactly the windows the first saw; divergences counted and kept."""

from __future__ import annotations

import json
import time

import numpy as np
from onnx_models import max_model, mean_model, write_mapping

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.inference import InferenceProcessor, LoadedModel
from sensorlab.inference.device_parity import compare_events
from sensorlab.inference.parity import ParityTap


def test_two_builds_on_the_same_windows_count_the_injected_divergences(tmp_path, make_acquisition):
    a = mean_model(tmp_path / "fp32.onnx")
    b = max_model(tmp_path / "int8.onnx")
    for m in (a, b):
        write_mapping(m, stream="s", window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    step = lambda ts: ((np.rint((ts - 70.0) * 100) // 100) % 2).astype(np.float32)[:, None]  # noqa: E731  1 s off, 1 s on
    src = SignalSource("s", rate=100, shape=(1,), pattern=step, realtime=False, max_samples=1000, chunk_size=13, t0=70.0)
    proc = InferenceProcessor(a, stale_after=1e9)
    tap = ParityTap(LoadedModel(b), tolerance=0.05)
    proc.taps.append(tap)
    acq = make_acquisition(src, proc)
    acq.start()
    deadline = time.monotonic() + 60
    while tap.report.windows < 199 and time.monotonic() < deadline:
        time.sleep(0.05)
    r = tap.report
    assert r.windows == 199  # every window both builds saw
    # Windows straddling one of the 9 edges (starting 5 samples before it) are the only ones where mean != max.
    assert r.divergent == 9 and [round(d.start - 70.0, 3) for d in r.kept] == [0.95 + i for i in range(9)]
    assert all(abs(d.a[0] - 0.5) < 1e-6 and d.b[0] == 1.0 and d.features.shape == (10, 1) for d in r.kept)
    assert r.max_abs == 0.5 and r.agreement == 1 - 9 / 199


def test_host_predictions_against_the_devices_own_reports():
    ends = np.array([1.0, 2.0, 3.0, 4.0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    ev_t = np.array([1.05, 2.1, 3.02, 9.0])
    ev = [json.dumps({"label": "idle"}), json.dumps({"label": "clap"}), json.dumps({"label": "clap"}), "idle"]
    r = compare_events(ends, probs, ["idle", "clap"], ev_t, ev, tolerance=0.5)
    assert r.windows == 3 and r.divergent == 1 and r.kept[0].end == 3.0  # window 4: the device said nothing in time


def test_a_full_trace_keeps_the_newest_windows_in_order_and_the_second_build_runs_bound(tmp_path):
    """The view overlays the last `trace` windows several times a second: the trace is kept in
    arrays (a deque of per-window tuples was stacked row by row, 2–6 ms of GIL per refresh at
    3,000 windows) and must still give the newest windows, oldest first, after it wrapped. The
    second build runs through its bound inputs (no feed dict per window) with `run`'s answers."""
    a = mean_model(tmp_path / "fp32.onnx")
    b = max_model(tmp_path / "int8.onnx")
    for m in (a, b):
        write_mapping(m, stream="s", window=0.1, hop=0.05, scores_kind="probabilities", labels=["on"])
    reference = LoadedModel(b)
    tap = ParityTap(LoadedModel(b), tolerance=0.05, trace=7)
    rng = np.random.default_rng(3)
    want_ends, want_a, want_b = [], [], []
    for i in range(20):  # one window per call, as live; then a batch of three (a late wake-up)
        x = rng.random((1, 10, 1)).astype(np.float32)
        pa = np.array([[float(x.mean())]], np.float32)
        tap(np.array([i * 0.05]), np.array([i * 0.05 + 0.1]), x, pa)
        want_ends.append(i * 0.05 + 0.1), want_a.append(pa[0]), want_b.append(reference.run(x)[0])
    x = rng.random((3, 10, 1)).astype(np.float32)
    pa = x.mean(axis=1)
    tap(np.arange(20, 23) * 0.05, np.arange(20, 23) * 0.05 + 0.1, x, pa)
    want_ends += list(np.arange(20, 23) * 0.05 + 0.1)
    want_a += list(pa)
    want_b += list(reference.run(x))
    assert tap.error == "" and tap._bound not in (None, False)  # one window at a time: the bound call
    ends, ta, tb = tap.trace_arrays()
    np.testing.assert_allclose(ends, want_ends[-7:])
    np.testing.assert_allclose(ta, np.array(want_a[-7:], np.float64), rtol=1e-6)
    np.testing.assert_allclose(tb, np.array(want_b[-7:], np.float64), rtol=1e-6)
    assert tap.report.windows == 23

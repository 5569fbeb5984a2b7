"""Micro-batching: windows that are ready at the same wake-up go to the model in one run — the same
predictions, with the same window times, as one run per window; never for a stateful model."""

from __future__ import annotations

import numpy as np
from onnx_models import batch_size_model, fake_batch_axis_model, stateful_batch_axis_model, write_mapping
from test_engine import Collect

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.inference import InferenceProcessor, LoadedModel


def predictions(make_acquisition, model, n: int, stream: str, batch: bool = True):
    """The model on a 100 Hz counter stream delivered in 1 s chunks; ``n`` predictions. ``batch=False``:
    the engine runs its windows one by one (as before micro-batching), the reference."""
    src = SignalSource("s", rate=100, shape=(1,), pattern="counter", realtime=False, max_samples=1000, chunk_size=100, t0=1000.0)
    proc = InferenceProcessor(LoadedModel(model), stale_after=1e9)
    proc._batch = batch
    acq = make_acquisition(src, proc)
    got = Collect()
    acq.subscribe(got)
    acq.start()
    assert got.wait(stream, n), f"only {got.count(stream)} of {n} predictions"
    acq.close()
    return got, proc


def test_windows_ready_together_run_in_one_batch_with_the_predictions_and_times_of_one_by_one(tmp_path, make_acquisition):
    model = batch_size_model(tmp_path / "b.onnx")
    write_mapping(model, stream="s", window=0.2, hop=0.05, scores_kind="probabilities", labels=["mean", "batch"])
    n = (1000 - 20) // 5 + 1  # every window of the 10 s
    # 1 s chunks and 50 ms hops: each chunk completes 20 windows at once.
    batched, proc = predictions(make_acquisition, model, n, "b_pred")
    single, _ = predictions(make_acquisition, model, n, "b_pred", batch=False)
    for attr in ("timestamps", "device_times"):  # the same windows: ends and starts
        np.testing.assert_array_equal(batched.cat("b_pred", attr)[:n], single.cat("b_pred", attr)[:n])
    np.testing.assert_allclose(batched.cat("b_pred")[:n, 0], single.cat("b_pred")[:n, 0], rtol=1e-6)
    k = np.arange(n)[:, None] * 5 + np.arange(20)[None, :]  # the counter's samples in each window
    np.testing.assert_allclose(batched.cat("b_pred")[:n, 0], k.mean(1), rtol=1e-6)
    # Every emitted chunk came from one run: its windows were the model's batch.
    sizes = [len(c) for c in batched.chunks["b_pred"]]
    assert max(sizes) > 1
    for c in batched.chunks["b_pred"]:
        np.testing.assert_array_equal(c.data[:, 1], len(c))
    assert set(single.cat("b_pred")[:n, 1]) == {1.0}
    assert proc.stats["b_pred"].windows >= n


def test_a_stateful_model_is_never_batched_even_with_a_free_batch_axis(tmp_path, make_acquisition):
    model = stateful_batch_axis_model(tmp_path / "acc.onnx")
    write_mapping(model, stream="s", window=0.1, hop=0.05, scores_kind="probabilities", labels=["total"])
    lm = LoadedModel(model)
    assert lm.state_pairs == {"state_out": "state_in"} and not lm.batch_ok
    n = (1000 - 10) // 5 + 1
    got, _ = predictions(make_acquisition, model, n, "acc_pred")
    assert max(len(c) for c in got.chunks["acc_pred"]) > 1  # several windows were ready together …
    k = np.arange(n)[:, None] * 5 + np.arange(10)[None, :]
    # … and each still got the state its predecessor left: the running total of window sums.
    np.testing.assert_allclose(got.cat("acc_pred")[:n, 0], np.cumsum(k.sum(1)), rtol=1e-6)


def test_a_model_whose_batch_axis_is_not_real_runs_window_by_window(tmp_path, make_acquisition):
    model = fake_batch_axis_model(tmp_path / "f.onnx")
    write_mapping(model, stream="s", window=0.2, hop=0.05, scores_kind="probabilities", labels=["mean"])
    assert LoadedModel(model).batch_ok  # it says its batch axis is free
    n = (1000 - 20) // 5 + 1
    got, proc = predictions(make_acquisition, model, n, "f_pred")
    k = np.arange(n)[:, None] * 5 + np.arange(20)[None, :]
    np.testing.assert_allclose(got.cat("f_pred")[:n, 0], k.mean(1), rtol=1e-6)
    assert proc._batch is False and not proc.stats["f_pred"].error

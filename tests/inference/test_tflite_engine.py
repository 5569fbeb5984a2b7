"""TFLite builds in the live engine: configured by their embedded contract, int8 handled, parity with ONNX."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="running .tflite models needs ai-edge-litert (pip install 'sensorlab[litert]')")

from onnx_models import contract_mean_model, write_mapping  # noqa: E402
from tflite_models import mean_tflite  # noqa: E402

from sensorlab.acquisition.emulated.signal import SignalSource  # noqa: E402
from sensorlab.contract import ModelContract  # noqa: E402
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelError, describe_model  # noqa: E402
from sensorlab.inference.parity import ParityTap  # noqa: E402
from test_engine import run_engine  # noqa: E402

MEAN, STD = [0.5, -1.0], [2.0, 4.0]


def contract(dtype: str = "float32", quant: tuple[float, int] | None = None) -> ModelContract:
    c = ModelContract(
        task="timeseries",
        input={"name": "x", "stream": "imu", "rate": 100, "channels": ["ch1", "ch0"], "shape": [50, 2], "dtype": dtype,
               "normalization": {"kind": "standardize", "mean": MEAN, "std": STD}},
        window={"length": 0.5, "hop": 0.25},
        features={"kind": "none", "in_graph": False},
        labels=["ch1", "ch0"],
        output={"name": "scores", "kind": "probabilities"},
        model={"format": "tflite", "batch": 1},
    )  # fmt: skip
    if quant:
        c.input["quantization"] = {"scale": quant[0], "zero_point": quant[1], "applies_to": "normalized"}
    return c


def counter_source(n: int = 1000) -> SignalSource:
    # "counter": value = 2k + channel at sample k; the model reads channels (ch1, ch0).
    return SignalSource("imu", rate=100, shape=(2,), pattern="counter", realtime=False, max_samples=n, chunk_size=7, t0=500.0)


def expected(n_windows: int) -> np.ndarray:
    k = np.arange(n_windows)[:, None] * 25 + np.arange(50)[None, :]
    raw = np.stack([(2 * k + 1).mean(1), (2 * k).mean(1)], axis=1)  # (ch1, ch0)
    return (raw - np.array(MEAN)) / np.array(STD)


def test_a_tflite_model_runs_live_configured_by_its_embedded_contract(tmp_path, make_acquisition):
    model = mean_tflite(tmp_path / "imu.tflite", 50, 2, contract=contract())
    model.with_name("imu.contract.json").unlink()  # the contract in the file's own metadata is enough
    proc = InferenceProcessor(model, stale_after=1e9)
    assert proc.model.mapping.stream == "imu" and proc.model.labels == ["ch1", "ch0"]
    n = (1000 - 50) // 25 + 1
    acq, got = run_engine(make_acquisition, counter_source(), proc, "imu_pred", n)
    assert acq.streams["imu_pred"].channel_names == ("ch1", "ch0")
    starts = got.cat("imu_pred", "device_times")
    np.testing.assert_allclose(starts, 500.0 + np.arange(n) * 0.25)
    np.testing.assert_allclose(got.cat("imu_pred", "timestamps"), starts + 0.5)
    np.testing.assert_allclose(got.cat("imu_pred"), expected(n), rtol=1e-5)
    ins, outs, c = describe_model(model)  # what the mapping dialog shows: the contract's names
    assert [t.describe() for t in ins] == ["x float [1, 50, 2]"] and [t.name for t in outs] == ["scores"] and c.labels == ["ch1", "ch0"]


def test_an_int8_tflite_build_is_quantized_by_the_engine_and_agrees_with_the_fp32_onnx_build(tmp_path, make_acquisition):
    scale = 0.02  # int8 covers ±2.5 around the zero point: the standardized sine stays inside
    fp32 = contract_mean_model(tmp_path / "imu.onnx", "imu", 100, ["ch1", "ch0"], window=0.5, hop=0.25, mean=MEAN, std=STD)
    int8 = mean_tflite(tmp_path / "imu.int8.tflite", 50, 2, int8=True, quant=(scale, -5), contract=contract("int8", (scale, -5)))
    src = SignalSource("imu", rate=100, shape=(2,), pattern="sine", realtime=False, max_samples=1000, chunk_size=7, t0=500.0)
    proc = InferenceProcessor(fp32, stale_after=1e9)
    tap = ParityTap(LoadedModel(int8), tolerance=scale)  # one quantization step
    proc.taps.append(tap)
    run_engine(make_acquisition, src, proc, "imu_pred", 39)
    deadline = time.monotonic() + 60
    while tap.report.windows < 39 and time.monotonic() < deadline:
        time.sleep(0.05)
    r = tap.report
    assert r.windows == 39 and r.divergent == 0
    assert 0 < r.max_abs <= scale  # int8 rounding shows, within one step
    # The int8 build alone: the same windows, quantized and dequantized inside the session.
    lm = LoadedModel(int8)
    x = np.random.default_rng(0).normal(size=(3, 50, 2)) * np.array(STD) + np.array(MEAN)
    p = lm.run(lm.features(x))
    q = np.clip(np.round((x - np.array(MEAN)) / np.array(STD) / scale) - 5, -128, 127)  # quantized input, zero point -5
    np.testing.assert_allclose(p, (np.round(q.mean(1)) + 5) * scale, atol=scale / 2 + 1e-6)  # int8 mean, dequantized


def test_a_foreign_tflite_model_asks_for_a_mapping_then_runs(tmp_path):
    model = mean_tflite(tmp_path / "kws.tflite", 40, 1)
    with pytest.raises(ModelError, match=r"kws.tflite is not a sensorlab model and has no mapping \(inputs: serving_default_x:0 float \[1, 40, 1\]\); map it"):
        LoadedModel(model)
    write_mapping(model, stream="mic", rate=16000, window=0.0025, hop=0.0025, scores_kind="sigmoid", labels=["on"])
    lm = LoadedModel(model)
    assert lm.window_input.name == "serving_default_x:0" and lm.outputs[0].name == "StatefulPartitionedCall:0"
    p = lm.run(lm.features(np.zeros((2, 40, 1), np.float32)))
    np.testing.assert_allclose(p, 0.5)  # sigmoid(mean 0)


def test_a_file_that_is_not_tflite_is_refused_with_the_fix(tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match=r"^model.tflite: not a TFLite flatbuffer \(no TFL3 identifier\); load a .tflite file"):
        LoadedModel(bad)


def test_the_studio_loads_an_int8_tflite_build_while_recording_and_records_its_predictions(tmp_path):
    from test_studio_model import _wait

    from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
    from sensorlab.session.reader import Session
    from sensorlab.studio import Studio

    c = contract("int8", (0.01, 0))
    c.input.update(stream="mic", rate=16000, channels=["ch0"], shape=[3200, 1], normalization={"kind": "none"})
    c.window, c.labels = {"length": 0.2, "hop": 0.1}, ["level", "rest"]
    int8 = mean_tflite(tmp_path / "level.int8.tflite", 3200, 1, int8=True, quant=(0.01, 0), contract=c)
    studio = Studio()
    try:
        studio.open(RigConfig(emulated=[EmulatedConfig(device="microphone", name="mic", rate=48000)]).build_sources())
        path = studio.start_recording(tmp_path / "live.h5")
        assert studio.load_model(int8) == ("level_int8_pred",)
        _wait(lambda: studio.acquisition.stats["level_int8_pred"].samples >= 10)
        st = studio.acquisition.stats["level_int8_pred"]
        assert st.windows >= 10 and st.latency_ms > 0 and not st.error
        studio.stop_recording()
    finally:
        studio.close()
    with Session.open(path) as s:
        r = s.streams["level_int8_pred"]
        assert r.info.channel_names == ("level", "rest")
        pred = r.read(-np.inf, np.inf)
        assert len(pred) >= 10 and np.isfinite(pred.data).all()
        np.testing.assert_allclose(pred.timestamps - pred.device_times, 0.2, atol=1e-9)

"""The live graph's standardization is float32 and still gives training's features (≤ 1e-4).

The fused graph (`sensorlab.inference.fused`) standardizes the raw window inside the model's
onnxruntime run; training standardizes with `ChannelStats.apply` in float64. Here the graph's
model input — the value the model itself reads — is made an output of the same graph, run on
real onnxruntime, and compared with `LoadedModel.features` (the contract's `prepare`, the call
training makes) on the same raw windows: the demo clap detector on the demo rig's IMU signal
(int16 counts in g, its ``az`` mean 346 std from zero), and channels whose mean lies 1e3–1e5
std from zero, as float32 values and as int16 raw counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from onnx_models import contract_mean_model

from sensorlab.acquisition.emulated.mcu_board import IMU_SCALE
from sensorlab.acquisition.emulated.world import World
from sensorlab.inference import LoadedModel
from sensorlab.inference.fused import RAW, fused_graph

DEMO = Path(__file__).resolve().parents[2] / "sensorlab" / "resources" / "models"


def graph_features(model: LoadedModel, windows: np.ndarray) -> np.ndarray:
    """The fused graph's model input for each raw window ``(W, samples, channels)``: the graph as the
    live engine builds it, with the model's window input (the standardization's result) as an output."""
    bound = model.bound(windows.shape[1], windows.shape[2])
    graph, raw = fused_graph(model, int(bound.scores.size), bound._pair, bound._kind, bound.input.shape)
    assert raw == RAW
    proto = onnx.load_from_string(graph)
    assert not any(n.op_type == "Cast" and helper.get_attribute_value(n.attribute[0]) == TensorProto.DOUBLE for n in proto.graph.node), \
        "the standardization runs in float64"  # fmt: skip
    win = model.window_input.name
    proto.graph.output.append(helper.make_tensor_value_info(win, TensorProto.FLOAT, None))
    # Without graph optimizations: onnxruntime would otherwise fold an int8 build's input
    # quantization into the exposed value (its QDQ rewrite), and this reads the standardization itself.
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(proto.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run([win], {RAW: w[None].astype(np.float32)})[0] for w in windows])


def assert_training_features(model: LoadedModel, windows: np.ndarray) -> float:
    live = graph_features(model, windows)
    trained = model.features(windows)  # the contract's prepare: ChannelStats.apply in float64, as training
    diff = float(np.max(np.abs(live - trained)))
    assert diff <= 1e-4, f"{model.path.name}: live features differ from training's by {diff:.3g}"
    return diff


@pytest.mark.parametrize("file", ["demo_clap.onnx", "demo_clap.int8.onnx"])
def test_the_demo_clap_detector_gets_training_features_from_the_float32_graph(file):
    model = LoadedModel(DEMO / file)
    n, c = (int(v) for v in model.contract.input["shape"])
    norm = model.contract.input["normalization"]
    assert np.max(np.abs(norm["mean"]) / np.array(norm["std"])) > 300  # az: gravity, 346 std from zero
    # The demo rig's IMU as the studio reads it: int16 counts scaled to g, 1 kHz, windows every
    # 0.1 s over 6 s (three claps), and a window of a sensor reading zero (az 346 std away).
    world = World(t0=100.0)
    t = 100.0 + np.arange(6000 + n) / 1000.0
    scale = np.float32(IMU_SCALE[0])
    counts = np.clip(np.round(world.imu(t)[:, :c] / IMU_SCALE[0]), -32768, 32767).astype(np.int16)
    x = counts.astype(np.float32) * scale
    windows = np.stack([x[i : i + n] for i in range(0, 6000, 100)] + [np.zeros((n, c), np.float32)])
    assert_training_features(model, windows)


@pytest.mark.parametrize("ratio", [1e3, 1e4, 1e5])
@pytest.mark.parametrize("std", [0.003, 1.0, 37.7])
def test_a_mean_far_from_zero_in_units_of_std_keeps_training_features(tmp_path, ratio, std):
    """Samples around the mean (5 std of noise, and a tenth of them up to 400 std away)."""
    mean = [0.25, ratio * std * 1.0000123]
    path = contract_mean_model(tmp_path / "far.onnx", "s", 100, ["a", "b"], 1.0, 0.5, mean, [0.5, std])
    rng = np.random.default_rng(int(ratio) + int(std * 1000))
    z = rng.normal(0.0, 5.0, size=(40, 100, 2))
    z[::10] = rng.uniform(-400, 400, size=(4, 100, 2))
    windows = (np.array(mean) + z * np.array([0.5, std])).astype(np.float32)
    model = LoadedModel(path)
    assert_training_features(model, windows)
    # The old float32 graph, (x − float32(mean)) · float32(1/std), misses on these same windows
    # at ratio 1e5 (its mean's own rounding is in every value): the case has teeth.
    if ratio >= 1e5:
        old = (windows - np.float32(mean[1])) * np.float32(1 / std)
        assert np.max(np.abs(old[..., 1] - model.features(windows)[..., 1])) > 1e-4


@pytest.mark.parametrize(("mean", "std"), [(16384.37, 2.7), (-20000.2, 1.3), (30011.5, 0.4)])
def test_int16_raw_counts_keep_training_features(tmp_path, mean, std):
    """A model trained on raw int16 counts (an accelerometer axis at 1 g of a ±2 g range: 16384)."""
    path = contract_mean_model(tmp_path / "counts.onnx", "s", 100, ["a", "b"], 1.0, 0.5, [mean, 0.0], [std, 100.0])
    rng = np.random.default_rng(7)
    counts = np.clip(np.round(np.array([mean, 0.0]) + np.array([std, 100.0]) * rng.normal(0, 5, size=(30, 100, 2))), -32768, 32767)
    counts[::10, :, 0] = np.clip(np.round(mean + rng.uniform(-300, 300, size=(3, 100)) * std), -32768, 32767)
    windows = counts.astype(np.int16).astype(np.float32)
    assert_training_features(LoadedModel(path), windows)


def test_values_far_beyond_the_mean_stay_within_float32s_own_last_steps(tmp_path):
    """Where 1e-4 is below float32's spacing (|standardized| ≥ 1024: a sensor reading zero on a
    channel whose mean is 10⁴ std away), the graph's value is within two float32 steps of training's."""
    path = contract_mean_model(tmp_path / "far.onnx", "s", 100, ["a", "b"], 1.0, 0.5, [12345.678, 0.0], [1.2345, 1.0])
    rng = np.random.default_rng(3)
    windows = rng.uniform(-33000, 33000, size=(20, 100, 2)).astype(np.float32)
    model = LoadedModel(path)
    live, trained = graph_features(model, windows), model.features(windows)
    assert np.all(np.abs(live - trained) <= 2 * np.spacing(np.abs(trained)))

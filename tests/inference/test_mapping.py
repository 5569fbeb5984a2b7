"""Foreign ONNX models: a mapping saved beside the model, reused, with layout, scaling and constants."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_models import gain_with_rate_model, mean_model, stateful_sum_model

from sensorlab.inference import LoadedModel, ModelError, ModelMapping, Windower, describe_model, mapping_path
from sensorlab.inference.mapping import MappingError


def test_mapping_saved_beside_the_model_is_reused_with_constants_layout_and_scaling(tmp_path):
    model = gain_with_rate_model(tmp_path / "kws.onnx")
    ins, outs, contract = describe_model(model)
    assert [t.describe() for t in ins] == ["audio float [N, T]", "sr float [1]"] and contract is None
    m = ModelMapping(stream="mic", window=0.5, hop=0.25, input="audio", layout="NT", scale=2.0, offset=1.0, constants={"sr": 16000},
                     scores="p", scores_kind="probabilities", labels=["gain", "zero"])  # fmt: skip
    assert m.save(model) == tmp_path / "kws.mapping.json" == mapping_path(model)
    again = LoadedModel(model)  # no mapping given: the saved one is used
    assert again.mapping == m and again.labels == ["gain", "zero"]
    w = np.full((3, 8, 1), 0.25, np.float32)
    w[1] = 0.5
    p = again.run(again.features(w))
    np.testing.assert_allclose(p[:, 0], (w[:, 0, 0] * 2 + 1) * 16000)  # (x * scale + offset), times the constant
    np.testing.assert_allclose(p[:, 1], 0)


def test_layouts_channels_first_and_no_batch_axis(tmp_path):
    model = mean_model(tmp_path / "m.onnx", channels=3)
    lm = LoadedModel(model, ModelMapping(stream="s", window=1, hop=1, scores_kind="probabilities"))
    w = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    assert lm.features(w).shape == (2, 4, 3)
    np.testing.assert_allclose(lm.run(lm.features(w)), w.mean(axis=1))
    lm.mapping.layout = "NCT"
    lm.layout = "NCT"
    assert lm.features(w).shape == (2, 3, 4) and lm.features(w)[0, 1].tolist() == w[0, :, 1].tolist()


def test_stateful_feedback_by_name_and_shape_and_reset(tmp_path):
    lm = LoadedModel(stateful_sum_model(tmp_path / "acc.onnx"), ModelMapping(stream="s", window=1, hop=1, scores_kind="probabilities"))
    w = np.ones((3, 5, 1), np.float32)
    np.testing.assert_allclose(lm.run(lm.features(w))[:, 0], [5, 10, 15])
    lm.reset()
    np.testing.assert_allclose(lm.run(lm.features(w[:1]))[:, 0], [5])


def test_explicit_state_pairs_and_mistakes_are_one_line(tmp_path):
    model = stateful_sum_model(tmp_path / "acc.onnx")
    with pytest.raises(ModelError, match=r"mapping state 'h' → 'state_in': the model has outputs score, state_out .* fix 'state'"):
        LoadedModel(model, ModelMapping(stream="s", window=1, hop=1, state={"h": "state_in"}))
    with pytest.raises(ModelError, match=r"no output 'probs' to read scores from \(outputs: score, state_out\); fix 'scores'"):
        LoadedModel(model, ModelMapping(stream="s", window=1, hop=1, scores="probs"))
    (tmp_path / "acc.mapping.json").write_text('{"stream": "s", "window": 1, "hop": 1, "hopp": 2}')
    with pytest.raises(ModelError, match=r"acc.mapping.json: hopp: unknown key"):
        LoadedModel(model)
    with pytest.raises(MappingError, match=r"mapping: layout: .*exactly one T"):
        ModelMapping.parse('{"stream": "s", "window": 1, "hop": 1, "layout": "NC"}')
    fixed = mean_model(tmp_path / "fixed.onnx", samples=16000)
    lm = LoadedModel(fixed, ModelMapping(stream="mic", window=0.5, hop=0.5, rate=16000))
    with pytest.raises(ModelError, match=r"takes 16000 along T, the mapping gives 8000 samples \(window 0.5 s at 16000 Hz\); set window to 1 s or rate to 32000 Hz"):
        lm.check_window(8000, 1)


def test_windower_window_longer_than_hop_over_chunks_equals_one_read():
    ts = 100.0 + np.arange(1000) / 100.0
    x = np.sin(ts)[:, None]
    whole = Windower(100, 100, 0.5, 0.1).push(ts, x)
    w = Windower(100, 100, 0.5, 0.1)
    parts = [r for i in range(0, 1000, 37) for r in w.push(ts[i : i + 37], x[i : i + 37])]
    a = np.concatenate([r.data for r in whole])
    b = np.concatenate([r.data for r in parts])
    assert len(a) == len(b) == (1000 - 50) // 10 + 1
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.concatenate([r.starts for r in parts]), 100.0 + np.arange(len(b)) * 0.1)


def test_samples_and_channels_the_other_way_round_name_the_layout_not_the_window(tmp_path):
    """A 1-D conv exported as (N, C, T) mapped with the default-looking NTC: the message
    proposed "set window to 0.03 s or rate to 6 Hz" (3 channels read as 3 samples)."""
    model = mean_model(tmp_path / "conv.onnx", channels=50, samples=3)  # input x [N, 3, 50]: channels first
    lm = LoadedModel(model, ModelMapping(stream="imu", channels=["ax", "ay", "az"], window=0.5, hop=0.25, rate=100, layout="NTC"))
    with pytest.raises(ModelError, match=r"takes 3 channel\(s\) × 50 samples in the order 'NCT', the mapping's layout is 'NTC'; set 'layout' to 'NCT'"):
        lm.check_window(50, 3)
    lm.layout = "NCT"
    lm.check_window(50, 3)  # the fix the message names is enough


def test_a_pytorch_checkpoint_given_as_the_model_names_the_export_to_run(tmp_path):
    """`sensorlab predict runs/imu/model.pt run.h5` (or Load model… on it) said "not a valid ONNX
    model (INVALID_PROTOBUF …); load a .onnx file", not how to get one from the run."""
    run = tmp_path / "runs" / "imu"
    run.mkdir(parents=True)
    (run / "model.pt").write_bytes(b"PK\x03\x04 torch.save zip archive")  # the first bytes of a torch.save file
    with pytest.raises(ModelError, match=r"model.pt: a PyTorch checkpoint, not a model to run; export it first with `sensorlab export .*imu --format onnx`"):
        LoadedModel(run / "model.pt", ModelMapping(stream="imu", window=1, hop=1))

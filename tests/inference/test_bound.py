"""The live engine's bound model call (`BoundRun`: inputs and outputs bound once) gives what
`LoadedModel.features` + `LoadedModel.run` give — the same model input bit for bit and the same
probabilities — for every kind of mapping: a contract's standardization, a mapping's
mean/std/scale/offset, softmax and sigmoid scores, constants, recurrent state (and its reset),
a layout without a channel axis and one with channels before samples."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx_models import _save, contract_mean_model, gain_with_rate_model, mean_model, stateful_sum_model

from sensorlab.inference import LoadedModel, ModelMapping


def channels_first_model(path, channels=3):
    """``scores[n, c] = mean_t x[n, c, t]``: input (N, C, T)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", channels, "T"])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", channels])
    return _save(helper.make_graph([helper.make_node("ReduceMean", ["x"], ["scores"], axes=[2], keepdims=0)], "cf", [x], [y]), path)


def cases(tmp_path):
    m = lambda **k: ModelMapping(stream="s", window=0.2, hop=0.1, **k)  # noqa: E731
    yield "contract standardize", contract_mean_model(tmp_path / "c.onnx", "s", 100, ["a", "b"], 0.2, 0.1, [0.5, -1.0], [2.0, 0.0]), None, 20, 2
    yield "mapping mean/std/scale/offset, softmax", mean_model(tmp_path / "m.onnx", channels=3), m(
        mean=[0.1, 0.2, 0.3], std=[1.5, 2.0, 0.5], scale=3.0, offset=-0.25, scores_kind="logits", labels=["a", "b", "c"]), 20, 3
    yield "one sigmoid score for two labels", mean_model(tmp_path / "g.onnx", channels=1), m(scores_kind="sigmoid", labels=["off", "on"]), 20, 1
    yield "constant input, no channel axis", gain_with_rate_model(tmp_path / "r.onnx"), m(layout="NT", input="audio", constants={"sr": 16000.0},
                                                                                       scores_kind="probabilities", labels=["x", "zero"]), 20, 1  # fmt: skip
    yield "channels before samples", channels_first_model(tmp_path / "f.onnx"), m(layout="NCT", scores_kind="logits", labels=["a", "b", "c"]), 20, 3
    yield "recurrent state", stateful_sum_model(tmp_path / "s.onnx"), m(scores_kind="probabilities", labels=["sum"]), 20, 1


def test_the_bound_call_gives_the_model_input_and_probabilities_of_features_and_run(tmp_path):
    rng = np.random.default_rng(7)
    for name, path, mapping, samples, channels in cases(tmp_path):
        live, ref = LoadedModel(path, mapping), LoadedModel(path, mapping)
        bound = live.bound(samples, channels)
        assert bound is not None, name
        for i in range(12):
            if i == 8:  # a gap: the state starts again from zero on both
                live.reset()
                ref.reset()
            w = (rng.normal(size=(samples, channels)) * 3).astype(np.float32)
            p = bound(w)
            x = ref.features(w[None])
            assert np.array_equal(bound.prepare(w), x), f"{name}: model input differs"
            # The live call computes the probabilities in float32 inside the graph (tests/inference/test_fused.py).
            np.testing.assert_allclose(p, ref.run(x), rtol=1e-6, atol=1e-6, err_msg=name)
            assert p.dtype == np.float32 and p.shape == (1, len(ref.labels))
        assert p is not bound(w), f"{name}: each call returns a new array (a chunk of the predictions stream keeps it)"


def test_models_that_cannot_be_bound_take_features_and_run(tmp_path):
    """A float64 window input is not bound (nor a TFLite build, nor a log-mel front end outside the graph)."""
    x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", "T", 1])
    y = helper.make_tensor_value_info("scores", TensorProto.DOUBLE, ["N", 1])
    path = _save(helper.make_graph([helper.make_node("ReduceMean", ["x"], ["scores"], axes=[1], keepdims=0)], "d", [x], [y]), tmp_path / "d.onnx")
    lm = LoadedModel(path, ModelMapping(stream="s", window=0.2, hop=0.1, scores_kind="probabilities", labels=["m"]))
    assert lm.bound(20, 1) is None


@pytest.mark.parametrize("labels", [["a", "b"], ["a", "b", "c", "d"]])
def test_a_label_count_that_does_not_match_the_scores_is_refused_in_one_line(tmp_path, labels):
    path = mean_model(tmp_path / "m.onnx", channels=3)
    lm = LoadedModel(path, ModelMapping(stream="s", window=0.2, hop=0.1, scores_kind="logits", labels=labels))
    with pytest.raises(ValueError, match=rf"gives 3 scores but {len(labels)} labels are mapped; fix 'labels'"):
        lm.bound(20, 3)


def test_a_batch_gives_each_windows_model_input_and_probabilities_in_one_run(tmp_path):
    """`BoundRun.batch` (the engine's micro-batch): the model inputs `features` gives, bit for bit, and
    the probabilities of one run per window, for every batchable mapping (layouts, scaling, constants)."""
    rng = np.random.default_rng(11)
    for name, path, mapping, samples, channels in cases(tmp_path):
        live, ref = LoadedModel(path, mapping), LoadedModel(path, mapping)
        if not live.batch_ok:
            continue  # recurrent state: never batched (tests/inference/test_batching.py)
        bound = live.bound(samples, channels)
        for w in (2, 5, 2):  # a batch size seen again reuses its buffers
            ws = (rng.normal(size=(w, samples, channels)) * 3).astype(np.float32)
            x, p = bound.batch(ws)
            want_x = ref.features(ws)
            assert np.array_equal(x, want_x), f"{name}: model input differs"
            one_by_one = np.concatenate([ref.run(want_x[i : i + 1]) for i in range(w)])
            np.testing.assert_allclose(p, one_by_one, rtol=1e-6, atol=1e-7, err_msg=name)
            assert p.shape == (w, len(ref.labels)) and p.dtype == np.float32

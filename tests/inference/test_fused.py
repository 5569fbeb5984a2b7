"""The live model call runs the model with its scaling and probabilities inside the graph
(`sensorlab.inference.fused`): one onnxruntime run per window, no NumPy before or after. Its
probabilities equal the unfused call's (`LoadedModel.features` + `LoadedModel.run`) within 1e-5
for every kind of mapping, recurrent state is still fed back and reset, and the user's model
file is left as it was."""

from __future__ import annotations

import hashlib

import numpy as np
from test_bound import cases

from sensorlab.inference import LoadedModel
from sensorlab.inference.bound import _Fused

DEMO = __import__("pathlib").Path(__file__).resolve().parents[2] / "sensorlab" / "resources" / "models"


def test_every_mapping_runs_fused_and_gives_the_unfused_probabilities(tmp_path):
    rng = np.random.default_rng(3)
    for name, path, mapping, samples, channels in cases(tmp_path):
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        live, ref = LoadedModel(path, mapping), LoadedModel(path, mapping)
        bound = live.bound(samples, channels)
        for i in range(10):
            if i == 6:  # a gap: both forget their state
                live.reset()
                ref.reset()
            w = (rng.normal(size=(samples, channels)) * 3).astype(np.float32)
            p = bound(w)
            assert isinstance(bound._fused, _Fused), f"{name}: the live call is not the fused graph"
            want = ref.run(ref.features(w[None]))
            assert p.shape == want.shape and p.dtype == np.float32, name
            assert np.max(np.abs(p - want)) <= 1e-5, f"{name}: window {i}: {p} against {want}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, f"{name}: the model file was changed"


def test_the_bundled_demo_models_run_fused_with_the_contracts_standardization():
    """The demo clap detector (a contract with standardization, fp32 and int8 QDQ builds)."""
    rng = np.random.default_rng(5)
    for file in ("demo_clap.onnx", "demo_clap.int8.onnx"):
        live, ref = LoadedModel(DEMO / file), LoadedModel(DEMO / file)
        n, c = [int(v) for v in live.contract.input["shape"]]
        bound = live.bound(n, c)
        for _ in range(5):
            w = (rng.normal(size=(n, c)) * 2).astype(np.float32)
            p = bound(w)
            assert isinstance(bound._fused, _Fused), file
            want = ref.run(ref.features(w[None]))
            assert np.max(np.abs(p - want)) <= 1e-5, f"{file}: {p} against {want}"


def test_a_graph_that_cannot_be_fused_keeps_the_unfused_call(tmp_path):
    """An opset-12 graph (Softmax's axis meant something else before 13) is not rewritten: the live
    call scales in NumPy and computes the probabilities itself, with the same results."""
    import onnx
    from onnx import TensorProto, helper

    from sensorlab.inference import ModelMapping

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 20, 2])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2])
    g = helper.make_graph([helper.make_node("ReduceMean", ["x"], ["scores"], axes=[1], keepdims=0)], "old", [x], [y])
    path = tmp_path / "old.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)], ir_version=7), str(path))
    mapping = ModelMapping(stream="s", window=0.2, hop=0.1, mean=[0.5, -1.0], std=[2.0, 3.0], scores_kind="logits", labels=["a", "b"])
    live, ref = LoadedModel(path, mapping), LoadedModel(path, mapping)
    bound = live.bound(20, 2)
    w = np.random.default_rng(1).normal(size=(20, 2)).astype(np.float32)
    p = bound(w)
    assert bound._fused is False
    np.testing.assert_allclose(p, ref.run(ref.features(w[None])), rtol=1e-6, atol=1e-7)

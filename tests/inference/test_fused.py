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

"""Audio models train on stereo windows (the demo's microphone has two channels).

A new user's first audio dataset came from the demo rig: `sensorlab train --task audio` (and the
Training tab) died after loading PyTorch with "expected input[37, 2, 4000] to have 1 channels,
but got 2 channels". The log-mel front end now averages the channels, in the graph, so the
exported model takes the same stereo windows live inference cuts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import _splits, audio_windows, cli, train_run, write_dataset

pytest.importorskip("torch")


def test_audio_task_trains_exports_and_serves_on_stereo_windows(tmp_path):
    x, y = audio_windows(160, seed=4)
    rng = np.random.default_rng(5)
    stereo = np.concatenate([x, 0.5 * x + 0.01 * rng.standard_normal(x.shape).astype(np.float32)], axis=2)
    ds = write_dataset(tmp_path / "stereo.h5", "mic", "audio", 8000.0, ["ch0", "ch1"], stereo, y, ["noise", "tone"],
                       _splits(len(y), rng), window=(0.5, 0.25))  # fmt: skip
    run = train_run(ds, "audio", tmp_path / "run", 8, "width = 16\n")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.8  # tones vs noise: learned from the mixed channels
    contract = json.loads((run / "contract.json").read_text())
    assert contract["input"]["shape"] == [4000, 2] and contract["features"]["downmix"] == 2

    r = cli("export", run, "--format", "onnx")
    assert r.exit_code == 0, r.output
    from sensorlab.inference.model import LoadedModel

    # Live inference's path: raw stereo windows → the contract's preparation → the ONNX graph.
    model = LoadedModel(run / "model.onnx")
    test = np.flatnonzero(np.asarray(_splits(len(y), np.random.default_rng(5))) >= 0)[:16]
    probs = model.run(model.features(stereo[test]))
    assert probs.shape == (16, 2) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert np.mean(probs.argmax(axis=1) == y[test]) >= 0.8

"""Tiny synthetic datasets a correct model must learn, written with the datasets API."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from sensorlab.datasets.dataset import DatasetWriter

SPLITS = ["train", "val", "test"]


def write_dataset(path, stream, kind, rate, channels, x, y, classes, split, window=(1.0, 0.5), split_names=SPLITS, method="holdout"):
    """A dataset file holding windows ``x`` (n, T, C) with labels ``y`` and split indices ``split`` (into ``split_names``)."""
    w = DatasetWriter(path, [(stream, x.shape[1:], str(x.dtype))], train_split=0)
    w.append({stream: x}, {"label": y, "split": split, "session": np.zeros(len(y)), "start": np.arange(len(y), dtype=float),
                           "offset": np.arange(len(y), dtype=float), "coverage": np.ones(len(y)), "flags": np.zeros(len(y))})  # fmt: skip
    h = hashlib.sha256(x.tobytes()).hexdigest()
    w.finish({"classes": classes, "split_names": list(split_names), "split": {"method": method, "by": "session", "seed": 0},
              "streams": [{"name": stream, "kind": kind, "rate": rate, "source_rate": rate, "channels": channels,
                           "n_samples": x.shape[1], "dtype": str(x.dtype), "resampler": "none"}],
              "window": {"length": window[0], "hop": window[1], "rule": "majority", "min_coverage": 0.5, "gaps": "drop"},
              "inputs": [{"name": "synthetic.h5", "session_sha256": h}], "skipped": [], "warnings": [], "content_hash": h,
              "spec_hash": "0" * 64, "spec": json.dumps({"synthetic": True}), "sensorlab_version": "test"})  # fmt: skip
    return path


def _splits(n, rng):
    return rng.choice(3, size=n, p=[0.6, 0.2, 0.2]).astype(np.int8)


def imu_windows(n, seed=0, t=64, rate=50.0):
    """Sine (class 0) vs square (class 1) waves on 3 axes with random frequency, phase, offset, gain and noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    tt = np.arange(t) / rate
    f = rng.uniform(1.5, 4.0, (n, 1, 1))
    ph = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    s = np.sin(2 * np.pi * f * tt[None, :, None] + ph)
    wave = np.where(y[:, None, None] == 1, np.sign(s), s)
    gain = np.array([1.0, 0.5, 20.0])  # one axis on a much larger scale (like a gyro): standardization matters
    x = (wave * rng.uniform(0.5, 1.5, (n, 1, 3)) + rng.normal(0, 0.1, (n, t, 3)) + rng.normal(0, 0.2, (n, 1, 3))) * gain
    return x.astype(np.float32), y.astype(np.int16)


def audio_windows(n, seed=0, rate=8000, t=4000):
    """Tones (class 1, 300–2000 Hz) vs white noise (class 0) at random levels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    tt = np.arange(t) / rate
    tone = np.sin(2 * np.pi * rng.uniform(300, 2000, (n, 1)) * tt + rng.uniform(0, 6.3, (n, 1)))
    noise = rng.normal(0, 0.7, (n, t))
    x = np.where(y[:, None] == 1, tone + 0.05 * noise, noise) * rng.uniform(0.05, 0.5, (n, 1))
    return x[:, :, None].astype(np.float32), y.astype(np.int16)


@pytest.fixture(scope="session")
def imu_dataset(tmp_path_factory):
    x, y = imu_windows(240)
    rng = np.random.default_rng(1)
    return write_dataset(tmp_path_factory.mktemp("ds") / "imu.h5", "imu", "timeseries", 50.0, ["ax", "ay", "az"], x, y,
                         ["sine", "square"], _splits(len(y), rng))  # fmt: skip


@pytest.fixture(scope="session")
def audio_dataset(tmp_path_factory):
    x, y = audio_windows(160)
    rng = np.random.default_rng(2)
    return write_dataset(tmp_path_factory.mktemp("ds") / "tones.h5", "mic", "audio", 8000.0, ["ch0"], x, y,
                         ["noise", "tone"], _splits(len(y), rng), window=(0.5, 0.25))  # fmt: skip


#: Small batches (the tiny sets still give enough steps per epoch) and no early stop within a few epochs.
FAST_TRAIN = "batch_size = 16\npatience = 20\n"


def cli(*args):
    """Run ``sensorlab ARGS`` in-process (typer's runner), as a user would type it."""
    from typer.testing import CliRunner

    from sensorlab.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def train_run(dataset, task, out, epochs, extra=""):
    """Train through the command line; return the run folder."""
    cfg = out.parent / f"{out.name}.toml"
    cfg.write_text(FAST_TRAIN + extra)
    r = cli("train", dataset, "--task", task, "--config", cfg, "--epochs", epochs, "--out", out)
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="session")
def imu_run(imu_dataset, tmp_path_factory):
    """One 8-epoch IMU run, trained once for the whole suite, and its progress events (``--json``):
    ``(run folder, [event, ...])``. The training, export, quantize, prune and TFLite tests export
    and prune beside it or into copies of it, never retrain it."""
    import json

    pytest.importorskip("torch")
    run = tmp_path_factory.mktemp("runs") / "imu"
    cfg = run.parent / "imu.toml"
    cfg.write_text(FAST_TRAIN)
    r = cli("train", imu_dataset, "--task", "timeseries", "--config", cfg, "--epochs", 8, "--out", run, "--json")
    assert r.exit_code == 0, r.output
    return run, [json.loads(line) for line in r.stdout.splitlines()]


@pytest.fixture(scope="session")
def imu_run_folder(imu_run):
    """The folder of `imu_run`."""
    return imu_run[0]


@pytest.fixture(scope="session")
def audio_run_folder(audio_dataset, tmp_path_factory):
    """One 6-epoch tones-vs-noise run (width 16) for the training and TFLite audio tests."""
    pytest.importorskip("torch")
    return train_run(audio_dataset, "audio", tmp_path_factory.mktemp("runs") / "tones", 6, "width = 16\n")

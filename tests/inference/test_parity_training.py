"""One code path: the features the live engine feeds a model equal the training-time ones (≤ 1e-4)."""

from __future__ import annotations

import time

import numpy as np
from onnx_models import contract_mean_model

from sensorlab.acquisition import hub
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.contract import ModelContract
from sensorlab.datasets.build import build_dataset
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.spec import spec_from_dict
from sensorlab.inference import InferenceProcessor
from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.reader import Session

T0 = 5000.0


def test_engine_features_equal_training_features_on_the_same_samples(tmp_path, make_recorder, monkeypatch):
    # 200 Hz, 3 channels, resampled to 100 Hz, two channels in a different order: every step of the path.
    # The source delivers its 12 s at once (not paced): the engine's input ring must hold all of
    # it, or a busy machine that starts the engine late makes it lose the first seconds, restart
    # its window grid there (as on any gap) and share no window start with the dataset.
    monkeypatch.setattr(hub, "INPUT_SECONDS", 60.0)
    src = SignalSource("imu", rate=200, shape=(3,), pattern="sine", realtime=False, max_samples=200 * 12, chunk_size=17, t0=T0)
    model = contract_mean_model(tmp_path / "imu.onnx", "imu", 100, ["ch2", "ch0"], window=1.0, hop=0.5, mean=[0.1, -0.2], std=[0.5, 2.0])
    proc = InferenceProcessor(model, stale_after=1e9)
    live: dict[float, np.ndarray] = {}
    proc.taps.append(lambda s, e, x, p: live.update({round(float(t), 6): xi for t, xi in zip(s, x)}))
    rec, acq = make_recorder(src, proc, path=tmp_path / "run.h5")
    assert src.wait(30)
    # 21 windows: of the 23 ends from 1 s to 12 s every 0.5 s, the first and the last have the
    # resampling filter's margin reach past the data. Waiting for 22 ran out the deadline every time.
    deadline = time.monotonic() + 120
    while proc.stats["imu_pred"].windows < 21 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.stats["imu_pred"].windows >= 21, f"{proc.stats['imu_pred'].windows} windows within 120 s"
    session = rec.stop()
    save_annotations(AnnotationSet([Segment("a0", "activity", "move", T0, T0 + 12.0)]), sidecar_path(session), session=session.name)

    spec = spec_from_dict({
        "sessions": {"paths": [str(session)]},
        "streams": [{"name": "imu", "channels": ["ch2", "ch0"], "rate": 100}],
        "labels": {"tier": "activity", "min_coverage": 0.5},
        "window": {"length": 1.0, "hop": 0.5},
        "split": {"fractions": {"train": 1.0}},
    })  # fmt: skip
    build_dataset(spec, tmp_path / "ds.h5")
    contract = ModelContract.from_json(proc.model.contract.to_json())
    with Dataset.open(tmp_path / "ds.h5") as ds:
        x, _ = ds.arrays("imu")
        starts = ds.column("start")
    trained = contract.prepare(x)  # exactly what sensorlab.training.data feeds the model
    common = [i for i, t in enumerate(starts) if round(float(t), 6) in live]
    assert len(common) >= 18, f"only {len(common)} windows in common"
    diff = max(float(np.max(np.abs(trained[i] - live[round(float(starts[i]), 6)]))) for i in common)
    assert diff <= 1e-4, diff

    with Session.open(session) as s:  # the live predictions are a stream of the recording
        pred = s.streams["imu_pred"].read(-np.inf, np.inf)
        assert s.streams["imu_pred"].info.channel_names == ("ch2", "ch0")
        np.testing.assert_allclose(pred.device_times, pred.timestamps - 1.0)  # window start = end - length
        assert len(pred) >= 20

"""Labeled synthetic sessions (real session files, exact labels in their sidecars) for the Datasets and Training tabs."""

from __future__ import annotations

import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session

LABELS = [("walk", 2.0, 6.0), ("wave", 8.0, 11.0), ("walk", 14.0, 15.0)]
SUBJECTS = {"a1": "s01", "a2": "s01", "b1": "s02", "c1": "s03", "d1": "s04"}


def fill_form(tab, split_by="subject", fractions=(0.5, 0.25, 0.25)):
    """What a user does in the Datasets tab: add the imu stream, pick the tier, set window/hop
    and the split (by subject unless told; ``fractions`` are train, val, test)."""
    f = tab.form
    f.add_stream("imu")
    f.tier.setCurrentText("activity")
    f.length.setValue(1.0)
    f.hop.setValue(0.5)
    f.unlabeled.setCurrentText("background")
    f.background_max_ratio.setValue(0.5)
    f.split_by.setCurrentText(split_by)
    for name, fraction in zip(("train", "val", "test"), fractions):
        f.fractions[name].setValue(fraction)


def datasets_tab_at(qtbot, w, corpus, width: int, height: int):
    """Studio window ``w``'s Datasets tab showing ``corpus``' 5 sessions, the window ``width`` × ``height``."""
    w.session_form.folder.setText(str(corpus))
    w.resize(width, height)
    w.main_tabs.setCurrentWidget(w.datasets_tab)
    tab = w.datasets_tab
    qtbot.waitUntil(lambda: tab.picker.tree.topLevelItemCount() == 5, timeout=30_000)
    qtbot.waitUntil(lambda: w.width() == width, timeout=5_000)
    qtbot.wait(200)
    return tab


def build_and_wait_for_report(qtbot, tab, out):
    """Build ``out`` from the tab (Build pressed, no overwrite) and wait until its report is read
    (the report's reader is then done before the tab goes)."""
    tab.output.setText(str(out))
    with qtbot.waitSignal(tab.dataset_built, timeout=120_000):
        assert tab.build(force=False)
    qtbot.waitUntil(lambda: tab.report.report is not None, timeout=60_000)


def set_run(tab, run, epochs: int, patience: int, batch_size: int | None = None) -> None:
    """What a user sets in the Training tab before Train: the run folder (typed), the epochs,
    the patience and (when given) the batch size."""
    tab.run_edit.setText(str(run))
    tab.run_edit.setModified(True)  # typed by the user
    tab.epochs.setValue(epochs)
    if batch_size is not None:
        tab.batch_size.setValue(batch_size)
    tab.patience.setValue(patience)


def write_tiny_dataset(path, split):
    """A dataset file of ``len(split)`` random 3-channel imu windows of 32 samples, classes a/b
    alternating, written straight by `DatasetWriter`; ``split`` is each window's split index
    (0 train, 1 val, 2 test), so a test can leave a split empty."""
    import numpy as np

    from sensorlab.datasets.dataset import DatasetWriter

    n = len(split)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(n, 32, 3)).astype(np.float32), (np.arange(n) % 2).astype(np.int16)
    w = DatasetWriter(path, [("imu", x.shape[1:], "float32")], train_split=0)
    w.append({"imu": x}, {"label": y, "split": np.asarray(split, np.int8), "session": np.zeros(n), "start": np.arange(n * 1.0),
                          "offset": np.arange(n * 1.0), "coverage": np.ones(n), "flags": np.zeros(n)})  # fmt: skip
    w.finish({"classes": ["a", "b"], "split_names": ["train", "val", "test"], "split": {"method": "holdout", "by": "session", "seed": 0},
              "streams": [{"name": "imu", "kind": "timeseries", "rate": 50.0, "source_rate": 50.0, "channels": ["x", "y", "z"],
                           "n_samples": 32, "dtype": "float32", "resampler": "none"}],
              "window": {"length": 0.64, "hop": 0.32, "rule": "majority", "min_coverage": 0.5, "gaps": "drop"},
              "inputs": [{"name": "s.h5", "session_sha256": "0" * 64}], "skipped": [], "warnings": [], "content_hash": "0" * 64,
              "spec_hash": "0" * 64, "spec": "{}", "sensorlab_version": "test"})  # fmt: skip
    return path


def make_corpus(folder, subjects=SUBJECTS, seconds=20.0):
    folder.mkdir(parents=True, exist_ok=True)
    for name, subject in subjects.items():
        path = folder / f"{name}.h5"
        write_synthetic_session(path, seconds, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8),
                                predictions=False, tags={"subject": subject, "location": "lab"})  # fmt: skip
        ann = AnnotationSet([Segment(f"a{i}", "activity", lab, T0 + a, T0 + b) for i, (lab, a, b) in enumerate(LABELS)])
        save_annotations(ann, sidecar_path(path), session=path.name)
    return folder


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("mlcorpus") / "sessions")


@pytest.fixture
def corpus_factory():
    """``corpus_factory(folder, {session: subject}, seconds)``: a corpus of your own."""
    return make_corpus


@pytest.fixture(scope="session")
def small_dataset(corpus, tmp_path_factory):
    """A dataset built by the core from the corpus: imu windows of walk / wave / background, split by subject."""
    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.spec import spec_from_dict

    spec = spec_from_dict({"sessions": {"paths": [str(corpus / "*.h5")]}, "streams": [{"name": "imu"}],
                           "labels": {"tier": "activity", "min_coverage": 0.5, "unlabeled": "background", "background_max_ratio": 1.0},
                           "window": {"length": 1.0, "hop": 0.25},
                           "split": {"by": "subject", "fractions": {"train": 0.5, "val": 0.25, "test": 0.25}}})  # fmt: skip
    return build_dataset(spec, tmp_path_factory.mktemp("mlds") / "imu.h5").path

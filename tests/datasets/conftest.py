"""A small labeled corpus: synthetic sessions (real session files) with exact labels in their sidecars."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session

#: Labels of every corpus session, seconds from its start, on tier "activity".
LABELS = [("walk", 2.0, 6.0), ("wave", 8.0, 11.0), ("walk", 14.0, 15.0)]
SUBJECTS = {"a1": "s01", "a2": "s01", "b1": "s02", "c1": "s03", "d1": "s04"}
SECONDS = 20.0


def label_session(path, labels=LABELS, tier="activity"):
    ann = AnnotationSet([Segment(f"{tier}{i}", tier, lab, T0 + a, T0 + b) for i, (lab, a, b) in enumerate(labels)])
    save_annotations(ann, sidecar_path(path), session=path.name)


def small_session(path, seconds=SECONDS, **tags):
    write_synthetic_session(path, seconds, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8),
                            predictions=False, tags=tags)  # fmt: skip
    return path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Five labeled sessions of four subjects (s01 has two), 20 s each, in one folder."""
    d = tmp_path_factory.mktemp("corpus")
    for name, subject in SUBJECTS.items():
        p = small_session(d / f"{name}.h5", subject=subject, location="lab")
        label_session(p)
    return d


def spec_text(folder, **over):
    """A spec TOML over ``folder`` (``over``: "table.key" → TOML value text)."""
    base = {
        "sessions.paths": f'["{folder}/*.h5"]',
        "labels.tier": '"activity"',
        "labels.rule": '"majority"',
        "labels.min_coverage": "0.5",
        "window.length": "1.0",
        "window.hop": "0.5",
        "split.by": '"subject"',
        "split.fractions": "{ train = 0.5, val = 0.25, test = 0.25 }",
    }
    base.update(over)
    streams = base.pop("streams", '[[streams]]\nname = "imu"\n')
    tables: dict[str, list[str]] = {}
    for k, v in base.items():
        t, key = k.split(".", 1)
        tables.setdefault(t, []).append(f"{key} = {v}")
    return streams + "\n" + "\n".join(f"[{t}]\n" + "\n".join(lines) + "\n" for t, lines in tables.items())


def imu_truth(seconds=SECONDS):
    """The synthetic IMU signal without its noise, to compare windows against (see session.synthetic)."""
    from sensorlab.session.synthetic import activity

    ts = T0 + np.arange(int(seconds * 100)) / 100
    return ts, activity(ts, 12.0)

"""Sessions that recorded a stream at different rates, resampled alike with ``streams.rate``.

A user with the demo rig's 1000 Hz IMU and a 100 Hz board of their own sets the rate to 100 Hz
(as the preview tells them to). Every session must then be cut at its *own* rate: cutting the
100 Hz session as if it ran at 1000 Hz made each sample interval a gap, so all of its windows
were dropped, and the report blamed gaps and a "-90 % off nominal" clock.
"""

from __future__ import annotations

import tomllib

import numpy as np

from sensorlab.datasets.build import build_dataset, preview_counts
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.report import dataset_report, format_report
from sensorlab.datasets.spec import spec_from_dict
from sensorlab.session.synthetic import write_synthetic_session

from .conftest import SECONDS, label_session, spec_text


def _session(path, imu_rate, subject):
    write_synthetic_session(path, SECONDS, audio_rate=8000, audio_channels=1, imu_rate=imu_rate, fps=5.0,
                            frame_shape=(8, 8), predictions=False, tags={"subject": subject})  # fmt: skip
    label_session(path)


def test_sessions_at_different_rates_all_give_their_windows(tmp_path):
    d = tmp_path / "sessions"
    d.mkdir()
    _session(d / "fast.h5", 1000, "s01")  # the first session found fixes the stream's layout
    _session(d / "slow.h5", 100, "s02")
    spec = spec_from_dict(tomllib.loads(spec_text(
        d, streams='[[streams]]\nname = "imu"\nrate = 100\n',
        **{"split.by": '"session"', "split.fractions": "{ train = 0.5, val = 0.5 }"})))  # fmt: skip

    preview = preview_counts(spec)
    out = tmp_path / "ds.h5"
    res = build_dataset(spec, out)

    with Dataset.open(out) as ds:
        per_session = {inp["name"]: inp["windows"] for inp in ds.inputs}
        assert per_session["slow.h5"] == sum(preview["slow.h5"].values()) > 0
        assert per_session["fast.h5"] == sum(preview["fast.h5"].values()) > 0
        # The slow session's windows hold its real samples (not gap-filled or dropped).
        x, _ = ds.arrays("imu", split=ds.split["assignment"][next(i["group"] for i in ds.inputs if i["name"] == "slow.h5")])
        assert np.isfinite(x).all() and x.std() > 0
    assert not [w for w in res.warnings if "gap" in w or "off its nominal" in w]
    # The report says which rates the windows came from.
    text = format_report(dataset_report(out))
    assert "from 1000, 100 Hz (resample_poly 1/10, none)" in text

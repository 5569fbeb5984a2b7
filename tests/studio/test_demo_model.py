"""The bundled demo model: ``sensorlab record --demo`` records its predictions, and they find
the simulated world's claps (the world's own clap times are the truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from typer.testing import CliRunner  # noqa: E402

from sensorlab.acquisition.emulated.world import shared_world  # noqa: E402
from sensorlab.acquisition.rig import parse_rig  # noqa: E402
from sensorlab.cli import app  # noqa: E402
from sensorlab.inference import DEMO_MODEL  # noqa: E402
from sensorlab.session.reader import Session  # noqa: E402
from sensorlab.studio.demo import DEMO_EVENTS, DEMO_PREDICTIONS  # noqa: E402

#: A clap this far inside a window is plainly in it; one this far outside plainly not (the
#: IMU's clock fit and sample grid place it within a few ms).
MARGIN = 0.03


def test_the_demo_model_is_tiny_package_data():
    assert DEMO_MODEL.name == "demo_clap.onnx" and DEMO_MODEL.is_file()
    assert DEMO_MODEL.stat().st_size < 64 * 1024


def test_a_demo_recording_holds_predictions_that_find_the_worlds_claps(tmp_path):
    out = tmp_path / "demo.h5"
    # In-process: the recording's devices sample this process's world, whose clap times we know.
    result = CliRunner().invoke(app, ["record", "--demo", "-d", "7", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert DEMO_PREDICTIONS in result.output  # in the summary like any stream
    with Session.open(out) as s:
        assert [p.path for p in parse_rig(s.metadata.rig).processor] == ["demo"]  # the stored rig names the model
        st = s.streams[DEMO_PREDICTIONS]
        assert st.info.channel_names == ("clap", "background")
        c = st.read()
        events = s.streams[DEMO_EVENTS].read()
    p = c.data[:, 0].astype(np.float64)
    starts, ends = c.device_times, c.timestamps
    claps = shared_world().clap_times(starts[0] - 1, ends[-1] + 1)
    with_clap = np.array([np.any((claps >= b + MARGIN) & (claps <= e - MARGIN)) for b, e in zip(starts, ends)])
    without = np.array([not np.any((claps >= b - MARGIN) & (claps <= e + MARGIN)) for b, e in zip(starts, ends)])
    assert with_clap.sum() >= 3 and without.sum() >= 20, f"too few windows: {with_clap.sum()} with a clap, {without.sum()} without"
    assert p[with_clap].min() > 0.5, f"missed claps: P(clap) {np.round(p[with_clap], 3)} in windows ending {np.round(ends[with_clap], 2)}"
    assert p[without].max() < 0.5, f"false claps: P(clap) {np.round(p[without].max(), 3)} at {np.round(ends[without][p[without].argmax()], 2)}"
    # The events stream marks each clap: every "start" lies within a window of a clap.
    starts_ev = [t for t, txt in zip(events.timestamps, events.data) if json.loads(txt)["type"] == "start"]
    assert starts_ev and all(np.min(np.abs(claps - t)) < 0.4 + MARGIN for t in starts_ev)

"""The demo rig's board reports its own class (``clap_mcu``, wrong 2 % of the time on
purpose): ``sensorlab record --demo`` records it next to the demo model's predictions, and
``sensorlab parity`` finds the board's misreports — and nothing else, since the host model
finds the world's claps (the world's own clap times are the truth). On a loaded machine the
IMU may lose samples; the host model then rightly misses a clap that fell into the hole, so
a divergence there is the host's and is allowed."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from typer.testing import CliRunner  # noqa: E402

from sensorlab.acquisition.emulated.world import shared_world  # noqa: E402
from sensorlab.cli import app  # noqa: E402
from sensorlab.session.reader import Session  # noqa: E402
from sensorlab.studio.demo import DEMO_DEVICE_CLASS, DEMO_PREDICTIONS  # noqa: E402


def test_sensorlab_parity_finds_the_demo_boards_misreports_and_nothing_else(tmp_path):
    out = tmp_path / "demo.h5"
    result = CliRunner().invoke(app, ["record", "--demo", "-d", "12", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with Session.open(out) as s:
        ev = s.streams[DEMO_DEVICE_CLASS].read()
        imu_t = s.streams["imu"].timestamps
        origin = s.metadata.start_host_time
    step = np.diff(imu_t)
    holes = [(a, b) for a, b, d in zip(imu_t[:-1], imu_t[1:], step) if d > 0.0025]  # lost IMU samples (1 kHz)

    def near_hole(x: float) -> bool:  # the host's 0.4 s window ending near x lost input
        return any(a < x + 0.15 and b > x - 0.55 for a, b in holes)

    t, said = ev.timestamps, [str(x) for x in ev.data]
    assert len(t) >= 80 and set(said) <= {"clap", "background"}  # one line per 0.1 s window
    # The truth of each line's window (it ends a few ms before the line arrives); a clap
    # near the window's edge is ambiguous and left out.
    world = shared_world()
    clear_clap = np.array([len(world.clap_times(x - 0.37, x - 0.05)) > 0 for x in t])
    clear_quiet = np.array([len(world.clap_times(x - 0.45, x + 0.01)) == 0 for x in t])
    text_clap = np.array([x == "clap" for x in said])
    wrong = (clear_clap & ~text_clap) | (clear_quiet & text_clap)
    ambiguous = ~(clear_clap | clear_quiet)
    assert wrong.any(), "the seeded board misreported nothing in 12 s"

    got = CliRunner().invoke(app, ["parity", str(out), "--json"])
    assert got.exit_code == 0, got.output
    r = json.loads(got.output)
    assert (r["predictions"], r["device"]) == (DEMO_PREDICTIONS, DEMO_DEVICE_CLASS) and r["windows"] >= 80
    ends = np.array([w["end"] for w in r["divergent_windows"]]) + origin
    # Every divergent window is at one of the board's misreports: the host model agrees otherwise.
    assert all(np.min(np.abs(t[wrong] - e)) < 0.2 or near_hole(e) for e in ends), f"divergences {ends - origin} vs misreports {t[wrong] - origin}"
    # Every misreport away from a clap's edge is found.
    for x in t[wrong]:
        if not ambiguous[np.abs(t - x) < 0.15].any() and x < t[-1] - 1.0 and not near_hole(x):  # the recording may end before the host's last windows
            assert len(ends) and np.min(np.abs(ends - x)) < 0.15, f"misreport at {x - origin:.2f} s not flagged ({ends - origin})"
    assert r["divergent"] == len(ends) >= 1

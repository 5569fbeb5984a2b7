"""The LSL bridge on the loopback: an LSL stream recorded with an emulated pty device, on the
host clock within milliseconds of the publisher's push times, with its clock offsets; outlets
of a recorded stream and of live labels received by an LSL inlet; rig and listing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pylsl
import pytest

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.devices import list_devices
from sensorlab.acquisition.lsl.config import LslConfig, LslOutletConfig
from sensorlab.acquisition.lsl.inlet import LslSource
from sensorlab.acquisition.lsl.outlet import LslOutlet
from sensorlab.acquisition.rig import EmulatedConfig, RigConfig, RigError, parse_rig
from sensorlab.acquisition.source import SourceError
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.studio import Studio, live_event

from .conftest import REPO, lsl_env, unique


def _wait(cond, timeout: float = 30.0, what: str = "condition") -> None:
    tick = threading.Event()
    t0 = now()
    while not cond():
        assert now() - t0 < timeout, f"{what} not met within {timeout} s"
        tick.wait(0.05)


def record_lsl_session(path, publisher, seconds: float = 2.5):
    """Record a subprocess LSL publisher and an emulated text IMU on a pty, with live labels."""
    name = unique("eeg")
    proc, log, stop = publisher(name)
    rig = RigConfig(name="lsl", emulated=[EmulatedConfig(device="imu-text")], lsl=[LslConfig(name="eeg", lsl_name=name, clock_interval=0.5)])
    studio = Studio(preroll=0)
    try:
        assert studio.open(rig.build_sources()) == {}
        _wait(lambda: all(st.samples > 10 for n, st in studio.stats.items() if n != "eeg_lsl_clock"), what="every stream flowing")
        studio.start_recording(path, SessionMetadata(name="lsl-run"))
        studio.add_label(live_event("clap", "point"))
        t0 = now()
        _wait(lambda: now() - t0 > seconds and studio.counters()["eeg_lsl_clock"].samples >= 3, what="recording with 3 clock offsets")
        studio.stop_recording()
    finally:
        studio.close()
        stop.touch()
    proc.wait(20)
    return np.load(log)


@pytest.fixture(scope="module")
def lsl_session(tmp_path_factory):
    """One recorded session shared by the tests that only read it (recording takes seconds)."""
    import contextlib

    from .conftest import publisher as _publisher_fixture  # noqa: F401 - documented source of the helper

    tmp = tmp_path_factory.mktemp("lslrec")
    procs = []

    def start(name):
        log, stop = tmp / f"{name}.npy", tmp / f"{name}.stop"
        p = subprocess.Popen([sys.executable, str(REPO / "tests/lsl/publisher.py"), name, str(log), str(stop), "60", "200", "4"],
                             env=lsl_env(), stdout=subprocess.PIPE, text=True)  # fmt: skip
        procs.append(p)
        assert p.stdout.readline().strip() == "ready"
        return p, log, stop

    try:
        pushes = record_lsl_session(tmp / "run.h5", start)
    finally:
        for p in procs:
            with contextlib.suppress(Exception):
                p.kill()
                p.wait(10)
    return tmp / "run.h5", pushes


def test_an_lsl_stream_is_recorded_with_other_streams_on_the_host_clock(lsl_session):
    path, pushes = lsl_session
    with Session.open(path) as s:
        assert {"eeg", "eeg_lsl_clock", "wrist", "labels"} <= set(s.streams)
        eeg = s.streams["eeg"]
        c = eeg.read()
        assert eeg.info.channel_names == ("C1", "C2", "C3", "C4") and eeg.info.units[0] == "microvolts"
        assert eeg.info.nominal_rate == 200 and eeg.info.has_device_time
        k = c.data[:, 0].astype(int)
        # Every sample between the first and last recorded is there, in order, with its values.
        assert np.array_equal(k, np.arange(k[0], k[0] + len(k))), "samples lost or reordered"
        assert np.allclose(c.data - k[:, None], np.arange(4) * 0.25)
        # Host timestamps within a few ms of when the publisher pushed each sample.
        push_t = dict(zip(pushes[:, 0].astype(int), pushes[:, 1]))
        err = c.timestamps - np.array([push_t[i] for i in k])
        assert np.max(np.abs(err)) < 0.005, f"timestamp error up to {np.max(np.abs(err)) * 1e3:.2f} ms"
        # Raw LSL stamps kept as device times; the offsets recorded alongside map them.
        clock = s.streams["eeg_lsl_clock"].read()
        assert len(clock) >= 3
        assert np.all(np.abs(clock.data) < 0.005), "one machine: offsets are tiny"
        assert np.all(np.isfinite(c.device_times)) and np.all(np.abs(c.timestamps - c.device_times) < 0.005)
        # The emulated pty device recorded over the same span.
        wrist = s.streams["wrist"]
        assert wrist.count > 50
        assert abs(wrist.first_time - eeg.first_time) < 1.0 and abs(wrist.last_time - eeg.last_time) < 1.0
        assert [json.loads(t)["label"] for _, t in s.events()] == ["clap"]


def test_outlets_publish_a_recorded_stream_and_live_labels(tmp_path):
    """A pty device's stream and the live labels, received by an LSL inlet in this process."""
    tag = unique("out")
    rig = RigConfig(name="out", emulated=[EmulatedConfig(device="imu-text")],
                    lsl_outlet=[LslOutletConfig(stream="wrist", name=f"{tag}-wrist"), LslOutletConfig(stream="labels", name=f"{tag}-labels")])  # fmt: skip
    studio = Studio(preroll=0)
    received: dict[str, list] = {"wrist": [], "labels": []}
    try:
        assert studio.open(rig.build_sources()) == {}
        inlets = {}
        for key in received:
            found = pylsl.resolve_byprop("name", f"{tag}-{key}", timeout=10)
            assert found, f"outlet {tag}-{key} not visible"
            inlets[key] = pylsl.StreamInlet(found[0])
            inlets[key].open_stream(timeout=10)
        assert inlets["wrist"].info().desc().child("channels").child("channel").child_value("label") == "ax"
        t_start = now()
        path = studio.start_recording(tmp_path / "out.h5", SessionMetadata(name="out"))
        t_label = now()
        studio.add_label(live_event("wave", "point"), t_label)

        def pull() -> bool:
            for key, inlet in inlets.items():
                data, ts = inlet.pull_chunk(timeout=0.0)
                received[key] += list(zip(ts, data))
            during = sum(1 for t, _ in received["wrist"] if t > t_start + 0.5)  # well inside the recording
            return during > 100 and len(received["labels"]) >= 1

        _wait(pull, what="samples and the label through LSL")
        studio.stop_recording()
    finally:
        studio.close()
    text = received["labels"][0][1][0]
    assert json.loads(text) == json.loads(live_event("wave", "point"))
    assert abs(received["labels"][0][0] - t_label) < 1e-6, "a label goes out stamped when it was pressed"
    with Session.open(path) as s:
        rec = s.streams["wrist"].read()
    # On Linux LSL's clock is the host clock: each sample goes out with its recorded timestamp.
    by_time = dict(zip(rec.timestamps.tolist(), rec.data))
    during = [(t, row) for t, row in received["wrist"] if t > t_start + 0.5 and t < rec.timestamps[-1]]
    assert len(during) > 50 and all(t in by_time for t, _ in during), "LSL samples carry the recorded host timestamps"
    for t, row in during:
        assert np.allclose(row, by_time[t], atol=1e-4)


def test_record_publishes_a_stream_with_lsl_outlet(tmp_path):
    """`sensorlab record --lsl-outlet STREAM` while an LSL program listens."""
    rig = tmp_path / "rig.toml"
    rig.write_text('[[emulated]]\ndevice = "imu-text"\n')
    out = tmp_path / "cli.h5"
    p = subprocess.Popen([sys.executable, "-m", "sensorlab.cli", "record", "--rig", str(rig), "-d", "20", "-o", str(out), "--lsl-outlet", "wrist"],
                         env=lsl_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        found = pylsl.resolve_byprop("name", "sensorlab-wrist", timeout=30)
        assert found, "the record command published no outlet"
        inlet = pylsl.StreamInlet(found[0])
        got = []
        _wait(lambda: got.extend(inlet.pull_chunk(timeout=0.1)[1]) or len(got) > 50, what="samples from the CLI's outlet")
    finally:
        p.send_signal(2)  # Ctrl-C: a clean stop
        p.communicate(timeout=60)
    assert p.returncode == 0
    with Session.open(out) as s:
        assert s.streams["wrist"].count > 50
        assert parse_rig(s.metadata.rig).lsl_outlet == [LslOutletConfig(stream="wrist")], "the session's rig lists the outlet"


def test_missing_lsl_stream_and_unknown_outlet_stream_are_one_line_errors():
    with pytest.raises(SourceError, match="no such LSL stream appeared within 0.3 s"):
        LslSource({"name": unique("absent")}, name="x", timeout=0.3).open()
    outlet = LslOutlet("nope")
    with pytest.raises(SourceError, match="there is no stream 'nope' to publish"):
        outlet.open({})
    with pytest.raises(RigError, match=r"lsl\[0\]\.type: .*single quote"):
        parse_rig("[[lsl]]\nname = 'eeg'\ntype = \"E'G\"\n")
    with pytest.raises(RigError, match="used twice"):
        parse_rig("[[lsl]]\nname = 'eeg'\n[[emulated]]\ndevice = 'eeg'\nname = 'eeg_lsl_clock'\n")
    assert parse_rig("[[lsl]]\nname = 'eeg'\n").lsl[0].query() == {"name": "eeg"}
    assert LslConfig(name="eeg", type="EEG").query() == {"type": "EEG"}


def test_sensorlab_devices_lists_lsl_streams():
    name = unique("listed")
    info = pylsl.StreamInfo(name, "Gaze", 3, 120, "float32", "tracker-7")
    outlet = pylsl.StreamOutlet(info)  # noqa: F841 - published while listing
    lines = "\n".join(list_devices().describe())
    assert f"'{name}' type 'Gaze': 3 × float32, 120 Hz" in lines and "source_id 'tracker-7'" in lines

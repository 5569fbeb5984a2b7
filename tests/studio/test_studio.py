"""`Studio` headless, on emulated serial devices behind real pseudo-terminals: pre-roll in the
file, live labels in the session and its sidecar, clean stop; Ctrl-C while devices open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
from sensorlab.labeling.store import load_sidecar
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.studio import Studio, live_event

REPO = Path(__file__).resolve().parents[2]


def _pty_rig() -> RigConfig:
    # Both talk to sensorlab through a real pty (a text-line IMU and a binary COBS IMU).
    return RigConfig(name="ptys", emulated=[EmulatedConfig(device="imu-text"), EmulatedConfig(device="imu-binary")])


def _wait(cond, timeout: float = 30.0) -> None:
    done = threading.Event()
    t0 = now()
    while not cond():
        assert now() - t0 < timeout, "condition not met in time"
        done.wait(0.05)


def test_studio_records_the_pre_roll_and_live_labels_and_stops(tmp_path):
    studio = Studio(preroll=2)
    seen: dict[str, list] = {"started": [], "stopped": [], "message": []}
    studio.recording_started.connect(lambda p: seen["started"].append(p))
    studio.recording_stopped.connect(lambda p: seen["stopped"].append(p))
    studio.message.connect(lambda m: seen["message"].append(m))
    try:
        errors = studio.open(_pty_rig().build_sources())
        assert errors == {}
        names = sorted(studio.streams)
        assert len(names) == 2
        opened = now()
        # Let the pre-roll fill: at least 1.5 s of every stream before Record.
        _wait(lambda: all(st.samples and st.last_time - max(st.first_time, opened) > 1.5 for st in studio.stats.values()))
        pressed = now()
        path = studio.start_recording(tmp_path / "run1.h5", SessionMetadata(name="run1"))
        assert studio.recording
        assert studio.add_label(live_event("clap", "point"))
        assert studio.add_label(live_event("walk", "start"))  # never stopped by hand
        _wait(lambda: all(studio.counters()[n].samples > 20 for n in names))  # health counters run since Record
        assert studio.stop_recording() == path
        assert not studio.recording and studio.last_session == path
        assert not studio.add_label(live_event("late", "point"))  # not recording: not stored
    finally:
        studio.close()

    assert seen["started"] == seen["stopped"] == [str(path)]
    with Session.open(path) as sess:
        for name in names:
            ts = sess.streams[name].timestamps
            assert ts[0] < pressed - 1.0, f"{name}: pre-roll missing"
            assert (ts[1:] > ts[:-1]).all(), f"{name}: duplicates where pre-roll meets live data"
        events = [json.loads(text) for text in sess.streams["labels"].read_index().data]  # in the order written
    # The open span was closed when the recording stopped.
    assert [(e["label"], e["type"]) for e in events] == [("clap", "point"), ("walk", "start"), ("walk", "stop")]
    ann = load_sidecar(path)
    assert sorted((s.label, s.is_point) for s in ann) == [("clap", True), ("walk", False)]
    assert any("2 live label(s) saved" in m for m in seen["message"])


def test_a_studio_replaces_its_rig_and_refuses_while_recording(tmp_path):
    studio = Studio(preroll=0)
    try:
        studio.open(RigConfig(emulated=[EmulatedConfig(device="imu-text")]).build_sources())
        first = set(studio.streams)
        studio.open(RigConfig(emulated=[EmulatedConfig(device="imu-binary")]).build_sources())
        assert set(studio.streams) != first and len(studio.streams) == 1
        studio.start_recording(tmp_path / "a.h5")
        try:
            studio.open(RigConfig(emulated=[EmulatedConfig(device="imu-text")]).build_sources())
        except RuntimeError as e:
            assert "stop the recording" in str(e)
        else:
            raise AssertionError("replacing the rig while recording must be refused")
        assert studio.recording
    finally:
        studio.close()
    assert not studio.recording and (tmp_path / "a.h5").exists()


def test_ctrl_c_while_devices_open_stops_cleanly_without_a_traceback(tmp_path):
    # A real process, a real SIGINT: a device that takes its time to open receives Ctrl-C
    # (sent by the device itself, so it lands while opening), next to a pty device.
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        import sensorlab.cli as cli
        import sensorlab.cli_record as cli_record
        from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
        from sensorlab.acquisition.source import SourceBase

        class SlowToOpen(SourceBase):
            def __init__(self):
                super().__init__(description="slow camera")
            def _open(self):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.5)
                raise TimeoutError("slow camera did not answer")

        rig = RigConfig(name="ptys", emulated=[EmulatedConfig(device="imu-text")])
        cli_record._sources = lambda rig_path, demo: (rig, [*rig.build_sources(), SlowToOpen()])
        sys.argv = ["sensorlab", "record", "--demo", "-o", {str(tmp_path / "x.h5")!r}, "--allow-missing"]
        cli.main()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 130, proc.stderr
    assert "stopped while the devices were opening; nothing was recorded" in proc.stderr
    assert not (tmp_path / "x.h5").exists()


def test_a_processor_added_while_recording_is_stored_and_pre_rolled(tmp_path):
    from sensorlab.acquisition.processors.examples import MovingRMS

    studio = Studio(preroll=2)
    added = []
    studio.stream_added.connect(lambda info: added.append(info.name))
    try:
        studio.open(RigConfig(emulated=[EmulatedConfig(device="imu-text")]).build_sources())
        (imu,) = studio.streams
        path = studio.start_recording(tmp_path / "p.h5")
        studio.add_processor(MovingRMS(imu, window=0.1, hop=0.05, name="imu_rms"))
        assert added == ["imu_rms"] and "imu_rms" in studio.preroll.rings()  # buffered for the next recording
        _wait(lambda: studio.counters().get("imu_rms") is not None and studio.counters()["imu_rms"].samples > 10)
        studio.stop_recording()
    finally:
        studio.close()
    with Session.open(path) as s:
        assert s.streams["imu_rms"].count > 10 and s.streams["imu_rms"].added_at > 0

"""XDF: a recorded session (LSL stream with clock offsets, pty device, live labels) exported,
read back by pyxdf, and imported again with the same values, timestamps and clock offsets;
a LabRecorder-style file from another machine imported on the recorder's clock."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import pytest
import pyxdf

from sensorlab.session.reader import Session
from sensorlab.session.synthetic import write_synthetic_session
from sensorlab.session.xdf import spec
from sensorlab.session.xdf.export import export_xdf
from sensorlab.session.xdf.importer import import_xdf

from .conftest import REPO
from .test_lsl_bridge import lsl_session  # noqa: F401 - the shared recorded session


def _by_name(streams):
    return {s["info"]["name"][0]: s for s in streams}


def test_xdf_round_trip_keeps_values_timestamps_and_clock_offsets(lsl_session, tmp_path):  # noqa: F811
    path, _ = lsl_session
    xdf = tmp_path / "run.xdf"
    result = export_xdf(path, xdf)
    assert result.clock_offsets["eeg"] >= 3 and "eeg_lsl_clock" not in result.streams

    # The reference reader, clocks as stored: raw LSL stamps and the measured offsets.
    raw, _header = pyxdf.load_xdf(str(xdf), synchronize_clocks=False, dejitter_timestamps=False)
    raw = _by_name(raw)
    assert set(raw) == {"eeg", "wrist", "labels"}
    with Session.open(path) as s:
        eeg = s.streams["eeg"].read()
        clock = s.streams["eeg_lsl_clock"].read()
        wrist = s.streams["wrist"].read()
        labels = s.events()
    np.testing.assert_array_equal(raw["eeg"]["time_stamps"], eeg.device_times)
    np.testing.assert_array_equal(raw["eeg"]["time_series"], eeg.data)
    np.testing.assert_array_equal(raw["eeg"]["clock_times"], clock.device_times)
    np.testing.assert_array_equal(raw["eeg"]["clock_values"], clock.data[:, 0])
    np.testing.assert_array_equal(raw["wrist"]["time_stamps"], wrist.timestamps)  # host clock: no offsets
    np.testing.assert_array_equal(raw["wrist"]["time_series"], wrist.data)
    assert [v[0] for v in raw["labels"]["time_series"]] == [t for _, t in labels]
    assert raw["eeg"]["info"]["desc"][0]["channels"][0]["channel"][0]["label"] == ["C1"]
    assert int(raw["eeg"]["footer"]["info"]["sample_count"][0]) == len(eeg)

    # pyxdf's own clock synchronisation lands the LSL stream on the host clock too.
    synced = _by_name(pyxdf.load_xdf(str(xdf), dejitter_timestamps=False)[0])
    assert np.max(np.abs(synced["eeg"]["time_stamps"] - eeg.timestamps)) < 1e-3

    # And back: the same session content.
    back = tmp_path / "back.h5"
    import_xdf(xdf, back)
    with Session.open(back) as b:
        assert set(b.streams) == {"eeg", "eeg_lsl_clock", "wrist", "labels"}
        e2, c2, w2 = b.streams["eeg"].read(), b.streams["eeg_lsl_clock"].read(), b.streams["wrist"].read()
        np.testing.assert_array_equal(e2.timestamps, eeg.timestamps)
        np.testing.assert_array_equal(e2.device_times, eeg.device_times)
        np.testing.assert_array_equal(e2.data, eeg.data)
        assert e2.data.dtype == np.float32 and b.streams["eeg"].info == s_info(path, "eeg")
        np.testing.assert_array_equal(c2.timestamps, clock.timestamps)
        np.testing.assert_array_equal(c2.device_times, clock.device_times)
        np.testing.assert_array_equal(c2.data, clock.data)
        np.testing.assert_array_equal(w2.timestamps, wrist.timestamps)
        np.testing.assert_array_equal(w2.data, wrist.data)
        assert b.events() == labels
        assert b.metadata.name == "lsl-run" and "imported from run.xdf" in b.metadata.notes


def s_info(path, name):
    with Session.open(path) as s:
        return s.streams[name].info


def test_export_of_a_session_with_video_audio_and_events(tmp_path):
    src = write_synthetic_session(tmp_path / "syn.h5", seconds=12, audio_rate=8000, imu_rate=100, fps=5, predictions=True)
    xdf = tmp_path / "syn.xdf"
    out = subprocess.run([sys.executable, "-m", "sensorlab.cli", "session", "export", str(src), str(xdf)], cwd=REPO,
                         capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "left out cam: video" in out.stdout
    streams = _by_name(pyxdf.load_xdf(str(xdf), dejitter_timestamps=False)[0])
    with Session.open(src) as s:
        for name in ("mic", "imu"):
            c = s.streams[name].read()
            np.testing.assert_array_equal(streams[name]["time_series"], c.data)
            np.testing.assert_array_equal(streams[name]["time_stamps"], c.timestamps)  # no jitter removal: stamps as written
        assert streams["mic"]["info"]["type"] == ["Audio"] and streams["labels"]["info"]["type"] == ["Markers"]
        assert [v[0] for v in streams["predictions"]["time_series"]] == [t for _, t in s.events("predictions")]
    again = subprocess.run([sys.executable, "-m", "sensorlab.cli", "session", "export", str(src), str(xdf)], cwd=REPO,
                           capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr and again.stderr.count("\n") == 1


def _labrecorder_file(path, offset: float) -> None:
    """An XDF file as LabRecorder writes one: an EEG stream from a machine whose clock is
    ``offset`` s behind the recorder's (offset measured twice) and a 2-channel marker stream."""
    eeg = ("<?xml version=\"1.0\"?><info><name>BioSemi</name><type>EEG</type><channel_count>2</channel_count>"
           "<nominal_srate>100</nominal_srate><channel_format>int16</channel_format><source_id>bs1</source_id>"
           "<desc><channels><channel><label>Fz</label><unit>uV</unit></channel><channel><label>Cz</label><unit>uV</unit></channel>"
           "</channels></desc></info>")  # fmt: skip
    mk = ("<?xml version=\"1.0\"?><info><name>Game/events</name><type>Markers</type><channel_count>2</channel_count>"
          "<nominal_srate>0</nominal_srate><channel_format>string</channel_format></info>")  # fmt: skip
    body = [spec.MAGIC, spec.chunk(spec.FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version><datetime>2024-05-01T10:00:00+0200</datetime></info>'),
            spec.chunk(spec.STREAM_HEADER, eeg.encode(), 7), spec.chunk(spec.STREAM_HEADER, mk.encode(), 9)]  # fmt: skip
    body.append(spec.chunk(spec.CLOCK_OFFSET, struct.pack("<dd", 99.0, offset), 7))
    samples = spec.varlen(4) + b"".join(b"\x08" + struct.pack("<d", 100.0 + i * 0.01) + struct.pack("<hh", i, -i) for i in range(4))
    body.append(spec.chunk(spec.SAMPLES, samples, 7))
    body.append(spec.chunk(spec.CLOCK_OFFSET, struct.pack("<dd", 100.025, offset + 0.001), 7))
    strings = spec.varlen(1) + b"\x08" + struct.pack("<d", 100.5 + offset) + b"".join(spec.varlen(len(v)) + v for v in (b"hit", b"level 2"))
    body += [spec.chunk(spec.SAMPLES, strings, 9), spec.chunk(spec.BOUNDARY, spec.BOUNDARY_UUID)]
    path.write_bytes(b"".join(body))


def test_import_of_a_labrecorder_file_maps_each_stream_onto_the_recorders_clock(tmp_path):
    xdf = tmp_path / "lab.xdf"
    _labrecorder_file(xdf, offset=2.0)
    out = subprocess.run([sys.executable, "-m", "sensorlab.cli", "import", "xdf", str(xdf)], cwd=REPO, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    with Session.open(tmp_path / "lab.h5") as s:
        eeg = s.streams["BioSemi"]
        c = eeg.read()
        assert eeg.info.channel_names == ("Fz", "Cz") and eeg.info.units == ("uV", "uV") and eeg.info.dtype == "int16"
        np.testing.assert_array_equal(c.data, [[0, 0], [1, -1], [2, -2], [3, -3]])
        np.testing.assert_array_equal(c.device_times, 100.0 + np.arange(4) * 0.01)
        # Stamps before the second measurement (100.025) use the first offset, later ones the second.
        np.testing.assert_allclose(c.timestamps, 100.0 + np.arange(4) * 0.01 + [2.0, 2.0, 2.0, 2.001], atol=1e-12)
        clock = s.streams["BioSemi_lsl_clock"].read()
        np.testing.assert_array_equal(clock.data[:, 0], [2.0, 2.001])
        marker = s.streams["Game_events"].read()  # '/' cannot be in a stream name
        assert json.loads(marker.data[0]) == ["hit", "level 2"] and marker.timestamps[0] == 102.5
        assert s.metadata.start_time_iso == "2024-05-01T10:00:00+0200"
    broken = tmp_path / "broken.xdf"
    broken.write_bytes(b"not an xdf file")
    with pytest.raises(ValueError, match="broken.xdf: not a readable XDF file"):
        import_xdf(broken, tmp_path / "broken.h5")
    assert not (tmp_path / "broken.h5").exists()

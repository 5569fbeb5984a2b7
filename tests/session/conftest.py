"""Fixtures shared by the session-format tests (test_format_3, test_format_4, test_compact_layout),
and the wait for the demo rig's streams (test_compact_layout, test_writer_batches).

``data/make_v20_session.py`` writes the chunks of the real devices' hand-overs and clocks, and
packs and digests the files of older versions; it is a script that must also run against an
old sensorlab, so it is loaded from its path rather than imported as a package module.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import time
from pathlib import Path

import h5py
import pytest

from sensorlab.session import time_columns

DATA = Path(__file__).parent / "data"

#: The streams of the emulated demo rig without EEG (`demo_sources(eeg=False)`).
DEMO_STREAMS = ("camera", "mic", "imu", "radar", "wrist")


def demo_rig_delivered(rec, mic_seconds: float = 2.5, timeout: float = 60.0) -> bool:
    """Waits until the recorder ``rec`` of the demo rig (without EEG) has samples of every
    stream and more than ``mic_seconds`` of its 48 kHz microphone; False if not within
    ``timeout`` (the caller stops the recording first, then asserts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = rec.counters()
        if all(c.get(s) is not None and c[s].samples > 0 for s in DEMO_STREAMS) and c["mic"].samples > 48000 * mic_seconds:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def make_v20():
    """The fixture writer module (``write``, ``stream_arrays``, ``digest``)."""
    spec = importlib.util.spec_from_file_location("make_v20_session", DATA / "make_v20_session.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def old_session(tmp_path):
    """``old_session("3.0")``: the file that version wrote (``data/v30_session.h5.gz``),
    unpacked into tmp_path; its expected values are beside it (``v30_expected.*``)."""

    def unpack(schema: str) -> Path:
        tag = "v" + schema.replace(".", "")
        path = tmp_path / f"{tag}.h5"
        with gzip.open(DATA / f"{tag}_session.h5.gz", "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return path

    return unpack


@pytest.fixture
def h5_group():
    """``h5_group(path)``: a new HDF5 file, a group ``s`` in it and the ``append(ds, values,
    at=None)`` a `ColumnWriter` is given (grow the dataset, write from ``at`` or its end)."""

    def make(path: Path) -> tuple[h5py.File, h5py.Group, callable]:
        f = h5py.File(path, "w")

        def append(ds, values, at=None):
            n0 = ds.shape[0] if at is None else at
            ds.resize(n0 + len(values), axis=0)
            ds[n0:] = values

        return f, f.create_group("s"), append

    return make


@pytest.fixture
def timestamps_in_batches(h5_group):
    """``timestamps_in_batches(path, ts)``: ``ts`` through a `ColumnWriter` as the session
    writer hands them over (10 at a time, drained every 5th batch and at the end). Returns the
    open file, its group, the writer, and a `ColumnView` of what was written."""

    def write(path: Path, ts) -> tuple:
        f, g, append = h5_group(path)
        col = time_columns.ColumnWriter(g, "timestamps", 256, append)
        for k0 in range(0, len(ts), 10):
            col.write(ts[k0 : k0 + 10], k0)
            if k0 % 50 == 40:
                col.drain()
        col.drain()
        return f, g, col, time_columns.ColumnView(g, "timestamps", trusted=False, contiguous=True)

    return write

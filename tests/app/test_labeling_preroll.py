"""A studio recording opened on the labeling timeline: its pre-roll is there, and the
spectrogram stays under its waveform when the view reaches past the samples.

Found walking the quick start: Record in the studio keeps the 5 s before the press (the
pre-roll), stamped before the session start. The timeline began at the start, so those 5 s
(a clap that made the user press Record) could be neither seen nor labeled. And zoomed out
at a session's edge, the spectrogram's columns of the samples alone were stretched over the
whole view: its claps sat beside the waveform's.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from PySide6.QtCore import Qt

from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.reader import Session
from sensorlab.session.synthetic import T0
from tests.app.conftest import write_clap_audio

RATE = 8000
PREROLL = 3.0  # Record pressed 3 s into the samples
CLAPS = (1.37, 5.37, 9.37)  # seconds from the first sample; the first is in the pre-roll


def _recording_with_preroll(path, seconds=12.0):
    write_clap_audio(path, CLAPS, seconds, RATE, start=T0 + PREROLL)
    with h5py.File(path, "r") as f:  # as the studio writes it: samples before the start
        assert f.attrs["start_host_time"] == pytest.approx(T0 + PREROLL)
    return path


def test_the_preroll_is_on_the_timeline_and_takes_labels(tmp_path, open_view, qtbot):
    v = open_view(_recording_with_preroll(tmp_path / "run.h5"), LabelSet.from_names(["clap", "speech"]), size=(1200, 600))
    tl = v.timeline
    assert tl.origin == pytest.approx(T0 + PREROLL)  # 0 on the ruler is still the session start
    tl.show_all()
    left, right = tl.view_range
    assert left <= T0 + 1e-3 and right >= T0 + 12.0 - 1e-3  # the whole recording, pre-roll included
    tl.set_cursor(T0 + CLAPS[0])  # the clap before Record was pressed
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_1)
    pt = v.annotations[v.annotation_view.selected]
    assert pt.label == "clap" and pt.start == pytest.approx(T0 + CLAPS[0])
    assert "cursor -00:01.630" in v.position_label.text()  # before the start, said so


def test_the_spectrogram_lines_up_with_the_samples_when_the_view_reaches_past_them(tmp_path, qtbot):
    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    path = _recording_with_preroll(tmp_path / "run.h5")
    with Session.open(path) as s:
        track = SpectrogramTrack(s.streams["mic"], T0)
        track.settle(T0 - 4.0, T0 + 16.0, pixels=400)  # zoomed out: 4 s of nothing on each side
        img = track.image.image  # dB, rows = frequency bins, columns = time
        drawn = track.image.mapRectToView(track.image.boundingRect())
        assert drawn.left() == pytest.approx(0.0, abs=0.01) and drawn.right() == pytest.approx(12.0, abs=0.01)
        row = round(1000.0 * track.NFFT / RATE)
        loud = img[row - 2 : row + 3].max(axis=0)
        col_s = drawn.width() / img.shape[1]
        for c in CLAPS:  # each clap's column is where the clap is, within a column
            near = [drawn.left() + (i + 0.5) * col_s for i in np.flatnonzero(loud > -30.0)]
            assert min(abs(x - c) for x in near) <= 1.5 * col_s, (c, near)

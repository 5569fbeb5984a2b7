"""The functions behind ``sensorlab labels export|import|suggest``, on a real session file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.labeling.cli_commands import (
    describe_segments,
    export_labels,
    import_labels,
    open_session_annotations,
    suggest_labels,
)
from sensorlab.labeling.store import load_annotations, sidecar_path

RATE = 16000
T0 = 9000.0


@pytest.fixture
def session(tmp_path):
    """A 4 s session: mono audio with two tone bursts, and live labels."""
    from sensorlab.session.metadata import SessionMetadata
    from sensorlab.session.writer import SessionWriter

    path = tmp_path / "run1.h5"
    n = 4 * RATE
    t = T0 + np.arange(n) / RATE
    x = 0.002 * np.random.default_rng(0).standard_normal((n, 1))
    for a, b in ((1.0, 1.5), (2.5, 3.0)):
        m = (t >= T0 + a) & (t < T0 + b)
        x[m, 0] += 0.3 * np.sin(2 * np.pi * 440 * t[m])
    streams = {
        "mic": StreamInfo("mic", StreamKind.AUDIO, RATE, ("mono",), dtype="float32", sample_shape=(1,)),
        "labels": StreamInfo("labels", StreamKind.EVENTS, 0.0, dtype="str"),
    }
    w = SessionWriter(path)
    w.on_start(streams, SessionMetadata(name="test").stamped_start(T0))
    for i in range(0, n, 4000):
        w.on_chunk("mic", Chunk(x[i : i + 4000].astype(np.float32), t[i : i + 4000]))
    events = [(T0 + 1.0, {"label": "speech", "type": "start"}), (T0 + 1.5, {"label": "speech", "type": "stop"}),
              (T0 + 3.5, {"label": "clap", "type": "point"})]
    w.on_chunk("labels", Chunk(np.array([json.dumps(e) for _, e in events], dtype=object), [t for t, _ in events]))
    w.on_stop({}, {"complete": True})
    return path


def test_open_uses_live_labels_then_sidecar(session):
    ann = open_session_annotations(session)
    assert sorted((s.label, s.start - T0, s.end - T0) for s in ann) == [("clap", 3.5, 3.5), ("speech", 1.0, 1.5)]
    assert not sidecar_path(session).exists()  # opening never writes


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".json", ".eaf"], ids=["csv", "audacity", "labelstudio", "elan"])
def test_export_then_import_into_another_session(session, tmp_path, suffix):
    out = tmp_path / f"labels{suffix}"
    msg = export_labels(session, out)
    assert "wrote 2 segments" in msg
    other = tmp_path / "other.h5"  # a session file need not exist to receive labels
    print(import_labels(other, out))
    got = load_annotations(sidecar_path(other))
    assert sorted((s.label, s.start, s.end) for s in got) == sorted((s.label, s.start, s.end) for s in open_session_annotations(session))
    assert "2 duplicate(s) skipped" in import_labels(other, out)  # re-import is harmless
    assert len(load_annotations(sidecar_path(other))) == 2
    import_labels(other, out, merge=False)
    assert len(load_annotations(sidecar_path(other))) == 2


def test_elan_export_uses_session_start_and_snaps_on_import(session, tmp_path):
    out = tmp_path / "x.eaf"
    export_labels(session, out)
    assert 'TIME_VALUE="1000"' in out.read_text()  # 0 ms is the session start
    msg = import_labels(session, out, snap_stream="mic")
    assert "2 duplicate(s) skipped" in msg
    with pytest.raises(ValueError, match="only applies to ELAN"):
        import_labels(session, out.with_suffix(".csv"), snap_stream="mic")


def test_suggest_stores_suggestions_and_replaces_a_previous_run(session):
    segs = suggest_labels(session, "mic", "energy", label="speech")
    assert [(round(s.start - T0, 1), round(s.end - T0, 1)) for s in segs] == [(1.0, 1.5), (2.5, 3.0)]
    saved = load_annotations(sidecar_path(session))
    assert len(saved.segments(suggested=True)) == 2 and len(saved.segments(suggested=False)) == 2  # live kept
    suggest_labels(session, "mic", "energy", label="speech", margin_db=20)
    assert len(load_annotations(sidecar_path(session)).segments(suggested=True)) == 2
    assert "2 suggestion(s)" in describe_segments(segs)
    with pytest.raises(KeyError, match="no stream"):
        suggest_labels(session, "camera", "motion")
    # Suggestions are not exported unless asked.
    assert "wrote 2 segments" in export_labels(session, session.with_suffix(".csv"))
    assert "wrote 4 segments" in export_labels(session, session.with_suffix(".csv"), include_suggested=True)

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


def write_session(path, t0: float = T0, rate: int = RATE, seconds: float = 4.0, bursts=((1.0, 1.5), (2.5, 3.0)), live=True):
    """A session of mono audio with tone bursts (and live labels) starting at host time ``t0``."""
    from sensorlab.session.synthetic import write_streams

    n = int(seconds * rate)
    t = t0 + np.arange(n) / rate
    x = 0.002 * np.random.default_rng(0).standard_normal((n, 1))
    for a, b in bursts:
        m = (t >= t0 + a) & (t < t0 + b)
        x[m, 0] += 0.3 * np.sin(2 * np.pi * 440 * t[m])
    mic = StreamInfo("mic", StreamKind.AUDIO, rate, ("mono",), dtype="float32", sample_shape=(1,))
    streams = {"mic": (mic, [Chunk(x[i : i + 4000].astype(np.float32), t[i : i + 4000]) for i in range(0, n, 4000)])}
    if live:
        events = [(t0 + 1.0, {"label": "speech", "type": "start"}), (t0 + 1.5, {"label": "speech", "type": "stop"}),
                  (t0 + 3.5, {"label": "clap", "type": "point"})]
        streams["labels"] = (StreamInfo("labels", StreamKind.EVENTS, 0.0, dtype="str"),
                             Chunk(np.array([json.dumps(e) for _, e in events], dtype=object), [t for t, _ in events]))
    return write_streams(path, streams, start=t0, name="test")


@pytest.fixture
def session(tmp_path):
    """A 4 s session: mono audio with two tone bursts, and live labels."""
    return write_session(tmp_path / "run1.h5")


def test_open_uses_live_labels_then_sidecar(session):
    ann = open_session_annotations(session)
    assert sorted((s.label, s.start - T0, s.end - T0) for s in ann) == [("clap", 3.5, 3.5), ("speech", 1.0, 1.5)]
    assert not sidecar_path(session).exists()  # opening never writes


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".json", ".eaf"], ids=["csv", "audacity", "labelstudio", "elan"])
def test_export_then_import_into_another_session(session, tmp_path, suffix):
    out = tmp_path / f"labels{suffix}"
    msg = export_labels(session, out)
    assert "wrote 2 segments" in msg and "from the session start" in msg
    t1 = 51234.5678  # another session, recorded later: the labels keep their place from its start
    other = write_session(tmp_path / "other.h5", t0=t1, live=False)
    assert "from the session start" in import_labels(other, out)
    got = load_annotations(sidecar_path(other))
    want = sorted((s.label, s.start - T0, s.end - T0) for s in open_session_annotations(session))
    have = sorted((s.label, s.start - t1, s.end - t1) for s in got)
    assert [h[0] for h in have] == [w[0] for w in want]
    assert np.allclose([h[1:] for h in have], [w[1:] for w in want], rtol=0, atol=1e-9)
    assert "2 duplicate(s) skipped" in import_labels(other, out)  # re-import is harmless
    assert len(load_annotations(sidecar_path(other))) == 2
    import_labels(other, out, merge=False)
    assert len(load_annotations(sidecar_path(other))) == 2
    # Into a session that does not exist there is no start to measure from: say so.
    with pytest.raises(ValueError, match="no such session file.*--absolute"):
        import_labels(tmp_path / "missing.h5", out)


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".json", ".eaf"], ids=["csv", "audacity", "labelstudio", "elan"])
def test_round_trip_keeps_times_to_the_sample_at_48k(tmp_path, suffix):
    """Relative export → import gives back host-clock times within 1e-9 s (a 48 kHz sample is 2e-5 s)."""
    t0 = 2104.8317234567  # a typical monotonic host time
    path = write_session(tmp_path / "s48.h5", t0=t0, rate=48000, seconds=2.0, bursts=(), live=False)
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations

    grid = t0 + np.array([4801, 24_017, 24_017, 60_001, 90_000, 95_999]) / 48000.0  # sample timestamps
    ann = AnnotationSet([Segment.create("activity", "wave", grid[0], grid[1]), Segment.create("activity", "clap", grid[2]),
                         Segment.create("speaker", "ann", grid[3], grid[5]), Segment.create("speaker", "bob", grid[4], grid[5])])
    save_annotations(ann, sidecar_path(path), session=path.name)
    out = tmp_path / f"x{suffix}"
    export_labels(path, out)
    import_labels(path, out, merge=False)
    got = sorted((s.label, s.start, s.end) for s in load_annotations(sidecar_path(path)))
    want = sorted((s.label, s.start, s.end) for s in ann)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert np.max(np.abs(np.array([g[1:] for g in got]) - np.array([w[1:] for w in want]))) <= 1e-9
    # Importing the same file again into the original annotations finds every one a duplicate.
    assert "4 duplicate(s) skipped" in import_labels(path, out)


def test_exports_count_from_the_session_start_unless_absolute(session, tmp_path):
    export_labels(session, tmp_path / "rel.csv")
    export_labels(session, tmp_path / "abs.csv", absolute=True)
    export_labels(session, tmp_path / "rel.txt")
    export_labels(session, tmp_path / "rel.json")
    rows = (tmp_path / "rel.csv").read_text().splitlines()
    assert rows[1:] == ["default,speech,1.0,1.5", "default,clap,3.5,3.5"]
    assert (tmp_path / "abs.csv").read_text().splitlines()[1] == f"default,speech,{T0 + 1.0!r},{T0 + 1.5!r}"
    assert (tmp_path / "rel.txt").read_text().splitlines()[0] == "1.0\t1.5\tspeech"
    value = json.loads((tmp_path / "rel.json").read_text())[0]["annotations"][0]["result"][0]["value"]
    assert (value["start"], value["end"]) == (1.0, 1.5)
    assert "host-clock" in export_labels(session, tmp_path / "abs.eaf", absolute=True)
    assert 'TIME_VALUE="9001000"' in (tmp_path / "abs.eaf").read_text()  # ELAN's 0 ms is host time 0


def test_audacity_file_from_zero_lands_in_the_session_and_mismatches_are_refused(session, tmp_path):
    txt = tmp_path / "from_zero.txt"
    txt.write_text("0.5\t1.5\twave\n")
    import_labels(session, txt)
    wave = [s for s in load_annotations(sidecar_path(session)) if s.label == "wave"]
    assert [(s.start, s.end) for s in wave] == [(T0 + 0.5, T0 + 1.5)]
    before = sidecar_path(session).read_bytes()
    # The same file said to hold host-clock times is nowhere near the session (host 0.5 s).
    with pytest.raises(ValueError, match=r"from_zero.txt: its only segment lies outside the session.*without --absolute"):
        import_labels(session, txt, absolute=True)
    # Host-clock times read as relative ones are ~2.5 hours after the session start.
    export_labels(session, tmp_path / "abs.csv", absolute=True)
    with pytest.raises(ValueError, match=r"abs.csv: all 3 segments lie outside.*150:00.500–150:03.500.*import it with --absolute"):
        import_labels(session, tmp_path / "abs.csv")
    assert sidecar_path(session).read_bytes() == before  # nothing stored
    assert "3 duplicate(s) skipped" in import_labels(session, tmp_path / "abs.csv", absolute=True)


def test_describe_segments_shows_times_from_the_session_start():
    from sensorlab.labeling.annotations import Segment

    segs = [Segment.create("suggestions", "clap", T0 + 74.2, T0 + 74.25), Segment.create("suggestions", "x", T0 - 0.5, T0 + 3725)]
    text = describe_segments(segs, T0)
    assert "  01:14.200–01:14.250  clap  [suggestions]" in text
    assert "-00:00.500–62:05.000" in text


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


def test_a_stricter_rerun_that_finds_nothing_removes_the_stale_suggestions(session):
    from sensorlab.labeling.annotations import Segment
    from sensorlab.labeling.store import save_annotations

    suggest_labels(session, "mic", "energy", label="speech")
    ann = load_annotations(sidecar_path(session))
    other = Segment.create("suggestions", "x", T0 + 0.2, T0 + 0.3, suggested=True, source="suggest:threshold:mic")
    ann.add(other)
    save_annotations(ann, sidecar_path(session), session=session.name)
    assert suggest_labels(session, "mic", "energy", label="speech", margin_db=200) == []
    left = load_annotations(sidecar_path(session))
    assert [s.id for s in left.segments(suggested=True)] == [other.id]  # another method's run stays
    assert len(left.segments(suggested=False)) == 2  # reviewed labels are never touched
    with pytest.raises(ValueError, match="unexpected keyword argument 'nope'"):
        suggest_labels(session, "mic", "energy", nope=1.0)


def test_nothing_found_says_which_parameter_to_try():
    text = describe_segments([], method="energy")
    assert text.startswith("0 suggestions (try --param min_duration=0.005 for very short clicks (default 0.02 s)")
    assert "margin_db=6" in text and "\n" not in text
    assert "min_duration" not in describe_segments([], method="energy", params={"min_duration": 0.01})
    assert "--param threshold=" in describe_segments([], method="changepoint")


BROKEN = [
    ("bad.csv", "tier,label,start,end\na,wave,1.0,2.0\na,wave,abc,2.0\n", r"bad.csv:3: start 'abc' is not a number"),
    ("cols.csv", "who,what\n1,2\n", r"cols.csv: missing column\(s\) end, label, start"),
    ("bad.txt", "1.0\t2.0\tok\n1.0 2.0 spaces\n", r"bad.txt:2: expected 'start<TAB>end<TAB>label'"),
    ("nan.txt", "nan\t2.0\tx\n", r"nan.txt:1: start 'nan' is not a finite time"),
    ("order.txt", "3.0\t2.0\tx\n", r"order.txt:1: end \(2.0\) is before start \(3.0\); swap them"),
    ("broken.eaf", "<ANNOTATION_DOCUMENT>\n<TIER>\n</ANNOTATION_DOCUMENT>", r"broken.eaf:3: not a readable ELAN file"),
    ("other.eaf", "<html/>", r"other.eaf: not an ELAN file \(root element <html>"),
    ("dict.json", '{"a": 1}', r"dict.json: not a Label Studio export: no task has annotations"),
    ("list.json", '[{"x": 1}]', r"list.json: not a Label Studio export"),
    ("text.json", "hello", r"text.json:1: not valid JSON"),
    ("audio.json", '[{"annotations": [{"result": [{"type": "labels", "value": {}}]}]}]', r"audio.json: no timeserieslabels results \(found labels\)"),
    ("value.json", '[{"annotations": [{"result": [{"type": "timeserieslabels", "value": {"start": "x"}}]}]}]',
     r"value.json: task 1, annotations 1, result 1: start 'x' is not a number"),
    ("labels.xyz", "", r"labels.xyz: cannot tell the label format .* --format"),
]


@pytest.mark.parametrize(("name", "content", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_label_file_is_one_line_naming_file_place_and_fix(session, tmp_path, name, content, message):
    bad = tmp_path / name
    bad.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        import_labels(session, bad)
    assert "\n" not in str(info.value)
    assert not sidecar_path(session).exists()


def test_a_damaged_session_is_one_line(tmp_path):
    from sensorlab.labeling.timebase import SessionUnreadable

    bad = tmp_path / "damaged.h5"
    bad.write_bytes(b"not an hdf5 file" * 100)
    (tmp_path / "l.csv").write_text("tier,label,start,end\n")
    for call in (lambda: export_labels(bad, tmp_path / "x.csv"), lambda: import_labels(bad, tmp_path / "l.csv"),
                 lambda: suggest_labels(bad, "mic", "energy")):
        with pytest.raises(SessionUnreadable, match="damaged.h5") as info:
            call()
        assert "\n" not in str(info.value)

"""Import/export round trips on real files of each format, and reading files made by the tools."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.formats import detect_format, export_annotations, import_annotations
from sensorlab.labeling.formats.eaf import export_eaf, import_eaf

RATE = 48000.0
T0 = 73512.123456789  # a typical host-clock session start


def on_grid(k: int) -> float:
    """Timestamp of sample k of a 48 kHz stream starting at T0 (as the recorder stores it)."""
    return T0 + k / RATE


def sample_annotations() -> AnnotationSet:
    return AnnotationSet([
        Segment("a", "activity", "wave", on_grid(48_017), on_grid(96_001)),
        Segment("b", "activity", "clap", on_grid(120_000), on_grid(120_000)),  # point
        Segment("c", "speaker", "alice, \"quoted\"", on_grid(50_000), on_grid(200_123)),
        Segment("d", "speaker", "bob", on_grid(300_007), on_grid(310_011)),
        Segment("s", "activity", "sound", on_grid(400_000), on_grid(410_000), suggested=True),
    ])


def key(s: Segment, tier: bool = True) -> tuple:
    return (s.tier if tier else "", s.label, s.start, s.end)


@pytest.mark.parametrize(
    ("fmt", "suffix", "keeps_tiers"),
    [("csv", ".csv", True), ("audacity", ".txt", False), ("labelstudio", ".json", True), ("eaf", ".eaf", True)],
    ids=["csv", "audacity", "labelstudio", "elan"],
)
def test_round_trip_exact_to_the_bit(tmp_path, fmt, suffix, keeps_tiers):
    ann = sample_annotations()
    path = export_annotations(ann, tmp_path / f"labels{suffix}")
    assert detect_format(path) == fmt
    back = import_annotations(path)
    want = sorted(key(s, keeps_tiers) for s in ann if not s.suggested)
    got = sorted(key(s, keeps_tiers) for s in back if not s.suggested)
    assert got == want  # float64 equality: to the sample and beyond
    assert all(s.source == f"import:{fmt}" for s in back)


def test_audacity_one_tier_and_origin(tmp_path):
    ann = sample_annotations()
    path = export_annotations(ann, tmp_path / "a.txt", tier="speaker", origin=T0)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[2] == 'alice, "quoted"'
    back = import_annotations(path, origin=T0, tier="speaker")
    for s, b in zip(ann.segments("speaker"), back, strict=True):
        # With an origin the error is one ulp of the absolute time: far below a sample.
        assert abs(s.start - b.start) < 1e-9 and round((b.start - T0) * RATE) == round((s.start - T0) * RATE)


def test_reads_a_file_written_by_audacity(tmp_path):
    path = tmp_path / "audacity.txt"
    path.write_text("1.000000\t2.500000\tspeech\n\\\t200.0\t4000.0\n3.250000\t3.250000\tclick\n4.0\t5.0\n")
    back = import_annotations(path)
    assert [(s.label, s.start, s.end) for s in back] == [("speech", 1.0, 2.5), ("click", 3.25, 3.25), ("", 4.0, 5.0)]


def test_csv_flexible_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("label,end,start,note\nwave,2.5,1.0,hi\n")
    (s,) = import_annotations(path, tier="imported")
    assert (s.tier, s.label, s.start, s.end) == ("imported", "wave", 1.0, 2.5)
    path.write_text("tier,label\nx,y\n")
    with pytest.raises(ValueError, match="missing column"):
        import_annotations(path)


def test_labelstudio_suggestions_are_predictions(tmp_path):
    ann = sample_annotations()
    path = export_annotations(ann, tmp_path / "ls.json", include_suggested=True)
    (task,) = json.loads(path.read_text())
    results = task["annotations"][0]["result"]
    assert {r["type"] for r in results} == {"timeserieslabels"}
    assert any(r["value"]["instant"] for r in results)
    assert task["predictions"][0]["result"][0]["value"]["timeserieslabels"] == ["sound"]
    back = import_annotations(path)
    (sug,) = back.segments(suggested=True)
    assert (sug.label, sug.start) == ("sound", on_grid(400_000))


def test_reads_a_label_studio_export(tmp_path):
    # Shape of a real Label Studio JSON export of a time-series project.
    doc = [{
        "id": 7,
        "data": {"csv": "/data/upload/1/imu.csv"},
        "annotations": [{
            "id": 3, "completed_by": 1,
            "result": [
                {"id": "Xy1", "from_name": "label", "to_name": "ts", "type": "timeserieslabels", "origin": "manual",
                 "value": {"start": 12.5, "end": 14.25, "instant": False, "timeserieslabels": ["Run"]}},
                {"id": "Xy2", "from_name": "label", "to_name": "ts", "type": "timeserieslabels", "origin": "manual",
                 "value": {"start": 20, "end": 20, "instant": True, "timeserieslabels": ["Tap"]}},
                {"id": "Xy3", "from_name": "comment", "to_name": "ts", "type": "textarea", "value": {"text": ["ok"]}},
            ],
        }],
    }]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    back = import_annotations(path)
    assert sorted((s.tier, s.label, s.start, s.end) for s in back) == [("label", "Run", 12.5, 14.25), ("label", "Tap", 20.0, 20.0)]


# -- ELAN --------------------------------------------------------------------------------


def test_eaf_file_is_plain_elan(tmp_path):
    path = export_eaf(sample_annotations(), tmp_path / "x.eaf", origin=T0, media_url="file:///data/x.wav")
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    assert root.find("HEADER").get("TIME_UNITS") == "milliseconds"
    values = [int(ts.get("TIME_VALUE")) for ts in root.iterfind("TIME_ORDER/TIME_SLOT")]
    assert values == sorted(values) and values[0] == round(48_017 / RATE * 1000)
    assert {t.get("TIER_ID") for t in root.iterfind("TIER")} == {"activity", "speaker"}


def test_eaf_without_exact_times_is_ms_then_snaps_to_the_sample_grid(tmp_path):
    ann = sample_annotations()
    path = export_eaf(ann, tmp_path / "x.eaf", origin=T0)
    coarse = import_eaf(path, use_exact=False)
    grid = T0 + np.arange(500_000) / RATE
    snapped = import_eaf(path, use_exact=False, sample_times=grid)
    for s in ann.segments(suggested=False):
        c = next(x for x in coarse if x.label == s.label)
        g = next(x for x in snapped if x.label == s.label)
        assert abs(c.start - s.start) <= 0.0005 + 1e-9  # ELAN keeps the ms
        assert g.start in set(grid[int((g.start - T0) * RATE) - 1 : int((g.start - T0) * RATE) + 2])  # on a sample
        assert abs(g.start - s.start) <= 0.0005 + 1 / RATE


def test_eaf_edited_in_elan_uses_ms_for_the_edited_edge_only(tmp_path):
    ann = sample_annotations()
    path = export_eaf(ann, tmp_path / "x.eaf", origin=T0)
    text = path.read_text()
    # Simulate a user dragging the end of "wave" in ELAN: change its end slot's value.
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text)
    wave = next(a for a in root.iter("ALIGNABLE_ANNOTATION") if a.findtext("ANNOTATION_VALUE") == "wave")
    slot = next(s for s in root.iter("TIME_SLOT") if s.get("TIME_SLOT_ID") == wave.get("TIME_SLOT_REF2"))
    slot.set("TIME_VALUE", "2500")
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    back = import_eaf(path)
    w = next(s for s in back if s.label == "wave")
    assert w.start == ann["a"].start  # untouched edge: exact
    assert w.end == T0 + 2.5  # edited edge: what ELAN says


def test_reads_an_elan_file_with_reference_tiers(tmp_path):
    path = tmp_path / "elan.eaf"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+01:00" FORMAT="3.0" VERSION="3.0">
  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
    <PROPERTY NAME="lastUsedAnnotationId">3</PROPERTY>
  </HEADER>
  <TIME_ORDER>
    <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1230"/>
    <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="4560"/>
    <TIME_SLOT TIME_SLOT_ID="ts3"/>
  </TIME_ORDER>
  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="words">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
      <ANNOTATION_VALUE>hello</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts3">
      <ANNOTATION_VALUE>unaligned</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="gloss" PARENT_REF="words" TIER_ID="gloss">
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a3" ANNOTATION_REF="a1">
      <ANNOTATION_VALUE>greeting</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
  </TIER>
  <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>
  <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" LINGUISTIC_TYPE_ID="gloss" TIME_ALIGNABLE="false"/>
</ANNOTATION_DOCUMENT>
""")
    back = import_eaf(path, origin=100.0)
    assert sorted((s.tier, s.label, s.start, s.end) for s in back) == [
        ("gloss", "greeting", 101.23, 104.56),
        ("words", "hello", 101.23, 104.56),
    ]


def test_eaf_refuses_negative_times(tmp_path):
    with pytest.raises(ValueError, match="negative"):
        export_eaf(sample_annotations(), tmp_path / "x.eaf", origin=T0 + 10)


def test_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="cannot tell"):
        detect_format(tmp_path / "x.xyz")
    assert detect_format("x.dat", "ELAN") == "eaf"


# An ELAN file as ELAN writes a subdivided corpus: a root tier, a time-subdivision tier whose
# inner boundaries are unaligned slots (one chain partly aligned), a time subdivision of that,
# a symbolic subdivision (children listed out of PREVIOUS_ANNOTATION order, a repeated word),
# a symbolic association and an included-in tier. TIME_ORDER lists the slots in time order,
# so ts2 sits between ts9 (1500) and ts10 (2500) there, yet ELAN places it at 2000 on its chain.
SUBDIVIDED_EAF = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+01:00" FORMAT="3.0" VERSION="3.0">
  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>
  <TIME_ORDER>
    <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1000"/>
    <TIME_SLOT TIME_SLOT_ID="ts9" TIME_VALUE="1500"/>
    <TIME_SLOT TIME_SLOT_ID="ts2"/>
    <TIME_SLOT TIME_SLOT_ID="ts11"/>
    <TIME_SLOT TIME_SLOT_ID="ts10" TIME_VALUE="2500"/>
    <TIME_SLOT TIME_SLOT_ID="ts3"/>
    <TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="4000"/>
    <TIME_SLOT TIME_SLOT_ID="ts5" TIME_VALUE="5000"/>
    <TIME_SLOT TIME_SLOT_ID="ts6" TIME_VALUE="5200"/>
    <TIME_SLOT TIME_SLOT_ID="ts7"/>
    <TIME_SLOT TIME_SLOT_ID="ts8" TIME_VALUE="6000"/>
  </TIME_ORDER>
  <TIER LINGUISTIC_TYPE_REF="utt" TIER_ID="utterance">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="u1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts4"><ANNOTATION_VALUE>the cat the</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="u2" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts8"><ANNOTATION_VALUE>yes no no</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="timesub" PARENT_REF="utterance" TIER_ID="words">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2"><ANNOTATION_VALUE>the</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w2" TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts3"><ANNOTATION_VALUE>cat</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w3" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4"><ANNOTATION_VALUE>the</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w4" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6"><ANNOTATION_VALUE>yes</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w5" TIME_SLOT_REF1="ts6" TIME_SLOT_REF2="ts7"><ANNOTATION_VALUE>no</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="w6" TIME_SLOT_REF1="ts7" TIME_SLOT_REF2="ts8"><ANNOTATION_VALUE>no</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="timesub" PARENT_REF="words" TIER_ID="syllables">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="s1" TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts11"><ANNOTATION_VALUE>ca</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="s2" TIME_SLOT_REF1="ts11" TIME_SLOT_REF2="ts3"><ANNOTATION_VALUE>at</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="symsub" PARENT_REF="words" TIER_ID="morphs">
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m3" ANNOTATION_REF="w1" PREVIOUS_ANNOTATION="m2"><ANNOTATION_VALUE>e</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m1" ANNOTATION_REF="w1"><ANNOTATION_VALUE>th</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m2" ANNOTATION_REF="w1" PREVIOUS_ANNOTATION="m1"><ANNOTATION_VALUE>e</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="m4" ANNOTATION_REF="w3"><ANNOTATION_VALUE>the</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="symassoc" PARENT_REF="utterance" TIER_ID="gloss">
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="g1" ANNOTATION_REF="u1"><ANNOTATION_VALUE>ART N ART</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="g2" ANNOTATION_REF="u2"><ANNOTATION_VALUE>INTJ</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="incl" PARENT_REF="utterance" TIER_ID="notes">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="n1" TIME_SLOT_REF1="ts9" TIME_SLOT_REF2="ts10"><ANNOTATION_VALUE>cough</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="utt" TIER_ID="noise">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="d1" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts8"><ANNOTATION_VALUE>hum</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="d2" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts8"><ANNOTATION_VALUE>hum</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="utt" TIME_ALIGNABLE="true"/>
  <LINGUISTIC_TYPE CONSTRAINTS="Time_Subdivision" LINGUISTIC_TYPE_ID="timesub" TIME_ALIGNABLE="true"/>
  <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Subdivision" LINGUISTIC_TYPE_ID="symsub" TIME_ALIGNABLE="false"/>
  <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" LINGUISTIC_TYPE_ID="symassoc" TIME_ALIGNABLE="false"/>
  <LINGUISTIC_TYPE CONSTRAINTS="Included_In" LINGUISTIC_TYPE_ID="incl" TIME_ALIGNABLE="true"/>
  <CONSTRAINT DESCRIPTION="Time subdivision of parent annotation's time interval, no time gaps allowed within this interval" STEREOTYPE="Time_Subdivision"/>
  <CONSTRAINT DESCRIPTION="Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered" STEREOTYPE="Symbolic_Subdivision"/>
  <CONSTRAINT DESCRIPTION="1-1 association with a parent annotation" STEREOTYPE="Symbolic_Association"/>
  <CONSTRAINT DESCRIPTION="Time alignable annotations within the parent annotation's time interval, gaps are allowed" STEREOTYPE="Included_In"/>
</ANNOTATION_DOCUMENT>
"""

# (tier, label, start ms, end ms) as ELAN shows them.
SUBDIVIDED_TRUTH = sorted([
    ("utterance", "the cat the", 1000, 4000), ("utterance", "yes no no", 5000, 6000),
    ("words", "the", 1000, 2000), ("words", "cat", 2000, 3000), ("words", "the", 3000, 4000),
    ("words", "yes", 5000, 5200), ("words", "no", 5200, 5600), ("words", "no", 5600, 6000),
    ("syllables", "ca", 2000, 2500), ("syllables", "at", 2500, 3000),
    ("morphs", "th", 1000, 1000 + 1000 / 3), ("morphs", "e", 1000 + 1000 / 3, 1000 + 2000 / 3),
    ("morphs", "e", 1000 + 2000 / 3, 2000), ("morphs", "the", 3000, 4000),
    ("gloss", "ART N ART", 1000, 4000), ("gloss", "INTJ", 5000, 6000),
    ("notes", "cough", 1500, 2500),
    ("noise", "hum", 5000, 6000), ("noise", "hum", 5000, 6000),
])


def test_elan_subdivided_tiers_import_every_annotation_at_elans_times(tmp_path, caplog):
    path = tmp_path / "corpus.eaf"
    path.write_text(SUBDIVIDED_EAF)
    back = import_eaf(path, origin=100.0)
    got = sorted((s.tier, s.label, s.start, s.end) for s in back)
    assert len(got) == len(SUBDIVIDED_TRUTH), got
    for (tier, label, a, b), (ttier, tlabel, ta, tb) in zip(got, SUBDIVIDED_TRUTH, strict=True):
        assert (tier, label) == (ttier, tlabel)
        assert a == pytest.approx(100.0 + ta / 1000, abs=1e-9) and b == pytest.approx(100.0 + tb / 1000, abs=1e-9), (tier, label, a, b)
    assert "skipped" not in caplog.text


def test_importing_a_subdivided_elan_file_into_a_session_keeps_every_annotation(tmp_path):
    from sensorlab.labeling.cli_commands import import_labels, open_session_annotations
    from sensorlab.session.synthetic import T0 as S0
    from sensorlab.session.synthetic import write_synthetic_session

    session = write_synthetic_session(tmp_path / "run.h5", 7.0, audio_rate=8000, frame_shape=(8, 8), predictions=False)
    path = tmp_path / "corpus.eaf"
    path.write_text(SUBDIVIDED_EAF)
    msg = import_labels(session, path)
    assert "duplicate" not in msg and msg.startswith(f"imported {len(SUBDIVIDED_TRUTH)} segments"), msg
    mine = sorted((s.tier, s.label, round((s.start - S0) * 1000, 3), round((s.end - S0) * 1000, 3))
                  for s in open_session_annotations(session) if s.source == "import:eaf")
    assert mine == [(t, lab, round(a, 3), round(b, 3)) for t, lab, a, b in SUBDIVIDED_TRUTH]
    # Importing the same file again adds nothing: those are the duplicates.
    assert "19 duplicate(s) skipped" in import_labels(session, path)


@pytest.mark.parametrize(("where", "bad", "message"), [
    ('TIME_VALUE="4000"', 'TIME_VALUE="' + "9" * 400 + '"', r"TIME_SLOT 'ts4' has a TIME_VALUE of 400 digits"),
    ("<HEADER MEDIA_FILE=\"\" TIME_UNITS=\"milliseconds\"/>",
     '<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"><PROPERTY NAME="sensorlab:exact_times">{"u1":[Infinity,4.0]}</PROPERTY></HEADER>',
     r"exact_times, annotation 'u1': start inf is not a finite time"),
    ("<HEADER MEDIA_FILE=\"\" TIME_UNITS=\"milliseconds\"/>",
     '<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"><PROPERTY NAME="sensorlab:exact_times">{"u1":[1e308,4.0]}</PROPERTY></HEADER>',
     r"annotation 'u1': 1e\+308 s is beyond what ELAN can hold"),
])
def test_elan_times_beyond_any_recording_are_one_line_errors(tmp_path, where, bad, message):
    path = tmp_path / "bad.eaf"
    path.write_text(SUBDIVIDED_EAF.replace(where, bad, 1))
    with pytest.raises(ValueError, match=message) as e:
        import_annotations(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("ls.json", json.dumps([{"annotations": [{"result": [{"type": "timeserieslabels", "from_name": "label",
                                                          "value": {"start": 1, "end": 2, "timeserieslabels": [1, {"a": 2}]}}]}]}]),
     r"task 1, annotations 1, result 1: label 1 is a number, not text"),
    ("ls.json", json.dumps([{"annotations": [{"result": [{"type": "timeserieslabels", "from_name": "label",
                                                          "value": {"start": 1, "end": 2, "timeserieslabels": [{"a": 2}]}}]}]}]),
     r'label {"a": 2} is a JSON object, not text'),
    ("ls.json", json.dumps([{"annotations": [{"result": [{"type": "timeserieslabels", "from_name": "label",
                                                          "value": {"start": 10**400, "end": 2, "timeserieslabels": ["a"]}}]}]}]),
     r"start of 401 digits is beyond any recording"),
    ("ls.json", json.dumps([{"annotations": [{"result": [{"type": "timeserieslabels", "from_name": "label",
                                                          "value": {"start": 1, "end": 2, "timeserieslabels": ["wa\x00ve"]}}]}]}]),
     r"label 'wa\\x00ve' contains a NUL character"),
    ("a.txt", "1.0\t2.0\twa\x00ve\n", r"a.txt:1: label 'wa\\x00ve' contains a NUL character"),
    ("a.csv", "tier,label,start,end\nt\x00x,wave,1,2\n", r"a.csv:2: tier name 't\\x00x' contains a NUL character"),
])
def test_labels_that_are_not_plain_text_are_refused(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as e:
        import_annotations(path)
    assert "\n" not in str(e.value)

"""`sensorlab import`: WAV clip folders and CSV/NPZ recordings become labeled sessions that build into datasets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import wavfile
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.datasets.build import build_dataset
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.interchange.clips import import_wav_folder
from sensorlab.datasets.interchange.pattern import NamePattern
from sensorlab.datasets.interchange.sessions import InputError
from sensorlab.datasets.interchange.tables import import_tables
from sensorlab.datasets.sources import read_annotations
from sensorlab.datasets.spec import spec_from_dict
from sensorlab.session.reader import Session

RATE = 1000


def clip(label: int, n: int, seed: int) -> np.ndarray:
    """int16 samples: a tone whose pitch encodes the label (exactly representable as float32)."""
    t = np.arange(n) / RATE
    rng = np.random.default_rng(seed)
    return (8000 * np.sin(2 * np.pi * (50 + 20 * label) * t) + rng.integers(-50, 50, n)).astype(np.int16)


@pytest.fixture
def wav_folder(tmp_path):
    d = tmp_path / "clips"
    d.mkdir()
    lengths = {}
    for subject in ("ann", "bob", "cat"):
        for label in (0, 1):
            for take in range(3):
                n = 400 + 100 * take  # 0.4, 0.5, 0.6 s
                wavfile.write(d / f"{label}_{subject}_{take}.wav", RATE, clip(label, n, hash((label, subject, take)) % 1000))
                lengths[(label, subject, take)] = n
    return d, lengths


def spec(paths, stream, length, hop, by="subject", **labels):
    return spec_from_dict({"sessions": {"paths": paths}, "streams": [{"name": stream}], "labels": {"tier": "label", **labels},
                           "window": {"length": length, "hop": hop}, "split": {"by": by, "fractions": {"train": 0.34, "val": 0.33, "test": 0.33}}})  # fmt: skip


def test_pattern_fields_and_rejects():
    p = NamePattern.compile("{label}_{subject}_{take:d}.wav")
    assert p.match("7_george_12.wav") == {"label": "7", "subject": "george", "take": "12"}
    assert p.match("7_george_x.wav") is None and p.match("7_george_1.wav.bak") is None


def test_wav_clips_become_one_session_per_subject_with_exact_segments(wav_folder, tmp_path):
    folder, lengths = wav_folder
    res = import_wav_folder(folder, tmp_path / "s", pattern="{label}_{subject}_{take:d}.wav", gap=0.25)
    assert [p.name for p in res.sessions] == ["subject-ann.h5", "subject-bob.h5", "subject-cat.h5"]
    assert res.items == 18 and res.segments == 18 and not res.skipped
    with Session.open(res.sessions[1]) as s:
        assert s.metadata.tags == {"subject": "bob"}
        c = s.streams["audio"].read()
    segs = sorted(read_annotations(res.sessions[1]).segments("label"), key=lambda g: g.start)
    # natural order 0_bob_0, 0_bob_1, 0_bob_2, 1_bob_0 …; 0.25 s (250 samples) of silence between clips
    pos, expect = 0, []
    for label in (0, 1):
        for take in range(3):
            n = lengths[(label, "bob", take)]
            expect.append((str(label), pos / RATE, (pos + n) / RATE))
            got = c.data[pos : pos + n, 0]
            assert np.array_equal(got, clip(label, n, hash((label, "bob", take)) % 1000) / np.float32(32768))
            pos += n + 250
    assert [(g.label, g.start, g.end) for g in segs] == expect
    assert np.all(c.data[lengths[(0, "bob", 0)] : lengths[(0, "bob", 0)] + 250] == 0)


def test_imported_clips_build_windows_split_by_subject(wav_folder, tmp_path):
    folder, _ = wav_folder
    import_wav_folder(folder, tmp_path / "s", pattern="{label}_{subject}_{take:d}.wav", gap=0.25)
    build_dataset(spec([str(tmp_path / "s" / "*.h5")], "audio", 0.2, 0.1, min_coverage=1.0), tmp_path / "ds.h5")
    with Dataset.open(tmp_path / "ds.h5") as ds:
        # clips of 0.4/0.5/0.6 s hold 3/4/5 fully covered 0.2 s windows on a 0.1 s grid when aligned; the grid
        # runs from the session start, and clip k starts at (sum of previous lengths + 0.25 per gap)
        assert ds.classes == ["0", "1"] and len(ds) > 0
        groups = {i["group"]: i["windows"] for i in ds.inputs}
        assert set(groups) == {"ann", "bob", "cat"}
        per_group_split = {}
        for s, sp in zip(ds.column("session").tolist(), ds.column("split").tolist()):
            per_group_split.setdefault(ds.inputs[s]["group"], set()).add(sp)
        assert all(len(v) == 1 for v in per_group_split.values())
        assert len({next(iter(v)) for v in per_group_split.values()}) == 3  # one subject per split
        assert np.all(ds.column("coverage") == 1.0)
        # label 1 windows carry the 70 Hz tone, label 0 the 50 Hz one (the label matches the audio)
        x, y = ds.arrays("audio")
        f = np.argmax(np.abs(np.fft.rfft(x[:, :, 0], n=1000, axis=1)), axis=1)
        assert np.all(f[y == 0] == 50) and np.all(f[y == 1] == 70)


def test_one_session_per_clip_gives_the_same_subject_split(wav_folder, tmp_path):
    folder, _ = wav_folder
    res = import_wav_folder(folder, tmp_path / "s", pattern="{label}_{subject}_{take:d}.wav", session_per="clip")
    assert len(res.sessions) == 18
    with Session.open(tmp_path / "s" / "1_cat_2.h5") as s:
        assert s.metadata.tags == {"subject": "cat", "take": "2"}
    build_dataset(spec([str(tmp_path / "s" / "*.h5")], "audio", 0.4, 0.4), tmp_path / "ds.h5")
    with Dataset.open(tmp_path / "ds.h5") as ds:
        assert len(ds) == 18  # one 0.4 s window per clip (all clips are >= 0.4 s, < 0.8 s)
        sides = {}
        for s, sp in zip(ds.column("session").tolist(), ds.column("split").tolist()):
            sides.setdefault(ds.inputs[s]["tags"]["subject"], set()).add(sp)
        assert all(len(v) == 1 for v in sides.values())


def test_bad_files_are_named_counted_and_skipped(wav_folder, tmp_path):
    folder, _ = wav_folder
    (folder / "0_ann_7.wav").write_bytes(b"RIFF\x00\x00not a wave file")
    (folder / "noise.wav").write_bytes(b"x")
    wavfile.write(folder / "1_bob_9.wav", 2000, clip(1, 500, 1))  # another rate than bob's other clips
    res = import_wav_folder(folder, tmp_path / "s", pattern="{label}_{subject}_{take:d}.wav")
    why = dict(res.skipped)
    assert "does not match the pattern" in why["noise.wav"]
    assert "not a readable WAV file" in why["0_ann_7.wav"]
    assert "2000 Hz" in why["1_bob_9.wav"] and "1000 Hz" in why["1_bob_9.wav"]
    assert res.items == 18 and len(res.skipped) == 3
    out = res.summary("clips")
    assert "skipped 3 clips" in out and "noise.wav" in out


def test_cli_import_wav_reports_and_refuses_to_overwrite(wav_folder, tmp_path):
    folder, _ = wav_folder
    r = CliRunner().invoke(app, ["import", "wav", str(folder), "-o", str(tmp_path / "s"), "--pattern", "{label}_{subject}_{take:d}.wav"])
    assert r.exit_code == 0, r.output
    assert "imported 18 clips into 3 session(s), 18 labeled segment(s)" in r.stdout
    r = CliRunner().invoke(app, ["import", "wav", str(folder), "-o", str(tmp_path / "s"), "--pattern", "{label}_{subject}_{take:d}.wav"])
    assert r.exit_code == 1 and "already exist" in r.output and "--force" in r.output
    r = CliRunner().invoke(app, ["import", "wav", str(folder), "-o", str(tmp_path / "t"), "--pattern", "{subject}.wav"])
    assert r.exit_code == 1 and "has no {label} field" in r.output


def write_csv(path, labels, rate=50.0, with_time=True):
    n = len(labels)
    t = np.arange(n) / rate
    with open(path, "w") as f:
        f.write(("time," if with_time else "") + "ax,ay,label\n")
        f.writelines((f"{float(t[i])!r}," if with_time else "") + f"{np.sin(i / 5):.6f},{i / n:.6f},{labels[i]}\n" for i in range(n))


def test_csv_runs_become_segments_and_rate_is_inferred(tmp_path):
    labels = ["walk"] * 100 + [""] * 50 + ["sit"] * 150 + ["walk"] * 25
    write_csv(tmp_path / "rec.csv", labels)
    res = import_tables([tmp_path / "rec.csv"], tmp_path / "s", stream="imu")
    segs = sorted(read_annotations(res.sessions[0]).segments("label"), key=lambda g: g.start)
    assert [(g.label, g.start, g.end) for g in segs] == [("walk", 0.0, 2.0), ("sit", 3.0, 6.0), ("walk", 6.0, 6.5)]
    with Session.open(res.sessions[0]) as s:
        info = s.streams["imu"].info
        assert info.nominal_rate == 50.0 and info.channel_names == ("ax", "ay")
        assert s.streams["imu"].count == 325
    build_dataset(spec([str(tmp_path / "s" / "*.h5")], "imu", 1.0, 0.5, by="session", rule="centre"), tmp_path / "ds.h5")
    with Dataset.open(tmp_path / "ds.h5") as ds:
        labs = [ds.classes[i] for i in ds.column("label")]
        offs = ds.column("offset").tolist()
        # centres in [0, 2) → walk (starts -0.5..1.0 inside: 0, 0.5, 1.0); [3, 6) → sit (2.5..5.0); [6, 6.5) → walk (5.5)
        assert list(zip(offs, labs)) == [(0.0, "walk"), (0.5, "walk"), (1.0, "walk"), (2.5, "sit"), (3.0, "sit"), (3.5, "sit"),
                                         (4.0, "sit"), (4.5, "sit"), (5.0, "sit"), (5.5, "walk")]  # fmt: skip


def test_csv_without_time_needs_a_rate_and_subject_column_splits_sessions(tmp_path):
    write_csv(tmp_path / "a.csv", ["x"] * 10, with_time=False)
    with pytest.raises(InputError, match="a.csv: no time column and no rate: pass --rate"):
        import_tables([tmp_path / "a.csv"], tmp_path / "s")
    with open(tmp_path / "b.csv", "w") as f:
        f.write("v,label,who\n" + "".join(f"{i},{'up' if i < 5 else 'down'},{'p1' if i < 7 else 'p2'}\n" for i in range(10)))
    res = import_tables([tmp_path / "b.csv"], tmp_path / "s", rate=10, subject_column="who")
    assert [p.name for p in res.sessions] == ["b-p1.h5", "b-p2.h5"]
    with Session.open(res.sessions[1]) as s:
        assert s.metadata.tags == {"subject": "p2"} and s.streams["signal"].count == 3


def test_npz_recordings_with_label_names_and_name_pattern(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"label_names": np.array(["UNLABELED", "WALK", "SIT"]), "channel_names": np.array(["a", "b", "c"])}
    for rec, y in (("u01_e01", [0] * 10 + [1] * 20 + [2] * 10), ("u02_e03", [2] * 40)):
        arrays[f"{rec}_x"] = rng.standard_normal((len(y), 3)).astype(np.float32)
        arrays[f"{rec}_y"] = np.array(y, np.int16)
    np.savez(tmp_path / "data.npz", **arrays)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 broken")
    res = import_tables([tmp_path], tmp_path / "s", rate=20, pattern="u{subject}_e{experiment}")
    assert [p.name for p in res.sessions] == ["u01_e01.h5", "u02_e03.h5"]
    assert res.skipped and res.skipped[0][0] == "broken.npz" and "not a readable .npz" in res.skipped[0][1]
    segs = sorted(read_annotations(res.sessions[0]).segments("label"), key=lambda g: g.start)
    assert [(g.label, g.start, g.end) for g in segs] == [("WALK", 0.5, 1.5), ("SIT", 1.5, 2.0)]
    with Session.open(res.sessions[0]) as s:
        assert s.metadata.tags == {"subject": "01", "experiment": "01"}
        assert np.array_equal(s.streams["signal"].read().data, arrays["u01_e01_x"])
    assert json.loads((tmp_path / "s" / "u01_e01.labels.json").read_text())["segments"][0]["source"] == "import:data.npz:u01_e01"

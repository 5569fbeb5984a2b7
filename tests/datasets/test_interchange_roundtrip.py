"""Exports re-import to the same windows and labels (dataset files and sessions, every format)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from scipy.io import wavfile
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.datasets.build import build_dataset
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.interchange.clips import import_wav_folder
from sensorlab.datasets.interchange.edge_impulse import import_edge_impulse
from sensorlab.datasets.interchange.export import export, load_dataset_npz
from sensorlab.datasets.interchange.tables import import_tables
from sensorlab.datasets.sources import read_annotations
from sensorlab.datasets.spec import spec_from_dict
from sensorlab.session.reader import Session

RATE = 1000


def spec(paths, stream, length, hop, by="subject"):
    return spec_from_dict({"sessions": {"paths": paths}, "streams": [{"name": stream}], "labels": {"tier": "label", "min_coverage": 0.5},
                           "window": {"length": length, "hop": hop}, "split": {"by": by, "fractions": {"train": 0.5, "test": 0.5}}})  # fmt: skip


@pytest.fixture(scope="module")
def audio_corpus(tmp_path_factory):
    """Sessions imported from int16 WAV clips (2 subjects × 2 labels × 2 takes) and a dataset built from them."""
    root = tmp_path_factory.mktemp("audio")
    (root / "clips").mkdir()
    rng = np.random.default_rng(1)
    for subject in ("ann", "bob"):
        for label in ("yes", "no"):
            for take in range(2):
                wavfile.write(root / "clips" / f"{label}_{subject}_{take}.wav", RATE, rng.integers(-20000, 20000, 300 + 150 * take).astype(np.int16))
    import_wav_folder(root / "clips", root / "s", pattern="{label}_{subject}_{take:d}.wav", gap=0.1)
    build_dataset(spec([str(root / "s" / "*.h5")], "audio", 0.2, 0.1), root / "ds.h5")
    return root


@pytest.fixture(scope="module")
def imu_corpus(tmp_path_factory):
    """Sessions imported from per-sample-labeled CSV recordings (50 Hz, 3 channels) and a dataset."""
    root = tmp_path_factory.mktemp("imu")
    rng = np.random.default_rng(2)
    for subject in ("p1", "p2", "p3"):
        labels = ["walk"] * 120 + [""] * 30 + ["sit"] * 100 + ["walk"] * 60
        x = rng.standard_normal((len(labels), 3)).astype(np.float32)
        with open(root / f"{subject}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ax", "ay", "az", "label"])
            w.writerows([*map(repr, row.tolist()), lab] for row, lab in zip(x.astype(np.float64), labels))
    import_tables(sorted(root.glob("*.csv")), root / "s", rate=50, pattern="{subject}.csv", stream="imu")
    build_dataset(spec([str(root / "s" / "*.h5")], "imu", 1.0, 0.5), root / "ds.h5")
    return root


def windows_of(path, stream):
    """Window samples and label names of a dataset, keyed by (source session, offset) from the re-imported tags."""
    with Dataset.open(path) as ds:
        x, y = ds.arrays(stream)
        return ds, x, [ds.classes[i] for i in y], ds.column("offset"), [ds.inputs[s] for s in ds.column("session")]


def original(path, stream):
    with Dataset.open(path) as ds:
        x, y = ds.arrays(stream)
        names = [ds.inputs[s]["name"][:-3] for s in ds.column("session")]
        return {(n, float(o)): (xi, ds.classes[yi], ds.split_names[sp]) for n, o, xi, yi, sp in zip(names, ds.column("offset"), x, y, ds.column("split"))}


@pytest.mark.parametrize("fmt", ["ei-json", "ei-csv", "wav"])
@pytest.mark.parametrize("corpus,stream", [("audio_corpus", "audio"), ("imu_corpus", "imu")])
def test_dataset_windows_export_and_reimport_to_the_same_windows(fmt, corpus, stream, request, tmp_path):
    root = request.getfixturevalue(corpus)
    orig = original(root / "ds.h5", stream)
    assert len(orig) >= 8
    out = tmp_path / "export"
    res = export([root / "ds.h5"], out, fmt)
    assert res.items == len(orig)
    if fmt == "wav":
        import_wav_folder(out / "clips", tmp_path / "re", index=out / "index.csv", session_per="clip")
    else:
        import_edge_impulse(out, tmp_path / "re", session_per="clip")
    length = 0.2 if stream == "audio" else 1.0
    reimported_stream = "audio" if fmt == "wav" or (stream == "audio" and fmt == "ei-json") else "signal"
    build_dataset(spec([str(tmp_path / "re" / "*.h5")], reimported_stream, length, length, by="session"), tmp_path / "re.h5")
    _, x, labels, _, inputs = windows_of(tmp_path / "re.h5", reimported_stream)
    assert len(x) == len(orig)
    for xi, lab, inp in zip(x, labels, inputs):
        key = (inp["tags"]["session"], float(inp["tags"]["offset"]))
        ox, olab, osplit = orig[key]
        assert lab == olab and inp["tags"]["split"] == osplit and inp["tags"]["subject"] == inp["tags"]["subject"]
        assert np.array_equal(xi, ox), key


def test_edge_impulse_json_follows_the_data_acquisition_format(imu_corpus, tmp_path):
    export([imu_corpus / "ds.h5"], tmp_path / "ei", "ei-json")
    info = json.loads((tmp_path / "ei" / "info.labels").read_text())
    entry = info["files"][0]
    assert info["version"] == 1 and entry["category"] in ("training", "testing") and entry["label"]["type"] == "label"
    doc = json.loads((tmp_path / "ei" / entry["path"]).read_text())
    assert doc["protected"] == {"ver": "v1", "alg": "none"} and len(doc["signature"]) == 64
    p = doc["payload"]
    assert p["interval_ms"] == 20.0 and [s["name"] for s in p["sensors"]] == ["ax", "ay", "az"]
    assert len(p["values"]) == 50 and len(p["values"][0]) == 3
    assert (tmp_path / "ei" / entry["path"]).name.split(".")[0] == entry["label"]["label"]  # the uploader's label rule
    test_files = [e for e in info["files"] if e["category"] == "testing"]
    assert test_files and all(e["metadata"]["split"] == "test" for e in test_files)


def test_dataset_npz_holds_the_same_arrays(audio_corpus, tmp_path):
    res = export([audio_corpus / "ds.h5"], tmp_path / "ds.npz", "npz")
    z = load_dataset_npz(res.out)
    with Dataset.open(audio_corpus / "ds.h5") as ds:
        x, y = ds.arrays("audio")
        assert np.array_equal(z["x_audio"], x) and np.array_equal(z["label"], y)
        assert z["classes"].tolist() == ds.classes and z["split_names"].tolist() == ds.split_names
        assert np.array_equal(z["offset"], ds.column("offset")) and np.array_equal(z["split"], ds.column("split"))
        assert z["session_names"].tolist() == [i["name"] for i in ds.inputs] and float(z["rate_audio"]) == RATE


@pytest.mark.parametrize("fmt", ["npz", "ei-csv", "ei-json"])
def test_sessions_export_and_reimport_to_the_same_windows(fmt, imu_corpus, tmp_path):
    sessions = sorted((imu_corpus / "s").glob("*.h5"))
    out = tmp_path / "export"
    export(sessions, out, fmt)
    if fmt == "npz":
        import_tables([out / "sessions.npz"], tmp_path / "re", stream="imu")
    elif fmt == "ei-csv":
        import_tables(sorted(out.glob("*.csv")), tmp_path / "re", time_column="timestamp", time_unit="ms", stream="imu", pattern="{subject}.csv")
    else:
        import_edge_impulse(out, tmp_path / "re", stream="imu", session_per="clip")
    for p in sessions:
        with Session.open(p) as a, Session.open(tmp_path / "re" / p.name) as b:
            assert b.metadata.tags.get("subject") == a.metadata.tags["subject"]
            ca, cb = a.streams["imu"].read(), b.streams["imu"].read()
            assert np.array_equal(ca.data, cb.data) and np.allclose(ca.timestamps, cb.timestamps, atol=1e-9)
        sa = sorted((g.label, g.start, g.end) for g in read_annotations(p).segments("label"))
        sb = sorted((g.label, g.start, g.end) for g in read_annotations(tmp_path / "re" / p.name).segments("label"))
        assert [s[0] for s in sa] == [s[0] for s in sb] and np.allclose([s[1:] for s in sa], [s[1:] for s in sb], atol=1e-9)
    build_dataset(spec([str(tmp_path / "re" / "*.h5")], "imu", 1.0, 0.5), tmp_path / "re.h5")
    with Dataset.open(imu_corpus / "ds.h5") as a, Dataset.open(tmp_path / "re.h5") as b:
        xa, ya = a.arrays("imu")
        xb, yb = b.arrays("imu")
        assert np.array_equal(xa, xb) and [a.classes[i] for i in ya] == [b.classes[i] for i in yb]
        assert np.allclose(a.column("offset"), b.column("offset")) and a.split_names == b.split_names


def test_session_wav_clips_per_segment_reimport_to_the_same_labeled_samples(audio_corpus, tmp_path):
    sessions = sorted((audio_corpus / "s").glob("*.h5"))
    r = CliRunner().invoke(app, ["dataset", "export", *map(str, sessions), "-o", str(tmp_path / "w"), "--format", "wav"])
    assert r.exit_code == 0, r.output
    assert "wrote 9 file(s) (8 labeled window(s)/segment(s))" in r.stdout
    res = import_wav_folder(tmp_path / "w" / "clips", tmp_path / "re", index=tmp_path / "w" / "index.csv", gap=0.1)
    assert [p.name for p in res.sessions] == ["subject-ann.h5", "subject-bob.h5"]  # the subject tag came through the index
    for p in sessions:
        with Session.open(p) as a, Session.open(tmp_path / "re" / p.name) as b:
            assert np.array_equal(a.streams["audio"].read().data, b.streams["audio"].read().data)
        sa = sorted((g.label, g.start, g.end) for g in read_annotations(p).segments("label"))
        sb = sorted((g.label, g.start, g.end) for g in read_annotations(tmp_path / "re" / p.name).segments("label"))
        assert [s[0] for s in sa] == [s[0] for s in sb] and np.allclose([s[1:] for s in sa], [s[1:] for s in sb], atol=1e-9)


def test_export_errors_are_one_line(audio_corpus, imu_corpus, tmp_path):
    r = CliRunner().invoke(app, ["dataset", "export", str(audio_corpus / "ds.h5"), "-o", str(tmp_path / "x"), "--format", "xlsx"])
    assert r.exit_code == 2 and "--format must be one of ei-json, ei-csv, wav, npz" in r.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    r = CliRunner().invoke(app, ["dataset", "export", str(audio_corpus / "ds.h5"), "-o", str(tmp_path / "full"), "--format", "wav"])
    assert r.exit_code == 1 and "is not empty" in r.output
    r = CliRunner().invoke(app, ["dataset", "export", str(imu_corpus / "ds.h5"), str(audio_corpus / "ds.h5"), "-o", str(tmp_path / "y"), "--format", "wav"])
    assert r.exit_code == 1 and "one dataset file at a time" in r.output

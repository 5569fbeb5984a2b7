"""Building datasets from real (synthetic) session files with exact labels."""

from __future__ import annotations

import json
import tomllib

import h5py
import numpy as np
import pytest

from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.datasets.build import BuildError, build_dataset
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.session_task import FLAG_BACKGROUND, FLAG_FILLED
from sensorlab.datasets.spec import spec_from_dict
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.synthetic import T0
from sensorlab.session.writer import SessionWriter

from .conftest import SUBJECTS, label_session, spec_text


def spec_of(folder, **over):
    return spec_from_dict(tomllib.loads(spec_text(folder, **over)))


def test_window_counts_labels_and_samples(corpus, tmp_path):
    out = tmp_path / "ds.h5"
    res = build_dataset(spec_of(corpus), out)
    # per session: walk [2, 6) → starts 1.5..5.5 (9), wave [8, 11) → 7.5..10.5 (7), walk [14, 15) → 13.5..14.5 (3)
    assert res.windows == 19 * len(SUBJECTS) and res.sessions == len(SUBJECTS) and not res.skipped
    with Dataset.open(out) as ds:
        assert ds.classes == ["walk", "wave"]
        offs = ds.column("offset")[ds.column("session") == 0]
        assert offs.tolist() == [1.5 + 0.5 * i for i in range(9)] + [7.5 + 0.5 * i for i in range(7)] + [13.5, 14.0, 14.5]
        labels = [ds.classes[i] for i in ds.column("label")[:19]]
        assert labels == ["walk"] * 9 + ["wave"] * 7 + ["walk"] * 3
        assert ds.column("coverage")[0] == pytest.approx(0.5) and ds.column("coverage")[1] == pytest.approx(1.0)
        # the stored window is exactly the recorded samples from its start (no resampling at the source rate)
        x = ds.windows("imu", 0)
        with h5py.File(corpus / "a1.h5") as f:
            raw = f["streams/imu/data"][150:250]
        assert x.shape == (100, 6) and np.array_equal(x, raw)
        assert ds.streams["imu"]["resampler"] == "none" and ds.inputs[0]["name"] == "a1.h5"
        assert len(ds.inputs[0]["session_sha256"]) == 64 and len(ds.inputs[0]["labels_sha256"]) == 64
        assert ds.inputs[0]["tags"] == {"subject": "s01", "location": "lab"}
        spec = json.loads(ds.attrs["spec"])
        assert spec["window"] == {"length": 1.0, "hop": 0.5, "gaps": "drop"} and ds.attrs["sensorlab_version"]


def test_no_subject_on_two_sides_and_normalization_from_train(corpus, tmp_path):
    out = tmp_path / "ds.h5"
    build_dataset(spec_of(corpus), out)
    with Dataset.open(out) as ds:
        split, session = ds.column("split"), ds.column("session")
        by_subject: dict[str, set[int]] = {}
        for s, sp in zip(session.tolist(), split.tolist()):
            by_subject.setdefault(ds.inputs[s]["group"], set()).add(sp)
        assert all(len(v) == 1 for v in by_subject.values()) and len(by_subject) == 4
        x, _ = ds.arrays("imu", "train")
        st = ds.normalization("imu")
        assert st.mean == pytest.approx(x.reshape(-1, 6).astype(np.float64).mean(axis=0), abs=1e-6)
        assert st.apply(x).reshape(-1, 6).std(axis=0) == pytest.approx(np.ones(6), abs=1e-3)


def test_resampling_and_several_streams_on_one_clock(corpus, tmp_path):
    streams = '[[streams]]\nname = "imu"\nchannels = ["gz", "ax"]\nrate = 50\n[[streams]]\nname = "mic"\nrate = 2000\n[[streams]]\nname = "cam"\n'
    out = tmp_path / "ds.h5"
    build_dataset(spec_of(corpus, streams=streams), out)
    with Dataset.open(out) as ds:
        assert ds.streams["imu"]["channels"] == ["gz", "ax"] and ds.streams["mic"]["resampler"] == "resample_poly 1/4"
        n = len(ds)
        assert ds.windows("imu", slice(None)).shape == (n, 50, 2)
        assert ds.windows("mic", slice(None)).shape == (n, 2000, 1)
        assert ds.windows("cam", slice(None)).shape == (n, 5, 8, 8, 3)
        # the tone bursts (mic) and the IMU oscillation happen in the same windows: activity 1..5 s
        mic_rms = np.sqrt((ds.windows("mic", slice(0, 19)) ** 2).mean(axis=(1, 2)))
        offs = ds.column("offset")[:19]
        assert np.all(mic_rms[(offs >= 1.0) & (offs + 1 <= 5.0)] > 0.2) and np.all(mic_rms[(offs >= 7.5) & (offs <= 11.0)] < 0.05)  # bursts: 1-5 s, 13-17 s
        # the camera frames are the synthetic grey level: bright while active
        cam = ds.windows("cam", slice(0, 19)).astype(float).mean(axis=(1, 2, 3, 4))
        assert cam[offs == 2.0][0] > cam[offs == 9.0][0] + 50


def test_background_class_is_capped(corpus, tmp_path):
    out = tmp_path / "ds.h5"
    build_dataset(spec_of(corpus, **{"labels.unlabeled": '"background"', "labels.background_max_ratio": "0.5"}), out)
    with Dataset.open(out) as ds:
        assert ds.classes == ["walk", "wave", "background"]
        lab, flags = ds.column("label"), ds.column("flags")
        per = ds.column("session") == 0
        n_bg, n_lab = int((lab[per] == 2).sum()), int((lab[per] != 2).sum())
        assert n_lab == 19 and n_bg == 9  # floor(0.5 * 19)
        assert np.array_equal(lab == 2, (flags & FLAG_BACKGROUND) > 0)


def _session_with_hole(path, hole=(5.0, 5.5)):
    """A 10 s IMU session (100 Hz ramp) missing the samples in ``hole`` (seconds from start)."""
    w = SessionWriter(path)
    info = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, channel_names=("ax",), dtype="float32", sample_shape=(1,))
    w.on_start({"imu": info, "labels": StreamInfo("labels", StreamKind.EVENTS, IRREGULAR, dtype="str")},
               SessionMetadata(name=path.stem, tags={"subject": "g"}).stamped_start(T0))  # fmt: skip
    t = np.arange(1000) / 100
    keep = (t < hole[0]) | (t >= hole[1])
    w.on_chunk("imu", Chunk(t[keep, None].astype(np.float32), T0 + t[keep]))
    w.on_stop({"imu": {"count": int(keep.sum()), "first_time": T0, "last_time": T0 + 9.99}},
              {"end_host_time": T0 + 10, "duration": 10.0, "complete": True, "stop_reason": "stopped"})  # fmt: skip
    label_session(path, [("on", 0.0, 10.0)])
    return path


@pytest.mark.parametrize("rule", ["drop", "fill"])
def test_gap_rule(tmp_path, rule):
    d = tmp_path / "g"
    d.mkdir()
    _session_with_hole(d / "g1.h5")
    out = tmp_path / "ds.h5"
    res = build_dataset(spec_of(d, **{"window.gaps": f'"{rule}"', "split.by": '"session"', "split.fractions": "{ train = 1.0 }"}), out)
    with Dataset.open(out) as ds:
        offs, flags = ds.column("offset"), ds.column("flags")
        # windows [t, t + 1) holding a missing sample of the hole [5, 5.5): t = 4.5 and 5.0 (4.0 ends at the 4.99 s sample)
        touching = np.isin(offs, [4.5, 5.0])
        if rule == "drop":
            assert len(ds) == 17 and not touching.any()
            assert any("2 window(s) dropped because they touch a gap" in w for w in res.warnings)
        else:
            assert len(ds) == 19 and touching.sum() == 2 and np.array_equal((flags & FLAG_FILLED) > 0, touching)
            x = ds.windows("imu", np.flatnonzero(offs == 4.5)[0])[:, 0]
            assert x == pytest.approx(4.5 + np.arange(100) / 100, abs=1e-4)  # the hole is filled by the straight line
        assert any("gap" in w for w in res.warnings)


def test_damaged_session_is_named_and_skipped_or_stops_the_build(corpus, tmp_path):
    import shutil

    d = tmp_path / "c"
    shutil.copytree(corpus, d)
    good = (d / "b1.h5").read_bytes()
    (d / "b1.h5").write_bytes(good[: len(good) // 3])  # truncated
    out = tmp_path / "ds.h5"
    seen = []
    res = build_dataset(spec_of(d), out, on_progress=seen.append)
    assert [s["session"] for s in res.skipped] == ["b1.h5"] and "truncated" in res.skipped[0]["reason"]
    with Dataset.open(out) as ds:
        assert ds.skipped[0]["session"] == "b1.h5" and "b1.h5" not in [i["name"] for i in ds.inputs]
        assert len(ds) == 19 * (len(SUBJECTS) - 1)
    with pytest.raises(BuildError, match=r"b1\.h5: .*truncated.*strict"):
        build_dataset(spec_of(d), tmp_path / "strict.h5", strict=True)
    assert not (tmp_path / "strict.h5").exists() and not list(tmp_path.glob(".strict.h5*"))


def test_missing_stream_and_no_sessions_are_clear(corpus, tmp_path):
    with pytest.raises(BuildError, match="no session files match"):
        build_dataset(spec_of(tmp_path / "nothing"), tmp_path / "x.h5")
    with pytest.raises(BuildError, match=r"a1\.h5: no stream 'radar'"):
        build_dataset(spec_of(corpus, streams='[[streams]]\nname = "radar"\n'), tmp_path / "x.h5", strict=True)


def test_rebuild_is_bit_identical_with_one_or_two_workers(corpus, tmp_path):
    spec = spec_of(corpus, streams='[[streams]]\nname = "imu"\nrate = 50\n[[streams]]\nname = "mic"\nrate = 4000\n')
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    ra = build_dataset(spec, a)
    build_dataset(spec, b)
    rc = build_dataset(spec, c, workers=2)
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    assert ra.content_hash == rc.content_hash


def test_dask_local_cluster_gives_the_same_file(corpus, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = spec_of(corpus, streams='[[streams]]\nname = "imu"\nrate = 50\n')
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    build_dataset(spec, a)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        build_dataset(spec, b, scheduler=cluster.scheduler_address)  # an address, as --scheduler passes it
    assert a.read_bytes() == b.read_bytes()


def test_a_live_window_cut_from_a_ring_buffer_equals_the_stored_one(corpus, tmp_path):
    """One code path: live inference cuts the last seconds it holds with `cut_windows` and gets the dataset's window."""
    from sensorlab.datasets.resample import resample_margin
    from sensorlab.datasets.windows import cut_windows
    from sensorlab.session.reader import Session

    out = tmp_path / "ds.h5"
    build_dataset(spec_of(corpus, streams='[[streams]]\nname = "mic"\nrate = 2000\n'), out)
    with Dataset.open(out) as ds, Session.open(corpus / "a1.h5") as s:
        mic = s.streams["mic"]
        for i in (0, 5, 12):
            t = float(ds.column("start")[i])
            # a ring buffer holding 3.7 s up to a little after the window's end (the filter's margin)
            ring = mic.read(t + 1.0 + resample_margin(8000, 2000) - 3.7, t + 1.0 + resample_margin(8000, 2000))
            live = cut_windows(ring.timestamps, ring.data, 8000, 2000, np.array([t]), 1.0)
            assert np.max(np.abs(live.data[0] - ds.windows("mic", i))) <= 1e-5


def test_cancelling_a_build_leaves_nothing_behind(corpus, tmp_path):
    """The GUI cancels by closing the progress generator: no dataset, no temporary file."""
    from sensorlab.datasets.build import iter_build

    out = tmp_path / "ds.h5"
    gen = iter_build(spec_of(corpus), out)
    next(gen), next(gen)  # planned, one session written
    gen.close()
    assert list(tmp_path.iterdir()) == []


def test_include_keeps_only_the_named_labels(corpus, tmp_path):
    out = tmp_path / "ds.h5"
    build_dataset(spec_of(corpus, **{"labels.include": '["wave"]'}), out)
    with Dataset.open(out) as ds:
        assert ds.classes == ["wave"] and len(ds) == 7 * len(SUBJECTS)


def test_preview_counts_match_the_build(corpus, tmp_path):
    from sensorlab.datasets.build import preview_counts

    spec = spec_of(corpus, **{"labels.unlabeled": '"background"', "labels.background_max_ratio": "0.5"})
    counts = preview_counts(spec)
    assert counts["a1.h5"] == {"walk": 12, "wave": 7, "background": 9}
    out = tmp_path / "ds.h5"
    build_dataset(spec, out)
    with Dataset.open(out) as ds:
        assert len(ds) == sum(sum(c.values()) for c in counts.values())


def test_a_session_failing_while_its_windows_are_cut_is_named_and_skipped(corpus, tmp_path):
    """Damage found by a worker (not while planning) is reported the same way."""
    import shutil

    from sensorlab.datasets.build import iter_build

    d = tmp_path / "c"
    shutil.copytree(corpus, d)
    gen = iter_build(spec_of(d), tmp_path / "ds.h5")
    assert next(gen).done == 0  # planned: every session looked fine
    (d / "c1.h5").write_bytes(b"\0" * 4096)  # then one is overwritten before its turn
    steps = list(gen_progress(gen))
    bad = [p for p in steps if p.skipped]
    assert [p.session for p in bad] == ["c1.h5"] and "c1.h5" in bad[0].skipped
    with Dataset.open(tmp_path / "ds.h5") as ds:
        assert [s["session"] for s in ds.skipped] == ["c1.h5"] and len(ds) == 19 * (len(SUBJECTS) - 1)


def gen_progress(gen):
    while True:
        try:
            yield next(gen)
        except StopIteration:
            return


def test_a_session_with_only_suggestions_on_the_tier_says_to_review_them(corpus, tmp_path):
    """`sensorlab labels suggest` / `predict --suggest` put unreviewed suggestions on a tier; a
    build on that tier said "no labels on tier 'suggestions' (its tiers: suggestions)"."""
    import shutil

    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations, sidecar_path

    folder = tmp_path / "s"
    folder.mkdir()
    for name in ("a1", "b1"):
        shutil.copy(corpus / f"{name}.h5", folder / f"{name}.h5")
    label_session(folder / "a1.h5")
    pending = AnnotationSet([Segment(f"s{i}", "activity", "walk", T0 + a, T0 + a + 1.0, suggested=True) for i, a in enumerate((2.0, 8.0))])
    save_annotations(pending, sidecar_path(folder / "b1.h5"), session="b1.h5")
    res = build_dataset(spec_of(folder, **{"split.by": '"session"'}), tmp_path / "ds.h5")
    note = next(w for w in res.warnings if w.startswith("b1.h5:"))
    assert "2 unreviewed suggestion(s)" in note and "sensorlab label" in note

"""Spec files: defaults, aliases, session selection and one-line errors naming the key."""

from __future__ import annotations

import pytest

from sensorlab.datasets.spec import SpecError, load_spec, spec_from_dict, where_matches

GOOD = """
[sessions]
paths = ["data/*.h5"]
tags = ["subject=s01", "subject=s02", "location=lab"]
where = ["duration >= 30"]

[[streams]]
name = "imu"
channels = ["ax", "ay"]
rate = 50

[labels]
tier = "activity"
rule = "center"

[window]
length = 2.0
hop = 1.0
"""


def write(tmp_path, text):
    p = tmp_path / "spec.toml"
    p.write_text(text)
    return p


def test_good_spec_fills_defaults_and_accepts_aliases(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.labels.rule == "centre"
    assert spec.window.gaps == "drop" and spec.labels.unlabeled == "drop"
    assert spec.split.method == "holdout" and spec.split.by == "session"
    assert spec.streams[0].rate == 50 and spec.streams[0].channels == ["ax", "ay"]
    # The stored JSON never contains the spec file's folder (a rebuild elsewhere is identical).
    assert "base_dir" not in spec.to_json()


def test_session_selection_by_glob_tags_and_query(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    (tmp_path / "data").mkdir()
    for n in ("b.h5", "a.h5", "a.pyramid.h5", "notes.txt"):
        (tmp_path / "data" / n).write_bytes(b"")
    assert [p.name for p in spec.session_files()] == ["a.h5", "b.h5"]
    s = spec.sessions
    assert s.accepts({"subject": "s02", "location": "lab", "duration": 31.0})
    assert not s.accepts({"subject": "s03", "location": "lab", "duration": 31.0})  # not one of the subjects
    assert not s.accepts({"subject": "s01", "location": "home", "duration": 31.0})  # keys combine with AND
    assert not s.accepts({"subject": "s01", "location": "lab", "duration": 29.0})  # query
    assert where_matches("name ~ ^walk", {"name": "walk-3"})
    assert where_matches("room != b", {}) and not where_matches("room == b", {})


@pytest.mark.parametrize(
    "edit, key, words",
    [
        (("hop = 1.0", "hop = 0"), "window.hop", "greater than 0"),
        (("rule = \"center\"", "rule = \"middle\""), "labels.rule", "'majority'"),
        (("[window]", "[window]\nlenght = 3"), "window.lenght", "unknown key"),
        (("tier = \"activity\"\n", ""), "labels.tier", "missing"),
        (("tags = [\"subject=s01\", ", "tags = [\"s01\", "), "sessions.tags", "key=value"),
        (("where = [\"duration >= 30\"]", "where = [\"duration\"]"), "sessions.where", "key OP value"),
        (("[labels]", "[split]\nfractions = { train = 0.8, test = 0.3 }\n[labels]"), "split.fractions", "add up to 1"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(tmp_path, edit, key, words):
    with pytest.raises(SpecError) as e:
        load_spec(write(tmp_path, GOOD.replace(*edit)))
    msg = str(e.value)
    assert "\n" not in msg and f": {key}: " in msg and words in msg, msg


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "[window\nlength=1"))


def test_a_spec_glob_or_folder_names_recordings_not_their_predictions(tmp_path):
    """``run1.predictions.h5`` (model suggestions, `sensorlab predict`) is no session: a build
    from ``sessions/*.h5`` named it as skipped ("no stream 'imu'")."""
    import shutil

    from sensorlab.session.synthetic import write_synthetic_session

    folder = tmp_path / "sessions"
    folder.mkdir()
    run = folder / "run1.h5"
    write_synthetic_session(run, 3.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    shutil.copy(run, folder / "run1.predictions.h5")
    shutil.copy(run, folder / "run1.pyramid.h5")
    for paths in (["sessions/*.h5"], ["sessions"]):
        spec = spec_from_dict({"sessions": {"paths": paths}, "streams": [{"name": "imu"}], "labels": {"tier": "t"},
                               "window": {"length": 1.0, "hop": 0.5}}, tmp_path, "spec")  # fmt: skip
        assert [p.name for p in spec.session_files()] == ["run1.h5"], paths

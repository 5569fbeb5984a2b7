"""Point labels (a key tapped while recording) label no window unless the rule is any_overlap:
the preview and the build say so, by name, with the fix.

Found walking the quick start: claps tapped with key 1 while recording, a dataset with the
default rule (majority): the preview listed speech and background only, and nothing said
where the claps went."""

from __future__ import annotations

from sensorlab.datasets.build import build_dataset
from sensorlab.datasets.preview import count_preview
from sensorlab.datasets.spec import load_spec

from .conftest import label_session, small_session, spec_text

LABELS = [("clap", 2.0, 2.0), ("clap", 4.0, 4.0), ("walk", 5.0, 5.0), ("speech", 6.0, 9.0)]


def test_point_labels_left_out_by_the_rule_are_named_with_the_fix(tmp_path):
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    label_session(small_session(sessions / "live.h5", 12.0, subject="s01"), LABELS)
    spec_file = tmp_path / "claps.toml"
    spec_file.write_text(spec_text(sessions, **{"split.by": '"session"', "split.fractions": "{ train = 1.0 }"}))
    spec = load_spec(spec_file)
    preview = count_preview(spec)
    assert preview["classes"] == ["speech"]  # the claps label nothing under majority …
    expected = ("live.h5: 3 point label(s) on tier 'activity' (clap ×2, walk ×1) label no window under "
                "labels.rule = 'majority', as a point covers no time; use rule any_overlap, or label spans")
    assert expected in preview["notes"]  # … and the preview says so, with the fix
    assert expected in build_dataset(spec, tmp_path / "majority.h5").warnings
    # With the rule it names, the claps are windows and nothing is said.
    spec_file.write_text(spec_file.read_text().replace('rule = "majority"', 'rule = "any_overlap"'))
    spec = load_spec(spec_file)
    preview = count_preview(spec)
    assert "clap" in preview["classes"] and not [n for n in preview["notes"] if "point label" in n]

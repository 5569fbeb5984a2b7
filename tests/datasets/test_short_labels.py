"""Labels shorter than a window's min_coverage label no window: the build says so, by name.

A new user's claps (40 ms) in 0.5 s windows at min_coverage 0.3 built 0 windows, and the only
warnings blamed the streams' time and gaps."""

from __future__ import annotations

from sensorlab.datasets.build import build_dataset, preview_counts
from sensorlab.datasets.spec import load_spec

from .conftest import label_session, small_session, spec_text

CLAPS = [("clap", t, t + 0.04) for t in (2.0, 4.0, 6.0, 8.0)]


def test_labels_too_short_for_min_coverage_are_named_with_the_fix(tmp_path):
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for name, subject in (("a", "s01"), ("b", "s02")):
        label_session(small_session(sessions / f"{name}.h5", 12.0, subject=subject), CLAPS)
    spec_file = tmp_path / "claps.toml"
    spec_file.write_text(spec_text(sessions, **{"labels.min_coverage": "0.3", "window.length": "0.5", "window.hop": "0.25",
                                                "split.fractions": "{ train = 0.5, test = 0.5 }"}))  # fmt: skip
    spec = load_spec(spec_file)
    ds = build_dataset(spec, tmp_path / "claps.h5")
    notes = [w for w in ds.warnings if "shorter" in w]
    assert sorted(n.split(":")[0] for n in notes) == ["a.h5", "b.h5"], ds.warnings
    assert "(0.04 s at most) than labels.min_coverage × window.length (0.3 × 0.5 s = 0.15 s)" in notes[0]
    assert "use shorter windows or a lower min_coverage (e.g. 0.04)" in notes[0]
    assert all(c.get("clap", 0) == 0 for c in preview_counts(spec).values())
    # With the suggested min_coverage the claps label windows, and nothing is said.
    spec_file.write_text(spec_file.read_text().replace("min_coverage = 0.3", "min_coverage = 0.04"))
    spec = load_spec(spec_file)
    assert sum(c["clap"] for c in preview_counts(spec).values()) >= 8
    assert not [w for w in build_dataset(spec, tmp_path / "claps2.h5").warnings if "shorter" in w]

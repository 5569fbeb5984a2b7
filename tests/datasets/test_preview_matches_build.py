"""The preview and the build give the same split, and both say when a split ends up with no windows.

A user trusts the preview: it must put every session in the split the build puts it in, and a
split that was given sessions but gets 0 windows (labels outside the streams' time) must be
named in both, not shown as a silent empty column.
"""

from __future__ import annotations

import tomllib

from sensorlab.datasets.build import build_dataset, preview_counts
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.preview import count_preview
from sensorlab.datasets.spec import spec_from_dict

from .conftest import LABELS, label_session, small_session, spec_text


def test_a_split_whose_sessions_give_no_windows_is_named_in_preview_and_build(tmp_path):
    d = tmp_path / "sessions"
    d.mkdir()
    label_session(small_session(d / "good.h5"))
    # Labels after the 20 s recording ended: the split plan (from labeled time) gives this session
    # a split, yet no window of the stream can carry its labels.
    label_session(small_session(d / "late.h5"), labels=[(lab, a + 40, b + 40) for lab, a, b in LABELS])
    spec = spec_from_dict(tomllib.loads(spec_text(d, **{"split.by": '"session"', "split.fractions": "{ train = 0.5, val = 0.5 }"})))

    preview = count_preview(spec)
    per_session = preview_counts(spec)
    assert sum(per_session["late.h5"].values()) == 0 and sum(per_session["good.h5"].values()) > 0
    empty = preview["assignment"]["late.h5"]
    assert empty != preview["assignment"]["good.h5"]
    assert preview["counts"][preview["splits"].index(empty)].sum() == 0
    said = [n for n in preview["notes"] if f"split {empty!r} gets 0 windows" in n]
    assert said and "late.h5" in said[0]

    out = tmp_path / "ds.h5"
    res = build_dataset(spec, out)
    with Dataset.open(out) as ds:
        # Same split per session as the preview (no gaps here, so the same counts too).
        built = {inp["name"]: ds.split["assignment"][inp["group"]] for inp in ds.inputs}
        assert built == preview["assignment"]
        split_col = ds.column("split")
        for i, name in enumerate(ds.split_names):
            assert int((split_col == i).sum()) == int(preview["counts"][preview["splits"].index(name)].sum())
        assert any(f"split {empty!r} gets 0 windows" in w and "late.h5" in w for w in ds.warnings)
    assert any(f"split {empty!r} gets 0 windows" in w for w in res.warnings)

"""The labels written in an annotation lane never print over each other.

A model's suggestions at the start of a session: several spans that began in the pre-roll (or
before the visible left edge) all pinned their text to that edge ("? clap" printed over
"? background"), and short neighbouring spans or points wrote "? clap? clap" over each
other. A text that would overlap the one before it is left out (the selected segment's text
always shows); zooming in brings it back.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.session.synthetic import T0, write_synthetic_session


def _texts(view, tier: str) -> list[tuple[str, QRectF]]:
    """The texts an annotation lane shows: (text, scene rectangle) of each visible one."""
    out = []
    for sid, item in view.annotation_view.items.items():
        if view.annotations[sid].tier != tier:
            continue
        text = getattr(item, "text", None) or item.label
        if text.isVisible() and text.toPlainText():
            out.append((text.toPlainText(), text.sceneBoundingRect()))
    return sorted(out, key=lambda t: t[1].left())


def _overlaps(texts) -> list[tuple[str, str]]:
    return [(a, b) for i, (a, ra) in enumerate(texts) for b, rb in texts[i + 1:] if ra.intersected(rb).width() > 1]


@pytest.fixture
def suggested_session(tmp_path):
    path = write_synthetic_session(tmp_path / "run.h5", 12.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0,
                                   frame_shape=(8, 8), predictions=False)  # fmt: skip
    segs = [
        # began before the view's left edge (the pre-roll): both texts pinned to that edge
        Segment.create(SUGGESTION_TIER, "background", T0 + 0.2, T0 + 3.0, suggested=True, source="model:a"),
        Segment.create(SUGGESTION_TIER, "clap", T0 + 0.6, T0 + 2.2, suggested=True, source="model:b"),
        # short neighbours: each text is wider than its span
        *(Segment.create(SUGGESTION_TIER, "clap", T0 + 4.0 + 0.06 * i, T0 + 4.04 + 0.06 * i, suggested=True, source="model:b")
          for i in range(4)),
        # points close together
        *(Segment.create(SUGGESTION_TIER, "speech", T0 + 6.0 + 0.05 * i, T0 + 6.0 + 0.05 * i, suggested=True, source="model:c")
          for i in range(3)),
    ]
    save_annotations(AnnotationSet(segs), sidecar_path(path), session=path.name)
    return path


def test_suggestion_texts_do_not_overlap_at_the_start_or_between_neighbours(suggested_session, open_view, qtbot):
    v = open_view(suggested_session, labels=LabelSet.from_names(["background", "clap", "speech"]))
    tl = v.timeline
    tl.set_view(T0 + 1.0, T0 + 8.0)  # the two long spans started before the left edge
    qtbot.waitUntil(lambda: len([s for s in v.annotation_view.items if v.annotations[s].tier == SUGGESTION_TIER]) == 9, timeout=10_000)
    qtbot.waitUntil(lambda: _texts(v, SUGGESTION_TIER) and not _overlaps(_texts(v, SUGGESTION_TIER)), timeout=10_000)
    texts = _texts(v, SUGGESTION_TIER)
    shown = [t for t, _ in texts]
    assert shown[0] in ("? background", "? clap")  # one text at the left edge, not two on top of each other
    assert "? speech" in shown  # each group keeps its first text
    assert len(shown) < 9
    # The selected segment's text always shows, and nothing overlaps it.
    last = max((s for s in v.annotations if s.label == "speech"), key=lambda s: s.start)
    v.annotation_view.select(last.id)
    qtbot.waitUntil(lambda: _selected_text_shown(v, last.id), timeout=10_000)
    assert not _overlaps(_texts(v, SUGGESTION_TIER))
    # Zoomed in on the short neighbours, each has its text again.
    tl.set_view(T0 + 3.95, T0 + 4.25)
    qtbot.waitUntil(lambda: sum(t == "? clap" for t, _ in _texts(v, SUGGESTION_TIER)) == 4, timeout=10_000)
    assert not _overlaps(_texts(v, SUGGESTION_TIER))


def _selected_text_shown(v, sid: str) -> bool:
    item = v.annotation_view.items.get(sid)
    if item is None:
        return False
    text = getattr(item, "text", None) or item.label
    return text.isVisible()


def test_a_suggestion_starting_under_the_text_before_it_shows_its_own_text_inside_its_span(tmp_path, open_view, qtbot):
    """Found walking the loop: a trained model's suggestions overlap by a hop (windows of 1 s
    every 0.5 s), so "? speech" began under "? gesture"'s text and was never written at all,
    however wide its own span; now its text follows the one before, inside its span."""
    path = write_synthetic_session(tmp_path / "run.h5", 12.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0,
                                   frame_shape=(8, 8), predictions=False)  # fmt: skip
    segs = [Segment.create(SUGGESTION_TIER, label, T0 + t0, T0 + t1, suggested=True, source="model:m.onnx")
            for label, t0, t1 in (("gesture", 1.0, 3.0), ("speech", 1.5, 5.0), ("gesture", 5.0, 7.0))]  # fmt: skip
    save_annotations(AnnotationSet(segs), sidecar_path(path), session=path.name)
    v = open_view(path, labels=LabelSet.from_names(["gesture", "speech"]))
    v.timeline.set_view(T0 + 0.0, T0 + 20.0)  # zoomed out: "? gesture" reaches past 1.5 s
    qtbot.waitUntil(lambda: len(v.annotation_view.items) == 3, timeout=10_000)
    qtbot.waitUntil(lambda: [t for t, _ in _texts(v, SUGGESTION_TIER)] == ["? gesture", "? speech", "? gesture"], timeout=10_000)
    texts = _texts(v, SUGGESTION_TIER)
    assert not _overlaps(texts)
    speech = next(sid for sid, item in v.annotation_view.items.items() if v.annotations[sid].label == "speech")
    region = v.annotation_view.items[speech].sceneBoundingRect()
    assert region.left() <= texts[1][1].left() and texts[1][1].right() <= region.right() + 1  # inside its own span

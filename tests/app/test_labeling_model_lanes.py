"""Two models' suggestions that overlap in time: a click selects the one drawn where it lands.

Both models' suggestions used to share the ``suggestions`` lane. Where they overlapped, the
one added last was stacked on top, its hatching drawn over the other's, while the text of the
one underneath still showed through: a click on that text selected the other model's
suggestion, and A or R then accepted or rejected what the user had not pointed at. Each
source now has its own lane, named after it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.session.synthetic import T0, write_synthetic_session


def _suggestion(label: str, start: float, end: float, model: str) -> Segment:
    return Segment.create(SUGGESTION_TIER, label, T0 + start, T0 + end, suggested=True, source=f"model:{model}", score=0.9)


def _click_text(qtbot, v, seg_id: str, button=Qt.MouseButton.LeftButton) -> None:
    """A click in the middle of the text a suggestion shows, as a user clicks what they read."""
    item = v.annotation_view.items[seg_id]
    text = item.text
    assert text.isVisible()
    view = v.timeline
    pos = view.mapFromScene(text.mapToScene(text.boundingRect().center()))
    qtbot.mouseClick(view.viewport(), button, pos=QPoint(pos.x(), pos.y()))


def _item_under(v, seg_id: str) -> bool:
    """True when the topmost annotation item at the centre of ``seg_id``'s text is its own."""
    av = v.annotation_view
    text = av.items[seg_id].text
    scene_pos = text.mapToScene(text.boundingRect().center())
    owners = {item: sid for sid, item in av.items.items()}
    for item in v.timeline.scene().items(QPointF(scene_pos)):
        while item is not None and item not in owners:
            item = item.parentItem()
        if item is not None:
            return owners[item] == seg_id
    return False


def test_overlapping_suggestions_of_two_models_each_get_a_lane_and_a_click_picks_the_one_shown(tmp_path, open_view, qtbot):
    path = write_synthetic_session(tmp_path / "run.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_view(path, LabelSet.from_names(["clap", "speech"]))
    speech = _suggestion("speech", 4.0, 7.0, "b.onnx")
    clap = _suggestion("clap", 2.0, 5.0, "a.onnx")  # added last: it was stacked over the speech's text
    v.replace_suggestions("model:b.onnx", [speech], "Suggest 1 (b.onnx)")
    v.replace_suggestions("model:a.onnx", [clap], "Suggest 1 (a.onnx)")
    v.timeline.set_view(T0, T0 + 10.0)
    av = v.annotation_view
    qtbot.waitUntil(lambda: {speech.id, clap.id} <= set(av.items), timeout=10_000)

    # What is drawn where the speech's text is, is the speech: a click there selects it, and
    # hovering names its model.
    assert _item_under(v, speech.id) and _item_under(v, clap.id)
    assert "b.onnx" in av.items[speech.id].toolTip()
    _click_text(qtbot, v, speech.id)
    qtbot.waitUntil(lambda: av.selected == speech.id, timeout=5_000)
    assert "selected: ? speech from b.onnx" in v.position_label.text()

    # Each model's suggestions in a lane named after it (the full source in its tooltip).
    lanes = {lane.source: lane for lane in av.lanes.values() if lane.source}
    assert set(lanes) == {"model:a.onnx", "model:b.onnx"}
    for source, lane in lanes.items():
        axis = lane.plot.getAxis("left")
        name = source.removeprefix("model:")
        assert [t for _x, t in axis._tickLevels[0]] == [f"? {name}"] and source in axis.toolTip()
    assert av.items[speech.id].getViewBox() is lanes["model:b.onnx"].viewbox
    assert av.items[clap.id].getViewBox() is lanes["model:a.onnx"].viewbox

    # R rejects the suggestion clicked, not the other model's one under the same time.
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_R)
    assert speech.id not in v.annotations and clap.id in v.annotations
    assert v.annotations[clap.id].suggested

    # A click on the clap's text, inside the time the speech covered, then A accepts the clap.
    v.stack.undo()
    qtbot.waitUntil(lambda: speech.id in av.items and av.items[speech.id].text.isVisible(), timeout=5_000)
    _click_text(qtbot, v, clap.id)
    qtbot.waitUntil(lambda: av.selected == clap.id, timeout=5_000)
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_A)
    accepted = v.annotations[clap.id]
    assert (accepted.suggested, accepted.label, accepted.tier) == (False, "clap", v.tier)
    assert v.annotations[speech.id].suggested  # the other model's suggestion is untouched
    # The accepted one is a label: drawn in its tier's lane, no longer in the model's.
    qtbot.waitUntil(lambda: clap.id in av.items and av.items[clap.id].getViewBox() is av.lanes[v.tier].viewbox, timeout=5_000)

    # The mouse alone: a right click on the other model's suggestion (where the accepted clap
    # lay under it in time) selects that one and offers Accept / Reject for it.
    v.last_menu = None
    _click_text(qtbot, v, speech.id, Qt.MouseButton.RightButton)
    qtbot.waitUntil(lambda: v.last_menu is not None, timeout=5_000)
    assert av.selected == speech.id
    actions = {a.text(): a for a in v.last_menu.actions()}
    assert "Accept speech from b.onnx  (A)" in actions and "Reject  (R)" in actions
    actions["Reject  (R)"].trigger()
    v.last_menu.close()
    assert speech.id not in v.annotations and not v.annotations[clap.id].suggested

"""The Training tab's Accuracy plot read a single y tick, "0.5": with grid lines on, pyqtgraph
dropped the labels on the ends of its 0–1 range in the short plot. It reads 0, 0.5 and 1 at the
size the studio gives it, and the Loss plot keeps labels a user can read values from."""

from tests.app.rendered import axis_texts


def drawn_labels(plot) -> list[str]:
    """The left axis's tick texts as drawn, bottom to top."""
    return axis_texts(plot, "left")


def test_accuracy_axis_reads_0_to_1_and_loss_axis_has_labels(qtbot):
    from sensorlab.app.training.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(860, 290)  # the Training tab's plots in the studio at 1280×800: each plot ~60 px high
    curves.show()
    qtbot.waitExposed(curves)
    history = [{"epoch": e, "train_loss": loss, "val_loss": 0.687 - 0.002 * e, "train_acc": 0.5 + 0.01 * e, "val_acc": 0.5}
               for e, loss in ((1, 0.67), (2, 0.58), (3, 0.535))]  # fmt: skip
    curves.show_history(history)
    acc = curves.acc_plot
    qtbot.waitUntil(lambda: acc.getAxis("left").height() < 80 and drawn_labels(acc) == ["0", "0.5", "1"], timeout=10_000)
    low, high = acc.viewRange()[1]
    assert low <= 0 and high >= 1 and high - low < 1.2  # the whole 0–1 scale, not zoomed on the 0.5 the data sit at
    loss = [float(t) for t in drawn_labels(curves.loss_plot)]
    assert len(loss) >= 3 and loss == sorted(loss), loss  # values readable from the loss plot too
    assert loss[0] <= 0.55 and loss[-1] >= 0.65, loss  # the labels span the data's range

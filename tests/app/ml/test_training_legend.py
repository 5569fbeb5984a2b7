"""The Training tab's legends: readable whatever the curves do. In a corner of the plot, the
legend always covered some run's curves (validation loss rising at the top right when a model
overfits, accuracy low at the bottom right while it learns); it is now written in each plot's
title, above the curves. Checked on the pixels Qt renders."""

from __future__ import annotations

from sensorlab.app.training.curves import COLORS, TrainingCurves
from tests.app.rendered import pixels_with, shown


def test_legends_stay_off_the_curves_whatever_corner_they_reach(qtbot):
    curves = shown(qtbot, TrainingCurves(), 700, 420)
    # Overfitting: validation loss climbs to the top right; accuracy stays low, bottom right.
    history = [{"epoch": e, "train_loss": 1.0 - 0.05 * e, "val_loss": 0.5 + 0.05 * e,
                "train_acc": 0.05 + 0.01 * e, "val_acc": 0.02 + 0.005 * e} for e in range(1, 11)]  # fmt: skip
    curves.show_history(history)
    for plot in (curves.loss_plot, curves.acc_plot):
        assert plot.legend is None  # nothing drawn inside the plot over its curves
        title = plot.titleLabel
        assert "train" in title.text and "validation" in title.text
        box = plot.getViewBox().sceneBoundingRect()
        label = title.mapRectToScene(title.boundingRect())
        assert not label.intersects(box), (label, box)
    qtbot.waitUntil(lambda: not curves.grab().isNull(), timeout=5_000)
    image = curves.grab().toImage()
    for plot in (curves.loss_plot, curves.acc_plot):
        title = plot.titleLabel
        label = curves.mapFromScene(title.mapRectToScene(title.boundingRect())).boundingRect()
        # The legend shows both colours (its line samples and names) on the title row…
        for side in ("train", "val"):
            assert pixels_with(image, label, COLORS[side]) > 20, (plot.titleLabel.text, side)
        # …and the curves are whole in the plot: both colours drawn near the right edge, where
        # the legend used to sit.
        box = curves.mapFromScene(plot.getViewBox().sceneBoundingRect()).boundingRect()
        right = box.adjusted(int(box.width() * 0.8), 0, 0, 0)
        for side in ("train", "val"):
            assert pixels_with(image, right, COLORS[side]) > 10, (plot.titleLabel.text, side)

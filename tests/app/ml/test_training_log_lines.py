"""The Training tab's log shows each epoch line on one line in a 1280 x 800 studio. The log
column was a few pixels narrower than an epoch line of a default (40-epoch) run, so every line
wrapped mid-way ("... val acc" / "0.000") and the epochs no longer read as a column. Longer
prose (the run's notes) still wraps instead of needing a horizontal scroll."""

from __future__ import annotations

from sensorlab.app.training.tab import TrainingTab
from sensorlab.training.metrics import epoch_summary
from tests.app.rendered import shown


def _lines_of_last_block(view) -> int:
    return view.document().lastBlock().layout().lineCount()


def test_epoch_lines_fit_the_log_in_a_1280_px_studio(qtbot):
    tab = shown(qtbot, TrainingTab(), 1280, 740)  # the tab's share of a 1280 x 800 window
    for epoch in (1, 12, 40):
        tab._log(epoch_summary({"epoch": epoch, "epochs": 40, "train_loss": 1.4411, "train_acc": 0.214,
                                "val_loss": 1.5509, "val_acc": 0.875}))  # fmt: skip
        qtbot.waitUntil(lambda: tab.log_view.document().lastBlock().layout().lineCount() > 0)
        assert _lines_of_last_block(tab.log_view) == 1, f"epoch {epoch} wraps in a {tab.log_view.width()} px log"
    tab._log("no test metrics: the dataset's test split has no windows (give it sessions or groups); run folder "
             "/tmp/walkrun/home/datasets/runs/dataset-timeseries")  # fmt: skip
    qtbot.waitUntil(lambda: tab.log_view.document().lastBlock().layout().lineCount() > 0)
    assert _lines_of_last_block(tab.log_view) > 1  # prose wraps: no sideways scrolling to read it
    assert tab.plots.width() >= 760  # the curves keep most of the width

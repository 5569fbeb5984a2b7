"""The Training tab's live curves: loss and accuracy per epoch, train and validation.

The curves are fed from the ``epoch`` JSON lines of ``sensorlab train --json`` while a run
trains, or from a finished run's ``metrics.json`` history (Open run…); an epoch with no value
for a metric (written as ``null``) is a gap in its curve, not a point at 0.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

COLORS = {"train": "#42a5f5", "val": "#ffa726"}
NAMES = {"train": "train", "val": "validation"}


def legend_title(title: str) -> str:
    """A plot title followed by its legend, each curve's name in its colour after a line sample."""
    keys = "&nbsp;&nbsp;&nbsp;".join(f"<span style='color:{COLORS[k]}'>━━&nbsp;{NAMES[k]}</span>" for k in COLORS)
    return f"{title}&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;{keys}"


class EpochAxis(pg.AxisItem):
    """An epoch axis with ticks at whole numbers only: epochs are counted, and before the first
    epoch the empty plot's default 0–1 range was labelled 0.1, 0.2 … 0.9 (fractional epochs)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels = []
        for spacing, offset in super().tickSpacing(minVal, maxVal, size):
            spacing = max(1.0, float(spacing))  # 0.5, 0.2, 0.1 → 1; 2, 5, 10 … kept
            if all(spacing != s for s, _ in levels):
                levels.append((spacing, offset))
        return levels


class ValueAxis(pg.AxisItem):
    """A value axis that draws the labels on its range's ends. With grid lines on, pyqtgraph
    keeps an axis's texts inside the plot's height, so a label half past an end was dropped:
    in the Training tab's short Accuracy plot the 0–1 axis read only "0.5"."""

    #: Room past each end for half a tick label (the tick font is about 11 px high).
    EDGE = 8

    def boundingRect(self):
        return super().boundingRect().adjusted(0, -self.EDGE, 0, self.EDGE)


class TrainingCurves(pg.GraphicsLayoutWidget):
    """Two plots, Loss above Accuracy; ``curves`` maps ``train_loss``, ``val_loss``,
    ``train_acc`` and ``val_acc`` (the epoch events' keys) to their curve."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # The legend is written in each plot's title, above the curves: inside the plot it sat
        # in a corner that some run's curves always crossed (validation loss rising at the top
        # right when a model overfits, accuracy low at the bottom right while it learns).
        self.loss_plot = self.addPlot(title=legend_title("Loss"), axisItems={"bottom": EpochAxis("bottom"), "left": ValueAxis("left")})
        self.nextRow()
        self.acc_plot = self.addPlot(title=legend_title("Accuracy"), axisItems={"bottom": EpochAxis("bottom"), "left": ValueAxis("left")})
        # Accuracy is read against the whole 0–1 scale, not zoomed onto the data: labels at 0,
        # 0.5 and 1 (six labels 0.2 apart touched each other in the short plot), grid lines at tenths.
        self.acc_plot.setYRange(0, 1, padding=0.04)
        self.acc_plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(t / 10, "") for t in range(1, 10) if t != 5]])
        self.curves: dict[str, pg.PlotDataItem] = {}
        for plot, key in ((self.loss_plot, "loss"), (self.acc_plot, "acc")):
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setLabel("bottom", "epoch")
            # Before the first epoch: epochs 0 and 1 with room for their labels (at the bare 0–1
            # default range they sit on the edges and are not drawn); the data's range takes over.
            plot.setXRange(0, 1, padding=0.1)
            plot.enableAutoRange(x=True)
            for side in ("train", "val"):
                self.curves[f"{side}_{key}"] = plot.plot([], [], pen=pg.mkPen(COLORS[side], width=2), symbol="o", symbolSize=5,
                                                         symbolBrush=COLORS[side], name=NAMES[side])  # fmt: skip

    def show_history(self, history: list[dict]) -> None:
        """Draw every curve from ``history`` (epoch events or ``metrics.json`` entries); an
        empty history clears them."""
        x = [h["epoch"] for h in history]
        for key, curve in self.curves.items():
            curve.setData(x, [math.nan if h[key] is None else h[key] for h in history])  # None: no value that epoch


__all__ = ["COLORS", "NAMES", "EpochAxis", "TrainingCurves", "ValueAxis", "legend_title"]

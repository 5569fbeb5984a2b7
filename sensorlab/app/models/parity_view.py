"""The parity view: two builds of one model on the same live windows, or the host model
against the class a device reports, side by side.

It presents a `sensorlab.inference.parity.ParityTap` (the core runs the second build — e.g.
the int8 ONNX that goes on the microcontroller — on exactly the model inputs the first one
got, and counts the windows where they disagree) or a
`sensorlab.inference.device_parity.DeviceParity` (the host's predictions against the device's
own reported class; `app/models/device_parity.py` opens one). The view overlays both sides'
probability of one class on the studio's time axis (seconds from the live view's origin; a
device's class is 1 or 0), flags each divergent window with a red mark above the plot, shows
the counts, and lists the divergent windows; clicking one zooms the plot onto it and marks it,
and says what each side said and when (host clock), so it can be found in the recording
afterwards. **Show all** zooms back out.

It polls the comparison a few times a second (``update``: the tap runs on the model's thread,
a device comparison decides its windows here; `trace_arrays` and `report` are safe to read).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from sensorlab.app.common.painted_axis import no_si_prefix
from sensorlab.app.live.axis import TIME_AXIS_LABEL
from sensorlab.inference.parity import divergence_text, top_class


#: Refresh period, ms.
REFRESH_MS = 200
#: Pens: build A (the float model) solid, build B dashed on top, so agreement reads as one line.
PEN_A = pg.mkPen("#1565c0", width=2)
PEN_B = pg.mkPen("#ef6c00", width=2, style=Qt.PenStyle.DashLine)
#: Divergent windows: a red mark above the traces, a red band when one is picked.
FLAG = pg.mkBrush("#c62828")
FLAG_Y = 1.04
#: Fewer windows than this in view: each gets a mark (host ●, other side ×) besides the lines.
MARKS_BELOW = 120
#: Class names that mean "nothing happening": the default traced class is the first other one.
BACKGROUND = ("background", "_background_", "_silence_", "silence", "none", "idle")


class ParityView(QWidget):
    """Overlay of two sides' probabilities, the divergence count, and the divergent windows.

    ``tap``: a `ParityTap` or a `DeviceParity` (``update``, ``report``, ``summary``,
    ``trace_arrays``, ``error``). ``why_idle``: why no new windows come (its input lost or
    stopped; "" while they can), said after the counts; ``waiting``: what the first window
    needs, said until it comes."""

    def __init__(self, tap, name_a: str, name_b: str, labels: list[str], origin: float, parent=None,
                 why_idle: Callable[[], str] | None = None, waiting: str = ""):  # fmt: skip
        super().__init__(parent)
        self.tap, self.origin, self.labels = tap, origin, list(labels)
        self.why_idle, self.waiting = why_idle or (lambda: ""), waiting
        self.name_a, self.name_b = name_a, name_b
        self.klass = QComboBox()
        self.klass.addItems(self.labels)
        self.klass.setCurrentIndex(next((i for i, n in enumerate(self.labels) if n.lower() not in BACKGROUND), 0))
        self.klass.currentIndexChanged.connect(lambda _i: self.refresh(force=True))
        self.summary = QLabel("waiting for the first window…")
        self.summary.setObjectName("paritySummary")
        self.summary.setStyleSheet("font-weight: bold")
        self.plot = pg.PlotWidget()
        self.plot.setYRange(0.0, FLAG_Y, padding=0.02)
        self.plot.setMouseEnabled(x=True, y=False)  # probabilities: only time is worth zooming
        # Seconds on the studio's time axis, said as the live view says it, never "ks": the list
        # below gives the same numbers.
        self.plot.setLabel("bottom", TIME_AXIS_LABEL)
        no_si_prefix(self.plot.getAxis("bottom"))
        self.plot.setLabel("left", "P")
        # Which line is which, above the plot: a legend inside it covered the traces (the plot
        # is a short strip in the studio's bottom dock).
        self.key = QLabel(f"<span style='color:{PEN_A.color().name()}'>━━</span> {html.escape(name_a)} &nbsp; "
                          f"<span style='color:{PEN_B.color().name()}'>╍╍</span> {html.escape(name_b)}")  # fmt: skip
        # connect="finite": a NaN between windows far apart (skipped, a gap) breaks the line there.
        self.curve_a = self.plot.plot(pen=PEN_A, name=name_a, connect="finite")
        self.curve_b = self.plot.plot(pen=PEN_B, name=name_b, connect="finite")
        self._marks = False
        self.plot.getViewBox().sigXRangeChanged.connect(lambda *_a: self._mark_windows())
        self.flags = pg.ScatterPlotItem(symbol="t", size=9, pen=None, brush=FLAG)  # one per divergent window
        self.plot.addItem(self.flags)
        self.marker = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(198, 40, 40, 60))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.divergences = QListWidget()
        self.divergences.setMinimumWidth(360)
        self.divergences.setMaximumWidth(440)
        self.divergences.setWordWrap(True)
        self.divergences.currentRowChanged.connect(self._show)
        self.detail = QLabel("click a divergent window to zoom onto it")
        self.detail.setWordWrap(True)
        self.detail.setMaximumWidth(440)
        self.show_all = QPushButton("Show all")
        self.show_all.setToolTip("Zoom back out to every window compared")
        self.show_all.clicked.connect(self._show_all)

        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.key)
        head.addWidget(QLabel("class"))
        head.addWidget(self.klass)
        head.addWidget(self.show_all)
        side = QVBoxLayout()
        side.addWidget(QLabel("Divergent windows"))
        side.addWidget(self.divergences, 1)
        side.addWidget(self.detail)
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(head)
        layout.addLayout(body, 1)

        self._shown = (-1, -1, "")  # (windows, divergent, why idle) last drawn
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # -- drawing --------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        r = self.tap.update()
        idle = self.why_idle()
        if (r.windows, r.divergent, idle) == self._shown and not force and not self.tap.error:
            return
        self._shown = (r.windows, r.divergent, idle)
        k = self.klass.currentIndex()
        ends, pa, pb = self.tap.trace_arrays()
        if len(ends) and 0 <= k < pa.shape[1]:
            x, ya, yb = ends - self.origin, pa[:, k], pb[:, k]
            if len(x) > 2:
                step = np.diff(x)
                cut = np.flatnonzero(step > 1.5 * np.median(step)) + 1
                x, ya, yb = (np.insert(v, cut, np.nan) for v in (x, ya, yb))
            self.curve_a.setData(x, ya)
            self.curve_b.setData(x, yb)
        text = self.tap.summary()
        if self.tap.error:
            text += f" — {self.tap.error}"
        elif idle:  # "0 of 0" (or counts that stopped) with no reason: the input was lost, say so
            text += f" — {idle}"
        elif not r.windows and self.waiting:
            text += f" — {self.waiting}"
        self.summary.setText(text)
        kept = r.kept
        if len(kept) != self.divergences.count() or force:
            row = self.divergences.currentRow()
            self.divergences.blockSignals(True)
            self.divergences.clear()
            for d in kept:
                when = self._span(d)
                if d.note:  # what each side said is a sentence: on its own line, so the list stays narrow
                    item = QListWidgetItem(f"{when}\n    {d.note}")
                    item.setToolTip(d.note)
                else:
                    scores, tops = divergence_text(self.labels, k, d.a, d.b)
                    # which class each build put on top on its own line, as a note is: the list stays narrow
                    item = QListWidgetItem(f"{when}   {scores}" + (f"\n    top: {tops}" if tops else ""))
                self.divergences.addItem(item)
            self.divergences.setCurrentRow(row)
            self.divergences.blockSignals(False)
            self.flags.setData([(d.start + d.end) / 2 - self.origin for d in kept], [FLAG_Y] * len(kept))

    def _show(self, row: int) -> None:
        kept = self.tap.report.kept
        if not 0 <= row < len(kept):
            return
        d = kept[row]
        said = d.note or f"{self.name_a} says {top_class(self.labels, d.a)}, {self.name_b} says {top_class(self.labels, d.b)}"
        self.detail.setText(f"window {self._span(d)} (host clock {d.start:.3f}–{d.end:.3f} s): {said}")
        self.marker.setRegion((d.start - self.origin, d.end - self.origin))
        self.marker.show()
        span = max(2.0, 5 * (d.end - d.start))
        self.plot.setXRange(d.start - self.origin - span, d.end - self.origin + span, padding=0)

    def _span(self, d) -> str:
        """A window's start – end in the plot's time axis units (seconds from the origin)."""
        return f"{d.start - self.origin:.3f} – {d.end - self.origin:.3f} s"

    def _mark_windows(self) -> None:
        """A mark per window as well as the line when few windows are in view (zoomed onto a
        divergence, each window reads on its own); zoomed out, marks would hide the traces."""
        x, _y = self.curve_a.getData()
        x0, x1 = self.plot.getViewBox().viewRange()[0]
        step = float(np.nanmedian(np.diff(x))) if x is not None and len(x) > 2 else 0.0
        marks = step > 0 and (x1 - x0) / step < MARKS_BELOW
        if marks != self._marks:
            self._marks = marks
            self.curve_a.setSymbol("o" if marks else None)
            self.curve_a.setSymbolSize(5)
            self.curve_a.setSymbolPen(None)
            self.curve_a.setSymbolBrush("#1565c0")
            self.curve_b.setSymbol("x" if marks else None)
            self.curve_b.setSymbolSize(8)
            self.curve_b.setSymbolPen("#ef6c00")

    def _show_all(self) -> None:
        self.marker.hide()
        self.divergences.clearSelection()
        self.plot.enableAutoRange(axis="x")

    def shutdown(self) -> None:
        self.timer.stop()
        getattr(self.tap, "detach", lambda: None)()  # a device comparison stops listening


def why_idle(window, streams: list[tuple[str, str]]) -> Callable[[], str]:
    """For `ParityView`: why the comparison gets no new windows, from the studio's stream health:
    ``streams`` are (stream, how to name it) in the order that explains most (a model's input
    first, as its loss explains the model's silence); "" while they are all running."""
    acq = window.acquisition

    def state() -> str:
        if window.acquisition is not acq or acq is None:
            return "the devices were closed: nothing more is compared (load the model and compare again)"
        for name, said in streams:
            st = acq.stats.get(name)
            if st is None:
                continue
            if st.lost:
                return f"{said} is lost ({st.lost_reason}): no new window until it is back"
            if st.error:
                return f"{said} stopped: {st.error}"
        return ""

    return state


def compare_builds(window, stream: str | None = None, path: str | Path | None = None) -> ParityView | None:
    """The studio window's **Compare builds…**: pick a running model's predictions stream
    (asked when several run) and a second build of it (asked unless ``path``; default folder:
    the model's, where ``sensorlab quantize`` writes ``model.int8.onnx``), attach the core's
    `ParityTap` (`Studio.compare_builds`) and show a **Parity** tab. Problems go to the
    window's banner in one line; nothing else changes."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from sensorlab.app.models import MODEL_FILES
    from sensorlab.inference import InferenceProcessor, ModelError

    acq = window.acquisition
    procs = [p for p in (acq.processors if acq is not None else []) if isinstance(p, InferenceProcessor) and p.model is not None]
    if not procs:
        window.show_error("no model is running: load one (Load model…) before comparing builds")
        return None
    if stream is None:
        names = [p.name for p in procs]
        stream = names[0]
        if len(names) > 1:
            stream, ok = QInputDialog.getItem(window, "Compare builds", "Predictions of", names, 0, False)
            if not ok:
                return None
    proc = next((p for p in procs if p.name == stream), procs[0])
    assert proc.model is not None
    if path is None:
        # A .tflite build too: the filter offered only .onnx, hiding the int8 TFLite build beside it.
        path, _ = QFileDialog.getOpenFileName(window, f"Second build of {proc.model.path.name}", str(proc.model.path.parent), MODEL_FILES)
        if not path:
            return None
    try:
        tap = window.studio.compare_builds(stream, path)
    except (ModelError, ValueError) as e:
        window.show_error(str(e))
        return None
    origin = window.live_view.origin if window.live_view is not None else 0.0
    idle = why_idle(window, [(proc.input, f"its input {proc.input}"), (stream, f"the model's {stream}")])
    waiting = f"waiting for the first full window of {proc.input} ({proc.model.mapping.window:g} s)"
    view = ParityView(tap, proc.model.path.name, Path(path).name, proc.model.labels, origin, why_idle=idle, waiting=waiting)
    tabs = window.bottom_tabs
    tabs.addTab(view, f"Parity: {Path(path).name}")
    tabs.setCurrentWidget(view)
    window.post(f"comparing {proc.model.path.name} with {Path(path).name} on the windows of {stream}")
    return view


__all__ = ["ParityView", "compare_builds", "why_idle"]

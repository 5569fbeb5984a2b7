"""`HealthView`: stream health at a glance, refreshed twice a second from the core's counters.

Per stream: measured vs nominal rate, samples, dropped samples, driver overflows, parse errors,
age of the newest data and a status. A stream that stalls (no data for a few sample periods),
never delivers, or whose device failed turns red and says why. Below the table: the recorder's
writer-queue fill and bytes written, disk space left in the sessions folder, and CPU use.

The view only reads `StreamStats` (plain counters written by device threads; reading them from
the GUI thread is safe, see `StreamStats`) and the recorder's properties; it keeps no copy of
them beyond what it needs to compute a rate.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import psutil
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import StreamInfo, StreamKind

#: Refresh period of the health table, milliseconds.
HEALTH_MS = 500
#: A regular stream is stalled after this many nominal sample periods without data…
STALL_PERIODS = 20
#: …but never sooner than this (seconds; covers PulseAudio's and USB's bursty delivery).
STALL_MIN_S = 1.0
#: Irregular streams (camera on a URL) are stalled after this long; event streams never are.
STALL_IRREGULAR_S = 3.0
#: Disk space below which the disk figure turns red, bytes.
LOW_DISK = 1 << 30

COLUMNS = ("Stream", "Kind", "Rate / nominal", "Samples", "Dropped", "Overflows", "Parse errors", "Last data", "Status")
RED = QColor("#b3261e")
OK = QColor("#1e4620")


@dataclass
class _RateMeter:
    """Measured rate over the stream's own timestamps, not over arrival: audio arrives in
    20 ms hand-overs and serial in USB bursts, so counting arrivals per second jitters by
    percents while the sample clock is steady."""

    t: float  # host time of the last update
    samples: int
    last_time: float  # timestamp of the newest sample at the last update
    rate: float = float("nan")

    def update(self, t: float, samples: int, last_time: float) -> float:
        if t - self.t >= 0.9:
            span = last_time - self.last_time
            if span > 0 and samples > self.samples:
                inst = (samples - self.samples) / span
                self.rate = inst if math.isnan(self.rate) else 0.5 * self.rate + 0.5 * inst
            elif samples == self.samples:
                self.rate = 0.0  # nothing new for a whole window
            self.t, self.samples, self.last_time = t, samples, last_time
        return self.rate


def stall_after(info: StreamInfo) -> float | None:
    """Seconds without data after which ``info``'s stream counts as stalled (None: never)."""
    if info.kind is StreamKind.EVENTS:
        return None
    if not info.regular:
        return STALL_IRREGULAR_S
    return max(STALL_MIN_S, STALL_PERIODS / info.nominal_rate)


class HealthView(QWidget):
    """Health table of ``acquisition``'s streams plus recorder, disk and CPU figures."""

    def __init__(self, acquisition, sessions_folder: str | Path = ".", parent=None):
        super().__init__(parent)
        self.acquisition = acquisition
        self.sessions_folder = Path(sessions_folder)
        self.recorder = None
        self._started = now()
        self._meters: dict[str, _RateMeter] = {}
        self._failures: dict[str, str] = {}  # stream -> message from the failed signal
        self._status: dict[str, tuple[bool, str]] = {}
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # prime: the first call always returns 0

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.queue_bar = QProgressBar()
        self.queue_bar.setRange(0, 100)
        self.queue_bar.setFormat("writer queue %p%")
        self.queue_bar.setFixedWidth(200)
        self.written = QLabel("not recording")
        self.disk = QLabel()
        self.cpu = QLabel()
        footer = QHBoxLayout()
        for w in (self.queue_bar, self.written, self.disk, self.cpu):
            footer.addWidget(w)
        footer.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

        self._build_rows()
        self.timer = QTimer(self)
        self.timer.setInterval(HEALTH_MS)
        self.timer.timeout.connect(self.update_now)
        self.timer.start()
        self.update_now()

    # -- public --------------------------------------------------------------------------
    def set_recorder(self, recorder) -> None:
        """Show this recorder's queue and bytes (None when not recording)."""
        self.recorder = recorder
        self.update_now()

    def set_sessions_folder(self, folder: str | Path) -> None:
        self.sessions_folder = Path(folder)

    def mark_failed(self, stream: str, message: str) -> None:
        """A stream (or, with ``stream == ""``, a whole device) broke (GUI-thread slot)."""
        self._failures[stream] = message
        self.update_now()

    def is_red(self, stream: str) -> bool:
        return not self._status.get(stream, (True, ""))[0]

    def status_text(self, stream: str) -> str:
        return self._status.get(stream, (True, ""))[1]

    def update_now(self) -> None:
        t = now()
        stats = self.acquisition.stats
        for row, (name, info) in enumerate(self._rows):
            st = stats.get(name)
            if st is None:  # a device that never opened
                self._set_row(row, name, info, None, t)
                continue
            meter = self._meters.setdefault(name, _RateMeter(t, st.samples, st.last_time))
            rate = meter.update(t, st.samples, st.last_time)
            self._set_row(row, name, info, st, t, rate)
        self._update_footer()

    # -- internals -----------------------------------------------------------------------
    def _build_rows(self) -> None:
        self._rows: list[tuple[str, StreamInfo | None]] = list(self.acquisition.streams.items())
        self._rows += [(device, None) for device in self.acquisition.errors]
        self.table.setRowCount(len(self._rows))
        for row in range(len(self._rows)):
            for col in range(len(COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(""))

    def _diagnose(self, name: str, info: StreamInfo | None, st, t: float) -> tuple[bool, str]:
        if info is None:
            return False, f"could not open: {self.acquisition.errors.get(name, '')}"
        if st.error:
            return False, f"failed: {st.error}"
        if name in self._failures:
            return False, f"failed: {self._failures[name]}"
        limit = stall_after(info)
        if limit is not None:
            if st.samples == 0:
                if t - self._started > max(limit, 3.0):
                    return False, f"no data since start ({t - self._started:.0f} s)"
                return True, "waiting for data"
            silent = t - st.last_arrival
            if silent > limit:
                return False, f"stalled: no data for {silent:.1f} s"
        if st.overflows:
            return True, f"ok ({st.overflows} overflows)"
        return True, "ok"

    def _set_row(self, row: int, name: str, info: StreamInfo | None, st, t: float, rate: float = math.nan) -> None:
        ok, why = self._diagnose(name, info, st, t)
        self._status[name] = (ok, why)
        if info is None:
            cells = [name, "–", "–", "–", "–", "–", "–", "–", why]
        else:
            nominal = f"{info.nominal_rate:g}" if info.regular else "irregular"
            measured = "–" if math.isnan(rate) else (f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}")
            age = "–" if st.samples == 0 else f"{max(0.0, t - st.last_arrival):.2f} s ago"
            cells = [name, info.kind.value, f"{measured} / {nominal} Hz", f"{st.samples:,}", f"{st.dropped:,}",
                     f"{st.overflows:,}", f"{st.parse_errors:,}", age, why]
        for col, text in enumerate(cells):
            item = self.table.item(row, col)
            item.setText(text)
            if col == len(COLUMNS) - 1:
                item.setToolTip(text)
            warn = col in (4, 5, 6) and text not in ("0", "–")
            if not ok:
                item.setBackground(QBrush(RED))
                item.setForeground(QBrush(QColor("white")))
            elif col == len(COLUMNS) - 1:
                item.setBackground(QBrush(OK))
                item.setForeground(QBrush(QColor("#c8e6c9")))
            else:
                item.setBackground(QBrush())
                item.setForeground(QBrush(QColor("#ffb74d")) if warn else QBrush())
            item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if 2 <= col <= 7 else Qt.AlignmentFlag.AlignLeft))

    def _update_footer(self) -> None:
        rec = self.recorder
        if rec is None:
            self.queue_bar.setValue(0)
            self.written.setText("not recording")
        else:
            fill = float(getattr(rec, "queue_fill", 0.0) or 0.0)
            self.queue_bar.setValue(int(round(100 * fill)))
            self.queue_bar.setStyleSheet("QProgressBar::chunk{background:#b3261e}" if fill > 0.8 else "")
            mb = float(getattr(rec, "bytes_written", 0) or 0) / 1e6
            self.written.setText(f"written {mb:,.1f} MB in {float(getattr(rec, 'elapsed', 0.0) or 0.0):.0f} s")
        folder = self.sessions_folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free = shutil.disk_usage(folder).free
            self.disk.setText(f"disk: {free / 1e9:,.1f} GB free")
            self.disk.setStyleSheet("color:#ef5350;font-weight:bold" if free < LOW_DISK else "")
        except OSError as e:
            self.disk.setText(f"disk: ? ({e.strerror})")
        self.cpu.setText(f"CPU: {self._process.cpu_percent(None):.0f} % (of {psutil.cpu_count()} cores × 100)")

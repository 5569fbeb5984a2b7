"""`HealthView`: stream health at a glance, refreshed twice a second from the core's counters.

Per stream: measured vs nominal rate, samples, dropped samples, driver overflows, parse errors,
age of the newest data and a status. A stream that stalls (no data for a few sample periods),
never delivers, or whose device failed turns red and says why. A stream that *lost* data in the
last `LOSS_WINDOW_S` seconds (dropped samples, driver overflows, parse errors) turns amber, or
red when more than `LOSS_RED` of its samples were lost, and says how many of which.

The counters run since the devices opened; while recording they run since Record, computed
the way the recorder computes what the file stores (`Recorder.counters`), and the caption
above the table says which. Below the table: the recorder's writer-queue fill and bytes
written, disk space left in the sessions folder, and CPU use.

The view only reads `StreamStats` (plain counters written by device threads; reading them from
the GUI thread is safe, see `StreamStats`) and the recorder's properties; it keeps no copy of
them beyond what it needs to compute a rate.
"""

from __future__ import annotations

import math
import shutil
from collections import deque
from datetime import datetime
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
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import StreamInfo
from sensorlab.app.live.health_rates import HostPauses, RateMeter, model_health, silence, stall_after

#: Refresh period of the health table, milliseconds.
HEALTH_MS = 500
#: Disk space below which the disk figure turns red, bytes.
LOW_DISK = 1 << 30

#: Losses (dropped samples, overflows, parse errors) within this many seconds colour a row.
LOSS_WINDOW_S = 5.0
#: Fraction of a stream's samples lost within `LOSS_WINDOW_S` above which its row is red, not amber.
LOSS_RED = 0.05

#: Pixels a cell needs beside its text (margins of the item and the grid).
CELL_PADDING = 12
COLUMNS = ("Stream", "Kind", "Rate / nominal", "Samples", "Dropped", "Overflows", "Parse errors", "Last data", "Status")
#: Status levels, worst last.
OK_LEVEL, WARN_LEVEL, BAD_LEVEL = 0, 1, 2
RED = QColor("#b3261e")
AMBER = QColor("#8a5a00")
OK = QColor("#1e4620")


class HealthView(QWidget):
    """Health table of ``acquisition``'s streams plus recorder, disk and CPU figures."""

    def __init__(self, acquisition, sessions_folder: str | Path = ".", parent=None):
        super().__init__(parent)
        self.acquisition = acquisition
        self.sessions_folder = Path(sessions_folder)
        self.recorder = None
        self._started = now()
        self._meters: dict[str, RateMeter] = {}
        self._failures: dict[str, str] = {}  # stream -> message from the failed signal
        self._status: dict[str, tuple[int, str]] = {}  # stream -> (level, text)
        self._back: dict[str, tuple[int, float]] = {}  # stream -> (reconnects, host time first seen back)
        # Per stream: (host time, samples, dropped, overflows, parse errors) over the last
        # LOSS_WINDOW_S, device counters; seeded with zeros so losses before the first
        # refresh count as recent.
        self._history: dict[str, deque[tuple[float, int, int, int, int]]] = {}
        self._opened_at = datetime.now()
        self._recording_since: datetime | None = None
        self._pauses = HostPauses(HEALTH_MS / 1000)  # this process's own pauses: not the devices' stalls
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # prime: the first call always returns 0

        self.basis = QLabel()
        self.basis.setStyleSheet("color:#9aa0a6")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # Fitted to the contents only when a text outgrows its column (`_fit_columns`):
        # ResizeToContents re-measured every row of a column on each cell change, twice a
        # second, which was most of the cost of the table (docs/PERFORMANCE.md).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._cells: dict[tuple[int, int], tuple] = {}  # (row, col) -> what the item shows

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
        # Which streams have a problem, beside the caption (no extra height): the rows are
        # listed first, but a panel dragged down to a row or two still shows the count.
        self.alert = QLabel(styleSheet="color:#ef5350;font-weight:bold")
        self.alert.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long text must not widen the window
        caption = QHBoxLayout()
        caption.addWidget(self.basis)
        caption.addWidget(self.alert, 1)
        layout.addLayout(caption)
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
        """Show this recorder's queue and bytes, and count since Record (None: not recording)."""
        self.recorder = recorder
        self._recording_since = datetime.now() if recorder is not None else None
        self.update_now()

    def set_sessions_folder(self, folder: str | Path) -> None:
        self.sessions_folder = Path(folder)

    def mark_failed(self, stream: str, message: str) -> None:
        """A stream (or, with ``stream == ""``, a whole device) broke (GUI-thread slot)."""
        self._failures[stream] = message
        self.update_now()

    def level(self, stream: str) -> int:
        """`OK_LEVEL`, `WARN_LEVEL` (amber: recent losses) or `BAD_LEVEL` (red)."""
        return self._status.get(stream, (OK_LEVEL, ""))[0]

    def is_red(self, stream: str) -> bool:
        return self.level(stream) == BAD_LEVEL

    def is_amber(self, stream: str) -> bool:
        return self.level(stream) == WARN_LEVEL

    def status_text(self, stream: str) -> str:
        return self._status.get(stream, (OK_LEVEL, ""))[1]

    def shown_counts(self, stream: str) -> dict[str, int]:
        """The counters the table shows for ``stream`` (since Record while recording)."""
        st = self._shown_stats().get(stream)
        if st is None:
            return {}
        return {"samples": st.samples, "dropped": st.dropped, "overflows": st.overflows, "parse_errors": st.parse_errors}

    def update_now(self) -> None:
        t = now()
        self._pauses.note(t)
        stats = self.acquisition.stats
        if list(self.acquisition.streams) != [n for n, info in self._rows if info is not None]:
            self._build_rows()  # a processor (a model) added, removed or renamed streams while running
        shown = self._shown_stats()
        rows = []
        for name, info in self._rows:
            st = stats.get(name)
            if st is None:  # a device that never opened
                rows.append(self._row(name, info, None, None, t))
                continue
            meter = self._meters.setdefault(name, RateMeter(t, st.samples, st.last_time))
            rate = meter.update(t, st.samples, st.last_time)
            rows.append(self._row(name, info, st, shown.get(name, st), t, rate))
        # Problems first (red, then amber; otherwise the rig's order): the studio's bottom panel
        # shows two or three rows, and a lost device listed last sat below its edge, unseen.
        rows.sort(key=lambda r: -r[0])
        for row, (level, cells) in enumerate(rows):
            self._paint_row(row, level, cells)
        self._update_alert()
        self._fit_columns()
        self._update_basis()
        self._update_footer()

    # -- internals -----------------------------------------------------------------------
    def _build_rows(self) -> None:
        self._rows: list[tuple[str, StreamInfo | None]] = list(self.acquisition.streams.items())
        self._rows += [(device, None) for device in self.acquisition.errors]
        self.table.setRowCount(len(self._rows))
        self._cells.clear()
        for row in range(len(self._rows)):
            for col in range(len(COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(""))

    def _shown_stats(self) -> dict:
        """Counters to show: since Record while recording, else the devices' own (since open)."""
        rec = self.recorder
        counters = getattr(rec, "counters", None) if rec is not None else None
        return counters() if counters is not None else {}

    def _recent_losses(self, name: str, st, t: float) -> tuple[int, int, int, int]:
        """(samples, dropped, overflows, parse errors) of ``name`` in the last `LOSS_WINDOW_S`."""
        hist = self._history.setdefault(name, deque([(self._started, 0, 0, 0, 0)]))
        hist.append((t, st.samples, st.dropped, st.overflows, st.parse_errors))
        while len(hist) > 2 and hist[1][0] <= t - LOSS_WINDOW_S:
            hist.popleft()
        old = hist[0]
        return st.samples - old[1], st.dropped - old[2], st.overflows - old[3], st.parse_errors - old[4]

    def _diagnose(self, name: str, info: StreamInfo | None, st, t: float) -> tuple[int, str]:
        if info is None:
            return BAD_LEVEL, f"could not open: {self.acquisition.errors.get(name, '')}"
        if st.error:
            return BAD_LEVEL, f"failed: {st.error}"
        if name in self._failures:
            return BAD_LEVEL, f"failed: {self._failures[name]}"
        if st.lost:  # the source reopens the port by itself when the device is back
            return BAD_LEVEL, f"device lost {max(0.0, t - st.lost_at):.0f} s ago, reconnecting… ({st.lost_reason})"
        if st.problem:  # every line thrown away, and why (a rig that does not fit the board)
            return BAD_LEVEL, f"nothing stored: {st.problem}"
        back = f"reconnected {st.reconnects}×" if st.reconnects else ""
        if getattr(st, "duplicates", 0):  # a firmware re-sending packets: dropped, never stored twice
            back = "; ".join(x for x in (back, f"{st.duplicates:,} repeated packet(s) dropped") if x)
        limit = stall_after(info)
        if limit is not None:
            if st.samples == 0:
                if t - self._started > max(limit, 3.0):
                    return BAD_LEVEL, f"no data since start ({t - self._started:.0f} s)"
                return OK_LEVEL, "waiting for data"
            if st.reconnects:
                count, since = self._back.get(name, (0, t))
                if count != st.reconnects:
                    self._back[name] = (st.reconnects, t)
                    since = t
                if st.last_arrival < since:
                    # Back, nothing new yet: the source holds a reopened device's first second
                    # (its clock fit's warm-up). Silence since before the outage is no stall.
                    if t - since > max(limit, 3.0):
                        return BAD_LEVEL, f"no data since it reconnected ({t - since:.0f} s)"
                    return OK_LEVEL, f"reconnected {st.reconnects}×, waiting for data"
            silent = silence(t, st.last_arrival, self._pauses)
            if silent > limit:
                return BAD_LEVEL, f"stalled: no data for {silent:.1f} s"
        samples, dropped, overflows, parse_errors = self._recent_losses(name, st, t)
        parts = [f"{n:,} {what}" for n, what in ((dropped, "dropped"), (parse_errors, "parse errors"), (overflows, "overflows")) if n]
        if parts:
            # Overflows are driver events (each loses an unknown amount), not samples.
            lost = dropped + parse_errors
            level = BAD_LEVEL if lost > LOSS_RED * max(1, samples + lost) else WARN_LEVEL
            return level, f"losing data: {', '.join(parts)} in the last {LOSS_WINDOW_S:g} s" + (f"; {back}" if back else "")
        earlier = st.dropped + st.overflows + st.parse_errors
        notes = [n for n in (f"no losses in the last {LOSS_WINDOW_S:g} s" if earlier else "", back) if n]
        return OK_LEVEL, (f"ok ({'; '.join(notes)})" if notes else "ok") + model_health(st)

    def _row(self, name: str, info: StreamInfo | None, st, shown, t: float, rate: float = math.nan) -> tuple[int, list[str]]:
        """``(level, cell texts)`` of one stream's row; its status is kept for `status_text`."""
        level, why = self._diagnose(name, info, st, t)
        self._status[name] = (level, why)
        if info is None:
            cells = [name, "–", "–", "–", "–", "–", "–", "–", why]
        else:
            nominal = f"{info.nominal_rate:g}" if info.regular else "irregular"
            measured = "–" if math.isnan(rate) else (f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}")
            age = "–" if st.samples == 0 else f"{max(0.0, t - st.last_arrival):.2f} s ago"
            cells = [name, info.kind.value, f"{measured} / {nominal} Hz", f"{shown.samples:,}", f"{shown.dropped:,}",
                     f"{shown.overflows:,}", f"{shown.parse_errors:,}", age, why]
        return level, cells

    def _paint_row(self, row: int, level: int, cells: list[str]) -> None:
        for col, text in enumerate(cells):
            warn = col in (4, 5, 6) and text not in ("0", "–")
            # Only what changed is handed to Qt: every setter notifies the view, which
            # re-lays out and repaints the cell.
            key = (text, level, warn)
            if self._cells.get((row, col)) == key:
                continue
            old = self._cells.get((row, col))
            self._cells[(row, col)] = key
            item = self.table.item(row, col)
            item.setText(text)
            if col == len(COLUMNS) - 1:
                item.setToolTip(text)
            # Refit when the text is wider than its column in pixels (digits and commas differ in
            # width, so a count of characters let "1,021,448" be clipped after "999,999").
            if self.table.fontMetrics().horizontalAdvance(text) + CELL_PADDING > self.table.columnWidth(col):
                self._refit = True
            if old is not None and old[1:] == key[1:]:
                continue  # same colours and alignment as before
            if level != OK_LEVEL:
                item.setBackground(QBrush(RED if level == BAD_LEVEL else AMBER))
                item.setForeground(QBrush(QColor("white")))
            elif col == len(COLUMNS) - 1:
                item.setBackground(QBrush(OK))
                item.setForeground(QBrush(QColor("#c8e6c9")))
            else:
                item.setBackground(QBrush())
                item.setForeground(QBrush(QColor("#ffb74d")) if warn else QBrush())
            item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if 2 <= col <= 7 else Qt.AlignmentFlag.AlignLeft))

    def _fit_columns(self) -> None:
        """Fit the columns to their texts once a text got longer than any shown before.

        The last column (Status) then fills the rest of the row, or is as wide as its text when
        that is wider: `resizeColumnsToContents` also shrank it to its text, and the header's
        stretch of the last section is only redone when the table is resized, so an empty band
        was left right of it."""
        if getattr(self, "_refit", True):
            self._refit = False
            last = len(COLUMNS) - 1
            for col in range(last):
                self.table.resizeColumnToContents(col)
                # Qt fits to less than text + `CELL_PADDING`: each changed cell refitted them all.
                widest = max((self.table.fontMetrics().horizontalAdvance(key[0]) for (_r, c), key in self._cells.items() if c == col), default=0.0)
                if widest + CELL_PADDING > self.table.columnWidth(col):
                    self.table.setColumnWidth(col, int(math.ceil(widest + CELL_PADDING)))
            others = sum(self.table.columnWidth(col) for col in range(last))
            room = self.table.viewport().width() - others
            self.table.setColumnWidth(last, max(self.table.sizeHintForColumn(last), room))

    def _update_alert(self) -> None:
        bad = [name for name, (level, _why) in self._status.items() if level == BAD_LEVEL]
        warn = [name for name, (level, _why) in self._status.items() if level == WARN_LEVEL]
        parts = [f"{len(names)} {what}: {', '.join(names)}" for names, what in ((bad, "failing"), (warn, "losing data")) if names]
        text = ("⚠ " + "; ".join(parts) + " (listed first)") if parts else ""
        if self.alert.text() != text:
            self.alert.setText(text)
            self.alert.setToolTip("\n".join(f"{n}: {self._status[n][1]}" for n in bad + warn))

    def _update_basis(self) -> None:
        if self._recording_since is not None and self._shown_stats():
            self.basis.setText(f"Counts since Record ({self._recording_since:%H:%M:%S}), as the session file stores them "
                               f"(pre-roll not counted). Status: losses in the last {LOSS_WINDOW_S:g} s.")  # fmt: skip
        else:
            self.basis.setText(f"Counts since the devices opened ({self._opened_at:%H:%M:%S}); "
                               f"Record restarts them. Status: losses in the last {LOSS_WINDOW_S:g} s.")  # fmt: skip

    def _set_queue(self, percent: int, style: str) -> None:
        # Only changes: setting a style sheet, even the same one, re-polishes the bar (~2 ms on
        # the GUI thread, twice a second).
        if self.queue_bar.value() != percent:
            # `setValue` repaints at once when the text changes, flushing the window's backing
            # store mid-frame (0.9–1.5 ms): held, the new value is painted with the next frame.
            bar = self.queue_bar
            bar.setUpdatesEnabled(False)
            bar.setValue(percent)
            bar.setUpdatesEnabled(True)  # schedules the bar's repaint
        if self.queue_bar.styleSheet() != style:
            self.queue_bar.setStyleSheet(style)

    def _update_footer(self) -> None:
        rec = self.recorder
        if rec is None:
            self._set_queue(0, "")
            self.written.setText("not recording")
        else:
            fill = float(getattr(rec, "queue_fill", 0.0) or 0.0)
            self._set_queue(int(round(100 * fill)), "QProgressBar::chunk{background:#b3261e}" if fill > 0.8 else "")
            mb = float(getattr(rec, "bytes_written", 0) or 0) / 1e6
            self.written.setText(f"written {mb:,.1f} MB in {float(getattr(rec, 'elapsed', 0.0) or 0.0):.0f} s")
        folder = self.sessions_folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free = shutil.disk_usage(folder).free
            self.disk.setText(f"disk: {free / 1e9:,.1f} GB free")
            style = "color:#ef5350;font-weight:bold" if free < LOW_DISK else ""
            if self.disk.styleSheet() != style:
                self.disk.setStyleSheet(style)
        except OSError as e:
            self.disk.setText(f"disk: ? ({e.strerror})")
        self.cpu.setText(f"CPU: {self._process.cpu_percent(None):.0f} % (of {psutil.cpu_count()} cores × 100)")

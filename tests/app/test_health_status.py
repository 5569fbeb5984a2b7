"""Stream health: losing samples is never "ok", and the counts say what they count.

The sources are the core's `SignalSource`: a stall with ``stall_drops`` skips the samples it
missed and counts them as dropped, as a device with sequence numbers does.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.app.live.health_view import AMBER, RED
from sensorlab.session.reader import Session

from .conftest import small_rig


def _status_colour(w, stream: str):
    hv = w.health_view
    row = next(r for r in range(hv.table.rowCount()) if hv.table.item(r, 0).text() == stream)
    return hv.table.item(row, hv.table.columnCount() - 1).background().color()


def test_dropped_samples_turn_the_row_red_with_the_reason_then_it_recovers(qtbot, make_window):
    w = make_window()
    hv = w.health_view
    qtbot.waitUntil(lambda: hv.status_text("imu") == "ok", timeout=5000)
    w.acquisition.source_of("imu").stall(0.5)  # 500 Hz: ~250 samples skipped, under the stall limit
    qtbot.waitUntil(lambda: w.acquisition.stats["imu"].dropped > 0, timeout=5000)
    qtbot.waitUntil(lambda: hv.is_red("imu"), timeout=5000)
    text = hv.status_text("imu")
    assert text.startswith("losing data: ") and "dropped in the last 5 s" in text
    assert _status_colour(w, "imu") == RED
    assert not hv.is_red("mic") and hv.status_text("mic") == "ok"
    # Without new losses for 5 s the row is green again, saying there were losses before.
    qtbot.waitUntil(lambda: hv.level("imu") == 0, timeout=15_000)
    assert hv.status_text("imu") == "ok (no losses in the last 5 s)"


def test_a_few_lost_samples_turn_the_row_amber(qtbot, make_window):
    fast = SignalSource("fast", "timeseries", rate=1000, shape=(2,), chunk_size=10)
    w = make_window([*small_rig(), fast])
    hv = w.health_view
    qtbot.waitUntil(lambda: hv.status_text("fast") == "ok" and w.acquisition.stats["fast"].samples > 5000, timeout=15_000)
    fast.stall(0.02)  # ~20 of the 5000 samples of the last 5 s
    # Wait for the losses to be reported, not for any change: on a loaded machine the row can
    # first turn red for a true second without data ("stalled"), then say what was lost.
    qtbot.waitUntil(lambda: "dropped in the last 5 s" in hv.status_text("fast"), timeout=10_000)
    assert hv.is_amber("fast") and _status_colour(w, "fast") == AMBER, hv.status_text("fast")


def test_counts_run_since_record_and_match_the_file(qtbot, make_window):
    w = make_window()
    hv = w.health_view
    imu = w.acquisition.source_of("imu")
    assert "since the devices opened" in hv.basis.text()
    imu.stall(0.3)  # losses before Record: not part of the recording
    qtbot.waitUntil(lambda: w.acquisition.stats["imu"].dropped > 0, timeout=5000)
    before = w.acquisition.stats["imu"].dropped
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        w.record_button.click()
    qtbot.waitUntil(lambda: "since Record" in hv.basis.text(), timeout=5000)
    imu.stall(0.2)
    qtbot.waitUntil(lambda: w.acquisition.stats["imu"].dropped > before, timeout=5000)
    qtbot.wait(300)  # let the stall end and the table refresh
    hv.update_now()
    shown = hv.shown_counts("imu")
    assert 0 < shown["dropped"] == w.acquisition.stats["imu"].dropped - before
    row = next(r for r in range(hv.table.rowCount()) if hv.table.item(r, 0).text() == "imu")
    assert hv.table.item(row, 4).text() == f"{shown['dropped']:,}"
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000) as stopped:
        qtbot.mouseClick(w.record_button, Qt.MouseButton.LeftButton)
    with Session.open(stopped.args[0]) as s:
        assert s.streams["imu"].stats.dropped == shown["dropped"]
    qtbot.waitUntil(lambda: "since the devices opened" in hv.basis.text(), timeout=5000)


def test_every_count_fits_its_column_as_the_numbers_grow(qtbot, make_window):
    # Seen under Xvfb: "1,021,44…" in Samples. Columns were refitted only when a text got longer
    # in characters, but digits and commas differ in width, and a fit made before the table was
    # laid out was never redone.
    # 250 kHz: a million samples in 4 s (at 50 kHz the test waited 20 s for them).
    fast = SignalSource("fast", "timeseries", rate=250_000, shape=(1,), chunk_size=2500)
    w = make_window([*small_rig(), fast])
    w.resize(1200, 800)
    w.show()
    hv = w.health_view
    table = hv.table

    def clipped() -> list[str]:
        fm = table.fontMetrics()
        out = []
        for r in range(table.rowCount()):
            for c in range(table.columnCount() - 1):  # the last column stretches and shows a tooltip
                text = table.item(r, c).text()
                if fm.horizontalAdvance(text) > table.columnWidth(c) - 6:
                    out.append(f"{table.item(r, 0).text()}/{table.horizontalHeaderItem(c).text()}: {text!r} in {table.columnWidth(c)} px")
        return out

    seen = set()
    for target in (1_000, 10_000, 100_000, 1_000_000):
        qtbot.waitUntil(lambda: w.acquisition.stats["fast"].samples > target, timeout=60_000)
        hv.update_now()
        seen.update(clipped())
    assert not seen, seen


def _status_gap(table) -> int:
    """Pixels between the Status column's right edge and the viewport's (> 0: a grey gap)."""
    last = table.columnCount() - 1
    header = table.horizontalHeader()
    right = header.sectionViewportPosition(last) + header.sectionSize(last)
    return table.viewport().width() - right


def test_the_status_column_reaches_the_tables_right_edge(qtbot, make_window):
    # Seen under Xvfb: since the columns are fitted to their texts, the fit also shrank the
    # last column to its text ("ok"), leaving an empty band right of the Status column.
    w = make_window()
    w.resize(1400, 800)
    hv = w.health_view
    table = hv.table
    qtbot.waitUntil(lambda: hv.status_text("imu") == "ok", timeout=5000)
    qtbot.waitUntil(lambda: table.viewport().width() > 600, timeout=5000)
    hv._refit = True  # the fit that runs whenever a text outgrows its column
    hv.update_now()
    assert _status_gap(table) <= 0
    # A longer status, then a shorter one, and a wider window: still flush with the edge.
    w.acquisition.source_of("imu").stall(0.3)
    qtbot.waitUntil(lambda: hv.status_text("imu").startswith("losing data"), timeout=5000)
    hv.update_now()
    assert _status_gap(table) <= 0
    w.resize(1800, 800)
    qtbot.waitUntil(lambda: table.viewport().width() > 1000, timeout=5000)
    hv._refit = True
    hv.update_now()
    assert _status_gap(table) <= 0


def test_a_text_board_whose_lines_do_not_fit_the_rig_says_how_to_fix_it(qtbot, make_window):
    """Real pty: the rig names six channels, the board prints three. The row names the
    mismatch and the fix instead of only "no data since start"."""
    from sensorlab.acquisition.emulated.mcu_text import TextIMU
    from sensorlab.acquisition.serial.port import SerialSource

    with TextIMU(rate=200.0, header=False, baudrate=115200) as mcu:
        mcu._flash(("ax", "ay", "az"))
        esp = SerialSource(mcu.port, 115200, name="esp", nominal_rate=200, channel_names=["ax", "ay", "az", "gx", "gy", "gz"])
        w = make_window([SignalSource("imu", "timeseries", rate=500, shape=(6,), chunk_size=10), esp])
        hv = w.health_view
        qtbot.waitUntil(lambda: "lines of 3 values" in hv.status_text("esp"), timeout=15_000)
        text = hv.status_text("esp")
        w.close()
    assert hv.is_red("esp") and text.startswith("nothing stored: ") and "`channels`" in text, text


def test_columns_are_refitted_only_when_a_text_outgrows_its_column(qtbot, make_window):
    # Qt fitted a column to less than its text plus the padding the check asks for, so every
    # changed cell ("0.02 s ago", the rates) refitted every column, twice a second.
    w = make_window()
    w.resize(1400, 800)
    w.show()
    hv = w.health_view
    table = hv.table
    qtbot.waitUntil(lambda: hv.status_text("imu") == "ok", timeout=5000)
    hv.update_now()
    fits = []
    resize = table.resizeColumnToContents
    table.resizeColumnToContents = lambda col: (fits.append(col), resize(col))
    for _ in range(4):
        before = dict(hv._cells)
        qtbot.waitUntil(lambda: w.acquisition.stats["imu"].samples > 0, timeout=5000)
        qtbot.wait(150)
        hv.update_now()
        changed = [key for key, cell in hv._cells.items() if before.get(key) != cell]
        assert changed  # counts and ages move
    # A count gaining a digit may still ask for a refit (once or twice here); before, each of
    # the four updates refitted all eight columns.
    assert len(fits) <= 2 * (table.columnCount() - 1), fits
    fm = table.fontMetrics()
    for r in range(table.rowCount()):
        for c in range(table.columnCount() - 1):
            assert fm.horizontalAdvance(table.item(r, c).text()) <= table.columnWidth(c) - 6


def test_the_writer_queue_bar_is_repainted_with_its_new_value(qtbot, make_window):
    # Its value is set with its repaint held (an immediate repaint flushed the whole window in
    # the middle of a frame); the bar must still be painted again, showing the new percent.
    from PySide6.QtCore import QEvent, QObject

    w = make_window()
    w.show()
    hv = w.health_view
    bar = hv.queue_bar
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=5000)

    class Paints(QObject):
        n = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                self.n += 1
            return False

    paints = Paints()
    bar.installEventFilter(paints)
    qtbot.wait(50)
    for percent in (37, 64, 0):
        n = paints.n
        hv._set_queue(percent, "")
        assert bar.text() == f"writer queue {percent}%"
        qtbot.waitUntil(lambda: paints.n > n, timeout=5000)
    bar.removeEventFilter(paints)


def test_repeated_packets_dropped_are_said_in_the_status(qtbot, make_window):
    """A binary board re-sending packets (same seq, same bytes): the copies are dropped, never
    stored twice, and the row says how many (the parser counts them into `duplicates`)."""
    w = make_window()
    hv = w.health_view
    qtbot.waitUntil(lambda: hv.status_text("imu") == "ok", timeout=5000)
    w.acquisition.stats["imu"].duplicates = 3
    qtbot.waitUntil(lambda: "3 repeated packet(s) dropped" in hv.status_text("imu"), timeout=5000)
    assert hv.level("imu") == 0, "repeats dropped lose nothing: no warning colour"

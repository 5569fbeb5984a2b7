"""The studio's bottom panel shows two or three rows of the health table: a stream that fails
is listed first and named beside the caption, so it is never below the panel's edge, unseen."""

from __future__ import annotations

from sensorlab.acquisition.emulated.signal import SignalSource

from .conftest import small_rig


def test_a_failing_stream_listed_last_in_the_rig_is_shown_first(qtbot, make_window):
    more = [SignalSource(f"emg{i}", "timeseries", rate=50, shape=(1,), chunk_size=5) for i in range(6)]
    last = SignalSource("board", "timeseries", rate=200, shape=(3,), chunk_size=4)
    w = make_window([*small_rig(), *more, last])  # 1200 × 800, the panel as the studio opens it
    hv, table = w.health_view, w.health_view.table
    qtbot.waitUntil(lambda: hv.status_text("board") == "ok", timeout=10_000)
    names = lambda: [table.item(r, 0).text() for r in range(table.rowCount())]  # noqa: E731
    rig = ["imu", "mic", "cam", "radar", "markers", *(m.name for m in more), "board"]
    assert names()[-1] == "board"  # the rig's order while it is well
    last.stall(60)
    qtbot.waitUntil(lambda: hv.is_red("board") and names().index("board") < 2, timeout=10_000)
    # Seen where the user looks: the row is inside the table's visible area (a busy machine may
    # stall another stream too: red rows keep the rig's order among themselves), and the
    # caption line above the table names the stream.
    viewport = table.viewport().rect()
    assert viewport.contains(table.visualItemRect(table.item(names().index("board"), 0)))
    assert not viewport.contains(table.visualItemRect(table.item(table.rowCount() - 1, 0)))  # the panel is that small
    assert "failing: " in hv.alert.text() and "board" in hv.alert.text() and hv.alert.isVisible()
    assert table.item(names().index("board"), table.columnCount() - 1).text() == hv.status_text("board")
    assert [n for n in names() if hv.level(n) == 0] == [n for n in rig if hv.level(n) == 0]  # the others keep their order

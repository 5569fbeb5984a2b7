"""Several serial boards lost at once (a USB hub unplugged) are one banner line naming every
board, not a line per board stacked up as "+1 more" with all but the newest hidden; as each
board comes back the line drops it, and it leaves when the last one is back."""

from __future__ import annotations

from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.serial.port import SerialSource


def test_two_boards_lost_at_once_are_one_banner_line_cleared_board_by_board(qtbot, make_window, tmp_path):
    links = [str(tmp_path / "ttyHAND"), str(tmp_path / "ttyWRIST")]
    boards = [BinaryIMU(rate=500.0, name=name, link_path=link).start() for name, link in zip(("hand", "wrist"), links)]
    try:
        w = make_window([SerialSource(link, b.baudrate, "binary") for link, b in zip(links, boards)])
        qtbot.waitUntil(lambda: all(w.acquisition.stats[n].samples > 0 for n in ("hand", "wrist")), timeout=15_000)
        assert w.banner.isHidden()
        for b in boards:
            b.vanish()
        qtbot.waitUntil(lambda: all(w.acquisition.stats[n].lost for n in ("hand", "wrist")), timeout=15_000)
        qtbot.waitUntil(lambda: w.banner.isVisible() and "hand" in w.banner.text() and "wrist" in w.banner.text(), timeout=10_000)
        shown = w.banner.text()
        assert "more" not in shown, shown  # one line, nothing hidden under it
        assert len(w.banner.shown) == 1, w.banner.shown
        assert "2 boards lost" in shown and links[0] in shown and links[1] in shown, shown
        assert "plug them back in" in shown, shown
        boards[0].replug()
        qtbot.waitUntil(lambda: not w.acquisition.stats["hand"].lost, timeout=20_000)
        qtbot.waitUntil(lambda: "hand" not in w.banner.text(), timeout=5_000)
        shown = w.banner.text()
        assert w.banner.isVisible() and "wrist" in shown and links[1] in shown and "plug it back in" in shown, shown
        assert len(w.banner.shown) == 1, w.banner.shown
        boards[1].replug()
        qtbot.waitUntil(lambda: not w.banner.isVisible(), timeout=20_000)
    finally:
        for b in boards:
            b.close()

"""The studio's red banner clears itself when it can: a notice (an action that could not be
done) after a while, a condition (a device down) once it is resolved; a condition still true
stays, with a close button.

Before, every message stayed until clicked, also after the devices were opened again."""

from __future__ import annotations

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import SourceBase, SourceError
from sensorlab.app.models.parity_view import compare_builds

from .conftest import small_rig


class _BusyPort(SourceBase):
    def __init__(self):
        super().__init__(description="serial /dev/ttyUSB9")

    def _open(self):
        raise SourceError("/dev/ttyUSB9 is busy: another program (a serial monitor?) has it open; close it and retry")


def _messages(w) -> list[str]:
    return [w.messages.item(i).text() for i in range(w.messages.count())]


def test_a_notice_leaves_by_itself_and_a_device_down_stays_until_the_devices_are_reopened(qtbot, make_window):
    w = make_window([*small_rig(), SignalSource("tilt", "timeseries", rate=200, shape=(2,), vanish_after=100)])
    banner = w.banner
    # The stream that stopped is a condition: it stays, with a close button.
    qtbot.waitUntil(lambda: "tilt stopped" in banner.text(), timeout=10_000)
    assert banner.close_button.isVisible() and "stays while this is true" in banner.toolTip()

    # A notice on top (an action that could not be done) leaves after its time; the stream
    # that is still down shows again rather than being hidden with it.
    banner.notice_ms = 300
    assert compare_builds(w) is None
    assert "no model is running" in banner.text() and "+1 more" in banner.text()
    assert "leaves by itself" in banner.toolTip()
    qtbot.waitUntil(lambda: "tilt stopped" in banner.text(), timeout=5_000)
    assert banner.isVisible() and banner.shown == [t for t in banner.shown if "tilt" in t]
    assert any("no model is running" in m for m in _messages(w))  # kept in the Messages tab

    # Devices opened again (a rig without the failing device): the condition is resolved and
    # the banner clears by itself; a device that fails to open there is the new condition.
    w.open_sources([*small_rig(), _BusyPort()])
    qtbot.waitUntil(lambda: "busy" in banner.text() and not any("tilt" in t for t in banner.shown), timeout=10_000)
    assert banner.shown == [t for t in banner.shown if "busy" in t] and len(banner.shown) == 1
    # Still true: it stays until the user closes it.
    banner.close_button.click()
    assert not banner.isVisible() and banner.shown == []

    # A notice alone clears the banner when it leaves.
    assert compare_builds(w) is None
    assert banner.isVisible()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5_000)

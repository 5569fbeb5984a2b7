"""The studio's "Clap to sync" dialog: listens to the running rig, shows offsets, stores them with the next session."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.emulated.world import World
from sensorlab.session import sync_offsets
from sensorlab.session.reader import Session
from sensorlab.studio import Studio

CAM_LATE, IMU_EARLY = 0.037, -0.012


def _clap_rig(world: World) -> list[SignalSource]:
    """Mic, IMU and camera seeing the world's claps; the camera's stamps 37 ms late, the IMU's 12 ms early."""

    def frames(t):
        level = np.array([world.brightness(x - CAM_LATE) for x in t])
        return np.broadcast_to(level.astype(np.uint8)[:, None, None, None], (len(t), 24, 32, 3)).copy()

    return [
        SignalSource("mic", "audio", rate=8000, shape=(1,), chunk_size=160, pattern=lambda t: world.audio(t)),
        SignalSource("imu", rate=1000, shape=(6,), chunk_size=10, pattern=lambda t: world.imu(t - IMU_EARLY),
                     channel_names=("ax", "ay", "az", "gx", "gy", "gz")),
        SignalSource("cam", "video", rate=30, shape=(24, 32, 3), chunk_size=1, pattern=frames),
    ]  # fmt: skip


@pytest.fixture
def studio():
    s = Studio(preroll=0)
    s.open(_clap_rig(World(t0=now(), clap_interval=1.37)))
    yield s
    s.close()


def test_dialog_measures_offsets_and_stores_them_with_the_next_session(qtbot, studio, tmp_path):
    from sensorlab.app.studio.sync_wizard import ClapSyncDialog

    dlg = ClapSyncDialog(studio, seconds=4.0)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.use_button.isEnabled()
    assert dlg.intro.text().startswith(f"Press {dlg.start_button.text()}, then clap")  # the button as it reads
    qtbot.mouseClick(dlg.start_button, qtbot_button())
    assert "listening" in dlg.result.toPlainText()
    qtbot.waitUntil(lambda: dlg.use_button.isEnabled(), timeout=60_000)
    cal = dlg.calibration
    assert cal.reference == "mic"
    assert abs(cal.offsets["cam"].offset - CAM_LATE) < 1 / 30
    assert abs(cal.offsets["imu"].offset - IMU_EARLY) < 1 / 1000
    text = dlg.result.toPlainText()
    assert "cam: +" in text and "imu: -" in text
    messages = []
    studio.message.connect(messages.append)
    qtbot.mouseClick(dlg.use_button, qtbot_button())
    assert any("kept for the next recording" in m for m in messages)
    path = studio.start_recording(tmp_path / "run1.h5")
    studio.stop_recording()
    stored = sync_offsets.load_offsets(path)
    assert stored == pytest.approx(cal.as_dict())
    assert any("run1.sync.json" in m for m in messages)
    with Session.open(path) as s, Session.open(path, raw_times=True) as raw:
        np.testing.assert_allclose(s.streams["cam"].timestamps, raw.streams["cam"].timestamps - stored["cam"])
    # Kept for one recording only: the next session is not touched.
    path2 = studio.start_recording(tmp_path / "run2.h5")
    studio.stop_recording()
    assert not sync_offsets.sidecar_path(path2).exists()


def test_dialog_without_devices_says_to_open_a_rig(qtbot):
    from sensorlab.app.studio.sync_wizard import ClapSyncDialog

    dlg = ClapSyncDialog(Studio(preroll=0))
    qtbot.addWidget(dlg)
    qtbot.mouseClick(dlg.start_button, qtbot_button())
    assert "open a rig" in dlg.result.toPlainText() and not dlg.use_button.isEnabled()


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton

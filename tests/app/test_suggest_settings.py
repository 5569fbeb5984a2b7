"""Suggest ▾ → Settings…: the energy detector's threshold and minimum length set in the window,
remembered, and used by the next run exactly as the command's ``--param`` would be."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from sensorlab.app.labeling.suggest_settings import SuggestSettingsDialog
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.suggest_stream import suggest_for_stream
from sensorlab.session.synthetic import LABELS, T0, write_synthetic_session


def open_with(qtbot, path, settings):
    from sensorlab.app.labeling.view import LabelingView

    v = LabelingView(path, LabelSet.from_names(list(LABELS)), play_audio=False, settings=settings)
    qtbot.addWidget(v)
    v.resize(1200, 700)
    with qtbot.waitSignal(v.session_ready, timeout=30_000):
        v.show()
    return v


def menu_action(v, text: str):
    return next(a for a in v.suggest_button.menu().actions() if a.text().startswith(text))


def run_energy(qtbot, v) -> list[tuple[float, float]]:
    before = v.status.text()
    menu_action(v, "energy on mic").trigger()
    qtbot.waitUntil(lambda: not v.runner.busy and v.status.text() != before and "suggestion" in v.status.text(), timeout=60_000)
    return sorted((round(s.start - T0, 2), round(s.end - T0, 2)) for s in v.annotations if s.suggested)


def test_energy_settings_are_set_in_the_window_and_used_by_the_next_run(qtbot, tmp_path, settings):
    path = write_synthetic_session(tmp_path / "run.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_with(qtbot, path, settings)
    assert run_energy(qtbot, v) == [(0.99, 5.01)]  # the tone in [1, 5) s, with the defaults

    menu_action(v, "Settings").trigger()
    dialog = v.findChildren(SuggestSettingsDialog)[-1]
    assert dialog.isVisible()
    length = dialog.boxes[("energy", "min_duration")]
    assert length.value() == 0.02 and dialog.boxes[("energy", "high_db")].text() == "automatic (noise floor + margin)"
    length.setValue(5.0)  # longer than the tone: nothing to suggest
    dialog.accept()
    assert run_energy(qtbot, v) == []
    assert v.status.text().startswith("0 suggestions from energy on mic (minimum length 5 s), replacing 1 from the previous run; "
                                      "in Suggest ▾ → Settings… try Minimum length 0.005 s")  # the fix, in the window
    assert "sensorlab labels suggest" not in v.status.text()

    # Remembered (another window on the same settings shows it), and equal to the core with that parameter.
    dialog = v.open_suggest_settings()
    assert dialog.boxes[("energy", "min_duration")].value() == 5.0
    dialog.boxes[("energy", "min_duration")].setValue(0.1)
    dialog.boxes[("energy", "high_db")].setValue(-10.0)  # a fixed level above the tone's
    dialog.accept()
    assert v.suggest_settings.params("energy") == {"margin_db": 12.0, "high_db": -10.0, "min_duration": 0.1, "min_gap": 0.2}
    assert run_energy(qtbot, v) == [] == suggest_for_stream(v.session.streams["mic"], "energy", high_db=-10.0)

    dialog = v.open_suggest_settings()
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    dialog.accept()
    assert "high_db" not in v.suggest_settings.params("energy")  # automatic again
    assert run_energy(qtbot, v) == [(0.99, 5.01)]
    v.close()


def test_change_point_settings_reach_the_run_like_the_commands_params(qtbot, tmp_path, settings):
    path = write_synthetic_session(tmp_path / "run.h5", 20.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_with(qtbot, path, settings)
    dialog = v.open_suggest_settings()
    assert dialog.boxes[("changepoint", "threshold")].text() == "automatic"
    dialog.boxes[("changepoint", "window_s")].setValue(0.5)
    dialog.boxes[("changepoint", "threshold")].setValue(1.0)
    dialog.accept()
    before = v.status.text()
    menu_action(v, "changepoint on imu").trigger()
    qtbot.waitUntil(lambda: not v.runner.busy and v.status.text() != before and "changepoint" in v.status.text(), timeout=60_000)
    got = sorted((s.start, s.end) for s in v.annotations if s.suggested)
    expected = sorted((s.start, s.end) for s in suggest_for_stream(v.session.streams["imu"], "changepoint", window_s=0.5, threshold=1.0))
    default = sorted((s.start, s.end) for s in suggest_for_stream(v.session.streams["imu"], "changepoint"))
    assert got == expected and got != default, (got, default)
    assert "(window 0.5 s, threshold 1)" in v.status.text()
    v.close()

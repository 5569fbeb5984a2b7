"""`Playback` through a real audio device: a private PulseAudio daemon's null sink ``vsink``.

A session whose audio holds short tone bursts ("clicks", each at its own pitch) at known
session times is played through `Playback` to the default output (the daemon's ``vsink``);
``parec`` records ``vsink.monitor``, stamping each block's arrival on the host clock. Each
click found in the recording is checked for order and spacing, and the playback clock (the
``position`` signal, interpolated) at the moment the click is heard must read the click's
session time.

Heard time of recorded sample ``k``: ``min over blocks (arrival − samples so far / rate) + k /
rate``; a block arrives after its last sample was captured, so the lower envelope is the
capture clock (parec asks for 5 ms blocks).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter

T0 = 5000.0
SECONDS = 3.6
CLICKS = (0.6, 1.1, 1.9, 2.5, 3.2)  # session offsets (s); unequal spacing
FREQS = (1000.0, 1500.0, 2000.0, 2500.0, 3000.0)  # one pitch per click, to tell them apart
CLICK_S = 0.01
MON_RATE = 48000
SPACING_TOL = 0.02  # PulseAudio hands over 20 ms blocks (a click may be heard one block early)
CLOCK_TOL = 0.025  # playback clock at the moment a click is heard vs its session time (the device delay is ~35 ms)


def write_click_session(path, rate: int, channels: int, dtype: str) -> str:
    """A SECONDS-long session with one audio stream ``mic``: silence and `CLICKS`."""
    n = int(SECONDS * rate)
    x = np.zeros((n, channels), dtype=np.float64)
    k = np.arange(int(CLICK_S * rate))
    for t, f in zip(CLICKS, FREQS):
        i = int(round(t * rate))
        x[i : i + len(k)] = 0.5 * np.sin(2 * np.pi * f * k / rate)[:, None]
    if dtype == "int16":
        data = np.round(x * 32767).astype(np.int16)
    else:
        data = x.astype(np.float32)
    shape = (channels,)
    info = StreamInfo("mic", "audio", rate, channel_names=tuple(f"ch{i}" for i in range(channels)), dtype=dtype,
                      sample_shape=shape)  # fmt: skip
    w = SessionWriter(path)
    w.on_start({"mic": info}, SessionMetadata(name="clicks").stamped_start(T0))
    ts = T0 + np.arange(n) / rate
    for i in range(0, n, rate):  # one-second chunks, like a recording
        w.on_chunk("mic", Chunk(data[i : i + rate].reshape(-1, *shape), ts[i : i + rate]))
    w.on_stop({"mic": {"count": n, "first_time": ts[0], "last_time": ts[-1]}},
              {"end_host_time": T0 + SECONDS, "duration": SECONDS, "complete": True, "stop_reason": "stopped"})  # fmt: skip
    return str(path)


class MonitorCapture:
    """``parec`` on ``vsink.monitor`` (mono float32 at `MON_RATE`), arrival-stamped."""

    def __init__(self, pulse):
        self.proc = subprocess.Popen(
            ["parec", "-d", "vsink.monitor", "--raw", "--format=float32le", f"--rate={MON_RATE}", "--channels=1",
             "--latency-msec=5"],
            env={**os.environ, **pulse.env}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.blocks: list[np.ndarray] = []
        self.arrivals: list[tuple[int, float]] = []  # (samples so far, monotonic)
        self._n = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while self._n < MON_RATE // 20 and time.monotonic() < deadline:  # running: 50 ms received
            time.sleep(0.01)
        assert self._n, "parec delivers nothing"

    def _run(self) -> None:
        rest = b""
        while True:
            b = self.proc.stdout.read1(65536)
            if not b:
                return
            t = time.monotonic()
            b, whole = rest + b, (len(rest) + len(b)) // 4 * 4
            b, rest = b[:whole], b[whole:]
            x = np.frombuffer(b, "<f4")
            self._n += len(x)
            self.blocks.append(x)
            self.arrivals.append((self._n, t))

    def stop(self) -> tuple[np.ndarray, float]:
        """The recording and the host time of its sample 0."""
        self.proc.terminate()
        self.proc.wait(5)
        self._thread.join(5)
        a = np.array(self.arrivals)
        return np.concatenate(self.blocks), float(np.min(a[:, 1] - a[:, 0] / MON_RATE))


def find_clicks(x: np.ndarray, t0: float) -> list[tuple[float, float]]:
    """(heard host time, pitch Hz) of each burst in the recording."""
    loud = np.flatnonzero(np.abs(x) > 0.1)
    onsets = [i for j, i in enumerate(loud) if j == 0 or i - loud[j - 1] > MON_RATE // 10]
    out = []
    n = int(CLICK_S * MON_RATE)
    for i in onsets:
        seg = x[i : i + n] * np.hanning(n) if i + n <= len(x) else None
        if seg is None:
            continue
        spec = np.abs(np.fft.rfft(seg, 8 * n))
        out.append((t0 + i / MON_RATE, float(np.fft.rfftfreq(8 * n, 1 / MON_RATE)[np.argmax(spec)])))
    return out


def pitch_index(f: float) -> int:
    k = int(np.argmin([abs(f - g) for g in FREQS]))
    assert abs(f - FREQS[k]) < 150, f"a burst at {f:.0f} Hz is none of the clicks"
    return k


def _need_pulse() -> None:
    from sensorlab.acquisition.emulated.pulse import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    """A private PulseAudio daemon; its ``vsink`` is this process's default output."""
    _need_pulse()
    from sensorlab.acquisition.emulated.pulse import VirtualPulse

    vp = VirtualPulse(tmp_path_factory.mktemp("pulse")).start()
    yield vp
    vp.stop()


class Clock:
    """Records the ``position`` signal with the host time it was emitted at."""

    def __init__(self, pb):
        self.log: list[tuple[float, float]] = []
        pb.position.connect(lambda t: self.log.append((time.monotonic(), t)))

    def at(self, host: float) -> float:
        a = np.array(self.log)
        assert a[0, 0] <= host <= a[-1, 0], "click heard outside the playback"
        return float(np.interp(host, a[:, 0], a[:, 1]))


def make_playback(path):
    from sensorlab.app.labeling.playback import Playback

    session = Session.open(path)
    audio = session.streams["mic"]
    return session, Playback(audio, T0 + SECONDS)


def play_to_end(qtbot, pb, t: float) -> None:
    pb.start(t)
    assert pb.note == "" and pb.device_rate > 0, pb.note
    qtbot.waitUntil(lambda: not pb.playing, timeout=int((SECONDS + 5) * 1000))
    qtbot.wait(150)  # let the last click reach the monitor


def play_and_hear(qtbot, pulse, pb, session, t: float) -> list[tuple[float, float]]:
    """Play from ``t`` to the end while ``parec`` records the sink; the clicks heard, as
    `find_clicks` gives them. The session is closed afterwards, whatever happened."""
    cap = MonitorCapture(pulse)
    try:
        play_to_end(qtbot, pb, t)
    finally:
        x, t0 = cap.stop()
        session.close()
    return find_clicks(x, t0)


def check_heard(heard, clock: Clock, expected: list[int], underflows: int) -> list[float]:
    """Clicks heard are `expected` (indices into CLICKS), in order, never sooner after each
    other than recorded, and heard when the playback clock reads their session time; returns
    the clock errors.

    What the user relies on is the cursor showing what is heard. A loaded machine may let the
    device run dry (``underflows``, or a sound-server underrun PortAudio never sees): the gap
    is silence and everything after it is heard late, so the spacing may only grow. The
    cursor must follow the device all the same: that is what the clock check asserts.
    """
    got = [pitch_index(f) for _, f in heard]
    assert got == expected, f"heard clicks {got}, expected {expected}"
    times = np.array([h for h, _ in heard])
    want = np.array([CLICKS[k] for k in expected])
    spacing_err = np.diff(times) - np.diff(want)
    assert np.all(spacing_err > -SPACING_TOL), f"clicks heard sooner than recorded: spacing errors {spacing_err}"
    errors = [clock.at(h) - (T0 + CLICKS[k]) for h, k in zip(times, expected)]
    assert np.all(np.abs(errors) < CLOCK_TOL), f"clock errors at the clicks {errors}"
    print(f"underflows {underflows}; clicks {expected}: spacing errors ms {np.round(spacing_err * 1e3, 1).tolist()}, "
          f"clock − click time ms {np.round(np.array(errors) * 1e3, 1).tolist()}")  # fmt: skip
    return errors


@pytest.mark.audio
def test_plays_clicks_in_order_and_in_sync_with_the_clock(pulse, qtbot, tmp_path):
    """float32 stereo at 44.1 kHz (the sink is mono 48 kHz), from a cursor at 0.3 s."""
    path = write_click_session(tmp_path / "s.h5", 44100, 2, "float32")
    session, pb = make_playback(path)
    clock = Clock(pb)
    check_heard(play_and_hear(qtbot, pulse, pb, session, T0 + 0.3), clock, [0, 1, 2, 3, 4], pb.underflows)
    assert clock.log[-1][1] == pytest.approx(T0 + SECONDS)  # stopped at the end, position there


@pytest.mark.audio
def test_callbacks_that_report_no_device_delay_do_not_move_the_clock_ahead(pulse, qtbot, tmp_path, monkeypatch):
    """Under load PortAudio sometimes reports a callback's output time equal to its current time
    (delay 0). Taken at its word, the cursor ran a whole device delay (~35 ms) ahead of what is
    heard. Here every callback after the first few reports 0: the clock must stay in step."""
    from types import SimpleNamespace

    from sensorlab.app.labeling.playback import Playback

    real = Playback._callback
    calls = [0]

    def no_delay_after_a_few(self, outdata, frames, time_info, status):
        calls[0] += 1
        if calls[0] > 5:
            time_info = SimpleNamespace(currentTime=time_info.currentTime, outputBufferDacTime=time_info.currentTime)
        return real(self, outdata, frames, time_info, status)

    monkeypatch.setattr(Playback, "_callback", no_delay_after_a_few)
    path = write_click_session(tmp_path / "s.h5", 16000, 1, "int16")
    session, pb = make_playback(path)
    clock = Clock(pb)
    heard = play_and_hear(qtbot, pulse, pb, session, T0 + 0.3)
    assert calls[0] > 50  # the zero delays were reported through the whole playback
    check_heard(heard, clock, [0, 1, 2, 3, 4], pb.underflows)


@pytest.mark.audio
@pytest.mark.parametrize("refuse_rate", [False, True], ids=["device-at-16k", "resampled"])
def test_start_at_two_seconds_plays_from_there(pulse, qtbot, tmp_path, monkeypatch, refuse_rate):
    """int16 mono at 16 kHz, from 2.0 s: the first click heard is the one at 2.5 s. Also with a
    device that refuses 16 kHz, so Playback resamples to the device's default rate."""
    import sounddevice as sd

    if refuse_rate:
        def check(*a, samplerate=None, **k):
            raise sd.PortAudioError(f"Invalid sample rate {samplerate}")

        monkeypatch.setattr(sd, "check_output_settings", check)
    path = write_click_session(tmp_path / "s.h5", 16000, 1, "int16")
    session, pb = make_playback(path)
    clock = Clock(pb)
    heard = play_and_hear(qtbot, pulse, pb, session, T0 + 2.0)
    assert pb.device_rate == (sd.query_devices(kind="output")["default_samplerate"] if refuse_rate else 16000)
    check_heard(heard, clock, [3, 4], pb.underflows)


@pytest.mark.audio
def test_pause_resume_and_seek_while_playing(pulse, qtbot, tmp_path):
    """Pause after the 1.1 s click: silence, the cursor holds; resume there, then seek to 2.9 s
    while playing: 1.9 s is heard, 2.5 s is skipped, 3.2 s is heard."""
    path = write_click_session(tmp_path / "s.h5", 22050, 1, "float32")
    session, pb = make_playback(path)
    clock = Clock(pb)
    states = []
    pb.state_changed.connect(states.append)
    cap = MonitorCapture(pulse)
    try:
        pb.start(T0 + 0.3)
        qtbot.waitUntil(lambda: pb.current > T0 + 1.4, timeout=5000)
        pb.stop()
        paused_at, paused_host = pb.current, time.monotonic()
        assert clock.log[-1][1] == paused_at  # the cursor is told where playback stopped
        qtbot.wait(400)
        assert pb.current == paused_at and not pb.playing
        resumed_host = time.monotonic()
        pb.start(paused_at)
        qtbot.waitUntil(lambda: pb.current > T0 + 2.05, timeout=5000)
        pb.seek(T0 + 2.9)
        assert pb.playing and pb.current < T0 + 2.95
        qtbot.waitUntil(lambda: not pb.playing, timeout=5000)
        qtbot.wait(150)
    finally:
        x, t0 = cap.stop()
        session.close()
    assert states == [True, False, True, False]
    heard = find_clicks(x, t0)
    got = [pitch_index(f) for _, f in heard]
    assert got == [0, 1, 2, 4], f"heard {got}"
    # Nothing heard while paused (40 ms grace for what was already in the device).
    assert not any(paused_host + 0.04 < h < resumed_host for h, _ in heard)
    # The clock reads each click's time when it is heard (the spacing spans pause/seek: not checked).
    errors = [clock.at(h) - (T0 + CLICKS[k]) for (h, _), k in zip(heard, got)]
    assert np.all(np.abs(errors) < CLOCK_TOL), f"clock errors {errors}"
    print(f"pause/seek: clock − click time ms {np.round(np.array(errors) * 1e3, 1).tolist()}")


@pytest.mark.audio
def test_sound_server_killed_mid_play_stops_with_a_note(pulse, qtbot, tmp_path):
    from sensorlab.acquisition.emulated.pulse import VirtualPulse

    path = write_click_session(tmp_path / "s.h5", 48000, 1, "int16")
    own = VirtualPulse(tmp_path / "pulse").start()
    try:
        session, pb = make_playback(path)
        states = []
        pb.state_changed.connect(states.append)
        pb.start(T0)
        assert pb.device_rate > 0
        qtbot.waitUntil(lambda: pb.current > T0 + 0.3, timeout=5000)
        own.kill()
        qtbot.waitUntil(lambda: not pb.playing, timeout=5000)
        assert states == [True, False]
        assert "lost" in pb.note
        assert pb.current < T0 + 1.5  # stopped where the sound stopped, not run on by the host clock
        session.close()
    finally:
        own.stop()
        pulse.activate()


def test_no_output_device_plays_silently_with_a_note(qtbot, tmp_path, monkeypatch):
    pytest.importorskip("sounddevice", exc_type=OSError)
    import sounddevice as sd

    def no_device(*a, **k):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", no_device)
    path = write_click_session(tmp_path / "s.h5", 16000, 2, "int16")
    session, pb = make_playback(path)
    try:
        before = time.monotonic()
        pb.start(T0 + 1.0)
        started = time.monotonic()
        assert pb.playing and pb.device_rate == 0
        assert pb.note.startswith("no audio output device") and "silently" in pb.note
        qtbot.waitUntil(lambda: pb.current > T0 + 1.2, timeout=3000)
        stopping = time.monotonic()
        pb.stop()
        after = time.monotonic()
        # The cursor ran on the host clock: it moved by the time that passed while playing
        # (bracketed by host times taken around start and stop, whatever the machine's load).
        assert T0 + 1.0 + (stopping - started) <= pb.current <= T0 + 1.0 + (after - before)
        assert pb.current > T0 + 1.2
    finally:
        session.close()


def test_sample_formats_convert_to_full_scale_floats():
    from sensorlab.app.labeling.playback import _to_float

    assert _to_float(np.array([-32768, 0, 16384], np.int16)).tolist() == [-1.0, 0.0, 0.5]
    assert _to_float(np.array([0, 128, 255], np.uint8)).tolist() == pytest.approx([-1.0, 0.0, 127 / 128])
    assert _to_float(np.array([-(2**31), 2**30], np.int32)).tolist() == [-1.0, 0.5]
    assert _to_float(np.array([2.0, -0.25], np.float64)).tolist() == [1.0, -0.25]


def play_and_check(qtbot, pulse, pb, session, clock) -> tuple[list, float]:
    """Play from 2.0 s to the end; every click heard before playback stopped, the cursor
    reading its time when heard. Returns (clicks heard, host time playback stopped)."""
    heard = play_and_hear(qtbot, pulse, pb, session, T0 + 2.0)
    stopped = clock.log[-1][0]
    assert clock.log[-1][1] == pytest.approx(T0 + SECONDS)
    assert all(h < stopped for h, _ in heard), "a click was heard after playback stopped (cut short)"
    check_heard(heard, clock, [3, 4], pb.underflows)
    return heard, stopped


@pytest.mark.audio
def test_cursor_holds_through_device_underruns(pulse, qtbot, tmp_path):
    """The callback stalls 250 ms three times between the clicks (as on a busy laptop): the
    device underflows and plays silence. The cursor must hold through the silence, not run
    ahead of the sound, and playback must not stop before the 3.2 s click is heard."""
    path = write_click_session(tmp_path / "s.h5", 48000, 1, "int16")
    session, pb = make_playback(path)
    clock = Clock(pb)
    stalls = [2.3, 2.8, 3.0]  # session times (s) of the frames where the callback stalls

    def stall(consumed: int) -> None:
        if stalls and consumed >= (stalls[0] - 2.0) * pb.device_rate:
            stalls.pop(0)
            time.sleep(0.25)

    pb._callback_hook = stall
    play_and_check(qtbot, pulse, pb, session, clock)
    assert not stalls and pb.underflows > 0  # the device really ran dry


@pytest.mark.audio
def test_cursor_holds_while_the_queue_runs_dry(pulse, qtbot, tmp_path, monkeypatch):
    """The GUI thread is busy for 0.5 s (e.g. a heavy redraw) while only 0.1 s of sound is
    queued: the callback runs out and pads with silence. That silence is not the recording:
    the cursor must hold through it and read each click's time when it is heard."""
    from sensorlab.app.labeling import playback

    monkeypatch.setattr(playback, "REFILL_S", 0.2)
    monkeypatch.setattr(playback, "AHEAD_S", 0.1)
    path = write_click_session(tmp_path / "s.h5", 48000, 1, "int16")
    session, pb = make_playback(path)
    clock = Clock(pb)
    busy = []

    def block_gui(t: float) -> None:
        if not busy and t > T0 + 2.2:
            busy.append(t)
            time.sleep(0.5)

    pb.position.connect(block_gui)
    heard, _ = play_and_check(qtbot, pulse, pb, session, clock)
    assert busy
    # The silence is heard: the 2.5 s click comes later than 0.5 s after the 2.0 s start.
    assert heard[0][0] - clock.log[0][0] > 0.5 + 0.2

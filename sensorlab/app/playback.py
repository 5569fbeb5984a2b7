"""`Playback`: play/pause a session with the cursor following the audio clock (or the host clock).

Audio goes out through a sounddevice `OutputStream` whose callback copies from a buffer the
GUI thread keeps filled a few seconds ahead (read from the session in `REFILL_S` pieces).
The callback never touches the session file or Qt (STYLE rule 7): it copies, counts frames
and returns. A 30 Hz `QTimer` moves the cursor to ``start + frames played / rate``, so video
and audio stay in step with what is heard.

No output device (a headless machine, a server), or no audio stream in the session: playback
runs silently from the host clock and `note` says so, for the window to show.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from sensorlab.session.reader import StreamReader

log = logging.getLogger(__name__)

TICK_MS = 33
REFILL_S = 4.0  # seconds read per refill
AHEAD_S = 2.0  # refill when less than this is buffered


class Playback(QObject):
    """Plays from a start time; emits the cursor position while playing.

    Parameters
    ----------
    audio
        The audio stream to play, or None (silent).
    t_end
        Playback stops here (host time).
    use_device
        False forces silent playback (tests, or the user muted it).

    Signals
    -------
    position(t)
        Host time at the cursor, ~30 times per second while playing.
    state_changed(playing)
    """

    position = Signal(float)
    state_changed = Signal(bool)

    def __init__(self, audio: StreamReader | None, t_end: float, use_device: bool = True, parent=None):
        super().__init__(parent)
        self.audio = audio
        self.t_end = t_end
        self.use_device = use_device and audio is not None
        self.note = "" if audio is not None else "no audio stream: playing silently"
        self.playing = False
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._stream = None
        self._lock = threading.Lock()
        self._buf = np.zeros((0, 1), dtype=np.float32)  # NB: replaced under _lock only
        self._frames = 0  # frames played by the callback; NB: int writes are atomic under the GIL
        self._next_index = 0
        self._t_start = 0.0
        self._host_start = 0.0
        self.rate = float(audio.info.nominal_rate) if audio is not None and audio.info.nominal_rate else 0.0

    # -- control -------------------------------------------------------------------------------
    def toggle(self, t: float) -> None:
        self.stop() if self.playing else self.start(t)

    def start(self, t: float) -> None:
        """Start playing at host time ``t``."""
        if self.playing:
            return
        self._t_start = t
        self._host_start = time.monotonic()
        self._frames = 0
        if self.use_device:
            try:
                self._open_stream(t)
            except Exception as e:  # noqa: BLE001 - PortAudio raises several types; any means "no sound"
                log.info("no audio output (%s); playing silently", e)
                self._stream = None
                self.note = f"no audio output device ({str(e).splitlines()[0][:60]}): playing silently"
        self.playing = True
        self._timer.start()
        self.state_changed.emit(True)

    def stop(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None
        self.state_changed.emit(False)

    @property
    def current(self) -> float:
        """Host time being played now (audio clock when a device plays, else host clock)."""
        if self._stream is not None and self.rate:
            return self._t_start + self._frames / self.rate
        return self._t_start + (time.monotonic() - self._host_start)

    # -- audio -------------------------------------------------------------------------------
    def _open_stream(self, t: float) -> None:
        import sounddevice as sd

        a = self.audio
        assert a is not None
        channels = int(np.prod(a.info.sample_shape or (1,)))
        self._next_index = a.index_of(t)
        with self._lock:
            self._buf = np.zeros((0, channels), dtype=np.float32)
        self._refill()
        self._stream = sd.OutputStream(samplerate=self.rate, channels=min(channels, 2), dtype="float32",
                                       callback=self._callback)
        self._stream.start()
        self.note = ""

    def _refill(self) -> None:
        """Read the next piece of audio into the buffer (GUI thread)."""
        a = self.audio
        with self._lock:
            buffered = len(self._buf)
        if a is None or buffered > AHEAD_S * self.rate or self._next_index >= a.count:
            return
        i1 = self._next_index + int(REFILL_S * self.rate)
        data = np.asarray(a.read_index(self._next_index, i1).data)
        x = data.reshape(len(data), -1)
        x = x.astype(np.float32) / 32768.0 if x.dtype.kind in "iu" else x.astype(np.float32)
        self._next_index = i1
        with self._lock:
            self._buf = np.concatenate([self._buf, x])

    def _callback(self, outdata, frames, _time, _status) -> None:
        """PortAudio thread: copy the next frames (silence when the buffer ran dry)."""
        with self._lock:
            n = min(frames, len(self._buf))
            outdata[:n] = self._buf[:n, : outdata.shape[1]]
            self._buf = self._buf[n:]
        outdata[n:] = 0
        self._frames += frames

    # -- timer -----------------------------------------------------------------------------
    def _tick(self) -> None:
        t = self.current
        if t >= self.t_end:
            self.position.emit(self.t_end)
            self.stop()
            return
        if self._stream is not None:
            self._refill()
        self.position.emit(t)


__all__ = ["Playback"]

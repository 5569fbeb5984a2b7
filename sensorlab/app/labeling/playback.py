"""`Playback`: play/pause a session with the cursor following the audio clock (or the host clock).

Audio goes out through a sounddevice `OutputStream` on the default output device, opened at the
session's sample rate when the device takes it (else at the device's rate, resampling
linearly). The stream's callback copies from a queue of blocks the GUI thread keeps filled a
few seconds ahead (read from the session in `REFILL_S` pieces). The callback never touches the
session file or Qt (a late callback is an audible dropout): it copies, notes when it ran and
how far behind the speaker its block is, and returns.

The clock is the audio device's, counted in frames of the recording, never in frames of
silence. Each callback notes when its block reaches the speaker (host time of the callback plus
``outputBufferDacTime - currentTime``; a callback without that timing: when the previous block
ends, as the device plays them back to back), how many recorded frames were played before it and how
many it holds (fewer than the device asked for when the queue ran dry: the rest is silence).
The frame heard now is found in the latest block already at the speaker: its first recorded
frame plus the time since it got there, but never past its recorded frames. So the cursor
holds still through silence: the padding of a starved queue, and the silence the device plays
when a late callback makes it underflow (`status.output_underflow`; the next block reaches the
speaker only after it). Frames still queued in the device never count as heard, so playback
stops only once the last frame is heard. Frame numbers map to session time through the audio
stream's own timestamps, so a cursor at time ``t`` shows what is heard at ``t`` even across
gaps in the recording. A 30 Hz `QTimer` emits that
position, so video and audio stay in step with what is heard.

No output device (a headless machine, a server), or no audio stream in the session: playback
runs silently from the host clock and `note` says so, for the window to show. The device
vanishing mid-play (sound server killed, USB headset pulled) stops playback with a note.
"""

from __future__ import annotations

import bisect
import collections
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
KEEP_S = 2.0  # timestamps kept for this long behind the frame being heard
REPORTS = 4096  # callback reports kept for the clock: well over the device delay (≤ 2 s, ≥ 64 frames a block)


def _to_float(x: np.ndarray) -> np.ndarray:
    """Samples of any numeric dtype → float32 in [-1, 1] (full scale of the integer type)."""
    if x.dtype.kind == "i":
        return (x.astype(np.float32) / float(-np.iinfo(x.dtype).min)).astype(np.float32, copy=False)
    if x.dtype.kind == "u":
        mid = float(np.iinfo(x.dtype).max // 2 + 1)
        return ((x.astype(np.float32) - mid) / mid).astype(np.float32, copy=False)
    if x.dtype.kind == "b":
        return x.astype(np.float32)
    return np.clip(x.astype(np.float32, copy=False), -1.0, 1.0)


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
        Host time at the cursor, ~30 times per second while playing, and once more when
        playback stops (where it stopped).
    state_changed(playing)

    Attributes
    ----------
    note
        Why playback is silent or stopped ("" when sound plays normally), for the window.
    device_rate
        Rate the output stream runs at (0 while silent); equals `rate` unless resampling.
    underflows
        Callbacks PortAudio flagged as output underflow since `start`.
    """

    position = Signal(float)
    state_changed = Signal(bool)

    def __init__(self, audio: StreamReader | None, t_end: float, use_device: bool = True, parent=None):
        super().__init__(parent)
        self.audio = audio
        self.t_end = t_end
        self.rate = 0.0
        if audio is not None:
            rate = audio.info.nominal_rate or audio.rate_measured
            self.rate = float(rate) if rate and np.isfinite(rate) else 0.0
        self.use_device = use_device and audio is not None and self.rate > 0
        self.note = "" if audio is not None else "no audio stream: playing silently"
        self.playing = False
        self.device_rate = 0.0
        self.underflows = 0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._stream = None
        self._channels = 1
        self._out_channels = 1
        # Callback ↔ GUI thread state. NB: the block queue, `_head` and `_queued` are only
        # changed under `_lock`; `_consumed`, `_reports`, `_lost` and `underflows` are written
        # by the callback thread only and read elsewhere (int/bool writes and deque appends are
        # atomic under the GIL; readers copy the deque whole with `tuple`).
        self._lock = threading.Lock()
        self._blocks: collections.deque[np.ndarray] = collections.deque()
        self._head = 0  # frames of _blocks[0] already played
        self._queued = 0  # frames in _blocks not yet played
        self._consumed = 0  # queue frames (recorded audio, not silence) handed to the device
        # Per callback: (monotonic time its block reaches the speaker, queue frames before it,
        # queue frames in it). The block may end in silence (queue dry): that counts for nothing.
        self._reports: collections.deque[tuple[float, int, int]] = collections.deque(maxlen=REPORTS)
        self._lost = False
        self._closing = False
        # When the block after the last one handed over starts at the speaker: that block's
        # arrival plus its frames (padding included) at the device rate (monotonic s).
        self._next_at: float | None = None
        # Test hook, called first in each callback with the queue frames consumed so far; a
        # test stalls the callback here to make the device underflow on cue.
        self._callback_hook = None
        # GUI thread only.
        self._t_start = 0.0
        self._host_start = 0.0
        self._s0 = 0.0  # session sample index (fractional) of output frame 0
        self._ratio = 1.0  # session samples per output frame
        self._next_frame = 0  # next output frame to read into the queue
        self._times: list[tuple[int, np.ndarray]] = []  # (first session index, timestamps) read so far
        self._last_current = -np.inf

    # -- control -------------------------------------------------------------------------------
    def toggle(self, t: float) -> None:
        self.stop() if self.playing else self.start(t)

    def start(self, t: float) -> None:
        """Start playing at host time ``t``."""
        if self.playing:
            return
        self._begin(t)
        self.playing = True
        self._timer.start()
        self.state_changed.emit(True)

    def stop(self) -> None:
        """Pause: the sound stops at once and the cursor stays where it was heard."""
        if not self.playing:
            return
        t = min(self.current, self.t_end)
        self.playing = False
        self._timer.stop()
        self._close_stream()
        self._t_start, self._host_start = t, time.monotonic()  # `current` stays at t while stopped
        self.position.emit(t)
        self.state_changed.emit(False)

    def seek(self, t: float) -> None:
        """Jump to host time ``t``, playing on from there if playing."""
        if not self.playing:
            self._t_start = t
            return
        self._close_stream()
        self._begin(t)
        self.position.emit(self.current)

    @property
    def current(self) -> float:
        """Host time being played now (audio clock when a device plays, else host clock)."""
        if not self.playing:
            return self._t_start
        if self._stream is None:
            return self._t_start + (time.monotonic() - self._host_start)
        f = self._frame_heard()
        t = self._time_of(self._s0 + f * self._ratio)
        self._last_current = t = max(t, self._last_current)  # never backwards (latency jitter)
        return t

    # -- clock -------------------------------------------------------------------------------
    def _frame_heard(self) -> float:
        """Queue frame at the speaker now (fractional), from the callbacks' reports."""
        reports = tuple(self._reports)
        if not reports:
            return 0.0
        now = time.monotonic()
        for at, before, n in reversed(reports):  # the latest block already at the speaker
            if at <= now:
                # Past its recorded frames the device plays this block's padding, or silence
                # of its own until the next block arrives: the clock holds.
                return before + min((now - at) * self.device_rate, n)
        return float(reports[0][1])  # none of the kept blocks heard yet

    def _time_of(self, s: float) -> float:
        """Host time of (fractional) session sample ``s``, from the timestamps read so far."""
        times = self._times
        k = bisect.bisect_right(times, s, key=lambda e: e[0]) - 1
        if k >= 0:
            i0, ts = times[k]
            j = s - i0
            if j <= len(ts) - 1:
                return float(np.interp(j, np.arange(len(ts)), ts)) if j != int(j) else float(ts[int(j)])
            return float(ts[-1] + (j - len(ts) + 1) / self.rate)  # past the data read: extrapolate
        if times:
            i0, ts = times[0]
            return float(ts[0] + (s - i0) / self.rate)
        return self._t_start + (s - self._s0) / self.rate

    # -- audio -------------------------------------------------------------------------------
    def _begin(self, t: float) -> None:
        self._t_start = t
        self._host_start = time.monotonic()
        self._last_current = -np.inf
        self._stream = None
        self._next_at = None  # a new stream reports its own delay
        self.device_rate = 0.0
        if not self.use_device:
            return
        try:
            self._open_stream(t)
        except Exception as e:  # noqa: BLE001 - PortAudio raises several types; any means "no sound"
            log.info("no audio output (%s); playing silently", e)
            self._stream = None
            self.device_rate = 0.0
            self.note = f"no audio output device ({str(e).splitlines()[0][:60]}): playing silently"
            self._host_start = time.monotonic()

    def _open_stream(self, t: float) -> None:
        import sounddevice as sd

        a = self.audio
        assert a is not None
        self._channels = int(np.prod(a.info.sample_shape or (1,)))
        dev = sd.query_devices(kind="output")  # raises when there is no output device
        self._out_channels = max(1, min(self._channels, 2, int(dev["max_output_channels"]) or 1))
        try:
            sd.check_output_settings(channels=self._out_channels, dtype="float32", samplerate=self.rate)
            self.device_rate = self.rate
        except sd.PortAudioError:
            self.device_rate = float(dev["default_samplerate"])
            log.info("output device refuses %g Hz; resampling to %g Hz", self.rate, self.device_rate)
        self._ratio = self.rate / self.device_rate
        self._s0 = self._start_index(t)
        self._next_frame = 0
        self._times = []
        with self._lock:
            self._blocks.clear()
            self._head = self._queued = 0
        self._consumed, self._lost, self._closing = 0, False, False
        self._reports.clear()
        self.underflows = 0
        self._refill()
        self._stream = sd.OutputStream(samplerate=self.device_rate, channels=self._out_channels, dtype="float32",
                                       callback=self._callback, finished_callback=self._finished)
        self._stream.start()
        self.note = ""

    def _start_index(self, t: float) -> float:
        """Session sample index to start at for host time ``t`` (negative: silence before the audio)."""
        a = self.audio
        n = a.count
        if n == 0:
            return 0.0
        first, last = a.first_time, a.last_time
        if t <= first:
            return -round((first - t) * self.rate)
        if t > last:
            return n - 1 + round((t - last) * self.rate)
        return float(a.index_of(t))

    def _read(self, i0: int, i1: int) -> np.ndarray:
        """Session samples ``i0 <= i < i1`` as float32 ``(n, out channels)``, zeros outside the
        recording; remembers their timestamps for the clock (GUI thread)."""
        a = self.audio
        out = np.zeros((i1 - i0, self._channels), dtype=np.float32)
        j0, j1 = max(i0, 0), min(i1, a.count)
        if j1 > j0:
            c = a.read_index(j0, j1)
            x = np.asarray(c.data)
            out[j0 - i0 : j1 - i0] = _to_float(x.reshape(len(x), -1))
            self._times.append((j0, np.asarray(c.timestamps, dtype=np.float64)))
        if self._out_channels < self._channels:
            out = out[:, :2] if self._out_channels == 2 else out.mean(axis=1, keepdims=True)
        return np.ascontiguousarray(out)

    def _refill(self) -> None:
        """Read the next piece of audio into the queue (GUI thread)."""
        with self._lock:
            queued = self._queued
        if queued > AHEAD_S * self.device_rate:
            return
        n = int(REFILL_S * self.device_rate)
        f0 = self._next_frame
        s = self._s0 + (f0 + np.arange(n)) * self._ratio
        if self._ratio == 1.0 and self._s0 == int(self._s0):
            x = self._read(int(s[0]), int(s[0]) + n)
        else:
            i0 = int(np.floor(s[0]))
            i1 = int(np.floor(s[-1])) + 2
            y = self._read(i0, i1)
            pos = s - i0
            x = np.empty((n, y.shape[1]), dtype=np.float32)
            for ch in range(y.shape[1]):
                x[:, ch] = np.interp(pos, np.arange(len(y)), y[:, ch])
        self._next_frame = f0 + n
        with self._lock:
            self._blocks.append(x)
            self._queued += n
        # Forget timestamps well behind the speaker (an hour of them would be 1.4 GB at 48 kHz).
        heard = self._s0 + self._frame_heard() * self._ratio
        while len(self._times) > 1 and self._times[0][0] + len(self._times[0][1]) < heard - KEEP_S * self.rate:
            self._times.pop(0)

    def _callback(self, outdata, frames, time_info, status) -> None:
        """PortAudio thread: copy the next frames (silence when the queue ran dry)."""
        if self._callback_hook is not None:
            self._callback_hook(self._consumed)
        mono = time.monotonic()
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if 0.0 < delay < 2.0:
            at = mono + delay
        elif status.output_underflow and self._next_at is not None:
            at = mono  # no timing, and the device ran dry: nothing is queued ahead of this block
        elif self._next_at is not None:
            # Some host APIs report 0 (no timing at this callback) or nonsense. Taking 0 at its
            # word made the block "heard" the moment it was handed over: the cursor jumped a
            # whole device delay (~35 ms) ahead, then held there (it never runs backwards).
            # The device plays its blocks back to back, so this one follows the previous one.
            # (The last delay reported was no guess for it: while the stream starts, the device
            # buffer fills a block per callback, each delay one block longer than the one before;
            # on a loaded machine a delay from there put the cursor 26-47 ms off the sound.)
            at = self._next_at
        else:
            at = mono + (self._stream.latency if self._stream is not None else 0.0)
        if status.output_underflow:
            self.underflows += 1
        n = 0
        with self._lock:
            while n < frames and self._blocks:
                b = self._blocks[0]
                k = min(frames - n, len(b) - self._head)
                outdata[n : n + k] = b[self._head : self._head + k]
                n += k
                self._head += k
                if self._head == len(b):
                    self._blocks.popleft()
                    self._head = 0
            self._queued -= n
        outdata[n:] = 0
        # Reported once the copy is done: until then none of this block counts as handed over.
        # A callback that ran late (its block not at the device in time) is heard no sooner
        # than now: the device underflows meanwhile, and the clock must hold, not run on.
        at = max(at, time.monotonic())
        self._reports.append((at, self._consumed, n))
        self._next_at = at + frames / self.device_rate
        self._consumed += n

    def _finished(self) -> None:
        """PortAudio thread: the stream ended; unless we closed it, the device is gone."""
        if not self._closing:
            self._lost = True  # NB: bool write, read by the GUI thread's `_tick`

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        self._closing = True
        # Keep the clock where it is: `current` falls back to the host clock from here.
        try:
            stream.abort()  # at once: a pause should be heard where it is pressed
        except Exception as e:  # noqa: BLE001 - a vanished device raises PortAudioError here
            log.info("closing the audio stream: %s", e)
        finally:
            try:
                stream.close(ignore_errors=True)
            except Exception as e:  # noqa: BLE001
                log.info("closing the audio stream: %s", e)

    # -- timer -----------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._stream is not None and (self._lost or not self._stream.active):
            log.warning("audio output stopped during playback")
            self.note = "audio output device lost: playback stopped"
            self.stop()
            return
        t = self.current
        if t >= self.t_end:
            self.stop()  # emits position(t_end)
            return
        if self._stream is not None:
            self._refill()
        self.position.emit(t)


__all__ = ["Playback"]

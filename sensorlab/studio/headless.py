"""Record a session without a GUI: what ``sensorlab record`` and ``make run`` (headless) do.

A loop over the same `Studio` the window drives: open the rig, start a recording, report
progress until the duration, a stop signal or a failed disk, stop (file closed, footers and
live labels written), close the devices.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import SourceBase, SourceError, StreamStats
from sensorlab.session.metadata import SessionMetadata
from sensorlab.studio.studio import Studio

#: Seconds between progress reports.
PROGRESS_INTERVAL = 0.5

#: Signals that end a recording cleanly (file closed, footers written): Ctrl-C, ``kill`` /
#: systemd / CI runners (SIGTERM), and a closed terminal or SSH session (SIGHUP).
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class MissingDevices(SourceError):
    """Some devices of the rig could not be opened and the caller did not allow recording without them."""


class StoppedBeforeRecording(SourceError):
    """A stop signal (Ctrl-C) arrived while the devices were opening: nothing was recorded."""


@dataclass
class Progress:
    """A snapshot for the progress display (called on the recording thread)."""

    elapsed: float
    duration: float | None
    stats: dict[str, StreamStats]
    nominal_rates: dict[str, float]
    queue_size: int
    bytes_written: int

    def rate(self, stream: str) -> float:
        st = self.stats[stream]
        span = st.last_time - st.first_time
        return (st.samples - 1) / span if st.samples > 1 and span > 0 else 0.0


def record(
    sources: list[SourceBase],
    path: str | Path,
    duration: float | None = None,
    metadata: SessionMetadata | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop_event: threading.Event | None = None,
    video_encoding: str = "jpeg",
    jpeg_quality: int = 90,
    allow_missing: bool = True,
    on_missing: Callable[[dict[str, str]], None] | None = None,
    studio: Studio | None = None,
) -> Path:
    """Open ``sources``, record them into ``path`` until ``duration`` or Ctrl-C, return the path.

    Video is stored as JPEG frames (``jpeg_quality``) or, with ``video_encoding="raw"``, as
    uncompressed arrays. Devices that fail to open are left out if ``allow_missing`` (then
    ``on_missing`` receives ``{device: reason}`` before recording starts), else `MissingDevices`
    says why for each and nothing is recorded; if none opens, `SourceError` says why for each.
    Ctrl-C (SIGINT), SIGTERM and SIGHUP stop cleanly when called on the main thread, from the
    moment this is called: while the devices open (`StoppedBeforeRecording`, nothing written)
    or while recording (the file is closed and its footers written). ``studio``: drive this
    one (a test adds labels to it meanwhile); default a new `Studio` without pre-roll.

    Raises
    ------
    OSError
        The recording stopped by itself (disk full, disk gone): the message is `Recorder.error`;
        the file holds everything up to the last successful flush.
    MissingDevices
        Some device could not be opened and ``allow_missing`` is False.
    StoppedBeforeRecording
        A stop signal arrived before the recording started.
    SourceError
        No device could be opened.
    """
    stop = stop_event or threading.Event()
    studio = studio or Studio(preroll=0, video_encoding=video_encoding, jpeg_quality=jpeg_quality)
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        # Installed before the devices open (that can take seconds): a stop signal only sets
        # the event, so Ctrl-C never lands as a traceback in the middle of opening; the loop
        # below then stops the recording, which drains the queue and writes the footers.
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        errors = studio.open(sources)  # inside try: whatever opened is closed again on any error
        problems = "; ".join(f"{k}: {v}" for k, v in errors.items())
        if not studio.streams:
            raise SourceError(f"no device could be opened ({problems})")
        if errors and not allow_missing:
            raise MissingDevices(f"could not open {len(errors)} of {len(sources)} devices ({problems})")
        if stop.is_set():
            raise StoppedBeforeRecording("stopped while the devices were opening; nothing was recorded")
        if errors and on_missing:
            on_missing(errors)
        studio.start_recording(path, metadata)
        rec = studio.recorder
        assert rec is not None
        t0 = now()
        # The recorder stops by itself on a full disk (rec.error); stop waiting at once.
        while not rec.error and not stop.wait(PROGRESS_INTERVAL):
            if rec.error:
                break
            elapsed = now() - t0
            if on_progress:
                streams = studio.streams
                on_progress(Progress(elapsed, duration, studio.stats, {n: s.nominal_rate for n, s in streams.items()},
                                     rec.queue_size, rec.bytes_written))  # fmt: skip
            if duration is not None and elapsed >= duration:
                break
        written = studio.stop_recording() or Path(path)
        if rec.error:
            raise OSError(rec.error)
        return written
    finally:
        studio.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

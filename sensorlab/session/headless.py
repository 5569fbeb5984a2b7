"""Record a session without a GUI: what ``sensorlab record`` and ``make run`` (headless) do."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import SourceBase, SourceError, StreamStats
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.recorder import Recorder

#: Seconds between progress reports.
PROGRESS_INTERVAL = 0.5


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
) -> Path:
    """Open ``sources``, record them into ``path`` until ``duration`` or Ctrl-C, return the path.

    Video is stored as JPEG frames (``jpeg_quality``) or, with ``video_encoding="raw"``, as
    uncompressed arrays. Devices that fail to open are reported and left out; if none opens, `SourceError` says
    why for each. Ctrl-C (SIGINT) stops cleanly: the file is closed and its footers written.

    Raises
    ------
    OSError
        The recording stopped by itself (disk full, disk gone): the message is `Recorder.error`;
        the file holds everything up to the last successful flush.
    SourceError
        No device could be opened.
    """
    stop = stop_event or threading.Event()
    acq = Acquisition(sources)
    previous = None
    try:
        acq.open()  # inside try: whatever opened is closed again on any error
        if not acq.sources:
            problems = "; ".join(f"{k}: {v}" for k, v in acq.errors.items())
            raise SourceError(f"no device could be opened ({problems})")
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
        acq.start()
        with Recorder(acq, path, metadata=metadata, video_encoding=video_encoding, jpeg_quality=jpeg_quality) as rec:
            t0 = now()
            # The recorder stops by itself on a full disk (rec.error); stop waiting at once.
            while not rec.error and not stop.wait(PROGRESS_INTERVAL):
                if rec.error:
                    break
                elapsed = now() - t0
                if on_progress:
                    on_progress(
                        Progress(
                            elapsed,
                            duration,
                            acq.stats,
                            {n: s.nominal_rate for n, s in acq.streams.items()},
                            rec.queue_size,
                            rec.bytes_written,
                        )
                    )
                if duration is not None and elapsed >= duration:
                    break
        if rec.error:
            raise OSError(rec.error)
        return Path(rec.path)
    finally:
        acq.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

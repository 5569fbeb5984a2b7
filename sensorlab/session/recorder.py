"""`Recorder`: record every stream of an `Acquisition` into one session file, losslessly.

Threads (docs/ARCHITECTURE.md, "Conventions"):

- **device threads** call `Recorder._enqueue` through ``Acquisition.subscribe``; it only puts
  ``(stream, chunk)`` on an unbounded `queue.SimpleQueue` (lossless: the recorder must keep
  every sample; it warns when it falls behind instead of dropping);
- **the writer thread** (one per recording) drains the queue, batches chunks per stream for
  `BATCH_INTERVAL`, hands them to the `SessionWriter` listener, and every `FLUSH_INTERVAL`
  appends a health row per stream and flushes (`session/writer_thread.py`);
- **the caller** (GUI worker, CLI) calls `start` / `stop`; both block (file creation,
  draining + footers).

This module is the life cycle; the pre-roll's splicing is `session/preroll_splice.py`, the
counters since the start `session/recording_counters.py`, the device lost / back / silent log
lines `session/stream_watch.py`.

Failures:

- a device that vanishes (``Acquisition.stream_failed`` or ``stats[...].error``) stops
  *that* stream: the message and the time go into the session log at once (survives a
  crash) and into the stream's ``error`` / ``stopped_at`` footers; the rest records on;
- a device that is lost but may come back (``stats[...].lost``, a serial board unplugged)
  gets a warning in the session log with the time it went, another when it is back
  (``stats[...].reconnects``); the stretch between is a gap, and the ``reconnects`` footer
  counts the returns. Still gone at the stop, it is recorded as a stream that stopped early;
- a chunk that does not fit its stream (wrong shape) stops that stream the same way;
- a consumer of the acquisition that raised and was detached (``Acquisition.consumer_failed``)
  goes into the session log once; the devices and the recording go on;
- a disk about to fill (less free than `failures.STOP_FREE_BYTES`, or 4× what the last flush
  interval wrote) stops the whole recording while the file can still be closed with its
  footers: ``failed("", "disk almost full: …")``; a write that meets a full disk anyway (another
  program filled it first) can leave HDF5 unable to open the file at all;
- a failed write (disk full, disk unplugged) stops the whole recording cleanly: what was
  flushed stays valid, footers are attempted, ``failed("", "disk full: free space on …")``
  fires and `error` holds the message. We do not retry or keep buffering in memory: with a
  full disk nothing can be written, and silently eating RAM until the OS kills the app
  would lose the rest of the machine's work as well.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import threading
from pathlib import Path

import numpy as np
from psygnal import Signal

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import (
    IRREGULAR,
    Chunk,
    StreamInfo,
    StreamKind,
    StreamStats,
)
from sensorlab.session import format as fmt
from sensorlab.session.failures import mount_point
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.preroll_splice import PrerollSplice
from sensorlab.session.recording_counters import RecordingCounters
from sensorlab.session.stop_drain import wait_for_samples_up_to
from sensorlab.session.stream_watch import RECONNECTED, STALL_WARN_SECONDS, StreamWatch
from sensorlab.session.writer import SessionWriter
from sensorlab.session.writer_thread import (
    BATCH_INTERVAL,
    FLUSH_INTERVAL,
    MAX_BATCH_BYTES,
    QUEUE_WARN_CHUNKS,
    QUEUE_WARN_REPEAT,
    STOP,
    LogNote,
    RecorderWriterThread,
    StreamAdded,
    StreamEnded,
    StreamFailure,
    emit,
)

# Re-exported: callers and tests import the timing constants and log words from here.
__all__ = ["BATCH_INTERVAL", "FLUSH_INTERVAL", "JOIN_TIMEOUT", "LABELS", "MAX_BATCH_BYTES", "MIN_FREE_BYTES",
           "QUEUE_WARN_CHUNKS", "QUEUE_WARN_REPEAT", "RECONNECTED", "STALL_WARN_SECONDS", "Recorder"]  # fmt: skip

log = logging.getLogger(__name__)

#: Seconds `stop` waits for the writer to drain its backlog before dropping what is left.
JOIN_TIMEOUT = 60.0
#: Seconds `stop` waits for a chunk a device thread is handing over as it detaches (microseconds, unless a consumer called before it is slow).
DETACH_WAIT = 1.0
#: Free space below which `start` warns (bytes).
MIN_FREE_BYTES = 500 * 1024 * 1024

#: The EVENTS stream every session has, for live labels and markers (`Recorder.add_event`).
LABELS = fmt.LABELS_STREAM


class Recorder(RecorderWriterThread):
    """Record the streams of a running (or about to run) `Acquisition` into ``path``.

    Parameters
    ----------
    acquisition
        Opened acquisition; its ``streams`` at `start` are the streams of the file (an
        EVENTS stream ``labels`` is added if it has none). Streams it announces later
        (``stream_added``: a processor added while recording) are added to the file, with
        the host time they joined in the stream attribute ``added_at``.
    path
        ``.h5`` file to create; an existing file is never overwritten (`FileExistsError`).
    metadata
        Name, notes, tags and rig; start/end times and versions are filled in.
    preroll
        Stream name → ring already receiving that stream; the samples it holds at `start`
        are written first (the last N seconds before the button press), and samples that
        also arrive through the subscription are not written twice.
    video_encoding
        ``"jpeg"`` (per-frame JPEG, ~20× smaller) or ``"raw"``.
    jpeg_quality
        0–100.
    time_layout
        ``"compact"`` (default: verified time runs, irregular arrival times to 1 µs and the
        device's sample dtype, schema 3.0), ``"segments"`` (a schema 2.0 file sensorlab 2.x
        can read) or ``"samples"`` (a schema 1.4 file sensorlab before 2.0 can read).
    compression
        ``None`` (default), ``"gzip"`` or ``"lzf"``: lossless HDF5 filter (with shuffle) on
        sample arrays; see `SessionWriter`.
    writer
        The listener that writes the file (default: a `SessionWriter` on ``path``); the
        recorder only uses its public methods.

    Signals (may fire on any thread: the caller's, a device thread or the writer thread)
    -----------------------------------------------------------------------------------
    started(path), stopped(path), failed(stream, message) — ``stream`` is ``""`` when the
    whole recording stopped (disk full).

    Examples
    --------
    >>> with Acquisition(sources) as acq:                       # doctest: +SKIP
    ...     with Recorder(acq, "run1.h5", SessionMetadata(name="run1")) as rec:
    ...         rec.add_event('{"label": "wave", "type": "start"}')
    ...         time.sleep(10)
    """

    started = Signal(str)
    stopped = Signal(str)
    failed = Signal(str, str)

    def __init__(
        self,
        acquisition: Acquisition,
        path: str | Path,
        metadata: SessionMetadata | None = None,
        preroll: dict[str, ChunkRing] | None = None,
        video_encoding: str = "jpeg",
        jpeg_quality: int = 90,
        writer: SessionWriter | None = None,
        time_layout: str = "compact",
        compression: str | None = None,
    ):
        self.acquisition = acquisition
        self._path = Path(path)
        self.metadata = metadata or SessionMetadata(name=self._path.stem)
        self.preroll = dict(preroll or {})
        self._writer = writer or SessionWriter(self._path, video_encoding, jpeg_quality, time_layout, compression)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _state against add_event racing stop
        self._state = "idle"  # idle → recording → stopping → stopped | failed
        self._thread: threading.Thread | None = None
        #: Set by `stop` (after queueing `STOP`): the writer thread, which sleeps until its next
        #: batch is due rather than waking for every chunk, then drains the queue at once.
        self._wake = threading.Event()
        self._unsubscribe = None
        self._streams: dict[str, StreamInfo] = {}
        self._counters = RecordingCounters(acquisition)
        self._splice = PrerollSplice(self.preroll)
        self._watch: StreamWatch | None = None  # set by `start`
        self._stopped: dict[str, tuple[str, float]] = {}  # stream → (message, time the failure was noticed)
        self._ended: dict[str, float] = {}  # stream → when it ended cleanly (its processor taken out)
        self._rejected: set[str] = set()
        self._unknown: set[str] = set()  # streams chunks arrived for but not in the file (warned once)
        self._pending: dict[str, list[Chunk]] = {}  # writer thread only: the current batches
        self._pending_bytes: dict[str, int] = {}
        self._behind = False  # writer thread only: its last drain hit MAX_TAKE, so it does not sleep
        self._t_start = float("nan")
        self._t_stop = float("nan")
        self._last_queue_warn = -np.inf
        self._abandon = False
        self.error = ""  # non-empty once the whole recording stopped because of a fault

    # -- life cycle (caller's thread) -------------------------------------------------------
    def start(self) -> None:
        """Create the file, subscribe and start the writer thread (blocks for file creation)."""
        if self._state != "idle":
            raise RuntimeError("a Recorder records once; create a new one for the next session")
        # Listen for added streams before reading the list, so none falls in between (the
        # writer thread ignores an announcement of a stream the file already has).
        self.acquisition.stream_added.connect(self._on_stream_added)
        self.acquisition.stream_removed.connect(self._on_stream_removed)
        streams = dict(self.acquisition.streams)
        if LABELS not in streams:
            streams[LABELS] = StreamInfo(LABELS, StreamKind.EVENTS, IRREGULAR, dtype="str", device="live labels and markers")
        t = now()
        meta = self.metadata.stamped_start(t)
        attrs = {"source_errors": json.dumps(self.acquisition.errors)} if self.acquisition.errors else {}
        # Record is pressed now: count, listen and take the pre-roll now, before creating the
        # file. That can take seconds (a slow disk, a busy machine: 3.5 s seen on CI) while the
        # rings roll on; taken after it, the pre-roll lost its oldest seconds, those just before
        # Record. Chunks that arrive meanwhile wait in the queue for the writer thread.
        self._counters.begin(streams)
        # Subscribe *before* snapshotting the pre-roll rings: a chunk dispatched in between
        # is then in both and deduplicated by time, never in neither.
        self._unsubscribe = self.acquisition.subscribe(self._enqueue, name="the recorder", track_dispatches=True)
        self.acquisition.stream_failed.connect(self._on_stream_failed)
        self.acquisition.consumer_failed.connect(self._on_consumer_failed)
        self._splice = PrerollSplice(self.preroll)
        preroll = self._splice.take(streams)
        try:
            self._writer.on_start(streams, meta, attrs)
        except BaseException:
            self._detach()  # also stops listening for added streams
            self._queue = queue.SimpleQueue()  # nothing of this attempt is written
            raise
        self.metadata, self._streams, self._t_start = meta, streams, t
        self._watch = StreamWatch(self._writer, self._counters, t)
        self._warn_if_low_space(t)
        self._state = "recording"
        self._thread = threading.Thread(target=self._run, args=(preroll,), name="recorder-writer", daemon=True)
        self._thread.start()
        emit(self.started, str(self._path))

    def stop(self) -> Path:
        """Stop recording, drain the queue, close the file and write footers; returns the path.

        Blocks until the file is closed (at most about `JOIN_TIMEOUT` plus the footers), after
        waiting for the samples the devices took before Stop that a loaded host has not read
        yet (`stop_drain`: at most 2 s more for a device that went silent).
        Safe to call twice and after a failure. Called from the writer thread (a ``failed``
        handler), it only requests the stop and returns.
        """
        stopping = False
        with self._lock:
            if self._state == "idle":
                raise RuntimeError("Recorder.stop() before start()")
            if self._state == "recording":
                self._state = "stopping"
                self._t_stop = now()
                stopping = True
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            self._detach()
            self._counters.end()
            self._queue.put(STOP)
            self._wake.set()
            return self._path
        # A serial stream holds its first second back for its clock fit: delivered only when
        # the source stops, a recording that ends within it would have none of its samples.
        self.acquisition.release_held()
        if stopping:  # what the devices took before Stop and a loaded host has not read yet
            wait_for_samples_up_to(self._t_stop, self._streams, self.acquisition, list(self._streams))
        self._detach()
        self._counters.end()  # drops counted while the writer drains are not in the file
        self._queue.put(STOP)
        self._wake.set()
        thread.join(JOIN_TIMEOUT)
        if thread.is_alive():
            log.error("the writer is still %d chunks behind after %.0f s; dropping them to close the file", self._queue.qsize(), JOIN_TIMEOUT)
            self._abandon = True
            thread.join()
        self._thread = None
        return self._path

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._state != "idle":
            self.stop()

    # -- live input (any thread) -----------------------------------------------------------------
    def add_event(self, text: str, t: float | None = None, stream: str = LABELS) -> None:
        """Record a live label or marker at host time ``t`` (default: now) in EVENTS ``stream``.

        Raises
        ------
        ValueError
            ``stream`` is not an EVENTS stream of this session (streams cannot be added to
            a file being written).
        """
        info = self._streams.get(stream)
        if info is None or info.kind is not StreamKind.EVENTS:
            raise ValueError(f"{stream!r} is not an events stream of this session (events streams: {[n for n, i in self._streams.items() if i.kind is StreamKind.EVENTS]})")
        chunk = Chunk(np.array([text], dtype=object), np.array([now() if t is None else float(t)]))
        with self._lock:
            if self._state != "recording":
                raise RuntimeError("add_event() while not recording")
            self._queue.put((stream, chunk))

    def _enqueue(self, stream: str, chunk: Chunk) -> None:
        """Subscription callback (device thread): enqueue only."""
        self._queue.put((stream, chunk))

    def _on_stream_failed(self, stream: str, message: str) -> None:
        """``Acquisition.stream_failed`` handler (device thread): enqueue only."""
        self._queue.put(StreamFailure(stream, message, now()))

    def _on_consumer_failed(self, stream: str, message: str) -> None:
        """``Acquisition.consumer_failed`` handler (device thread): enqueue only."""
        self._queue.put(LogNote(stream, message, now()))

    def _on_stream_added(self, info: StreamInfo) -> None:
        """``Acquisition.stream_added`` handler: queued ahead of the stream's first chunk."""
        self._queue.put(StreamAdded(info, now()))

    def _on_stream_removed(self, name: str) -> None:
        """``Acquisition.stream_removed`` handler (after the stream's last chunk was queued):
        its counters are kept for the footers, its end is queued behind its chunks."""
        self._counters.leave(name)
        self._queue.put(StreamEnded(name, now()))

    # -- health (any thread) -----------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Streams of the file (set by `start`)."""
        return dict(self._streams)

    @property
    def recording(self) -> bool:
        return self._state == "recording"

    @property
    def queue_size(self) -> int:
        """Chunks waiting for the writer."""
        return self._queue.qsize()

    @property
    def queue_fill(self) -> float:
        """`queue_size` relative to `QUEUE_WARN_CHUNKS`, clipped to 0..1 (1 = warning level)."""
        return min(1.0, self._queue.qsize() / QUEUE_WARN_CHUNKS)

    @property
    def bytes_written(self) -> int:
        """Payload bytes appended to the file so far."""
        return self._writer.bytes_written

    @property
    def elapsed(self) -> float:
        """Seconds since `start` (frozen at `stop`); 0 before start."""
        if np.isnan(self._t_start):
            return 0.0
        end = self._t_stop if not np.isnan(self._t_stop) else now()
        return end - self._t_start

    def counters(self) -> dict[str, StreamStats]:
        """Per stream: samples, dropped, overflows and parse errors since `start` (pre-roll not
        counted) — the loss figures the file's health rows and footers store. Empty before `start`."""
        return self._counters.counters()

    # -- helpers ---------------------------------------------------------------------------------
    def _detach(self) -> None:
        if self._unsubscribe is not None:
            # Wait for the chunks already being handed over: a device thread that read the
            # subscriber list before this may still call `_enqueue`, and its chunk would land
            # behind STOP, never written (it arrived while recording: it belongs in the file).
            self._unsubscribe(wait=DETACH_WAIT)
            self._unsubscribe = None
            self.acquisition.stream_failed.disconnect(self._on_stream_failed, missing_ok=True)
            self.acquisition.consumer_failed.disconnect(self._on_consumer_failed, missing_ok=True)
            self.acquisition.stream_added.disconnect(self._on_stream_added, missing_ok=True)
            self.acquisition.stream_removed.disconnect(self._on_stream_removed, missing_ok=True)

    def _warn_if_low_space(self, t: float) -> None:
        free = shutil.disk_usage(self._path.parent).free
        if free < MIN_FREE_BYTES:
            msg = f"only {free / 1e6:.0f} MB free on {mount_point(self._path)}"
            log.warning(msg)
            self._writer.log(t, "", msg, "warning")

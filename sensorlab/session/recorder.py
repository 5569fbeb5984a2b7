"""`Recorder`: record every stream of an `Acquisition` into one session file, losslessly.

Threads (docs/ARCHITECTURE.md, "Conventions"):

- **device threads** call `Recorder._enqueue` through ``Acquisition.subscribe``; it only puts
  ``(stream, chunk)`` on an unbounded `queue.SimpleQueue` (lossless: the recorder must keep
  every sample; it warns when it falls behind instead of dropping);
- **the writer thread** (one per recording) drains the queue, batches chunks per stream for
  `BATCH_INTERVAL` (each HDF5 append costs ~100 µs per dataset, so 1 kHz in 10-sample
  chunks unbatched would eat a fifth of a core), hands them to the `SessionWriter`
  listener, and every `FLUSH_INTERVAL` appends a health row per stream and flushes;
- **the caller** (GUI worker, CLI) calls `start` / `stop`; both block (file creation,
  draining + footers).

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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal

from sensorlab.acquisition.buffers import ChunkRing, concat_chunks
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
from sensorlab.session.failures import fatal_message, mount_point
from sensorlab.session.metadata import SessionMetadata, iso
from sensorlab.session.writer import SessionWriter

log = logging.getLogger(__name__)

# -- timing constants ---------------------------------------------------------------------------
#: Seconds chunks of one stream are collected before one append (fewer, larger HDF5 writes).
BATCH_INTERVAL = 0.1
#: Seconds between flushes (+ health rows). A SIGKILL loses at most about this much + one batch.
FLUSH_INTERVAL = 0.5
#: Seconds `stop` waits for the writer to drain its backlog before dropping what is left.
JOIN_TIMEOUT = 60.0
#: Chunks waiting in the queue at which the recorder warns that the disk cannot keep up
#: (about 10 s of a typical rig: audio 100 + IMU 100 + camera 30 chunks/s).
QUEUE_WARN_CHUNKS = 2000
#: Seconds between repeated "falling behind" warnings.
QUEUE_WARN_REPEAT = 10.0
#: A stream's batch is written early once it holds this many bytes (raw video).
MAX_BATCH_BYTES = 8 * 1024 * 1024
#: A regular stream with no data for this long gets a warning in the session log.
STALL_WARN_SECONDS = 2.0
#: Free space below which `start` warns (bytes).
MIN_FREE_BYTES = 500 * 1024 * 1024

#: Words of the session-log line written when a lost device is back (the reader counts them
#: for a file that crashed before its ``reconnects`` footer was written).
RECONNECTED = "device reconnected"

#: The EVENTS stream every session has, for live labels and markers (`Recorder.add_event`).
LABELS = fmt.LABELS_STREAM

_STOP = object()


@dataclass
class _Failure:
    stream: str
    message: str
    t: float


@dataclass
class _Added:
    """A stream that joined the running acquisition (a processor added while recording)."""

    info: StreamInfo
    t: float


@dataclass
class _Note:
    """A session log entry from another thread (a consumer that was detached)."""

    stream: str
    message: str
    t: float


class Recorder:
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
        ``"segments"`` (default: compact verified time runs and the device's sample dtype,
        schema 2.0) or ``"samples"`` (a schema 1.4 file sensorlab before 2.0 can read).
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
        time_layout: str = "segments",
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
        self._unsubscribe = None
        self._streams: dict[str, StreamInfo] = {}
        self._baseline: dict[str, StreamStats] = {}
        self._cut: dict[str, float] = {}  # pre-roll: skip subscribed samples up to this time
        self._stopped: dict[str, tuple[str, float]] = {}  # stream → (message, stopped_at)
        self._rejected: set[str] = set()
        self._unknown: set[str] = set()  # streams chunks arrived for but not in the file (warned once)
        self._pending: dict[str, list[Chunk]] = {}  # writer thread only: the current batches
        self._pending_bytes: dict[str, int] = {}
        self._stall_warned: set[str] = set()
        self._lost_logged: dict[str, float] = {}  # stream → lost_at already logged
        self._reconnects_logged: dict[str, int] = {}
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
        streams = dict(self.acquisition.streams)
        if LABELS not in streams:
            streams[LABELS] = StreamInfo(LABELS, StreamKind.EVENTS, IRREGULAR, dtype="str", device="live labels and markers")
        t = now()
        meta = self.metadata.stamped_start(t)
        attrs = {"source_errors": json.dumps(self.acquisition.errors)} if self.acquisition.errors else {}
        try:
            self._writer.on_start(streams, meta, attrs)
        except BaseException:
            self.acquisition.stream_added.disconnect(self._on_stream_added, missing_ok=True)
            raise
        self.metadata, self._streams, self._t_start = meta, streams, t
        stats = self.acquisition.stats
        self._baseline = {n: _copy_stats(stats.get(n)) for n in streams}
        self._warn_if_low_space(t)
        # Subscribe *before* snapshotting the pre-roll rings: a chunk dispatched in between
        # is then in both and deduplicated by time, never in neither.
        self._unsubscribe = self.acquisition.subscribe(self._enqueue, name="the recorder")
        self.acquisition.stream_failed.connect(self._on_stream_failed)
        self.acquisition.consumer_failed.connect(self._on_consumer_failed)
        preroll: dict[str, Chunk] = {}
        for name, ring in self.preroll.items():
            if name not in streams:
                log.warning("pre-roll ring for unknown stream %r ignored", name)
                continue
            chunk = ring.snapshot()
            if chunk is not None and len(chunk):
                preroll[name] = chunk
                self._cut[name] = float(chunk.timestamps[-1])
        self._state = "recording"
        self._thread = threading.Thread(target=self._run, args=(preroll,), name="recorder-writer", daemon=True)
        self._thread.start()
        _emit(self.started, str(self._path))

    def stop(self) -> Path:
        """Stop recording, drain the queue, close the file and write footers; returns the path.

        Blocks until the file is closed (at most about `JOIN_TIMEOUT` plus the footers).
        Safe to call twice and after a failure. Called from the writer thread (a ``failed``
        handler), it only requests the stop and returns.
        """
        with self._lock:
            if self._state == "idle":
                raise RuntimeError("Recorder.stop() before start()")
            if self._state == "recording":
                self._state = "stopping"
                self._t_stop = now()
        self._detach()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            self._queue.put(_STOP)
            return self._path
        self._queue.put(_STOP)
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
        self._queue.put(_Failure(stream, message, now()))

    def _on_consumer_failed(self, stream: str, message: str) -> None:
        """``Acquisition.consumer_failed`` handler (device thread): enqueue only."""
        self._queue.put(_Note(stream, message, now()))

    def _on_stream_added(self, info: StreamInfo) -> None:
        """``Acquisition.stream_added`` handler: queued ahead of the stream's first chunk."""
        self._queue.put(_Added(info, now()))

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
        stats = self.acquisition.stats
        out = {}
        for name, base in dict(self._baseline).items():
            st = stats.get(name) or StreamStats()
            out[name] = StreamStats(samples=st.samples - base.samples, dropped=st.dropped - base.dropped,
                                    dropped_in_transit=st.dropped_in_transit - base.dropped_in_transit,
                                    overflows=st.overflows - base.overflows, parse_errors=st.parse_errors - base.parse_errors)  # fmt: skip
        return out

    # -- the writer thread ---------------------------------------------------------------------------
    def _run(self, preroll: dict[str, Chunk]) -> None:
        pending, pending_bytes = self._pending, self._pending_bytes
        t = now()
        next_write, next_flush = t + BATCH_INTERVAL, t + FLUSH_INTERVAL
        reason = "stopped"
        try:
            for name, chunk in preroll.items():
                self._write(name, [chunk])
            self._flush(now())
            stopping = False
            while not stopping:
                items = self._take(min(next_write, next_flush))
                for item in items:
                    if item is _STOP:
                        stopping = True
                    elif isinstance(item, _Failure):
                        self._on_failure(item)
                    elif isinstance(item, _Added):
                        self._add_stream(item)
                    elif isinstance(item, _Note):
                        self._writer.log(item.t, item.stream, item.message, "error")
                    elif not self._abandon:
                        name, chunk = item
                        if name not in self._streams:
                            self._warn_unknown(name)
                            continue
                        chunk = _finite_times(self._dedupe(name, chunk))
                        if chunk is None or name in self._rejected or not self._valid(name, chunk):
                            continue
                        pending.setdefault(name, []).append(chunk)
                        pending_bytes[name] = pending_bytes.get(name, 0) + chunk.data.nbytes
                        if pending_bytes[name] >= MAX_BATCH_BYTES:
                            self._write(name, pending.pop(name))
                            pending_bytes[name] = 0
                t = now()
                if stopping or t >= next_write:
                    for name, chunks in list(pending.items()):
                        self._write(name, chunks)
                    pending.clear()
                    pending_bytes.clear()
                    next_write = t + BATCH_INTERVAL
                if stopping or t >= next_flush:
                    self._flush(t)
                    next_flush = t + FLUSH_INTERVAL
        except Exception as e:  # noqa: BLE001 - a full disk (OSError or RuntimeError from h5py) or a bug
            if not isinstance(e, OSError | RuntimeError):
                log.exception("recorder writer thread crashed")
            reason = self._fatal(e)
        finally:
            self._finish(reason)

    def _take(self, deadline: float) -> list[Any]:
        """Block until the next item or ``deadline``, then drain what else is waiting."""
        try:
            items = [self._queue.get(timeout=max(0.0, deadline - now()))]
        except queue.Empty:
            return []
        while len(items) < 10_000:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _add_stream(self, item: _Added) -> None:
        """Add a stream announced while recording to the file (writer thread)."""
        info = item.info
        if info.name in self._streams:
            return  # it was already running when the recording started
        try:
            self._writer.add_stream(info, item.t)
        except ValueError as e:
            self._writer.log(item.t, info.name, f"{info.name}: cannot be recorded ({e})", "error")
            return
        self._streams[info.name] = info
        self._baseline[info.name] = _copy_stats(self.acquisition.stats.get(info.name))
        self._writer.log(item.t, info.name, f"stream {info.name} ({info.device or info.kind.value}) added at {item.t - self._t_start:.3f} s into the recording", "info")

    def _warn_unknown(self, name: str) -> None:
        if name not in self._unknown:
            self._unknown.add(name)
            msg = f"{name}: chunks of a stream this recording does not have are ignored (add processors through Acquisition.add_processor)"
            log.warning(msg)
            self._writer.log(now(), name, msg, "warning")

    def _dedupe(self, name: str, chunk: Chunk) -> Chunk | None:
        """Drop samples already written from the pre-roll ring (timestamps increase per stream)."""
        cut = self._cut.get(name)
        if cut is None:
            return chunk
        keep = chunk.timestamps > cut
        if not keep.any():
            return None
        del self._cut[name]
        if keep.all():
            return chunk
        sel = lambda a: None if a is None else a[keep]  # noqa: E731
        return Chunk(chunk.data[keep], chunk.timestamps[keep], sel(chunk.device_times), sel(chunk.arrival_times))

    def _valid(self, name: str, chunk: Chunk) -> bool:
        """Check one chunk before batching, so one bad chunk does not spoil a batch of good ones."""
        try:
            self._writer.check(name, chunk)
            return True
        except ValueError as e:
            self._rejected.add(name)
            self._stream_stopped(name, f"{name}: data does not match the stream, no longer recorded ({e})", now())
            return False

    def _write(self, name: str, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        try:
            self._writer.on_chunk(name, concat_chunks(chunks))
        except (ValueError, TypeError) as e:
            # Bad data from one device must not end the session: stop recording that stream.
            self._rejected.add(name)
            self._stream_stopped(name, f"{name}: data does not match the stream, no longer recorded ({e})", now())

    def _flush(self, t: float) -> None:
        stats = self.acquisition.stats
        rows = {}
        for name in self._writer.stream_names:
            st = stats.get(name)
            d = _delta(st, self._baseline.get(name))
            rows[name] = (self._writer.written(name).count, d.dropped, d.overflows, d.parse_errors, len(self._gaps(name)), d.dropped_in_transit)
            if st is None:
                continue
            if st.error and name not in self._stopped:
                self._stream_stopped(name, st.error, t)
            self._note_connection(name, st)
            self._check_stall(name, st, t)
        self._writer.on_health(t, rows)
        self._writer.flush()
        qsize = self._queue.qsize()
        if qsize > QUEUE_WARN_CHUNKS and t - self._last_queue_warn > QUEUE_WARN_REPEAT:
            self._last_queue_warn = t
            msg = f"the recorder is falling behind: {qsize} chunks waiting (is the disk too slow?)"
            log.warning(msg)
            self._writer.log(t, "", msg, "warning")

    def _note_connection(self, name: str, st: StreamStats) -> None:
        """Log a device lost / back (polled at each flush; the times come from the source)."""
        # Logged even if it is back already (an outage shorter than a flush), but not one that
        # happened before this recording started.
        if st.lost_at >= self._t_start and self._lost_logged.get(name) != st.lost_at:
            self._lost_logged[name] = st.lost_at
            self._writer.log(st.lost_at, name, f"{name}: device lost ({st.lost_reason}); reopening it when it is back", "warning")
        back = st.reconnects - self._baseline[name].reconnects if name in self._baseline else st.reconnects
        if back > self._reconnects_logged.get(name, 0):
            self._reconnects_logged[name] = back
            self._writer.log(now(), name, f"{name}: {RECONNECTED} (reconnect {back}); the time it was gone is a gap", "warning")

    def _check_stall(self, name: str, st: StreamStats, t: float) -> None:
        info = self._streams[name]
        quiet = t - st.last_arrival if np.isfinite(st.last_arrival) else 0.0
        if info.regular and name not in self._stopped and quiet > STALL_WARN_SECONDS:
            if name not in self._stall_warned:
                self._stall_warned.add(name)
                self._writer.log(t, name, f"{name}: no data for {quiet:.1f} s", "warning")
        else:
            self._stall_warned.discard(name)

    def _on_failure(self, item: _Failure) -> None:
        stats = self.acquisition.stats
        hit = False
        for name in self._streams:
            st = stats.get(name)
            if st is not None and st.error and name not in self._stopped:
                self._stream_stopped(name, st.error, item.t)
                hit = True
        if not hit and item.stream in self._streams and item.stream not in self._stopped:
            self._stream_stopped(item.stream, item.message, item.t)

    def _stream_stopped(self, name: str, message: str, t: float) -> None:
        # Write what the stream delivered before it failed, so stopped_at is its last sample.
        self._write(name, self._pending.pop(name, []))
        self._pending_bytes.pop(name, None)
        w = self._writer.written(name)
        stopped_at = w.last_time if w.count else t
        self._stopped[name] = (message, stopped_at)
        log.error("stream %s stopped: %s", name, message)
        self._writer.log(t, name, message, "error")
        _emit(self.failed, name, message)

    def _fatal(self, e: BaseException) -> str:
        """The whole recording cannot go on (writer thread): stop cleanly and say why."""
        self._detach()
        msg = fatal_message(e, self._path, self.elapsed)
        with self._lock:
            self._state = "failed"
            if np.isnan(self._t_stop):
                self._t_stop = now()
        self.error = msg
        log.error(msg)
        _emit(self.failed, "", msg)
        return msg

    def _finish(self, reason: str) -> None:
        """Close the file and write footers (writer thread, last thing it does)."""
        t_end = self._t_stop if not np.isnan(self._t_stop) else now()
        stats = self.acquisition.stats
        for name in self._writer.stores:
            st = stats.get(name)
            if st is not None and st.lost and name not in self._stopped:
                try:  # a device still gone at the stop: the stream ended early
                    self._stream_stopped(name, f"{name}: device lost ({st.lost_reason}) and not back when the recording stopped", st.lost_at)
                except Exception as e:  # noqa: BLE001 - the footers below matter more
                    log.error("could not log the lost device of %s: %s", name, e)
        footers: dict[str, dict[str, Any]] = {}
        for name in self._writer.stream_names:
            d = _delta(stats.get(name), self._baseline.get(name))
            gaps = self._gaps(name)
            w = self._writer.written(name)
            message, stopped_at = self._stopped.get(name, ("", float("nan")))
            f: dict[str, Any] = dict(
                count=w.count,
                first_time=w.first_time,
                last_time=w.last_time,
                dropped=d.dropped,
                dropped_in_transit=d.dropped_in_transit,
                overflows=d.overflows,
                parse_errors=d.parse_errors,
                gap_count=len(gaps),
                gap_seconds=float(np.sum(gaps[:, 1] - gaps[:, 0])) if len(gaps) else 0.0,
                gaps=gaps,
                reconnects=d.reconnects,
                error=message,
                stopped_at=stopped_at,
            )
            f.update(w.clock)
            footers[name] = f
        epoch = time.time() - (now() - t_end)
        session = dict(
            end_time_iso=iso(epoch),
            end_time_epoch=epoch,
            end_host_time=t_end,
            duration=t_end - self._t_start,
            complete=True,
            stop_reason=reason,
            bytes_written=self._writer.bytes_written,
        )
        try:
            self._writer.on_stop(footers, session)
        except Exception as e:  # noqa: BLE001 - the data is safe; only the summary attributes are missing
            # on_stop closed (or abandoned) the SWMR file before this could fail; never close twice.
            if not self._writer.quarantined:
                log.error("could not write the footers of %s (%s); the data up to the last flush is readable", self._path, " ".join(str(e).split()))
        with self._lock:
            if self._state != "failed":
                self._state = "stopped"
        _emit(self.stopped, str(self._path))

    # -- helpers ---------------------------------------------------------------------------------
    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self.acquisition.stream_failed.disconnect(self._on_stream_failed, missing_ok=True)
            self.acquisition.consumer_failed.disconnect(self._on_consumer_failed, missing_ok=True)
            self.acquisition.stream_added.disconnect(self._on_stream_added, missing_ok=True)

    def _gaps(self, name: str) -> np.ndarray:
        """Gaps of a stream: timestamp jumps in the file ∪ gaps its source reported."""
        st = self.acquisition.stats.get(name)
        base = self._baseline.get(name)
        reported = st.gaps[len(base.gaps) if base else 0 :] if st else []
        return fmt.merge_gaps(self._writer.written(name).gaps, reported)

    def _warn_if_low_space(self, t: float) -> None:
        free = shutil.disk_usage(self._path.parent).free
        if free < MIN_FREE_BYTES:
            msg = f"only {free / 1e6:.0f} MB free on {mount_point(self._path)}"
            log.warning(msg)
            self._writer.log(t, "", msg, "warning")


def _emit(signal: Any, *args: Any) -> None:
    # A broken handler must not kill the writer thread (it would leave the file unclosed).
    try:
        signal.emit(*args)
    except Exception:  # noqa: BLE001
        log.exception("a handler of Recorder.%s raised", getattr(signal, "name", "signal"))


def _copy_stats(st: StreamStats | None) -> StreamStats:
    if st is None:
        return StreamStats()
    return StreamStats(
        samples=st.samples, dropped=st.dropped, overflows=st.overflows, parse_errors=st.parse_errors, gaps=list(st.gaps), reconnects=st.reconnects,
        dropped_in_transit=st.dropped_in_transit,
    )


def _delta(st: StreamStats | None, base: StreamStats | None) -> StreamStats:
    """Counters accumulated since the recording started."""
    if st is None:
        return StreamStats()
    base = base or StreamStats()
    return StreamStats(
        dropped=st.dropped - base.dropped,
        dropped_in_transit=st.dropped_in_transit - base.dropped_in_transit,
        overflows=st.overflows - base.overflows,
        parse_errors=st.parse_errors - base.parse_errors,
        reconnects=st.reconnects - base.reconnects,
    )


def _finite_times(chunk: Chunk | None) -> Chunk | None:
    """``chunk`` without samples whose timestamp is not finite (writer thread).

    A source should never produce them, but one NaN would break every later time-range read
    (they bisect on sorted timestamps), so it is dropped here rather than stored.
    """
    if chunk is None:
        return None
    ok = np.isfinite(chunk.timestamps)
    if ok.all():
        return chunk
    log.warning("dropping %d sample(s) without a valid timestamp", int((~ok).sum()))
    if not ok.any():
        return None

    def keep(a):
        return None if a is None else a[ok]

    return Chunk(chunk.data[ok], chunk.timestamps[ok], keep(chunk.device_times), keep(chunk.arrival_times))

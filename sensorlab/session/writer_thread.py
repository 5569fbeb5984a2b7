"""The writer thread of a `Recorder`: batches, flushes, stream failures and footers.

`Recorder` (`session/recorder.py`) is the recording's life cycle on the caller's and device
threads: start, stop, the subscription callbacks that only enqueue. This is the other half,
mixed into it (`RecorderWriterThread`): the one thread per recording that drains the queue,

- batches chunks per stream for `BATCH_INTERVAL` (each HDF5 append costs ~100 µs per dataset,
  so 1 kHz in 10-sample chunks unbatched would eat a fifth of a core) and hands them to the
  `SessionWriter` listener;
- every `FLUSH_INTERVAL` appends a health row per stream (`RecordingCounters`), logs lost,
  returned and silent devices (`StreamWatch`) and flushes, so a SIGKILL loses about that much;
- stops one stream whose device failed or whose data does not fit, and the whole recording
  on a failed write (disk full), cleanly, with the reason in the file;
- closes the file and writes the footers, the last thing it does.

The writer thread alone touches the writer after `start`; the queue items below are how the
other threads reach it.
"""

from __future__ import annotations

import logging
import queue
import shutil
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensorlab.acquisition.buffers import concat_chunks
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.session import failures
from sensorlab.session.failures import DiskAlmostFull, fatal_message
from sensorlab.session.metadata import iso
from sensorlab.session.preroll_splice import finite_times

log = logging.getLogger(__name__)

# -- timing constants ---------------------------------------------------------------------------
#: Seconds between flushes (+ health rows). A SIGKILL loses at most about this much.
FLUSH_INTERVAL = 0.5
#: Seconds chunks of one stream are collected before one append (fewer, larger HDF5 writes):
#: one batch per flush. A sample becomes durable and visible to readers only at a flush, so
#: batches written between flushes bought nothing; at 0.1 s (five per flush) the writer's cost
#: per batch, stream and time column (the compact time codec, h5py's appends, all holding the
#: GIL) made recording the demo rig cost ~1.5× the writer CPU of one batch per flush
#: (docs/performance/live-view.md, "Recording's cost to the live view"), and a SIGKILL lost up to a
#: flush interval plus a batch.
BATCH_INTERVAL = FLUSH_INTERVAL
#: Chunks waiting in the queue at which the recorder warns that the disk cannot keep up
#: (about 10 s of a typical rig: audio 100 + IMU 100 + camera 30 chunks/s).
QUEUE_WARN_CHUNKS = 2000
#: Seconds between repeated "falling behind" warnings.
QUEUE_WARN_REPEAT = 10.0
#: A stream's batch is written early once it holds this many bytes (raw video).
MAX_BATCH_BYTES = 8 * 1024 * 1024



#: Queue items the writer takes at most per wake-up (then it writes, flushes and takes more).
MAX_TAKE = 10_000

#: Queued by `Recorder.stop`: drain what is before it, write the footers, end the thread.
STOP = object()


@dataclass
class StreamFailure:
    """A device reported that its stream stopped (``Acquisition.stream_failed``)."""

    stream: str
    message: str
    t: float


@dataclass
class StreamAdded:
    """A stream that joined the running acquisition (a processor added while recording)."""

    info: StreamInfo
    t: float


@dataclass
class StreamEnded:
    """A stream whose processor was taken out (a model unloaded): queued after its last chunk."""

    stream: str
    t: float


@dataclass
class LogNote:
    """A session log entry from another thread (a consumer that was detached)."""

    stream: str
    message: str
    t: float


class RecorderWriterThread:
    """The writer-thread methods of `Recorder` (mixed into it; they use its queue, writer,
    counters, stream watch, pre-roll splice and state, set up by `Recorder.__init__` / `start`)."""

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
                    if item is STOP:
                        stopping = True
                    elif isinstance(item, StreamFailure):
                        self._on_failure(item)
                    elif isinstance(item, StreamAdded):
                        self._add_stream(item)
                    elif isinstance(item, StreamEnded):
                        self._end_stream(item)
                    elif isinstance(item, LogNote):
                        self._writer.log(item.t, item.stream, item.message, "error")
                    elif not self._abandon:
                        name, chunk = item
                        if name not in self._streams:
                            self._warn_unknown(name)
                            continue
                        chunk = finite_times(self._splice.dedupe(name, chunk))
                        for clock, held in self._splice.released():  # an LSL stream's clock offsets
                            self._pend(clock, held)
                        if chunk is None or name in self._rejected or not self._valid(name, chunk):
                            continue
                        self._pend(name, chunk)
                t = now()
                if stopping:
                    for clock, held in self._splice.released(stopping=True):
                        self._pend(clock, held)
                if stopping or t >= next_write:
                    for name, chunks in list(pending.items()):
                        self._write(name, chunks)
                    pending.clear()
                    pending_bytes.clear()
                    next_write = t + BATCH_INTERVAL
                if stopping or t >= next_flush:
                    short = None if stopping else self._space_short()
                    if short is not None:
                        for name, chunks in list(pending.items()):  # what arrived is in the file
                            self._write(name, chunks)
                        pending.clear()
                        raise DiskAlmostFull(short)
                    self._flush(t)
                    next_flush = t + FLUSH_INTERVAL
        except Exception as e:  # noqa: BLE001 - a full disk (OSError or RuntimeError from h5py) or a bug
            if not isinstance(e, OSError | RuntimeError):
                log.exception("recorder writer thread crashed")
            reason = self._fatal(e)
        finally:
            self._finish(reason)

    def _pend(self, name: str, chunk: Chunk) -> None:
        """Queue ``chunk`` for the next batched write (at once past `MAX_BATCH_BYTES`)."""
        pending, pending_bytes = self._pending, self._pending_bytes
        pending.setdefault(name, []).append(chunk)
        pending_bytes[name] = pending_bytes.get(name, 0) + chunk.data.nbytes
        if pending_bytes[name] >= MAX_BATCH_BYTES:
            self._write(name, pending.pop(name))
            pending_bytes[name] = 0

    def _space_short(self) -> str | None:
        """Why the disk has less room than a clean stop needs (see `failures.STOP_FREE_BYTES`;
        0 turns the check off), or None; one statvfs per flush interval."""
        if failures.STOP_FREE_BYTES <= 0:
            return None
        written = self._writer.bytes_written
        recent, self._space_seen = written - getattr(self, "_space_seen", 0), written
        need = max(failures.STOP_FREE_BYTES, 4 * recent)
        free = shutil.disk_usage(self._path.parent).free
        return f"{free} bytes free on the disk of {self._path}, a clean stop needs {need}" if free < need else None

    def _take(self, deadline: float) -> list[Any]:
        """Sleep until ``deadline`` (or `Recorder.stop`), then take everything waiting.

        Not woken by every chunk: the batches are written at ``deadline`` anyway, and waking
        for each of the demo rig's ~420 chunks a second cost a GIL hand-over each, with the GUI
        thread made to give the GIL up for it (docs/performance/live-view.md, "Live view, tenth round").
        After a drain that hit `MAX_TAKE` (the writer behind) it does not sleep."""
        if not self._behind:
            self._wake.wait(max(0.0, deadline - now()))
        items = []
        while len(items) < MAX_TAKE:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._behind = len(items) >= MAX_TAKE
        return items

    def _add_stream(self, item: StreamAdded) -> None:
        """Add a stream announced while recording to the file (writer thread)."""
        info = item.info
        if info.name in self._streams:
            # It was already running when the recording started, or it ended and runs again (a
            # model mapped anew under its name): its samples go on in the same dataset.
            if self._ended.pop(info.name, None) is not None:
                self._writer.log(item.t, info.name, f"stream {info.name} ({info.device or info.kind.value}) runs again at {item.t - self._t_start:.3f} s", "info")
            return
        try:
            self._writer.add_stream(info, item.t)
        except ValueError as e:
            self._writer.log(item.t, info.name, f"{info.name}: cannot be recorded ({e})", "error")
            return
        self._streams[info.name] = info
        self._counters.join(info.name)
        self._writer.log(item.t, info.name, f"stream {info.name} ({info.device or info.kind.value}) added at {item.t - self._t_start:.3f} s into the recording", "info")

    def _end_stream(self, item: StreamEnded) -> None:
        """A stream ended cleanly (writer thread): write what it sent; the file keeps all of it,
        its footers say where it ended (``stopped_at``, no ``error``)."""
        name = item.stream
        if name not in self._streams or name in self._stopped:
            return
        self._write(name, self._pending.pop(name, []))
        self._pending_bytes.pop(name, None)
        self._ended[name] = item.t
        self._writer.log(item.t, name, f"stream {name} ended at {item.t - self._t_start:.3f} s into the recording (its processor was removed)", "info")

    def _warn_unknown(self, name: str) -> None:
        if name not in self._unknown:
            self._unknown.add(name)
            msg = f"{name}: chunks of a stream this recording does not have are ignored (add processors through Acquisition.add_processor)"
            log.warning(msg)
            self._writer.log(now(), name, msg, "warning")

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
        if self._writer.flush_due:  # keep what a full disk's final flush needs within the reserve
            self._writer.flush()

    def _flush(self, t: float) -> None:
        stats = self.acquisition.stats
        rows = {}
        for name in self._writer.stream_names:
            st = stats.get(name)
            rows[name] = self._counters.health_row(name, self._writer.written(name, clock=False))
            if st is None:
                continue
            if st.error and name not in self._stopped:
                self._stream_stopped(name, st.error, t)
            self._watch.note_connection(name, st)
            self._watch.note_problem(name, st)
            self._watch.check_stall(name, self._streams[name], st, t, name in self._stopped)
        self._writer.on_health(t, rows)
        self._writer.flush()
        qsize = self._queue.qsize()
        if qsize > QUEUE_WARN_CHUNKS and t - self._last_queue_warn > QUEUE_WARN_REPEAT:
            self._last_queue_warn = t
            msg = f"the recorder is falling behind: {qsize} chunks waiting (is the disk too slow?)"
            log.warning(msg)
            self._writer.log(t, "", msg, "warning")

    def _on_failure(self, item: StreamFailure) -> None:
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
        # Write what the stream delivered before it failed; its footer's stopped_at is then its
        # last sample, or `t` if it recorded none (`RecordingCounters.footers` decides).
        self._write(name, self._pending.pop(name, []))
        self._pending_bytes.pop(name, None)
        self._stopped[name] = (message, t)
        log.error("stream %s stopped: %s", name, message)
        self._writer.log(t, name, message, "error")
        emit(self.failed, name, message)

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
        emit(self.failed, "", msg)
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
        footers = {name: self._counters.footers(name, self._writer.written(name), self._stopped.get(name, ("", self._ended.get(name, float("nan")))))
                   for name in self._writer.stream_names}  # fmt: skip
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
        emit(self.stopped, str(self._path))


def emit(signal: Any, *args: Any) -> None:
    # A broken handler must not kill the writer thread (it would leave the file unclosed).
    try:
        signal.emit(*args)
    except Exception:  # noqa: BLE001
        log.exception("a handler of Recorder.%s raised", getattr(signal, "name", "signal"))

"""`SessionWriter`: the HDF5 listener that turns batches of chunks into a session file.

Listener protocol (docs/ARCHITECTURE.md): ``on_start(streams, metadata)``, ``on_chunk(stream,
chunk)``, ``on_stop(footers)``, plus ``on_health`` and ``log``. The `Recorder` calls all of
them on its writer thread, one at a time; the writer itself starts no threads.

Why the layout looks the way it does (details in docs/SESSION-FORMAT.md):

- The file is written in SWMR mode so a live reader can follow it and a SIGKILLed recording
  still opens. SWMR forbids creating datasets or attributes once it is on, so every dataset
  of every stream exists before `on_start` returns, and everything that changes during the
  recording (counters) goes into growable tables, never into attributes.
- Variable-length types are not SWMR-safe, so JPEG frames and event strings go into one
  growable uint8 blob per stream with an ``(n, 2)`` (offset, size) index.
- Footers (final counts, gaps, clock fit, end time) are attributes, so they are written
  after the SWMR file is closed, by reopening it read-write.

This module is the file's life cycle (create, add a stream, flush, close, footers, the disk
reserve: `sensorlab.session.disk_reserve`); how each stream's datasets are filled is
`sensorlab.session.stream_stores`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.session import format as fmt
from sensorlab.session.disk_reserve import DiskReserve
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.stream_stores import (
    ArrayStore,
    BlobStore,
    StreamStore,
    clock_footers,
)

log = logging.getLogger(__name__)

#: HDF5 format versions written. "v110" is the oldest that supports SWMR; "latest" on HDF5 2.x
#: would write structures that HDF5 1.10/1.12 tools (Debian's hdf5-tools) cannot read.
LIBVER = ("v110", "v110")

#: Data appended since the last flush is kept under this share (1/N) of the disk reserve, so the
#: flush that closes the file after a full disk fits in the space the reserve gives back (a
#: writer slowed by a busy machine appends more between its timed flushes than a 3 MB disk's
#: 375 kB reserve holds: the file was then abandoned without its footers).
RESERVE_SHARE = 4


class WriteError(OSError):
    """The session file could not be flushed or closed; it is readable up to the last flush."""


@dataclass(frozen=True)
class Written:
    """What has been written of one stream so far (`SessionWriter.written`)."""

    count: int
    first_time: float
    last_time: float
    gaps: np.ndarray  # (k, 2) timestamp jumps found while writing
    clock: dict[str, float]  # `clock_footers` of the stream's device-clock fit ({} without one)



class SessionWriter:
    """Write one session file.

    Parameters
    ----------
    path
        The ``.h5`` file to create; it must not exist.
    video_encoding
        ``"jpeg"`` (default) or ``"raw"``.
    jpeg_quality
        0–100, for ``cv2.imencode``.
    time_layout
        ``"compact"`` (default, schema 3.0): per-sample times stored as verified linear runs
        (`sensorlab.session.timecodec`), irregular raw arrival times as whole µs after their
        timestamp, and samples as the device delivered them (counts with their scale, see
        `StreamInfo.scale`); ``"segments"``: a schema 2.0 file that sensorlab 2.x can read
        (every time bit-exact, arrival times too); ``"samples"``: a schema 1.4 file that
        sensorlab before 2.0 can read: one float64 per sample and clock, counts stored as
        float32 physical values.
    compression
        ``None`` (default), ``"gzip"`` (level 1) or ``"lzf"``: a lossless filter, after the
        byte shuffle, on the ``data`` of array streams (audio, timeseries, frames; JPEG and
        text are not recompressed). Builtin HDF5 filters (lzf: shipped with h5py), so plain
        h5py reads the file; what they gain and cost is in docs/PERFORMANCE.md.

    Thread-safety: not thread-safe; one thread (the recorder's writer thread) calls every
    method. ``bytes_written`` may be read from any thread (an int, replaced atomically).
    """

    def __init__(self, path: str | Path, video_encoding: str = "jpeg", jpeg_quality: int = 90, time_layout: str = fmt.TimeLayout.COMPACT.value,
                 compression: str | None = None):  # fmt: skip
        if compression not in fmt.COMPRESSIONS:
            raise ValueError(f"compression must be one of {list(fmt.COMPRESSIONS)}, not {compression!r}")
        self.compression = compression
        self.path = Path(path)
        self.time_layout = fmt.TimeLayout(time_layout)
        #: A 1.x file (sensorlab before 2.0 reads it), a 2.0 or a 3.0 one; see ``time_layout``.
        self.legacy = self.time_layout is fmt.TimeLayout.SAMPLES
        self.schema_version = self.time_layout.schema_version
        self.video_encoding = video_encoding
        self.jpeg_quality = int(jpeg_quality)
        self.bytes_written = 0
        self.flushed_bytes = 0  # `bytes_written` at the last flush
        self.stores: dict[str, StreamStore] = {}
        self._file: h5py.File | None = None
        self._log: BlobStore | None = None
        self.reserve = DiskReserve(self.path)  # released when a write fails with a full disk
        self.reserve_path = self.reserve.path
        self.quarantined = False  # True once a file whose flush failed was abandoned (see `close`)
        #: True once any write or flush failed: some appended data may never have reached the
        #: disk, so the file is never marked complete (see `on_stop`).
        self.write_failed = False

    # -- listener protocol ------------------------------------------------------------------
    def on_start(self, streams: Mapping[str, StreamInfo], metadata: SessionMetadata, attrs: Mapping[str, Any] | None = None) -> None:
        """Create the file and every dataset, then switch SWMR on (caller's thread: `Recorder.start`).

        Raises
        ------
        FileExistsError
            ``path`` exists (a recording is never overwritten).
        """
        if self.path.exists():
            raise FileExistsError(f"{self.path} already exists; choose another name (recordings are never overwritten)")
        for info in streams.values():  # fail before creating anything
            fmt.storage_for(info, self.video_encoding)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # "w-": created only if absent, so a second recorder started at once cannot truncate it
            f = h5py.File(self.path, "w-", libver=LIBVER, rdcc_nbytes=fmt.CHUNK_CACHE_BYTES)
        except FileExistsError:
            raise FileExistsError(f"{self.path} already exists; choose another name (recordings are never overwritten)") from None
        try:
            f.attrs["schema"] = fmt.SCHEMA
            for k, v in metadata.to_attrs().items():
                f.attrs[k] = v
            f.attrs["schema_version"] = self.schema_version
            for k, v in (attrs or {}).items():
                f.attrs[k] = v
            root = f.create_group(fmt.STREAMS)
            for name, info in streams.items():
                self._create_stream(root, name, info)
            self._log = BlobStore(f.create_group(fmt.LOG), None, fmt.Storage.UTF8, self)
            f.swmr_mode = True
        except BaseException:
            f.close()
            self.path.unlink(missing_ok=True)
            raise
        self._file = f
        self.reserve.make()

    def _create_stream(self, root: h5py.Group, name: str, info: StreamInfo, attrs: Mapping[str, Any] | None = None) -> None:
        storage = fmt.storage_for(info, self.video_encoding)
        source_info = info  # what chunks carry
        if self.legacy:
            info = info.physical()  # 1.x readers know no scale: store what they must return
        g = root.create_group(name)
        g.attrs["info"] = info.to_json()
        g.attrs["kind"] = info.kind.value
        g.attrs["storage"] = storage.value
        g.attrs[fmt.TIME_LAYOUT] = self.time_layout.value
        if storage is fmt.Storage.JPEG:
            g.attrs["jpeg_quality"] = self.jpeg_quality
        for k, v in (attrs or {}).items():
            g.attrs[k] = v
        cls = ArrayStore if storage is fmt.Storage.ARRAY else BlobStore
        self.stores[name] = cls(g, info, storage, self)
        self.stores[name].source_info = source_info

    def add_stream(self, info: StreamInfo, added_at: float) -> None:
        """Add a stream to the file while it is written (a processor started mid-recording).

        SWMR forbids creating objects while it is on, so the file is flushed and closed,
        reopened, given the stream's group (attribute ``added_at``: host time the stream
        joined) and switched back to SWMR; every stream's datasets are reopened. A live
        reader sees the new stream after it reopens the file. Costs a few milliseconds.

        Raises
        ------
        ValueError
            The name is taken or the stream cannot be stored; the file is unchanged.
        """
        if info.name in self.stores:
            raise ValueError(f"stream {info.name!r} is already in {self.path.name}")
        fmt.storage_for(info, self.video_encoding)  # fail before touching the file
        if self._file is None:
            raise ValueError(f"{self.path.name} is not being written")
        stores = [st for st in [*self.stores.values(), self._log] if st is not None]
        names = [{k: v.name for k, v in vars(st).items() if isinstance(v, h5py.Dataset)} for st in stores]
        lists = [[d.name for d in st.datasets] for st in stores]  # names die with the closed file
        self._drain()
        old, self._file = self._file, None
        old.flush()
        old.close()
        f = self._file = h5py.File(self.path, "r+", libver=LIBVER, rdcc_nbytes=fmt.CHUNK_CACHE_BYTES)
        try:
            self._create_stream(f[fmt.STREAMS], info.name, info, {fmt.ADDED_AT: float(added_at)})
        finally:
            f.swmr_mode = True
            for st, by_attr, paths in zip(stores, names, lists, strict=True):
                for k, path in by_attr.items():
                    setattr(st, k, f[path])
                for col in st.cols.values():
                    col.rebind(f)
                st.datasets = [f[p] for p in paths]

    def written(self, stream: str, clock: bool = True) -> Written:
        """Samples written so far of ``stream``, its time span, timestamp gaps and clock fit
        (``clock=False``: ``{}`` instead of the fit, a robust line fit with medians that holds the
        GIL; the flush's health row computes it from the stream's store itself, and asking here
        too computed it twice per stream and flush)."""
        st = self.stores[stream]
        gaps = fmt.merge_gaps(*st.gaps)
        return Written(st.count, st.first_time, st.last_time, gaps, clock_footers(st.clock, st.early_clock) if clock else {})

    @property
    def stream_names(self) -> list[str]:
        """Streams of the file, in creation order."""
        return list(self.stores)

    def on_chunk(self, stream: str, chunk: Chunk) -> int:
        """Append a (batched) chunk; returns the number of samples written.

        Raises
        ------
        ValueError
            The chunk does not match the stream (wrong shape); nothing was written.
        OSError
            The write failed (disk full, disk gone); the file is valid up to the last flush.
        """
        return self.stores[stream].append(chunk)

    def check(self, stream: str, chunk: Chunk) -> None:
        """Raise `ValueError` if ``chunk`` cannot be appended to ``stream`` (cheap; no I/O)."""
        self.stores[stream]._check(chunk)

    def on_health(self, t: float, rows: Mapping[str, tuple[int, ...]]) -> None:
        """Append a health row per stream: (samples, dropped, overflows, parse_errors, gaps[, dropped_in_transit]).

        A ``compact`` (4.0) file gets a stream's row only when something a reader reports from
        it changed, or every `format.HEALTH_EVERY` seconds (`StreamStore.health_row`).
        """
        sparse = self.time_layout is fmt.TimeLayout.COMPACT
        for name, counts in rows.items():
            row = self.stores[name].health_row(t, counts, sparse)
            if row is not None:
                self._append(self.stores[name].health, row)

    def log(self, t: float, stream: str, message: str, level: str = "info") -> None:
        """Append a message to the session log (SWMR-safe, so it survives a crash)."""
        if self._log is not None:
            text = json.dumps({"stream": stream, "level": level, "message": message})
            self._log.append(Chunk(np.array([text], dtype=object), np.array([t])))

    def flush(self) -> None:
        """Make everything appended so far durable and visible to SWMR readers."""
        if self._file is not None:
            try:
                self._drain()
                self._file.flush()
            except BaseException:
                self.write_failed = True
                raise
            self.flushed_bytes = self.bytes_written

    @property
    def flush_due(self) -> bool:
        """More has been appended since the last flush than the disk reserve can take: the
        final flush after a full disk must fit in the reserve (`close`), so flush now."""
        limit = self.reserve.size // RESERVE_SHARE
        return self._file is not None and limit > 0 and self.bytes_written - self.flushed_bytes >= limit

    def _drain(self) -> None:
        """Append the time runs encoded since the last flush (layout segments; see `ColumnWriter`)."""
        for store in self.stores.values():
            for col in store.cols.values():
                col.drain()

    def close(self) -> None:
        """Flush and close the SWMR file (idempotent); always removes the reserve file.

        If the flush fails (disk full), the reserve is released and the flush retried. If it
        still fails, the file is *abandoned* rather than closed: HDF5 (2.0) frees part of an
        object whose close failed and crashes (SIGSEGV) when the object is closed again, which
        h5py does when it is garbage-collected. So the h5py objects are locked (never closed
        by h5py) and the file stays open until the process exits; it then reads like a crashed
        SWMR recording, up to the last successful flush.

        Raises
        ------
        WriteError
            The final flush failed even after releasing the reserve.
        """
        if self._file is None:
            self.reserve.release()
            return
        f, self._file = self._file, None
        try:
            try:
                self._drain()
                f.flush()
            except Exception:  # noqa: BLE001 - h5py raises RuntimeError or OSError on ENOSPC
                self.write_failed = True
                if not self.reserve.release():
                    raise
                self._drain()  # every write carries its position: repeating one is harmless
                f.flush()
        except Exception as e:  # noqa: BLE001
            self._quarantine(f)
            raise WriteError(f"could not flush {self.path} ({' '.join(str(e).split())})") from e
        finally:
            self.reserve.release()
        f.close()

    def _quarantine(self, f: h5py.File) -> None:
        objs = [f] + [ds for store in [*self.stores.values(), self._log] if store is not None for ds in store.datasets]
        for obj in objs:
            obj.id.locked = True
        _ABANDONED.append(objs)
        self.quarantined = True
        log.warning("%s: the final flush failed too; it reads like a crashed recording (up to the last flush) and stays open until this process exits", self.path)

    def on_stop(self, footers: Mapping[str, Mapping[str, Any]], session: Mapping[str, Any]) -> None:
        """Close the file, reopen it read-write and write the footer attributes.

        ``footers`` maps stream name → attributes (a ``gaps`` entry becomes a dataset);
        ``session`` holds root attributes (end time, stop reason). After a failed write
        ``complete`` is stored as False whatever ``session`` says: the footers then describe
        what was sent to the file, not what reached the disk, and readers validate every sample.
        """
        self.close()
        if self.write_failed and "complete" in session:
            session = {**session, "complete": False}
        with h5py.File(self.path, "r+", libver=LIBVER) as f:
            for name, attrs in footers.items():
                g = f[fmt.STREAMS][name]
                for k, v in attrs.items():
                    if k == fmt.GAPS:
                        g.create_dataset(fmt.GAPS, data=np.asarray(v, dtype=np.float64).reshape(-1, 2))
                    else:
                        g.attrs[k] = v
            for k, v in session.items():
                f.attrs[k] = v

    # -- the one low-level write (patched by the disk-full test) -----------------------------
    def _append(self, ds: h5py.Dataset, values: np.ndarray, at: int | None = None) -> None:
        """Grow ``ds`` along axis 0 and write ``values`` at ``at`` (default: the end)."""
        dsid = ds.id
        n0 = dsid.shape[0] if at is None else at
        try:
            if len(values) and values.dtype == ds.dtype and not values.dtype.hasobject and values.shape[1:] == dsid.shape[1:]:
                # The same write as ``ds.resize`` + ``ds[n0:] = values``, through h5py's
                # low-level calls: its high-level selection machinery costs ~80 µs of Python
                # per append (~4x the write), all of it holding the GIL the live view and the
                # device threads wait for (~160 appends a second on the demo rig).
                shape = (n0 + len(values), *dsid.shape[1:])
                dsid.set_extent(shape)
                space = dsid.get_space()
                space.select_hyperslab((n0,) + (0,) * (values.ndim - 1), values.shape)
                dsid.write(h5py.h5s.create_simple(values.shape), space, np.ascontiguousarray(values))
            else:  # a conversion of dtype or shape (or object values): h5py's high-level path
                ds.resize(n0 + len(values), axis=0)
                ds[n0:] = values
        except BaseException:
            self.write_failed = True
            raise
        self.bytes_written += values.nbytes


#: h5py objects of files abandoned by `SessionWriter.close`: kept (and locked) for the life of
#: the process so they are never closed a second time.
_ABANDONED: list[list] = []

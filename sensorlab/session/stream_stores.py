"""How one stream's samples, times and clock bookkeeping go into its datasets (`SessionWriter`'s parts).

`StreamStore` creates a stream's datasets (before SWMR is switched on) and appends each batch:
samples first, then raw device and arrival times, then timestamps, because a reader trusts a
sample only once its timestamp is there. `ArrayStore` holds fixed-size samples (audio,
timeseries, frames, raw video); `BlobStore` JPEG frames or UTF-8 text in one growable uint8
blob with an (offset, size) index, since variable-length types are not SWMR-safe.
`clock_footers` summarises a stream's device-clock fit for the footers and health rows.

Every write goes through the writer's one low-level ``_append`` (it counts bytes, marks a failed
write, and is what the disk-full test patches); the stores keep no file handle of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h5py
import numpy as np

from sensorlab.acquisition.clock import MIN_DRIFT_SPAN, REANCHOR_TOLERANCE, ClockFit
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.session import format as fmt
from sensorlab.session.time_columns import ColumnWriter

if TYPE_CHECKING:
    from sensorlab.session.writer import SessionWriter


class StreamStore:
    """Datasets of one stream; appends timestamps, raw times and gap/clock bookkeeping."""

    def __init__(self, g: h5py.Group, info: StreamInfo | None, storage: fmt.Storage, writer: SessionWriter):
        self.info = info  # the stream as stored
        self.source_info = info  # as chunks carry it (differs only in legacy files; set by the writer)
        self.storage = storage
        self.writer = writer
        self.count = 0
        self.first_time = float("nan")
        self.last_time = float("nan")
        self.gaps: list[np.ndarray] = []
        #: ``(time, counters)`` of the stream's last health row (`SessionWriter.on_health`).
        self.last_health: tuple[float, tuple] | None = None
        rate = info.nominal_rate if info else 0.0
        rows = fmt.chunk_rows(8, rate, lo=256)
        self.datasets: list[h5py.Dataset] = []
        #: Time columns stored as runs (layout "segments"); {} for the "samples" layout and the log.
        self.cols: dict[str, ColumnWriter] = {}
        self.clock: ClockFit | None = None
        self.early_clock: ClockFit | None = None
        if info is not None and not writer.legacy:
            micros = writer.time_layout is fmt.TimeLayout.COMPACT
            for key in (fmt.TIMESTAMPS, fmt.DEVICE_TIMES, fmt.ARRIVAL_TIMES):
                self.cols[key] = ColumnWriter(g, key, rows, writer._append, micros=micros and key == fmt.ARRIVAL_TIMES)
                self.datasets += self.cols[key].datasets
        else:
            # NaN fill: a chunk that never reached the disk (crash, full disk) reads as NaN, never
            # as a plausible time.
            self.timestamps = g.create_dataset(fmt.TIMESTAMPS, (0,), "f8", maxshape=(None,), chunks=(rows,), fillvalue=np.nan)
            self.datasets.append(self.timestamps)
        if info is None:  # the session log: timestamps + text only
            return
        if not self.cols:
            # Raw clocks are optional per chunk. The datasets are created now (SWMR) but only
            # grown when a chunk carries them, so a stream without them costs nothing; the reader
            # pads with the NaN fill value.
            self.device_times = g.create_dataset(fmt.DEVICE_TIMES, (0,), "f8", maxshape=(None,), chunks=(rows,), fillvalue=np.nan)
            self.arrival_times = g.create_dataset(fmt.ARRIVAL_TIMES, (0,), "f8", maxshape=(None,), chunks=(rows,), fillvalue=np.nan)
            self.datasets += [self.device_times, self.arrival_times]
        # Two rows a second of 80 bytes each were 1.6 bytes per sample of a 100 Hz stream; the
        # counters barely change, so shuffle + gzip makes them ~10× smaller (any HDF5 reads it).
        compress = fmt.TimeLayout.COMPACT is writer.time_layout
        self.health = g.create_dataset(fmt.HEALTH, (0,), fmt.HEALTH_DTYPE, maxshape=(None,), chunks=(64,),
                                       **({"shuffle": True, "compression": "gzip", "compression_opts": 1} if compress else {}))  # fmt: skip
        self.datasets.append(self.health)
        if info.has_device_time:
            # Re-anchoring keeps the drift figure sane when the device clock steps (lines lost,
            # a paused device) and counts the steps for `sensorlab info`.
            self.clock = ClockFit(reanchor=REANCHOR_TOLERANCE)
            # The drift of the first seconds, before `clock` fits one: every hand-over, finer
            # bins (the recorder batches many hand-overs per chunk, and one pair per batch left
            # a 3 s file a handful of points and a ~1000 ppm error bar). Fed only until `clock`
            # has its own slope. No re-anchoring: arrivals in one burst (not a clock) give an
            # implausible line and no estimate.
            self.early_clock = ClockFit(bin_seconds=0.25, reanchor=None)

    def health_row(self, t: float, counts: tuple[int, ...], sparse: bool) -> np.ndarray | None:
        """The stream's health row at ``t`` from ``counts`` = (samples, dropped, overflows,
        parse_errors, gaps[, dropped_in_transit]), or None when ``sparse`` and it may be left out.

        ``sparse`` (a 4.0 ``compact`` file): a row only when one of the loss counters, the clock's
        re-anchors or whether it has a fit changed since the last row, or `format.HEALTH_EVERY`
        seconds after it. Every counter a crashed file reports is still the one of its last
        flush; its clock figures and ``samples`` are at most that old. Two rows a second were
        19 bytes each compressed (the floats' mantissas do not compress), 0.4 byte per sample of
        a 100 Hz stream.
        """
        samples, dropped, overflows, parse_errors, gaps, *rest = counts
        c = clock_footers(self.clock, self.early_clock)
        in_transit = rest[0] if rest else 0
        key = (dropped, overflows, parse_errors, gaps, c.get("clock_reanchors", 0), in_transit, bool(c))
        if sparse and self.last_health is not None:
            last_t, last_key = self.last_health
            if key == last_key and t - last_t < fmt.HEALTH_EVERY:
                return None
        self.last_health = (t, key)
        return np.array(
            [(t, samples, dropped, overflows, parse_errors, gaps, c.get("clock_offset", np.nan), c.get("clock_drift_ppm", np.nan), c.get("clock_reanchors", 0), in_transit)],
            dtype=fmt.HEALTH_DTYPE,
        )

    def append(self, chunk: Chunk) -> int:
        n = len(chunk)
        if n == 0:
            return 0
        self._check(chunk)
        ts = chunk.timestamps
        w = self.writer
        self._append_data(chunk)  # data first: a reader trusts min(len(data), len(timestamps))
        if self.info is not None:
            for key, values in ((fmt.DEVICE_TIMES, chunk.device_times), (fmt.ARRIVAL_TIMES, chunk.arrival_times)):
                if values is None:
                    continue
                if self.cols:
                    self.cols[key].write(values, start=self.count, timestamps=ts)
                else:
                    w._append(getattr(self, key), np.asarray(values, dtype=np.float64), at=self.count)
            if self.clock is not None and chunk.device_times is not None and chunk.arrival_times is not None:
                # One pair per chunk is plenty for the fit (cheap, and the fit bins anyway).
                self.clock.add(float(chunk.device_times[-1]), float(chunk.arrival_times[-1]))
                early = self.early_clock
                if early is not None:
                    arr = np.asarray(chunk.arrival_times, dtype=np.float64)
                    for i in np.append(np.flatnonzero(arr[1:] != arr[:-1]), len(arr) - 1):  # last of each hand-over: freshest
                        early.add(float(chunk.device_times[i]), float(arr[i]))
                    bins = early._bins
                    if bins and bins[-1][1] - bins[0][1] > MIN_DRIFT_SPAN + 1.0:
                        self.early_clock = None if self.clock.drift_estimate() is not None else early
            g = fmt.find_gaps(ts, self.info.nominal_rate, self.last_time if self.count else None)
            if len(g):
                self.gaps.append(g)
        if self.cols:  # timestamps last: they make the samples visible
            self.cols[fmt.TIMESTAMPS].write(ts, start=self.count)
        else:
            w._append(self.timestamps, ts)
        if self.count == 0:
            self.first_time = float(ts[0])
        self.count += n
        self.last_time = float(ts[-1])
        return n

    def _check(self, chunk: Chunk) -> None:
        pass

    def _append_data(self, chunk: Chunk) -> None:
        raise NotImplementedError


class ArrayStore(StreamStore):
    """``data`` is ``(n, *sample_shape)`` of the stream's dtype (timeseries, audio, frames, raw video)."""

    def __init__(self, g, info, storage, writer):
        super().__init__(g, info, storage, writer)
        shape = info.sample_shape
        dtype = np.dtype(info.dtype)
        row_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if shape else dtype.itemsize
        # One frame per chunk for video (a frame is ~1 MB); ~1 s or CHUNK_BYTES otherwise.
        rows = 1 if info.kind is StreamKind.VIDEO else fmt.chunk_rows(row_bytes, info.nominal_rate)
        self.data = g.create_dataset(fmt.DATA, (0, *shape), dtype, maxshape=(None, *shape), chunks=(rows, *shape),
                                     **fmt.COMPRESSIONS[writer.compression])  # fmt: skip
        self.datasets.append(self.data)
        if info.scaled:
            # Counts as the device delivered them; the conversion is in the stream's ``info`` and,
            # under the netCDF/CF names, on ``data`` itself for tools that know nothing of sensorlab.
            self.data.attrs[fmt.SCALE_FACTOR] = np.asarray(info.scale or (1.0,), dtype=np.float64)
            self.data.attrs[fmt.ADD_OFFSET] = np.asarray(info.offset or (0.0,), dtype=np.float64)
            if info.units:
                self.data.attrs[fmt.UNITS] = np.array(info.units, dtype=h5py.string_dtype())

    def _check(self, chunk: Chunk) -> None:
        # The declared sample shape, not ``self.data.shape[1:]``: asking HDF5 for the shape cost
        # ~40 µs (GIL held) for every chunk that arrived, ~400 a second on the demo rig.
        if chunk.data.shape[1:] != self.info.sample_shape:
            raise ValueError(f"stream {self.info.name!r}: samples of shape {chunk.data.shape[1:]} do not match the declared {self.info.sample_shape}")

    def _append_data(self, chunk: Chunk) -> None:
        # `to_physical` is the identity except where a legacy (1.x) file stores the physical
        # values of a stream that delivers counts.
        data = self.source_info.to_physical(chunk.data) if self.source_info is not self.info else chunk.data
        self.writer._append(self.data, np.asarray(data, dtype=self.data.dtype), at=self.count)


class BlobStore(StreamStore):
    """``data`` is a uint8 blob and ``index`` (n, 2) int64 (offset, size): JPEG frames or UTF-8 text."""

    def __init__(self, g, info, storage, writer):
        super().__init__(g, info, storage, writer)
        self.data = g.create_dataset(fmt.DATA, (0,), "u1", maxshape=(None,), chunks=(fmt.BLOB_CHUNK,))
        self.index = g.create_dataset(fmt.INDEX, (0, 2), "i8", maxshape=(None, 2), chunks=(fmt.chunk_rows(16, 0, 256), 2))
        self.datasets += [self.data, self.index]
        self.blob_size = 0

    def _encode(self, chunk: Chunk) -> list[bytes]:
        if self.storage is fmt.Storage.UTF8:
            return [x if isinstance(x, bytes) else str(x).encode("utf-8") for x in chunk.data]
        import cv2

        params = [cv2.IMWRITE_JPEG_QUALITY, self.writer.jpeg_quality]
        out = []
        for frame in chunk.data:
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(frame), params)
            if not ok:
                raise ValueError(f"stream {self.info.name!r}: cv2 could not JPEG-encode a frame of shape {frame.shape}")
            out.append(buf)
        return out

    def _check(self, chunk: Chunk) -> None:
        if self.storage is fmt.Storage.JPEG and (chunk.data.ndim not in (3, 4) or chunk.data.dtype != np.uint8):
            raise ValueError(f"stream {self.info.name!r}: video frames must be (n, h, w[, 3]) uint8, got {chunk.data.shape} {chunk.data.dtype}")

    def _append_data(self, chunk: Chunk) -> None:
        parts = self._encode(chunk)
        sizes = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        offsets = self.blob_size + np.concatenate([[0], np.cumsum(sizes)[:-1]])
        blob = np.concatenate([np.frombuffer(p, np.uint8) if isinstance(p, bytes) else p.reshape(-1) for p in parts])
        self.writer._append(self.data, blob, at=self.blob_size)
        self.blob_size += len(blob)
        self.writer._append(self.index, np.stack([offsets, sizes], axis=1), at=self.count)


def clock_footers(clock: ClockFit | None, early: ClockFit | None = None) -> dict[str, float]:
    """``clock_offset``, ``clock_slope``, ``clock_drift_ppm``, ``clock_drift_stderr_ppm``,
    ``clock_drift_span``, ``clock_reanchors`` of a stream's fit ({} without one).

    ``clock_slope`` is the slope the offset was fitted with: NaN until the fit uses one
    (`ClockFit` fixes it at exactly 1 until it has `clock.MIN_DRIFT_SPAN` seconds of device
    time). ``clock_drift_ppm`` is the drift measured so far, from about a second of device time
    on, with its standard error ``clock_drift_stderr_ppm`` over ``clock_drift_span`` device
    seconds (`ClockFit.drift_estimate`): a short recording says how uncertain its figure is
    rather than nothing. All three are NaN when not even an estimate exists ("not estimated"
    is not "no drift").

    ``early`` is the writer's every-hand-over fit of the first seconds: its estimate is used
    until ``clock`` fits a slope itself, unless ``clock`` re-anchored (a device clock that
    stepped: only the re-anchoring fit's figure means anything then).
    """
    m = clock.mapping() if clock is not None else None
    if m is None:
        return {}
    est = clock.drift_estimate()
    used = est is not None and est.used
    if not used and early is not None and clock.reanchors == 0:
        est = early.drift_estimate() or est
    return {
        "clock_offset": m.offset,
        "clock_slope": m.slope if used else np.nan,
        "clock_drift_ppm": est.drift_ppm if est is not None else np.nan,
        "clock_drift_stderr_ppm": est.stderr_ppm if est is not None else np.nan,
        "clock_drift_span": est.span if est is not None else np.nan,
        "clock_reanchors": clock.reanchors,
    }

"""`StreamReader`: one stream of a session file, read by time or index, with its health.

`Session` (sensorlab.session.reader) opens the file and hands out one `StreamReader` per stream;
this module knows how a stream's group is laid out: sample data (fixed-size arrays, or JPEG /
UTF-8 blobs with an index), its times in either layout (per-sample columns or the compact
segments of `sensorlab.session.timecodec`), the conversion of stored counts to physical values,
and its health counters and clock fit. Which samples of a crashed or live file can be trusted is
`sensorlab.session.stream_integrity`; reading JPEG / text blobs is `sensorlab.session.blob_reading`.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamStats
from sensorlab.session import format as fmt
from sensorlab.session.blob_reading import read_blobs, stack_frames
from sensorlab.session.column_view import ColumnView
from sensorlab.session.stream_integrity import (
    SCAN_BLOCK,
    TimeOrder,
    intact_jpeg_prefix,
    valid_prefix,
)
from sensorlab.session.timecodec import MICROS, SEGMENTS

if TYPE_CHECKING:
    from sensorlab.session.reader import Session

#: Below this many samples a time search reads the timestamps block instead of bisecting.
_BISECT_BLOCK = 4096

log = logging.getLogger(__name__)


def _attr(attrs: Any, key: str, default: Any = None) -> Any:
    if key not in attrs:
        return default
    v = attrs[key]
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v.item() if isinstance(v, np.generic) else v


def rate_from_span(n: int, span: float) -> float:
    """``n`` samples over ``span`` seconds as a rate, NaN below 3 samples: one interval is no
    rate (a model's two predictions 1 ns apart read "1,000,000,000 Hz")."""
    return (n - 1) / span if n > 2 and span > 0 else float("nan")


class StreamReader:
    """One stream of a session. Reads lazily; nothing is loaded until asked for.

    Thread-safety: use from one thread at a time (h5py serialises access anyway).
    """

    def __init__(self, group: h5py.Group, session: Session):
        self._g = group
        self._session = session
        self.name = group.name.rsplit("/", 1)[-1]
        #: The stream as recorded: ``dtype`` is what ``data`` stores (int16 PCM, IMU counts…),
        #: with the ``scale``/``offset`` that make them physical (schema 2.0; none before).
        self.stored_info = StreamInfo.from_dict(json.loads(_attr(group.attrs, "info")))
        #: The stream as `read` returns it by default: physical values (float32 where the file
        #: stores scaled counts, see `StreamInfo.physical`); the same as `stored_info` otherwise.
        self.info = self.stored_info.physical()
        self.storage = fmt.Storage(_attr(group.attrs, "storage", fmt.Storage.ARRAY.value))
        #: How the time columns are stored: ``samples`` (one float64 per sample, files before
        #: 1.4) or ``segments`` (verified linear runs); reads return the same either way.
        # The datasets decide when the attribute is missing (a crashed file keeps it, but a copy
        # stripped of attributes should still read).
        guess = fmt.TimeLayout.SAMPLES
        if fmt.TIMESTAMPS + SEGMENTS in group:
            guess = fmt.TimeLayout.COMPACT if fmt.ARRIVAL_TIMES + MICROS in group else fmt.TimeLayout.SEGMENTS
        self.time_layout = fmt.TimeLayout(_attr(group.attrs, fmt.TIME_LAYOUT, guess.value))
        self._cols: dict[str, ColumnView] = {}
        #: Host time the stream joined a running recording (a processor added mid-recording);
        #: NaN for streams recorded from the start.
        self.added_at = float(_attr(group.attrs, fmt.ADDED_AT, float("nan")))
        #: Seconds subtracted from every timestamp read (a stored clap-to-sync correction, see
        #: `sensorlab.session.sync_offsets`); 0 without one or when opened with ``raw_times``.
        self.offset = float(session.sync_offsets.get(self.name, 0.0))
        self._ts: np.ndarray | None = None
        self._n: int | None = None  # committed sample count (cached until `refresh`)
        self._checked = 0  # samples already validated (live files grow; validate only the new ones)
        self._order: TimeOrder | None = None
        self._bad: set[int] = set()  # unreadable frames/events met by reads

    def __repr__(self) -> str:
        return f"<StreamReader {self.name!r} {self.info.kind.value} n={self.count}>"

    def refresh(self) -> None:
        """See data appended since opening (SWMR readers only)."""
        self._ts = None
        self._n = None
        self._order = None
        self._cols = {}
        if self._session.live:
            for ds in self._g.values():
                if isinstance(ds, h5py.Dataset):
                    ds.refresh()

    # -- sizes and times ----------------------------------------------------------------------------
    def _col(self, key: str) -> h5py.Dataset | ColumnView | None:
        """A time column read like a 1-D dataset, whatever its layout; None if the file has none."""
        if self.time_layout is fmt.TimeLayout.SAMPLES:
            return self._g.get(key)
        if key not in self._cols:
            # Only the timestamps decide which samples exist (contiguous runs from sample 0); raw
            # clocks may skip chunks that did not carry them. Arrival times may be stored as µs
            # after the timestamps (3.0).
            ref = self._col(fmt.TIMESTAMPS) if key == fmt.ARRIVAL_TIMES else None
            self._cols[key] = ColumnView(self._g, key, self._session.trusted, contiguous=key == fmt.TIMESTAMPS, timestamps=ref)
        return self._cols[key]

    @property
    def count(self) -> int:
        """Samples readable now: present in data, index and timestamps, and actually written.

        A file that was stopped cleanly is trusted as is. For a live, crashed or failed (disk
        full) file, only the prefix of samples whose timestamps (and index rows) really reached
        the disk counts (see `stream_integrity.valid_prefix`); values of array data cannot be checked.
        """
        if self._n is None:
            n = self._col(fmt.TIMESTAMPS).shape[0]
            body = self._g[fmt.DATA if self.storage is fmt.Storage.ARRAY else fmt.INDEX].shape[0]
            n = min(n, body)
            if not self._session.trusted:
                index = self._g[fmt.INDEX] if self.storage is not fmt.Storage.ARRAY else None
                blob = self._g[fmt.DATA].shape[0] if index is not None else 0
                n = valid_prefix(self._col(fmt.TIMESTAMPS), index, blob, self._checked, n, self.storage is not fmt.Storage.UTF8)
                if self.storage is fmt.Storage.JPEG and n > self._checked:
                    n = max(self._checked, intact_jpeg_prefix(index, self._g[fmt.DATA], n))
                self._checked = n
            self._n = n
        return self._n

    @property
    def explicit_times(self) -> int:
        """Samples whose timestamps are stored one float64 each: all of them in the ``samples``
        layout; in ``segments`` those that lie on no straight line (irregular arrivals)."""
        col = self._col(fmt.TIMESTAMPS)
        return min(self.count, col.explicit) if isinstance(col, ColumnView) else self.count

    @property
    def timestamps(self) -> np.ndarray:
        """``(count,)`` float64 host seconds (loaded on first use, cached until `refresh`)."""
        if self._ts is None:
            self._ts = self._col(fmt.TIMESTAMPS)[: self.count] - self.offset if self.offset else self._col(fmt.TIMESTAMPS)[: self.count]
        return self._ts

    @property
    def raw_timestamps(self) -> np.ndarray:
        """The timestamps as recorded, without the stored sync offset (``timestamps + offset``)."""
        return self.timestamps + self.offset if self.offset else self.timestamps

    @property
    def first_time(self) -> float:
        n = self.count
        return float(self._col(fmt.TIMESTAMPS)[0]) - self.offset if n else float("nan")

    @property
    def last_time(self) -> float:
        n = self.count
        return float(self._col(fmt.TIMESTAMPS)[n - 1]) - self.offset if n else float("nan")

    @property
    def duration(self) -> float:
        """Seconds covered: last − first timestamp, plus one period for regular streams (never negative)."""
        n = self.count
        if n == 0:
            return 0.0
        span = self.last_time - self.first_time if self.storage is not fmt.Storage.UTF8 else float(np.ptp(self.timestamps))
        return max(0.0, span) + (1.0 / self.info.nominal_rate if self.info.regular else 0.0)

    @property
    def rate_measured(self) -> float:
        """Samples per second from the timestamps ((n − 1) / span), NaN below 3 samples."""
        return rate_from_span(self.count, self.last_time - self.first_time)

    def time_order(self) -> TimeOrder:
        """Scan the timestamps (in blocks; cached until `refresh`) for steps back in time.

        Events streams are skipped: a label may be recorded for a moment in the past.
        """
        if self._order is None:
            n = self.count
            if self.storage is fmt.Storage.UTF8 or n < 2:
                ts = self.timestamps if n else np.empty(0)
                self._order = TimeOrder(t_min=float(ts.min()) if n else np.nan, t_max=float(ts.max()) if n else np.nan)
                return self._order
            ds = self._col(fmt.TIMESTAMPS)
            back, largest, first, lo, hi, prev = 0, 0.0, -1, np.inf, -np.inf, None
            for i in range(0, n, SCAN_BLOCK):
                ts = ds[i : min(n, i + SCAN_BLOCK)]
                steps = np.diff(ts) if prev is None else np.diff(np.concatenate([[prev], ts]))
                bad = np.flatnonzero(~(steps > 0))
                if len(bad):
                    back += len(bad)
                    largest = max(largest, float(-np.nanmin(steps[bad])) if np.isfinite(steps[bad]).any() else 0.0)
                    if first < 0:
                        first = i + int(bad[0]) + (1 if prev is None else 0)
                lo, hi, prev = min(lo, float(np.nanmin(ts))), max(hi, float(np.nanmax(ts))), float(ts[-1])
            self._order = TimeOrder(back, max(0.0, largest), first, lo - self.offset, hi - self.offset)
        return self._order

    def index_of(self, t: float) -> int:
        """First sample index with timestamp ≥ ``t`` (timestamps increase within a stream)."""
        n = self.count
        if self._ts is not None:
            return int(np.searchsorted(self._ts, t, "left"))
        # Bisect on the dataset so a time-range read never loads an hour of timestamps.
        t = t + self.offset  # the dataset holds raw times
        ds, lo, hi = self._col(fmt.TIMESTAMPS), 0, n
        while hi - lo > _BISECT_BLOCK:
            mid = (lo + hi) // 2
            if ds[mid] < t:
                lo = mid + 1
            else:
                hi = mid
        return lo + int(np.searchsorted(ds[lo:hi], t, "left"))

    # -- data ------------------------------------------------------------------------------------
    def read(self, t0: float = -np.inf, t1: float = np.inf, decode: bool = True, raw: bool = False) -> Chunk:
        """Samples with ``t0 <= timestamp < t1``.

        Parameters
        ----------
        decode
            Decode JPEG frames to ``(n, h, w, 3)`` uint8 BGR arrays; False returns an object
            array of JPEG ``bytes``. Events are always an object array of ``str``.
        raw
            Return the samples as stored (``stored_info.dtype``: int16 PCM, raw counts) instead
            of physical values (float32 ``raw * scale + offset`` for streams with a scale).
        """
        if self.storage is fmt.Storage.UTF8:
            # Events may be recorded out of order (a label placed in the past): select by mask.
            ts = self.timestamps
            idx = np.flatnonzero((ts >= t0) & (ts < t1))
            idx = idx[np.argsort(ts[idx], kind="stable")]
            if len(idx) == 0:
                return self.read_index(0, 0)
            whole = self.read_index(int(idx.min()), int(idx.max()) + 1)
            return _take(whole, idx - idx.min())
        return self.read_index(self.index_of(t0), self.index_of(t1), decode=decode, raw=raw)

    def read_index(self, i0: int = 0, i1: int | None = None, decode: bool = True, raw: bool = False) -> Chunk:
        """Samples ``i0 <= i < i1`` (clipped to `count`); see `read` for ``decode`` and ``raw``.

        Frames or events whose bytes are not readable (an index row outside the blob, a frame
        that never reached the disk, a JPEG that does not decode) are left out of the chunk
        and recorded in `bad_samples`; they never raise.
        """
        n = self.count
        i1 = n if i1 is None else min(int(i1), n)
        i0 = max(0, min(int(i0), i1))
        ts = self._col(fmt.TIMESTAMPS)[i0:i1] - self.offset
        dev, arr = self._raw_times(fmt.DEVICE_TIMES, i0, i1), self._raw_times(fmt.ARRIVAL_TIMES, i0, i1)
        if self.storage is fmt.Storage.ARRAY:
            data = self._g[fmt.DATA][i0:i1]
            return Chunk(data if raw else self.stored_info.to_physical(data), ts, dev, arr)
        data, ok = read_blobs(self._g, self.storage, self.info.sample_shape, i0, i1, decode)
        if ok.all():
            return Chunk(data, ts, dev, arr)
        self._report_bad(i0 + np.flatnonzero(~ok))
        sel = lambda a: None if a is None else a[ok]  # noqa: E731
        return Chunk(stack_frames(data[ok], self.info.sample_shape) if decode and self.storage is fmt.Storage.JPEG else data[ok], ts[ok], sel(dev), sel(arr))

    @property
    def bad_samples(self) -> list[int]:
        """Indexes of frames/events found unreadable by reads so far (sorted)."""
        return sorted(self._bad)

    def _report_bad(self, idx: np.ndarray) -> None:
        new = set(int(i) for i in idx) - self._bad
        if new:
            self._bad |= new
            log.warning("%s: stream %s: skipped %d unreadable %s (damaged, or never fully written)", self._session.path, self.name,
                        len(new), "frame(s)" if self.storage is fmt.Storage.JPEG else "event(s)")

    def _raw_times(self, key: str, i0: int, i1: int) -> np.ndarray | None:
        ds = self._col(key)
        if ds is None or ds.shape[0] == 0:
            return None
        out = np.full(i1 - i0, np.nan)
        part = ds[i0 : min(i1, ds.shape[0])]
        out[: len(part)] = part
        return out

    # -- health -----------------------------------------------------------------------------------
    @property
    def health(self) -> np.ndarray:
        """Health rows (see `format.HEALTH_DTYPE`), one per flush (rows that never reached the disk are left out)."""
        if fmt.HEALTH not in self._g:
            return np.empty(0, fmt.HEALTH_DTYPE)
        h = self._g[fmt.HEALTH][:]
        ok = np.isfinite(h["time"]) & (h["time"] > 0)
        return h if ok.all() else h[: int(np.argmin(ok))]

    @property
    def complete(self) -> bool:
        """True when the footers were written (a clean stop)."""
        return "count" in self._g.attrs

    @property
    def error(self) -> str:
        """Why the stream stopped early, or ``""``."""
        if self.complete:
            return str(_attr(self._g.attrs, "error", ""))
        errs = [e["message"] for e in self._session.log if e.get("stream") == self.name and e.get("level") == "error"]
        return errs[0] if errs else ""

    @property
    def stopped_at(self) -> float:
        """Host time the stream stopped early (NaN if it did not)."""
        if self.complete:
            return float(_attr(self._g.attrs, "stopped_at", np.nan)) - self.offset
        errs = [e for e in self._session.log if e.get("stream") == self.name and e.get("level") == "error"]
        return min(errs[0]["time"], self.last_time) if errs else float("nan")

    @property
    def gaps(self) -> np.ndarray:
        """``(k, 2)`` (start, end) host times of gaps (footer, or detected from timestamps)."""
        if fmt.GAPS in self._g:
            return self._g[fmt.GAPS][:] - self.offset
        return fmt.find_gaps(self.timestamps, self.info.nominal_rate)

    @property
    def stats(self) -> StreamStats:
        """Counters: from the footers, or for a crashed/live file from the last health row."""
        a = self._g.attrs
        if self.complete:
            # Counts and times always come from the data present (a failed write can leave
            # footers that promise more than reached the disk); the rest from the footers.
            return StreamStats(
                samples=self.count,
                dropped=int(_attr(a, "dropped", 0)),
                dropped_in_transit=int(_attr(a, "dropped_in_transit", 0)),
                overflows=int(_attr(a, "overflows", 0)),
                parse_errors=int(_attr(a, "parse_errors", 0)),
                first_time=self.first_time,
                last_time=self.last_time,
                error=str(_attr(a, "error", "")),
                gaps=[tuple(g) for g in self.gaps.tolist()],
                reconnects=int(_attr(a, "reconnects", 0)),
                duplicates=int(_attr(a, "duplicates", 0)),
            )
        h = self.health
        last = h[-1] if len(h) else None
        return StreamStats(
            samples=self.count,
            dropped=int(last["dropped"]) if last is not None else 0,
            dropped_in_transit=int(last["dropped_in_transit"]) if last is not None and "dropped_in_transit" in h.dtype.names else 0,
            overflows=int(last["overflows"]) if last is not None else 0,
            parse_errors=int(last["parse_errors"]) if last is not None else 0,
            first_time=self.first_time,
            last_time=self.last_time,
            error=self.error,
            gaps=[tuple(g) for g in self.gaps.tolist()],
            # No footer yet (crashed or still recording): count the "device reconnected" log lines.
            reconnects=sum(1 for e in self._session.log if e.get("stream") == self.name and "device reconnected" in e.get("message", "")),
        )

    @property
    def clock(self) -> dict[str, float]:
        """Final device→host clock fit (``offset``, ``slope``, ``drift_ppm``, ``drift_stderr_ppm``:
        its standard error, ``drift_span``: device seconds it was measured over, ``reanchors``:
        device clock steps the fit re-anchored on), if the stream had one.

        NaN drift: not estimated. Files before schema 1.3 stored no error (NaN) and no drift
        below 10 s of device time."""
        a = self._g.attrs
        if "clock_offset" in a:  # slope NaN: the fit did not use one (too short)
            return {
                "offset": float(a["clock_offset"]),
                "slope": float(a["clock_slope"]),
                "drift_ppm": float(a["clock_drift_ppm"]),
                "drift_stderr_ppm": float(_attr(a, "clock_drift_stderr_ppm", np.nan)),
                "drift_span": float(_attr(a, "clock_drift_span", np.nan)),
                "reanchors": int(_attr(a, "clock_reanchors", 0)),
            }
        h = self.health
        if len(h) and np.isfinite(h["clock_offset"][-1]):
            re = int(h["clock_reanchors"][-1]) if "clock_reanchors" in h.dtype.names else 0  # files before 1.2
            return {"offset": float(h["clock_offset"][-1]), "drift_ppm": float(h["clock_drift_ppm"][-1]), "drift_stderr_ppm": np.nan, "reanchors": re}
        return {}





def _take(chunk: Chunk, idx: np.ndarray) -> Chunk:
    sel = lambda a: None if a is None else a[idx]  # noqa: E731
    return Chunk(chunk.data[idx], chunk.timestamps[idx], sel(chunk.device_times), sel(chunk.arrival_times))

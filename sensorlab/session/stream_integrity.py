"""Which samples of a stream can be trusted: the valid prefix of a crashed, failed or live file,
a JPEG tail that never reached the disk, and whether the stream's time goes forward.

A chunk that was never written (crash, full disk) reads as its dataset's fill value, so the
checks here look for fill values and broken index rows rather than trusting the dataset sizes;
`StreamReader` (and `Session` for the log) call them before handing out any sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from sensorlab.session.column_view import ColumnView

#: Samples checked per read when validating the data of a crashed, failed or live file.
SCAN_BLOCK = 1 << 20
#: Frames checked per block when looking for a JPEG tail that never reached the disk.
_JPEG_TAIL_BLOCK = 32


def valid_prefix(ts_ds: h5py.Dataset | ColumnView, index_ds: h5py.Dataset | None, blob_len: int, start: int, n: int, increasing: bool) -> int:
    """Length of the prefix of samples ``[0, n)`` that really reached the disk (``[0, start)`` known good).

    A chunk that was never written (crash, full disk) reads as the fill value: NaN timestamps
    (0.0 in files written before the fill was NaN), ``(0, 0)`` index rows. So a sample counts
    only if its timestamp is finite and non-zero (and, for sampled streams, later than the
    previous one) and, for blob streams, its index row continues the previous one inside the
    blob. Samples after the first bad one are not trusted.
    """
    i = max(0, start - 1)
    while i < n:
        j = min(n, i + SCAN_BLOCK)
        ts = ts_ds[i:j]
        ok = np.isfinite(ts) & (ts != 0.0)
        if increasing and len(ts) > 1:
            ok[1:] &= np.diff(ts) > 0
        if index_ds is not None:
            idx = index_ds[i:j]
            off, size = idx[:, 0], idx[:, 1]
            ok &= (size >= 0) & (off >= 0) & (off + size <= blob_len)
            if len(idx) > 1:
                ok[1:] &= off[1:] == off[:-1] + size[:-1]
            if i == 0 and len(idx):
                ok[0] &= off[0] == 0
        bad = np.flatnonzero(~ok)
        if len(bad):
            return i + int(bad[0])
        i = j
    return n


@dataclass(frozen=True)
class TimeOrder:
    """Whether a stream's timestamps increase, from `StreamReader.time_order`.

    sensorlab writes every sampled stream strictly increasing; a file whose time goes back
    was edited or damaged, and time-range reads (which bisect) and first/last-based rates and
    durations are then wrong. ``backward`` counts the steps that did not move forward.
    """

    backward: int = 0
    largest: float = 0.0  # largest backward step (s)
    first_at: int = -1  # index of the first sample that is not later than the one before
    t_min: float = float("nan")
    t_max: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.backward == 0

    def message(self, name: str) -> str:
        """One line for `sensorlab info` and label import; ``""`` when time increases."""
        if self.ok:
            return ""
        return (
            f"{name}: time goes backwards or stands still {self.backward} time(s) (largest step back {self.largest:.3f} s, "
            f"first at sample {self.first_at}): the file was edited or damaged; duration and rate are from its earliest "
            "to its latest timestamp, and reads by time range of this stream are unreliable"
        )


def looks_like_jpeg(b: bytes) -> bool:
    """Starts with the JPEG start-of-image marker and ends with end-of-image (a frame whose
    bytes never reached the disk reads as zeros)."""
    return len(b) >= 4 and b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9"


def intact_jpeg_prefix(index_ds: h5py.Dataset, data_ds: h5py.Dataset, n: int) -> int:
    """``n`` less the trailing frames whose bytes are not a JPEG (never reached the disk).

    Checked backwards in blocks until a block is intact, so a long recording costs a few reads:
    a full disk loses the tail, written last. Damage further back is caught when reading.
    """
    end = n
    while end > 0:
        lo = max(0, end - _JPEG_TAIL_BLOCK)
        idx = index_ds[lo:end]
        off, size = idx[:, 0], idx[:, 1]
        blob_len = data_ds.shape[0]
        good = (off >= 0) & (size >= 4) & (off + size <= blob_len)
        if good.any():
            start, stop = int(off[good].min()), int((off[good] + size[good]).max())
            blob = data_ds[start:stop].tobytes()
            for j in np.flatnonzero(good):
                o = int(off[j]) - start
                good[j] = looks_like_jpeg(blob[o : o + int(size[j])])
        if good.all():
            return n
        n = lo + int(np.flatnonzero(~good)[0])  # drop everything from the first bad frame of this block on
        if n > lo:  # intact frames before it: the damaged tail starts here
            return n
        end = lo
    return n

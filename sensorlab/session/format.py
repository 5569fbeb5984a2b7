"""The session file layout: names, dtypes, version and small pure helpers shared by writer and reader.

The full description, with the reasoning behind each choice, is in ``docs/SESSION-FORMAT.md``.
Everything the writer creates and everything the reader expects is named here, so the two
cannot drift apart.

Versioning (napari's rule): bump the minor version when something is *added* (a reader of
the same major version can still read the file and ignores what it does not know), bump the
major version when something is removed, renamed or changes meaning.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from sensorlab.acquisition.source import StreamInfo, StreamKind

#: Value of the root attribute ``schema``; identifies a sensorlab session file.
SCHEMA = "sensorlab.session"
#: Files written beside a session that are not recordings of their own: the labeling view's
#: overview cache (``run1.pyramid.h5``) and offline predictions (``run1.predictions.h5``, from
#: ``sensorlab predict`` and model suggestions). Folder listings and session globs skip them.
PYRAMID_SUFFIX = ".pyramid.h5"
DERIVED_SUFFIXES = (PYRAMID_SUFFIX, ".predictions.h5")
#: ``major.minor``; see the module docstring for when to bump which.
#: 1.1: NaN timestamp fill, NaN clock slope/drift when not estimated, HDF5 v110 format.
#: 1.2: ``clock_reanchors`` (footer attribute and health column); streams added mid-recording
#: carry ``added_at``.
#: 1.3: ``clock_drift_stderr_ppm`` / ``clock_drift_span`` footers; ``clock_drift_ppm`` is given from
#: about a second of device time on (with its error); the ``run1.sync.json`` offsets sidecar.
#: 1.4: the ``time_layout`` stream attribute; layout ``segments`` stores each time column as
#: verified linear runs (``<column>_segments`` + sparse ``<column>_values``, see `timecodec`).
#: 2.0: the ``segments`` layout is the default and array ``data`` may hold the device's counts
#: (int16 PCM, raw IMU counts) with ``scale``/``offset`` in ``info`` (and CF ``scale_factor`` /
#: ``add_offset`` / ``units`` attributes on ``data``). Major: a 1.x reader cannot read such a file
#: correctly (it finds no ``timestamps`` dataset, or returns counts as if they were physical
#: values), so it must refuse it, which 1.x readers do for a newer major version.
#: 3.0: the ``compact`` time layout is the default: raw arrival times that lie on no line (a text
#: serial device's per-line stamps) are stored as whole µs after the sample's timestamp (runs
#: with ``residual`` 2 and a ``<column>_us`` dataset), and runs continue across batches. Major:
#: a 2.x reader would read such arrival times wrongly (NaN, or a run's first value), so it must
#: refuse the file, which 2.x readers do for a newer major version.
#: 4.0: in the ``compact`` layout, irregular arrival µs are stored as their steps from sample to
#: sample (runs with ``residual`` 3; `timecodec`), ~15 % fewer bytes for a text device, and a
#: stream's health row is written when a counter changed or `HEALTH_EVERY` seconds after its
#: last one, not at every flush. Major: a 3.x reader would read such arrival times as NaN. 3.0
#: files still read (``residual`` 2).
SCHEMA_VERSION = "4.0"
#: Written instead of `SCHEMA_VERSION` by ``time_layout="segments"``: bit-exact runs and samples in
#: the device's dtype, a file every 2.x reader (sensorlab 2.0 until 3.0) opens and reads correctly.
SEGMENTS_SCHEMA_VERSION = "2.0"
#: Written instead of `SCHEMA_VERSION` by ``time_layout="samples"``: per-sample times and physical
#: float32 values, a file every 1.x reader (sensorlab before 2.0) opens and reads correctly.
LEGACY_SCHEMA_VERSION = "1.4"
SCHEMA_MAJOR = int(SCHEMA_VERSION.split(".")[0])

# -- groups and datasets ------------------------------------------------------------------
STREAMS = "streams"  # /streams/<name>/...
LOG = "log"  # /log: session log (errors, stream stops, warnings) as a UTF-8 blob + index
DATA = "data"
INDEX = "index"  # (n, 2) int64 (offset, size) into a byte blob `data` (JPEG frames, UTF-8 text)
TIMESTAMPS = "timestamps"  # (n,) float64 host-clock seconds, corrected
DEVICE_TIMES = "device_times"  # (<= n,) float64 raw device clock; NaN / shorter = not provided
ARRIVAL_TIMES = "arrival_times"  # (<= n,) float64 uncorrected host arrival time
HEALTH = "health"  # growable table, one row per flush (shuffle + gzip since 3.0; 4.0: see HEALTH_EVERY)
#: Seconds after which a ``compact`` (4.0) file gets a stream's health row even if none of its
#: counters changed (a change is written at the next flush, as before).
HEALTH_EVERY = 5.0
GAPS = "gaps"  # (k, 2) float64 (start, end); written with the footers
TIME_LAYOUT = "time_layout"  # stream attribute (1.4): how the time columns are stored; absent = samples
ADDED_AT = "added_at"  # stream attribute: host time a stream joined a running recording
# Attributes of ``data`` when it holds counts (2.0): physical = data * scale_factor + add_offset
# (netCDF/CF names; one value or one per channel). The stream's ``info`` carries the same.
SCALE_FACTOR = "scale_factor"
ADD_OFFSET = "add_offset"
UNITS = "units"

# -- reserved stream names (one definition each) -------------------------------------------------
#: The EVENTS stream every session has: live labels and markers (`Recorder.add_event`).
LABELS_STREAM = "labels"


class Storage(str, Enum):
    """How a stream's samples are laid out in ``data``."""

    ARRAY = "array"  # data: (n, *sample_shape) of info.dtype
    JPEG = "jpeg"  # data: 1-D uint8 blob of concatenated JPEG files; index: (offset, size)
    UTF8 = "utf8"  # data: 1-D uint8 blob of concatenated UTF-8 strings; index: (offset, size)


class TimeLayout(str, Enum):
    """How a stream's ``timestamps`` / ``device_times`` / ``arrival_times`` are stored."""

    SAMPLES = "samples"  # one float64 per sample each (files before 1.4)
    SEGMENTS = "segments"  # verified linear runs + explicit values (`sensorlab.session.timecodec`), 2.0
    COMPACT = "compact"  # segments + arrival times as µs after the timestamps (3.0, the default)

    @property
    def schema_version(self) -> str:
        """The schema a file written in this layout carries (what a reader must understand)."""
        return {"samples": LEGACY_SCHEMA_VERSION, "segments": SEGMENTS_SCHEMA_VERSION}.get(self.value, SCHEMA_VERSION)


#: One health row per stream per flush. Counters are cumulative since the recording started.
HEALTH_DTYPE = np.dtype(
    [
        ("time", "f8"),  # host time of the flush
        ("samples", "i8"),  # samples written to this file so far
        ("dropped", "i8"),  # samples the source knows it lost
        ("overflows", "i8"),  # driver-reported overruns
        ("parse_errors", "i8"),  # garbage lines / bad packets
        ("gaps", "i8"),  # gaps seen so far (source-reported + timestamp jumps)
        ("clock_offset", "f8"),  # current device→host fit (NaN without device time)
        ("clock_drift_ppm", "f8"),
        ("clock_reanchors", "i8"),  # device clock steps the fit re-anchored on (1.2; absent before)
        # The part of ``dropped`` lost on the host side: the device sent it, the host did not
        # read it in time (a pty/UART buffer overran). Absent in files written before it.
        ("dropped_in_transit", "i8"),
    ]
)

# -- chunking -------------------------------------------------------------------------------
#: Target bytes per HDF5 chunk. Small enough to stay inside the chunk cache (partial-chunk
#: appends then never re-read the chunk from disk), large enough that an hour-long stream
#: has few chunks.
CHUNK_BYTES = 256 * 1024
#: Chunk size of JPEG / text blobs (bytes).
BLOB_CHUNK = 256 * 1024
#: Raw chunk cache per dataset (h5py ``rdcc_nbytes``).
CHUNK_CACHE_BYTES = 4 * 1024 * 1024

#: ``SessionWriter(compression=…)`` → h5py filter arguments for array ``data``. Only filters
#: every h5py has (gzip is builtin HDF5, lzf ships with h5py), so any h5py reads the file.
COMPRESSIONS: dict[str | None, dict] = {
    None: {},
    "gzip": {"shuffle": True, "compression": "gzip", "compression_opts": 1},
    "lzf": {"shuffle": True, "compression": "lzf"},
}

# -- gap detection ----------------------------------------------------------------------------
#: A jump between consecutive timestamps larger than this many nominal periods is a gap ...
GAP_PERIODS = 3.0
#: ... but never below this (host-stamped streams jitter by tens of milliseconds).
MIN_GAP_SECONDS = 0.1


def storage_for(info: StreamInfo, video_encoding: str = "jpeg") -> Storage:
    """Pick the storage of a stream.

    Parameters
    ----------
    info
        The stream.
    video_encoding
        ``"jpeg"`` (default) or ``"raw"``; only affects VIDEO streams.
    """
    if info.kind is StreamKind.EVENTS:
        return Storage.UTF8
    if info.kind is StreamKind.VIDEO:
        if video_encoding == "jpeg":
            return Storage.JPEG
        if video_encoding != "raw":
            raise ValueError(f"video_encoding must be 'jpeg' or 'raw', not {video_encoding!r}")
        if len(info.sample_shape) < 2:
            raise ValueError(f"stream {info.name!r}: raw video needs sample_shape (h, w, 3); use video_encoding='jpeg'")
    return Storage.ARRAY


def chunk_rows(row_bytes: int, rate: float, lo: int = 16) -> int:
    """Rows per HDF5 chunk for rows of ``row_bytes`` at ``rate`` samples/s.

    About one second of data, clipped to `CHUNK_BYTES` (a fast stream) and to ``lo`` rows
    (a slow one; a chunk is allocated whole, so a huge chunk wastes space on short files).
    """
    by_bytes = max(1, CHUNK_BYTES // max(1, row_bytes))
    by_time = max(lo, int(rate)) if rate > 0 else 256
    return max(1, min(by_bytes, by_time))


def find_gaps(timestamps: np.ndarray, nominal_rate: float, previous: float | None = None) -> np.ndarray:
    """``(k, 2)`` (start, end) host times where consecutive timestamps jump by more than expected.

    Parameters
    ----------
    timestamps
        Sorted host times.
    nominal_rate
        Samples per second; irregular streams (``<= 0``) have no gaps by definition.
    previous
        Timestamp of the sample just before ``timestamps`` (for incremental use), if any.
    """
    if nominal_rate <= 0 or len(timestamps) == 0:
        return np.empty((0, 2))
    t = np.asarray(timestamps, dtype=np.float64)
    if previous is not None and np.isfinite(previous):
        t = np.concatenate([[previous], t])
    limit = max(GAP_PERIODS / nominal_rate, MIN_GAP_SECONDS)
    i = np.flatnonzero(np.diff(t) > limit)
    return np.stack([t[i], t[i + 1]], axis=1) if len(i) else np.empty((0, 2))


def merge_gaps(*gap_lists: np.ndarray | list) -> np.ndarray:
    """Union of overlapping (start, end) intervals, sorted; ``(k, 2)`` float64."""
    parts = [np.asarray(g, dtype=np.float64).reshape(-1, 2) for g in gap_lists if len(g)]
    if not parts:
        return np.empty((0, 2))
    g = np.concatenate(parts)
    g = g[np.argsort(g[:, 0], kind="stable")]
    out = [list(g[0])]
    for s, e in g[1:]:
        if s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return np.asarray(out, dtype=np.float64)

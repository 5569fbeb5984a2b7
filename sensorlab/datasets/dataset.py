"""The dataset file (HDF5): writer and reader. Layout and meaning: docs/DATASET-FORMAT.md.

The writer appends one session's windows at a time (so building never holds the corpus in
memory) and writes nothing that varies between runs (no times, no paths, no host names),
so the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sensorlab.datasets.normalize import ChannelStats, StatsAccumulator

SCHEMA = "sensorlab.dataset"
SCHEMA_VERSION = "1.0"
SCHEMA_MAJOR = int(SCHEMA_VERSION.split(".")[0])
WINDOWS = "windows"
#: Bytes per HDF5 chunk of window data (about 1 MiB; at least one window).
CHUNK_BYTES = 1 << 20
#: Per-window columns: name → dtype.
COLUMNS = {"label": np.int16, "split": np.int8, "session": np.int32, "start": np.float64, "offset": np.float64,
           "coverage": np.float32, "flags": np.uint8}  # fmt: skip


class DatasetError(ValueError):
    """Not a dataset file, or one from a newer major format: one line naming the file."""


def _json(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DatasetWriter:
    """Create a dataset file and append windows session by session.

    Parameters
    ----------
    streams
        Per stream: ``(name, per-window shape, dtype)``.
    train_split
        Index of the split whose windows feed the normalization statistics (None: all windows).
    """

    def __init__(self, path: str | Path, streams: list[tuple[str, tuple[int, ...], str]], train_split: int | None):
        # Default (earliest) file format and no time tracking: byte-identical rebuilds.
        self._f = h5py.File(path, "w", track_order=False)
        self._g = self._f.create_group(WINDOWS)
        xg = self._g.create_group("x")
        self.n = 0
        self._train = train_split
        self._x: dict[str, h5py.Dataset] = {}
        self._stats: dict[str, StatsAccumulator] = {}
        for name, shape, dtype in streams:
            row = int(np.prod(shape)) * np.dtype(dtype).itemsize
            rows = max(1, CHUNK_BYTES // max(1, row))
            self._x[name] = xg.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype, chunks=(rows, *shape), track_times=False)
            if np.dtype(dtype).kind == "f":
                self._stats[name] = StatsAccumulator(shape[-1])
        self._cols = {k: self._g.create_dataset(k, shape=(0,), maxshape=(None,), dtype=dt, chunks=(4096,), track_times=False) for k, dt in COLUMNS.items()}

    def append(self, x: dict[str, np.ndarray], columns: dict[str, np.ndarray]) -> None:
        k = len(columns["label"])
        if k == 0:
            return
        n0, n1 = self.n, self.n + k
        for name, ds in self._x.items():
            ds.resize(n1, axis=0)
            ds[n0:n1] = x[name]
            if name in self._stats:
                sel = x[name] if self._train is None else x[name][np.asarray(columns["split"]) == self._train]
                self._stats[name].update(sel)
        for name, ds in self._cols.items():
            ds.resize(n1, axis=0)
            ds[n0:n1] = np.asarray(columns[name], dtype=COLUMNS[name])
        self.n = n1

    def finish(self, attrs: dict[str, Any]) -> None:
        """Write the normalization statistics and root attributes, and close the file."""
        ng = self._f.create_group("normalization")
        for name, acc in self._stats.items():
            st = acc.result()
            g = ng.create_group(name)
            g.create_dataset("mean", data=st.mean, track_times=False)
            g.create_dataset("std", data=st.std, track_times=False)
        self._f.attrs["schema"] = SCHEMA
        self._f.attrs["schema_version"] = SCHEMA_VERSION
        for k in sorted(attrs):
            v = attrs[k]
            self._f.attrs[k] = v if isinstance(v, str) else _json(v)
        self._f.close()

    def abort(self) -> None:
        try:
            self._f.close()
        except (OSError, RuntimeError, ValueError):
            pass


class Dataset:
    """A dataset file opened for reading. Use `Dataset.open` (a context manager).

    Examples
    --------
    >>> with Dataset.open("imu.h5") as ds:                 # doctest: +SKIP
    ...     x, y = ds.arrays("imu", split="train")
    ...     ds.classes, ds.split_names, len(ds)
    """

    def __init__(self, f: h5py.File, path: Path):
        self._f = f
        self.path = path
        schema = self._attr("schema", "")
        if schema != SCHEMA:
            raise DatasetError(f"{path}: an HDF5 file, but not a sensorlab dataset (schema {schema!r}); build one with `sensorlab dataset build`")
        version = self._attr("schema_version", "0.0")
        if int(version.split(".")[0]) > SCHEMA_MAJOR:
            raise DatasetError(f"{path}: dataset format {version} is newer than this sensorlab reads ({SCHEMA_MAJOR}.x); update sensorlab")

    @classmethod
    def open(cls, path: str | Path) -> Dataset:
        path = Path(path)
        if not path.exists():
            raise DatasetError(f"{path}: no such dataset file")
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise DatasetError(f"{path}: not an HDF5 file or damaged ({' '.join(str(e).split())})") from e
        try:
            return cls(f, path)
        except BaseException:
            f.close()
            raise

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _attr(self, key: str, default: Any = None) -> Any:
        if key not in self._f.attrs:
            return default
        v = self._f.attrs[key]
        return v.decode() if isinstance(v, bytes) else v

    def _jattr(self, key: str, default: Any = None) -> Any:
        v = self._attr(key)
        return default if v is None else json.loads(v)

    def __len__(self) -> int:
        return int(self._f[WINDOWS]["label"].shape[0])

    @property
    def attrs(self) -> dict[str, Any]:
        return {k: self._attr(k) for k in self._f.attrs}

    @property
    def spec(self) -> dict:
        return self._jattr("spec", {})

    @property
    def classes(self) -> list[str]:
        return self._jattr("classes", [])

    @property
    def split_names(self) -> list[str]:
        return self._jattr("split_names", [])

    @property
    def split(self) -> dict:
        return self._jattr("split", {})

    @property
    def streams(self) -> dict[str, dict]:
        return {s["name"]: s for s in self._jattr("streams", [])}

    @property
    def inputs(self) -> list[dict]:
        return self._jattr("inputs", [])

    @property
    def skipped(self) -> list[dict]:
        return self._jattr("skipped", [])

    @property
    def warnings(self) -> list[str]:
        return self._jattr("warnings", [])

    def column(self, name: str) -> np.ndarray:
        """A per-window column (``label``, ``split``, ``session``, ``start``, ``offset``, ``coverage``, ``flags``)."""
        return self._f[WINDOWS][name][:]

    def mask(self, split: str | None) -> np.ndarray:
        if split is None:
            return np.ones(len(self), bool)
        if split not in self.split_names:
            raise KeyError(f"no split {split!r}; this dataset has {', '.join(self.split_names)}")
        return self.column("split") == self.split_names.index(split)

    def arrays(self, stream: str, split: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Windows of one stream and their labels, optionally of one split (loads them)."""
        if stream not in self._f[WINDOWS]["x"]:
            raise KeyError(f"no stream {stream!r}; this dataset has {', '.join(self._f[WINDOWS]['x'])}")
        m = self.mask(split)
        idx = np.flatnonzero(m)
        ds = self._f[WINDOWS]["x"][stream]
        x = ds[idx[0] : idx[-1] + 1][m[idx[0] : idx[-1] + 1]] if len(idx) else np.empty((0, *ds.shape[1:]), ds.dtype)
        return x, self.column("label")[m]

    def windows(self, stream: str, index: int | slice | np.ndarray) -> np.ndarray:
        """Some windows of a stream without loading the rest."""
        return self._f[WINDOWS]["x"][stream][index]

    def normalization(self, stream: str) -> ChannelStats:
        g = self._f["normalization"][stream]
        return ChannelStats(g["mean"][:], g["std"][:])


__all__ = ["SCHEMA", "SCHEMA_VERSION", "Dataset", "DatasetError", "DatasetWriter"]

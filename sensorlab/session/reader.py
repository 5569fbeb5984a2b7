"""Read session files: finished, still being written (SWMR), or left behind by a crash.

Everything later in the pipeline (``sensorlab info``, the labeling timeline, dataset
building) goes through `Session` and `StreamReader`; nothing else knows the HDF5 layout.

Examples
--------
>>> with Session.open("run1.h5") as s:                         # doctest: +SKIP
...     imu = s.streams["imu"]
...     chunk = imu.read(t0=imu.timestamps[0], t1=imu.timestamps[0] + 2.0)
...     chunk.data.shape, imu.stats.dropped
"""

from __future__ import annotations

import json
import logging
import weakref
from pathlib import Path
from typing import Any

import h5py

from sensorlab.session import format as fmt
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.recovery import (  # noqa: F401 - re-exported
    SessionError,
    SessionFileError,
    not_a_session,
    open_h5,
    remove_temporary_copy,
    schema_of,
)
from sensorlab.session.stream_integrity import (  # noqa: F401 - TimeOrder re-exported
    TimeOrder,
    valid_prefix,
)
from sensorlab.session.stream_reader import StreamReader, _attr
from sensorlab.session.sync_offsets import SyncFileError, load_offsets

log = logging.getLogger(__name__)


def _drop(copy: Path | None) -> None:
    if copy is not None:
        remove_temporary_copy(copy)


def _close_and_drop(f: h5py.File, copy: Path) -> None:
    try:
        f.close()
    finally:
        remove_temporary_copy(copy)


class Session:
    """An open session file. Use `Session.open` (a context manager).

    Attributes
    ----------
    path
        The file opened: a temporary cleared copy (deleted by `close`) if the original was
        left flagged open by a crashed writer.
    recovered_from
        The original path when the file was flagged open and a copy was cleared, else None.
    live
        True when opened in SWMR mode: call `refresh` to see new data of a running recording.
    sync_offsets
        Seconds subtracted from each listed stream's timestamps (the session's
        ``run1.sync.json``, see `sensorlab.session.sync_offsets`); ``{}`` when opened with
        ``raw_times=True`` or when none were applied.
    sync_problem
        Why a sync sidecar was ignored (damaged), else ``""``; times are then raw.
    """

    def __init__(self, f: h5py.File, path: Path, recovered_from: Path | None = None, raw_times: bool = False):
        self._f = f
        self.path = path
        self.recovered_from = recovered_from
        self.sync_problem = ""
        self.sync_offsets: dict[str, float] = {}
        if not raw_times:
            try:
                self.sync_offsets = load_offsets(recovered_from or path)
            except (SyncFileError, OSError) as e:  # a damaged sidecar never stops the recording from opening
                self.sync_problem = str(e)
                log.warning("%s", e)
        self._cleanup: weakref.finalize | None = None
        schema = schema_of(f)
        if schema != fmt.SCHEMA:
            raise SessionError(not_a_session(recovered_from or path, schema))
        version = str(_attr(f.attrs, "schema_version", "0.0"))
        if int(version.split(".")[0]) > fmt.SCHEMA_MAJOR:
            raise SessionError(f"{path}: written with session format {version}; this sensorlab reads {fmt.SCHEMA_MAJOR}.x — update sensorlab")
        self.live = bool(f.swmr_mode)
        self.metadata = SessionMetadata.from_attrs(f.attrs)
        # A file stopped cleanly is consistent; anything else (live, crashed, failed write) is
        # validated sample by sample (`StreamReader.count`).
        self.trusted = bool(_attr(f.attrs, "complete", False)) and _attr(f.attrs, "stop_reason", "") == "stopped" and not self.live
        self.streams: dict[str, StreamReader] = {name: StreamReader(g, self) for name, g in f[fmt.STREAMS].items()}
        self._log: list[dict[str, Any]] | None = None

    @classmethod
    def open(cls, path: str | Path, recover: bool = True, raw_times: bool = False) -> Session:
        """Open a session for reading (finished, being written, or crashed).

        Parameters
        ----------
        recover
            If the file is flagged open by a crashed writer and cannot be opened, read a
            copy cleared with ``h5clear -s`` (see `sensorlab.session.recovery`).
        raw_times
            Ignore the session's stored sync offsets (``run1.sync.json``): timestamps as recorded.

        Raises
        ------
        SessionFileError
            Not a session file, written by a newer major format, or unrecoverable.
        """
        f, copy = open_h5(path, recover=recover)
        try:
            s = cls(f, copy or Path(path), Path(path) if copy else None, raw_times=raw_times)
        except SessionError:
            f.close()
            _drop(copy)
            raise
        except Exception as e:  # noqa: BLE001 - h5py: KeyError, RuntimeError, OSError on a damaged file
            f.close()
            _drop(copy)
            msg = " ".join(str(e).split()) or type(e).__name__
            raise SessionError(f"{path} is truncated or damaged ({msg}); try `h5clear -s` on a copy, or restore it from a backup") from e
        if copy is not None:  # deleted on close, or when the Session is collected / the program exits
            s._cleanup = weakref.finalize(s, _close_and_drop, f, copy)
        return s

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()  # closes the file, then deletes the temporary recovered copy
        else:
            self._f.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def refresh(self) -> None:
        """See data appended since opening (live SWMR readers)."""
        self._log = None
        if self.live:
            for ds in self._f[fmt.LOG].values():
                ds.refresh()
        for s in self.streams.values():
            s.refresh()

    # -- session-level facts ------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """True when the recorder stopped and wrote the footers."""
        return bool(_attr(self._f.attrs, "complete", False))

    @property
    def stop_reason(self) -> str:
        """``"stopped"``, a failure message (``"disk full: …"``), or ``""`` if it never stopped (crash/live)."""
        return str(_attr(self._f.attrs, "stop_reason", ""))

    @property
    def attrs(self) -> dict[str, Any]:
        """All root attributes (including footers such as ``end_host_time``, ``bytes_written``)."""
        return {k: _attr(self._f.attrs, k) for k in self._f.attrs}

    @property
    def duration(self) -> float:
        """Seconds from start to end (or to the newest sample of a live/crashed file); never negative."""
        start = self.metadata.start_host_time
        end = self.metadata.end_host_time
        if end is None:
            ends = [s.last_time for s in self.streams.values() if s.count]
            end = max(ends) if ends else start
        return max(0.0, float(end - start)) if start is not None and end is not None else float("nan")

    @property
    def log(self) -> list[dict[str, Any]]:
        """Session log entries ``{"time", "stream", "level", "message"}`` (errors, stops, warnings)."""
        if self._log is None:
            g = self._f[fmt.LOG]
            n = min(g[fmt.TIMESTAMPS].shape[0], g[fmt.INDEX].shape[0])
            if not self.trusted:
                n = valid_prefix(g[fmt.TIMESTAMPS], g[fmt.INDEX], g[fmt.DATA].shape[0], 0, n, False)
            ts = g[fmt.TIMESTAMPS][:n]
            index = g[fmt.INDEX][:n]
            blob = g[fmt.DATA][: int(index[-1].sum())].tobytes() if n else b""
            entries = []
            for t, (o, size) in zip(ts, index):
                try:
                    entries.append({"time": float(t), **json.loads(blob[o : o + size])})
                except ValueError:  # a partly written entry of a crashed file
                    break
            self._log = entries
        return self._log

    def time_problems(self) -> list[str]:
        """One line per stream whose time goes backwards (see `StreamReader.time_order`); scans every stream."""
        return [m for name, r in self.streams.items() if (m := r.time_order().message(name))]

    def events(self, stream: str = fmt.LABELS_STREAM) -> list[tuple[float, str]]:
        """``(time, text)`` of an EVENTS stream, in time order (e.g. live labels)."""
        c = self.streams[stream].read()
        return list(zip(c.timestamps.tolist(), c.data.tolist()))

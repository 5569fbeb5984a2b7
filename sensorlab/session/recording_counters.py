"""A recording's loss counters and gaps: the source's figures since Record was pressed.

Sources count samples, drops, overflows, parse errors, gaps and reconnects from the moment
they opened; a recording stores only what happened while it ran. `RecordingCounters` takes a
baseline of every stream's `StreamStats` at the start (and when a stream joins) and turns
the live figures into the health rows, the footers and `Recorder.counters`. The recorder's
writer thread calls it; `counters` may be called from any thread (it copies the baselines).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from sensorlab.acquisition.source import StreamStats
from sensorlab.session import format as fmt
from sensorlab.session.writer import Written


class RecordingCounters:
    """Counters of the streams of ``acquisition`` since `begin` (or since each joined)."""

    def __init__(self, acquisition: Any):
        self.acquisition = acquisition
        self.baseline: dict[str, StreamStats] = {}
        # The figures when the recording stopped: the writer may drain for seconds after (a
        # loaded machine), while the sources go on counting drops that are not in the file.
        self.final: dict[str, StreamStats] | None = None
        self.left: dict[str, StreamStats] = {}  # streams that ended during the recording: their last figures

    def begin(self, names: Iterable[str]) -> None:
        """The recording starts: remember every stream's figures."""
        stats = self.acquisition.stats
        self.baseline = {n: _copy_stats(stats.get(n)) for n in names}
        self.final = None

    def end(self) -> None:
        """The recording stopped (no more chunks are taken): freeze every stream's figures."""
        self.final = {n: _copy_stats(st) for n, st in dict(self.acquisition.stats).items()}

    def _stats(self, name: str) -> StreamStats | None:
        final = self.final
        st = final.get(name) if final is not None else self.acquisition.stats.get(name)
        return st if st is not None else self.left.get(name)

    def leave(self, name: str) -> None:
        """A stream left the running acquisition (its processor was removed): keep its figures."""
        st = self.acquisition.stats.get(name)
        if st is not None:
            self.left[name] = _copy_stats(st)

    def join(self, name: str) -> None:
        """A stream joined the running recording: count it from now."""
        self.baseline[name] = _copy_stats(self.acquisition.stats.get(name))

    def since_start(self, name: str) -> StreamStats:
        """Drops, overflows, parse errors and reconnects accumulated during the recording."""
        return _delta(self._stats(name), self.baseline.get(name))

    def reconnects(self, name: str, st: StreamStats) -> int:
        """Times ``st``'s device came back during the recording."""
        base = self.baseline.get(name)
        return st.reconnects - base.reconnects if base is not None else st.reconnects

    def counters(self) -> dict[str, StreamStats]:
        """Per stream: samples, dropped, overflows and parse errors since the start (pre-roll
        not counted); empty before the start."""
        out = {}
        for name, base in dict(self.baseline).items():
            st = self._stats(name) or StreamStats()
            out[name] = StreamStats(samples=st.samples - base.samples, dropped=st.dropped - base.dropped,
                                    dropped_in_transit=st.dropped_in_transit - base.dropped_in_transit,
                                    overflows=st.overflows - base.overflows, parse_errors=st.parse_errors - base.parse_errors)  # fmt: skip
        return out

    def gaps(self, name: str, written: Written) -> np.ndarray:
        """Gaps of a stream: timestamp jumps in the file ∪ gaps its source reported."""
        st = self._stats(name)
        base = self.baseline.get(name)
        reported = st.gaps[len(base.gaps) if base else 0 :] if st else []
        return fmt.merge_gaps(written.gaps, reported)

    def health_row(self, name: str, written: Written) -> tuple[int, ...]:
        """``(samples, dropped, overflows, parse_errors, gaps, dropped_in_transit)`` for `SessionWriter.on_health`."""
        d = self.since_start(name)
        return (written.count, d.dropped, d.overflows, d.parse_errors, len(self.gaps(name, written)), d.dropped_in_transit)

    def footers(self, name: str, written: Written, stopped: tuple[str, float]) -> dict[str, Any]:
        """The stream's footer attributes (docs/SESSION-FORMAT.md); ``stopped`` is (error, the
        time the failure was noticed), ("", when it ended) for a stream that ended cleanly
        before the stop, or ("", nan) for a stream that recorded to the end."""
        d = self.since_start(name)
        gaps = self.gaps(name, written)
        message, stopped_at = stopped
        if (message or stopped_at == stopped_at) and written.count:
            # Its last sample, not the time the failure (or the end: a processor removed) was
            # noticed: the writer can notice it (device stats polled at a flush) before taking
            # the chunks sent just before it.
            stopped_at = written.last_time
        f: dict[str, Any] = dict(
            count=written.count,
            first_time=written.first_time,
            last_time=written.last_time,
            dropped=d.dropped,
            dropped_in_transit=d.dropped_in_transit,
            overflows=d.overflows,
            parse_errors=d.parse_errors,
            gap_count=len(gaps),
            gap_seconds=float(np.sum(gaps[:, 1] - gaps[:, 0])) if len(gaps) else 0.0,
            gaps=gaps,
            reconnects=d.reconnects,
            duplicates=d.duplicates,
            error=message,
            stopped_at=stopped_at,
        )
        f.update(written.clock)
        return f


def _copy_stats(st: StreamStats | None) -> StreamStats:
    if st is None:
        return StreamStats()
    return StreamStats(
        samples=st.samples, dropped=st.dropped, overflows=st.overflows, parse_errors=st.parse_errors, gaps=list(st.gaps), reconnects=st.reconnects,
        dropped_in_transit=st.dropped_in_transit, duplicates=st.duplicates,
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
        duplicates=st.duplicates - base.duplicates,
    )

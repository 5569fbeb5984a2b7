"""The C hop and the one-call wake-up read and write the windower's, its held buffers', the
chunks' and the stats' attributes through their slots (`sensorlab/inference/_py_attrs.h`), with
each type's slot offsets taken once: whatever Python code does to those objects between two
wake-ups — a reset that replaces the held buffers, a gap, a windower class that puts a property
over a slot after the offsets were taken, stats of another type, a processor re-opened on a
re-mapped model — the engine's predictions and stats stay the pure-Python path's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from test_ort_native import _Counting
from test_zero_copy import conv_model

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelMapping
from sensorlab.inference.engine import InferenceStats
from sensorlab.inference.ort_ext import ort_path
from sensorlab.inference.windower import Windower

CH = 2


class Watched(Windower):
    """A windower type the test changes while it runs (same layout: its instances are Windowers)."""

    __slots__ = ()


class CountedStats(InferenceStats):
    """Stats whose ``windows`` is a property (no slot in C's reach) that counts its writes."""

    writes = 0

    @property
    def windows(self):
        return self.__dict__.get("_windows", 0)

    @windows.setter
    def windows(self, v):
        type(self).writes += 1
        self.__dict__["_windows"] = v


def stream(total: int, seed: int):
    """100 Hz, two gaps (the grid restarts), 5-sample chunks that are views of one block."""
    ts = 50.0 + np.arange(total) / 100.0
    ts[700:] += 0.4
    ts[1900:] += 1.5
    x = np.random.default_rng(seed).normal(size=(total, CH)).astype(np.float32)
    return [Chunk(x[i : i + 5], ts[i : i + 5]) for i in range(0, total, 5)]


def run(path, mapping: ModelMapping, chunks, c_hop: bool, events: dict):
    """The engine over ``chunks`` (wake-ups as the live thread makes them); ``events``: chunk index →
    what Python does to the engine before that wake-up. (predictions chunks, stats, one-call wake-ups)"""
    info = StreamInfo("s", StreamKind.TIMESERIES, 100.0, sample_shape=(CH,), channel_names=tuple(f"c{i}" for i in range(CH)))
    proc = InferenceProcessor(LoadedModel(path, mapping), stale_after=1e9)
    proc.open({"s": info})
    proc.windower.__class__ = Watched
    proc.windower.compiled = c_hop
    out: list[Chunk] = []
    proc._sink = lambda name, c: out.append(c)
    served, pending = [0], []
    for i, c in enumerate(chunks):
        if i in events:
            events[i](proc)
        pending.append(c)
        if float(c.timestamps[-1]) >= proc.wake_after("s"):
            if proc._fast and not isinstance(proc._fast, _Counting):
                proc._fast = _Counting(proc._fast, served)
            proc.process_chunks({"s": pending})
            pending = []
    st = proc.stats[proc.name]
    return out, (st.windows, st.resets, st.samples, st.first_time, st.last_time), served[0]


def property_over_j(proc):
    """`Watched._j` becomes a property (the slot's value moved into the instance dict): every read and write of ``_j`` now goes through it."""
    base = Windower._j
    w = proc.windower
    w.__dict__["j"] = base.__get__(w)
    Watched.j_writes = 0

    def set_j(self, v):
        type(self).j_writes += 1
        self.__dict__["j"] = v

    Watched._j = property(lambda self: self.__dict__["j"], set_j)


def swap_stats(proc):
    """The predictions stream's stats replaced by a `CountedStats` carrying the counts so far."""
    old = proc.stats[proc.name]
    new = CountedStats(**{f: getattr(old, f) for f in InferenceStats.__dataclass_fields__})
    proc.stats[proc.name] = proc._st = new


@pytest.fixture(autouse=True)
def _restore_watched():
    yield
    if "_j" in Watched.__dict__:
        del Watched._j


def test_predictions_and_stats_stay_the_python_paths_through_resets_gaps_and_a_type_changed_after_its_slots_were_read(tmp_path):
    path = conv_model(tmp_path / "c.onnx", CH)
    mapping = ModelMapping(stream="s", window=0.5, hop=0.1, mean=[0.1, -0.2], std=[1.5, 0.5], scores_kind="logits", labels=["a", "b", "c", "d"])
    chunks = stream(3000, 4)
    events = {
        150: lambda p: p.reset(),  # lost input: new held buffers, a new grid
        260: property_over_j,  # the windower's type changed after the C code took its slot offsets
        330: swap_stats,  # stats of another type, one field a property
        420: lambda p: p.reset(),
    }
    runs, writes = {}, {}
    for c_hop in (True, False):
        if "_j" in Watched.__dict__:
            del Watched._j
        CountedStats.writes = 0
        runs[c_hop] = run(path, mapping, chunks, c_hop, dict(events))
        writes[c_hop] = (Watched.j_writes, CountedStats.writes)
    assert runs[True][2] > 250, f"the wake-up is not one C call: {ort_path()}"
    assert runs[False][2] == 0
    # Every hop and window wrote through the properties, from C as from Python (a stale slot
    # offset would have written the slot instead: fewer writes, and windows off the grid).
    assert writes[True] == writes[False] and min(writes[True]) > 100
    (out, stats, _), (ref, ref_stats, _) = runs[True], runs[False]
    assert stats == ref_stats and stats[1] >= 4  # (two resets, two gaps)
    assert len(out) == len(ref) > 250
    for a, b in zip(out, ref):
        assert np.array_equal(a.data, b.data) and np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.device_times, b.device_times)


def test_a_processor_re_opened_on_a_re_mapped_model_gives_the_python_paths_values(tmp_path):
    """The slot offsets taken for the first engine's objects serve the next one's: another
    window, hop and standardization on the same stream type, the same types."""
    path = conv_model(tmp_path / "c.onnx", CH)
    chunks = stream(2400, 5)
    for mapping in (ModelMapping(stream="s", window=0.5, hop=0.1, mean=[0.1, -0.2], std=[1.5, 0.5], scores_kind="logits", labels=["a", "b", "c", "d"]),
                    ModelMapping(stream="s", window=0.3, hop=0.05, mean=[0.0, 0.3], std=[0.5, 2.0], scores_kind="logits", labels=["a", "b", "c", "d"])):  # fmt: skip
        (out, stats, served), (ref, ref_stats, _) = run(path, mapping, chunks, True, {}), run(path, mapping, chunks, False, {})
        assert served > 100 and stats == ref_stats and len(out) == len(ref) > 100
        for a, b in zip(out, ref):
            assert np.array_equal(a.data, b.data) and np.array_equal(a.timestamps, b.timestamps)

"""The engine's per-hop path (a wake-up's chunks joined straight into the windower's held
buffers, the bound model call) gives the windows, window timestamps and predictions the
reference path gives — the dataset's `cut_windows` and `LoadedModel.features` + `run` on the
same samples — through gaps inside and between chunks, a chunk of another dtype, a channel
selection, windows a caller keeps while the buffers grow, and recurrent state fed back.

The usual hop runs in C (`sensorlab/inference/_hop.c`) where the extension is built and in
Python otherwise: every test of that hop runs on both (``hop``: "c", "python"), and the C run
fails, rather than skips, when the extension is not built."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_models import contract_mean_model, mean_model, stateful_sum_model

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.datasets.windows import cut_windows
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelMapping
from sensorlab.inference.windower import Windower, hop_path

RATE = 100.0

#: Run a test on the C hop and on the pure-Python one.
both_hops = pytest.mark.parametrize("hop", ["c", "python"])


def on(hop: str, w: Windower) -> Windower:
    """``w`` set to take its usual hop in C or in Python (the C hop must be built: `pip install -e .`)."""
    if hop == "c" and "compiled" not in hop_path():
        pytest.fail(f"the C hop is not built, so this test cannot run on it: {hop_path()}")
    w.compiled = hop == "c"
    return w


def samples(seconds: float, channels: int, gaps=((3.02, 0.31), (6.5, 0.5)), seed: int = 3):
    """100 Hz timestamps with two stalls (one inside a 10 ms chunk's worth of samples, one at a chunk edge) and noise."""
    rng = np.random.default_rng(seed)
    ts = 1000.0 + np.arange(int(seconds * RATE)) / RATE
    for at, dur in gaps:
        ts[ts >= 1000.0 + at] += dur
    return ts, (rng.normal(size=(len(ts), channels)) * 50).astype(np.float32)


def hops(ts, x, chunk: int, per_wake: int, float64_at: int | None = None):
    """Lists of (timestamps, samples) chunks as a wake-up hands them over; one chunk made float64."""
    parts = [(ts[i : i + chunk], x[i : i + chunk]) for i in range(0, len(ts), chunk)]
    if float64_at is not None:
        parts[float64_at] = (parts[float64_at][0], parts[float64_at][1].astype(np.float64))
    return [parts[i : i + per_wake] for i in range(0, len(parts), per_wake)]


def segments(ts):
    """Index ranges between the stalls (where the grid restarts)."""
    cut = np.flatnonzero(np.diff(ts) > 2.5 / RATE) + 1
    return list(zip([0, *cut], [*cut, len(ts)]))


def test_windows_and_their_starts_equal_the_dataset_cut_through_gaps_dtypes_and_kept_views():
    ts, x = samples(10.0, 4)
    w = Windower(RATE, RATE, 1.0, 0.25, columns=[0, 1, 2, 3])
    got = []
    for wake in hops(ts, x, 3, 9, float64_at=170):  # 3-sample chunks, 9 to a wake-up: 0.27 s per hop
        got += w.push_parts(wake)
    kept = [(r.starts.copy(), r.data, r.data.copy(), r.after_gap) for r in got]  # r.data may be a view of the held samples
    assert w.gaps == 2 and [k[3] for k in kept].count(True) == 3  # the start and the two stalls
    starts = np.concatenate([k[0] for k in kept])
    expect_starts = np.concatenate([ts[a] + np.arange(int((ts[b - 1] - ts[a] + 1 / RATE - 1.0) / 0.25 + 1e-9) + 1) * 0.25 for a, b in segments(ts)])
    np.testing.assert_array_equal(starts, expect_starts)  # the dataset's grid from each segment's first sample, every window
    for s, view, copy, _ in kept:
        np.testing.assert_array_equal(view, copy)  # a window kept by a caller is not overwritten by later hops
        seg = next((a, b) for a, b in segments(ts) if ts[a] <= s[0] < ts[b - 1])
        np.testing.assert_array_equal(copy, cut_windows(ts[seg[0] : seg[1]], x[seg[0] : seg[1]], RATE, RATE, s, 1.0).data)


def test_a_channel_selection_cuts_the_selected_channels():
    ts, x = samples(4.0, 3, gaps=((2.0, 0.4),))
    w = Windower(RATE, RATE, 0.5, 0.25, columns=[2, 0])
    got = [r for wake in hops(ts, x, 1, 25) for r in w.push_parts(wake)]
    assert len(got) > 8
    for r in got:
        seg = next((a, b) for a, b in segments(ts) if ts[a] <= r.starts[0] < ts[b - 1])
        np.testing.assert_array_equal(r.data, cut_windows(ts[seg[0] : seg[1]], x[seg[0] : seg[1], [2, 0]], RATE, RATE, r.starts, 0.5).data)


def run_engine(model: LoadedModel, ts, x, chunk: int, per_wake: int, hop: str):
    """The processor as its thread runs it: `process_chunks` with each wake-up's chunks, its usual hop in C or Python."""
    info = StreamInfo("s", StreamKind.TIMESERIES, RATE, sample_shape=(x.shape[1],), channel_names=tuple(f"c{i}" for i in range(x.shape[1])))
    proc = InferenceProcessor(model, stale_after=1e9)
    proc.open({"s": info})
    on(hop, proc.windower)
    out: list[Chunk] = []
    proc._sink = lambda name, c: out.append(c)
    for wake in hops(ts, x, chunk, per_wake):
        proc.process_chunks({"s": [Chunk(d, t) for t, d in wake]})
    assert proc.windower.fast_hops > 0  # the usual hop really ran
    return proc, out


@both_hops
def test_predictions_and_window_timestamps_equal_features_and_run_on_the_same_samples(tmp_path, hop):
    ts, x = samples(10.0, 2)
    path = contract_mean_model(tmp_path / "c.onnx", "s", RATE, ["c0", "c1"], 1.0, 0.25, [0.5, -1.0], [2.0, 3.0])
    proc, out = run_engine(LoadedModel(path), ts, x, 1, 25, hop)
    assert proc.model.bound(100, 2) is not None  # the live path: the bound call
    ends = np.concatenate([c.timestamps for c in out])
    starts = np.concatenate([c.device_times for c in out])
    probs = np.concatenate([c.data for c in out])
    np.testing.assert_array_equal(ends, starts + 1.0)  # stamped with the window's end; device_times hold its start
    ref = LoadedModel(path)
    for a, b in segments(ts):
        mine = (starts >= ts[a]) & (starts < ts[b - 1])
        grid = ts[a] + np.arange(int((ts[b - 1] - ts[a] + 1 / RATE - 1.0) / 0.25 + 1e-9) + 1) * 0.25
        np.testing.assert_array_equal(starts[mine], grid)
        feats = ref.features(cut_windows(ts[a:b], x[a:b], RATE, RATE, grid, 1.0).data)
        want = np.concatenate([ref.run(feats[i : i + 1]) for i in range(len(feats))])  # one run per window, as live (a batched reduction sums in another order)
        # The live call standardizes in float32 inside the graph (training: float64): float32 rounding apart.
        np.testing.assert_allclose(probs[mine], want, rtol=1e-6, atol=1e-6)


@both_hops
def test_a_stateful_models_state_is_fed_back_window_to_window_and_reset_at_each_gap(tmp_path, hop):
    ts, x = samples(8.0, 1)
    mapping = ModelMapping(stream="s", window=0.5, hop=0.25, scores_kind="probabilities", labels=["sum"])
    path = stateful_sum_model(tmp_path / "s.onnx")
    proc, out = run_engine(LoadedModel(path, mapping), ts, x, 1, 25, hop)
    starts = np.concatenate([c.device_times for c in out])
    got = np.concatenate([c.data for c in out])[:, 0]
    for a, b in segments(ts):
        mine = (starts >= ts[a]) & (starts < ts[b - 1])
        windows = cut_windows(ts[a:b], x[a:b], RATE, RATE, starts[mine], 0.5).data
        np.testing.assert_allclose(got[mine], np.cumsum(windows.sum(axis=(1, 2), dtype=np.float64)), rtol=1e-5)  # running sum from zero after each gap


@both_hops
def test_a_mapped_models_scale_and_offset_apply_after_its_standardization(tmp_path, hop):
    ts, x = samples(3.0, 3, gaps=())
    mapping = ModelMapping(stream="s", window=0.5, hop=0.25, mean=[1.0, 2.0, 3.0], std=[4.0, 0.5, 2.0], scale=2.5, offset=-1.0,
                           scores_kind="probabilities", labels=["a", "b", "c"])  # fmt: skip
    path = mean_model(tmp_path / "m.onnx", channels=3)
    inputs = []
    lm = LoadedModel(path, mapping)
    info = StreamInfo("s", StreamKind.TIMESERIES, RATE, sample_shape=(3,), channel_names=("c0", "c1", "c2"))
    proc = InferenceProcessor(lm, stale_after=1e9)
    proc.open({"s": info})
    on(hop, proc.windower)
    proc._sink = lambda name, c: None
    proc.taps.append(lambda s, e, xin, p: inputs.append((s.copy(), xin.copy())))
    for wake in hops(ts, x, 1, 25):
        proc.process_chunks({"s": [Chunk(d, t) for t, d in wake]})
    ref = LoadedModel(path, mapping)
    assert len(inputs) == 11  # 3 s of 0.5 s windows every 0.25 s
    for s, xin in inputs:
        assert np.array_equal(xin, ref.features(cut_windows(ts, x, RATE, RATE, s, 0.5).data))  # the model input bit for bit


def _chunks(ts, x, sizes, float64_at=()):
    """Chunks of the given sizes in turn (as a device's reads vary), one made float64 where asked."""
    out, i, k = [], 0, 0
    while i < len(ts):
        n = sizes[k % len(sizes)]
        d = x[i : i + n].astype(np.float64) if k in float64_at else x[i : i + n]
        out.append(Chunk(d, ts[i : i + n]))
        i, k = i + n, k + 1
    return out


def _wakes(chunks, w, late=0.0):
    """Group chunks as the processor's thread gets them: handed over once the newest passes `Windower.due` (+ ``late`` s)."""
    pending = []
    for c in chunks:
        pending.append(c)
        if c.timestamps[-1] > w.due + late:
            yield pending
            pending = []
    if pending:
        yield pending


@both_hops
def test_the_hop_fast_path_gives_the_general_paths_windows_starts_and_gap_flags(hop):
    """`Windower.push_chunks` (the engine's hop: samples written once into the held buffers, the
    window cut in one method) against `push_parts` (the general path) fed the same wake-ups:
    equal windows (bit for bit), starts and gap flags, through gaps inside a chunk and between
    chunks, window > hop, window < hop, chunks of varying size, a float64 chunk, several windows
    ready at one wake-up, and resampling (300 → 100 Hz) — and the fast path really served hops."""
    rng = np.random.default_rng(9)
    rate = 300.0
    ts = 1000.0 + np.arange(int(20 * rate)) / rate
    ts += rng.uniform(-0.05, 0.05, len(ts)) / rate  # jitter: positions interpolate between real timestamps
    for at, dur in ((4.013, 0.2), (9.0, 0.05), (14.5, 1.0)):
        ts[ts >= 1000.0 + at] += dur
    x = (rng.normal(size=(len(ts), 2)) * 10).astype(np.float32)
    cases = [(rate, 1.0, 0.25, (3,), (), 0.0), (rate, 0.5, 0.5, (7, 1, 13), (40,), 0.0), (rate, 0.2, 0.3, (3,), (), 0.0),
             (rate, 1.0, 0.1, (3, 5), (), 0.35), (100.0, 1.0, 0.25, (3,), (), 0.0), (100.0, 0.5, 0.1, (9, 2), (70,), 0.25)]  # fmt: skip
    path = hop
    for rate_out, length, step, sizes, f64, late in cases:
        fast, ref = on(path, Windower(rate, rate_out, length, step, [0, 1])), Windower(rate, rate_out, length, step, [0, 1])
        assert fast.compiled == (path == "c" and rate_out == rate)  # (the C hop does not resample: those hops take `_hop`)
        got, want, views = [], [], []
        chunks = _chunks(ts, x, sizes, f64)
        for wake in _wakes(chunks, fast, late):
            mine = fast.push_chunks(wake)
            views += [r.data for r in mine]  # the live window may be a view of the held samples: later hops must not overwrite it
            got += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in mine]
            want += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in ref.push_parts([(c.timestamps, c.data) for c in wake])]
        label = f"{path} hop, {rate_out:g} Hz, {length} s / {step} s, chunks {sizes}, late {late}"
        assert len(got) == len(want) > 20, label
        assert fast.fast_hops > len(got) // 4 and ref.fast_hops == 0, label
        assert fast.gaps == ref.gaps == 3, label
        for (s1, d1, g1), (s2, d2, g2) in zip(got, want):
            np.testing.assert_array_equal(s1, s2, err_msg=label)
            np.testing.assert_array_equal(d1, d2, err_msg=label)
            assert g1 == g2, label
        for v, (_s, d, _g) in zip(views, got):
            np.testing.assert_array_equal(v, d, err_msg=label)


@both_hops
def test_the_usual_hop_hands_the_engine_one_window_as_start_samples_and_gap_flag(hop):
    """``push_chunks(chunks, one=True)`` (the engine's call) returns the usual hop's single window
    as ``(start, samples (n, C), after_gap, address)``: the start, samples and gap flag `push_chunks`
    gives as ``[Ready]`` (bit for bit, through gaps and a float64 chunk), and ``[Ready]`` as
    before for every hop that is not that one window — and the tuple really is what most hops give;
    the address is the window's first sample, in the windower's held samples."""
    ts, x = samples(12.0, 3)
    chunks = _chunks(ts, x, (1, 2), float64_at=(300,))
    tupled, listed = on(hop, Windower(RATE, RATE, 1.0, 0.25)), on(hop, Windower(RATE, RATE, 1.0, 0.25))
    got, want, as_tuple = [], [], 0
    for wake in _wakes(chunks, listed):
        mine = tupled.push_chunks(wake, one=True)
        if type(mine) is tuple:
            as_tuple += 1
            start, window, after_gap, address = mine
            assert type(start) is float and window.ndim == 2 and type(after_gap) is bool
            # where the model's input is bound: the window's first sample, in the held samples it views
            assert address == window.ctypes.data and window.flags.c_contiguous and window.dtype == np.float32
            assert np.shares_memory(window, tupled._x.buf)
            got.append((np.array([start]), window.copy(), after_gap))
        else:
            got += one_each(mine)
        want += one_each(listed.push_chunks(wake))
    assert len(got) == len(want) > 30 and as_tuple > len(got) // 2
    assert tupled.gaps == listed.gaps == 2
    for (s1, d1, g1), (s2, d2, g2) in zip(got, want):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(d1, d2)
        assert d1.dtype == d2.dtype and g1 == g2


def one_each(ready: list) -> list[tuple]:
    """Each `Ready`'s start, window and gap flag (1 s windows every 0.25 s, woken at each due time: one window a `Ready`)."""
    assert all(len(r.starts) == 1 for r in ready)
    return [(r.starts.copy(), r.data[0].copy(), r.after_gap) for r in ready]


@both_hops
def test_the_usual_hops_predictions_chunk_and_stats_equal_the_general_paths(tmp_path, hop):
    """The engine's usual hop (`Windower.push_chunks` → `InferenceProcessor._run_one`: one window, its
    predictions chunk made before the model run and filled in after, counted inline) emits what
    `run_windows` (the general path, taken when a tap is attached) emits on the same stream: the
    same probabilities, window ends and starts bit for bit, one arrival time per window, and the
    same stream counters and lag."""
    ts, x = samples(6.0, 2)
    path = contract_mean_model(tmp_path / "c.onnx", "s", RATE, ["c0", "c1"], 1.0, 0.25, [0.5, -1.0], [2.0, 3.0])
    info = StreamInfo("s", StreamKind.TIMESERIES, RATE, sample_shape=(2,), channel_names=("c0", "c1"))
    outs, procs = [], []
    for tapped in (False, True):
        proc = InferenceProcessor(LoadedModel(path), stale_after=1e9)
        proc.open({"s": info})
        on(hop, proc.windower)
        out: list[Chunk] = []
        proc._sink = lambda name, c, out=out: out.append(c)
        if tapped:
            proc.taps.append(lambda s, e, xin, p: None)
        for wake in hops(ts, x, 1, 25):
            proc.process_chunks({"s": [Chunk(d, t) for t, d in wake]})
        outs.append(out)
        procs.append(proc)
    fast, general = outs
    assert procs[0].windower.fast_hops > 10 and len(fast) == len(general) > 15
    for a, b in zip(fast, general):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data.dtype == b.data.dtype == np.float32 and a.data.shape == b.data.shape == (1, 2)
        np.testing.assert_array_equal(a.timestamps, b.timestamps)
        np.testing.assert_array_equal(a.device_times, b.device_times)
        assert a.arrival_times.shape == b.arrival_times.shape == (1,) and a.arrival_times.dtype == np.float64  # when the prediction was made
    assert np.all(np.diff(np.concatenate([c.arrival_times for c in fast])) > 0)
    s1, s2 = (p.stats[p.name] for p in procs)
    assert (s1.samples, s1.windows, s1.first_time, s1.last_time) == (s2.samples, s2.windows, s2.first_time, s2.last_time) == (len(fast), len(fast), fast[0].timestamps[0], fast[-1].timestamps[0])
    assert s1.last_arrival == fast[-1].arrival_times[0]
    assert abs(s1.lag_ms - (s1.last_arrival - fast[-1].timestamps[0] + 1 / RATE) * 1000) < 1e-6


@both_hops
def test_chunks_the_byte_join_cannot_take_as_they_are_go_the_general_path_with_its_windows(hop):
    """`_hop` joins the chunks' raw bytes, so it must refuse what `np.concatenate(casting="no")`
    refused: samples of another 4-byte dtype (int32, big-endian float32: the same byte count as
    float32) and a view that is not C-contiguous. Each such hop
    goes the general path (which converts them as `cut_windows` does), and the windows, starts and
    gap flags equal `push_parts`' bit for bit — none is float32 bytes read as something else."""
    rate = 300.0
    ts = 1000.0 + np.arange(int(12 * rate)) / rate
    x = (np.random.default_rng(4).normal(size=(len(ts), 2)) * 10).astype(np.float32)
    wide = np.ascontiguousarray(np.repeat(x, 2, axis=1))  # 4 channels: take columns 0 and 2 (a strided view)
    # (int32 last: the general path converts it to float64, as cut_windows does, and the held
    # samples stay float64 after it, so no later hop can take the byte join)
    odd = {500: lambda d: d.astype(">f4"), 900: lambda d: d.astype(np.int32)}
    chunks = []
    for k, i in enumerate(range(0, len(ts), 3)):
        d = x[i : i + 3]
        if k == 300:
            d = wide[i : i + 3, ::2]  # not C-contiguous: bytes.join has no buffer to read
            assert not d.flags.c_contiguous
        elif k in odd:
            d = odd[k](d)
        chunks.append(Chunk(d, ts[i : i + 3]))
    fast, ref = on(hop, Windower(rate, rate, 1.0, 0.25)), Windower(rate, rate, 1.0, 0.25)
    got, want, served, seen = [], [], [], 0
    for wake in _wakes(chunks, fast):
        before = fast.fast_hops
        mine = fast.push_chunks(wake)
        seen += len(wake)
        if fast.fast_hops > before:
            served.append(seen)  # chunks handed over so far
        got += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in mine]
        want += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in ref.push_parts([(c.timestamps, c.data) for c in wake])]
    assert len(got) == len(want) > 30
    # The byte join served hops before the odd chunks and again between them (back to float32).
    assert [sum(a < n <= b for n in served) > 3 for a, b in ((0, 300), (301, 500), (501, 900))] == [True] * 3
    for (s1, d1, g1), (s2, d2, g2) in zip(got, want):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(d1, d2)
        assert d1.dtype == d2.dtype and g1 == g2


class DictChunk:
    """A chunk-like object with an instance dict instead of `Chunk`'s slots: the C hop reads it through ``getattr``."""

    def __init__(self, data, timestamps):
        self.data, self.timestamps = data, timestamps


@both_hops
def test_one_sample_chunks_in_runs_with_gaps_inside_and_of_another_type_give_the_general_paths_windows(hop):
    """A 100 Hz device's one-sample chunks, as the engine's hop gets ~25 of them a window: runs of
    views of one block (copied by the C hop as one block) broken by copies every 11th chunk, the
    two stalls inside such runs, and runs of a chunk type with an instance dict between runs of
    `Chunk`s (the C hop reads `Chunk`'s slots directly, the other type through ``getattr``): the
    windows, starts and gap flags of the general path, and the fast path serving the hops."""
    ts, x = samples(10.0, 3)
    chunks = []
    for i in range(len(ts)):
        kind = DictChunk if (i // 37) % 3 == 1 else Chunk
        chunks.append(kind(x[i : i + 1], ts[i : i + 1]) if i % 11 else kind(x[i : i + 1].copy(), ts[i : i + 1].copy()))
    fast, ref = on(hop, Windower(RATE, RATE, 1.0, 0.25)), Windower(RATE, RATE, 1.0, 0.25)
    got, want = [], []
    for wake in _wakes(chunks, fast):
        got += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in fast.push_chunks(wake)]
        want += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in ref.push_parts([(c.timestamps, c.data) for c in wake])]
    assert len(got) == len(want) > 20 and fast.fast_hops > len(got) // 2 and fast.gaps == ref.gaps == 2
    assert any(g for _s, _d, g in got[1:])  # a grid restarted after a stall
    for (s1, d1, g1), (s2, d2, g2) in zip(got, want):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(d1, d2)
        assert g1 == g2

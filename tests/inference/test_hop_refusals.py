"""What the usual hop refuses (C: `sensorlab/inference/_hop.c`; Python: `Windower._hop`): chunks it
cannot copy as they are into the held float32 samples and float64 stamps, and a gap. Each is
refused with nothing held and the windower's state untouched, so the general path takes the
chunks and cuts what the dataset's `cut_windows` cuts. A hop that accepted one of these would
hold float32 bytes read as something else (or a window across a gap): each test fails then."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk
from sensorlab.inference.windower import Windower, hop_path

RATE = 1000.0


def _c_hop(w: Windower, chunks: list):
    if "compiled" not in hop_path():
        pytest.fail(f"the C hop is not built, so this test cannot run on it: {hop_path()}")
    from sensorlab.inference import _hop

    return _hop.hop(w, chunks)


HOPS = {"c": _c_hop, "python": lambda w, chunks: w._hop(chunks)}


def primed(channels: int = 2) -> tuple[Windower, float, np.random.Generator]:
    """A windower (0.1 s windows every 0.05 s) that has held samples and cut windows: the usual hop may run."""
    rng = np.random.default_rng(1)
    w = Windower(RATE, RATE, 0.1, 0.05)
    t = 100.0
    for _ in range(12):
        ts = t + np.arange(10) / RATE
        w.push_chunks([Chunk(rng.normal(size=(10, channels)).astype(np.float32), ts)])
        t = ts[-1] + 1 / RATE
    assert w._fast and w.fast_hops > 0
    return w, t, rng


def state(w: Windower) -> tuple:
    """Everything a hop moves on (and the held samples themselves)."""
    return (w._ts.lo, w._ts.hi, w._x.lo, w._x.hi, w._due, w._j, w._newest, w._base, w._restarted,
            w._ts.view().copy(), w._x.view().copy())  # fmt: skip


def next_hop(t: float, rng, sizes=(20, 20, 20), channels: int = 2) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stamps and float32 samples of the next chunks (60 samples: a window is due)."""
    out = []
    for n in sizes:
        ts = t + np.arange(n) / RATE
        out.append((ts, rng.normal(size=(n, channels)).astype(np.float32)))
        t = ts[-1] + 1 / RATE
    return out


def odd_chunks(kind: str, t: float, rng) -> list[Chunk]:
    parts = next_hop(t, rng)
    chunks = [Chunk(x, ts) for ts, x in parts]
    ts, x = parts[1]
    if kind == "float64 samples":
        chunks[1] = Chunk(x.astype(np.float64), ts)
    elif kind == "int32 samples (float32's byte count)":
        chunks[1] = Chunk(x.astype(np.int32), ts)
    elif kind == "big-endian float32 samples":
        chunks[1] = Chunk(x.astype(">f4"), ts)
    elif kind == "samples not C-contiguous":
        wide = np.ascontiguousarray(np.repeat(x, 2, axis=1))
        chunks[1] = Chunk(wide[:, ::2], ts)
        assert not chunks[1].data.flags.c_contiguous
    elif kind == "samples in Fortran order":
        chunks[1] = Chunk(np.asfortranarray(x), ts)
        assert not chunks[1].data.flags.c_contiguous
    elif kind == "stamps not C-contiguous":
        c = Chunk(x, ts)
        c.timestamps = np.repeat(ts, 2)[::2]  # (Chunk makes them float64, not contiguous)
        chunks[1] = c
    elif kind == "big-endian stamps":
        c = Chunk(x, ts)
        c.timestamps = ts.astype(">f8")
        chunks[1] = c
    elif kind == "mixed bytes a sample (3 channels, then 1: the hop's bytes add up)":
        t0, t1 = parts[0][0], parts[1][0]
        chunks[0] = Chunk(rng.normal(size=(len(t0), 3)).astype(np.float32), t0)
        chunks[1] = Chunk(rng.normal(size=(len(t1), 1)).astype(np.float32), t1)
        assert sum(c.data.nbytes for c in chunks) == sum(len(c) for c in chunks) * 8  # as many bytes as 2 channels would have
    elif kind == "another channel count":
        chunks = [Chunk(rng.normal(size=(len(c), 3)).astype(np.float32), c.timestamps) for c in chunks]
    elif kind == "a gap inside a chunk":
        stamps = ts.copy()
        stamps[7:] += 0.5
        chunks[1] = Chunk(x, stamps)
        chunks[2] = Chunk(parts[2][1], parts[2][0] + 0.5)
    elif kind == "a gap before the first chunk":
        chunks = [Chunk(c.data, c.timestamps + 0.5) for c in chunks]
    else:
        raise AssertionError(kind)
    return chunks


KINDS = ["float64 samples", "int32 samples (float32's byte count)", "big-endian float32 samples", "samples not C-contiguous",
         "samples in Fortran order", "stamps not C-contiguous", "big-endian stamps",
         "mixed bytes a sample (3 channels, then 1: the hop's bytes add up)", "another channel count", "a gap inside a chunk",
         "a gap before the first chunk"]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("hop", ["c", "python"])
def test_the_usual_hop_refuses_with_nothing_held(hop, kind):
    w, t, rng = primed()
    chunks = odd_chunks(kind, t, rng)
    before = state(w)
    assert HOPS[hop](w, chunks) is None, f"the {hop} hop took {kind}"
    after = state(w)
    for a, b in zip(before, after):
        assert np.array_equal(a, b), f"the {hop} hop moved the windower on for {kind}"


@pytest.mark.parametrize("hop", ["c", "python"])
def test_a_refused_hop_goes_the_general_path_and_cuts_the_datasets_windows(hop):
    """Through `push_chunks` (the engine's call): each odd hop between plain ones gives the windows
    `push_parts` (the general path) gives, bit for bit, and later plain hops take the usual hop again."""
    kinds = ["samples not C-contiguous", "big-endian float32 samples", "a gap inside a chunk", "stamps not C-contiguous", "a gap before the first chunk"]
    w, t, rng = primed()
    ref, _t, _rng = primed()
    w.compiled = hop == "c" and "compiled" in hop_path()
    got, want = [], []
    for kind in kinds + [None] * 3:
        for plain in range(3):
            chunks = [Chunk(x, ts) for ts, x in next_hop(t, rng)] if plain or kind is None else odd_chunks(kind, t, rng)
            t = float(chunks[-1].timestamps[-1]) + 1 / RATE
            served = w.fast_hops
            got += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in w.push_chunks(chunks)]
            want += [(r.starts.copy(), r.data.copy(), r.after_gap) for r in ref.push_parts([(c.timestamps, c.data) for c in chunks])]
            if plain == 2:
                assert w.fast_hops == served + 1, f"{kind}: the usual hop did not take plain chunks again"
    assert len(got) == len(want) > 20
    for (s1, d1, g1), (s2, d2, g2) in zip(got, want):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(d1, d2)
        assert d1.dtype == d2.dtype and g1 == g2


def test_the_c_hop_serves_a_one_channel_stream_of_flat_chunks():
    """An audio device's chunks may come as ``(samples,)``: one channel, the same bytes — the C hop takes them."""
    w = Windower(RATE, RATE, 0.1, 0.05)
    if "compiled" not in hop_path():
        pytest.fail(hop_path())
    rng = np.random.default_rng(2)
    t, flat = 100.0, []
    for _ in range(100):
        ts = t + np.arange(10) / RATE
        flat.append(Chunk(rng.normal(size=10).astype(np.float32), ts))
        t = ts[-1] + 1 / RATE
    ref = Windower(RATE, RATE, 0.1, 0.05)
    got = [r for c in flat for r in w.push_chunks([c])]
    want = [r for c in flat for r in ref.push_parts([(c.timestamps, c.data)])]
    assert w.compiled and w.fast_hops > 10
    assert len(got) == len(want) > 10
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.starts, b.starts)


@pytest.mark.parametrize("hop", ["c", "python"])
def test_a_gap_at_any_step_of_the_hop_is_refused_with_nothing_held(hop):
    """The gap check looks at every step — the one from the newest held stamp and each inside the
    hop's chunks —, wherever it falls in the C hop's vector loop (16 steps at a time with AVX2, the
    rest one by one); a stamp that is NaN makes no step above the gap, and both hops agree on it."""
    for sizes in ((20, 20, 20), (7, 93, 37)):
        k = sum(sizes)
        for p in range(k):
            w, t, rng = primed()
            parts = next_hop(t, rng, sizes)
            stamps = np.concatenate([ts for ts, _x in parts])
            stamps[p:] += 0.5
            chunks, at = [], 0
            for ts, x in parts:
                chunks.append(Chunk(x, stamps[at : at + len(ts)]))
                at += len(ts)
            before = state(w)
            assert HOPS[hop](w, chunks) is None, f"the {hop} hop took a gap before sample {p} of {k}"
            # (a hop too large for the held buffer moves the held samples to a larger one first: their indices change, not they)
            assert all(np.array_equal(a, b) for a, b in zip(before[4:], state(w)[4:]))
    for p in (0, 5, 16, 17, 59):
        outcome = []
        for h in ("c", "python"):
            w, t, rng = primed()
            parts = next_hop(t, np.random.default_rng(9))
            parts[p // 20][0][p % 20] = np.nan
            got = HOPS[h](w, [Chunk(x, ts.copy()) for ts, x in parts])
            outcome.append((got is None, *[np.asarray(a).tobytes() for a in state(w)[4:]]))
        assert outcome[0] == outcome[1], f"a NaN stamp at sample {p}: the hops differ"


def test_the_c_hop_reads_numpy_arrays_where_their_layout_is_numpys():
    """The C hop reads a chunk's arrays from NumPy's array fields (checked once against the buffer
    protocol) rather than exporting each: on this NumPy the check passes, so the fields are read."""
    w, _t, _rng = primed()
    _c_hop(w, [])  # (the C hop is built)
    from sensorlab.inference import _hop

    assert _hop.array_fields() is True

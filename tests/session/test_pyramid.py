"""Min/max pyramid: equals brute force, builds incrementally and resumes, caches and invalidates."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.session import pyramid_build as pyr_build  # the build reads BUILD_CHUNK there
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.pyramid import BLOCK_FACTOR, Pyramid, block_minmax, cache_path
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter

N = 200_003  # not a multiple of any block size: the last block of every level is short
RATE = 1000.0
T0 = 100.0


@pytest.fixture
def session_file(tmp_path):
    """A session with a 3-channel random walk (irregular-ish timestamps) and a mono int16 stream."""
    rng = np.random.default_rng(3)
    data = np.cumsum(rng.standard_normal((N, 3)), axis=0).astype(np.float32)
    ts = T0 + np.arange(N) / RATE + rng.uniform(0, 2e-4, N)  # jittered but increasing
    pcm = rng.integers(-32768, 32767, (N // 4, 1), dtype=np.int16)
    path = tmp_path / "run.h5"
    w = SessionWriter(path)
    w.on_start(
        {
            "sig": StreamInfo("sig", StreamKind.TIMESERIES, RATE, dtype="float32", sample_shape=(3,)),
            "pcm": StreamInfo("pcm", StreamKind.AUDIO, RATE / 4, dtype="int16", sample_shape=(1,)),
        },
        SessionMetadata(name="t").stamped_start(T0),
    )
    for i in range(0, N, 7001):  # odd chunk sizes, like a recorder's batches
        w.on_chunk("sig", Chunk(data[i : i + 7001], ts[i : i + 7001]))
    w.on_chunk("pcm", Chunk(pcm, T0 + np.arange(len(pcm)) * 4 / RATE))
    w.on_stop({}, {"complete": True})
    return path, data, ts


def brute(data, ts, k, j0, j1):
    bs = BLOCK_FACTOR**k
    x = data[j0 * bs : j1 * bs]
    lo, hi = block_minmax(x, bs)
    return ts[j0 * bs : j1 * bs : bs], lo, hi


def test_query_equals_brute_force_over_random_ranges(session_file, monkeypatch):
    monkeypatch.setattr(pyr_build, "BUILD_CHUNK", 64 * 37)  # many build steps
    path, data, ts = session_file
    rng = np.random.default_rng(0)
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        levels_seen = set()
        for _ in range(60):
            a, b = np.sort(rng.uniform(ts[0] - 1, ts[-1] + 1, 2))
            if rng.random() < 0.4:  # short ranges exercise the raw and on-the-fly levels
                b = a + rng.uniform(0.01, 3.0)
            max_points = int(rng.integers(50, 2000))
            k, j0, j1 = pyr.locate("sig", a, b, max_points)
            levels_seen.add(k)
            env = pyr.query("sig", None, a, b, max_points)
            assert len(env.t) <= max_points
            bt, blo, bhi = brute(data, ts, k, j0, j1)
            np.testing.assert_array_equal(env.t, bt)
            np.testing.assert_array_equal(env.min, blo)
            np.testing.assert_array_equal(env.max, bhi)
            # The envelope covers the range: every sample in [a, b] lies inside a returned block.
            inside = np.flatnonzero((ts >= a) & (ts <= b))
            if len(inside):
                bs = BLOCK_FACTOR**k
                assert j0 * bs <= inside[0] and inside[-1] < j1 * bs
                ch = pyr.query("sig", 1, a, b, max_points)
                assert ch.min.min() <= data[inside, 1].min() and ch.max.max() >= data[inside, 1].max()
        assert {0, 1} <= levels_seen and max(levels_seen) >= 3


def test_integer_audio_is_scaled_to_full_scale(session_file):
    path, _, _ = session_file
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        env = pyr.query("pcm", 0, -np.inf, np.inf, 100)
        assert -1.0 <= env.min.min() < -0.9 and 0.9 < env.max.max() < 1.0


def test_a_view_past_the_end_of_a_stream_draws_nothing_for_every_channel(session_file):
    # A labeling view scrolled past a stream's last sample asks for an empty block range:
    # it must get empty envelopes with the stream's channel count, not a reshape error.
    path, _, _ = session_file
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        for k in (0, 1):
            env = pyr.blocks("sig", k, N + 10, N + 20)
            assert len(env.t) == 0 and env.min.shape == (0, 3) and env.max.shape == (0, 3)


def test_interrupted_build_resumes_and_matches_a_fresh_build(session_file, tmp_path, monkeypatch):
    monkeypatch.setattr(pyr_build, "BUILD_CHUNK", 64 * 50)
    path, _, _ = session_file
    with Session.open(path) as s:
        gen = Pyramid(s).iter_build()
        progress = [next(gen) for _ in range(10)]
        gen.close()  # as if the worker was cancelled (or the process killed after a flush)
        assert progress == sorted(progress) and 0 < progress[-1] < 1
        partial = Pyramid(s)
        assert not partial.is_valid()
        # Resuming does not start over: it only has the rest of the raw samples to go.
        resumed = list(Pyramid(s).iter_build())
        assert len(resumed) < len(list(Pyramid(s, tmp_path / "fresh.h5").iter_build()))
        with Pyramid.open(s) as a, Pyramid.open(s, tmp_path / "fresh.h5") as b:
            for name in ("sig", "pcm"):
                assert a.levels(name) == b.levels(name)
                for k in a.levels(name):
                    ea, eb = a.blocks(name, k, 0, 10**9), b.blocks(name, k, 0, 10**9)
                    for x, y in zip(ea, eb):
                        np.testing.assert_array_equal(x, y)


def test_cache_is_a_separate_file_reused_and_invalidated(session_file):
    path, _, _ = session_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with Session.open(path) as s:
        Pyramid.open(s).close()
        cache = cache_path(path)
        assert cache.exists() and cache.name == "run.pyramid.h5"
        built = cache.stat().st_mtime_ns
        assert Pyramid(s).is_valid()
        Pyramid.open(s).close()  # reuse: nothing rewritten
        assert cache.stat().st_mtime_ns == built
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # the recording is untouched
    # The session file changes (recovered, rewritten): the cache is stale and rebuilt.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    with Session.open(path) as s:
        assert not Pyramid(s).is_valid()
        Pyramid.open(s).close()
        assert Pyramid(s).is_valid()


def test_corrupt_cache_is_rebuilt(session_file):
    path, _, _ = session_file
    cache_path(path).write_bytes(b"not hdf5 at all")
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        assert len(pyr.query("sig", 0, -np.inf, np.inf, 500).t) > 0


@pytest.mark.parametrize("first_offset", [0.0, -0.25])
def test_changed_sync_offsets_move_every_level_with_the_raw_samples(session_file, first_offset):
    # The cache is built while one set of sync offsets (run.sync.json) is in force; the user
    # then re-syncs. Every level must follow the new offsets like the raw samples do: a cache
    # holding the old times drew the envelope shifted against the level-0 samples.
    from sensorlab.session import sync_offsets

    path, data, ts = session_file
    if first_offset:
        sync_offsets.apply(path, {"sig": first_offset})
    with Session.open(path) as s:
        Pyramid.open(s).close()
    sync_offsets.apply(path, {"sig": 0.75})
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        assert s.streams["sig"].offset == 0.75
        shifted = ts - 0.75
        for k in range(0, 7):
            env = pyr.blocks("sig", k, 0, 10**9)
            np.testing.assert_allclose(env.t, shifted[:: BLOCK_FACTOR**k], rtol=0, atol=1e-9)
        # The same range in the corrected clock gives the samples that are there now.
        a, b = shifted[50_000], shifted[50_000 + 64 * 1000]
        env = pyr.query("sig", 0, a, b, 300)
        t, lo, hi = brute(data[:, :1], shifted, pyr.locate("sig", a, b, 300)[0], *pyr.locate("sig", a, b, 300)[1:])
        np.testing.assert_allclose(env.t, t, atol=1e-9)
        np.testing.assert_array_equal(env.min, lo[:, 0])
        np.testing.assert_array_equal(env.max, hi[:, 0])


def test_raw_sample_lookup_brackets_the_readers_index_within_one_block_at_every_time(session_file):
    # Fine levels find their samples through the in-memory block times alone (no file read):
    # the bounds must enclose the reader's own index for any time (before, between, on and
    # after samples), at most one first-level block apart.
    from sensorlab.session.pyramid import FIRST_STORED_LEVEL

    path, _, ts = session_file
    rng = np.random.default_rng(5)
    probes = np.concatenate([[ts[0] - 1, ts[0], ts[-1], ts[-1] + 1], ts[rng.integers(0, N, 50)],
                             rng.uniform(ts[0], ts[-1], 200)])
    with Session.open(path) as s, Pyramid.open(s) as pyr:
        for t in probes:
            lo, hi, exact = pyr._raw_index("sig", t, after=False), pyr._raw_index("sig", t, after=True), s.streams["sig"].index_of(t)
            assert lo <= exact <= hi and hi - lo < BLOCK_FACTOR**FIRST_STORED_LEVEL, (t, lo, exact, hi)

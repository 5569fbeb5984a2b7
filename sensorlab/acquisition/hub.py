"""`Acquisition`: runs a set of sources and processors and fans their chunks out to consumers.

Sources keep running while recordings start and stop, so the live view, pre-roll and live
inference see data whether or not a file is being written. Each consumer either subscribes
a cheap callback (the recorder's lossless queue) or reads a bounded `ChunkRing`. The fan-out is safe: every chunk is made read-only before it is shared (one object, no
copy per consumer), and a subscriber that raises is detached and reported once
(``consumer_failed``, ``consumer_errors``, the stream's ``stats.consumer_errors``) while the
device and every other consumer go on. Processors (`sensorlab.acquisition.processors`) are
opened after the devices, see their inputs' `StreamInfo`, and emit through the same dispatch.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from psygnal import Signal

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.processors.base import INPUT_SECONDS, Processor
from sensorlab.acquisition.running_changes import RunningChanges
from sensorlab.acquisition.source import Chunk, Source, SourceError, StreamInfo, StreamStats, close_sources

log = logging.getLogger(__name__)

Subscriber = Callable[[str, Chunk], None]


class Acquisition(RunningChanges):
    """Open, start and stop several sources together.

    A source that fails to open is reported in ``errors`` (source description → message)
    and left out; the others run. ``stream_failed`` fires (on a device thread) when a
    running stream breaks.

    ``sources`` may mix devices and processors (a rig's ``build_sources()`` lists its
    ``[[processor]]`` entries last): processors are opened after the devices, in order, so
    one may consume another's output. `add_processor` adds one later, even while recording
    (`remove_processor` takes one out again: `running_changes`).

    Examples
    --------
    >>> with Acquisition(demo_sources()) as acq:          # doctest: +SKIP
    ...     ring = acq.ring("imu", seconds=5)             # (acquisition.emulated.rig.demo_sources)
    """

    stream_failed = Signal(str, str)  # (stream name, message); any thread
    #: (stream whose chunk it raised on, message naming the consumer); any thread; once per consumer
    consumer_failed = Signal(str, str)
    #: a processor added after `open` declared this stream (caller's thread, before its first chunk)
    stream_added = Signal(object)
    stream_removed = Signal(str)  # its processor was taken out (`remove_processor`), after its last chunk
    sources_opened = Signal()

    def __init__(self, sources: Iterable[Source | Processor], processors: Iterable[Processor] = ()):
        nodes = list(sources)
        self.sources: list[Source] = [n for n in nodes if not isinstance(n, Processor)]
        self.processors: list[Processor] = [n for n in nodes if isinstance(n, Processor)] + list(processors)
        self.errors: dict[str, str] = {}
        self.consumer_errors: dict[str, str] = {}  # consumer name → why it was detached
        self._names: dict[int, str] = {}  # id(subscriber) → name used in reports
        self._inputs: dict[int, list[tuple[str, ChunkRing]]] = {}  # id(processor) → its input rings
        self._subscribers: list[Subscriber] = []
        self._tracked: set[int] = set()  # id(subscriber) of those subscribed with track_dispatches
        # What `_dispatch` reads, one attribute read once: the subscribers, and whether one is tracked.
        self._delivery: tuple[list[Subscriber], bool] = ([], False)
        # (stream, raw) → rings: raw rings get chunks as they came, the others physical values.
        self._rings: dict[tuple[str, bool], list[ChunkRing]] = {}
        self._infos: dict[str, StreamInfo] = {}  # stream → info, cached for `_dispatch`
        # thread → number of the dispatch it is in, kept only while a tracked subscriber is
        # subscribed: its unsubscribe(wait=...) waits for the dispatches that may still call it.
        self._in_flight: dict[int, int] = {}
        self._dispatches = itertools.count()
        self._lock = threading.Lock()
        # Serialises open/start/close: a rig replaced while it is still opening must end
        # closed, not start afterwards with nobody left to close it (a held port or camera).
        self._life = threading.RLock()
        self._closed = False
        self._started = False

    # -- life cycle -------------------------------------------------------------
    def open(self) -> None:
        """Open all sources in parallel; failures land in ``errors``, not exceptions.

        After `close` this opens nothing (the acquisition was given up while waiting): it closes
        whatever it still holds, since each node built for it may hold a pty, a board in the
        board host or a reader process from its construction on."""
        with self._life:
            if self._closed:
                nodes, self.sources, self.processors = [*self.processors, *self.sources], [], []
                close_sources(nodes)
                return
            self._open_all()
            pending, self.processors = self.processors, []
            for proc in pending:
                try:
                    self._open_processor(proc)
                except SourceError as e:
                    self.errors[proc.description] = str(e)
                    log.error("could not open %s: %s", proc.description, e)
            self.sources_opened.emit()

    def _open_all(self) -> None:

        def _open(src: Source) -> tuple[Source, str | None]:
            try:
                src.open()
                return src, None
            except SourceError as e:
                return src, str(e)
            except Exception as e:  # a driver error we did not anticipate
                return src, f"{type(e).__name__}: {e}"

        with ThreadPoolExecutor(max_workers=max(1, len(self.sources))) as pool:
            results = list(pool.map(_open, self.sources))
        ok = []
        for src, err in results:
            if err is None:
                ok.append(src)
                src.failed.connect(self._on_source_failed)
            else:
                self.errors[src.description or type(src).__name__] = err
                close_sources([src])  # what it got before failing (an emulated board, a pty) is freed
                # Info, not error: the front ends report `errors` themselves (the CLI once, the
                # studio in its health view); an error record would print the reason a second time.
                log.info("could not open %s: %s", src.description, err)
        self.sources = ok
        names = [s.name for src in ok for s in src.streams]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            self.close()  # release ports, ptys and threads of everything that did open
            self.sources = []
            raise SourceError(f"two devices use the stream name(s) {sorted(dupes)}: give each a unique 'name' in the rig")

    # -- processors ---------------------------------------------------------------------------
    def add_processor(self, proc: Processor) -> None:
        """Open ``proc`` on the running streams and start it if the acquisition is started.

        Its output streams are announced with ``stream_added`` before its first chunk, so a
        running `Recorder` adds them to the file (with the time they were added).

        Raises
        ------
        SourceError
            An input stream does not exist, an output name is taken, or the processor
            refuses its inputs; nothing was added.
        """
        with self._life:
            if self._closed:
                raise SourceError(f"processor {proc.description}: the acquisition is closed")
            self._open_processor(proc)
            for info in proc.streams:
                self.stream_added.emit(info)
            if self._started:
                self._start_processor(proc)

    def _open_processor(self, proc: Processor) -> None:
        # A processor gets physical values from its rings (see `ring`), so it sees their info.
        proc.open(self.physical_streams)
        clash = sorted({s.name for s in proc.streams} & set(self.streams))
        if clash:
            proc.close()
            raise SourceError(f"processor {proc.description}: output stream name(s) {', '.join(clash)} already exist; give it another 'name'")
        proc.failed.connect(self._on_source_failed)
        proc.failed.connect(lambda *_: self._release_inputs(proc))
        self.processors = [*self.processors, proc]

    def _start_processor(self, proc: Processor) -> None:
        wakeup = threading.Condition(threading.Lock())
        rings = {name: self.ring(name, seconds=INPUT_SECONDS, wakeup=wakeup) for name in proc.inputs}
        self._inputs[id(proc)] = list(rings.items())
        try:
            proc.start(self._dispatch, rings, wakeup)
        except Exception as e:
            self._release_inputs(proc)
            msg = str(e) if isinstance(e, SourceError) else f"{type(e).__name__}: {e}"
            self.errors[proc.description] = msg
            log.error("could not start %s: %s", proc.description, msg)

    def _release_inputs(self, proc: Processor) -> None:
        for name, ring in self._inputs.pop(id(proc), []):
            self.release_ring(name, ring)

    def start(self) -> None:
        """Start every opened source; one that fails to start is closed and reported in
        ``errors`` while the others run. Does nothing after `close`."""
        with self._life:
            if self._closed:
                return
            # Processors first: their input rings must exist before the first chunk.
            for proc in self.processors:
                self._start_processor(proc)
            for src in list(self.sources):
                try:
                    src.start(self._dispatch)  # type: ignore[attr-defined]
                except Exception as e:  # a device that opened but will not stream
                    msg = str(e) if isinstance(e, SourceError) else f"{type(e).__name__}: {e}"
                    self.errors[src.description or type(src).__name__] = msg
                    log.error("could not start %s: %s", src.description, msg)
                    self.sources.remove(src)
                    try:
                        src.close()
                    except Exception as close_error:
                        log.warning("closing %s: %s", src.description, close_error)
            self._started = True

    def release_held(self, timeout: float = 5.0) -> None:
        """Have every source deliver the samples it still holds back (a serial stream's first
        second waits for its clock fit): a recorder calls this before it stops listening, so
        a recording that ends that early keeps them. Waits only for a source that holds something
        back, at most ``timeout`` (a reader thread starved by a busy machine answers late)."""
        for src in list(self.sources):
            release = getattr(src, "release_held", None)  # a device class need not hold anything
            if release is not None and not release(timeout):
                log.warning("%s did not deliver its first samples within %.1f s; they are not in the recording", src.description, timeout)

    def stop(self) -> None:
        for proc in self.processors:
            try:
                proc.stop()
            except Exception as e:
                log.warning("stopping %s: %s", proc.description, e)
            self._release_inputs(proc)
        for src in self.sources:
            try:
                src.stop()
            except Exception as e:  # stopping one broken device must not block the others
                log.warning("stopping %s: %s", src.description, e)
        self._started = False

    def close(self) -> None:
        """Stop and close every opened source (safe to call twice, and after a failed `open`).

        Waits for an `open` or `start` running on another thread, then closes what it opened."""
        with self._life:
            self._closed = True
            self.stop()
            close_sources([*self.processors, *self.sources])

    def __enter__(self) -> Acquisition:
        self.open()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what is running ----------------------------------------------------------
    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Every stream, devices' first, then processors' outputs."""
        return {s.name: s for src in [*self.sources, *self.processors] for s in src.streams}

    @property
    def physical_streams(self) -> dict[str, StreamInfo]:
        """`streams` as ring consumers see them: counts scaled to float32 physical values
        (`StreamInfo.physical`); the recorder stores the counts with their scale."""
        return {name: info.physical() for name, info in self.streams.items()}

    @property
    def stats(self) -> dict[str, StreamStats]:
        return {name: st for src in [*self.sources, *self.processors] for name, st in src.stats.items()}

    def source_of(self, stream: str) -> Source | Processor:
        for src in [*self.sources, *self.processors]:
            if any(s.name == stream for s in src.streams):
                return src
        raise KeyError(stream)

    # -- consumers ------------------------------------------------------------------
    def subscribe(self, callback: Subscriber, name: str = "", *, track_dispatches: bool = False) -> Callable[..., None]:
        """Call ``callback(stream, chunk)`` on the device thread for every chunk.

        The callback must only copy and enqueue; the chunk's arrays are read-only. If it
        raises, it is detached and reported once (``consumer_failed``, under ``name`` or its
        qualified name). Returns a function that unsubscribes.

        ``track_dispatches``: ``unsubscribe(wait=s)`` then also waits up to ``s`` seconds for
        the dispatches under way, which read the subscriber list before it changed and may
        still call ``callback`` (a recorder that ends its queue after this would otherwise lose
        such a chunk behind its end marker). Tracking costs every dispatch while such a
        subscriber is subscribed, so it is only done for those that ask.
        """
        with self._lock:
            if track_dispatches:
                self._tracked.add(id(callback))
            self._set_subscribers([*self._subscribers, callback])
            self._names[id(callback)] = name or getattr(callback, "__qualname__", repr(callback))

        def unsubscribe(wait: float = 0.0) -> None:
            if wait > 0 and not track_dispatches:
                raise ValueError(f"unsubscribe(wait={wait}) of {name or callback!r}: subscribe it with track_dispatches=True to wait for its dispatches")
            with self._lock:
                self._set_subscribers([s for s in self._subscribers if s is not callback])
                if not any(s is callback for s in self._subscribers):
                    self._names.pop(id(callback), None)
            if wait > 0:
                self._wait_dispatches(wait)

        return unsubscribe

    def _set_subscribers(self, subscribers: list[Subscriber]) -> None:
        # Under self._lock. A subscriber no longer subscribed is no longer tracked.
        self._tracked &= {id(s) for s in subscribers}
        self._subscribers = subscribers
        self._delivery = (subscribers, any(id(s) in self._tracked for s in subscribers))

    def ring(self, stream: str, seconds: float = 10.0, max_samples: int | None = None, wakeup: threading.Condition | None = None,
             raw: bool = False) -> ChunkRing:  # fmt: skip
        """A new bounded buffer that receives every future chunk of ``stream``.

        ``wakeup``: a condition notified on every append (see `ChunkRing.wait`).
        ``raw``: keep the device's counts (int16 PCM, IMU counts) as they came, for a consumer
        that records them (the pre-roll); by default a stream whose `StreamInfo` has a scale
        arrives as float32 physical values, converted once per chunk for all such rings."""
        ring = ChunkRing(seconds, max_samples, wakeup)
        key = (stream, bool(raw) or not self._is_scaled(stream))
        with self._lock:
            self._rings = {**self._rings, key: [*self._rings.get(key, []), ring]}
        return ring

    def _is_scaled(self, stream: str) -> bool:
        info = self.streams.get(stream)
        return info is not None and info.scaled

    def release_ring(self, stream: str, ring: ChunkRing) -> None:
        with self._lock:
            self._rings = {k: [r for r in v if r is not ring] for k, v in self._rings.items()}

    def _dispatch(self, stream: str, chunk: Chunk) -> None:
        # Device (or processor) thread. `_delivery` and `_rings` are replaced, never mutated: read without the lock.
        chunk.freeze()
        rings = self._rings
        for ring in rings.get((stream, True), ()):
            ring.append(chunk)
        physical = rings.get((stream, False))
        if physical:
            # Counts become physical values once per chunk, shared (read-only) by these rings.
            info = self._infos.get(stream)
            if info is None:
                info = self._infos[stream] = self.streams[stream]
            scaled = Chunk(info.to_physical(chunk.data), chunk.timestamps, chunk.device_times, chunk.arrival_times).freeze()
            for ring in physical:
                ring.append(scaled)
        subscribers, tracked = self._delivery
        if not subscribers:
            return
        if tracked:  # only then: a dispatch costs no bookkeeping while no subscriber waits for them
            me = threading.get_ident()
            outer = self._in_flight.get(me)  # a callback that dispatches (nested) on this thread
            self._in_flight[me] = next(self._dispatches)
            # Read again now that this dispatch is marked: an unsubscribe that looked at `_in_flight`
            # before the mark had replaced the list already, so this one no longer holds its callback.
            subscribers = self._delivery[0]
        try:
            for sub in subscribers:
                try:
                    sub(stream, chunk)
                except Exception as e:  # noqa: BLE001 - one buggy consumer must not stop the device
                    self._detach_failed(sub, stream, e)
        finally:
            if tracked:
                if outer is None:
                    self._in_flight.pop(me, None)
                else:
                    self._in_flight[me] = outer

    def _wait_dispatches(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until every dispatch under way now, on another thread, is done."""
        me = threading.get_ident()
        pending = {t: n for t, n in dict(self._in_flight).items() if t != me}  # dict(): one atomic copy
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            time.sleep(0.001)
            pending = {t: n for t, n in pending.items() if self._in_flight.get(t) == n}

    def _detach_failed(self, sub: Subscriber, stream: str, e: Exception) -> None:
        with self._lock:
            if not any(s is sub for s in self._subscribers):
                return  # another device thread already reported it
            self._set_subscribers([s for s in self._subscribers if s is not sub])
            name = self._names.pop(id(sub), repr(sub))
        msg = f"consumer {name} raised {type(e).__name__}: {e} on a chunk of {stream!r}; it was detached (the devices and other consumers continue)"
        self.consumer_errors[name] = msg
        st = self.stats.get(stream)
        if st is not None:
            st.consumer_errors += 1
        log.error(msg, exc_info=e)
        try:
            self.consumer_failed.emit(stream, msg)
        except Exception:  # noqa: BLE001 - a broken handler must not reach the device thread either
            log.exception("a consumer_failed handler raised")

    def _on_source_failed(self, stream: str, message: str) -> None:
        self.stream_failed.emit(stream, message)

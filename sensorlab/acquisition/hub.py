"""`Acquisition`: runs a set of sources and fans their chunks out to consumers.

Sources keep running while recordings start and stop, so the live view, pre-roll and live
inference see data whether or not a file is being written. Each consumer either subscribes
a cheap callback (the recorder's lossless queue) or reads a bounded `ChunkRing`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from psygnal import Signal

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, SourceBase, SourceError, StreamInfo, StreamStats

log = logging.getLogger(__name__)

Subscriber = Callable[[str, Chunk], None]


class Acquisition:
    """Open, start and stop several sources together.

    A source that fails to open is reported in ``errors`` (source description → message)
    and left out; the others run. ``stream_failed`` fires (on a device thread) when a
    running stream breaks.

    Examples
    --------
    >>> from sensorlab.acquisition.emulated.rig import demo_sources
    >>> with Acquisition(demo_sources()) as acq:          # doctest: +SKIP
    ...     ring = acq.ring("imu", seconds=5)
    """

    stream_failed = Signal(str, str)  # (stream name, message); any thread
    sources_opened = Signal()

    def __init__(self, sources: Iterable[SourceBase]):
        self.sources: list[SourceBase] = list(sources)
        self.errors: dict[str, str] = {}
        self._subscribers: list[Subscriber] = []
        self._rings: dict[str, list[ChunkRing]] = {}
        self._lock = threading.Lock()
        # Serialises open/start/close: a rig replaced while it is still opening must end
        # closed, not start afterwards with nobody left to close it (a held port or camera).
        self._life = threading.RLock()
        self._closed = False
        self._started = False

    # -- life cycle -------------------------------------------------------------
    def open(self) -> None:
        """Open all sources in parallel; failures land in ``errors``, not exceptions.

        After `close` this does nothing (the acquisition was given up while waiting)."""
        with self._life:
            if self._closed:
                self.sources = []
                return
            self._open_all()

    def _open_all(self) -> None:

        def _open(src: SourceBase) -> tuple[SourceBase, str | None]:
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
        self.sources_opened.emit()

    def start(self) -> None:
        """Start every opened source; one that fails to start is closed and reported in
        ``errors`` while the others run. Does nothing after `close`."""
        with self._life:
            if self._closed:
                return
            for src in list(self.sources):
                try:
                    src.start(self._dispatch)
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

    def stop(self) -> None:
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
            for src in self.sources:
                try:
                    src.close()
                except Exception as e:
                    log.warning("closing %s: %s", src.description, e)

    def __enter__(self) -> Acquisition:
        self.open()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what is running ----------------------------------------------------------
    @property
    def streams(self) -> dict[str, StreamInfo]:
        return {s.name: s for src in self.sources for s in src.streams}

    @property
    def stats(self) -> dict[str, StreamStats]:
        return {name: st for src in self.sources for name, st in src.stats.items()}

    def source_of(self, stream: str) -> SourceBase:
        for src in self.sources:
            if any(s.name == stream for s in src.streams):
                return src
        raise KeyError(stream)

    # -- consumers ------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(stream, chunk)`` on the device thread for every chunk.

        The callback must only copy and enqueue. Returns a function that unsubscribes.
        """
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe

    def ring(self, stream: str, seconds: float = 10.0, max_samples: int | None = None) -> ChunkRing:
        """A new bounded buffer that receives every future chunk of ``stream``."""
        ring = ChunkRing(seconds, max_samples)
        with self._lock:
            self._rings = {**self._rings, stream: [*self._rings.get(stream, []), ring]}
        return ring

    def release_ring(self, stream: str, ring: ChunkRing) -> None:
        with self._lock:
            self._rings = {**self._rings, stream: [r for r in self._rings.get(stream, []) if r is not ring]}

    def _dispatch(self, stream: str, chunk: Chunk) -> None:
        # Device thread. NB: _subscribers and _rings are replaced, never mutated, so reading
        # them without the lock sees a consistent list.
        for ring in self._rings.get(stream, ()):
            ring.append(chunk)
        for sub in self._subscribers:
            sub(stream, chunk)

    def _on_source_failed(self, stream: str, message: str) -> None:
        self.stream_failed.emit(stream, message)

"""`Studio`: one rig, live and recording — the object both front ends drive.

The studio window and ``sensorlab record`` do the same things with a rig: open its devices
(some may fail; the others run), keep a pre-roll, start and stop recordings, store live
labels in the session and save them as its annotations sidecar, and report what goes wrong.
`Studio` does all of that without Qt; the window only presents it and turns user actions into
calls, and the command line is a loop over it (`sensorlab.studio.headless`).

Blocking calls (`open`, `close_rig`, `start_recording`, `stop_recording`, `close`) block the caller: the
window runs them on a worker thread, the CLI on its main thread. Every other call is quick and
may come from any thread.

Signals (psygnal) and the thread they fire on
---------------------------------------------
devices_opened(errors)
    `open` finished; ``errors`` maps each device that could not be opened to why. Fires on the
    thread that called `open`, and only for the current rig (not for one replaced meanwhile).
stream_failed(stream, message)
    A running device was lost or broke (``stream == ""``: the whole device), or a processor
    failed. Device (or processor) thread.
consumer_failed(stream, message)
    A consumer of the streams raised and was detached; the devices and the recording go on.
    Device (or processor) thread.
stream_added(info)
    A processor added with `add_processor` declared this stream (it is recorded, with the
    time it joined, if a recording runs). Thread that called `add_processor`.
stream_removed(name)
    A processor taken out (a model unloaded, `unload_model`): its stream ended (a recording
    keeps what it wrote). Thread that called `unload_model`.
stream_renamed(old, info)
    A running stream was renamed (`tune_model`); ``info`` is it under its new name. Caller's thread.
recording_started(path)
    The session file exists and is being written. Thread that called `start_recording`.
recording_stopped(path)
    The file is closed and the live labels are saved. Thread that called `stop_recording`
    (or `close`).
recording_failed(stream, message)
    The recorder stopped writing ``stream``; ``stream == ""``: the whole recording stopped (a
    full or vanished disk), call `stop_recording` to close what was written. Writer thread.
label_added(text, t)
    `add_label` was called (recorded or not); nodes with an ``on_live_label(text, t)`` method
    (the LSL outlet of ``labels``) are connected to it. Thread that called `add_label`.
message(text)
    Something the user should read (live labels saved). Any thread.
problem(text)
    Something went wrong that the user must know (live labels could not be saved). Any thread.

Examples
--------
>>> studio = Studio()                                          # doctest: +SKIP
>>> studio.open(demo_sources())                                # {} when every device opened
>>> studio.start_recording("run1.h5", SessionMetadata(name="run1"))
>>> studio.add_label(live_event("clap", "point"))
>>> studio.stop_recording()                                    # run1.h5 + run1.labels.json
>>> studio.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from psygnal import Signal

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.processors.base import Processor
from sensorlab.acquisition.source import Source, StreamInfo, StreamStats
from sensorlab.labeling.store import sidecar_path
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.recorder import Recorder
from sensorlab.studio import heap
from sensorlab.studio.errors import StudioBusy
from sensorlab.studio.live_labels import LiveLabels, live_event, parse_event
from sensorlab.studio.live_models import LiveModels
from sensorlab.studio.preroll import DEFAULT_PREROLL_S, PreRoll

log = logging.getLogger(__name__)


class Studio(LiveModels):
    """A rig's acquisition, pre-roll, recorder and live labels, without a GUI.

    Parameters
    ----------
    preroll
        Seconds kept before Record (0: none); change with `set_preroll`.
    video_encoding, jpeg_quality
        How recordings store video (`Recorder`).

    Running models live (`load_model`, `tune_model`, `unload_model`, `remap_model`,
    `compare_builds`, `compare_device`) comes from its mixin `LiveModels`
    (`sensorlab.studio.live_models`).
    """

    devices_opened = Signal(object)
    stream_failed = Signal(str, str)
    consumer_failed = Signal(str, str)
    stream_added = Signal(object)
    stream_removed = Signal(str)
    stream_renamed = Signal(str, object)
    recording_started = Signal(str)
    recording_stopped = Signal(str)
    recording_failed = Signal(str, str)
    label_added = Signal(str, float)
    message = Signal(str)
    problem = Signal(str)

    def __init__(self, preroll: float = DEFAULT_PREROLL_S, video_encoding: str = "jpeg", jpeg_quality: int = 90):
        self.video_encoding = video_encoding
        self.jpeg_quality = jpeg_quality
        self.acquisition: Acquisition | None = None
        self.recorder: Recorder | None = None
        self.last_session: Path | None = None
        self.preroll = PreRoll(preroll)
        self.labels = LiveLabels()
        # Guards acquisition/recorder swaps; never held while blocking on devices or files.
        self._lock = threading.RLock()

    # -- devices ---------------------------------------------------------------------------
    def open(self, sources: Iterable[Source | Processor]) -> dict[str, str]:
        """Replace the rig by ``sources``: close the current devices, open and start these
        (blocks). Returns ``{device: why}`` for those that could not be opened.

        ``sources`` may end with processors (a rig's ``[[processor]]`` entries): they open
        after the devices and their output streams are streams like any device's.

        A call superseded by a newer `open` (the user picked another rig meanwhile) ends with
        its devices closed and returns their errors without firing ``devices_opened``.

        The studio owns ``sources`` from this call on: refused, they are closed (an emulated
        board exists from its build, and would stay alive in the board host).

        Raises
        ------
        StudioBusy
            A recording is running (stop it before changing devices).
        SourceError
            The rig is unusable as a whole (two devices with the same stream name).
        """
        acq = Acquisition(sources)
        with self._lock:
            if self.recorder is not None:
                acq.close()
                raise StudioBusy("stop the recording before changing devices")
            old, self.acquisition = self.acquisition, acq
            self.preroll.attach(None)
        acq.stream_failed.connect(self._on_stream_failed)
        acq.consumer_failed.connect(self._on_consumer_failed)
        acq.stream_added.connect(self._on_stream_added)
        acq.stream_removed.connect(self._on_stream_removed)
        if old is not None:
            self._close_acquisition(old)
        acq.open()  # after a newer open() closed it, this does nothing
        # Start-up's objects out of the collector's full passes, which hold the GIL for tens
        # of ms while the devices run (`heap`); one full pass now, before they start.
        heap.freeze()
        acq.start()
        with self._lock:
            current = acq is self.acquisition
            if current:
                self.preroll.attach(acq)
                for node in acq.processors:
                    self._hook_labels(node)
        errors = dict(acq.errors)
        if current:
            self.devices_opened.emit(errors)
        return errors

    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Every running stream (empty before `open`)."""
        acq = self.acquisition
        return acq.streams if acq is not None else {}

    @property
    def stats(self) -> dict[str, StreamStats]:
        """Live counters of every stream since its device opened."""
        acq = self.acquisition
        return acq.stats if acq is not None else {}

    @property
    def errors(self) -> dict[str, str]:
        """Devices of the current rig that could not be opened or started, and why."""
        acq = self.acquisition
        return dict(acq.errors) if acq is not None else {}

    def close(self) -> None:
        """Finish a running recording (saving its labels), then close every device (blocks)."""
        if self.recorder is not None:
            self.stop_recording()
        self.close_rig()

    def close_rig(self) -> bool:
        """Close the rig without quitting (blocks): stop its devices and processors and free
        their ports, ptys and cameras, leaving the studio as it started, with no rig and ready
        for `open`. A rig still opening on another thread ends closed. Returns False when no
        rig was open.

        Raises
        ------
        StudioBusy
            A recording is running: stop it first (its file is being written from these devices).
        """
        with self._lock:
            if self.recorder is not None:
                raise StudioBusy(f"stop the recording before closing the rig: {self.recorder.path.name} is being written from its devices")
            acq, self.acquisition = self.acquisition, None
            self.preroll.attach(None)
        if acq is None:
            return False
        self._close_acquisition(acq)
        return True

    def _hook_labels(self, node: Processor) -> None:
        # Live labels are not a stream of the acquisition (the recorder stores them), so a
        # node that publishes them (an LSL outlet of "labels") is fed from add_label.
        hook = getattr(node, "on_live_label", None)
        if hook is not None:
            self.label_added.connect(hook)

    def _close_acquisition(self, acq: Acquisition) -> None:
        for node in acq.processors:
            hook = getattr(node, "on_live_label", None)
            if hook is not None:
                self.label_added.disconnect(hook, missing_ok=True)
        acq.stream_failed.disconnect(self._on_stream_failed, missing_ok=True)
        acq.consumer_failed.disconnect(self._on_consumer_failed, missing_ok=True)
        acq.stream_added.disconnect(self._on_stream_added, missing_ok=True)
        acq.stream_removed.disconnect(self._on_stream_removed, missing_ok=True)
        acq.close()
        heap.thaw()  # the closed rig's objects may be garbage now: collectable again

    def add_processor(self, processor: Processor) -> None:
        """Derive streams from the running ones, now (even while recording: the recorder adds
        them to the file; the pre-roll buffers them too). Fires ``stream_added`` per stream.

        Raises
        ------
        StudioBusy
            No rig is open.
        SourceError
            Its inputs do not exist or its output names are taken; nothing was added.
        """
        acq = self.acquisition
        if acq is None:
            raise StudioBusy("no rig is open: open one before adding processors")
        acq.add_processor(processor)
        self._hook_labels(processor)

    # -- pre-roll ----------------------------------------------------------------------------
    def set_preroll(self, seconds: float) -> None:
        """Keep the last ``seconds`` of every stream for the next recording (0: off)."""
        self.preroll.set_seconds(seconds)

    # -- recording ---------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        """True from `start_recording` until `stop_recording` has closed the file."""
        return self.recorder is not None

    def start_recording(self, path: str | Path, metadata: SessionMetadata | None = None) -> Path:
        """Create ``path`` and record every running stream into it, starting with the
        pre-roll (blocks while the file is created). Returns the path.

        Raises
        ------
        StudioBusy
            Already recording, or no device is running.
        OSError
            The file cannot be created (it exists, the folder is not writable, …).
        """
        path = Path(path)
        with self._lock:
            acq = self.acquisition
            if self.recorder is not None:
                raise StudioBusy(f"already recording to {self.recorder.path}")
            if acq is None or not acq.streams:
                raise StudioBusy("no device is running: open a rig first")
            rec = Recorder(acq, path, metadata=metadata, preroll=self.preroll.rings() or None,
                           video_encoding=self.video_encoding, jpeg_quality=self.jpeg_quality)  # fmt: skip
            self.recorder = rec
            self.labels.clear()
        rec.failed.connect(self._on_recording_failed)
        try:
            rec.start()
        except BaseException:
            with self._lock:
                self.recorder = None
            raise
        self.recording_started.emit(str(path))
        return path

    def stop_recording(self) -> Path | None:
        """Close open label spans, flush and close the file, save the live labels as its
        sidecar (blocks). Returns the path written (None: was not recording)."""
        rec = self.recorder
        if rec is None:
            return None
        t = now()
        for label in self.labels.open_spans:
            self.add_label(live_event(label, "stop"), t)
        try:
            rec.stop()
        finally:
            # Even if closing failed, the recorder is done: free the studio for the next one
            # and keep the labels pressed (the file holds everything up to the last flush).
            with self._lock:
                if self.recorder is rec:
                    self.recorder = None
                self.last_session = rec.path
            self._save_labels(rec.path, end_time=now())
        self.recording_stopped.emit(str(rec.path))
        return rec.path

    def counters(self) -> dict[str, StreamStats]:
        """Per stream: samples and losses since the recording started — what the file's
        health rows store (`Recorder.counters`); empty when not recording."""
        rec = self.recorder
        return rec.counters() if rec is not None else {}

    # -- live labels -------------------------------------------------------------------------
    def add_label(self, text: str, t: float | None = None) -> bool:
        """Store a live label (`live_event` JSON, or any marker text) at host time ``t``
        (default: now) in the session's ``labels`` stream. Returns False when it was not
        stored because no recording is running (the caller may still show it).

        Raises
        ------
        ValueError
            The recording has no ``labels`` events stream (never for a `Studio` recording).
        """
        t = now() if t is None else float(t)
        self.label_added.emit(text, t)
        rec = self.recorder
        if rec is None or not rec.recording:
            return False
        try:
            rec.add_event(text, t=t)
        except RuntimeError:  # the recording stopped between the check and the call
            return False
        self.labels.add(t, text)
        return True

    def _save_labels(self, path: Path, end_time: float) -> None:
        try:
            n = self.labels.save(path, end_time)
        except OSError as e:
            self.problem.emit(f"could not save the live labels next to {path.name}: {e}")
            return
        if n:
            self.message.emit(f"{n} live label(s) saved to {sidecar_path(path).name}")

    # -- signal handlers (other threads) -------------------------------------------------------
    def _on_stream_failed(self, stream: str, message: str) -> None:
        self.stream_failed.emit(stream, message)

    def _on_consumer_failed(self, stream: str, message: str) -> None:
        self.consumer_failed.emit(stream, message)

    def _on_stream_added(self, info: StreamInfo) -> None:
        self.preroll.add_stream(info)
        self.stream_added.emit(info)

    def _on_stream_removed(self, name: str) -> None:
        # A processor taken out while the rig runs (a model unloaded or replaced) may have been
        # frozen with the rig's start-up: hand it back so its cyclic garbage is freed. Full
        # collections walk the whole heap again until the next rig opens.
        heap.thaw()
        self.preroll.remove_stream(name)
        self.stream_removed.emit(name)

    def _on_recording_failed(self, stream: str, message: str) -> None:
        self.recording_failed.emit(stream, message)


__all__ = ["Studio", "StudioBusy", "live_event", "parse_event"]

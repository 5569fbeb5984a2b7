"""`LiveModels`, a mixin of `sensorlab.studio.studio.Studio`: running models on the open rig —
load one live (its predictions become streams like any processor's), tune it while it runs
(`tune_model`: its name, smoothing and events), take it out (`unload_model`) or map it anew
(`remap_model`), run a second build of it on exactly the windows it sees (`compare_builds`),
or compare it with the class a device reports (`compare_device`). What the rig the user saves
should say about the running models is `models_rig` (`sensorlab.studio.model_rig`). The
inference package is imported only when a model is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sensorlab.studio.errors import StudioBusy

if TYPE_CHECKING:
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.inference import InferenceProcessor
    from sensorlab.inference.live_settings import ModelSettings


class LiveModels:
    """What `Studio` does with models; `Studio` provides ``acquisition`` (the open rig, or
    None), ``recording``, ``preroll``, ``add_processor`` and the ``stream_renamed`` signal."""

    acquisition: Acquisition | None

    def load_model(self, path: str | Path, mapping=None, **options) -> tuple[str, ...]:
        """Run an ONNX model live (`sensorlab.inference.InferenceProcessor`; ``options`` are its
        keyword arguments), even while recording: its predictions become streams like any
        processor's. Returns the names of the streams it added. A model loaded again (or one of
        the same file stem) runs beside the first, its streams named ``<stem>_2_pred``, ``_3``…

        Raises
        ------
        StudioBusy
            No rig is open.
        SourceError
            The model cannot be used (not ONNX, inputs that cannot be mapped, a missing
            stream): the message names the input and the fix; nothing was added.
        """
        from sensorlab.acquisition.names import prediction_stream_name
        from sensorlab.inference import InferenceProcessor

        if not options.get("name") and self.acquisition is not None:
            # A model loaded again (the same file, or another of the same stem) runs beside the
            # first as <stem>_2_pred: its default name was refused as taken, naming a rig-file
            # key ('name') the studio has no field for.
            options["name"] = free_stream_name(prediction_stream_name(str(path)), set(self.acquisition.streams))
        proc = InferenceProcessor(path, mapping=mapping, **options)
        self.add_processor(proc)
        return tuple(s.name for s in proc.streams)

    # -- the running models ---------------------------------------------------------------------
    def running_models(self) -> list[InferenceProcessor]:
        """The models running on the open rig (loaded from a rig file or `load_model`), in load order."""
        from sensorlab.inference import InferenceProcessor

        acq = self.acquisition
        return [p for p in acq.processors if isinstance(p, InferenceProcessor) and p.model is not None] if acq is not None else []

    def running_model(self, stream: str) -> InferenceProcessor:
        """The running model whose predictions stream is ``stream``.

        Raises StudioBusy (no rig) or ValueError (no such model, naming the running ones)."""
        if self.acquisition is None:
            raise StudioBusy("no rig is open: open one and load a model first")
        procs = self.running_models()
        for proc in procs:
            if proc.name == stream:
                return proc
        running = ", ".join(p.name for p in procs) or "none; load a model first"
        raise ValueError(f"{stream!r} is not a running model's predictions stream (running: {running})")

    def model_settings(self, stream: str) -> ModelSettings:
        """Name, smoothing and events of the model behind predictions ``stream``."""
        return self.running_model(stream).settings()

    def tune_model(self, stream: str, **changes) -> str:
        """Change a running model's `ModelSettings` (``name``, ``smooth``, ``event_label``,
        ``threshold``, ``release``) while it runs; returns its predictions stream's name.

        Smoothing and events apply from its next window; what was predicted (and drawn, and
        recorded) so far stays. A new name renames its streams in place (their rings, so a
        view's panel keeps its history); not while recording (a file names a stream once).

        Raises
        ------
        StudioBusy
            No rig is open, or a rename while recording.
        ValueError
            No such model, or settings it cannot run with (the message names the fix); nothing changed.
        """
        from dataclasses import replace

        from sensorlab.acquisition.source import SourceError

        proc = self.running_model(stream)
        acq = self.acquisition
        assert acq is not None and proc.model is not None
        new = replace(proc.settings(), **changes)
        why = new.problem(list(proc.model.labels))
        if why:
            raise ValueError(f"{stream}: {why}")
        if new.name != proc.name:
            if self.recording:  # type: ignore[attr-defined]
                raise StudioBusy(f"stop the recording before renaming {stream}: a recording names each stream once")
            renames = proc.rename(new.name)
            try:
                acq.rename_streams(renames, lambda: proc.apply_rename(new.name))
            except SourceError as e:
                raise ValueError(f"{stream}: {e}") from None
            self._models_changed().add(stream)  # its rig entry is the running model's now
            for old, name in renames.items():
                self.preroll.rename_stream(old, name)  # type: ignore[attr-defined]
                self.stream_renamed.emit(old, next(s for s in proc.streams if s.name == name))  # type: ignore[attr-defined]
        if new.event_label and proc.events_name not in proc.stats and proc.events_name in acq.streams:
            raise ValueError(f"{proc.name}: its events stream {proc.events_name!r} would take the name of a running stream; rename the model first")
        try:
            proc.apply_settings(new, acq.announce)
        except SourceError as e:
            raise ValueError(str(e)) from None
        self._models_changed().discard(new.name)
        return proc.name

    def unload_model(self, stream: str) -> None:
        """Stop the model behind predictions ``stream`` and take it out: its panel and streams
        end. While recording, the file keeps everything it predicted until now, and the
        streams' footers say where they ended (``stopped_at``, no error).

        Raises StudioBusy (no rig) or ValueError (no such model, or another processor reads its streams)."""
        from sensorlab.acquisition.source import SourceError

        proc = self.running_model(stream)
        assert self.acquisition is not None
        try:
            self.acquisition.remove_processor(proc)
        except SourceError as e:
            raise ValueError(f"cannot unload {stream}: {e}") from None
        self._models_changed().add(stream)

    def remap_model(self, stream: str, mapping) -> tuple[str, ...]:
        """Run the model behind predictions ``stream`` with another `ModelMapping`, in its place:
        the same name, smoothing and events (events dropped if their class is gone). Returns
        the streams it runs as. The running one is replaced only once the new one is known to
        open on the rig's streams.

        Raises StudioBusy (no rig; other classes while recording: the file's stream keeps its
        channels), ValueError or ModelError / SourceError (the new mapping does not fit; nothing changed)."""
        from sensorlab.inference import InferenceProcessor, LoadedModel

        proc = self.running_model(stream)
        acq = self.acquisition
        assert acq is not None and proc.model is not None
        model = LoadedModel(proc.model.path, mapping)
        if self.recording and list(model.labels) != list(proc.model.labels):  # type: ignore[attr-defined]
            raise StudioBusy(f"stop the recording first: the new mapping gives {stream} the classes {', '.join(model.labels)}, "
                             f"the recorded stream has {', '.join(proc.model.labels)}")  # fmt: skip
        s = proc.settings()
        events = dict(event_label=s.event_label, threshold=s.threshold, release=s.release) if s.event_label in model.labels else {}
        trial = InferenceProcessor(model, name=proc.name)
        trial.open(acq.physical_streams)  # raises SourceError naming what does not fit, before anything changes
        new = InferenceProcessor(model, name=proc.name, stale_after=proc.stale_after, smooth=s.smooth, **events)
        self.unload_model(stream)
        self.add_processor(new)  # type: ignore[attr-defined]
        self._models_changed().discard(stream)
        return tuple(x.name for x in new.streams)

    def models_rig(self, rig_text: str) -> str:
        """``rig_text`` with its ``[[processor]] kind = "model"`` entries made to say what runs:
        every running model (loaded from the rig or the menu) with its current settings; models
        unloaded or renamed since are taken out (`sensorlab.studio.model_rig`)."""
        from sensorlab.studio.model_rig import rig_with_models

        return rig_with_models(rig_text, self.running_models(), self._models_changed())

    def _models_changed(self) -> set[str]:
        """Predictions streams unloaded or renamed away since the rig opened (their rig entries go)."""
        acq = self.acquisition
        if getattr(self, "_changed_for", None) is not acq:
            self._changed_for, self._changed_names = acq, set()
        return self._changed_names

    def compare_builds(self, stream: str, other: str | Path, tolerance: float = 0.1):
        """Run ``other`` (another build of the model behind predictions ``stream``, e.g. its
        int8 ONNX) on exactly the windows that model sees; returns the
        `sensorlab.inference.parity.ParityTap` that counts and keeps their divergences.

        Raises
        ------
        StudioBusy
            No rig is open.
        ValueError
            ``stream`` is no running model's predictions, or the builds disagree on the classes.
        sensorlab.inference.ModelError
            ``other`` cannot be loaded (the message names the problem and the fix).
        """
        from sensorlab.inference import InferenceProcessor, LoadedModel, ModelError
        from sensorlab.inference.parity import ParityTap

        acq = self.acquisition
        if acq is None:
            raise StudioBusy("no rig is open: open one and load a model before comparing builds")
        procs = [p for p in acq.processors if isinstance(p, InferenceProcessor) and p.model is not None]
        proc = next((p for p in procs if p.name == stream), None)
        if proc is None:
            running = ", ".join(p.name for p in procs) or "none; load a model first"
            raise ValueError(f"{stream!r} is not a running model's predictions stream (running: {running})")
        assert proc.model is not None
        try:
            build = LoadedModel(other)  # a sensorlab build carries its own contract
        except ModelError:
            build = LoadedModel(other, proc.model.mapping)  # a foreign build: fed like the first one
        if list(build.labels) != list(proc.model.labels):
            raise ValueError(f"{Path(other).name} has classes {', '.join(build.labels)} and {proc.model.path.name} {', '.join(proc.model.labels)}; "
                             "compare two builds of one model")  # fmt: skip
        n, channels = proc.windower.n, len(proc.windower.columns)
        try:
            build.check_window(n, channels)
        except ModelError:
            # Its own fix ("set window to …") is for a model being mapped, not for a second build.
            raise ModelError(f"{Path(other).name} is not a build of {proc.model.path.name}: its input {build.window_input.describe()} does not "
                             f"take the windows of {n} samples × {channels} channel(s) the running model gets; compare two builds of one model, e.g. the model.int8.onnx "
                             "`sensorlab quantize` writes beside it") from None  # fmt: skip
        tap = ParityTap(build, tolerance=tolerance)
        proc.taps.append(tap)  # the processor thread calls it after each run from now on
        return tap

    def compare_device(self, predictions: str, events: str, tolerance: float | None = None, delay: float = 0.0):
        """Compare the host model's predictions stream with the class a device reports on its
        events stream (`sensorlab.inference.device_parity`); returns the `DeviceParity`.

        Raises StudioBusy (no rig) or ValueError (not a predictions / events stream)."""
        from sensorlab.inference.device_parity import attach

        if self.acquisition is None:
            raise StudioBusy("no rig is open: open one and load a model before comparing with a device")
        return attach(self.acquisition, predictions, events, tolerance, delay)


def free_stream_name(name: str, taken: set[str]) -> str:
    """``name`` if neither it nor its events stream is taken, else ``<stem>_2_pred``, ``_3``…

    >>> free_stream_name("conv_pred", {"conv_pred", "conv_pred_events"})
    'conv_2_pred'
    """
    stem, suffix = (name.removesuffix("_pred"), "_pred") if name.endswith("_pred") else (name, "")
    candidate, k = name, 1
    while candidate in taken or f"{candidate}_events" in taken:
        k += 1
        candidate = f"{stem}_{k}{suffix}"
    return candidate

"""`LiveModels`, a mixin of `sensorlab.studio.studio.Studio`: running models on the open rig —
load one live (its predictions become streams like any processor's), run a second build of it
on exactly the windows it sees (`compare_builds`), or compare it with the class a device
reports (`compare_device`). The inference package is imported only when a model is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sensorlab.studio.errors import StudioBusy

if TYPE_CHECKING:
    from sensorlab.acquisition.hub import Acquisition


class LiveModels:
    """What `Studio` does with models; `Studio` provides ``acquisition`` (the open rig, or
    None) and ``add_processor``."""

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
